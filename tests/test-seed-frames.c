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

/* Our builders produce requests with the same header and the same values as the captured ones. */
static void test_requests_rebuilt(void)
{
	uint8_t hash[32], body[128];
	Text want, got;
	int n;

	for (size_t i = 0; i < ARRAY_SIZE(seed_frames); i++) {
		const SeedFrame *f = &seed_frames[i];
		cbor_item_t *item = NULL;

		if (!f->tx)
			continue;
		if (f->group == SMP_GROUP_IMAGE && f->op == SMP_OP_WRITE) {
			hex_decode("bc1d3df30f1f9bc193c259ccf486d1fd7531f232442baf7118fe4f2d34440d58", hash, sizeof(hash));
			n = mgmt_build_image_state_write(body, sizeof(body), hash, 32, true);
		} else {
			n = mgmt_build_empty(body, sizeof(body));
		}
		CHECK(n > 0);
		CHECK_INT(smp_cbor_decode(body, (size_t)n, &item), 0);
		want = (Text){ .len = 0 };
		got = (Text){ .len = 0 };
		render(item, &got);
		text_add(&want, f->body_json);
		tap_checkf(strcmp(got.buf, want.buf) == 0, __FILE__, __LINE__, "%s: %s != %s", f->what, got.buf, want.buf);
		cbor_decref(&item);
	}
}

/* Every truncation of every captured frame's body is refused cleanly. */
static void test_truncations_refused(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(seed_frames); i++) {
		uint8_t buf[512];
		size_t n = frame_bytes(&seed_frames[i], buf, sizeof(buf));

		for (size_t cut = 0; cut < n - SMP_HEADER_SIZE; cut++) {
			cbor_item_t *item = NULL;

			CHECK_INT(smp_cbor_decode(buf + SMP_HEADER_SIZE, cut, &item), -EBADMSG);
			CHECK(item == NULL);
		}
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
	};
	return tap_run(tests, ARRAY_SIZE(tests));
}
