/* SPDX-License-Identifier: MIT */
/* The simulated device at the byte level: Zephyr 4.1's framing and answers (REFERENCE.md §1-5, §11),
 * MCUboot's swap and revert (§13) and the flash timing of the nRF52833 (§14). */
#include <errno.h>
#include <string.h>

#include "image.h"
#include "mgmt.h"
#include "sim-device.h"
#include "smp-cbor.h"
#include "smp-error.h"
#include "smp.h"
#include "tap.h"
#include "util.h"

#define V1 SMP_VERSION_1
#define V2 SMP_VERSION_2
#define PAGE_ERASE 89700u
#define IMAGE_PAYLOAD (60u * 1024)

typedef struct Answer {
	uint8_t frame[4][8192];
	size_t len[4];
	unsigned count;
	uint64_t usec;
	cbor_item_t *body; /* of the first answer */
} Answer;

static void on_emit(void *userdata, const uint8_t *frame, size_t len)
{
	Answer *a = userdata;

	if (a->count < ARRAY_SIZE(a->frame) && len <= sizeof(a->frame[0])) {
		memcpy(a->frame[a->count], frame, len);
		a->len[a->count] = len;
	}
	a->count++;
}

static void answer_clear(Answer *a)
{
	if (a->body)
		cbor_decref(&a->body);
	a->count = 0;
	a->usec = 0;
}

static void feed(SimDevice *dev, const uint8_t *buf, size_t len, Answer *a)
{
	answer_clear(a);
	a->usec = sim_device_process(dev, buf, len, on_emit, a);
	if (a->count > 0 && a->len[0] >= SMP_HEADER_SIZE)
		smp_cbor_decode(a->frame[0] + SMP_HEADER_SIZE, a->len[0] - SMP_HEADER_SIZE, &a->body);
}

static size_t frame(uint8_t *out, uint8_t version, uint8_t op, uint16_t group, uint8_t id, const uint8_t *body,
		    size_t body_len)
{
	SmpHeader h = { .op = op, .version = version, .len = (uint16_t)body_len, .group = group, .seq = 42, .id = id };

	smp_header_encode(&h, out);
	memcpy(out + SMP_HEADER_SIZE, body, body_len);
	return SMP_HEADER_SIZE + body_len;
}

static void ask(SimDevice *dev, uint8_t version, uint8_t op, uint16_t group, uint8_t id, const uint8_t *body,
		size_t body_len, Answer *a)
{
	static uint8_t buf[70000];

	feed(dev, buf, frame(buf, version, op, group, id, body, body_len), a);
}

#define ASK_EMPTY(dev, v, op, g, id, a) ask(dev, v, op, g, id, (const uint8_t *)"\xa0", 1, a)

/* Top-level "rc" of the first answer, or -1 when it has none. */
static int64_t answer_rc(const Answer *a)
{
	int64_t rc = -1;

	if (!a->body || smp_cbor_get_int(a->body, "rc", &rc) < 0)
		return -1;
	return rc;
}

/* err.rc of a v2 group error (with its group), or -1. */
static int64_t answer_err(const Answer *a, uint64_t *group)
{
	const cbor_item_t *err = a->body ? smp_cbor_map_get(a->body, "err") : NULL;
	int64_t rc = -1;

	if (!err || smp_cbor_get_uint(err, "group", group) < 0 || smp_cbor_get_int(err, "rc", &rc) < 0)
		return -1;
	return rc;
}

static uint64_t answer_uint(const Answer *a, const char *key)
{
	uint64_t v = UINT64_MAX;

	if (a->body)
		smp_cbor_get_uint(a->body, key, &v);
	return v;
}

/* "match" of the answer: 1 true, 0 false, -1 absent. */
static int answer_match(const Answer *a)
{
	bool v;

	return a->body && smp_cbor_get_bool(a->body, "match", &v) == 0 ? v : -1;
}

static SimDevice *device_with(void (*tweak)(SimConfig *cfg))
{
	SimConfig cfg;
	SimDevice *dev = NULL;

	sim_config_default(&cfg);
	if (tweak)
		tweak(&cfg);
	CHECK_INT(sim_device_new(&cfg, &dev), 0);
	return dev;
}

static SimDevice *device(void)
{
	return device_with(NULL);
}

static void device_done(SimDevice *dev, Answer *a)
{
	answer_clear(a);
	sim_device_free(dev);
}

/* --- upload helpers --- */

typedef struct Upload {
	uint8_t image[256 * 1024];
	size_t len;
	uint8_t sha[32];
} Upload;

static void upload_prepare(Upload *u, const char *version, uint8_t seed)
{
	u->len = sim_make_image(u->image, sizeof(u->image), IMAGE_PAYLOAD, version, seed);
	CHECK(u->len > IMAGE_PAYLOAD);
	image_sha256(u->image, u->len, u->sha);
}

static void send_chunk(SimDevice *dev, uint8_t version, const MgmtUploadChunk *c, Answer *a)
{
	uint8_t body[4096];
	int n = mgmt_build_upload_chunk(body, sizeof(body), c);

	CHECK(n > 0);
	ask(dev, version, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMAGE_UPLOAD, body, (size_t)(n > 0 ? n : 0), a);
}

static void send_first(SimDevice *dev, const Upload *u, size_t sha_len, size_t n, Answer *a)
{
	MgmtUploadChunk c = { .first = true, .len = u->len, .sha = u->sha, .sha_len = sha_len, .data = u->image,
			      .data_len = n };

	send_chunk(dev, V2, &c, a);
}

static void send_at(SimDevice *dev, const Upload *u, uint64_t off, size_t n, Answer *a)
{
	MgmtUploadChunk c = { .off = off, .data = u->image + off, .data_len = n };

	send_chunk(dev, V2, &c, a);
}

/* The whole image in chunks of `chunk` bytes; returns the device time and leaves the last answer. */
static uint64_t upload_all(SimDevice *dev, const Upload *u, size_t sha_len, size_t chunk, Answer *a)
{
	uint64_t total = 0, off = 0;

	send_first(dev, u, sha_len, chunk, a);
	total += a->usec;
	off = answer_uint(a, "off");
	while (off < u->len && off != UINT64_MAX) {
		send_at(dev, u, off, MIN(chunk, u->len - (size_t)off), a);
		total += a->usec;
		off = answer_uint(a, "off");
	}
	return total;
}

static void state_write(SimDevice *dev, const uint8_t *hash, size_t hash_len, bool confirm, Answer *a)
{
	uint8_t body[128];
	int n = mgmt_build_image_state_write(body, sizeof(body), hash, hash_len, confirm);

	ask(dev, V2, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMAGE_STATE, body, (size_t)n, a);
}

static void slot_hash(const SimDevice *dev, unsigned slot, uint8_t hash[32])
{
	SimSlotState st;

	sim_device_slot_state(dev, slot, &st);
	CHECK(st.present && st.hash_len == 32);
	memcpy(hash, st.hash, 32);
}

static uint64_t reset_and_reboot(SimDevice *dev, Answer *a)
{
	uint64_t offline = 0;

	ASK_EMPTY(dev, V2, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_RESET, a);
	CHECK(sim_device_take_reset(dev, &offline));
	sim_device_reboot(dev);
	return offline;
}

/* ---------------------------------------------------------------------------------------------- */

/* Params: indefinite map, no rc, header copied with op + 1 (the seed device's answer, in Zephyr 4.1 form). */
static void test_params_answer_bytes(void)
{
	static const uint8_t want[] = { 0x09, 0x00, 0x00, 0x19, 0x00, 0x00, 0x2a, 0x06, 0xbf, 0x68, 'b', 'u', 'f', '_',
					's', 'i', 'z', 'e', 0x19, 0x09, 0xab, 0x69, 'b', 'u', 'f', '_', 'c', 'o', 'u',
					'n', 't', 0x04, 0xff };
	SimDevice *dev = device();
	Answer a = { 0 };

	ASK_EMPTY(dev, V2, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_PARAMS, &a);
	CHECK_INT(a.count, 1);
	CHECK_INT(a.len[0], sizeof(want));
	CHECK_MEM(a.frame[0], want, sizeof(want));
	device_done(dev, &a);
}

