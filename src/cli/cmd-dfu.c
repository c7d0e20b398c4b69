/* SPDX-License-Identifier: MIT */
/* dfu FILE: the whole update (dfu.c), rendered for a person or as JSON lines. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "cli-image.h"
#include "cli-progress.h"
#include "dfu.h"
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
		return EXIT_DEVICE;
	case DFU_DOWNGRADE: return EXIT_DOWNGRADE;
	default: return EXIT_FAILURE_GENERIC;
	}
}

static void dfu_result_json(Cli *cli, const Device *d, const LoadedImage *img, DfuMode mode,
			    const DfuResult *res, uint64_t usec)
{
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
	if (r >= DFU_REVERTED)
		return cli_fail(cli, dfu_exit_code(r), "%s", res.message);
	if (r)
		return cli_upload_failed(cli, d, r);
	if (cli->json)
		dfu_result_json(cli, d, &img, o.mode, &res, now_usec() - start);
	else
		dfu_result_text(cli, d, &img, &res, now_usec() - start);
	return EXIT_OK;
}
