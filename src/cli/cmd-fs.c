/* SPDX-License-Identifier: MIT */
/* File system group (8) commands: fs upload, fs download, fs stat, fs hash, fs types, fs close. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli-progress.h"
#include "fs-transfer.h"
#include "image.h"
#include "smp-error.h"
#include "smp.h"
#include "util.h"

#define _cleanup_device_ _cleanup_(device_freep)
/* Zephyr's fs group takes files up to 4 GiB (CONFIG_MCUMGR_GRP_FS_MAX_FILE_SIZE_4GB); a microcontroller's
 * file system holds far less. */
#define FS_FILE_MAX (64u << 20)

/* The check both sides can compute: sha256 when the device has it, else crc32 (fs_mgmt's supported
 * types, CONFIG_MCUMGR_GRP_FS_CHECKSUM_HASH_SUPPORTED_CMD); NULL when it has no hash command. */
static const char *fs_pick_hash(Device *d)
{
	MgmtFsHashTypes types;
	bool crc32 = false;

	if (device_fs_hash_types(d, &types) != 0)
		return "crc32"; /* no types query: try Zephyr's default, which a hash answer will confirm */
	for (size_t i = 0; i < types.count; i++) {
		if (strcmp(types.types[i].name, "sha256") == 0)
			return "sha256";
		crc32 |= strcmp(types.types[i].name, "crc32") == 0;
	}
	return crc32 ? "crc32" : NULL;
}

/* The local data's hash in the form mgmt_decode_fs_hash() gives the device's. */
static size_t local_hash(const char *type, const uint8_t *data, size_t len, uint8_t out[MGMT_FS_HASH_MAX])
{
	if (strcmp(type, "sha256") == 0) {
		image_sha256(data, len, out);
		return 32;
	}
	uint32_t crc = fs_crc32(data, len);

	for (int i = 0; i < 4; i++)
		out[i] = (uint8_t)(crc >> (24 - 8 * i));
	return 4;
}

/* *same: the device's file [0, len) hashes as data does. 0, DEVICE_STATUS_ERROR or -errno. */
static int fs_same(Device *d, const char *remote, const char *type, const uint8_t *data, size_t len, bool *same)
{
	uint8_t mine[MGMT_FS_HASH_MAX];
	size_t n = local_hash(type, data, len, mine);
	MgmtFsHash h;
	int r = device_fs_hash(d, remote, type, 0, len, &h);

	*same = r == 0 && h.len == len && h.output_len == n && memcmp(h.output, mine, n) == 0;
	return r;
}

static int fs_open_device(Cli *cli, Device **d)
{
	int r = cli_open_device(cli, d);

	if (r)
		return r;
	r = device_learn_limits(*d);
	if (r < 0)
		return cli_device_fail(cli, *d, r);
	if (cli->frame_size)
		(*d)->frame_size = cli->frame_size;
	if (cli->window)
		(*d)->window = cli->window;
	return 0;
}

static void fs_progress(void *userdata, uint64_t done, uint64_t total)
{
	Cli *cli = userdata;

	if (cli->progress_tty && !cli->json)
		fprintf(stderr, "\r\033[K%" PRIu64 " of %" PRIu64 " bytes", done, total);
}

static void fs_progress_end(Cli *cli)
{
	if (cli->progress_tty && !cli->json)
		fputs("\r\033[K", stderr);
}

static void fs_result_json(Cli *cli, const char *remote, const FsTransferResult *res, uint64_t resumed_from,
			   bool skipped, const char *verified)
{
	JsonWriter *j = &cli->json_out;

	json_begin_object(j);
	json_key(j, "type"); json_string(j, "result");
	json_key(j, "ok"); json_bool(j, true);
	json_key(j, "remote"); json_string(j, remote);
	json_key(j, "bytes"); json_uint(j, res->bytes);
	json_key(j, "skipped"); json_bool(j, skipped);
	json_key(j, "resumed_from"); json_uint(j, resumed_from);
	json_key(j, "resends"); json_uint(j, res->resends);
	json_key(j, "reconnects"); json_uint(j, res->reconnects);
	json_key(j, "seconds"); json_double(j, (double)res->usec / 1e6);
	json_key(j, "verified");
	verified ? json_string(j, verified) : json_null(j);
	json_end_object(j);
	json_end_line(j);
}

/* Where an upload can start: at the device file's length when that much of it is already this file's
 * (a resume), at 0 otherwise. *whole: the device already has all of it. */
static int fs_upload_start(Device *d, const char *remote, const char *type, const uint8_t *data, size_t len,
			   uint64_t *start, bool *whole)
{
	uint64_t have = 0;
	bool same = false;
	int r = device_fs_status(d, remote, &have);

	*start = 0;
	*whole = false;
	if (r < 0)
		return r;
	if (r != 0 || have == 0 || have > len || !type)
		return 0; /* no such file, no status command, or nothing to keep */
	r = fs_same(d, remote, type, data, (size_t)have, &same);
	if (r < 0)
		return r;
	if (r == 0 && same) {
		*start = have;
		*whole = have == len;
	}
	return 0;
}