static void legacy(SimConfig *cfg)
{
	cfg->smp_v2 = false;
	cfg->legacy_rc = true;
}

/* Echo answers {"r": d} byte for byte (bf … ff, no rc); a legacy server adds "rc": 0 and a v1 header. */
static void test_echo_bytes_and_legacy_rc(void)
{
	static const uint8_t want[] = { 0xbf, 0x61, 'r', 0x62, 'h', 'i', 0xff };
	static const uint8_t want_legacy[] = { 0xbf, 0x61, 'r', 0x62, 'h', 'i', 0x62, 'r', 'c', 0x00, 0xff };
	SimDevice *dev = device(), *old = device_with(legacy);
	uint8_t body[32];
	int n = mgmt_build_echo(body, sizeof(body), "hi");
	Answer a = { 0 };

	ask(dev, V2, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_ECHO, body, (size_t)n, &a);
	CHECK_INT(a.len[0], SMP_HEADER_SIZE + sizeof(want));
	CHECK_MEM(a.frame[0] + SMP_HEADER_SIZE, want, sizeof(want));
	CHECK_INT(a.frame[0][0], SMP_VERSION_2 << 3 | SMP_OP_WRITE_RSP);
	ask(old, V2, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_ECHO, body, (size_t)n, &a);
	CHECK_INT(a.len[0], SMP_HEADER_SIZE + sizeof(want_legacy));
	CHECK_MEM(a.frame[0] + SMP_HEADER_SIZE, want_legacy, sizeof(want_legacy));
	CHECK_INT(a.frame[0][0], SMP_OP_WRITE_RSP); /* version 0: a pre-v2 server ignores the version bits */
	/* Echo is readable too, and without "d" echoes "" (os_mgmt_echo). */
	ASK_EMPTY(dev, V2, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_ECHO, &a);
	CHECK_INT(a.len[0], SMP_HEADER_SIZE + 5);
	CHECK_MEM(a.frame[0] + SMP_HEADER_SIZE, "\xbf\x61r\x60\xff", 5);
	device_done(old, &a);
	device_done(dev, &a);
}

/* The answer's version is min(request, 1); 2 and 3 get rc 13 in a v2 header; a legacy server answers v0. */
static void test_versions(void)
{
	static const struct { uint8_t req, rsp; int64_t rc; bool legacy; } cases[] = {
		{ 0, 0, -1, false }, { 1, 1, -1, false }, { 2, 1, 13, false }, { 3, 1, 13, false },
		{ 1, 0, 0, true }, { 3, 0, 0, true },
	};
	Answer a = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		SimDevice *dev = device_with(cases[i].legacy ? legacy : NULL);

		ASK_EMPTY(dev, cases[i].req, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_PARAMS, &a);
		CHECK_INT(a.count, 1);
		CHECK_INT(a.frame[0][0] >> 3 & 3, cases[i].rsp);
		CHECK_INT(answer_rc(&a), cases[i].rc);
		device_done(dev, &a);
	}
}

/* Generic errors are plain {"rc": N} in v1 and v2 alike (§11): 9, 8, 3, 7, and a response op for a response. */
static void test_framing_errors(void)
{
	static uint8_t big[3000];
	SimDevice *dev = device();
	uint8_t body[2600];
	Answer a = { 0 };
	int n;

	for (uint8_t v = V1; v <= V2; v++) {
		ask(dev, v, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_ECHO, big, 2475 - SMP_HEADER_SIZE + 1, &a);
		CHECK(a.len[0] == 14 && memcmp(a.frame[0] + 8, "\xbf\x62rc\x09\xff", 6) == 0);
		ASK_EMPTY(dev, v, SMP_OP_READ, 77, 0, &a);
		CHECK_INT(answer_rc(&a), SMP_RC_ENOTSUP);
		ASK_EMPTY(dev, v, SMP_OP_READ, SMP_GROUP_OS, 99, &a);
		CHECK_INT(answer_rc(&a), SMP_RC_ENOTSUP);
		ASK_EMPTY(dev, v, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_PARAMS, &a); /* params has no write */
		CHECK_INT(answer_rc(&a), SMP_RC_ENOTSUP);
		ask(dev, v, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_ECHO, (const uint8_t *)"\xbf\x61\x64\x78", 4, &a);
		CHECK_INT(answer_rc(&a), SMP_RC_EINVAL); /* truncated CBOR */
	}
	/* A read response sent to the server: rc 8, answered with op 3 (smp_rsp_op). */
	ASK_EMPTY(dev, V2, SMP_OP_READ_RSP, SMP_GROUP_OS, SMP_OS_PARAMS, &a);
	CHECK_INT(answer_rc(&a), SMP_RC_ENOTSUP);
	CHECK_INT(a.frame[0][0] & 7, SMP_OP_WRITE_RSP);
	/* A header that promises more bytes than it brings: rc 9. */
	frame(big, V2, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_PARAMS, (const uint8_t *)"\xa0", 1);
	big[3] = 40;
	feed(dev, big, 9, &a);
	CHECK_INT(answer_rc(&a), SMP_RC_ECORRUPT);
	/* A request of exactly buf_size is taken; its echo, one byte longer (bf…ff), does not fit: rc 7. */
	memset(big, 'e', 2461);
	big[2461] = 0;
	n = mgmt_build_echo(body, sizeof(body), (const char *)big);
	CHECK_INT(n + SMP_HEADER_SIZE, 2475);
	ask(dev, V2, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_ECHO, body, (size_t)n, &a);
	CHECK(a.len[0] == 14 && a.frame[0][12] == SMP_RC_EMSGSIZE);
	/* The same frame size with an indefinite map comes back the same size: it fits. */
	big[2460] = 0;
	n = mgmt_build_echo(body, sizeof(body), (const char *)big);
	body[0] = 0xbf;
	body[n] = 0xff;
	ask(dev, V2, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_ECHO, body, (size_t)n + 1, &a);
	CHECK(a.count == 1 && a.len[0] == 2475 && answer_rc(&a) == -1);
	device_done(dev, &a);
}

/* Several frames in one buffer are answered in order; an error answer ends the buffer; a tail shorter
 * than a header is ignored. */
static void test_several_frames(void)
{
	SimDevice *dev = device();
	uint8_t buf[256], body[32];
	int n = mgmt_build_echo(body, sizeof(body), "one");
	size_t len = 0;
	Answer a = { 0 };

	len += frame(buf + len, V2, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_ECHO, body, (size_t)n);
	len += frame(buf + len, V2, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_PARAMS, (const uint8_t *)"\xa0", 1);
	memcpy(buf + len, "\x01\x02\x03", 3);
	feed(dev, buf, len + 3, &a);
	CHECK_INT(a.count, 2);
	CHECK_INT(a.frame[0][7], SMP_OS_ECHO);
	CHECK_INT(a.frame[1][7], SMP_OS_PARAMS);
	len = frame(buf, V2, SMP_OP_READ, 77, 0, (const uint8_t *)"\xa0", 1);
	len += frame(buf + len, V2, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_PARAMS, (const uint8_t *)"\xa0", 1);
	feed(dev, buf, len, &a);
	CHECK_INT(a.count, 1);
	CHECK_INT(answer_rc(&a), SMP_RC_ENOTSUP);
	device_done(dev, &a);
}

static void quiet(SimConfig *cfg)
{
	cfg->verbose_errors = false;
}

