/* SPDX-License-Identifier: MIT */
/* dfu FILE: the whole update (dfu.c), rendered for a person or as JSON lines. An nRF Connect SDK package
 * (dfu_application.zip, dfu-package.h), or a plain image with --image N other than 0, goes through
 * dfu_run_multi (dfu-multi.c). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "cli-image.h"
#include "cli-progress.h"
#include "dfu.h"
#include "dfu-package.h"
#include "util.h"

#define _cleanup_device_ _cleanup_(device_freep)

static void dfu_on_event(void *userdata, const DfuEvent *e)
{
	Cli *cli = userdata;

	cli_event(cli, e->kind == DFU_EVENT_WARNING ? "warning" : "state", e->step, "%s", e->message);
}

static int dfu_exit_code(int r)
{
	switch (r) {
	case DFU_REVERTED: case DFU_NOT_SWAPPED: return EXIT_REVERTED;
	case DFU_NOT_VERIFIED: return EXIT_VERIFY;
	case DFU_NOT_BACK: return EXIT_TIMEOUT;
	case DFU_STATE_NOT_APPLIED: case DFU_SLOT_BUSY: case DFU_SETTINGS_NOT_ERASED: case DFU_RECOVERY_NO_TEST:
	case DFU_XIP_MODE:
		return EXIT_DEVICE;
	case DFU_DOWNGRADE: return EXIT_DOWNGRADE;
	default: return EXIT_FAILURE_GENERIC;
	}
}

/* "updates": one object per image, the same for one image as for a package. */
static void dfu_json_updates(JsonWriter *j, const LoadedImage *all, const DfuImageResult *res, size_t count)
{
	json_key(j, "updates");
	json_begin_array(j);
	for (size_t i = 0; i < count; i++) {
		const LoadedImage *img = &all[res[i].input]; /* a direct-xip pair: the variant sent */

		json_begin_object(j);
		json_key(j, "image"); json_uint(j, res[i].image);
		json_key(j, "file"); json_string(j, img->path);
		json_key(j, "version"); json_string(j, img->version);
		json_key(j, "hash"); json_hex(j, img->image.hash, img->image.hash_len);
		json_key(j, "old_version"); json_string(j, res[i].old_version);
		json_key(j, "uploaded"); json_bool(j, res[i].uploaded);
		json_key(j, "upload_skipped"); json_bool(j, res[i].upload_skipped);
		json_key(j, "bytes"); json_uint(j, res[i].uploaded ? res[i].upload.bytes : 0);
		json_key(j, "running"); json_bool(j, res[i].running);
		json_key(j, "confirmed"); json_bool(j, res[i].confirmed);
		json_key(j, "already_running"); json_bool(j, res[i].already_running);
		json_end_object(j);
	}
	json_end_array(j);
}

/* A failed update: the DFU_* outcome's line, or what the upload or the device said. */
static int dfu_failed(Cli *cli, Device *d, int r, const char *message)
{
	if (r >= DFU_REVERTED)
		return cli_fail(cli, dfu_exit_code(r), "%s", message);
	return cli_upload_failed(cli, d, r);
}

