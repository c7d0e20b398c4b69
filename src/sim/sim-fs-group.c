/* SPDX-License-Identifier: MIT */
/*
 * The file system group (8) of the simulated device: Zephyr 4.1's fs_mgmt.c over an in-memory file system
 * mounted at /lfs1 (as smp_svr's overlay-fs.conf mounts LittleFS). What fs_mgmt.c does is kept: one open
 * file for uploads and downloads alike, chunks that must land at the file's length (FILE_OFFSET_NOT_VALID
 * with "len" otherwise, and the file is closed), the first chunk's length closing the file when reached, a
 * first chunk with data truncating the file, FILE_EMPTY for the hash of an empty file. Not modelled: the
 * close after CONFIG_MCUMGR_GRP_FS_FILE_AUTOMATIC_IDLE_CLOSE_TIME (the model keeps no clock), directories.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "sim-internal.h"
#include "smp-error.h"
#include "util.h"

enum {
	FS_ERR_UNKNOWN = 1,               /* FS_MGMT_ERR_* (fs_mgmt.h) */
	FS_ERR_FILE_NOT_FOUND = 3,
	FS_ERR_FILE_IS_DIRECTORY = 4,
	FS_ERR_FILE_WRITE_FAILED = 10,
	FS_ERR_FILE_OFFSET_NOT_VALID = 11,
	FS_ERR_FILE_OFFSET_LARGER_THAN_FILE = 12,
	FS_ERR_CHECKSUM_HASH_NOT_FOUND = 13,
	FS_ERR_MOUNT_POINT_NOT_FOUND = 14,
	FS_ERR_FILE_EMPTY = 16,
	FS_PATH_LEN = 64,                 /* CONFIG_MCUMGR_GRP_FS_PATH_LEN */
	FS_MAX_FILE = 65535,              /* CONFIG_MCUMGR_GRP_FS_MAX_FILE_SIZE_64KB */
	FS_FILES = 16,
	FS_CAPACITY = 256 * 1024,         /* the file system's room, all files together */
	/* fs_mgmt_config.h: a download chunk is the buffer less CBOR_AND_OTHER_HDR (MAX_OFFSET_LEN 3). */
	FS_DL_OVERHEAD = 8 + 10 + (4 + 3) + (5 + 3) + 4 + (4 + 3),
	HASH_TYPE_SIZE = 8,               /* HASH_CHECKSUM_TYPE_SIZE */
};

static const char mount_point[] = "/lfs1";

typedef struct SimFile {
	bool used;
	char path[FS_PATH_LEN + 1];
	uint8_t *data;
	size_t size;
} SimFile;

typedef enum { FS_IDLE, FS_UPLOAD, FS_DOWNLOAD } FsState;

/* fs_mgmt_ctxt: the one open file. */
struct SimFs {
	SimFile files[FS_FILES];
	FsState state;
	char path[FS_PATH_LEN + 1];
	uint64_t off, len;
};

void sim_fs_free(SimDevice *dev)
{
	if (!dev->fs)
		return;
	for (size_t i = 0; i < FS_FILES; i++)
		free(dev->fs->files[i].data);
	free(dev->fs);
	dev->fs = NULL;
}

static SimFile *fs_find(SimFs *fs, const char *path)
{
	for (size_t i = 0; i < FS_FILES; i++)
		if (fs->files[i].used && strcmp(fs->files[i].path, path) == 0)
			return &fs->files[i];
	return NULL;
}

/* The mount point itself is a directory; a file lives right under it (no mkdir in fs_mgmt). */
static bool fs_is_mount(const char *path)
{
	return strcmp(path, mount_point) == 0 || strcmp(path, "/lfs1/") == 0;
}

static bool fs_under_mount(const char *path)
{
	size_t n = strlen(mount_point);

	return strncmp(path, mount_point, n) == 0 && path[n] == '/' && path[n + 1] && !strchr(path + n + 1, '/');
}

/* fs_mgmt_filelen() */
static int32_t fs_filelen(SimFs *fs, const char *path, size_t *len)
{
	const SimFile *f = fs_find(fs, path);

	if (fs_is_mount(path))
		return FS_ERR_FILE_IS_DIRECTORY;
	if (!f)
		return FS_ERR_FILE_NOT_FOUND;
	*len = f->size;
	return 0;
}

