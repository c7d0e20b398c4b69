/* SPDX-License-Identifier: MIT */
/* image upload FILE: check the file, skip what the device already has, upload, verify the slot. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "cli-image.h"
#include "cli-progress.h"
#include "smp-error.h"
#include "upload.h"
#include "util.h"

#define _cleanup_device_ _cleanup_(device_freep)

void cli_upload_options(Cli *cli, UploadOptions *o, CliProgress *progress)
{
	upload_options_default(o);
	o->image = cli->image;
	o->window = cli->window;
	o->frame_size = cli->frame_size;
	o->upgrade = cli->upgrade;
	o->chunk_timeout_usec = cli->timeout_usec;
	/* The first chunk may wait for the device to erase the slot (REFERENCE.md §4; ISSUE-NOTES 7). */
	o->first_timeout_usec = MAX(cli->timeout_usec, 40ull * 1000 * 1000);
	o->reconnect_timeout_usec = cli->reset_timeout_usec;
	*progress = (CliProgress){ .cli = cli };
	o->progress = cli_progress_upload;
	o->userdata = progress;
}

/* A secondary slot marked for the next boot makes the device refuse an upload to that image (NO_FREE_SLOT,
 * REFERENCE.md §11): say why before sending anything. The image is --image N's. */
int cli_check_slot_free(Cli *cli, const MgmtImageList *list, const LoadedImage *img)
{
	const MgmtImageSlot *s = mgmt_image_list_entry(list, cli->image, 1);
	char hash[2 * MGMT_HASH_MAX + 1];

	if (!s || s->active || !(s->pending || s->permanent))
		return 0;
	if (s->hash_len == img->image.hash_len && memcmp(s->hash, img->image.hash, s->hash_len) == 0)
		return 0;
	return cli_fail(cli, EXIT_DEVICE,
			"slot 1 holds another image (hash %s) marked for the next boot, so the device refuses uploads: "
			"reset the device to run it, or confirm the running image with 'smpctl image confirm' to cancel",
			hex_encode(s->hash, s->hash_len, hash));
}

/* The slot must now hold exactly the image: its hash TLV, read back from the device (REFERENCE.md §5). */
int cli_verify_readback(Cli *cli, Device *d, const LoadedImage *img, MgmtImageList *list)
{
	const MgmtImageSlot *s;
	int r = device_image_list(d, list);

	if (r)
		return cli_device_fail(cli, d, r);
	s = mgmt_image_list_find_hash(list, img->image.hash, img->image.hash_len);
	if (!s)
		return cli_fail(cli, EXIT_VERIFY, "after the upload no slot lists the image's hash: the upload did not "
						  "land intact; nothing was marked, upload again");
	return 0;
}

int cli_upload_failed(Cli *cli, Device *d, int r)
{
	if (r == UPLOAD_MATCH_FAILED)
		return cli_fail(cli, EXIT_VERIFY, "the device reports that the uploaded data does not match the file "
						  "(match: false): the damaged copy was erased and nothing was marked; "
						  "upload again");
	if (r == UPLOAD_MATCH_FAILED_KEPT)
		return cli_fail(cli, EXIT_VERIFY, "the device reports that the uploaded data does not match the file "
						  "(match: false), and erasing the damaged copy did not succeed, so it may "
						  "still list as the file's image: nothing was marked; run again with "
						  "--force, or erase that slot first (smpctl image erase)");
	if (r == UPLOAD_GAVE_UP)
		return cli_fail(cli, EXIT_TRANSPORT, "the link kept failing; gave up after several reconnects. The "
						     "device keeps the partial upload: run the same command again to resume");
	if (r == DEVICE_STATUS_ERROR || r < 0)
		return cli_device_fail(cli, d, r);
	return cli_fail(cli, EXIT_FAILURE_GENERIC, "upload failed (%d)", r);
}

/* The figures of an upload, shared by the results of image upload and dfu. */
void cli_json_upload_stats(JsonWriter *j, const Device *d, const UploadResult *res)
{
	json_key(j, "bytes"); json_uint(j, res->bytes);
	json_key(j, "seconds"); json_double(j, (double)res->usec / 1e6);
	json_key(j, "rate"); json_double(j, upload_rate(res));
	json_key(j, "frame_size"); json_uint(j, res->frame_size);
	json_key(j, "window"); json_uint(j, res->window);
	/* The device's MCUmgr buffers, as the closing line names them; null without params. */
	json_key(j, "buf_size");
	if (d->params_known)
		json_uint(j, d->params.buf_size);
	else
		json_null(j);
	json_key(j, "buf_count");
	if (d->params_known)
		json_uint(j, d->params.buf_count);
	else
		json_null(j);
	json_key(j, "resends"); json_uint(j, res->resends);
	json_key(j, "reconnects"); json_uint(j, res->reconnects);
	json_key(j, "resumed_from"); json_uint(j, res->resumed_from);
	json_key(j, "match");
	if (res->has_match)
		json_bool(j, res->match);
	else
		json_null(j);
}

static void upload_result_json(Cli *cli, const Device *d, const LoadedImage *img, const UploadResult *res,
			       bool skipped)
{
	JsonWriter *j = &cli->json_out;

	json_begin_object(j);
	json_key(j, "type"); json_string(j, "result");
	json_key(j, "ok"); json_bool(j, true);
	json_key(j, "skipped"); json_bool(j, skipped);
	json_key(j, "version"); json_string(j, img->version);
	json_key(j, "hash"); json_hex(j, img->image.hash, img->image.hash_len);
	if (skipped) {
		json_key(j, "bytes"); json_uint(j, img->size);
	} else {
		cli_json_upload_stats(j, d, res);
	}
	json_end_object(j);
	json_end_line(j);
}

