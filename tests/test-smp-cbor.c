/* SPDX-License-Identifier: MIT */
/* Bounded CBOR reading and the writer: hostile inputs are refused before libcbor allocates; both
 * length forms are read; lookups and typed getters check types, ranges and sizes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "smp-cbor.h"
#include "tap.h"
#include "cbor-hex.h"
#include "util.h"

static cbor_item_t *decode_ok(const char *hex)
{
	uint8_t buf[256];
	cbor_item_t *item = NULL;
	size_t n = bytes_from_spaced_hex(hex, buf, sizeof(buf));

	tap_checkf(smp_cbor_decode(buf, n, &item) == 0, __FILE__, __LINE__, "decodes: %s", hex);
	return item;
}

typedef struct Case {
	const char *what;
	const char *hex;
	int check;  /* smp_cbor_check() */
	int decode; /* smp_cbor_decode() */
} Case;

/* Well-formed, malformed and hostile inputs: the checker's verdict, and the decoder's (which adds
 * libcbor's own refusals, e.g. of unassigned simple values). */
static void test_check_and_decode_table(void)
{
	static const Case cases[] = {
		{ "empty map, definite", "a0", 0, 0 },
		{ "empty map, indefinite", "bfff", 0, 0 },
		{ "ISSUE-NOTES 5: array of 2^27 items (1 GiB of pointers) in 9 bytes", "9b 00 00 00 00 08 00 00 00",
		  -EBADMSG, -EBADMSG },
		{ "array of 2^35 items", "9b 00 00 00 08 00 00 00 00", -EBADMSG, -EBADMSG },
		{ "array of 2^64-1 items", "9b ff ff ff ff ff ff ff ff", -EBADMSG, -EBADMSG },
		{ "map claiming 2^32 pairs", "ba 00 00 00 01", -EBADMSG, -EBADMSG },
		{ "map claiming 2^63 pairs", "bb 80 00 00 00 00 00 00 00", -EBADMSG, -EBADMSG },
		{ "map of 3 pairs with 5 bytes left", "a3 00 00 00 00 00", -EBADMSG, -EBADMSG },
		{ "huge count nested in an indefinite array", "9f 9a ff ff ff ff ff", -EBADMSG, -EBADMSG },
		{ "huge count as a map value", "a1 61 61 9b 00 00 00 00 08 00 00 00", -EBADMSG, -EBADMSG },
		{ "text longer than the input", "7a 00 00 10 00 61 62 63", -EBADMSG, -EBADMSG },
		{ "bytes of 2^63-1", "5b 7f ff ff ff ff ff ff ff 00", -EBADMSG, -EBADMSG },
		{ "text one byte short", "63 61 62", -EBADMSG, -EBADMSG },
		{ "truncated head", "19 ff", -EBADMSG, -EBADMSG },
		{ "truncated 8-byte head", "1b 00 00 00", -EBADMSG, -EBADMSG },
		{ "reserved additional info 28 (uint)", "1c", -EBADMSG, -EBADMSG },
		{ "reserved additional info 29 (bytes)", "5d", -EBADMSG, -EBADMSG },
		{ "reserved additional info 30 (array)", "9e", -EBADMSG, -EBADMSG },
		{ "reserved additional info 30 (simple)", "fe", -EBADMSG, -EBADMSG },
		{ "indefinite uint", "1f", -EBADMSG, -EBADMSG },
		{ "indefinite negative int", "3f", -EBADMSG, -EBADMSG },
		{ "indefinite tag", "df 00", -EBADMSG, -EBADMSG },
		{ "lone break", "ff", -EBADMSG, -EBADMSG },
		{ "break inside a definite array", "81 ff", -EBADMSG, -EBADMSG },
		{ "break as a value", "bf 61 61 ff", -EBADMSG, -EBADMSG },
		{ "unterminated indefinite map", "bf 61 61", -EBADMSG, -EBADMSG },
		{ "unterminated indefinite array", "9f 00 00", -EBADMSG, -EBADMSG },
		{ "definite map missing a value", "a1 61 61", -EBADMSG, -EBADMSG },
		{ "chunked text", "7f 62 61 62 62 63 64 ff", 0, 0 },
		{ "chunked bytes", "5f 42 01 02 41 03 ff", 0, 0 },
		{ "empty chunked text", "7f ff", 0, 0 },
		{ "text chunk in chunked bytes", "5f 61 61 ff", -EBADMSG, -EBADMSG },
		{ "bytes chunk in chunked text", "7f 41 61 ff", -EBADMSG, -EBADMSG },
		{ "uint chunk in chunked text", "7f 00 ff", -EBADMSG, -EBADMSG },
		{ "nested indefinite chunk", "7f 7f ff ff", -EBADMSG, -EBADMSG },
		{ "unterminated chunked text", "7f 63 61 62 63", -EBADMSG, -EBADMSG },
		{ "chunk longer than the input", "7f 7a 00 01 00 00 ff", -EBADMSG, -EBADMSG },
		{ "trailing garbage", "a0 00", -EBADMSG, -EBADMSG },
		{ "trailing garbage after an indefinite map", "bf ff 00", -EBADMSG, -EBADMSG },
		{ "two top-level items", "00 00", -EBADMSG, -EBADMSG },
		{ "tag around a uint", "c1 1a 5f 00 00 00", 0, 0 },
		{ "tag without content", "c1", -EBADMSG, -EBADMSG },
		{ "floats of every width and simple values", "85 f9 3c 00 fa 3f 80 00 00 fb 3f f0 00 00 00 00 00 00 f6 f7",
		  0, 0 },
		{ "truncated float", "fa 3f 80", -EBADMSG, -EBADMSG },
		{ "simple value with a two-byte form below 32", "f8 10", -EBADMSG, -EBADMSG },
		{ "largest integers", "82 1b ff ff ff ff ff ff ff ff 3b ff ff ff ff ff ff ff ff", 0, 0 },
		{ "text that is not UTF-8 (libcbor refuses it)", "63 80 80 80", 0, -EBADMSG },
		{ "nothing", "", -EBADMSG, -EBADMSG },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t buf[64];
		size_t n = bytes_from_spaced_hex(cases[i].hex, buf, sizeof(buf));
		cbor_item_t *item = NULL;
		int check = smp_cbor_check(buf, n), decode = smp_cbor_decode(buf, n, &item);

		tap_checkf(check == cases[i].check, __FILE__, __LINE__, "check %s: %d", cases[i].what, check);
		tap_checkf(decode == cases[i].decode, __FILE__, __LINE__, "decode %s: %d", cases[i].what, decode);
		tap_checkf((decode == 0) == (item != NULL), __FILE__, __LINE__, "item iff success: %s", cases[i].what);
		smp_cbor_freep(&item);
	}
}

