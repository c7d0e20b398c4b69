/* SPDX-License-Identifier: MIT */
/* Management builders and decoders; upload chunks fill a frame to the byte at every offset. */
#include <errno.h>
#include <string.h>

#include "mgmt.h"
#include "smp-cbor.h"
#include "smp.h"
#include "tap.h"
#include "util.h"

static cbor_item_t *decode_hex(const char *hex)
{
	uint8_t buf[512];
	cbor_item_t *item = NULL;
	int n = hex_decode(hex, buf, sizeof(buf));

	CHECK(n > 0);
	CHECK_INT(smp_cbor_decode(buf, (size_t)n, &item), 0);
	return item;
}

/* For many offsets, lengths and frame sizes the fitted chunk fills the frame exactly, or as near as the
 * growing CBOR head allows, and one byte more would not fit. */
static void test_chunk_fit_is_exact(void)
{
	static uint8_t data[70000];
	static const size_t frames[] = { 64, 128, 247, 384, 498, 1024, 2475, 4096, 65535 };
	static const uint64_t offsets[] = { 0, 23, 24, 255, 256, 65535, 65536, 1u << 20, 0xffffffffu };
	uint8_t *body = malloc(70000);

	for (size_t f = 0; f < ARRAY_SIZE(frames); f++)
		for (size_t o = 0; o < ARRAY_SIZE(offsets); o++)
			for (int first = 0; first < 2; first++) {
				MgmtUploadChunk c = { .off = offsets[o], .first = first, .len = 0x36000,
						      .sha = data, .sha_len = 32, .data = data, .image = first ? 1 : 0 };
				size_t n = mgmt_upload_chunk_fit(&c, frames[f]);
				int body_len;

				if (n == 0)
					continue;
				c.data_len = n;
				body_len = mgmt_build_upload_chunk(body, 70000, &c);
				CHECK(body_len > 0);
				CHECK((size_t)body_len + SMP_HEADER_SIZE <= frames[f]);
				CHECK_INT((size_t)body_len, mgmt_upload_chunk_overhead(&c) + n);
				c.data_len = n + 1;
				tap_checkf(mgmt_upload_chunk_overhead(&c) + n + 1 + SMP_HEADER_SIZE > frames[f], __FILE__,
					   __LINE__, "frame %zu off %llu first %d: %zu fits, one more too", frames[f],
					   (unsigned long long)offsets[o], first, n);
			}
	free(body);
}

/* The first chunk carries len and sha; later ones do not; the body decodes to what was given. */
static void test_upload_chunk_fields(void)
{
	uint8_t sha[32] = { 1 }, data[10] = { 9 }, body[256];
	MgmtUploadChunk c = { .off = 0, .first = true, .len = 1000, .sha = sha, .sha_len = 32, .data = data,
			      .data_len = sizeof(data), .upgrade = true };
	cbor_item_t *m = NULL;
	uint64_t v;
	bool b;
	int n = mgmt_build_upload_chunk(body, sizeof(body), &c);

	CHECK(n > 0);
	CHECK_INT(smp_cbor_decode(body, (size_t)n, &m), 0);
	CHECK(smp_cbor_get_uint(m, "len", &v) == 0 && v == 1000);
	CHECK(smp_cbor_get_bool(m, "upgrade", &b) == 0 && b);
	CHECK(smp_cbor_map_get(m, "sha") != NULL);
	cbor_decref(&m);
	c.first = false;
	c.off = 500;
	n = mgmt_build_upload_chunk(body, sizeof(body), &c);
	CHECK_INT(smp_cbor_decode(body, (size_t)n, &m), 0);
	CHECK(smp_cbor_map_get(m, "len") == NULL && smp_cbor_map_get(m, "sha") == NULL);
	CHECK(smp_cbor_get_uint(m, "off", &v) == 0 && v == 500);
	cbor_decref(&m);
	CHECK_INT(mgmt_build_upload_chunk(body, 8, &c), -EMSGSIZE);
}