static void fs_cleanup(SimFs *fs)
{
	fs->state = FS_IDLE;
	fs->off = fs->len = 0;
	fs->path[0] = '\0';
}

/* fs_mgmt_upload_download_finish_check() */
static void fs_finish_check(SimFs *fs)
{
	if (fs->len > 0 && fs->off >= fs->len)
		fs_cleanup(fs);
}

/* "name": a text of 1 to CONFIG_MCUMGR_GRP_FS_PATH_LEN bytes. */
static bool fs_name(const SimRequest *req, char *path)
{
	const cbor_item_t *name = smp_cbor_map_get(req->body, "name");

	return name && smp_cbor_item_text(name, path, FS_PATH_LEN + 1) == 0 && path[0];
}

/* fs_open(FS_O_CREATE | FS_O_WRITE) */
static int32_t fs_create(SimFs *fs, const char *path)
{
	if (fs_find(fs, path))
		return 0;
	if (fs_is_mount(path))
		return FS_ERR_UNKNOWN;
	if (!fs_under_mount(path))
		return FS_ERR_MOUNT_POINT_NOT_FOUND;
	for (size_t i = 0; i < FS_FILES; i++)
		if (!fs->files[i].used) {
			fs->files[i] = (SimFile){ .used = true };
			snprintf(fs->files[i].path, sizeof(fs->files[i].path), "%s", path);
			return 0;
		}
	return FS_ERR_UNKNOWN;
}

static size_t fs_used(const SimFs *fs)
{
	size_t n = 0;

	for (size_t i = 0; i < FS_FILES; i++)
		n += fs->files[i].used ? fs->files[i].size : 0;
	return n;
}

static int32_t fs_append(SimDevice *dev, SimFile *f, const uint8_t *data, size_t n)
{
	uint8_t *grown;

	if (f->size + n > FS_MAX_FILE || fs_used(dev->fs) + n > FS_CAPACITY)
		return FS_ERR_FILE_WRITE_FAILED;
	grown = realloc(f->data, f->size + n);
	if (!grown)
		return FS_ERR_FILE_WRITE_FAILED;
	memcpy(grown + f->size, data, n);
	f->data = grown;
	f->size += n;
	dev->flash_usec += sim_flash_write_usec(n);
	return 0;
}

static SimStatus fs_fail(SimFs *fs, int32_t rc)
{
	fs_cleanup(fs);
	return SIM_GROUP_ERR(SMP_GROUP_FS, rc);
}

/* fs_mgmt_file_upload() from the open file on: the offset check, truncation, the write. */
static SimStatus fs_upload_write(SimDevice *dev, SmpCborWriter *w, SimFile *f, uint64_t off, uint64_t len,
				 const cbor_item_t *data)
{
	SimFs *fs = dev->fs;
	size_t n = data ? cbor_bytestring_length(data) : 0;
	int32_t rc;

	if (off == 0) {
		fs->len = len;
	} else if (fs->off == 0) {
		fs->off = f->size;
	}
	if (off > 0 && off != fs->off) {
		/* smp_add_cmd_err() and then "len": both in the answer (fs_mgmt.c). */
		SimStatus st = SIM_GROUP_ERR(SMP_GROUP_FS, FS_ERR_FILE_OFFSET_NOT_VALID);

		st.extra_key = "len";
		st.extra_value = fs->off;
		fs_cleanup(fs);
		return st;
	}
	if (n > 0) {
		if (off == 0 && f->size)
			f->size = 0; /* fs_truncate(), only when the first chunk carries data */
		rc = fs_append(dev, f, cbor_bytestring_handle(data), n);
		if (rc)
			return fs_fail(fs, rc);
		fs->off += n;
	}
	smp_cbor_put_text(w, "off");
	smp_cbor_put_uint(w, fs->off);
	fs_finish_check(fs);
	return SIM_OK;
}