/* Nesting: 16 levels below the top are allowed, 17 are too deep, whatever the container or tag. */
static void test_depth_cap(void)
{
	static const uint8_t openers[] = { 0x81, 0x9f, 0xc1 }; /* [x], [_ x, and tag(1, x) */

	for (size_t o = 0; o < ARRAY_SIZE(openers); o++)
		for (size_t levels = SMP_CBOR_MAX_DEPTH; levels <= SMP_CBOR_MAX_DEPTH + 1; levels++) {
			uint8_t buf[2 * (SMP_CBOR_MAX_DEPTH + 2)];
			size_t n = 0;

			for (size_t i = 0; i < levels; i++)
				buf[n++] = openers[o];
			buf[n++] = 0x00;
			if (openers[o] == 0x9f)
				for (size_t i = 0; i < levels; i++)
					buf[n++] = 0xff;
			tap_checkf(smp_cbor_check(buf, n) == (levels > SMP_CBOR_MAX_DEPTH ? -E2BIG : 0), __FILE__, __LINE__,
				   "opener %02x, %zu levels", openers[o], levels);
		}
}

/* Deep nesting of maps, far beyond the cap, is refused without recursing through all of it. */
static void test_deep_maps_refused(void)
{
	uint8_t buf[3 * 1000 + 1];
	size_t n = 0;

	for (int i = 0; i < 1000; i++) {
		buf[n++] = 0xa1; /* {"a": {"a": …}} */
		buf[n++] = 0x61;
		buf[n++] = 'a';
	}
	buf[n++] = 0x00;
	CHECK_INT(smp_cbor_check(buf, n), -E2BIG);
}

