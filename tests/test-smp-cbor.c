/* SPDX-License-Identifier: MIT */
/* Bounded CBOR reading and the writer: hostile inputs are refused before libcbor allocates; both
 * length forms are read; lookups and typed getters check types and sizes. */
#include <errno.h>
#include <string.h>

#include "smp-cbor.h"
#include "tap.h"
#include "util.h"

typedef struct Case {
	const char *what;
	const char *hex;
	int want;
} Case;

/* Table of inputs and the verdict of smp_cbor_check(). */
static void test_check_table(void)
{
	static const Case cases[] = {
		{ "empty map, definite", "a0", 0 },
		{ "empty map, indefinite", "bfff", 0 },
		{ "ISSUE-NOTES 5: array of 2^35 items in 9 bytes", "9b0000000800000000", -EBADMSG },
		{ "map claiming 2^32 pairs", "ba00000001", -EBADMSG },
		{ "text longer than the input", "7a00001000616263", -EBADMSG },
		{ "bytes longer than the input", "5b7fffffffffffffff00", -EBADMSG },
		{ "truncated head", "19ff", -EBADMSG },
		{ "reserved additional info", "1c", -EBADMSG },
		{ "indefinite uint", "1f", -EBADMSG },
		{ "lone break", "ff", -EBADMSG },
		{ "unterminated indefinite map", "bf6161", -EBADMSG },
		{ "odd indefinite map", "bf6161ff", -EBADMSG },
		{ "chunked text", "7f626162626364ff", 0 },
		{ "chunk of the wrong type", "7f4161ff", -EBADMSG },
		{ "nested indefinite chunk", "7f7fffff", -EBADMSG },
		{ "trailing garbage", "a000", -EBADMSG },
		{ "tag around a uint", "c11a5f000000", 0 },
		{ "floats and simple values", "83f93c00fb3ff0000000000000f6", 0 },
		{ "simple value with a two-byte form below 32", "f810", -EBADMSG },
		{ "nothing", "", -EBADMSG },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t buf[64];
		int n = cases[i].hex[0] ? hex_decode(cases[i].hex, buf, sizeof(buf)) : 0;

		tap_checkf(smp_cbor_check(buf, (size_t)n) == cases[i].want, __FILE__, __LINE__, "%s: %d", cases[i].what,
			   smp_cbor_check(buf, (size_t)n));
	}
}

/* Nesting deeper than the cap, and more items than the cap, are refused as too big. */
static void test_depth_and_item_caps(void)
{
	uint8_t deep[64], many[SMP_CBOR_MAX_ITEMS + 8];

	memset(deep, 0x81, sizeof(deep)); /* [[[[…]]]] */
	deep[sizeof(deep) - 1] = 0x00;
	CHECK_INT(smp_cbor_check(deep, sizeof(deep)), -E2BIG);
	many[0] = 0x9f;
	memset(many + 1, 0x00, sizeof(many) - 2);
	many[sizeof(many) - 1] = 0xff;
	CHECK_INT(smp_cbor_check(many, sizeof(many)), -E2BIG);
}