static SimStatus fs_upload(SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	SimFs *fs = dev->fs;
	const cbor_item_t *data;
	SimFile *f;
	char path[FS_PATH_LEN + 1];
	uint64_t off, len = UINT64_MAX;
	int32_t rc;

	if (!req->body || smp_cbor_get_uint(req->body, "off", &off) < 0 || !fs_name(req, path))
		return SIM_RC(SMP_RC_EINVAL);
	data = smp_cbor_map_get(req->body, "data");
	if ((data && !cbor_isa_bytestring(data)) || (data && !cbor_bytestring_is_definite(data)) ||
	    (smp_cbor_get_uint(req->body, "len", &len) == -EBADMSG) || (off == 0 && len == UINT64_MAX))
		return SIM_RC(SMP_RC_EINVAL);
	if (fs->state != FS_UPLOAD || strcmp(path, fs->path) != 0)
		fs_cleanup(fs);
	if (fs->state == FS_IDLE) {
		rc = fs_create(fs, path);
		if (rc)
			return SIM_GROUP_ERR(SMP_GROUP_FS, rc);
		fs->off = 0;
		fs->state = FS_UPLOAD;
		snprintf(fs->path, sizeof(fs->path), "%s", path);
	}
	f = fs_find(fs, path);
	if (!f) /* the open file is gone (never, while the group is the only writer): start over */
		return fs_fail(fs, FS_ERR_FILE_NOT_FOUND);
	return fs_upload_write(dev, w, f, off, len, data);
}

/* fs_mgmt_file_download(): the first answer (off 0) carries the file's length. */
static SimStatus fs_download(SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	SimFs *fs = dev->fs;
	char path[FS_PATH_LEN + 1];
	const SimFile *f;
	size_t size = 0, chunk = dev->cfg.buf_size > FS_DL_OVERHEAD ? dev->cfg.buf_size - FS_DL_OVERHEAD : 1, n;
	uint64_t off;
	int32_t rc;

	if (!req->body || smp_cbor_get_uint(req->body, "off", &off) < 0 || !fs_name(req, path))
		return SIM_RC(SMP_RC_EINVAL);
	if (fs->state != FS_DOWNLOAD || strcmp(path, fs->path) != 0)
		fs_cleanup(fs);
	if (fs->state == FS_IDLE) {
		rc = fs_filelen(fs, path, &size);
		if (rc)
			return SIM_GROUP_ERR(SMP_GROUP_FS, rc);
		fs->len = size;
		fs->off = 0;
		fs->state = FS_DOWNLOAD;
		snprintf(fs->path, sizeof(fs->path), "%s", path);
	}
	f = fs_find(fs, path);
	if (!f)
		return fs_fail(fs, FS_ERR_FILE_NOT_FOUND);
	fs->off = off; /* fs_seek(); past the end, the read gives nothing */
	n = off < f->size ? MIN(chunk, f->size - (size_t)off) : 0;
	fs->off += n;
	smp_cbor_put_text(w, "off");
	smp_cbor_put_uint(w, off);
	smp_cbor_put_text(w, "data");
	smp_cbor_put_bytes(w, n ? f->data + off : NULL, n);
	if (off == 0) {
		smp_cbor_put_text(w, "len");
		smp_cbor_put_uint(w, fs->len);
	}
	fs_finish_check(fs);
	return SIM_OK;
}

static SimStatus fs_status(SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	char path[FS_PATH_LEN + 1];
	size_t len = 0;
	int32_t rc;

	if (!req->body || !fs_name(req, path))
		return SIM_RC(SMP_RC_EINVAL);
	rc = fs_filelen(dev->fs, path, &len);
	if (rc)
		return SIM_GROUP_ERR(SMP_GROUP_FS, rc);
	smp_cbor_put_text(w, "len");
	smp_cbor_put_uint(w, len);
	return SIM_OK;
}

