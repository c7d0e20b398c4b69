/* SPDX-License-Identifier: MIT */
/* The whole update (dfu_run) against the simulated device in-process: modes, already-there rules and the
 * seed scenario of REFERENCE.md §10. */
#include <errno.h>
#include <string.h>

#include "dfu.h"
#include "image.h"
#include "sim-loop.h"
#include "tap.h"
#include "util.h"

#define IMAGE_MAX (128 * 1024)

static uint8_t image[IMAGE_MAX];
static size_t image_len;
static Image parsed;

typedef struct Flow {
	sd_event *event;
	Device *d;
	DfuOptions o;
	DfuResult res;
	DfuImage img;
	unsigned warnings;
	unsigned states;
	char last_warning[320];
	int r;
} Flow;

static void on_event(void *userdata, const DfuEvent *e)
{
	Flow *f = userdata;

	if (e->kind == DFU_EVENT_WARNING) {
		f->warnings++;
		snprintf(f->last_warning, sizeof(f->last_warning), "%s", e->message);
	} else {
		f->states++;
	}
}

static void flow_setup(Flow *f, const SimConfig *cfg, DfuMode mode)
{
	memset(f, 0, sizeof(*f));
	image_len = sim_loop_make_image(image, sizeof(image), 100 * 1024, 2, 0, 3);
	CHECK_INT(image_parse(image, image_len, &parsed, NULL, 0), 0);
	CHECK_INT(sd_event_new(&f->event), 0);
	CHECK_INT(sim_loop_device(f->event, cfg, &f->d), 0);
	f->o = (DfuOptions){ .mode = mode, .reset_timeout_usec = 5 * 1000 * 1000, .event = on_event, .userdata = f };
	upload_options_default(&f->o.upload);
	f->o.upload.chunk_timeout_usec = 200 * 1000;
	f->o.upload.first_timeout_usec = 500 * 1000;
	f->img = (DfuImage){ .data = image, .size = image_len, .hash = parsed.hash, .hash_len = parsed.hash_len,
			     .version = "2.0.0" };
}

static void flow_run(Flow *f)
{
	f->r = dfu_run(f->d, &f->img, &f->o, &f->res);
}

static void flow_teardown(Flow *f)
{
	device_free(f->d);
	sd_event_unref(f->event);
}

static void slot_state(unsigned slot, SimSlotState *s)
{
	sim_device_slot_state(sim_loop_sim(), slot, s);
}

static bool slot_is_ours(const SimSlotState *s)
{
	return s->present && s->hash_len == parsed.hash_len && memcmp(s->hash, parsed.hash, parsed.hash_len) == 0;
}

/* Default mode: the new image ends up running and confirmed in slot 0. */
static void test_test_and_confirm(void)
{
	Flow f;
	SimSlotState s0;

	flow_setup(&f, NULL, DFU_TEST_AND_CONFIRM);
	flow_run(&f);
	CHECK_INT(f.r, 0);
	CHECK(f.res.uploaded && f.res.marked && f.res.reset && f.res.running && f.res.confirmed);
	slot_state(0, &s0);
	CHECK(slot_is_ours(&s0) && s0.active && s0.confirmed);
	flow_teardown(&f);
}

/* test-only leaves the image running unconfirmed: the next reset reverts it. */
static void test_test_only_then_revert(void)
{
	Flow f;
	SimSlotState s0;

	flow_setup(&f, NULL, DFU_TEST_ONLY);
	flow_run(&f);
	CHECK_INT(f.r, 0);
	CHECK(f.res.running && !f.res.confirmed);
	CHECK(f.warnings >= 1);
	slot_state(0, &s0);
	CHECK(slot_is_ours(&s0) && !s0.confirmed);
	sim_device_reboot(sim_loop_sim());
	slot_state(0, &s0);
	CHECK(!slot_is_ours(&s0));
	flow_teardown(&f);
}

/* confirm-only marks permanent before the reset; the image stays. */
static void test_confirm_only(void)
{
	Flow f;
	SimSlotState s0;

	flow_setup(&f, NULL, DFU_CONFIRM_ONLY);
	flow_run(&f);
	CHECK_INT(f.r, 0);
	slot_state(0, &s0);
	CHECK(slot_is_ours(&s0) && s0.confirmed);
	sim_device_reboot(sim_loop_sim());
	slot_state(0, &s0);
	CHECK(slot_is_ours(&s0));
	flow_teardown(&f);
}