/* Items: SMP_CBOR_MAX_ITEMS below the top item pass, one more is too many, for both length forms. */
static void test_item_cap(void)
{
	size_t size = SMP_CBOR_MAX_ITEMS + 8;
	uint8_t *buf = calloc(1, size);

	CHECK(buf != NULL);
	if (!buf)
		return;
	for (size_t items = SMP_CBOR_MAX_ITEMS; items <= SMP_CBOR_MAX_ITEMS + 1; items++) {
		int want = items > SMP_CBOR_MAX_ITEMS ? -E2BIG : 0;

		buf[0] = 0x9f; /* [_ 0, 0, …] */
		memset(buf + 1, 0x00, items);
		buf[1 + items] = 0xff;
		CHECK_INT(smp_cbor_check(buf, items + 2), want);
		buf[0] = 0x99; /* [0, 0, …] with a two-byte count */
		buf[1] = (uint8_t)(items >> 8);
		buf[2] = (uint8_t)items;
		memset(buf + 3, 0x00, items);
		CHECK_INT(smp_cbor_check(buf, items + 3), want);
	}
	free(buf);
}

/* An answer refused for its size still tells how long its list is: the first array value of the top map,
 * after keys with other values, in definite and indefinite maps (the entries follow as zero bytes); none,
 * a count larger than the bytes left, or a cut head is said so. */
static void test_peek_array_count(void)
{
	static const struct {
		const char *hex;
		size_t entries;
		int r;
	} cases[] = {
		{ "a2 62 72 63 00 66 696d61676573 99 01 2c", 300, 0 }, /* {"rc": 0, "images": [300 entries]} */
		{ "bf 61 61 a1 61 62 01 61 6c 99 10 00", 4096, 0 },      /* {_ "a": {"b": 1}, "l": [4096]} */
		{ "a1 61 6c 99 10 00", 4095, -EBADMSG },                 /* one entry short */
		{ "a1 61 6c 9f ff", 0, -ENOENT },                        /* an indefinite array: no count */
		{ "a1 62 72 63 00", 0, -ENOENT },                        /* no array */
		{ "83 01 02 03", 0, -ENOENT },                           /* not a map */
		{ "a1 61 6c 9b", 0, -EBADMSG },                          /* a cut head */
	};
	static uint8_t buf[64 + 4096];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t n = bytes_from_spaced_hex(cases[i].hex, buf, 64);
		uint64_t count = 0;

		memset(buf + n, 0x00, cases[i].entries);
		CHECK_INT(smp_cbor_peek_array_count(buf, n + cases[i].entries, &count), cases[i].r);
		CHECK_INT(count, cases[i].r == 0 ? cases[i].entries : 0);
	}
}

/* Lookups work in indefinite maps with chunked keys; duplicates resolve to the first; types are checked. */
static void test_lookups(void)
{
	/* {_ "rc": 8, "rc": 9, (_ "na" "me"): "x", "b": h'0102', "t": true, "n": -5, 1: 2} */
	cbor_item_t *m = decode_ok("bf 62 72 63 08 62 72 63 09 7f 62 6e 61 62 6d 65 ff 61 78 61 62 42 01 02"
				   " 61 74 f5 61 6e 24 01 02 ff");
	uint8_t bytes[4];
	uint64_t u;
	int64_t i;
	bool b;
	char text[8];
	size_t n;

	CHECK_INT(smp_cbor_get_uint(m, "rc", &u), 0);
	CHECK_INT(u, 8);
	CHECK_INT(smp_cbor_get_text(m, "name", text, sizeof(text)), 0);
	CHECK_STR(text, "x");
	CHECK(smp_cbor_map_get(m, "nam") == NULL && smp_cbor_map_get(m, "names") == NULL);
	CHECK_INT(smp_cbor_get_bytes(m, "b", bytes, sizeof(bytes), &n), 0);
	CHECK_INT(n, 2);
	CHECK(bytes[0] == 1 && bytes[1] == 2);
	CHECK_INT(smp_cbor_get_bool(m, "t", &b), 0);
	CHECK(b);
	CHECK_INT(smp_cbor_get_int(m, "n", &i), 0);
	CHECK_INT(i, -5);
	CHECK_INT(smp_cbor_get_uint(m, "n", &u), -EBADMSG);
	CHECK_INT(smp_cbor_get_text(m, "rc", text, sizeof(text)), -EBADMSG);
	CHECK_INT(smp_cbor_get_bytes(m, "name", bytes, sizeof(bytes), &n), -EBADMSG);
	CHECK_INT(smp_cbor_get_bool(m, "rc", &b), -EBADMSG);
	CHECK_INT(smp_cbor_get_bytes(m, "b", bytes, 1, &n), -EMSGSIZE);
	CHECK_INT(smp_cbor_get_uint(m, "absent", &u), -ENOENT);
	CHECK(smp_cbor_map_get(NULL, "rc") == NULL);
	CHECK(smp_cbor_map_get(m, NULL) == NULL);
	CHECK_INT(smp_cbor_item_uint(NULL, &u), -EBADMSG);
	CHECK_INT(smp_cbor_item_text(NULL, text, sizeof(text)), -EBADMSG);
	smp_cbor_freep(&m);
	CHECK(m == NULL);
	smp_cbor_freep(&m); /* a second call on NULL is harmless */
}

