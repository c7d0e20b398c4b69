/* SPDX-License-Identifier: MIT */
/* The upload engine against the simulated device in-process, clean and with faults injected. */
#include <errno.h>
#include <string.h>

#include "image.h"
#include "sim-loop.h"
#include "tap.h"
#include "upload.h"
#include "util.h"

#define IMAGE_MAX (256 * 1024)

static uint8_t image[IMAGE_MAX];
static size_t image_len;

typedef struct Run {
	sd_event *event;
	Device *d;
	UploadOptions o;
	UploadResult res;
	int r;
} Run;

static void run_setup(Run *run, size_t payload)
{
	memset(run, 0, sizeof(*run));
	image_len = sim_loop_make_image(image, sizeof(image), payload, 1, 2, 7);
	CHECK(image_len > 0);
	CHECK_INT(sd_event_new(&run->event), 0);
	CHECK_INT(sim_loop_device(run->event, NULL, &run->d), 0);
	upload_options_default(&run->o);
	run->o.chunk_timeout_usec = 200 * 1000;
	run->o.first_timeout_usec = 500 * 1000;
	run->o.reconnect_timeout_usec = 3 * 1000 * 1000;
}

static void run_upload(Run *run)
{
	run->r = upload_run(run->d, image, image_len, &run->o, &run->res);
}

static void run_teardown(Run *run)
{
	device_free(run->d);
	sd_event_unref(run->event);
}

/* Slot 1 of the simulated device holds exactly our image (its hash TLV, as the device lists it). */
static void check_slot1_holds_image(void)
{
	SimSlotState s;
	Image img;

	CHECK_INT(image_parse(image, image_len, &img, NULL, 0), 0);
	sim_device_slot_state(sim_loop_sim(), 1, &s);
	CHECK(s.present);
	CHECK_INT(s.hash_len, img.hash_len);
	CHECK_MEM(s.hash, img.hash, img.hash_len);
	CHECK(!s.pending);
}

/* A clean upload fills every frame to the device's buffer size and keeps buf_count - 1 in flight. */
static void test_clean_upload_fills_frames(void)
{
	Run run;

	run_setup(&run, 200 * 1024);
	run_upload(&run);
	CHECK_INT(run.r, 0);
	CHECK(run.res.has_match && run.res.match);
	CHECK_INT(run.res.bytes, image_len);
	CHECK_INT(run.res.resends, 0);
	CHECK(!run.res.resumed);
	CHECK_INT(sim_loop_stats()->largest_frame, 2475);
	CHECK_INT(run.res.window, 3);
	CHECK_INT(sim_loop_stats()->max_outstanding, 3);
	/* 2475-byte frames carry a little under 2460 bytes of data each. */
	CHECK(run.res.chunks <= image_len / 2440 + 2);
	check_slot1_holds_image();
	run_teardown(&run);
}

/* --window and --frame-size override what the device reports. */
static void test_window_and_frame_overrides(void)
{
	Run run;

	run_setup(&run, 40 * 1024);
	run.o.window = 1;
	run.o.frame_size = 512;
	run_upload(&run);
	CHECK_INT(run.r, 0);
	CHECK_INT(sim_loop_stats()->max_outstanding, 1);
	CHECK_INT(sim_loop_stats()->largest_frame, 512);
	check_slot1_holds_image();
	run_teardown(&run);
}

typedef struct FaultCase {
	const char *name;
	SimLoopFaults faults;
	bool expect_resend;
	bool expect_reconnect;
} FaultCase;

/* Lost frames, duplicated and garbled answers, a lost link and a rebooted device all end with the image
 * verified in slot 1. */
static void test_faults_end_verified(void)
{
	static const FaultCase cases[] = {
		{ "drop one mid-window", { .drop_request = 10 }, true, false },
		{ "drop the last frame", { .drop_request = 85 }, true, false },
		{ "drop every 7th", { .drop_every = 7 }, true, false },
		{ "duplicate every 3rd answer", { .duplicate_every = 3 }, false, false },
		{ "garbled answer", { .garble_answer_at = 20 }, true, false },
		{ "link lost", { .lose_link_at = 40 }, false, true },
		{ "link lost, first reconnect fails", { .lose_link_at = 30, .refuse_opens = 1 }, false, true },
		{ "device reboots mid-upload", { .reboot_at = 50 }, true, false },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		Run run;

		run_setup(&run, 200 * 1024);
		*sim_loop_faults() = cases[i].faults;
		run_upload(&run);
		tap_checkf(run.r == 0, __FILE__, __LINE__, "%s: upload_run = %d", cases[i].name, run.r);
		tap_checkf(run.res.has_match && run.res.match, __FILE__, __LINE__, "%s: match", cases[i].name);
		if (cases[i].expect_resend)
			tap_checkf(run.res.resends > 0, __FILE__, __LINE__, "%s: resends", cases[i].name);
		if (cases[i].expect_reconnect)
			tap_checkf(run.res.reconnects > 0, __FILE__, __LINE__, "%s: reconnects", cases[i].name);
		check_slot1_holds_image();
		run_teardown(&run);
	}
}