/* upload-only verifies and marks nothing. */
static void test_upload_only_marks_nothing(void)
{
	Flow f;
	SimSlotState s1;

	flow_setup(&f, NULL, DFU_UPLOAD_ONLY);
	flow_run(&f);
	CHECK_INT(f.r, 0);
	CHECK(f.res.uploaded && !f.res.marked && !f.res.reset);
	slot_state(1, &s1);
	CHECK(slot_is_ours(&s1) && !s1.pending);
	flow_teardown(&f);
}

/* A second dfu of the running, confirmed image does nothing and succeeds. */
static void test_already_running(void)
{
	Flow f;
	unsigned requests;

	flow_setup(&f, NULL, DFU_TEST_AND_CONFIRM);
	flow_run(&f);
	CHECK_INT(f.r, 0);
	requests = sim_loop_stats()->requests;
	flow_run(&f);
	CHECK_INT(f.r, 0);
	CHECK(f.res.already_running && !f.res.uploaded && !f.res.reset);
	/* OS info (an application, not MCUboot's serial recovery: firmware_is_recovery), then the list */
	CHECK_INT(sim_loop_stats()->requests - requests, 2);
	flow_teardown(&f);
}

/* An image not newer than the running one is refused before anything is sent, unless allowed; the
 * version that ran is reported either way. */
static void test_downgrade_refused(void)
{
	static const char *const not_newer[] = { "1.0.0", "0.9.9", "1.0.0+0" };
	Flow f;
	SimSlotState s1;
	unsigned requests;

	for (size_t i = 0; i < ARRAY_SIZE(not_newer); i++) {
		flow_setup(&f, NULL, DFU_TEST_AND_CONFIRM);
		f.img.version = not_newer[i];
		requests = sim_loop_stats()->requests;
		flow_run(&f);
		CHECK_INT(f.r, DFU_DOWNGRADE);
		CHECK(strstr(f.res.message, "--allow-downgrade") != NULL);
		CHECK_STR(f.res.old_version, "1.0.0+0");
		CHECK(!f.res.uploaded && !f.res.marked);
		CHECK_INT(sim_loop_stats()->requests - requests, 2); /* OS info (not recovery) and the image list */
		slot_state(1, &s1);
		CHECK(!slot_is_ours(&s1));
		flow_teardown(&f);
	}
	flow_setup(&f, NULL, DFU_TEST_AND_CONFIRM);
	f.img.version = "0.9.9";
	f.o.allow_downgrade = true;
	flow_run(&f);
	CHECK_INT(f.r, 0);
	CHECK(f.res.uploaded && f.res.running && f.res.confirmed);
	flow_teardown(&f);
}

/* Upload-only first, then the default mode: the upload is skipped and the update completes. */
static void test_skips_upload_when_in_slot1(void)
{
	Flow f;

	flow_setup(&f, NULL, DFU_UPLOAD_ONLY);
	flow_run(&f);
	CHECK_INT(f.r, 0);
	f.o.mode = DFU_TEST_AND_CONFIRM;
	flow_run(&f);
	CHECK_INT(f.r, 0);
	CHECK(f.res.upload_skipped && !f.res.uploaded && f.res.confirmed);
	flow_teardown(&f);
}

/* REFERENCE.md §10: slot 1 already holds the new image, pending; the firmware lacks storage erase.
 * The phone app stopped at NOT_SUPPORTED and never reset. smpctl warns, resets, checks, confirms. */
static void test_seed_scenario(void)
{
	SimConfig cfg;
	Flow f;
	SimSlotState s0;

	sim_config_default(&cfg);
	cfg.storage_erase = false;
	flow_setup(&f, &cfg, DFU_UPLOAD_ONLY);
	flow_run(&f);
	CHECK_INT(f.r, 0);
	CHECK_INT(device_image_state_write(f.d, parsed.hash, parsed.hash_len, false, NULL), 0);
	f.o.mode = DFU_TEST_AND_CONFIRM;
	f.o.erase_settings = true;
	f.warnings = 0;
	flow_run(&f);
	CHECK_INT(f.r, 0);
	CHECK(f.res.upload_skipped && !f.res.settings_erased);
	CHECK_INT(f.warnings, 1);
	CHECK(strstr(f.last_warning, "CONFIG_MCUMGR_GRP_ZBASIC_STORAGE_ERASE") != NULL);
	CHECK(f.res.reset && f.res.running && f.res.confirmed);
	slot_state(0, &s0);
	CHECK(slot_is_ours(&s0) && s0.active && s0.confirmed);
	flow_teardown(&f);
}

