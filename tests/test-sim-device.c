/* SPDX-License-Identifier: MIT */
/* The simulated device at the byte level: Zephyr 4.1's framing and answers (REFERENCE.md §11), and the
 * flash timing of the nRF52833 (§14). */
#include <errno.h>
#include <string.h>

#include "mgmt.h"
#include "sim-device.h"
#include "smp-cbor.h"
#include "smp.h"
#include "tap.h"
#include "util.h"

typedef struct Answer {
	uint8_t frame[4096];
	size_t len;
	unsigned count;
} Answer;

static void on_emit(void *userdata, const uint8_t *frame, size_t len)
{
	Answer *a = userdata;

	a->count++;
	if (len <= sizeof(a->frame)) {
		memcpy(a->frame, frame, len);
		a->len = len;
	}
}

static uint64_t ask(SimDevice *dev, uint8_t version, uint8_t op, uint16_t group, uint8_t id, const uint8_t *body,
		    size_t body_len, Answer *a)
{
	uint8_t frame[4096];
	SmpHeader h = { .op = op, .version = version, .len = (uint16_t)body_len, .group = group, .seq = 42, .id = id };

	smp_header_encode(&h, frame);
	memcpy(frame + SMP_HEADER_SIZE, body, body_len);
	*a = (Answer){ .len = 0 };
	return sim_device_process(dev, frame, SMP_HEADER_SIZE + body_len, on_emit, a);
}

static SimDevice *device(void)
{
	SimConfig cfg;
	SimDevice *dev = NULL;

	sim_config_default(&cfg);
	CHECK_INT(sim_device_new(&cfg, &dev), 0);
	return dev;
}

/* Params: indefinite map, no rc, header copied with op + 1 (the seed device's answer, in Zephyr 4.1 form). */
static void test_params_answer_bytes(void)
{
	static const uint8_t want[] = { 0x09, 0x00, 0x00, 0x19, 0x00, 0x00, 0x2a, 0x06, 0xbf, 0x68, 'b', 'u', 'f', '_',
					's', 'i', 'z', 'e', 0x19, 0x09, 0xab, 0x69, 'b', 'u', 'f', '_', 'c', 'o', 'u',
					'n', 't', 0x04, 0xff };
	SimDevice *dev = device();
	Answer a;

	ask(dev, SMP_VERSION_2, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_PARAMS, (const uint8_t *)"\xa0", 1, &a);
	CHECK_INT(a.count, 1);
	CHECK_INT(a.len, sizeof(want));
	CHECK_MEM(a.frame, want, sizeof(want));
	sim_device_free(dev);
}

/* Framing errors: over buf_size rc 9, version 3 rc 13, unknown group rc 8, an answer too big rc 7. */
static void test_framing_errors(void)
{
	static uint8_t big[3000];
	SimDevice *dev = device();
	uint8_t body[2600];
	Answer a;
	int n;

	ask(dev, SMP_VERSION_2, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_ECHO, big, 2475 - SMP_HEADER_SIZE + 1, &a);
	CHECK(a.len == 14 && memcmp(a.frame + 8, "\xbf\x62rc\x09\xff", 6) == 0);
	ask(dev, 3, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_PARAMS, (const uint8_t *)"\xa0", 1, &a);
	CHECK(a.len == 14 && a.frame[12] == 13);
	ask(dev, SMP_VERSION_2, SMP_OP_READ, 77, 0, (const uint8_t *)"\xa0", 1, &a);
	CHECK(a.len == 14 && a.frame[12] == 8);
	/* A request of exactly buf_size is taken; its echo, one byte longer (bf…ff), does not fit. */
	memset(big, 'e', 2461);
	big[2461] = 0;
	n = mgmt_build_echo(body, sizeof(body), (const char *)big);
	ask(dev, SMP_VERSION_2, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_ECHO, body, (size_t)n, &a);
	CHECK(a.len == 14 && a.frame[12] == 7);
	sim_device_free(dev);
}