static void dfu_result_json(Cli *cli, const Device *d, const LoadedImage *img, DfuMode mode,
			    const DfuResult *res, uint64_t usec)
{
	DfuImageResult one = { .uploaded = res->uploaded, .upload_skipped = res->upload_skipped,
			       .running = res->running, .confirmed = res->confirmed,
			       .already_running = res->already_running, .upload = res->upload };
	JsonWriter *j = &cli->json_out;
	const UploadResult *u = &res->upload;

	json_begin_object(j);
	json_key(j, "type"); json_string(j, "result");
	json_key(j, "ok"); json_bool(j, true);
	json_key(j, "mode"); json_string(j, dfu_mode_name(mode));
	json_key(j, "version"); json_string(j, img->version);
	json_key(j, "hash"); json_hex(j, img->image.hash, img->image.hash_len);
	json_key(j, "uploaded"); json_bool(j, res->uploaded);
	json_key(j, "upload_skipped"); json_bool(j, res->upload_skipped);
	if (res->uploaded) {
		cli_json_upload_stats(j, d, u);
	} else {
		json_key(j, "bytes"); json_uint(j, 0);
		json_key(j, "seconds"); json_double(j, 0);
		json_key(j, "rate"); json_double(j, 0);
	}
	json_key(j, "total_seconds"); json_double(j, (double)usec / 1e6);
	json_key(j, "settings_erased"); json_bool(j, res->settings_erased);
	json_key(j, "erased_ahead"); json_bool(j, res->erased_ahead);
	json_key(j, "reset"); json_bool(j, res->reset);
	json_key(j, "running"); json_bool(j, res->running);
	json_key(j, "confirmed"); json_bool(j, res->confirmed);
	json_key(j, "already_running"); json_bool(j, res->already_running);
	json_key(j, "recovery"); json_bool(j, res->recovery);
	json_key(j, "images"); cli_json_image_list(j, &res->final_list);
	snprintf(one.old_version, sizeof(one.old_version), "%s", res->old_version);
	dfu_json_updates(j, img, &one, 1);
	json_end_object(j);
	json_end_line(j);
}

/* The closing line, also without a terminal: what was sent, how fast, and how long it all took. */
static void dfu_result_text(Cli *cli, const Device *d, const LoadedImage *img, const DfuResult *res,
			    uint64_t usec)
{
	char line[PATH_MAX + 320];
	size_t used;

	if (res->uploaded)
		cli_upload_figures(d, img, &res->upload, line, sizeof(line));
	else
		snprintf(line, sizeof(line), "Uploaded nothing (0 bytes): the device already held %s", img->path);
	used = strlen(line);
	snprintf(line + used, sizeof(line) - used, "; the update took %.1f s.", (double)usec / 1e6);
	cli_summary(cli, line);
}

static int dfu_options(Cli *cli, DfuOptions *o, CliProgress *progress)
{
	int mode = cli->mode ? dfu_mode_from_name(cli->mode) : DFU_TEST_AND_CONFIRM;

	if (mode < 0)
		return cli_fail(cli, EXIT_USAGE, "--mode takes test-and-confirm, confirm-only, test-only or upload-only, "
						 "not '%s'", cli->mode);
	*o = (DfuOptions){
		.mode = (DfuMode)mode,
		.force = cli->force,
		.erase_settings = cli->erase_settings,
		.require_erase_settings = cli->require_erase_settings,
		.erase_ahead = cli->erase_ahead,
		.allow_downgrade = cli->allow_downgrade,
		.reset_timeout_usec = cli->reset_timeout_usec,
		.event = dfu_on_event,
		.userdata = cli,
	};
	cli_upload_options(cli, &o->upload, progress);
	return 0;
}

/* The images of one multi-image update: a package's, or one plain image for --image N. */
typedef struct DfuSet {
	uint8_t *zip;
	DfuPackage pkg;                    /* the file names the LoadedImages point to */
	LoadedImage imgs[DFU_MULTI_MAX];
	DfuImage di[DFU_MULTI_MAX];
	size_t count;
} DfuSet;

static void dfu_set_clear(DfuSet *set)
{
	for (size_t i = 0; i < set->count; i++)
		loaded_image_clear(&set->imgs[i]);
	free(set->zip);
	set->zip = NULL;
	set->count = 0;
}

static bool dfu_file_is_zip(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint8_t head[4];

	return fd >= 0 && read(fd, head, sizeof(head)) == (ssize_t)sizeof(head) && dfu_package_is_zip(head, 4);
}

static void dfu_set_add(DfuSet *set, LoadedImage *img, uint32_t image)
{
	set->di[set->count] = (DfuImage){ .data = img->data, .size = img->size, .hash = img->image.hash,
					  .hash_len = img->image.hash_len, .version = img->version, .image = image };
	set->count++;
}