/* Lookups work in indefinite maps with chunked keys; duplicates resolve to the first; types are checked. */
static void test_lookups(void)
{
	/* {_ "rc": 8, "rc": 9, (_ "na" "me"): "x", "b": h'0102', "t": true, "n": -5} */
	cbor_item_t *m = NULL;
	uint8_t buf[64], bytes[4];
	uint64_t u;
	int64_t i;
	bool b;
	char text[8];
	size_t n;
	int len = hex_decode("bf62726308627263097f626e61626d65ff6178616242010261" "74f5616e24ff", buf, sizeof(buf));
	CHECK(len > 0);
	CHECK_INT(smp_cbor_decode(buf, (size_t)len, &m), 0);
	CHECK_INT(smp_cbor_get_uint(m, "rc", &u), 0);
	CHECK_INT(u, 8);
	CHECK_INT(smp_cbor_get_text(m, "name", text, sizeof(text)), 0);
	CHECK_STR(text, "x");
	CHECK_INT(smp_cbor_get_bytes(m, "b", bytes, sizeof(bytes), &n), 0);
	CHECK_INT(n, 2);
	CHECK_INT(smp_cbor_get_bool(m, "t", &b), 0);
	CHECK(b);
	CHECK_INT(smp_cbor_get_int(m, "n", &i), 0);
	CHECK_INT(i, -5);
	CHECK_INT(smp_cbor_get_uint(m, "n", &u), -EBADMSG);
	CHECK_INT(smp_cbor_get_text(m, "rc", text, sizeof(text)), -EBADMSG);
	CHECK_INT(smp_cbor_get_bytes(m, "b", bytes, 1, &n), -EMSGSIZE);
	CHECK_INT(smp_cbor_get_uint(m, "absent", &u), -ENOENT);
	CHECK(smp_cbor_map_get(NULL, "rc") == NULL);
	cbor_decref(&m);
	/* Found by fuzzing: libcbor 0.8 aborts in cbor_is_bool() on a float; a float is just the wrong type. */
	len = hex_decode("a16174f93c00", buf, sizeof(buf));
	CHECK_INT(smp_cbor_decode(buf, (size_t)len, &m), 0);
	CHECK_INT(smp_cbor_get_bool(m, "t", &b), -EBADMSG);
	cbor_decref(&m);
}

/* The writer produces what it is asked, reports overflow once, and its sizes match head sizes. */
static void test_writer(void)
{
	uint8_t buf[32], small[3];
	SmpCborWriter w;
	static const uint8_t want[] = { 0xa2, 0x61, 'a', 0x19, 0x01, 0x00, 0x61, 'b', 0x42, 0x01, 0x02 };

	smp_cbor_writer_init(&w, buf, sizeof(buf));
	smp_cbor_put_map(&w, 2);
	smp_cbor_put_text(&w, "a");
	smp_cbor_put_uint(&w, 256);
	smp_cbor_put_text(&w, "b");
	smp_cbor_put_bytes(&w, (const uint8_t *)"\x01\x02", 2);
	CHECK_INT(smp_cbor_writer_done(&w), sizeof(want));
	CHECK_MEM(buf, want, sizeof(want));
	smp_cbor_writer_init(&w, small, sizeof(small));
	smp_cbor_put_text(&w, "abcdef");
	CHECK_INT(smp_cbor_writer_done(&w), -EMSGSIZE);
	CHECK_INT(smp_cbor_head_size(23), 1);
	CHECK_INT(smp_cbor_head_size(24), 2);
	CHECK_INT(smp_cbor_head_size(255), 2);
	CHECK_INT(smp_cbor_head_size(256), 3);
	CHECK_INT(smp_cbor_head_size(65536), 5);
	CHECK_INT(smp_cbor_head_size(1ull << 32), 9);
}

/* Everything the writer writes, the checker accepts and the decoder reads back. */
static void test_writer_output_reads_back(void)
{
	uint8_t buf[64];
	SmpCborWriter w;
	cbor_item_t *m = NULL;
	int64_t v;

	smp_cbor_writer_init(&w, buf, sizeof(buf));
	smp_cbor_put_indef_map(&w);
	smp_cbor_put_text(&w, "neg");
	smp_cbor_put_int(&w, -1000);
	smp_cbor_put_text(&w, "arr");
	smp_cbor_put_indef_array(&w);
	smp_cbor_put_bool(&w, false);
	smp_cbor_put_break(&w);
	smp_cbor_put_break(&w);
	CHECK(smp_cbor_writer_done(&w) > 0);
	CHECK_INT(smp_cbor_decode(buf, w.len, &m), 0);
	CHECK_INT(smp_cbor_get_int(m, "neg", &v), 0);
	CHECK_INT(v, -1000);
	cbor_decref(&m);
}

int main(void)
{
	static const TapTest tests[] = {
		TAP_TEST(test_check_table),
		TAP_TEST(test_depth_and_item_caps),
		TAP_TEST(test_lookups),
		TAP_TEST(test_writer),
		TAP_TEST(test_writer_output_reads_back),
	};
	return tap_run(tests, ARRAY_SIZE(tests));
}
