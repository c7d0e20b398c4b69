/* SPDX-License-Identifier: MIT */
/* The frames captured from a real nRF52833 (tests/vectors/seed-frames.json): headers decode to exactly
 * the listed fields and re-encode byte for byte; bodies decode to exactly the listed values; requests
 * rebuilt by our builders decode to the same values (ISSUE-NOTES 6: compare values, not bytes). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt.h"
#include "seed-frames.h"
#include "smp-cbor.h"
#include "smp-error.h"
#include "smp.h"
#include "tap.h"
#include "util.h"

typedef struct Text {
	char buf[4096];
	size_t len;
} Text;

static void text_add(Text *t, const char *s)
{
	size_t n = strlen(s);

	if (t->len + n < sizeof(t->buf)) {
		memcpy(t->buf + t->len, s, n + 1);
		t->len += n;
	}
}

static int compare_pairs(const void *a, const void *b)
{
	char ka[64], kb[64];

	smp_cbor_item_text(((const struct cbor_pair *)a)->key, ka, sizeof(ka));
	smp_cbor_item_text(((const struct cbor_pair *)b)->key, kb, sizeof(kb));
	return strcmp(ka, kb);
}

/* Canonical JSON as gen-seed-frames.py writes it: sorted keys, no spaces, bytes as {"bytes_hex":…}. */
static void render(const cbor_item_t *item, Text *t)
{
	char buf[600];

	if (cbor_isa_map(item)) {
		size_t n = cbor_map_size(item);
		struct cbor_pair pairs[32];

		if (n) {
			memcpy(pairs, cbor_map_handle(item), MIN(n, ARRAY_SIZE(pairs)) * sizeof(pairs[0]));
			qsort(pairs, MIN(n, ARRAY_SIZE(pairs)), sizeof(pairs[0]), compare_pairs);
		}
		text_add(t, "{");
		for (size_t i = 0; i < MIN(n, ARRAY_SIZE(pairs)); i++) {
			smp_cbor_item_text(pairs[i].key, buf, sizeof(buf));
			text_add(t, i ? ",\"" : "\"");
			text_add(t, buf);
			text_add(t, "\":");
			render(pairs[i].value, t);
		}
		text_add(t, "}");
	} else if (cbor_isa_array(item)) {
		text_add(t, "[");
		for (size_t i = 0; i < cbor_array_size(item); i++) {
			if (i)
				text_add(t, ",");
			render(cbor_array_handle(item)[i], t);
		}
		text_add(t, "]");
	} else if (cbor_isa_string(item)) {
		char s[256];

		smp_cbor_item_text(item, s, sizeof(s));
		snprintf(buf, sizeof(buf), "\"%s\"", s);
		text_add(t, buf);
	} else if (cbor_isa_bytestring(item)) {
		uint8_t b[128];
		char hex[257];
		size_t n = 0;

		smp_cbor_item_bytes(item, b, sizeof(b), &n);
		snprintf(buf, sizeof(buf), "{\"bytes_hex\":\"%s\"}", hex_encode(b, n, hex));
		text_add(t, buf);
	} else if (cbor_isa_float_ctrl(item)) {
		bool b = false;

		text_add(t, smp_cbor_item_bool(item, &b) < 0 ? "?" : b ? "true" : "false");
	} else if (cbor_is_int(item)) {
		int64_t v = 0;

		smp_cbor_item_int(item, &v);
		snprintf(buf, sizeof(buf), "%lld", (long long)v);
		text_add(t, buf);
	} else {
		text_add(t, "?");
	}
}

static size_t frame_bytes(const SeedFrame *f, uint8_t *out, size_t size)
{
	int n = hex_decode(f->hex, out, size);

	CHECK(n > 0);
	return n > 0 ? (size_t)n : 0;
}

/* Every header decodes to the listed fields and encodes back to the same 8 bytes. */
static void test_headers_round_trip(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(seed_frames); i++) {
		const SeedFrame *f = &seed_frames[i];
		uint8_t buf[512], again[SMP_HEADER_SIZE];
		size_t n = frame_bytes(f, buf, sizeof(buf));
		SmpHeader h;

		CHECK_INT(smp_header_decode(buf, n, &h), 0);
		CHECK_INT(h.op, f->op);
		CHECK_INT(h.version, f->version);
		CHECK_INT(h.flags, f->flags);
		CHECK_INT(h.len, f->len);
		CHECK_INT(h.group, f->group);
		CHECK_INT(h.seq, f->seq);
		CHECK_INT(h.id, f->id);
		CHECK_INT(n, SMP_HEADER_SIZE + h.len);
		smp_header_encode(&h, again);
		CHECK_MEM(again, buf, SMP_HEADER_SIZE);
	}
}