/* Without a hash command (rc 8) the length is all that can be compared. */
static int fs_verify_length(Cli *cli, Device *d, const char *remote, size_t len)
{
	uint64_t have;
	int r = device_fs_status(d, remote, &have);

	if (r < 0)
		return cli_device_fail(cli, d, r);
	if (r == 0 && have != len)
		return cli_fail(cli, EXIT_VERIFY, "%s on the device has %" PRIu64 " bytes, not %zu", remote, have, len);
	cli_event(cli, "warning", "verify", "the device has no hash command: %s", r == 0 ? "only the length was checked"
											    : "nothing was checked");
	return EXIT_OK;
}

static int fs_verify(Cli *cli, Device *d, const char *remote, const char **type, const uint8_t *data, size_t len)
{
	bool same = false;
	int r;

	/* fs_mgmt.c refuses to hash an empty file (FILE_EMPTY): its length says it all. */
	if (len == 0) {
		uint64_t have = 0;

		*type = NULL;
		r = device_fs_status(d, remote, &have);
		if (r == 0 && have != 0)
			return cli_fail(cli, EXIT_VERIFY, "%s on the device is not empty", remote);
		return r < 0 ? cli_device_fail(cli, d, r) : EXIT_OK;
	}
	r = *type ? fs_same(d, remote, *type, data, len, &same) : DEVICE_STATUS_ERROR;

	if (r == DEVICE_STATUS_ERROR && (!*type || (d->status.kind == SMP_STATUS_RC && d->status.rc == SMP_RC_ENOTSUP))) {
		*type = NULL;
		return fs_verify_length(cli, d, remote, len);
	}
	if (r)
		return cli_device_fail(cli, d, r);
	if (!same)
		return cli_fail(cli, EXIT_VERIFY, "%s on the device does not match (%s differs): transfer it again",
				remote, *type);
	return EXIT_OK;
}

int cmd_fs_upload(Cli *cli)
{
	_cleanup_device_ Device *d = NULL;
	_cleanup_free_ uint8_t *data = NULL;
	const char *local = cli->args[0], *remote = cli->args[1], *type;
	FsTransferResult res = { 0 };
	uint64_t start = 0;
	bool whole = false;
	size_t len;
	int r;

	r = read_file_bounded(local, FS_FILE_MAX, &data, &len);
	if (r < 0)
		return cli_fail(cli, EXIT_IMAGE, "cannot read %s: %s", local, strerror(-r));
	r = fs_open_device(cli, &d);
	if (r)
		return r;
	type = fs_pick_hash(d);
	if (!cli->force) {
		r = fs_upload_start(d, remote, type, data, len, &start, &whole);
		if (r < 0)
			return cli_device_fail(cli, d, r);
	}
	if (start && !whole && !cli->json)
		fprintf(stderr, "smpctl: %s already holds the first %" PRIu64 " bytes of %s: going on from there\n",
			remote, start, local);
	if (!whole) {
		r = fs_upload_run(d, remote, data, len, start, fs_progress, cli, &res);
		fs_progress_end(cli);
		if (r)
			return cli_device_fail(cli, d, r);
		/* A resumed upload never sent the length: close the file so that the hash reads all of it. */
		device_fs_close(d);
	}
	res.bytes = len;
	r = fs_verify(cli, d, remote, &type, data, len);
	if (r)
		return r;
	if (cli->json)
		fs_result_json(cli, remote, &res, start, whole, type);
	else if (whole)
		printf("%s already holds %s (%zu bytes, %s checked): nothing sent.\n", remote, local, len, type);
	else
		printf("Uploaded %s to %s: %zu bytes in %.1f s, %s checked.\n", local, remote, len,
		       (double)res.usec / 1e6, type ? type : "length");
	return EXIT_OK;
}