/* Group errors: err{group, rc} over v2; over v1 the translated rc, with rsn only where Zephyr sets one. */
static void test_group_error_forms(void)
{
	static const uint8_t v1_magic[] = { 0xbf, 0x62, 'r', 'c', 0x01, 0x63, 'r', 's', 'n', 0x6e, 'm', 'a', 'g', 'i',
					    'c', ' ', 'm', 'i', 's', 'm', 'a', 't', 'c', 'h', 0xff };
	static const uint8_t v2_magic[] = { 0xbf, 0x63, 'e', 'r', 'r', 0xbf, 0x65, 'g', 'r', 'o', 'u', 'p', 0x01,
					    0x62, 'r', 'c', 0x17, 0xff, 0xff };
	static uint8_t junk[64];
	SimDevice *dev = device(), *terse = device_with(quiet);
	MgmtUploadChunk c = { .first = true, .len = 64, .data = junk, .data_len = 64 };
	uint8_t body[64], hash[32] = { 0 };
	uint64_t group = 0;
	Answer a = { 0 };
	int n;

	send_chunk(dev, V1, &c, &a);
	CHECK_INT(a.len[0], SMP_HEADER_SIZE + sizeof(v1_magic));
	CHECK_MEM(a.frame[0] + SMP_HEADER_SIZE, v1_magic, sizeof(v1_magic));
	send_chunk(dev, V2, &c, &a);
	CHECK_INT(a.len[0], SMP_HEADER_SIZE + sizeof(v2_magic));
	CHECK_MEM(a.frame[0] + SMP_HEADER_SIZE, v2_magic, sizeof(v2_magic));
	send_chunk(terse, V1, &c, &a);
	CHECK(answer_rc(&a) == 1 && smp_cbor_map_get(a.body, "rsn") == NULL);
	/* Hash not found: v1 rc 1 (EUNKNOWN) without a reason. */
	n = mgmt_build_image_state_write(body, sizeof(body), hash, 32, false);
	ask(dev, V1, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMAGE_STATE, body, (size_t)n, &a);
	CHECK(answer_rc(&a) == SMP_RC_EUNKNOWN && smp_cbor_map_get(a.body, "rsn") == NULL);
	ask(dev, V2, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMAGE_STATE, body, (size_t)n, &a);
	CHECK_INT(answer_err(&a, &group), SMP_IMG_HASH_NOT_FOUND);
	CHECK_INT(group, SMP_GROUP_IMAGE);
	/* OS info with an unknown letter: INVALID_FORMAT (2), over v1 EINVAL. */
	n = mgmt_build_os_info(body, sizeof(body), "sx");
	ask(dev, V2, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_INFO, body, (size_t)n, &a);
	CHECK(answer_err(&a, &group) == 2 && group == SMP_GROUP_OS);
	ask(dev, V1, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_INFO, body, (size_t)n, &a);
	CHECK_INT(answer_rc(&a), SMP_RC_EINVAL);
	device_done(terse, &a);
	device_done(dev, &a);
}

static void build_date(SimConfig *cfg)
{
	cfg->info_build_date = true;
}

/* OS info: fixed field order, "a" = all, nothing = "s", "b" only with the build date compiled in. */
static void test_os_info(void)
{
	static const struct { const char *format; const char *want; bool build_date; } cases[] = {
		{ NULL, "Zephyr", false },
		{ "", "Zephyr", false },
		{ "ns", "Zephyr smpctl-sim", false },
		{ "v", "4.1.0", false },
		{ "a", "Zephyr smpctl-sim v4.1.0 4.1.0 arm cortex-m4 nrf52833dk Zephyr", false },
		{ "b", NULL, false },
		{ "bs", "Zephyr 2025-03-07T12:00:00+0000", true },
		{ "q", NULL, false },
	};
	Answer a = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		SimDevice *dev = device_with(cases[i].build_date ? build_date : NULL);
		uint8_t body[64];
		char out[256] = "";
		int n = mgmt_build_os_info(body, sizeof(body), cases[i].format);
		uint64_t group;

		ask(dev, V2, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_INFO, body, (size_t)n, &a);
		if (cases[i].want) {
			CHECK_INT(smp_cbor_get_text(a.body, "output", out, sizeof(out)), 0);
			CHECK_STR(out, cases[i].want);
		} else {
			CHECK_INT(answer_err(&a, &group), 2);
		}
		device_done(dev, &a);
	}
}

static void no_downgrade(SimConfig *cfg)
{
	cfg->no_downgrade = true;
}

/* Bootloader info: MCUboot, mode 3 (swap using move), "no-downgrade" only when built in; an unknown
 * query is a top-level rc 3 even over v2 (os_mgmt returns the group code as the handler's rc). */
static void test_bootloader_info(void)
{
	SimDevice *dev = device(), *strict = device_with(no_downgrade);
	uint8_t body[64];
	char text[32];
	bool flag = false;
	int64_t mode = -1;
	Answer a = { 0 };
	int n = mgmt_build_bootloader_info(body, sizeof(body), NULL);

	ask(dev, V2, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_BOOTLOADER_INFO, body, (size_t)n, &a);
	CHECK_INT(smp_cbor_get_text(a.body, "bootloader", text, sizeof(text)), 0);
	CHECK_STR(text, "MCUboot");
	n = mgmt_build_bootloader_info(body, sizeof(body), "mode");
	ask(dev, V2, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_BOOTLOADER_INFO, body, (size_t)n, &a);
	CHECK_INT(smp_cbor_get_int(a.body, "mode", &mode), 0);
	CHECK_INT(mode, 3);
	CHECK(smp_cbor_map_get(a.body, "no-downgrade") == NULL);
	ask(strict, V2, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_BOOTLOADER_INFO, body, (size_t)n, &a);
	CHECK(smp_cbor_get_bool(a.body, "no-downgrade", &flag) == 0 && flag);
	n = mgmt_build_bootloader_info(body, sizeof(body), "colour");
	ask(dev, V2, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_BOOTLOADER_INFO, body, (size_t)n, &a);
	CHECK_INT(answer_rc(&a), 3);
	device_done(strict, &a);
	device_done(dev, &a);
}

static void no_options(SimConfig *cfg)
{
	cfg->params = false;
	cfg->storage_erase = false;
	cfg->slot_info = false;
	cfg->bootloader_info = false;
}

static void with_datetime(SimConfig *cfg)
{
	cfg->datetime = true;
}

static void reset_veto(SimConfig *cfg)
{
	cfg->reset_veto = true;
}

/* A reset hook that refuses: EBUSY unless "force" is the bool true; the number 1 that smp_group_0.rst
 * describes does not decode (zcbor_bool_decode), so it is refused as if absent. */
static void test_reset_veto_takes_a_bool_force(void)
{
	SimDevice *dev = device_with(reset_veto);
	Answer a = { 0 };

	ASK_EMPTY(dev, V2, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_RESET, &a);
	CHECK_INT(answer_rc(&a), SMP_RC_EBUSY);
	answer_clear(&a);
	ask(dev, V2, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_RESET, (const uint8_t *)"\xa1\x65" "force" "\x01", 8, &a);
	CHECK_INT(answer_rc(&a), SMP_RC_EBUSY);
	CHECK(!sim_device_reset_requested(dev));
	answer_clear(&a);
	ask(dev, V2, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_RESET, (const uint8_t *)"\xa1\x65" "force" "\xf5", 8, &a);
	CHECK_INT(answer_rc(&a), -1);
	CHECK(sim_device_reset_requested(dev));
	device_done(dev, &a);
}

/* Absent features answer rc 8 (params, bootloader info, storage erase, date-time, slot info); storage erase
 * takes 6 pages. */