/* Every body (definite and indefinite forms alike) decodes to exactly the listed values. */
static void test_bodies_decode_to_listed_values(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(seed_frames); i++) {
		uint8_t buf[512];
		size_t n = frame_bytes(&seed_frames[i], buf, sizeof(buf));
		cbor_item_t *item = NULL;
		Text t = { .len = 0 };

		CHECK_INT(smp_cbor_decode(buf + SMP_HEADER_SIZE, n - SMP_HEADER_SIZE, &item), 0);
		if (!item)
			continue;
		render(item, &t);
		tap_checkf(strcmp(t.buf, seed_frames[i].body_json) == 0, __FILE__, __LINE__, "%s: %s != %s",
			   seed_frames[i].what, t.buf, seed_frames[i].body_json);
		cbor_decref(&item);
	}
}

static cbor_item_t *body_of(size_t index)
{
	uint8_t buf[512];
	size_t n = frame_bytes(&seed_frames[index], buf, sizeof(buf));
	cbor_item_t *item = NULL;

	CHECK_INT(smp_cbor_decode(buf + SMP_HEADER_SIZE, n - SMP_HEADER_SIZE, &item), 0);
	return item;
}

/* The responses through the management decoders: params, the image list, storage erase's rc 8. */
static void test_responses_through_decoders(void)
{
	cbor_item_t *params = body_of(1), *list = body_of(3), *erase = body_of(5);
	MgmtParams p;
	MgmtImageList l;
	SmpStatus st;
	uint8_t h1[32];

	CHECK_INT(smp_status_decode(params, &st), 0);
	CHECK_INT(st.kind, SMP_STATUS_OK);
	CHECK_INT(mgmt_decode_params(params, &p), 0);
	CHECK_INT(p.buf_size, 2475);
	CHECK_INT(p.buf_count, 4);
	CHECK_INT(mgmt_decode_image_list(list, &l), 0);
	CHECK_INT(l.count, 2);
	CHECK(l.slots[0].active && l.slots[0].confirmed && l.slots[0].bootable && !l.slots[0].pending);
	CHECK(l.slots[1].pending && !l.slots[1].confirmed && !l.slots[1].active && !l.slots[1].permanent);
	CHECK_STR(l.slots[1].version, "0.0.0");
	hex_decode("bc1d3df30f1f9bc193c259ccf486d1fd7531f232442baf7118fe4f2d34440d58", h1, sizeof(h1));
	CHECK(mgmt_image_list_find_hash(&l, h1, 32) == &l.slots[1]);
	CHECK(l.has_split_status && l.split_status == 0);
	CHECK_INT(smp_status_decode(erase, &st), 0);
	CHECK_INT(st.kind, SMP_STATUS_RC);
	CHECK_INT(st.rc, 8);
	cbor_decref(&params);
	cbor_decref(&list);
	cbor_decref(&erase);
}

/* Rebuilds a captured request's body with our builder for its (group, command, op); its values come
 * from the captured body itself. Returns the length, or -ENOENT for a request we do not build. */
static int rebuild_request(const SeedFrame *f, const cbor_item_t *captured, uint8_t *out, size_t size)
{
	uint8_t hash[MGMT_HASH_MAX];
	size_t hash_len = 0;
	bool confirm = false;

	if (f->group == SMP_GROUP_IMAGE && f->id == SMP_IMAGE_STATE && f->op == SMP_OP_WRITE) {
		int r = smp_cbor_get_bytes(captured, "hash", hash, sizeof(hash), &hash_len);

		CHECK(r == 0 || r == -ENOENT);
		CHECK_INT(smp_cbor_get_bool(captured, "confirm", &confirm), 0);
		return mgmt_build_image_state_write(out, size, r == 0 ? hash : NULL, hash_len, confirm);
	}
	if ((f->group == SMP_GROUP_OS && f->id == SMP_OS_PARAMS && f->op == SMP_OP_READ) ||
	    (f->group == SMP_GROUP_IMAGE && f->id == SMP_IMAGE_STATE && f->op == SMP_OP_READ) ||
	    (f->group == SMP_GROUP_ZEPHYR_BASIC && f->id == SMP_ZBASIC_ERASE_STORAGE && f->op == SMP_OP_WRITE))
		return mgmt_build_empty(out, size);
	return -ENOENT;
}

