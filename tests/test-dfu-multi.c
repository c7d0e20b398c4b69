/* SPDX-License-Identifier: MIT */
/* dfu_run_multi against the in-process simulated device with two images (an application and a network
 * core): together with one reset, nothing marked unless all are verified, a downgrade of one image refused
 * before anything is sent, a revert named by image, and a rerun that sends nothing. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dfu.h"
#include "image.h"
#include "sim-loop.h"
#include "tap.h"
#include "util.h"

#define IMAGE_MAX (64 * 1024)

typedef struct Flow {
	sd_event *event;
	Device *d;
	DfuOptions o;
	DfuMultiResult res;
	uint8_t bytes[2][IMAGE_MAX];
	Image parsed[2];
	DfuImage imgs[2];
	unsigned resets;
	char done[sizeof(((DfuEvent *)0)->message)]; /* the last line */
	int r;
} Flow;

static void on_event(void *userdata, const DfuEvent *e)
{
	Flow *f = userdata;

	if (strcmp(e->step, "reset") == 0)
		f->resets++;
	if (strcmp(e->step, "done") == 0)
		snprintf(f->done, sizeof(f->done), "%s", e->message);
}

static void flow_image(Flow *f, size_t i, uint8_t major, const char *version)
{
	size_t n = sim_loop_make_image(f->bytes[i], IMAGE_MAX, 24 * 1024, major, 0, (uint8_t)(5 + i));

	CHECK_INT(image_parse(f->bytes[i], n, &f->parsed[i], NULL, 0), 0);
	f->imgs[i] = (DfuImage){ .data = f->bytes[i], .size = n, .hash = f->parsed[i].hash,
				 .hash_len = f->parsed[i].hash_len, .version = version, .image = (uint32_t)i };
}

static Flow *flow_setup(const SimConfig *base, DfuMode mode)
{
	Flow *f = calloc(1, sizeof(*f));
	SimConfig cfg;

	if (base)
		cfg = *base;
	else
		sim_config_default(&cfg);
	cfg.images = 2;
	flow_image(f, 0, 2, "2.0.0");
	flow_image(f, 1, 3, "3.0.0");
	CHECK_INT(sd_event_new(&f->event), 0);
	CHECK_INT(sim_loop_device(f->event, &cfg, &f->d), 0);
	f->o = (DfuOptions){ .mode = mode, .reset_timeout_usec = 5 * 1000 * 1000, .event = on_event, .userdata = f };
	upload_options_default(&f->o.upload);
	f->o.upload.chunk_timeout_usec = 200 * 1000;
	f->o.upload.first_timeout_usec = 500 * 1000;
	return f;
}

static void flow_run(Flow *f)
{
	f->r = dfu_run_multi(f->d, f->imgs, 2, &f->o, &f->res);
}

static void flow_teardown(Flow *f)
{
	device_free(f->d);
	sd_event_unref(f->event);
	free(f);
}

/* Global slot s (image 1 has slots 2 and 3) holds image i of the flow. */
static bool slot_holds(const Flow *f, unsigned s, size_t i, SimSlotState *st)
{
	sim_device_slot_state(sim_loop_sim(), s, st);
	return st->present && st->hash_len == f->parsed[i].hash_len &&
	       memcmp(st->hash, f->parsed[i].hash, st->hash_len) == 0;
}

/* Both images uploaded, marked, one reset, both run confirmed; a rerun sends nothing. */
static void test_two_images_one_reset(void)
{
	Flow *f = flow_setup(NULL, DFU_TEST_AND_CONFIRM);
	SimSlotState s;
	unsigned requests;

	flow_run(f);
	CHECK_INT(f->r, 0);
	CHECK_INT(f->resets, 1);
	CHECK(f->res.reset);
	for (size_t i = 0; i < 2; i++) {
		CHECK(f->res.images[i].uploaded && f->res.images[i].marked);
		CHECK(f->res.images[i].running && f->res.images[i].confirmed);
		CHECK(slot_holds(f, (unsigned)(2 * i), i, &s) && s.active && s.confirmed);
	}
	requests = sim_loop_stats()->requests;
	flow_run(f);
	CHECK_INT(f->r, 0);
	CHECK(f->res.images[0].already_running && f->res.images[1].already_running && !f->res.reset);
	CHECK(!f->res.images[0].uploaded && !f->res.images[1].uploaded);
	CHECK_INT(sim_loop_stats()->requests - requests, 2); /* OS info (not serial recovery), the image list */
	flow_teardown(f);
}