static void test_optional_commands(void)
{
	SimDevice *dev = device(), *bare = device_with(no_options), *rtc = device_with(with_datetime);
	uint8_t body[64];
	char when[32] = "";
	uint64_t group = 0;
	Answer a = { 0 };
	int n;

	ASK_EMPTY(bare, V2, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_PARAMS, &a);
	CHECK_INT(answer_rc(&a), SMP_RC_ENOTSUP);
	ASK_EMPTY(bare, V2, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_BOOTLOADER_INFO, &a);
	CHECK_INT(answer_rc(&a), SMP_RC_ENOTSUP);
	ASK_EMPTY(bare, V2, SMP_OP_WRITE, SMP_GROUP_ZEPHYR_BASIC, SMP_ZBASIC_ERASE_STORAGE, &a);
	CHECK(answer_rc(&a) == SMP_RC_ENOTSUP && a.usec == 0);
	ASK_EMPTY(dev, V2, SMP_OP_WRITE, SMP_GROUP_ZEPHYR_BASIC, SMP_ZBASIC_ERASE_STORAGE, &a);
	CHECK(a.len[0] == 10 && a.frame[0][8] == 0xbf && a.frame[0][9] == 0xff);
	CHECK_INT(a.usec, 6 * PAGE_ERASE);
	ASK_EMPTY(dev, V2, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_DATETIME, &a);
	CHECK_INT(answer_rc(&a), SMP_RC_ENOTSUP);
	ASK_EMPTY(bare, V2, SMP_OP_READ, SMP_GROUP_IMAGE, SMP_IMAGE_SLOT_INFO, &a);
	CHECK_INT(answer_rc(&a), SMP_RC_ENOTSUP);
	/* With an RTC: not set until written (err RTC_NOT_SET), bad text rc 3, then the written value. */
	ASK_EMPTY(rtc, V2, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_DATETIME, &a);
	CHECK(answer_err(&a, &group) == 4 && group == SMP_GROUP_OS);
	n = mgmt_build_datetime_set(body, sizeof(body), "2025-13-01T00:00:00");
	ask(rtc, V2, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_DATETIME, body, (size_t)n, &a);
	CHECK_INT(answer_rc(&a), SMP_RC_EINVAL);
	n = mgmt_build_datetime_set(body, sizeof(body), "2025-03-07T10:11:12");
	ask(rtc, V2, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_DATETIME, body, (size_t)n, &a);
	CHECK(a.count == 1 && answer_rc(&a) == -1);
	ASK_EMPTY(rtc, V2, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_DATETIME, &a);
	CHECK_INT(smp_cbor_get_text(a.body, "datetime", when, sizeof(when)), 0);
	CHECK_STR(when, "2025-03-07T10:11:12");
	device_done(rtc, &a);
	device_done(bare, &a);
	device_done(dev, &a);
}

/* Writes a body by hand: upload chunks with fields missing or malformed. */
static size_t upload_body(uint8_t *out, size_t size, int off, int len, const uint8_t *sha, size_t sha_len,
			  const uint8_t *data, size_t data_len, bool upgrade)
{
	SmpCborWriter w;

	smp_cbor_writer_init(&w, out, size);
	smp_cbor_put_indef_map(&w);
	if (off >= 0) {
		smp_cbor_put_text(&w, "off");
		smp_cbor_put_uint(&w, (uint64_t)off);
	}
	if (len >= 0) {
		smp_cbor_put_text(&w, "len");
		smp_cbor_put_uint(&w, (uint64_t)len);
	}
	if (sha) {
		smp_cbor_put_text(&w, "sha");
		smp_cbor_put_bytes(&w, sha, sha_len);
	}
	if (upgrade) {
		smp_cbor_put_text(&w, "upgrade");
		smp_cbor_put_bool(&w, true);
	}
	smp_cbor_put_text(&w, "data");
	smp_cbor_put_bytes(&w, data, data_len);
	smp_cbor_put_break(&w);
	return w.len;
}

/* Upload checks in Zephyr's order, with the image group codes of §11; each failure drops the session. */
static void test_upload_errors(void)
{
	static Upload u, old;
	static uint8_t bad[64];
	uint8_t body[3000], sha[40] = { 0 };
	SimDevice *dev = device();
	uint64_t group = 0;
	Answer a = { 0 };
	struct {
		int off, len;
		const uint8_t *data;
		size_t data_len, sha_len;
		bool upgrade;
		int64_t want;
	} cases[] = {
		{ -1, 4096, u.image, 512, 0, false, SMP_IMG_INVALID_OFFSET },
		{ 0, -1, u.image, 512, 0, false, SMP_IMG_INVALID_LENGTH },
		{ 0, 4096, u.image, 16, 0, false, SMP_IMG_INVALID_IMAGE_HEADER },
		{ 0, 4096, bad, 64, 0, false, SMP_IMG_INVALID_IMAGE_HEADER_MAGIC },
		{ 0, 4096, u.image, 512, 33, false, SMP_IMG_INVALID_HASH },
		{ 0, SIM_SLOT_SIZE + 1, u.image, 512, 0, false, SMP_IMG_INVALID_IMAGE_TOO_LARGE },
		{ 0, 4096, old.image, 512, 0, true, SMP_IMG_CURRENT_VERSION_IS_NEWER },
	};

	upload_prepare(&u, "2.0.0", 3);
	upload_prepare(&old, "1.0.0+7", 4); /* same major.minor.revision as the running 1.0.0: not newer */
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t n = upload_body(body, sizeof(body), cases[i].off, cases[i].len, cases[i].sha_len ? sha : NULL,
				       cases[i].sha_len, cases[i].data, cases[i].data_len, cases[i].upgrade);

		send_first(dev, &u, 32, 1024, &a); /* a session that the failure must drop */
		CHECK_INT(sim_device_upload_offset(dev), 1024);
		ask(dev, V2, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMAGE_UPLOAD, body, n, &a);
		tap_checkf(answer_err(&a, &group) == cases[i].want && group == SMP_GROUP_IMAGE, __FILE__, __LINE__,
			   "case %zu: err %lld", i, (long long)answer_err(&a, &group));
		CHECK_INT(sim_device_upload_offset(dev), 0);
	}
	/* Upgrade with a newer image is fine; overrun (off + data > len) is 31 and the next chunk gets off 0. */
	send_chunk(dev, V2, &(MgmtUploadChunk){ .first = true, .len = u.len, .upgrade = true, .data = u.image,
						 .data_len = 1024 }, &a);
	CHECK_INT(answer_uint(&a, "off"), 1024);
	send_chunk(dev, V2, &(MgmtUploadChunk){ .first = true, .len = 2048, .data = u.image, .data_len = 1024 }, &a);
	send_at(dev, &u, 1024, 64, &a);
	CHECK_INT(answer_uint(&a, "off"), 1088);
	send_at(dev, &u, 1088, 961, &a);
	CHECK_INT(answer_err(&a, &group), SMP_IMG_INVALID_IMAGE_DATA_OVERRUN);
	send_at(dev, &u, 1088, 64, &a);
	CHECK_INT(answer_uint(&a, "off"), 0);
	/* A field of the wrong type is rc 3 (decode failure), and the session survives it. */
	send_first(dev, &u, 32, 1024, &a);
	ask(dev, V2, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMAGE_UPLOAD, (const uint8_t *)"\xbf\x63off\x20\xff", 7, &a);
	CHECK_INT(answer_rc(&a), SMP_RC_EINVAL);
	CHECK_INT(sim_device_upload_offset(dev), 1024);
	device_done(dev, &a);
}

/* Expected device time of one chunk with progressive erase: pages first reached, then the words. */
static uint64_t chunk_usec(uint64_t off, size_t n, uint64_t *next_page)
{
	uint64_t t = sim_flash_write_usec(n);

	while (*next_page * SIM_PAGE_SIZE < off + n) {
		t += PAGE_ERASE;
		(*next_page)++;
	}
	return t;
}

static void progressive(SimConfig *cfg)
{
	cfg->progressive_erase = true;
}

/* A whole upload with progressive erase (CONFIG_IMG_ERASE_PROGRESSIVELY, off in the firmware since the
 * erase-ahead issue): every chunk costs exactly its pages and words (§14), the last one also the trailer
 * page; "match" only on the last answer; the slot then lists the new image. */