/* A window wider than the device's buffers (--window 3 against a 2-buffer Zephyr, found with the interop
 * fixtures): a frame that finds no free buffer is dropped, and the window must not grow back to where it
 * lost one, or every few frames cost a timeout (113 s for 100 KiB at 512-byte frames). */
static void test_window_stays_below_a_lossy_width(void)
{
	SimConfig cfg;
	Run run;

	run_setup(&run, 200 * 1024);
	device_free(run.d);
	sim_config_default(&cfg);
	cfg.buf_count = 2; /* as the fixture reports: --window 3 is wider than its buffers */
	CHECK_INT(sim_loop_device(run.event, &cfg, &run.d), 0);
	CHECK_INT(device_learn_limits(run.d), 0);
	run.o.window = 3;
	run.o.frame_size = 2475;
	sim_loop_faults()->hold_max = 1;
	run_upload(&run);
	CHECK_INT(run.r, 0);
	CHECK(run.res.has_match && run.res.match);
	tap_checkf(sim_loop_stats()->dropped_busy <= 4, __FILE__, __LINE__, "dropped %u frames",
		   sim_loop_stats()->dropped_busy);
	check_slot1_holds_image();
	run_teardown(&run);
}

/* A lost datagram or notification while the window fits the buffers the device reported is the link's
 * doing: the window narrows, then grows back to the full width, rather than staying below it for the
 * rest of the upload as it must for a device that ran out of buffers. */
static void test_window_recovers_after_link_losses(void)
{
	Run run;

	run_setup(&run, 200 * 1024);
	CHECK_INT(device_learn_limits(run.d), 0); /* buf_count 4: window 3 */
	CHECK_INT((int)run.d->window, 3);
	sim_loop_faults()->drop_request = 6;
	run_upload(&run);
	CHECK_INT(run.r, 0);
	CHECK(run.res.has_match && run.res.match);
	CHECK_INT((int)sim_loop_stats()->max_outstanding_after_drop, 3);
	check_slot1_holds_image();
	run_teardown(&run);
}

/* A device without MCUmgr params and 128-byte buffers (smp_svr built so, an interop fixture) cuts the
 * guessed 384-byte first chunk and answers rc 9: the engine halves the frame until the device takes it;
 * with --window 3 the frames sent behind the first were cut too, and their rc 9 ends nothing. */
static void test_guessed_frame_shrinks_on_rc9(void)
{
	for (size_t window = 0; window <= 3; window += 3) {
		SimConfig cfg;
		Run run;

		run_setup(&run, 8 * 1024);
		device_free(run.d);
		sim_config_default(&cfg);
		cfg.buf_size = 128;
		cfg.buf_count = 2;
		cfg.params = false;
		CHECK_INT(sim_loop_device(run.event, &cfg, &run.d), 0);
		CHECK_INT(device_learn_limits(run.d), 0);
		CHECK(!run.d->params_known);
		run.o.window = window;
		run_upload(&run);
		tap_checkf(run.r == 0, __FILE__, __LINE__, "window %zu: upload_run = %d", window, run.r);
		CHECK_INT(run.res.frame_size, 128);
		CHECK(run.res.has_match && run.res.match);
		check_slot1_holds_image();
		run_teardown(&run);
	}
}

/* After a lost link the device continues its upload: far fewer frames than starting over. */
static void test_resume_after_lost_link(void)
{
	Run run;
	unsigned clean;

	run_setup(&run, 200 * 1024);
	run_upload(&run);
	clean = sim_loop_stats()->requests;
	run_teardown(&run);

	run_setup(&run, 200 * 1024);
	sim_loop_faults()->lose_link_at = 60;
	run_upload(&run);
	CHECK_INT(run.r, 0);
	CHECK_INT(run.res.reconnects, 1);
	/* A restart from zero would cost ~60 extra frames; a resume only the window and the probe. */
	CHECK(sim_loop_stats()->requests < clean + 12);
	run_teardown(&run);
}