/* Image 0 waits in its slot, image 1's upload is corrupted: neither is marked, image 1's copy is erased. */
static void test_nothing_marked_unless_all_verified(void)
{
	Flow *f = flow_setup(NULL, DFU_UPLOAD_ONLY);
	SimSlotState s;

	f->r = dfu_run_multi(f->d, f->imgs, 1, &f->o, &f->res);
	CHECK_INT(f->r, 0);
	CHECK(slot_holds(f, 1, 0, &s) && !s.pending);
	f->o.mode = DFU_TEST_AND_CONFIRM;
	sim_loop_faults()->corrupt_data_at = sim_loop_stats()->requests + 3;
	flow_run(f);
	CHECK_INT(f->r, UPLOAD_MATCH_FAILED);
	CHECK(f->res.images[0].upload_skipped && !f->res.images[0].marked && !f->res.reset);
	CHECK(slot_holds(f, 1, 0, &s) && !s.pending);
	sim_device_slot_state(sim_loop_sim(), 3, &s);
	CHECK(!s.pending && !s.present); /* image 1's damaged copy erased */
	flow_teardown(f);
}

/* Image 1 older than what image 1 runs: refused before anything is sent, image 0 included. */
static void test_downgrade_of_one_image(void)
{
	Flow *f = flow_setup(NULL, DFU_TEST_AND_CONFIRM);
	SimSlotState s;

	flow_image(f, 1, 0, "0.5.0");
	flow_run(f);
	CHECK_INT(f->r, DFU_DOWNGRADE);
	CHECK(strstr(f->res.message, "image 1: version 0.5.0") != NULL);
	CHECK(!f->res.images[0].uploaded);
	sim_device_slot_state(sim_loop_sim(), 1, &s);
	CHECK(!s.present);
	f->o.allow_downgrade = true;
	flow_run(f);
	CHECK_INT(f->r, 0);
	flow_teardown(f);
}

/* Images that crash are reverted by MCUboot: the outcome names an image. */
static void test_revert_reported(void)
{
	SimConfig cfg;
	Flow *f;

	sim_config_default(&cfg);
	cfg.new_image_crashes = true;
	f = flow_setup(&cfg, DFU_TEST_AND_CONFIRM);
	flow_run(f);
	CHECK_INT(f->r, DFU_REVERTED);
	CHECK(strstr(f->res.message, "after the reset image 0 runs version 1.0.0") != NULL);
	flow_teardown(f);
}

/* A direct-xip pair of version major.0.0 (imgtool --rom-fixed for each slot's address) in imgs[0] and [1]. */
static void flow_xip_pair(Flow *f, uint8_t major, const char *version, bool crossed)
{
	static uint8_t payload[20 * 1024];

	for (size_t i = 0; i < 2; i++) {
		ImageSignSpec spec = { .payload = payload, .payload_len = sizeof(payload),
				       .version = { .major = major }, .rom_fixed = true,
				       .load_addr = (i == 0) != crossed ? SIM_SLOT0_OFFSET : SIM_SLOT1_OFFSET };
		uint8_t *out;
		size_t n;

		memset(payload, (int)(major + i), sizeof(payload));
		CHECK_INT(image_sign(&spec, &out, &n, NULL, 0), 0);
		memcpy(f->bytes[i], out, n);
		free(out);
		CHECK_INT(image_parse(f->bytes[i], n, &f->parsed[i], NULL, 0), 0);
		f->imgs[i] = (DfuImage){ .data = f->bytes[i], .size = n, .hash = f->parsed[i].hash,
					 .hash_len = f->parsed[i].hash_len, .version = version, .image = 0, .xip = true,
					 .xip_slot = (uint32_t)i };
	}
}