void cli_outcome_upload(Cli *cli, const LoadedImage *img, const UploadResult *res)
{
	if (!cli->outcome)
		return;
	snprintf(cli->outcome->new_version, sizeof(cli->outcome->new_version), "%s", img->version);
	cli->outcome->uploaded = true;
	cli->outcome->bytes = res->bytes;
	cli->outcome->rate = upload_rate(res);
}

/* "Uploaded FILE (N KiB) in S s, R kB/s, buffers C x B bytes, window W": the figures image upload and dfu
 * close with, into out. The buffers are the device's (MCUmgr params), else the frame size used. */
void cli_upload_figures(const Device *d, const LoadedImage *img, const UploadResult *res, char *out, size_t size)
{
	double secs = (double)res->usec / 1e6;
	size_t used;

	if (res->resumed && res->resumed_from == res->bytes) {
		snprintf(out, size, "%s (%.1f KiB) was already on the device: nothing sent (checked in %.1f s)", img->path,
			 (double)img->size / 1024, secs);
		return;
	}
	used = (size_t)snprintf(out, size, "Uploaded %s (%.1f KiB) in %.1f s", img->path, (double)img->size / 1024, secs);
	if (res->usec > 0 && used < size)
		used += (size_t)snprintf(out + used, size - used, ", %.1f kB/s", upload_rate(res) / 1000);
	if (d->params_known && used < size)
		used += (size_t)snprintf(out + used, size - used, ", buffers %u x %u bytes", d->params.buf_count,
					 d->params.buf_size);
	else if (used < size)
		used += (size_t)snprintf(out + used, size - used, ", frames of %zu bytes", res->frame_size);
	if (used < size)
		snprintf(out + used, size - used, ", window %zu%s", res->window, res->resumed ? ", resumed" : "");
}

static void upload_result_text(Cli *cli, const Device *d, const LoadedImage *img, const UploadResult *res)
{
	char hash[2 * MGMT_HASH_MAX + 1], figures[PATH_MAX + 256];

	if (cli->only_errors)
		return;
	cli_upload_figures(d, img, res, figures, sizeof(figures));
	strncat(figures, ".", sizeof(figures) - strlen(figures) - 1);
	cli_summary(cli, figures);
	printf("Verified: the device holds version %s, hash %s%s.\n", img->version,
	       hex_encode(img->image.hash, img->image.hash_len, hash), res->has_match ? " (match: true)" : "");
	printf("Next: 'smpctl image test %s' and 'smpctl reset', or use 'smpctl dfu' for the whole update.\n", hash);
}

/* Uploads a checked image to a connected device whose limits are known. Returns an exit code. */
int cli_upload(Cli *cli, Device *d, const LoadedImage *img, UploadResult *res)
{
	UploadOptions o;
	CliProgress progress;
	int r;

	cli_upload_options(cli, &o, &progress);
	cli_event(cli, "state", "upload", "Uploading %s (%.1f KiB) in frames of %zu bytes, window %zu", img->path,
		  (double)img->size / 1024, cli->frame_size ? cli->frame_size : d->frame_size,
		  cli->window ? cli->window : d->window);
	r = upload_run(d, img->data, img->size, &o, res);
	if (r)
		return cli_upload_failed(cli, d, r);
	return 0;
}

/* What image upload and dfu both do first: check the file, connect, learn the device's limits. */
int cli_prepare_update(Cli *cli, LoadedImage *img, Device **d)
{
	int r = cli_load_image(cli, cli->args[0], img);

	if (r)
		return r;
	r = cli_open_device(cli, d);
	if (r)
		return r;
	r = device_learn_limits(*d);
	return r ? cli_device_fail(cli, *d, r) : 0;
}

int cmd_image_upload(Cli *cli)
{
	_cleanup_(loaded_image_clear) LoadedImage img = { 0 };
	_cleanup_device_ Device *d = NULL;
	MgmtImageList list;
	UploadResult res = { 0 };
	const MgmtImageSlot *there;
	int r;

	r = cli_prepare_update(cli, &img, &d);
	if (r)
		return r;
	r = device_image_list(d, &list);
	if (r)
		return cli_device_fail(cli, d, r);
	there = mgmt_image_list_find_hash(&list, img.image.hash, img.image.hash_len);
	if (there && !cli->force) {
		cli_event(cli, "state", "inspect", "Slot %u already holds this image (version %s): nothing to upload "
					"(--force uploads it anyway)", there->slot, img.version);
		if (cli->json)
			upload_result_json(cli, d, &img, &res, true);
		return EXIT_OK;
	}
	r = cli_check_slot_free(cli, &list, &img);
	if (r)
		return r;
	r = cli_upload(cli, d, &img, &res);
	if (r)
		return r;
	r = cli_verify_readback(cli, d, &img, &list);
	if (r)
		return r;
	cli_outcome_upload(cli, &img, &res);
	if (cli->json)
		upload_result_json(cli, d, &img, &res, false);
	else
		upload_result_text(cli, d, &img, &res);
	return EXIT_OK;
}