/* An image error is err{group, rc} over v2 and a translated rc with rsn over v1. */
static void test_error_forms(void)
{
	SimDevice *dev = device();
	uint8_t body[64], hash[32] = { 0 };
	int n = mgmt_build_image_state_write(body, sizeof(body), hash, 32, false);
	cbor_item_t *m = NULL;
	Answer a;

	ask(dev, SMP_VERSION_2, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMAGE_STATE, body, (size_t)n, &a);
	CHECK_INT(smp_cbor_decode(a.frame + 8, a.len - 8, &m), 0);
	CHECK(smp_cbor_map_get(m, "err") != NULL);
	cbor_decref(&m);
	ask(dev, SMP_VERSION_1, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMAGE_STATE, body, (size_t)n, &a);
	CHECK_INT(a.frame[0] >> 3 & 3, SMP_VERSION_1);
	CHECK_INT(smp_cbor_decode(a.frame + 8, a.len - 8, &m), 0);
	CHECK(smp_cbor_map_get(m, "err") == NULL && smp_cbor_map_get(m, "rc") != NULL);
	CHECK(smp_cbor_map_get(m, "rsn") != NULL);
	cbor_decref(&m);
	sim_device_free(dev);
}

/* A chunk that starts a page pays the page erase (89.7 ms) plus 41 µs per word, progressively. */
static void test_upload_flash_timing(void)
{
	static uint8_t data[4096];
	SimDevice *dev = device();
	uint8_t body[3000], sha[32] = { 0 };
	MgmtUploadChunk c = { .first = true, .len = 8192, .sha = sha, .sha_len = 32, .data = data, .data_len = 2048 };
	uint64_t t;
	Answer a;
	int n;

	data[0] = 0x3d; data[1] = 0xb8; data[2] = 0xf3; data[3] = 0x96;
	n = mgmt_build_upload_chunk(body, sizeof(body), &c);
	t = ask(dev, SMP_VERSION_2, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMAGE_UPLOAD, body, (size_t)n, &a);
	CHECK_INT(t, 89700 + 512 * 41);
	CHECK_INT(sim_device_upload_offset(dev), 2048);
	c = (MgmtUploadChunk){ .off = 2048, .data = data, .data_len = 2048 };
	n = mgmt_build_upload_chunk(body, sizeof(body), &c);
	t = ask(dev, SMP_VERSION_2, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMAGE_UPLOAD, body, (size_t)n, &a);
	CHECK_INT(t, 512 * 41);
	/* The same chunk again: a wrong offset, dropped, answered with the expected one, no flash time. */
	t = ask(dev, SMP_VERSION_2, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMAGE_UPLOAD, body, (size_t)n, &a);
	CHECK_INT(t, 0);
	CHECK_INT(sim_device_upload_offset(dev), 4096);
	CHECK_INT(sim_flash_erase_usec(50) + sim_flash_write_usec(204800), 50 * 89700 + 51200 * 41);
	sim_device_free(dev);
}

/* Reset answers {} and then the device is away for the swap; sessions do not survive it. */
static void test_reset(void)
{
	SimDevice *dev = device();
	uint64_t offline = 0;
	Answer a;

	ask(dev, SMP_VERSION_2, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_RESET, (const uint8_t *)"\xa0", 1, &a);
	CHECK(a.len == 10 && a.frame[8] == 0xbf && a.frame[9] == 0xff);
	CHECK(sim_device_take_reset(dev, &offline));
	CHECK(offline >= 250000);
	CHECK(!sim_device_take_reset(dev, &offline));
	sim_device_reboot(dev);
	sim_device_free(dev);
}

int main(void)
{
	static const TapTest tests[] = {
		TAP_TEST(test_params_answer_bytes),
		TAP_TEST(test_framing_errors),
		TAP_TEST(test_error_forms),
		TAP_TEST(test_upload_flash_timing),
		TAP_TEST(test_reset),
	};
	return tap_run(tests, ARRAY_SIZE(tests));
}