/* Lookups in a definite map, chunked values, and a non-map container. */
static void test_definite_map_and_chunked_values(void)
{
	/* {"v": (_ "1." "2"), "h": (_ h'01' h'0203')} */
	cbor_item_t *m = decode_ok("a2 61 76 7f 62 31 2e 61 32 ff 61 68 5f 41 01 42 02 03 ff");
	cbor_item_t *arr = decode_ok("82 61 61 00");
	uint8_t bytes[3];
	char text[4];
	size_t n;
	uint64_t u;

	CHECK_INT(smp_cbor_get_text(m, "v", text, sizeof(text)), 0);
	CHECK_STR(text, "1.2");
	CHECK_INT(smp_cbor_get_text(m, "v", text, 3), -EMSGSIZE); /* no room for the NUL */
	CHECK_INT(smp_cbor_get_bytes(m, "h", bytes, sizeof(bytes), &n), 0);
	CHECK_INT(n, 3);
	CHECK(bytes[0] == 1 && bytes[1] == 2 && bytes[2] == 3);
	CHECK_INT(smp_cbor_get_bytes(m, "h", bytes, 2, &n), -EMSGSIZE);
	CHECK_INT(smp_cbor_item_text(smp_cbor_map_get(m, "v"), text, 0), -EMSGSIZE);
	CHECK_INT(smp_cbor_get_uint(arr, "a", &u), -ENOENT);
	smp_cbor_freep(&m);
	smp_cbor_freep(&arr);
}

/* A text that does not fit is cut, NUL-terminated, on a whole UTF-8 character, and reported. */
static void test_text_cut(void)
{
	static const struct {
		const char *hex;
		size_t size;
		int r;
		const char *want;
	} cases[] = {
		{ "63 61 62 63", 4, 0, "abc" },
		{ "63 61 62 63", 3, -EMSGSIZE, "ab" },
		{ "63 61 c3 a9", 4, 0, "a\xc3\xa9" },       /* "aé" */
		{ "63 61 c3 a9", 3, -EMSGSIZE, "a" },           /* not "a\xc3" */
		{ "64 61 e2 82 ac", 4, -EMSGSIZE, "a" },        /* "a€" */
		{ "65 61 f0 9f 98 80", 5, -EMSGSIZE, "a" },     /* "a😀" */
		{ "65 61 f0 9f 98 80", 6, 0, "a\xf0\x9f\x98\x80" },
		{ "7f 61 61 62 c3 a9 ff", 3, -EMSGSIZE, "a" },  /* chunked */
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cbor_item_t *item = decode_ok(cases[i].hex);
		char out[16];
		int r = smp_cbor_item_text(item, out, cases[i].size);

		tap_checkf(r == cases[i].r && strcmp(out, cases[i].want) == 0, __FILE__, __LINE__, "%s into %zu: %d",
			   cases[i].hex, cases[i].size, r);
		smp_cbor_freep(&item);
	}
}

typedef struct IntCase {
	const char *hex;
	int uint_r;
	uint64_t uint_v;
	int int_r;
	int64_t int_v;
} IntCase;