/* A package member as the CLI loads an image file: its own copy, parsed, checked (hash, --key). */
static int dfu_load_member(Cli *cli, DfuSet *set, const DfuPackageFile *f)
{
	LoadedImage *img = &set->imgs[set->count];
	char why[256];
	int r;

	*img = (LoadedImage){ .path = f->file, .data = malloc(f->data_len), .size = f->data_len };
	if (!img->data)
		return cli_fail(cli, EXIT_FAILURE_GENERIC, "out of memory loading %s", f->file);
	memcpy(img->data, f->data, f->data_len);
	if (image_parse(img->data, img->size, &img->image, why, sizeof(why)) < 0) {
		r = cli_fail(cli, EXIT_IMAGE, "%s is not a valid MCUboot image: %s", f->file, why);
	} else {
		image_version_format(&img->image.version, false, img->version, sizeof(img->version));
		r = cli_check_image(cli, img);
	}
	if (r) {
		loaded_image_clear(img);
		return r;
	}
	dfu_set_add(set, img, (uint32_t)f->image_index);
	if (f->slot >= 0) {
		set->di[set->count - 1].xip = true;
		set->di[set->count - 1].xip_slot = (uint32_t)(f->slot % 2);
	}
	return 0;
}

/* Before connecting: the package must agree with itself (dfu_package_parse), else exit 8 and one line. */
static int dfu_load_package(Cli *cli, const char *path, DfuSet *set)
{
	char why[320] = "";
	size_t len;
	int r;

	r = image_file_read(path, DFU_PACKAGE_FILE_MAX, &set->zip, &len, why, sizeof(why));
	if (r < 0)
		return cli_fail(cli, EXIT_IMAGE, "cannot read %s: %s", path, why);
	r = dfu_package_parse(set->zip, len, &set->pkg, why, sizeof(why));
	if (r == -ENOMEM)
		return cli_fail(cli, EXIT_FAILURE_GENERIC, "out of memory reading %s", path);
	if (r < 0)
		return cli_fail(cli, EXIT_IMAGE, "%s: %s: refusing the package, nothing was sent", path, why);
	for (size_t i = 0; i < set->pkg.count; i++) {
		const DfuPackageFile *f = &set->pkg.files[i];

		if (f->slot >= 0)
			cli_event(cli, "state", "inspect", "%s: %s for image %" PRId64 " running from slot %" PRId64
				  " (direct-xip), %zu bytes", path, f->file, f->image_index, f->slot % 2, f->data_len);
		else
			cli_event(cli, "state", "inspect", "%s: %s for image %" PRId64 ", %zu bytes", path, f->file,
				  f->image_index, f->data_len);
		r = dfu_load_member(cli, set, &set->pkg.files[i]);
		if (r)
			return r;
	}
	return 0;
}

static int dfu_load_set(Cli *cli, DfuSet *set)
{
	const char *path = cli->args[0];
	int r;

	if (dfu_file_is_zip(path))
		return dfu_load_package(cli, path, set);
	r = cli_load_image(cli, path, &set->imgs[0]);
	if (r)
		return r;
	set->count = 0;
	dfu_set_add(set, &set->imgs[0], cli->image);
	return 0;
}

/* The figures summed over the images that were sent, for the keys a one-image result has. */
static bool dfu_multi_upload_sum(const DfuMultiResult *res, UploadResult *sum)
{
	bool any = false;

	*sum = (UploadResult){ 0 };
	for (size_t i = 0; i < res->count; i++) {
		const UploadResult *u = &res->images[i].upload;

		if (!res->images[i].uploaded)
			continue;
		if (!any) {
			*sum = *u;
			any = true;
			continue;
		}
		sum->bytes += u->bytes;
		sum->usec += u->usec;
		sum->resends += u->resends;
		sum->reconnects += u->reconnects;
		sum->resumed_from += u->resumed_from;
		sum->match = sum->match && u->match;
		sum->has_match = sum->has_match && u->has_match;
	}
	return any;
}

