/* SPDX-License-Identifier: MIT */
/* SMP header codec: field packing, both versions, short input. */
#include <errno.h>
#include <string.h>

#include "smp.h"
#include "tap.h"
#include "util.h"

/* Header fields land in the bits REFERENCE.md §1 gives them. */
static void test_encode_packs_fields(void)
{
	SmpHeader h = { .op = SMP_OP_WRITE, .version = SMP_VERSION_2, .flags = 0, .len = 0x1234,
			.group = SMP_GROUP_ZEPHYR_BASIC, .seq = 0xfe, .id = 7 };
	uint8_t out[SMP_HEADER_SIZE];
	static const uint8_t want[] = { 0x0a, 0x00, 0x12, 0x34, 0x00, 0x3f, 0xfe, 0x07 };

	smp_header_encode(&h, out);
	CHECK_MEM(out, want, sizeof(want));
}

/* Decode inverts encode for every op and version. */
static void test_roundtrip(void)
{
	for (uint8_t op = 0; op < 4; op++)
		for (uint8_t v = 0; v < 4; v++) {
			SmpHeader h = { .op = op, .version = v, .len = 300, .group = 1, .seq = op, .id = 1 }, back;
			uint8_t buf[SMP_HEADER_SIZE];

			smp_header_encode(&h, buf);
			CHECK_INT(smp_header_decode(buf, sizeof(buf), &back), 0);
			CHECK(h.op == back.op && h.version == back.version && h.len == back.len && h.group == back.group &&
			      h.seq == back.seq && h.id == back.id && h.flags == back.flags);
		}
}

/* Fewer than 8 bytes is not a header. */
static void test_short_input(void)
{
	uint8_t buf[7] = { 0 };
	SmpHeader h;

	CHECK_INT(smp_header_decode(buf, sizeof(buf), &h), -EBADMSG);
	CHECK_INT(smp_header_decode(buf, 0, &h), -EBADMSG);
}

/* Reserved bits 7..5 of byte 0 do not disturb version and op. */
static void test_reserved_bits_ignored(void)
{
	uint8_t buf[] = { 0xe0 | 0x08 | 0x03, 0, 0, 2, 0, 1, 9, 0 };
	SmpHeader h;

	CHECK_INT(smp_header_decode(buf, sizeof(buf), &h), 0);
	CHECK_INT(h.op, SMP_OP_WRITE_RSP);
	CHECK_INT(h.version, SMP_VERSION_2);
	CHECK_INT(h.len, 2);
}

/* A response answers a request only with the same group, seq, id and op + 1. */
static void test_answers(void)
{
	SmpHeader req = { .op = SMP_OP_READ, .group = 1, .seq = 5, .id = 0 };
	SmpHeader rsp = req;

	rsp.op = SMP_OP_READ_RSP;
	CHECK(smp_header_answers(&req, &rsp));
	rsp.seq = 6;
	CHECK(!smp_header_answers(&req, &rsp));
	rsp.seq = 5;
	rsp.op = SMP_OP_WRITE_RSP;
	CHECK(!smp_header_answers(&req, &rsp));
}

int main(void)
{
	static const TapTest tests[] = {
		TAP_TEST(test_encode_packs_fields),
		TAP_TEST(test_roundtrip),
		TAP_TEST(test_short_input),
		TAP_TEST(test_reserved_bits_ignored),
		TAP_TEST(test_answers),
	};
	return tap_run(tests, ARRAY_SIZE(tests));
}