/* --require-erase-settings stops before anything is marked when the firmware cannot erase. */
static void test_require_erase_settings_stops(void)
{
	SimConfig cfg;
	Flow f;
	SimSlotState s1;

	sim_config_default(&cfg);
	cfg.storage_erase = false;
	flow_setup(&f, &cfg, DFU_TEST_AND_CONFIRM);
	f.o.erase_settings = f.o.require_erase_settings = true;
	flow_run(&f);
	CHECK_INT(f.r, DFU_SETTINGS_NOT_ERASED);
	slot_state(1, &s1);
	CHECK(slot_is_ours(&s1) && !s1.pending);
	flow_teardown(&f);
}

/* With settings erase present it is done after the upload and before the test. */
static void test_erase_settings(void)
{
	Flow f;

	flow_setup(&f, NULL, DFU_TEST_AND_CONFIRM);
	f.o.erase_settings = true;
	flow_run(&f);
	CHECK_INT(f.r, 0);
	CHECK(f.res.settings_erased && f.res.confirmed);
	CHECK_INT(f.warnings, 0);
	flow_teardown(&f);
}

/* A corrupted upload (match false) is never marked, and its damaged copy is erased: the next run uploads
 * again instead of taking the copy's hash TLV for the file and handing MCUboot an image it refuses. */
static void test_unverified_upload_is_never_marked(void)
{
	Flow f;
	SimSlotState s1;

	flow_setup(&f, NULL, DFU_TEST_AND_CONFIRM);
	sim_loop_faults()->corrupt_data_at = 9;
	flow_run(&f);
	CHECK_INT(f.r, UPLOAD_MATCH_FAILED);
	CHECK(!f.res.marked && !f.res.reset);
	slot_state(1, &s1);
	CHECK(!s1.pending && !s1.present);
	sim_loop_faults()->corrupt_data_at = 0;
	flow_run(&f);
	CHECK_INT(f.r, 0);
	CHECK(f.res.uploaded && !f.res.upload_skipped && f.res.confirmed);
	flow_teardown(&f);
}

/* Another image pending in slot 1: explained, nothing sent. */
static void test_other_image_pending(void)
{
	static uint8_t other[64 * 1024];
	Flow f;
	Image o;
	size_t n;

	flow_setup(&f, NULL, DFU_UPLOAD_ONLY);
	n = sim_loop_make_image(other, sizeof(other), 32 * 1024, 3, 0, 9);
	CHECK_INT(image_parse(other, n, &o, NULL, 0), 0);
	f.img = (DfuImage){ .data = other, .size = n, .hash = o.hash, .hash_len = o.hash_len, .version = "3.0.0" };
	flow_run(&f);
	CHECK_INT(f.r, 0);
	CHECK_INT(device_image_state_write(f.d, o.hash, o.hash_len, false, NULL), 0);
	f.img = (DfuImage){ .data = image, .size = image_len, .hash = parsed.hash, .hash_len = parsed.hash_len,
			    .version = "2.0.0" };
	f.o.mode = DFU_TEST_AND_CONFIRM;
	flow_run(&f);
	CHECK_INT(f.r, DFU_SLOT_BUSY);
	CHECK(strstr(f.res.message, "reset") != NULL);
	flow_teardown(&f);
}

int main(void)
{
	static const TapTest tests[] = {
		TAP_TEST(test_test_and_confirm),
		TAP_TEST(test_test_only_then_revert),
		TAP_TEST(test_confirm_only),
		TAP_TEST(test_upload_only_marks_nothing),
		TAP_TEST(test_already_running),
		TAP_TEST(test_downgrade_refused),
		TAP_TEST(test_skips_upload_when_in_slot1),
		TAP_TEST(test_seed_scenario),
		TAP_TEST(test_require_erase_settings_stops),
		TAP_TEST(test_erase_settings),
		TAP_TEST(test_unverified_upload_is_never_marked),
		TAP_TEST(test_other_image_pending),
	};
	return tap_run(tests, ARRAY_SIZE(tests));
}