static void test_upload_progressive_timing(void)
{
	static Upload u;
	SimDevice *dev = device_with(progressive);
	uint64_t off = 0, next_page = 0, total = 0, writes = sim_flash_write_usec(2000);
	SimSlotState st;
	Image img;
	Answer a = { 0 };

	upload_prepare(&u, "2.0.0", 5);
	send_first(dev, &u, 32, 2000, &a);
	CHECK_INT(a.usec, chunk_usec(0, 2000, &next_page));
	CHECK_INT(answer_match(&a), -1);
	total += a.usec;
	off = 2000;
	while (off < u.len) {
		size_t n = MIN((size_t)2400, u.len - (size_t)off);
		uint64_t want = chunk_usec(off, n, &next_page) + (off + n == u.len ? PAGE_ERASE : 0);

		send_at(dev, &u, off, n, &a);
		tap_checkf(a.usec == want, __FILE__, __LINE__, "chunk at %llu: %llu µs, want %llu",
			   (unsigned long long)off, (unsigned long long)a.usec, (unsigned long long)want);
		off += n;
		writes += sim_flash_write_usec(n);
		CHECK_INT(answer_uint(&a, "off"), off);
		CHECK_INT(answer_match(&a), off == u.len ? 1 : -1);
		total += a.usec;
	}
	CHECK_INT(total, ((u.len + SIM_PAGE_SIZE - 1) / SIM_PAGE_SIZE + 1) * PAGE_ERASE + writes);
	CHECK_INT(image_parse(u.image, u.len, &img, NULL, 0), 0);
	sim_device_slot_state(dev, 1, &st);
	CHECK(st.present && !st.pending && !st.active);
	CHECK_STR(st.version, "2.0.0");
	CHECK_MEM(st.hash, img.hash, 32);
	CHECK_INT(sim_device_upload_offset(dev), 0);
	/* The model's figures: 200 KiB = 50 pages and 51200 words; a swap of it about 20 s. */
	CHECK_INT(sim_flash_erase_usec(50) + sim_flash_write_usec(204800), 50 * 89700 + 51200 * 41);
	CHECK(sim_swap_usec(200 * 1024) > 19000000 && sim_swap_usec(200 * 1024) < 21000000);
	device_done(dev, &a);
}

/* Without progressive erase (the default, as the firmware) the first chunk erases ceil(len/4096) pages
 * and the trailer page, but only when slot 1 holds data; later chunks cost their words only. */
static void test_upload_up_front_erase(void)
{
	static Upload u, v;
	SimDevice *dev = device();
	uint64_t pages;
	Answer a = { 0 };

	upload_prepare(&u, "2.0.0", 6);
	upload_prepare(&v, "2.1.0", 7);
	pages = (u.len + SIM_PAGE_SIZE - 1) / SIM_PAGE_SIZE;
	send_first(dev, &u, 32, 1000, &a);
	CHECK_INT(a.usec, sim_flash_write_usec(1000)); /* slot 1 reads erased: nothing to erase */
	upload_all(dev, &u, 32, 2048, &a);
	CHECK_INT(answer_match(&a), 1);
	send_first(dev, &v, 32, 1000, &a);
	CHECK_INT(a.usec, (pages + 1) * PAGE_ERASE + sim_flash_write_usec(1000));
	send_at(dev, &v, 1000, 2048, &a);
	CHECK_INT(a.usec, sim_flash_write_usec(2048));
	device_done(dev, &a);
}

/* Resume: a first chunk with the session's sha answers its offset; another sha or none starts afresh.
 * Wrong offsets are dropped and answered with the expected one; empty data returns the offset. */
static void test_upload_resume_and_offsets(void)
{
	static Upload u, other;
	SimDevice *dev = device();
	Answer a = { 0 };

	upload_prepare(&u, "2.0.0", 8);
	upload_prepare(&other, "2.0.1", 9);
	send_first(dev, &u, 32, 1500, &a);
	send_at(dev, &u, 1500, 1500, &a);
	CHECK_INT(answer_uint(&a, "off"), 3000);
	send_first(dev, &u, 32, 1500, &a);
	CHECK(answer_uint(&a, "off") == 3000 && a.usec == 0);
	send_first(dev, &u, 8, 1500, &a); /* a shorter sha is another sha */
	CHECK_INT(answer_uint(&a, "off"), 1500);
	send_at(dev, &u, 1500, 1500, &a);
	send_first(dev, &u, 8, 700, &a); /* the truncated sha resumes its own session */
	CHECK_INT(answer_uint(&a, "off"), 3000);
	send_first(dev, &u, 0, 700, &a); /* no sha: restart */
	CHECK_INT(answer_uint(&a, "off"), 700);
	send_first(dev, &other, 32, 900, &a);
	CHECK_INT(answer_uint(&a, "off"), 900);
	send_at(dev, &other, 5000, 100, &a);
	CHECK(answer_uint(&a, "off") == 900 && a.usec == 0);
	send_at(dev, &other, 900, 0, &a);
	CHECK(answer_uint(&a, "off") == 900 && a.usec == 0);
	sim_device_reboot(dev); /* sessions live in RAM */
	send_at(dev, &other, 900, 100, &a);
	CHECK_INT(answer_uint(&a, "off"), 0);
	send_first(dev, &other, 32, 900, &a);
	CHECK_INT(answer_uint(&a, "off"), 900);
	device_done(dev, &a);
}

static void no_check(SimConfig *cfg)
{
	cfg->image_check = false;
}

/* match: true only for a full 32-byte SHA-256 the data hashes to; absent without image check; an image
 * already in slot 1 is answered {"off": len, "match": true} at once. */
static void test_upload_match(void)
{
	static Upload u;
	SimDevice *dev = device(), *unchecked = device_with(no_check);
	Answer a = { 0 };

	upload_prepare(&u, "2.0.0", 10);
	upload_all(dev, &u, 16, 2048, &a);
	CHECK(answer_uint(&a, "off") == u.len && answer_match(&a) == 0);
	u.sha[0] ^= 1;
	upload_all(dev, &u, 32, 2048, &a);
	CHECK_INT(answer_match(&a), 0);
	u.sha[0] ^= 1;
	upload_all(dev, &u, 32, 2048, &a);
	CHECK_INT(answer_match(&a), 1);
	send_first(dev, &u, 32, 2048, &a);
	CHECK(answer_uint(&a, "off") == u.len && answer_match(&a) == 1 && a.usec == 0);
	CHECK_INT(sim_device_upload_offset(dev), 0);
	upload_all(unchecked, &u, 32, 2048, &a);
	CHECK(answer_uint(&a, "off") == u.len && answer_match(&a) == -1);
	device_done(unchecked, &a);
	device_done(dev, &a);
}

static bool flag(const cbor_item_t *entry, const char *key, int *present)
{
	bool v = false;

	*present += smp_cbor_get_bool(entry, key, &v) == 0;
	return v;
}

/* The image list: slot, version, hash bytes; every flag by default (as the seed device), only the true
 * ones and no splitStatus with the frugal list. */
static void test_image_list(void)
{
	static Upload u;
	Answer a = { 0 };

	upload_prepare(&u, "2.0.0+5", 11);
	for (int frugal = 0; frugal <= 1; frugal++) {
		SimConfig cfg;
		SimDevice *dev = NULL;
		const cbor_item_t *images, *e0, *e1;
		int present = 0;
		char version[32];

		sim_config_default(&cfg);
		cfg.frugal_list = frugal;
		sim_device_new(&cfg, &dev);
		upload_all(dev, &u, 32, 2048, &a);
		ASK_EMPTY(dev, V2, SMP_OP_READ, SMP_GROUP_IMAGE, SMP_IMAGE_STATE, &a);
		images = smp_cbor_map_get(a.body, "images");
		CHECK(images && cbor_isa_array(images) && cbor_array_size(images) == 2);
		CHECK(a.frame[0][SMP_HEADER_SIZE] == 0xbf);
		e0 = cbor_array_get(images, 0);
		e1 = cbor_array_get(images, 1);
		CHECK(flag(e0, "active", &present) && flag(e0, "confirmed", &present) && flag(e0, "bootable", &present));
		CHECK(!flag(e1, "active", &present) && !flag(e1, "pending", &present) && flag(e1, "bootable", &present));
		CHECK_INT(present, frugal ? 4 : 6);
		CHECK_INT(smp_cbor_get_text(e1, "version", version, sizeof(version)), 0);
		CHECK_STR(version, "2.0.0.5");
		CHECK((smp_cbor_map_get(a.body, "splitStatus") != NULL) == !frugal);
		cbor_decref((cbor_item_t **)&e0);
		cbor_decref((cbor_item_t **)&e1);
		device_done(dev, &a);
	}
}

static void list_flags(SimDevice *dev, unsigned slot, SimSlotState *st)
{
	sim_device_slot_state(dev, slot, st);
	CHECK(st->present);
}