/* Our builders produce requests with the same values as the captured ones (definite maps where the
 * capture may be indefinite: values are compared, not bytes, ISSUE-NOTES 6), and the header re-encodes. */
static void test_requests_rebuilt(void)
{
	size_t rebuilt = 0;

	for (size_t i = 0; i < ARRAY_SIZE(seed_frames); i++) {
		const SeedFrame *f = &seed_frames[i];
		cbor_item_t *captured, *item = NULL;
		uint8_t body[128], frame[SMP_HEADER_SIZE];
		SmpHeader h = { .op = f->op, .version = f->version, .flags = f->flags, .group = f->group, .seq = f->seq,
				.id = f->id };
		Text got = { .len = 0 };
		int n;

		if (!f->tx)
			continue;
		captured = body_of(i);
		n = rebuild_request(f, captured, body, sizeof(body));
		tap_checkf(n > 0, __FILE__, __LINE__, "%s: rebuilt (%d)", f->what, n);
		smp_cbor_freep(&captured);
		if (n <= 0)
			continue;
		rebuilt++;
		CHECK_INT(smp_cbor_decode(body, (size_t)n, &item), 0);
		render(item, &got);
		tap_checkf(strcmp(got.buf, f->body_json) == 0, __FILE__, __LINE__, "%s: %s != %s", f->what, got.buf,
			   f->body_json);
		h.len = (uint16_t)n;
		smp_header_encode(&h, frame);
		CHECK(smp_header_decode(frame, sizeof(frame), &h) == 0 && h.group == f->group && h.id == f->id &&
		      h.op == f->op && h.seq == f->seq && h.len == n);
		smp_cbor_freep(&item);
	}
	CHECK_INT(rebuilt, 4);
}

/* Every cut of every captured frame, header included, is refused cleanly: a short header, or a body
 * shorter than the header says and not decodable. */
static void test_truncations_refused(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(seed_frames); i++) {
		uint8_t buf[512];
		size_t n = frame_bytes(&seed_frames[i], buf, sizeof(buf));

		for (size_t cut = 0; cut < n; cut++) {
			cbor_item_t *item = NULL;
			SmpHeader h;

			if (cut < SMP_HEADER_SIZE) {
				CHECK_INT(smp_header_decode(buf, cut, &h), -EBADMSG);
				continue;
			}
			CHECK_INT(smp_header_decode(buf, cut, &h), 0);
			CHECK(h.len > cut - SMP_HEADER_SIZE);
			tap_checkf(smp_cbor_decode(buf + SMP_HEADER_SIZE, cut - SMP_HEADER_SIZE, &item) == -EBADMSG,
				   __FILE__, __LINE__, "%s cut at %zu", seed_frames[i].what, cut);
			CHECK(item == NULL);
		}
	}
}

/* A byte of garbage after any captured body is refused (one item per body). */
static void test_trailing_garbage_refused(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(seed_frames); i++) {
		uint8_t buf[512];
		size_t n = frame_bytes(&seed_frames[i], buf, sizeof(buf) - 1);
		cbor_item_t *item = NULL;

		buf[n] = 0x00;
		CHECK_INT(smp_cbor_decode(buf + SMP_HEADER_SIZE, n + 1 - SMP_HEADER_SIZE, &item), -EBADMSG);
		CHECK(item == NULL);
	}
}

/* None of the management decoders accepts a body that is not its answer (none of these carries the
 * required fields). */
static void check_decoders_refuse(const cbor_item_t *body)
{
	MgmtParams p;
	MgmtImageList l;
	MgmtUploadRsp u;
	char text[32];

	CHECK_INT(mgmt_decode_params(body, &p), -EBADMSG);
	CHECK_INT(mgmt_decode_image_list(body, &l), -EBADMSG);
	CHECK_INT(mgmt_decode_upload_rsp(body, &u), -EBADMSG);
	CHECK_INT(mgmt_decode_echo(body, text, sizeof(text)), -EBADMSG);
	CHECK_INT(mgmt_decode_os_info(body, text, sizeof(text)), -EBADMSG);
	CHECK_INT(mgmt_decode_datetime(body, text, sizeof(text)), -EBADMSG);
}