static Flow *flow_setup_xip(bool bootloader_info)
{
	SimConfig cfg;
	Flow *f;

	sim_config_default(&cfg);
	cfg.direct_xip = true;
	cfg.bootloader_info = bootloader_info;
	f = flow_setup(&cfg, DFU_TEST_AND_CONFIRM);
	device_free(f->d);
	cfg.images = 1;
	CHECK_INT(sim_loop_device(f->event, &cfg, &f->d), 0);
	return f;
}

/* Direct-xip: the variant for the slot that does not run goes there and runs there, twice in a row, so
 * both slots get used; nothing is marked (img_mgmt has no state write), the list reads back confirmed. The
 * same without bootloader info (Zephyr 4.1's default): the list shows direct-xip, the new variant listed
 * pending and permanent with no state write, then slot 1 running. */
static void test_xip_variant_for_the_other_slot(void)
{
	for (int info = 1; info >= 0; info--) {
		Flow *f = flow_setup_xip(info);
		SimSlotState s;

		flow_xip_pair(f, 2, "2.0.0", false);
		flow_run(f);
		CHECK_INT(f->r, 0);
		CHECK_INT(f->res.count, 1);
		CHECK(f->res.images[0].input == 1 && f->res.images[0].slot == 1 && f->res.images[0].uploaded);
		CHECK(!f->res.images[0].marked && f->res.images[0].running && f->res.images[0].confirmed);
		CHECK(slot_holds(f, 1, 1, &s) && s.active && s.confirmed);
		flow_xip_pair(f, 3, "3.0.0", false);
		flow_run(f);
		CHECK_INT(f->r, 0);
		CHECK(f->res.images[0].input == 0 && f->res.images[0].slot == 0 && f->res.images[0].running);
		CHECK(slot_holds(f, 0, 0, &s) && s.active && s.confirmed);
		sim_device_slot_state(sim_loop_sim(), 1, &s);
		CHECK(!s.active && !s.pending && strcmp(s.version, "2.0.0") == 0);
		flow_run(f);
		CHECK_INT(f->r, 0);
		CHECK(f->res.images[0].already_running && f->res.images[0].input == 0 && !f->res.reset);
		flow_teardown(f);
	}
}

/* Test-only: the last line says what the device lists, unconfirmed after a swap, confirmed for good on
 * direct-xip without revert. */
static void test_test_only_last_line_as_listed(void)
{
	Flow *f = flow_setup(NULL, DFU_TEST_ONLY);
	SimSlotState s;

	flow_run(f);
	CHECK_INT(f->r, 0);
	CHECK(!f->res.images[0].confirmed && strstr(f->done, "2 images run, unconfirmed (test-only)") != NULL);
	flow_teardown(f);
	f = flow_setup_xip(true);
	f->o.mode = DFU_TEST_ONLY;
	flow_xip_pair(f, 2, "2.0.0", false);
	flow_run(f);
	CHECK_INT(f->r, 0);
	CHECK(slot_holds(f, 1, 1, &s) && s.active && s.confirmed && f->res.images[0].confirmed);
	CHECK(strstr(f->done, "1 image runs, confirmed (test-only, but MCUboot direct-xip") != NULL);
	flow_teardown(f);
}

/* Variants each linked for the wrong slot: MCUboot passes the new one over (boot_rom_address_check), the
 * old one keeps running, and the outcome says so. */
static void test_xip_wrong_variant_not_booted(void)
{
	Flow *f = flow_setup_xip(true);
	SimSlotState s;

	flow_xip_pair(f, 2, "2.0.0", true);
	flow_run(f);
	CHECK_INT(f->r, DFU_REVERTED);
	CHECK(strstr(f->res.message, "does not run the new image from slot 1") != NULL);
	sim_device_slot_state(sim_loop_sim(), 0, &s);
	CHECK(s.active && strcmp(s.version, "1.0.0") == 0);
	flow_teardown(f);
}