/* test → pending; slot 1 refuses uploads and erases; reset swaps (≈20 s model time for the two images);
 * the new image runs unconfirmed; another reset without confirm reverts. */
static void test_test_boot_revert(void)
{
	static Upload u;
	SimDevice *dev = device();
	uint8_t old_hash[32], new_hash[32], body[32];
	uint64_t group = 0, offline;
	SimSlotState s0, s1;
	Answer a = { 0 };
	int n;

	upload_prepare(&u, "2.0.0", 12);
	upload_all(dev, &u, 32, 2048, &a);
	slot_hash(dev, 0, old_hash);
	slot_hash(dev, 1, new_hash);
	state_write(dev, new_hash, 32, false, &a);
	CHECK(smp_cbor_map_get(a.body, "images") != NULL);
	list_flags(dev, 1, &s1);
	CHECK(s1.pending && !s1.permanent && !s1.confirmed);
	state_write(dev, new_hash, 32, false, &a); /* again: fine */
	CHECK(smp_cbor_map_get(a.body, "images") != NULL);
	state_write(dev, new_hash, 32, true, &a);
	CHECK_INT(answer_err(&a, &group), SMP_IMG_IMAGE_ALREADY_PENDING);
	state_write(dev, NULL, 0, true, &a);
	CHECK_INT(answer_err(&a, &group), SMP_IMG_IMAGE_ALREADY_PENDING);
	send_first(dev, &u, 32, 1024, &a);
	CHECK_INT(answer_err(&a, &group), SMP_IMG_NO_FREE_SLOT);
	for (int slot = 0; slot <= 1; slot++) {
		n = mgmt_build_image_erase(body, sizeof(body), slot);
		ask(dev, V2, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMAGE_ERASE, body, (size_t)n, &a);
		CHECK_INT(answer_err(&a, &group), SMP_IMG_NO_FREE_SLOT);
	}
	offline = reset_and_reboot(dev, &a);
	CHECK_INT(offline, 250000 + sim_swap_usec(MAX(u.len, (size_t)(120 * 1024 + 0x200 + 40))) + 300000);
	list_flags(dev, 0, &s0);
	list_flags(dev, 1, &s1);
	CHECK(s0.active && !s0.confirmed && memcmp(s0.hash, new_hash, 32) == 0);
	CHECK(!s1.active && s1.confirmed && memcmp(s1.hash, old_hash, 32) == 0);
	state_write(dev, new_hash, 32, false, &a);
	CHECK_INT(answer_err(&a, &group), SMP_IMG_IMAGE_SETTING_TEST_TO_ACTIVE_DENIED);
	state_write(dev, old_hash, 32, false, &a);
	CHECK_INT(answer_err(&a, &group), SMP_IMG_IMAGE_ALREADY_PENDING);
	reset_and_reboot(dev, &a);
	list_flags(dev, 0, &s0);
	list_flags(dev, 1, &s1);
	CHECK(s0.active && s0.confirmed && memcmp(s0.hash, old_hash, 32) == 0);
	CHECK(!s1.pending && !s1.confirmed && memcmp(s1.hash, new_hash, 32) == 0);
	device_done(dev, &a);
}

/* Confirm by hash → pending + permanent, then the swap sticks; test then confirm-running sticks too. */
static void test_confirm_paths(void)
{
	static Upload u;
	SimDevice *dev = device();
	uint8_t new_hash[32];
	uint64_t group = 0;
	SimSlotState s0, s1;
	Answer a = { 0 };

	upload_prepare(&u, "2.0.0", 13);
	upload_all(dev, &u, 32, 2048, &a);
	slot_hash(dev, 1, new_hash);
	state_write(dev, new_hash, 32, true, &a);
	list_flags(dev, 1, &s1);
	CHECK(s1.pending && s1.permanent);
	state_write(dev, new_hash, 32, false, &a);
	CHECK_INT(answer_err(&a, &group), SMP_IMG_IMAGE_ALREADY_PENDING);
	state_write(dev, new_hash, 32, true, &a); /* the next boot's slot already: a no-op */
	CHECK(smp_cbor_map_get(a.body, "images") != NULL);
	reset_and_reboot(dev, &a);
	list_flags(dev, 0, &s0);
	CHECK(s0.active && s0.confirmed && memcmp(s0.hash, new_hash, 32) == 0);
	CHECK_INT(reset_and_reboot(dev, &a), 550000);
	list_flags(dev, 0, &s0);
	CHECK(memcmp(s0.hash, new_hash, 32) == 0);
	/* Back to the old image by test, then confirm the running one (no hash). */
	slot_hash(dev, 1, new_hash);
	state_write(dev, new_hash, 32, false, &a);
	reset_and_reboot(dev, &a);
	state_write(dev, NULL, 0, true, &a);
	list_flags(dev, 0, &s0);
	CHECK(s0.active && s0.confirmed && memcmp(s0.hash, new_hash, 32) == 0);
	reset_and_reboot(dev, &a);
	list_flags(dev, 0, &s0);
	CHECK(memcmp(s0.hash, new_hash, 32) == 0);
	device_done(dev, &a);
}

/* State write refusals: test of the running image 33, test without hash 24, short hash 24, unknown 8. */
static void test_state_write_errors(void)
{
	SimDevice *dev = device();
	uint8_t hash[32] = { 0 }, running[32];
	uint64_t group = 0;
	Answer a = { 0 };

	slot_hash(dev, 0, running);
	state_write(dev, running, 32, false, &a);
	CHECK_INT(answer_err(&a, &group), SMP_IMG_IMAGE_SETTING_TEST_TO_ACTIVE_DENIED);
	state_write(dev, running, 32, true, &a); /* confirming the running image: a no-op */
	CHECK(smp_cbor_map_get(a.body, "images") != NULL);
	state_write(dev, NULL, 0, false, &a);
	CHECK_INT(answer_err(&a, &group), SMP_IMG_INVALID_HASH);
	state_write(dev, running, 16, false, &a);
	CHECK_INT(answer_err(&a, &group), SMP_IMG_INVALID_HASH);
	state_write(dev, hash, 32, false, &a);
	CHECK_INT(answer_err(&a, &group), SMP_IMG_HASH_NOT_FOUND);
	ask(dev, V2, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMAGE_STATE, (const uint8_t *)"\xbf\x64hash\x01\xff", 8, &a);
	CHECK_INT(answer_rc(&a), SMP_RC_EINVAL);
	device_done(dev, &a);
}

/* Erase: slot 1 with data costs the whole slot (55 pages), erased flash nothing; slot 2 is invalid. */
static void test_erase(void)
{
	static Upload u;
	SimDevice *dev = device();
	uint8_t body[32];
	uint64_t group = 0;
	SimSlotState st;
	Answer a = { 0 };
	int n = mgmt_build_image_erase(body, sizeof(body), -1);

	upload_prepare(&u, "2.0.0", 14);
	send_first(dev, &u, 32, 1024, &a);
	ask(dev, V2, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMAGE_ERASE, body, (size_t)n, &a);
	CHECK(a.count == 1 && answer_rc(&a) == -1 && a.usec == 55 * PAGE_ERASE);
	CHECK_INT(sim_device_upload_offset(dev), 0);
	ask(dev, V2, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMAGE_ERASE, body, (size_t)n, &a);
	CHECK(answer_rc(&a) == -1 && a.usec == 0);
	sim_device_slot_state(dev, 1, &st);
	CHECK(!st.present);
	n = mgmt_build_image_erase(body, sizeof(body), 3); /* image 1's secondary on a single-image device */
	ask(dev, V2, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMAGE_ERASE, body, (size_t)n, &a);
	CHECK_INT(answer_err(&a, &group), SMP_IMG_FLASH_OPEN_FAILED);
	device_done(dev, &a);
}

static void no_update_footer(SimConfig *cfg)
{
	cfg->update_footer = 0;
}

/* Slot info, built in by default as in firmware/prj.conf: one image, two slots of 0x37000 bytes, and
 * only the slot that is not running carries upload_image_id (img_mgmt_slot_info() without
 * CONFIG_MCUMGR_GRP_IMG_DIRECT_UPLOAD); max_image_size is the slot minus the update footer, and absent
 * without TOO_LARGE_SYSBUILD. */