/* Image lists: false flags omitted, 48-byte hashes, indefinite arrays, entries without a slot refused. */
static void test_image_list_decoding(void)
{
	/* {_ "images": [_ {_ "slot": 1, "version": "1.2.3", "hash": h'00…' (48), "pending": true}]} */
	char hex[600] = "bf66696d616765739fbf64736c6f74016776657273696f6e65312e322e3364686173685830";
	MgmtImageList list;
	cbor_item_t *m;

	for (int i = 0; i < 48; i++)
		strcat(hex, "ab");
	strcat(hex, "6770656e64696e67f5ffffff");
	m = decode_hex(hex);
	CHECK_INT(mgmt_decode_image_list(m, &list), 0);
	CHECK_INT(list.count, 1);
	CHECK_INT(list.slots[0].slot, 1);
	CHECK_INT(list.slots[0].hash_len, 48);
	CHECK(list.slots[0].pending && !list.slots[0].active && !list.slots[0].confirmed);
	CHECK_STR(list.slots[0].version, "1.2.3");
	CHECK(mgmt_image_list_slot(&list, 1) == &list.slots[0]);
	CHECK(mgmt_image_list_slot(&list, 0) == NULL);
	cbor_decref(&m);
	m = decode_hex("a166696d6167657381a0"); /* an entry without "slot" */
	CHECK_INT(mgmt_decode_image_list(m, &list), -EBADMSG);
	cbor_decref(&m);
	m = decode_hex("a0");
	CHECK_INT(mgmt_decode_image_list(m, &list), -EBADMSG);
	cbor_decref(&m);
}

typedef struct DecodeCase {
	const char *what;
	const char *hex;
	int want;
} DecodeCase;

/* Params, echo, upload answers and bootloader info: right types accepted, wrong ones refused. */
static void test_decoders_table(void)
{
	static const DecodeCase params[] = {
		{ "params", "a268627566 5f73697a651909ab69627566 5f636f756e7404", 0 },
		{ "params without count", "a168627566 5f73697a651909ab", -EBADMSG },
		{ "params as text", "a268627566 5f73697a656178 69627566 5f636f756e7404", -EBADMSG },
	};
	static const DecodeCase uploads[] = {
		{ "off", "a1636f666618c8", 0 },
		{ "off and match", "a2636f666618c8656d61746368f5", 0 },
		{ "no off", "a0", -EBADMSG },
		{ "negative off", "a1636f666620", -EBADMSG },
		{ "match not a bool", "a2636f666618c8656d6174636801", -EBADMSG },
	};

	for (size_t i = 0; i < ARRAY_SIZE(params); i++) {
		char clean[200] = "";
		MgmtParams p;
		cbor_item_t *m;

		for (const char *c = params[i].hex; *c; c++)
			if (*c != ' ')
				strncat(clean, c, 1);
		m = decode_hex(clean);
		tap_checkf(mgmt_decode_params(m, &p) == params[i].want, __FILE__, __LINE__, "%s", params[i].what);
		cbor_decref(&m);
	}
	for (size_t i = 0; i < ARRAY_SIZE(uploads); i++) {
		MgmtUploadRsp r;
		cbor_item_t *m = decode_hex(uploads[i].hex);

		tap_checkf(mgmt_decode_upload_rsp(m, &r) == uploads[i].want, __FILE__, __LINE__, "%s", uploads[i].what);
		cbor_decref(&m);
	}
}

/* Requests with no fields are definite empty maps; echo and erase carry their field. */
static void test_small_builders(void)
{
	uint8_t body[64];

	CHECK_INT(mgmt_build_empty(body, sizeof(body)), 1);
	CHECK_INT(body[0], 0xa0);
	CHECK_INT(mgmt_build_echo(body, sizeof(body), "hi"), 6);
	CHECK_INT(mgmt_build_image_erase(body, sizeof(body), 1), 7);
	CHECK_INT(mgmt_build_image_erase(body, sizeof(body), -1), 1);
	CHECK_INT(mgmt_build_reset(body, sizeof(body), true), 8);
	CHECK_INT(mgmt_build_image_state_write(body, sizeof(body), NULL, 0, true), 10);
	CHECK_INT(mgmt_build_echo(body, 3, "hello"), -EMSGSIZE);
	CHECK_STR(mgmt_bootloader_mode_name(3), "swap-using-move (swap without scratch)");
	CHECK_STR(mgmt_bootloader_mode_name(-1), "unknown");
}

int main(void)
{
	static const TapTest tests[] = {
		TAP_TEST(test_chunk_fit_is_exact),
		TAP_TEST(test_upload_chunk_fields),
		TAP_TEST(test_image_list_decoding),
		TAP_TEST(test_decoders_table),
		TAP_TEST(test_small_builders),
	};
	return tap_run(tests, ARRAY_SIZE(tests));
}