/* Integer getters: every width, and values that do not fit int64 or are negative for uint. */
static void test_integer_ranges(void)
{
	static const IntCase cases[] = {
		{ "00", 0, 0, 0, 0 },
		{ "17", 0, 23, 0, 23 },
		{ "18 18", 0, 24, 0, 24 },
		{ "19 01 00", 0, 256, 0, 256 },
		{ "1a 00 01 00 00", 0, 65536, 0, 65536 },
		{ "1b 7f ff ff ff ff ff ff ff", 0, INT64_MAX, 0, INT64_MAX },
		{ "1b 80 00 00 00 00 00 00 00", 0, 1ull << 63, -EBADMSG, 0 },
		{ "1b ff ff ff ff ff ff ff ff", 0, UINT64_MAX, -EBADMSG, 0 },
		{ "20", -EBADMSG, 0, 0, -1 },
		{ "39 03 e7", -EBADMSG, 0, 0, -1000 },
		{ "3b 7f ff ff ff ff ff ff ff", -EBADMSG, 0, 0, INT64_MIN },
		{ "3b 80 00 00 00 00 00 00 00", -EBADMSG, 0, -EBADMSG, 0 },
		{ "f9 3c 00", -EBADMSG, 0, -EBADMSG, 0 },
		{ "f5", -EBADMSG, 0, -EBADMSG, 0 },
		{ "c1 00", -EBADMSG, 0, -EBADMSG, 0 }, /* a tagged number is not a plain one */
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cbor_item_t *item = decode_ok(cases[i].hex);
		uint64_t u = 0;
		int64_t v = 0;
		int ru = smp_cbor_item_uint(item, &u), ri = smp_cbor_item_int(item, &v);

		tap_checkf(ru == cases[i].uint_r && (ru < 0 || u == cases[i].uint_v), __FILE__, __LINE__, "uint %s: %d",
			   cases[i].hex, ru);
		tap_checkf(ri == cases[i].int_r && (ri < 0 || v == cases[i].int_v), __FILE__, __LINE__, "int %s: %d",
			   cases[i].hex, ri);
		smp_cbor_freep(&item);
	}
}

/* Booleans are true and false only; null, undefined and floats are the wrong type (libcbor 0.8's
 * cbor_is_bool() aborts on a float: found by fuzzing). */
static void test_bool_getter(void)
{
	static const struct {
		const char *hex;
		int r;
		bool v;
	} cases[] = {
		{ "f5", 0, true }, { "f4", 0, false }, { "f6", -EBADMSG, false }, { "f7", -EBADMSG, false },
		{ "f9 3c 00", -EBADMSG, false }, { "fb 3f f0 00 00 00 00 00 00", -EBADMSG, false },
		{ "01", -EBADMSG, false },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cbor_item_t *item = decode_ok(cases[i].hex);
		bool b = !cases[i].v;
		int r = smp_cbor_item_bool(item, &b);

		tap_checkf(r == cases[i].r && (r < 0 || b == cases[i].v), __FILE__, __LINE__, "%s: %d", cases[i].hex, r);
		smp_cbor_freep(&item);
	}
}

/* Writes a fixed sequence of every put_* into w. */
static void write_everything(SmpCborWriter *w)
{
	static const uint8_t blob[300] = { 7 };

	smp_cbor_put_map(w, 2);
	smp_cbor_put_text(w, "a");
	smp_cbor_put_uint(w, 256);
	smp_cbor_put_text_n(w, "bcd", 1);
	smp_cbor_put_array(w, 7);
	smp_cbor_put_int(w, -1);
	smp_cbor_put_int(w, INT64_MIN);
	smp_cbor_put_int(w, INT64_MAX);
	smp_cbor_put_bool(w, true);
	smp_cbor_put_bytes(w, blob, sizeof(blob));
	smp_cbor_put_indef_map(w);
	smp_cbor_put_break(w);
	smp_cbor_put_indef_array(w);
	smp_cbor_put_break(w);
}

/* The writer produces the expected bytes, and every buffer one byte too small reports an overflow
 * without writing past its end. */