static bool dfu_multi_all(const DfuMultiResult *res, size_t offset)
{
	for (size_t i = 0; i < res->count; i++)
		if (!*(const bool *)(const void *)((const char *)&res->images[i] + offset))
			return false;
	return true;
}

/* Every image this run updated left a blank slot behind (--erase-ahead), as "erased_ahead" says of one. */
static bool dfu_multi_erased_ahead(const DfuMultiResult *res)
{
	bool any = false;

	for (size_t i = 0; i < res->count; i++) {
		if (res->images[i].already_running)
			continue;
		if (!res->images[i].erased_ahead)
			return false;
		any = true;
	}
	return any;
}

/* The keys of the one-image result, over all images (uploaded: any; the others: all), then "updates". */
static void dfu_multi_json(Cli *cli, const Device *d, const DfuSet *set, DfuMode mode, const DfuMultiResult *res,
			   uint64_t usec)
{
	JsonWriter *j = &cli->json_out;
	UploadResult sum;
	bool uploaded = dfu_multi_upload_sum(res, &sum);

	json_begin_object(j);
	json_key(j, "type"); json_string(j, "result");
	json_key(j, "ok"); json_bool(j, true);
	json_key(j, "mode"); json_string(j, dfu_mode_name(mode));
	const LoadedImage *first = &set->imgs[res->count ? res->images[0].input : 0];

	json_key(j, "version"); json_string(j, first->version);
	json_key(j, "hash"); json_hex(j, first->image.hash, first->image.hash_len);
	json_key(j, "uploaded"); json_bool(j, uploaded);
	json_key(j, "upload_skipped"); json_bool(j, dfu_multi_all(res, offsetof(DfuImageResult, upload_skipped)));
	if (uploaded) {
		cli_json_upload_stats(j, d, &sum);
	} else {
		json_key(j, "bytes"); json_uint(j, 0);
		json_key(j, "seconds"); json_double(j, 0);
		json_key(j, "rate"); json_double(j, 0);
	}
	json_key(j, "total_seconds"); json_double(j, (double)usec / 1e6);
	json_key(j, "settings_erased"); json_bool(j, res->settings_erased);
	json_key(j, "erased_ahead"); json_bool(j, dfu_multi_erased_ahead(res));
	json_key(j, "reset"); json_bool(j, res->reset);
	json_key(j, "running"); json_bool(j, dfu_multi_all(res, offsetof(DfuImageResult, running)));
	json_key(j, "confirmed"); json_bool(j, dfu_multi_all(res, offsetof(DfuImageResult, confirmed)));
	json_key(j, "already_running"); json_bool(j, dfu_multi_all(res, offsetof(DfuImageResult, already_running)));
	json_key(j, "recovery"); json_bool(j, false);
	json_key(j, "images"); cli_json_image_list(j, &res->final_list);
	dfu_json_updates(j, set->imgs, res->images, res->count);
	json_end_object(j);
	json_end_line(j);
}

static void dfu_multi_text(Cli *cli, const Device *d, const DfuSet *set, const DfuMultiResult *res, uint64_t usec)
{
	char line[PATH_MAX + 320];

	for (size_t i = 0; i < res->count; i++) {
		size_t used = (size_t)snprintf(line, sizeof(line), "Image %u: ", res->images[i].image);

		if (res->images[i].uploaded)
			cli_upload_figures(d, &set->imgs[res->images[i].input], &res->images[i].upload, line + used,
					   sizeof(line) - used);
		else
			snprintf(line + used, sizeof(line) - used, "uploaded nothing: the device already held %s",
				 set->imgs[res->images[i].input].path);
		cli_summary(cli, line);
	}
	snprintf(line, sizeof(line), "The update of %zu images took %.1f s.", res->count, (double)usec / 1e6);
	cli_summary(cli, line);
}