static void put_hash_output(SmpCborWriter *w, const char *type, const uint8_t *data, size_t n)
{
	if (strcmp(type, "sha256") == 0) {
		uint8_t sha[32];

		image_sha256(data, n, sha);
		smp_cbor_put_bytes(w, sha, sizeof(sha));
		return;
	}
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		crc ^= data[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	smp_cbor_put_uint(w, ~crc);
}

/* fs_mgmt_file_hash_checksum(): type defaults to crc32 (CONFIG_MCUMGR_GRP_FS_CHECKSUM_IEEE_CRC32). */
static SimStatus fs_hash(SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	char path[FS_PATH_LEN + 1], type[32] = "crc32";
	uint64_t off = 0, len = UINT64_MAX;
	size_t size = 0, n;
	int32_t rc;
	int r;

	if (!req->body || !fs_name(req, path))
		return SIM_RC(SMP_RC_EINVAL);
	r = smp_cbor_get_text(req->body, "type", type, sizeof(type));
	if ((r < 0 && r != -ENOENT) || strlen(type) > HASH_TYPE_SIZE ||
	    smp_cbor_get_uint(req->body, "off", &off) == -EBADMSG ||
	    smp_cbor_get_uint(req->body, "len", &len) == -EBADMSG || len == 0)
		return SIM_RC(SMP_RC_EINVAL);
	if (strcmp(type, "crc32") != 0 && !(dev->cfg.fs_sha256 && strcmp(type, "sha256") == 0))
		return SIM_GROUP_ERR(SMP_GROUP_FS, FS_ERR_CHECKSUM_HASH_NOT_FOUND);
	rc = fs_filelen(dev->fs, path, &size);
	if (rc)
		return SIM_GROUP_ERR(SMP_GROUP_FS, rc);
	if (size <= off)
		return SIM_GROUP_ERR(SMP_GROUP_FS, size == 0 ? FS_ERR_FILE_EMPTY : FS_ERR_FILE_OFFSET_LARGER_THAN_FILE);
	n = (size_t)MIN(len, (uint64_t)(size - off));
	smp_cbor_put_text(w, "type");
	smp_cbor_put_text(w, type);
	if (off) {
		smp_cbor_put_text(w, "off");
		smp_cbor_put_uint(w, off);
	}
	smp_cbor_put_text(w, "len");
	smp_cbor_put_uint(w, n);
	smp_cbor_put_text(w, "output");
	put_hash_output(w, type, fs_find(dev->fs, path)->data + off, n);
	return SIM_OK;
}

/* fs_mgmt_supported_hash_checksum() */
static SimStatus fs_hash_types(const SimDevice *dev, SmpCborWriter *w)
{
	smp_cbor_put_text(w, "types");
	smp_cbor_put_indef_map(w);
	smp_cbor_put_text(w, "crc32");
	smp_cbor_put_indef_map(w);
	smp_cbor_put_text(w, "format");
	smp_cbor_put_uint(w, 0);
	smp_cbor_put_text(w, "size");
	smp_cbor_put_uint(w, 4);
	smp_cbor_put_break(w);
	if (dev->cfg.fs_sha256) {
		smp_cbor_put_text(w, "sha256");
		smp_cbor_put_indef_map(w);
		smp_cbor_put_text(w, "format");
		smp_cbor_put_uint(w, 1);
		smp_cbor_put_text(w, "size");
		smp_cbor_put_uint(w, 32);
		smp_cbor_put_break(w);
	}
	smp_cbor_put_break(w);
	return SIM_OK;
}

SimStatus sim_fs_handle(SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	bool read = req->header->op == SMP_OP_READ;

	if (!dev->cfg.fs)
		return SIM_RC(SMP_RC_ENOTSUP);
	if (!dev->fs && !(dev->fs = calloc(1, sizeof(*dev->fs))))
		return SIM_RC(SMP_RC_ENOMEM);
	switch (req->header->id) {
	case SMP_FS_FILE: return read ? fs_download(dev, req, w) : fs_upload(dev, req, w);
	case SMP_FS_STATUS: return read ? fs_status(dev, req, w) : SIM_RC(SMP_RC_ENOTSUP);
	case SMP_FS_HASH: return read ? fs_hash(dev, req, w) : SIM_RC(SMP_RC_ENOTSUP);
	case SMP_FS_HASH_TYPES: return read ? fs_hash_types(dev, w) : SIM_RC(SMP_RC_ENOTSUP);
	case SMP_FS_CLOSE:
		if (read)
			return SIM_RC(SMP_RC_ENOTSUP);
		fs_cleanup(dev->fs);
		return SIM_OK;
	default: return SIM_RC(SMP_RC_ENOTSUP);
	}
}