/* Writes data to path through a temporary file in the same directory, renamed over it when complete. */
static int write_file_atomic(const char *path, const uint8_t *data, size_t len)
{
	_cleanup_free_ char *tmp = NULL;
	int fd, r = 0;

	if (asprintf(&tmp, "%s.smpctl-XXXXXX", path) < 0)
		return -ENOMEM;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	for (size_t done = 0; done < len && r == 0;) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0 && errno != EINTR)
			r = -errno;
		else if (n > 0)
			done += (size_t)n;
	}
	if (r == 0 && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

int cmd_fs_download(Cli *cli)
{
	_cleanup_device_ Device *d = NULL;
	_cleanup_free_ uint8_t *data = NULL;
	const char *remote = cli->args[0], *local = cli->args[1], *type;
	FsTransferResult res = { 0 };
	size_t len = 0;
	int r;

	r = fs_open_device(cli, &d);
	if (r)
		return r;
	r = fs_download_run(d, remote, FS_FILE_MAX, &data, &len, fs_progress, cli, &res);
	fs_progress_end(cli);
	if (r == -EFBIG)
		return cli_fail(cli, EXIT_FAILURE_GENERIC, "%s is larger than smpctl takes (%u MiB)", remote,
				FS_FILE_MAX >> 20);
	if (r == FS_FILE_CHANGED)
		return cli_fail(cli, EXIT_VERIFY, "%s changed on the device during the download: download it again",
				remote);
	if (r)
		return cli_device_fail(cli, d, r);
	type = fs_pick_hash(d);
	r = fs_verify(cli, d, remote, &type, data, len);
	if (r)
		return r;
	r = write_file_atomic(local, data, len);
	if (r < 0)
		return cli_fail(cli, EXIT_IO, "cannot write %s: %s", local, strerror(-r));
	if (cli->json)
		fs_result_json(cli, remote, &res, 0, false, type);
	else
		printf("Downloaded %s to %s: %zu bytes in %.1f s, %s checked.\n", remote, local, len,
		       (double)res.usec / 1e6, type ? type : "length");
	return EXIT_OK;
}

int cmd_fs_stat(Cli *cli)
{
	_cleanup_device_ Device *d = NULL;
	uint64_t len;
	int r = cli_open_device(cli, &d);

	if (r)
		return r;
	r = device_fs_status(d, cli->args[0], &len);
	if (r)
		return cli_device_fail(cli, d, r);
	if (cli->json) {
		json_begin_object(&cli->json_out);
		json_key(&cli->json_out, "name");
		json_string(&cli->json_out, cli->args[0]);
		json_key(&cli->json_out, "len");
		json_uint(&cli->json_out, len);
		json_end_object(&cli->json_out);
		json_end_line(&cli->json_out);
	} else {
		printf("%s: %" PRIu64 " bytes\n", cli->args[0], len);
	}
	return EXIT_OK;
}

int cmd_fs_hash(Cli *cli)
{
	_cleanup_device_ Device *d = NULL;
	char hex[2 * MGMT_FS_HASH_MAX + 1];
	const char *type;
	MgmtFsHash h;
	int r = cli_open_device(cli, &d);

	if (r)
		return r;
	type = cli->nargs > 1 ? cli->args[1] : fs_pick_hash(d);
	r = device_fs_hash(d, cli->args[0], type, 0, 0, &h);
	if (r)
		return cli_device_fail(cli, d, r);
	hex_encode(h.output, h.output_len, hex);
	if (cli->json) {
		json_begin_object(&cli->json_out);
		json_key(&cli->json_out, "name"); json_string(&cli->json_out, cli->args[0]);
		json_key(&cli->json_out, "type"); json_string(&cli->json_out, h.type);
		json_key(&cli->json_out, "len"); json_uint(&cli->json_out, h.len);
		json_key(&cli->json_out, "output"); json_string(&cli->json_out, hex);
		json_end_object(&cli->json_out);
		json_end_line(&cli->json_out);
	} else {
		printf("%s  %s (%s, %" PRIu64 " bytes)\n", hex, cli->args[0], h.type, h.len);
	}
	return EXIT_OK;
}

int cmd_fs_types(Cli *cli)
{
	_cleanup_device_ Device *d = NULL;
	MgmtFsHashTypes types;
	int r = cli_open_device(cli, &d);

	if (r)
		return r;
	r = device_fs_hash_types(d, &types);
	if (r)
		return cli_device_fail(cli, d, r);
	if (!cli->json) {
		for (size_t i = 0; i < types.count; i++)
			printf("%-8s %s of %u bytes\n", types.types[i].name,
			       types.types[i].byte_string ? "a byte string" : "a number", types.types[i].size);
		return EXIT_OK;
	}
	json_begin_object(&cli->json_out);
	json_key(&cli->json_out, "types");
	json_begin_array(&cli->json_out);
	for (size_t i = 0; i < types.count; i++) {
		json_begin_object(&cli->json_out);
		json_key(&cli->json_out, "name"); json_string(&cli->json_out, types.types[i].name);
		json_key(&cli->json_out, "format");
		json_string(&cli->json_out, types.types[i].byte_string ? "bytes" : "number");
		json_key(&cli->json_out, "size"); json_uint(&cli->json_out, types.types[i].size);
		json_end_object(&cli->json_out);
	}
	json_end_array(&cli->json_out);
	json_end_object(&cli->json_out);
	json_end_line(&cli->json_out);
	return EXIT_OK;
}

int cmd_fs_close(Cli *cli)
{
	_cleanup_device_ Device *d = NULL;
	int r = cli_open_device(cli, &d);

	if (r)
		return r;
	r = device_fs_close(d);
	if (r)
		return cli_device_fail(cli, d, r);
	if (cli->json) {
		json_begin_object(&cli->json_out);
		json_key(&cli->json_out, "closed");
		json_bool(&cli->json_out, true);
		json_end_object(&cli->json_out);
		json_end_line(&cli->json_out);
	} else {
		printf("The device's open file (if any) is closed.\n");
	}
	return EXIT_OK;
}