static void test_slot_info(void)
{
	SimDevice *dev = device(), *plain = device_with(no_update_footer);
	const cbor_item_t *images, *slots;
	cbor_item_t *image = NULL, *s0 = NULL, *s1 = NULL;
	uint64_t size = 0, id = 9;
	Answer a = { 0 };

	ASK_EMPTY(dev, V2, SMP_OP_READ, SMP_GROUP_IMAGE, SMP_IMAGE_SLOT_INFO, &a);
	images = smp_cbor_map_get(a.body, "images");
	CHECK(images && cbor_array_size(images) == 1);
	if (images && cbor_array_size(images) == 1) {
		image = cbor_array_get(images, 0);
		slots = smp_cbor_map_get(image, "slots");
		CHECK(slots && cbor_array_size(slots) == 2);
		s0 = slots ? cbor_array_get(slots, 0) : NULL;
		CHECK(s0 && smp_cbor_get_uint(s0, "size", &size) == 0 && size == SIM_SLOT_SIZE);
		CHECK(s0 && smp_cbor_map_get(s0, "upload_image_id") == NULL);
		s1 = slots ? cbor_array_get(slots, 1) : NULL;
		CHECK(s1 && smp_cbor_get_uint(s1, "size", &size) == 0 && size == SIM_SLOT_SIZE);
		CHECK(s1 && smp_cbor_get_uint(s1, "upload_image_id", &id) == 0 && id == 0);
		CHECK(smp_cbor_get_uint(image, "max_image_size", &size) == 0 && size == SIM_SLOT_SIZE - 0x2000);
	}
	if (s0)
		cbor_decref(&s0);
	if (s1)
		cbor_decref(&s1);
	if (image)
		cbor_decref(&image);
	device_done(dev, &a);
	ASK_EMPTY(plain, V2, SMP_OP_READ, SMP_GROUP_IMAGE, SMP_IMAGE_SLOT_INFO, &a);
	images = smp_cbor_map_get(a.body, "images");
	image = images && cbor_array_size(images) == 1 ? cbor_array_get(images, 0) : NULL;
	CHECK(image && smp_cbor_map_get(image, "max_image_size") == NULL);
	if (image)
		cbor_decref(&image);
	device_done(plain, &a);
}

/* TOO_LARGE_SYSBUILD: the first chunk of an upload longer than the slot minus the update footer is
 * refused ("img too large"), one of exactly that length is taken; without the footer it is taken too. */
static void test_upload_refused_past_update_footer(void)
{
	static Upload u;
	const size_t limit = SIM_SLOT_SIZE - 0x2000;
	SimDevice *dev = device(), *plain = device_with(no_update_footer);
	uint64_t group = 0;
	Answer a = { 0 };

	upload_prepare(&u, "2.0.0", 5);
	u.len = limit + 1; /* only the header goes out: the length decides */
	send_first(dev, &u, 32, 1024, &a);
	CHECK_INT(answer_err(&a, &group), SMP_IMG_INVALID_IMAGE_TOO_LARGE);
	CHECK_INT(group, SMP_GROUP_IMAGE);
	CHECK_INT(sim_device_upload_offset(dev), 0);
	send_first(plain, &u, 32, 1024, &a);
	CHECK_INT(answer_uint(&a, "off"), 1024);
	u.len = limit;
	send_first(dev, &u, 32, 1024, &a);
	CHECK_INT(answer_uint(&a, "off"), 1024);
	device_done(plain, &a);
	device_done(dev, &a);
}

/* Uploads u (it must arrive with "match"), marks it for test and reboots: old_hash and new_hash are the
 * slots' hashes before the reset, s0 and s1 the slots after it. */
static void upload_test_reboot(SimDevice *dev, Upload *u, uint8_t *old_hash, uint8_t *new_hash, SimSlotState *s0,
			       SimSlotState *s1, Answer *a)
{
	upload_all(dev, u, 32, 2048, a);
	CHECK_INT(answer_match(a), 1);
	slot_hash(dev, 0, old_hash);
	slot_hash(dev, 1, new_hash);
	state_write(dev, new_hash, 32, false, a);
	reset_and_reboot(dev, a);
	list_flags(dev, 0, s0);
	sim_device_slot_state(dev, 1, s1);
}

/* An image whose hash TLV does not match is not booted: MCUboot erases slot 1 and keeps the running one. */
static void test_broken_image_not_booted(void)
{
	static Upload u;
	SimDevice *dev = device();
	uint8_t old_hash[32], new_hash[32];
	SimSlotState s0, s1;
	Answer a = { 0 };

	upload_prepare(&u, "2.0.0", 15);
	u.image[0x400] ^= 0xff; /* payload changed after signing */
	image_sha256(u.image, u.len, u.sha);
	/* "match": the file arrived intact, it is the file that is broken */
	upload_test_reboot(dev, &u, old_hash, new_hash, &s0, &s1, &a);
	CHECK(s0.active && s0.confirmed && memcmp(s0.hash, old_hash, 32) == 0);
	CHECK(!s1.present);
	device_done(dev, &a);
}

/* The two size limits of MCUboot's swap-using-move with equal slots (sim-boot.c): an image up to
 * slot - 2 pages swaps; one byte more validates but does not fit the move, so the old image keeps
 * running and slot 1 stays pending; past slot - 1 page it does not validate and slot 1 is erased.
 * Every one of them uploads with "match". */
static void test_swap_move_size_limits(void)
{
	static Upload u;
	static const struct {
		size_t size;
		bool swapped, kept_pending;
	} cases[] = {
		{ SIM_SLOT_SIZE - 2 * SIM_PAGE_SIZE, true, false },
		{ SIM_SLOT_SIZE - 2 * SIM_PAGE_SIZE + 1, false, true },
		{ SIM_SLOT_SIZE - SIM_PAGE_SIZE, false, true },
		{ SIM_SLOT_SIZE - SIM_PAGE_SIZE + 1, false, false },
	};
	const size_t overhead = 0x200 + 4 + 4 + 32; /* sim_make_image: header, TLV info, SHA-256 TLV */

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		SimDevice *dev = device_with(no_update_footer); /* the firmware would refuse these uploads */
		uint8_t old_hash[32], new_hash[32];
		SimSlotState s0, s1;
		Answer a = { 0 };

		u.len = sim_make_image(u.image, sizeof(u.image), cases[i].size - overhead, "2.0.0", 3);
		CHECK_INT(u.len, cases[i].size);
		image_sha256(u.image, u.len, u.sha);
		upload_test_reboot(dev, &u, old_hash, new_hash, &s0, &s1, &a);
		tap_checkf(memcmp(s0.hash, cases[i].swapped ? new_hash : old_hash, 32) == 0 && s0.active, __FILE__,
			   __LINE__, "image of %zu bytes: slot 0 should run the %s image", cases[i].size,
			   cases[i].swapped ? "new" : "old");
		if (!cases[i].swapped)
			tap_checkf(s1.present == cases[i].kept_pending && s1.pending == cases[i].kept_pending,
				   __FILE__, __LINE__, "image of %zu bytes: slot 1 should be %s", cases[i].size,
				   cases[i].kept_pending ? "kept, pending" : "erased");
		device_done(dev, &a);
	}
}

/* Reset answers {} and then the device is away; a read reset is rc 8 and changes nothing. */
static void test_reset(void)
{
	SimDevice *dev = device();
	uint64_t offline = 0;
	Answer a = { 0 };

	ASK_EMPTY(dev, V2, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_RESET, &a);
	CHECK_INT(answer_rc(&a), SMP_RC_ENOTSUP);
	CHECK(!sim_device_take_reset(dev, &offline));
	ask(dev, V2, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_RESET, (const uint8_t *)"\xbf\x65\x66orce\xf5\xff", 9, &a);
	CHECK(a.len[0] == 10 && a.frame[0][8] == 0xbf && a.frame[0][9] == 0xff);
	CHECK(sim_device_take_reset(dev, &offline));
	CHECK_INT(offline, 550000); /* nothing to swap: 250 ms to go away, 300 ms to boot */
	CHECK(!sim_device_take_reset(dev, &offline));
	sim_device_reboot(dev);
	device_done(dev, &a);
}