/* Direct-xip variants for a device whose MCUboot swaps (bootloader info mode 3): refused, nothing sent. */
static void test_xip_package_on_swap_device(void)
{
	Flow *f = flow_setup(NULL, DFU_TEST_AND_CONFIRM);
	SimSlotState s;

	flow_xip_pair(f, 2, "2.0.0", false);
	flow_run(f);
	CHECK_INT(f->r, DFU_XIP_MODE);
	CHECK(strstr(f->res.message, "swap-using-move") != NULL);
	sim_device_slot_state(sim_loop_sim(), 1, &s);
	CHECK(!s.present);
	flow_teardown(f);
}

/* Direct-xip variants for a swapping device that does not say its mode (no bootloader info, Zephyr 4.1's
 * default): the variant for slot 1 lands but is not listed for the next boot, so nothing is marked. */
static void test_xip_package_on_swap_device_without_bootloader_info(void)
{
	SimConfig cfg;
	SimSlotState s;
	Flow *f;

	sim_config_default(&cfg);
	cfg.bootloader_info = false;
	f = flow_setup(&cfg, DFU_CONFIRM_ONLY);
	flow_xip_pair(f, 2, "2.0.0", false);
	flow_run(f);
	CHECK_INT(f->r, DFU_XIP_MODE);
	CHECK(strstr(f->res.message, "CONFIG_MCUMGR_GRP_OS_BOOTLOADER_INFO") != NULL);
	CHECK(!f->res.images[0].marked && !f->res.reset && f->resets == 0);
	CHECK(slot_holds(f, 1, 1, &s) && !s.pending && !s.permanent);
	sim_device_slot_state(sim_loop_sim(), 0, &s);
	CHECK(s.active && strcmp(s.version, "1.0.0") == 0);
	flow_teardown(f);
}

/* Another newer image waits in the slot that does not run: known plain direct-xip (mode 4) takes the upload
 * over it; a device that does not say its mode may be direct-xip with revert, whose img_mgmt refuses it. */
static void test_xip_busy_slot_only_skipped_in_plain_mode(void)
{
	for (int info = 0; info < 2; info++) {
		Flow *f = flow_setup_xip(info);
		SimSlotState s;

		flow_xip_pair(f, 4, "4.0.0", false);
		f->o.mode = DFU_UPLOAD_ONLY;
		flow_run(f);
		CHECK_INT(f->r, 0);
		CHECK(slot_holds(f, 1, 1, &s) && s.pending);
		flow_xip_pair(f, 2, "2.0.0", false);
		f->o.mode = DFU_TEST_AND_CONFIRM;
		flow_run(f);
		CHECK_INT(f->r, info ? 0 : DFU_SLOT_BUSY);
		CHECK(info ? slot_holds(f, 1, 1, &s) && s.active : !f->res.images[0].uploaded);
		flow_teardown(f);
	}
}

/* Two images for one image number: refused. */
static void test_same_image_twice(void)
{
	Flow *f = flow_setup(NULL, DFU_TEST_AND_CONFIRM);
	unsigned requests = sim_loop_stats()->requests;

	f->imgs[1].image = 0;
	flow_run(f);
	CHECK_INT(f->r, -EINVAL);
	f->imgs[0].xip = f->imgs[1].xip = true; /* two variants for one slot */
	flow_run(f);
	CHECK_INT(f->r, -EINVAL);
	CHECK_INT(sim_loop_stats()->requests, requests);
	flow_teardown(f);
}

int main(void)
{
	static const TapTest tests[] = {
		TAP_TEST(test_two_images_one_reset),
		TAP_TEST(test_nothing_marked_unless_all_verified),
		TAP_TEST(test_downgrade_of_one_image),
		TAP_TEST(test_revert_reported),
		TAP_TEST(test_same_image_twice),
		TAP_TEST(test_xip_variant_for_the_other_slot),
		TAP_TEST(test_xip_wrong_variant_not_booted),
		TAP_TEST(test_test_only_last_line_as_listed),
		TAP_TEST(test_xip_package_on_swap_device),
		TAP_TEST(test_xip_package_on_swap_device_without_bootloader_info),
		TAP_TEST(test_xip_busy_slot_only_skipped_in_plain_mode),
	};
	return tap_run(tests, ARRAY_SIZE(tests));
}