typedef struct Hostile {
	const char *what;
	const char *body_hex;
	int decode;  /* smp_cbor_decode() */
	int status;  /* smp_status_decode(), when decoded */
	SmpStatusKind kind;
	int32_t rc;
} Hostile;

/* Hostile and malformed response bodies: refused before libcbor sees them, or decoded and then judged by
 * the status decoder; every management decoder runs over what decodes and refuses what is not its
 * answer. */
static void test_hostile_responses(void)
{
	static const Hostile cases[] = {
		{ "ISSUE-NOTES 5: 9 bytes asking for 1 GiB", "9b0000000008000000", -EBADMSG, 0, 0, 0 },
		{ "map declaring 2^32 pairs", "bb 0000000100000000 62 7263 08", -EBADMSG, 0, 0, 0 },
		{ "rsn declaring 4 GiB", "a1 63 72736e 7a ffffffff", -EBADMSG, 0, 0, 0 },
		{ "images declaring 2^60 entries", "a166696d616765739b1000000000000000", -EBADMSG, 0, 0, 0 },
		{ "deep nesting", "8181818181818181818181818181818181818100", -E2BIG, 0, 0, 0 },
		{ "trailing garbage", "bf62726308ff00", -EBADMSG, 0, 0, 0 },
		{ "unterminated indefinite map", "bf627263", -EBADMSG, 0, 0, 0 },
		{ "rc as text", "bf6272636138ff", 0, -EBADMSG, SMP_STATUS_OK, 0 },
		{ "rc as float", "a1627263f94000", 0, -EBADMSG, SMP_STATUS_OK, 0 },
		{ "err as an array", "a16365727282 0102", 0, -EBADMSG, SMP_STATUS_OK, 0 },
		{ "duplicate rc: the first counts", "bf627263086272630 0ff", 0, 0, SMP_STATUS_RC, 8 },
		{ "chunked rsn", "bf 62 7263 09 63 72736e 7f 62 6672 62 616d ff ff", 0, 0, SMP_STATUS_RC, 9 },
		{ "chunked key rc", "bf7f617261 63ff07ff", 0, 0, SMP_STATUS_RC, 7 },
		{ "body is an array", "9f00ff", 0, -EBADMSG, SMP_STATUS_OK, 0 },
		{ "body is a bare int", "08", 0, -EBADMSG, SMP_STATUS_OK, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char clean[128];
		uint8_t buf[64];
		size_t k = 0;
		cbor_item_t *body = NULL;
		SmpStatus st;
		int n, r;

		for (const char *c = cases[i].body_hex; *c; c++)
			if (*c != ' ')
				clean[k++] = *c;
		clean[k] = '\0';
		n = hex_decode(clean, buf, sizeof(buf));
		CHECK(n > 0);
		r = smp_cbor_decode(buf, n > 0 ? (size_t)n : 0, &body);
		tap_checkf(r == cases[i].decode, __FILE__, __LINE__, "%s: decode %d", cases[i].what, r);
		if (r < 0)
			continue;
		r = smp_status_decode(body, &st);
		tap_checkf(r == cases[i].status && (r < 0 || (st.kind == cases[i].kind && st.rc == cases[i].rc)), __FILE__,
			   __LINE__, "%s: status %d kind %d rc %d", cases[i].what, r, st.kind, st.rc);
		check_decoders_refuse(body);
		smp_cbor_freep(&body);
	}
}

int main(void)
{
	static const TapTest tests[] = {
		TAP_TEST(test_headers_round_trip),
		TAP_TEST(test_bodies_decode_to_listed_values),
		TAP_TEST(test_responses_through_decoders),
		TAP_TEST(test_requests_rebuilt),
		TAP_TEST(test_truncations_refused),
		TAP_TEST(test_trailing_garbage_refused),
		TAP_TEST(test_hostile_responses),
	};
	return tap_run(tests, ARRAY_SIZE(tests));
}