/* For a rack's summary: every image's old and new version; the first image's at the top, as for one; the
 * bytes and rate of all the uploads together. */
static void dfu_multi_outcome(Cli *cli, const DfuSet *set, const DfuMultiResult *res)
{
	CliOutcome *o = cli->outcome;
	UploadResult sum;

	if (!o)
		return;
	snprintf(o->old_version, sizeof(o->old_version), "%s", res->images[0].old_version);
	o->nimages = MIN(res->count, (size_t)CLI_OUTCOME_IMAGES);
	for (size_t i = 0; i < o->nimages; i++) {
		const DfuImageResult *ir = &res->images[i];

		o->images[i] = (CliOutcomeImage){ .image = ir->image };
		snprintf(o->images[i].old_version, sizeof(o->images[i].old_version), "%s", ir->old_version);
		if (!ir->already_running)
			snprintf(o->images[i].new_version, sizeof(o->images[i].new_version), "%s",
				 set->imgs[ir->input].version);
	}
	if (dfu_multi_upload_sum(res, &sum))
		for (size_t i = 0; i < res->count; i++)
			if (res->images[i].uploaded) {
				cli_outcome_upload(cli, &set->imgs[res->images[i].input], &sum);
				break;
			}
	/* The device's row is the first image's (smpctl(1), rack), whichever image was uploaded, if any. */
	snprintf(o->new_version, sizeof(o->new_version), "%s", o->nimages ? o->images[0].new_version : "");
}

static int cmd_dfu_multi(Cli *cli)
{
	_cleanup_(dfu_set_clear) DfuSet set = { 0 };
	_cleanup_device_ Device *d = NULL;
	DfuMultiResult res;
	CliProgress progress;
	DfuOptions o;
	uint64_t start = now_usec();
	int r;

	r = dfu_options(cli, &o, &progress);
	if (r)
		return r;
	r = dfu_load_set(cli, &set);
	if (r)
		return r;
	r = cli_open_device(cli, &d);
	if (r)
		return r;
	r = device_learn_limits(d);
	if (r)
		return cli_device_fail(cli, d, r);
	r = dfu_run_multi(d, set.di, set.count, &o, &res);
	dfu_multi_outcome(cli, &set, &res);
	if (r)
		return dfu_failed(cli, d, r, res.message);
	if (cli->json)
		dfu_multi_json(cli, d, &set, o.mode, &res, now_usec() - start);
	else
		dfu_multi_text(cli, d, &set, &res, now_usec() - start);
	return EXIT_OK;
}

int cmd_dfu(Cli *cli)
{
	_cleanup_(loaded_image_clear) LoadedImage img = { 0 };
	_cleanup_device_ Device *d = NULL;
	CliProgress progress;
	DfuOptions o;
	DfuResult res;
	DfuImage di;
	uint64_t start = now_usec();
	int r;

	if ((cli->image_given && cli->image != 0) || dfu_file_is_zip(cli->args[0]))
		return cmd_dfu_multi(cli);
	r = dfu_options(cli, &o, &progress);
	if (r)
		return r;
	r = cli_prepare_update(cli, &img, &d);
	if (r)
		return r;
	di = (DfuImage){ .data = img.data, .size = img.size, .hash = img.image.hash, .hash_len = img.image.hash_len,
			 .version = img.version };
	r = dfu_run(d, &di, &o, &res);
	if (cli->outcome) {
		snprintf(cli->outcome->old_version, sizeof(cli->outcome->old_version), "%s", res.old_version);
		if (res.uploaded)
			cli_outcome_upload(cli, &img, &res.upload);
	}
	if (r)
		return dfu_failed(cli, d, r, res.message);
	if (cli->json)
		dfu_result_json(cli, d, &img, o.mode, &res, now_usec() - start);
	else
		dfu_result_text(cli, d, &img, &res, now_usec() - start);
	return EXIT_OK;
}