static void idle_erase_on(SimConfig *cfg)
{
	cfg->idle_erase_ms = 5000;
}

/* Steps until the idle erase has nothing left; returns the pages erased, each paid 89.7 ms. */
static unsigned idle_erase_run(SimDevice *dev)
{
	unsigned pages = 0;
	uint64_t usec;

	while ((usec = sim_device_idle_erase_step(dev)) != 0) {
		CHECK_INT(usec, PAGE_ERASE);
		pages++;
	}
	return pages;
}

/* An update that a test boot runs, confirmed by the client; the factory image is left in slot 1. */
static void update_and_confirm(SimDevice *dev, const Upload *u, Answer *a)
{
	uint8_t hash[32];
	uint64_t after = 0;
	SimSlotState s1;

	upload_all(dev, u, 32, 2048, a);
	slot_hash(dev, 1, hash);
	state_write(dev, hash, 32, false, a);
	reset_and_reboot(dev, a);
	CHECK(!sim_device_idle_erase_plan(dev, &after)); /* a test boot: not confirmed, nothing planned */
	state_write(dev, NULL, 0, true, a);
	CHECK(sim_device_idle_erase_plan(dev, &after));
	CHECK_INT(after, 5000 * 1000);
	sim_device_slot_state(dev, 1, &s1);
	CHECK(s1.present);
}

/* The firmware's idle erase (CONFIG_SMPCTL_FW_IDLE_ERASE_SECONDARY): planned at a confirmed boot and at
 * a confirm, never while MCUboot has a swap planned; slot 1 erased page by page, only pages holding data,
 * so the next upload only writes; an upload stops it until the next boot. */
static void test_idle_erase(void)
{
	static Upload u, v;
	SimDevice *dev = device_with(idle_erase_on);
	uint64_t after = 0, pages;
	uint8_t hash[32];
	SimSlotState s1;
	Answer a = { 0 };

	upload_prepare(&u, "2.0.0", 21);
	upload_prepare(&v, "2.1.0", 22);
	CHECK(sim_device_idle_erase_plan(dev, &after)); /* the factory image boots confirmed */
	CHECK_INT(after, 5000 * 1000);
	CHECK(!sim_device_idle_erase_plan(dev, &after)); /* taken once */
	CHECK_INT(idle_erase_run(dev), 0);                /* slot 1 is blank already */
	reset_and_reboot(dev, &a);
	CHECK(sim_device_idle_erase_plan(dev, &after));
	update_and_confirm(dev, &u, &a);
	/* The factory image: 120 KiB + header and TLVs, 31 pages; nothing else in slot 1. */
	pages = (120 * 1024 + 0x200 + 40 + SIM_PAGE_SIZE - 1) / SIM_PAGE_SIZE;
	CHECK_INT(idle_erase_run(dev), pages);
	CHECK_INT(sim_device_idle_erased_pages(dev), pages);
	sim_device_slot_state(dev, 1, &s1);
	CHECK(!s1.present);
	send_first(dev, &v, 32, 1000, &a);
	CHECK_INT(a.usec, sim_flash_write_usec(1000)); /* a blank slot: no erase on the first chunk */
	device_done(dev, &a);

	/* Cut short by an upload: the first chunk finds data left and erases as usual; no idle erase again
	 * until the next boot, not even after a confirm. */
	dev = device_with(idle_erase_on);
	update_and_confirm(dev, &u, &a);
	CHECK_INT(sim_device_idle_erase_step(dev), PAGE_ERASE);
	send_first(dev, &v, 32, 1000, &a);
	CHECK_INT(a.usec, ((v.len + SIM_PAGE_SIZE - 1) / SIM_PAGE_SIZE + 1) * PAGE_ERASE + sim_flash_write_usec(1000));
	CHECK_INT(sim_device_idle_erase_step(dev), 0);
	state_write(dev, NULL, 0, true, &a);
	CHECK(!sim_device_idle_erase_plan(dev, &after));
	CHECK_INT(sim_device_idle_erased_pages(dev), 1);
	device_done(dev, &a);

	/* Slot 1 marked for test during the delay (the old image, the way back): kept. */
	dev = device_with(idle_erase_on);
	update_and_confirm(dev, &u, &a);
	slot_hash(dev, 1, hash);
	state_write(dev, hash, 32, false, &a);
	CHECK_INT(idle_erase_run(dev), 0);
	sim_device_slot_state(dev, 1, &s1);
	CHECK(s1.present && s1.pending);
	device_done(dev, &a);

	/* Off (the firmware's default): never planned. */
	dev = device();
	CHECK(!sim_device_idle_erase_plan(dev, &after));
	state_write(dev, NULL, 0, true, &a);
	CHECK(!sim_device_idle_erase_plan(dev, &after));
	device_done(dev, &a);
}

static void power_loss_in_swap(SimConfig *cfg)
{
	cfg->power_loss_in_swap = true;
}

/* Power lost half way through the swap: MCUboot resumes it from the trailer at the next power-on, so the
 * device comes back later, once, with the slots swapped whole (the test image runs, unconfirmed, and
 * reverts at the following reset); a reset with nothing to swap loses no time. */
static void test_power_loss_in_swap(void)
{
	static Upload u;
	SimDevice *dev = device_with(power_loss_in_swap);
	uint8_t old_hash[32], new_hash[32];
	uint64_t swap;
	SimSlotState s0, s1;
	Answer a = { 0 };

	upload_prepare(&u, "2.0.0", 12);
	upload_all(dev, &u, 32, 2048, &a);
	slot_hash(dev, 0, old_hash);
	slot_hash(dev, 1, new_hash);
	state_write(dev, new_hash, 32, false, &a);
	swap = sim_swap_usec(MAX(u.len, (size_t)(120 * 1024 + 0x200 + 40)));
	CHECK_INT(reset_and_reboot(dev, &a), 250000 + swap + 300000 + swap / 2 + 500000 + 300000);
	list_flags(dev, 0, &s0);
	list_flags(dev, 1, &s1);
	CHECK(s0.active && !s0.confirmed && memcmp(s0.hash, new_hash, 32) == 0);
	CHECK(!s1.active && s1.confirmed && memcmp(s1.hash, old_hash, 32) == 0);
	CHECK_INT(reset_and_reboot(dev, &a), 250000 + swap + 300000); /* the revert: power holds this time */
	list_flags(dev, 0, &s0);
	CHECK(s0.active && s0.confirmed && memcmp(s0.hash, old_hash, 32) == 0);
	device_done(dev, &a);
}

int main(void)
{
	static const TapTest tests[] = {
		TAP_TEST(test_params_answer_bytes),
		TAP_TEST(test_echo_bytes_and_legacy_rc),
		TAP_TEST(test_versions),
		TAP_TEST(test_framing_errors),
		TAP_TEST(test_several_frames),
		TAP_TEST(test_group_error_forms),
		TAP_TEST(test_os_info),
		TAP_TEST(test_bootloader_info),
		TAP_TEST(test_optional_commands),
		TAP_TEST(test_reset_veto_takes_a_bool_force),
		TAP_TEST(test_upload_errors),
		TAP_TEST(test_upload_progressive_timing),
		TAP_TEST(test_upload_up_front_erase),
		TAP_TEST(test_upload_resume_and_offsets),
		TAP_TEST(test_upload_match),
		TAP_TEST(test_image_list),
		TAP_TEST(test_test_boot_revert),
		TAP_TEST(test_confirm_paths),
		TAP_TEST(test_state_write_errors),
		TAP_TEST(test_erase),
		TAP_TEST(test_slot_info),
		TAP_TEST(test_upload_refused_past_update_footer),
		TAP_TEST(test_swap_move_size_limits),
		TAP_TEST(test_broken_image_not_booted),
		TAP_TEST(test_reset),
		TAP_TEST(test_idle_erase),
		TAP_TEST(test_power_loss_in_swap),
	};
	return tap_run(tests, ARRAY_SIZE(tests));
}