/* A second upload_run of a half-uploaded file resumes where the device stands. */
static void test_resume_across_runs(void)
{
	Run run;

	run_setup(&run, 200 * 1024);
	sim_loop_faults()->lose_link_at = 40;
	run.o.max_reconnects = 0;
	run_upload(&run);
	CHECK_INT(run.r, UPLOAD_GAVE_UP);
	sim_loop_faults()->lose_link_at = 0;
	CHECK_INT(device_connect(run.d, 1000 * 1000), 0);
	run_upload(&run);
	CHECK_INT(run.r, 0);
	CHECK(run.res.resumed);
	CHECK(run.res.resumed_from > 30 * 2400);
	check_slot1_holds_image();
	run_teardown(&run);
}

/* The first chunk's answer is lost: the chunk goes again, and the device, which took it and the frames
 * behind it, answers with its offset. That is this run's own progress, not an earlier upload's: the
 * result is not a resume, and the resend is counted. */
static void test_lost_first_answer_is_not_a_resume(void)
{
	Run run;

	run_setup(&run, 100 * 1024);
	sim_loop_faults()->garble_answer_at = sim_loop_stats()->answers + 1; /* after the session's own */
	run_upload(&run);
	CHECK_INT(run.r, 0);
	CHECK(!run.res.resumed);
	CHECK_INT(run.res.resumed_from, 0);
	CHECK(run.res.resends >= 1);
	check_slot1_holds_image();
	run_teardown(&run);
}

/* Data corrupted on the way: the device's match is false and the engine says so, and erases the damaged
 * copy, whose hash TLV would otherwise list as the file's. When the erase cannot reach the device, the
 * engine says the copy is still there. */
static void test_corrupted_data_fails_match(void)
{
	Run run;
	SimSlotState s;
	unsigned requests;

	run_setup(&run, 60 * 1024);
	sim_loop_faults()->corrupt_data_at = 12;
	run_upload(&run);
	CHECK_INT(run.r, UPLOAD_MATCH_FAILED);
	CHECK(run.res.has_match && !run.res.match);
	sim_device_slot_state(sim_loop_sim(), 1, &s);
	CHECK(!s.present);
	requests = sim_loop_stats()->requests;
	run_teardown(&run);

	run_setup(&run, 60 * 1024);
	sim_loop_faults()->corrupt_data_at = 12;
	sim_loop_faults()->lose_link_at = requests; /* the erase, the last request */
	run.o.max_reconnects = 0;
	run_upload(&run);
	CHECK_INT(run.r, UPLOAD_MATCH_FAILED_KEPT);
	sim_device_slot_state(sim_loop_sim(), 1, &s);
	CHECK(s.present);
	run_teardown(&run);
}

/* The same file again: the device already has all of it and says so on the first chunk. */
static void test_second_upload_is_instant(void)
{
	Run run;
	unsigned before;

	run_setup(&run, 100 * 1024);
	run_upload(&run);
	CHECK_INT(run.r, 0);
	before = sim_loop_stats()->requests;
	run_upload(&run);
	CHECK_INT(run.r, 0);
	CHECK(run.res.has_match && run.res.match);
	/* The first chunk's answer says it is all there; only the window sent behind it went out too. */
	CHECK(sim_loop_stats()->requests - before <= 3);
	CHECK_INT(run.res.bytes, image_len);
	run_teardown(&run);
}

/* A device error on the first chunk (image too large for the slot) is reported, not retried. */
static void test_device_error_is_reported(void)
{
	static uint8_t big[0x38000 + 1024];
	Run run;

	run_setup(&run, 1024);
	image_len = sim_loop_make_image(big, sizeof(big), 0x37000, 1, 0, 1);
	run.r = upload_run(run.d, big, image_len, &run.o, &run.res);
	CHECK_INT(run.r, DEVICE_STATUS_ERROR);
	CHECK_INT(run.d->status.kind, SMP_STATUS_GROUP);
	CHECK_INT(run.d->status.rc, 30);
	run_teardown(&run);
}

int main(void)
{
	static const TapTest tests[] = {
		TAP_TEST(test_clean_upload_fills_frames),
		TAP_TEST(test_window_and_frame_overrides),
		TAP_TEST(test_window_stays_below_a_lossy_width),
		TAP_TEST(test_window_recovers_after_link_losses),
		TAP_TEST(test_guessed_frame_shrinks_on_rc9),
		TAP_TEST(test_faults_end_verified),
		TAP_TEST(test_resume_after_lost_link),
		TAP_TEST(test_resume_across_runs),
		TAP_TEST(test_lost_first_answer_is_not_a_resume),
		TAP_TEST(test_corrupted_data_fails_match),
		TAP_TEST(test_second_upload_is_instant),
		TAP_TEST(test_device_error_is_reported),
	};
	return tap_run(tests, ARRAY_SIZE(tests));
}