static void test_writer_bounds(void)
{
	static const char *want_head = "a2 61 61 19 01 00 61 62 87 20 3b 7f ff ff ff ff ff ff ff"
				       " 1b 7f ff ff ff ff ff ff ff f5 59 01 2c 07";
	uint8_t want[64], buf[400], guard[400 + 16];
	size_t head = bytes_from_spaced_hex(want_head, want, sizeof(want));
	SmpCborWriter w;
	int full;

	smp_cbor_writer_init(&w, buf, sizeof(buf));
	write_everything(&w);
	full = smp_cbor_writer_done(&w);
	CHECK_INT(full, head + 299 + 4);
	CHECK_MEM(buf, want, head);
	CHECK(buf[full - 4] == 0xbf && buf[full - 3] == 0xff && buf[full - 2] == 0x9f && buf[full - 1] == 0xff);
	CHECK_INT(smp_cbor_check(buf, (size_t)full), 0);
	for (size_t cap = 0; cap < (size_t)full; cap++) {
		memset(guard, 0xee, sizeof(guard));
		smp_cbor_writer_init(&w, guard, cap);
		write_everything(&w);
		tap_checkf(smp_cbor_writer_done(&w) == -EMSGSIZE && w.len <= cap, __FILE__, __LINE__, "cap %zu", cap);
		CHECK(guard[cap] == 0xee);
	}
}

/* Head sizes step at 24, 256, 65536 and 2^32 (RFC 8949 §3). */
static void test_head_size(void)
{
	static const struct {
		uint64_t v;
		size_t size;
	} cases[] = {
		{ 0, 1 }, { 23, 1 }, { 24, 2 }, { 255, 2 }, { 256, 3 }, { 65535, 3 }, { 65536, 5 },
		{ 0xffffffffu, 5 }, { 1ull << 32, 9 }, { UINT64_MAX, 9 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t buf[9];
		SmpCborWriter w;

		CHECK_INT(smp_cbor_head_size(cases[i].v), cases[i].size);
		smp_cbor_writer_init(&w, buf, sizeof(buf));
		smp_cbor_put_uint(&w, cases[i].v);
		CHECK_INT(smp_cbor_writer_done(&w), cases[i].size);
	}
}

/* Everything the writer writes, the checker accepts and the decoder reads back. */
static void test_writer_output_reads_back(void)
{
	uint8_t buf[64];
	SmpCborWriter w;
	cbor_item_t *m = NULL;
	int64_t v;
	bool b;

	smp_cbor_writer_init(&w, buf, sizeof(buf));
	smp_cbor_put_indef_map(&w);
	smp_cbor_put_text(&w, "neg");
	smp_cbor_put_int(&w, -1000);
	smp_cbor_put_text(&w, "arr");
	smp_cbor_put_indef_array(&w);
	smp_cbor_put_bool(&w, false);
	smp_cbor_put_break(&w);
	smp_cbor_put_text(&w, "f");
	smp_cbor_put_bool(&w, false);
	smp_cbor_put_break(&w);
	CHECK(smp_cbor_writer_done(&w) > 0);
	CHECK_INT(smp_cbor_decode(buf, w.len, &m), 0);
	CHECK_INT(smp_cbor_get_int(m, "neg", &v), 0);
	CHECK_INT(v, -1000);
	CHECK_INT(smp_cbor_get_bool(m, "f", &b), 0);
	CHECK(!b);
	CHECK(cbor_isa_array(smp_cbor_map_get(m, "arr")));
	smp_cbor_freep(&m);
}

int main(void)
{
	static const TapTest tests[] = {
		TAP_TEST(test_check_and_decode_table),
		TAP_TEST(test_depth_cap),
		TAP_TEST(test_deep_maps_refused),
		TAP_TEST(test_item_cap),
		TAP_TEST(test_peek_array_count),
		TAP_TEST(test_lookups),
		TAP_TEST(test_definite_map_and_chunked_values),
		TAP_TEST(test_text_cut),
		TAP_TEST(test_integer_ranges),
		TAP_TEST(test_bool_getter),
		TAP_TEST(test_writer_bounds),
		TAP_TEST(test_head_size),
		TAP_TEST(test_writer_output_reads_back),
	};
	return tap_run(tests, ARRAY_SIZE(tests));
}
