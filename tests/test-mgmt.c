/* SPDX-License-Identifier: MIT */
/* Management builders and decoders; upload chunks fill a frame to the byte at every offset. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt.h"
#include "smp-cbor.h"
#include "smp.h"
#include "cbor-hex.h"
#include "tap.h"
#include "util.h"

/* Builds c with the fitted data length and checks the frame: it fits, it is at most one byte short of
 * full (the data head can grow by one byte more than the data it makes room for), the overhead formula
 * matches the builder, and one data byte more does not fit. */
static void check_fit(MgmtUploadChunk c, size_t frame, uint8_t *body, size_t body_cap)
{
	size_t n = mgmt_upload_chunk_fit(&c, frame), limit = MIN(frame, SMP_HEADER_SIZE + 65535u);
	int len;

	c.data_len = n;
	len = mgmt_build_upload_chunk(body, body_cap, &c);
	if (n == 0) {
		c.data_len = 1;
		tap_checkf(SMP_HEADER_SIZE + mgmt_upload_chunk_overhead(&c) + 1 > limit, __FILE__, __LINE__,
			   "frame %zu: nothing fits, yet one byte would", frame);
		return;
	}
	tap_checkf(len > 0 && (size_t)len + SMP_HEADER_SIZE <= limit && (size_t)len + SMP_HEADER_SIZE + 1 >= limit,
		   __FILE__, __LINE__, "frame %zu off %llu first %d: body %d for %zu data bytes", frame,
		   (unsigned long long)c.off, c.first, len, n);
	tap_checkf(len > 0 && (size_t)len == mgmt_upload_chunk_overhead(&c) + n, __FILE__, __LINE__,
		   "overhead formula at frame %zu", frame);
	c.data_len = n + 1;
	tap_checkf(mgmt_build_upload_chunk(body, limit - SMP_HEADER_SIZE, &c) == -EMSGSIZE, __FILE__, __LINE__,
		   "frame %zu off %llu: %zu + 1 data bytes still fit", frame, (unsigned long long)c.off, n);
}

/* For many offsets, frame sizes and first-chunk fields the fitted chunk fills the frame exactly, or as
 * near as the growing CBOR head allows (heads grow at 24, 256 and 65536 bytes, offsets too). */
static void test_chunk_fit_is_exact(void)
{
	static const uint64_t offsets[] = { 0, 1, 23, 24, 255, 256, 65535, 65536, 1u << 20, 0xffffffffu, 1ull << 32 };
	static const uint32_t images[] = { 0, 1, 24 };
	uint8_t sha[64] = { 1 };
	size_t cap = SMP_HEADER_SIZE + 70000;
	uint8_t *data = calloc(1, cap), *body = malloc(cap);

	CHECK(data && body);
	if (!data || !body)
		goto out;
	for (size_t frame = 0; frame < 700; frame++)
		for (size_t o = 0; o < ARRAY_SIZE(offsets); o++)
			for (int variant = 0; variant < 4; variant++) {
				MgmtUploadChunk c = { .off = offsets[o], .first = variant & 1, .len = 0x36000, .sha = sha,
						      .sha_len = variant & 2 ? 32 : 0, .upgrade = variant == 3,
						      .image = images[(size_t)variant % ARRAY_SIZE(images)], .data = data };

				check_fit(c, frame, body, cap);
			}
	for (size_t frame = 240; frame < 70000; frame = frame * 5 / 4 + 1)
		for (size_t o = 0; o < ARRAY_SIZE(offsets); o++) {
			MgmtUploadChunk c = { .off = offsets[o], .first = o == 0, .len = 0x36000, .sha = sha, .sha_len = 64,
					      .data = data };

			check_fit(c, frame, body, cap);
		}
	/* Around each step of the data head: frames whose room is 22…27, 253…259, 65533…65540 bytes. */
	for (size_t frame = 0; frame < 70000; frame++) {
		MgmtUploadChunk c = { .off = 100, .data = data };

		if (frame % 4096 == 0 || (frame > 20 && frame < 60) || (frame > 250 && frame < 290) || frame > 65530)
			check_fit(c, frame, body, cap);
	}
out:
	free(data);
	free(body);
}

/* The header's 16-bit length caps a body at 65535 bytes, however large the frame. */
static void test_chunk_fit_caps_body(void)
{
	MgmtUploadChunk c = { .off = 0 };
	size_t n = mgmt_upload_chunk_fit(&c, 1u << 20);

	c.data_len = n;
	CHECK_INT(mgmt_upload_chunk_overhead(&c) + n, 65535);
}

/* The first chunk carries image, len, sha and upgrade; later ones only off and data, image 1's too. */
static void test_upload_chunk_fields(void)
{
	uint8_t sha[32] = { 1 }, data[10] = { 9 }, body[256], got[64];
	MgmtUploadChunk c = { .image = 1, .off = 0, .first = true, .len = 1000, .sha = sha, .sha_len = 32,
			      .data = data, .data_len = sizeof(data), .upgrade = true };
	cbor_item_t *m = NULL;
	uint64_t v;
	size_t n;
	bool b;
	int len = mgmt_build_upload_chunk(body, sizeof(body), &c);

	CHECK(len > 0);
	CHECK_INT(smp_cbor_decode(body, (size_t)len, &m), 0);
	CHECK(smp_cbor_get_uint(m, "image", &v) == 0 && v == 1);
	CHECK(smp_cbor_get_uint(m, "len", &v) == 0 && v == 1000);
	CHECK(smp_cbor_get_uint(m, "off", &v) == 0 && v == 0);
	CHECK(smp_cbor_get_bool(m, "upgrade", &b) == 0 && b);
	CHECK(smp_cbor_get_bytes(m, "sha", got, sizeof(got), &n) == 0 && n == 32 && memcmp(got, sha, 32) == 0);
	CHECK(smp_cbor_get_bytes(m, "data", got, sizeof(got), &n) == 0 && n == 10 && memcmp(got, data, 10) == 0);
	smp_cbor_freep(&m);
	c = (MgmtUploadChunk){ .image = 1, .off = 500, .data = data, .data_len = 3 };
	len = mgmt_build_upload_chunk(body, sizeof(body), &c);
	CHECK_INT(smp_cbor_decode(body, (size_t)len, &m), 0);
	CHECK(smp_cbor_map_get(m, "len") == NULL && smp_cbor_map_get(m, "sha") == NULL);
	CHECK(smp_cbor_map_get(m, "image") == NULL && smp_cbor_map_get(m, "upgrade") == NULL);
	CHECK(smp_cbor_get_uint(m, "off", &v) == 0 && v == 500);
	CHECK_INT(cbor_map_size(m), 2);
	smp_cbor_freep(&m);
	CHECK_INT(mgmt_build_upload_chunk(body, 8, &c), -EMSGSIZE);
}

/* Image lists: false flags omitted, 48-byte hashes, indefinite arrays, the image field. */
static void test_image_list_decoding(void)
{
	/* {_ "images": [_ {_ "image": 1, "slot": 1, "version": "1.2.3", "hash": h'ab…' (48), "pending": true},
	 *                 {"slot": 0, "hash": h'cd…' (64), "active": true, "confirmed": true}]} */
	char hex[1200] = "bf 66 696d61676573 9f bf 65 696d616765 01 64 736c6f74 01 67 76657273696f6e 65 312e322e33"
			 " 64 68617368 58 30";
	uint8_t want48[48], want64[64];
	MgmtImageList list;
	cbor_item_t *m;

	for (int i = 0; i < 48; i++)
		strcat(hex, "ab");
	strcat(hex, "67 70656e64696e67 f5 ff a4 64 736c6f74 00 64 68617368 58 40");
	for (int i = 0; i < 64; i++)
		strcat(hex, "cd");
	strcat(hex, "66 616374697665 f5 69 636f6e6669726d6564 f5 ff ff");
	memset(want48, 0xab, sizeof(want48));
	memset(want64, 0xcd, sizeof(want64));
	m = cbor_from_spaced_hex(hex);
	CHECK_INT(mgmt_decode_image_list(m, &list), 0);
	CHECK_INT(list.count, 2);
	CHECK_INT(list.slots[0].image, 1);
	CHECK_INT(list.slots[0].slot, 1);
	CHECK(mgmt_image_list_entry(&list, 1, 1) == &list.slots[0]);
	CHECK(mgmt_image_list_entry(&list, 0, 1) == NULL && mgmt_image_list_slot(&list, 1) == NULL);
	CHECK(mgmt_image_list_entry(&list, 0, 0) == &list.slots[1]);
	CHECK_INT(list.slots[0].hash_len, 48);
	CHECK(list.slots[0].pending && !list.slots[0].active && !list.slots[0].confirmed && !list.slots[0].bootable);
	CHECK_STR(list.slots[0].version, "1.2.3");
	CHECK_INT(list.slots[1].image, 0);
	CHECK_INT(list.slots[1].hash_len, 64);
	CHECK(list.slots[1].active && list.slots[1].confirmed && !list.slots[1].pending && !list.slots[1].permanent);
	CHECK_STR(list.slots[1].version, "");
	CHECK(!list.has_split_status);
	CHECK(mgmt_image_list_slot(&list, 0) == &list.slots[1]);
	CHECK(mgmt_image_list_slot(&list, 1) == NULL); /* that entry is image 1's */
	CHECK(mgmt_image_list_find_hash(&list, want48, 48) == &list.slots[0]);
	CHECK(mgmt_image_list_find_hash(&list, want64, 64) == &list.slots[1]);
	CHECK(mgmt_image_list_find_hash(&list, want64, 32) == NULL);
	CHECK(mgmt_image_list_find_hash(&list, want64, 0) == NULL);
	smp_cbor_freep(&m);
}

typedef struct DecodeCase {
	const char *what;
	const char *hex;
	int want;
} DecodeCase;

/* Image lists that are refused: missing or mistyped fields, oversized values. */
static void test_image_list_refusals(void)
{
	static const DecodeCase cases[] = {
		{ "no images", "a0", -EBADMSG },
		{ "images not an array", "a1 66 696d61676573 a0", -EBADMSG },
		{ "entry not a map", "a1 66 696d61676573 81 01", -EBADMSG },
		{ "entry without slot", "a1 66 696d61676573 81 a0", -EBADMSG },
		{ "slot as text", "a1 66 696d61676573 81 a1 64 736c6f74 61 30", -EBADMSG },
		{ "slot beyond 32 bits", "a1 66 696d61676573 81 a1 64 736c6f74 1b 0000000100000000", -EBADMSG },
		{ "image negative", "a1 66 696d61676573 81 a2 64 736c6f74 00 65 696d616765 20", -EBADMSG },
		{ "flag as a number", "a1 66 696d61676573 81 a2 64 736c6f74 00 66 616374697665 01", -EBADMSG },
		{ "hash as text", "a1 66 696d61676573 81 a2 64 736c6f74 00 64 68617368 61 61", -EBADMSG },
		{ "version as bytes", "a1 66 696d61676573 81 a2 64 736c6f74 00 67 76657273696f6e 41 31", -EBADMSG },
		{ "splitStatus as text", "a2 66 696d61676573 80 6b 73706c6974537461747573 61 30", -EBADMSG },
		{ "empty list", "a1 66 696d61676573 80", 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		MgmtImageList list;
		cbor_item_t *m = cbor_from_spaced_hex(cases[i].hex);
		int r = mgmt_decode_image_list(m, &list);

		tap_checkf(r == cases[i].want, __FILE__, __LINE__, "%s: %d", cases[i].what, r);
		smp_cbor_freep(&m);
	}
}

/* A hash longer than 64 bytes is refused; a list longer than MGMT_MAX_IMAGES is refused with its length
 * (keeping the first entries would hide the others); MGMT_MAX_IMAGES entries pass. */
static void test_image_list_limits(void)
{
	char hex[1400] = "a1 66 696d61676573 81 a2 64 736c6f74 00 64 68617368 58 41";
	MgmtImageList list;
	cbor_item_t *m;

	for (int i = 0; i < 65; i++)
		strcat(hex, "00");
	m = cbor_from_spaced_hex(hex);
	CHECK_INT(mgmt_decode_image_list(m, &list), -EBADMSG);
	smp_cbor_freep(&m);
	for (int entries = MGMT_MAX_IMAGES; entries <= 12; entries += 12 - MGMT_MAX_IMAGES) {
		strcpy(hex, "a1 66 696d61676573 9f");
		for (int i = 0; i < entries; i++) {
			char entry[32];

			snprintf(entry, sizeof(entry), " a1 64 736c6f74 %02x", i);
			strcat(hex, entry);
		}
		strcat(hex, " ff");
		m = cbor_from_spaced_hex(hex);
		CHECK_INT(mgmt_decode_image_list(m, &list), entries > MGMT_MAX_IMAGES ? -E2BIG : 0);
		CHECK_INT(list.reported, entries);
		if (entries == MGMT_MAX_IMAGES) {
			CHECK_INT(list.count, MGMT_MAX_IMAGES);
			CHECK_INT(list.slots[MGMT_MAX_IMAGES - 1].slot, MGMT_MAX_IMAGES - 1);
		}
		smp_cbor_freep(&m);
	}
}

/* Key heads of the slot info answers below. */
#define K_IMAGES "66 696d61676573"
#define K_IMAGE "65 696d616765"
#define K_SLOTS "65 736c6f7473"
#define K_SLOT "64 736c6f74"
#define K_SIZE "64 73697a65"
#define K_UPLOAD_ID "6f 75706c6f61645f696d6167655f6964"
#define K_MAX "6e 6d61785f696d6167655f73697a65"
#define K_RC "62 7263"

/* Slot info as Zephyr's img_mgmt_slot_info() writes it (indefinite containers), with max_image_size,
 * and a slot the device could not open ("rc" in place of "size"). */
static void test_slot_info_decoding(void)
{
	MgmtSlotInfo info;
	cbor_item_t *m = cbor_from_spaced_hex(
		"bf " K_IMAGES " 9f bf " K_IMAGE " 00 " K_SLOTS " 9f"
		" bf " K_SLOT " 00 " K_SIZE " 1a 00037000 ff"
		" bf " K_SLOT " 01 " K_SIZE " 1a 00037000 " K_UPLOAD_ID " 02 ff ff"
		" " K_MAX " 1a 00036000 ff"
		" a2 " K_IMAGE " 01 " K_SLOTS " 81 a2 " K_SLOT " 00 " K_RC " 24 ff ff");

	CHECK_INT(mgmt_decode_slot_info(m, &info), 0);
	CHECK_INT(info.count, 2);
	CHECK_INT(info.images[0].image, 0);
	CHECK_INT(info.images[0].slot_count, 2);
	CHECK(info.images[0].slots[0].has_size && info.images[0].slots[0].size == 0x37000);
	CHECK(!info.images[0].slots[0].has_upload_image_id && !info.images[0].slots[0].has_rc);
	CHECK_INT(info.images[0].slots[1].slot, 1);
	CHECK(info.images[0].slots[1].has_upload_image_id && info.images[0].slots[1].upload_image_id == 2);
	CHECK(info.images[0].has_max_image_size && info.images[0].max_image_size == 0x36000);
	CHECK_INT(info.images[1].image, 1);
	CHECK_INT(info.images[1].slot_count, 1);
	CHECK(!info.images[1].slots[0].has_size && info.images[1].slots[0].has_rc);
	CHECK_INT(info.images[1].slots[0].rc, -5);
	CHECK(!info.images[1].has_max_image_size);
	smp_cbor_freep(&m);
}

/* Slot info answers that are refused, and lists longer than the arrays (cut, not refused). */
static void test_slot_info_refusals(void)
{
	static const DecodeCase cases[] = {
		{ "no images", "a0", -EBADMSG },
		{ "images not an array", "a1 " K_IMAGES " a0", -EBADMSG },
		{ "image not a map", "a1 " K_IMAGES " 81 00", -EBADMSG },
		{ "image without number", "a1 " K_IMAGES " 81 a1 " K_SLOTS " 80", -EBADMSG },
		{ "image without slots", "a1 " K_IMAGES " 81 a1 " K_IMAGE " 00", -EBADMSG },
		{ "slots not an array", "a1 " K_IMAGES " 81 a2 " K_IMAGE " 00 " K_SLOTS " a0", -EBADMSG },
		{ "slot not a map", "a1 " K_IMAGES " 81 a2 " K_IMAGE " 00 " K_SLOTS " 81 01", -EBADMSG },
		{ "slot without number", "a1 " K_IMAGES " 81 a2 " K_IMAGE " 00 " K_SLOTS " 81 a1 " K_SIZE " 01",
		  -EBADMSG },
		{ "size as text", "a1 " K_IMAGES " 81 a2 " K_IMAGE " 00 " K_SLOTS " 81 a2 " K_SLOT " 00 " K_SIZE " 61 31",
		  -EBADMSG },
		{ "upload id beyond 32 bits", "a1 " K_IMAGES " 81 a2 " K_IMAGE " 00 " K_SLOTS " 81 a2 " K_SLOT " 01 "
		  K_UPLOAD_ID " 1b 0000000100000000", -EBADMSG },
		{ "rc as text", "a1 " K_IMAGES " 81 a2 " K_IMAGE " 00 " K_SLOTS " 81 a2 " K_SLOT " 00 " K_RC " 61 31",
		  -EBADMSG },
		{ "image beyond 32 bits", "a1 " K_IMAGES " 81 a2 " K_IMAGE " 1b 0000000100000000 " K_SLOTS " 80", -EBADMSG },
		{ "slot beyond 32 bits", "a1 " K_IMAGES " 81 a2 " K_IMAGE " 00 " K_SLOTS " 81 a1 " K_SLOT
		  " 1b 0000000100000000", -EBADMSG },
		{ "negative max size", "a1 " K_IMAGES " 81 a3 " K_IMAGE " 00 " K_SLOTS " 80 " K_MAX " 20", -EBADMSG },
		{ "no images at all", "a1 " K_IMAGES " 80", 0 },
	};
	char hex[1400] = "a1 " K_IMAGES " 9f";
	MgmtSlotInfo info;
	cbor_item_t *m;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		m = cbor_from_spaced_hex(cases[i].hex);
		tap_checkf(mgmt_decode_slot_info(m, &info) == cases[i].want, __FILE__, __LINE__, "%s", cases[i].what);
		smp_cbor_freep(&m);
	}
	for (int i = 0; i < 6; i++) {
		char entry[256];

		snprintf(entry, sizeof(entry), " a2 " K_IMAGE " %02x " K_SLOTS " 85 a1 " K_SLOT " 00 a1 " K_SLOT " 01 a1 "
			 K_SLOT " 02 a1 " K_SLOT " 03 a1 " K_SLOT " 04", i);
		strcat(hex, entry);
	}
	strcat(hex, " ff");
	m = cbor_from_spaced_hex(hex);
	CHECK_INT(mgmt_decode_slot_info(m, &info), 0);
	CHECK_INT(info.count, MGMT_SLOT_INFO_IMAGES);
	CHECK_INT(info.images[MGMT_SLOT_INFO_IMAGES - 1].image, MGMT_SLOT_INFO_IMAGES - 1);
	CHECK_INT(info.images[0].slot_count, MGMT_SLOT_INFO_SLOTS);
	CHECK_INT(info.images[0].slots[MGMT_SLOT_INFO_SLOTS - 1].slot, MGMT_SLOT_INFO_SLOTS - 1);
	smp_cbor_freep(&m);
}

/* Params, upload answers, bootloader info and the text answers: right types accepted, wrong refused. */
static void test_decoders_table(void)
{
	static const DecodeCase params[] = {
		{ "params", "a2 68 6275665f73697a65 19 09ab 69 6275665f636f756e74 04", 0 },
		{ "params without count", "a1 68 6275665f73697a65 19 09ab", -EBADMSG },
		{ "params as text", "a2 68 6275665f73697a65 61 78 69 6275665f636f756e74 04", -EBADMSG },
		{ "params beyond 32 bits", "a2 68 6275665f73697a65 1b 0000000100000000 69 6275665f636f756e74 04",
		  -EBADMSG },
	};
	static const DecodeCase uploads[] = {
		{ "off", "a1 63 6f6666 18 c8", 0 },
		{ "off and match", "a2 63 6f6666 18 c8 65 6d61746368 f5", 0 },
		{ "no off", "a0", -EBADMSG },
		{ "negative off", "a1 63 6f6666 20", -EBADMSG },
		{ "match not a bool", "a2 63 6f6666 18 c8 65 6d61746368 01", -EBADMSG },
	};
	static const DecodeCase texts[] = {
		{ "echo", "a1 61 72 62 6869", 0 },
		{ "echo chunked", "bf 61 72 7f 61 68 61 69 ff ff", 0 },
		{ "echo missing", "a0", -EBADMSG },
		{ "echo as bytes", "a1 61 72 42 6869", -EBADMSG },
	};

	for (size_t i = 0; i < ARRAY_SIZE(params); i++) {
		MgmtParams p;
		cbor_item_t *m = cbor_from_spaced_hex(params[i].hex);
		int r = mgmt_decode_params(m, &p);

		tap_checkf(r == params[i].want && (r < 0 || (p.buf_size == 2475 && p.buf_count == 4)), __FILE__,
			   __LINE__, "%s", params[i].what);
		smp_cbor_freep(&m);
	}
	for (size_t i = 0; i < ARRAY_SIZE(uploads); i++) {
		MgmtUploadRsp r;
		cbor_item_t *m = cbor_from_spaced_hex(uploads[i].hex);
		int got = mgmt_decode_upload_rsp(m, &r);

		tap_checkf(got == uploads[i].want && (got < 0 || r.off == 200), __FILE__, __LINE__, "%s", uploads[i].what);
		smp_cbor_freep(&m);
	}
	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		char out[8] = "";
		cbor_item_t *m = cbor_from_spaced_hex(texts[i].hex);
		int got = mgmt_decode_echo(m, out, sizeof(out));

		tap_checkf(got == texts[i].want && (got < 0 || strcmp(out, "hi") == 0), __FILE__, __LINE__, "%s",
			   texts[i].what);
		smp_cbor_freep(&m);
	}
}

/* A text answer longer than the buffer is cut, not refused; os info and datetime read their keys. */
static void test_text_answers(void)
{
	cbor_item_t *m = cbor_from_spaced_hex("a2 66 6f7574707574 6a 5a6570687972203420 31 68 6461746574696d65 63 323032");
	char small[5], out[32];

	CHECK_INT(mgmt_decode_os_info(m, small, sizeof(small)), 0);
	CHECK_STR(small, "Zeph");
	CHECK_INT(mgmt_decode_os_info(m, out, sizeof(out)), 0);
	CHECK_STR(out, "Zephyr 4 1");
	CHECK_INT(mgmt_decode_datetime(m, out, sizeof(out)), 0);
	CHECK_STR(out, "202");
	CHECK_INT(mgmt_decode_echo(m, out, sizeof(out)), -EBADMSG);
	smp_cbor_freep(&m);
}

/* Bootloader info: the name alone, the mode query's answer, and wrong types. */
static void test_bootloader_info(void)
{
	MgmtBootloaderInfo b;
	cbor_item_t *m = cbor_from_spaced_hex("bf 6a 626f6f746c6f61646572 67 4d4355626f6f74 ff");

	CHECK_INT(mgmt_decode_bootloader_info(m, &b), 0);
	CHECK_STR(b.bootloader, "MCUboot");
	CHECK(!b.has_mode && !b.has_no_downgrade);
	smp_cbor_freep(&m);
	m = cbor_from_spaced_hex("a2 64 6d6f6465 03 6c 6e6f2d646f776e6772616465 f5");
	CHECK_INT(mgmt_decode_bootloader_info(m, &b), 0);
	CHECK(b.has_mode && b.mode == 3 && b.has_no_downgrade && b.no_downgrade);
	smp_cbor_freep(&m);
	m = cbor_from_spaced_hex("a1 64 6d6f6465 20");
	CHECK_INT(mgmt_decode_bootloader_info(m, &b), 0);
	CHECK(b.has_mode && b.mode == -1);
	smp_cbor_freep(&m);
	m = cbor_from_spaced_hex("a1 64 6d6f6465 61 33");
	CHECK_INT(mgmt_decode_bootloader_info(m, &b), -EBADMSG);
	smp_cbor_freep(&m);
	m = cbor_from_spaced_hex("a1 6c 6e6f2d646f776e6772616465 01");
	CHECK_INT(mgmt_decode_bootloader_info(m, &b), -EBADMSG);
	smp_cbor_freep(&m);
}

/* MCUboot's enum mcuboot_mode, as os_mgmt reports it. */
static void test_bootloader_mode_names(void)
{
	static const char *const want[] = {
		"single-application", "swap-using-scratch", "overwrite-only", "swap-using-move", "direct-xip",
		"direct-xip-with-revert", "ram-load", "firmware-loader", "single-slot-ram-load", "swap-using-offset",
	};

	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		CHECK_STR(mgmt_bootloader_mode_name((int64_t)i), want[i]);
	CHECK_STR(mgmt_bootloader_mode_name(-1), "unknown");
	CHECK_STR(mgmt_bootloader_mode_name(10), "unknown");
	CHECK_STR(mgmt_bootloader_mode_name(INT64_MIN), "unknown");
}

/* The body just built equals the expected spaced hex. */
static void check_body(const char *what, int len, const uint8_t *body, const char *spaced)
{
	uint8_t want[96];
	int want_len = (int)bytes_from_spaced_hex(spaced, want, sizeof(want));

	tap_checkf(len == want_len && len > 0 && memcmp(body, want, (size_t)len) == 0, __FILE__, __LINE__,
		   "%s: %d bytes, want %d", what, len, want_len);
}

/* Every builder writes exactly the expected body (definite maps, smp_group_0.rst and _1.rst names). */
static void test_builders_exact(void)
{
	static const uint8_t hash[32] = { 0xbc, 0x1d };
	uint8_t b[96];

	check_body("empty", mgmt_build_empty(b, sizeof(b)), b, "a0");
	check_body("echo", mgmt_build_echo(b, sizeof(b), "hi"), b, "a1 61 64 62 6869");
	check_body("reset", mgmt_build_reset(b, sizeof(b), false), b, "a0");
	check_body("reset force", mgmt_build_reset(b, sizeof(b), true), b, "a1 65 666f726365 f5");
	check_body("os info", mgmt_build_os_info(b, sizeof(b), "a"), b, "a1 66 666f726d6174 61 61");
	check_body("os info, no format", mgmt_build_os_info(b, sizeof(b), NULL), b, "a0");
	check_body("bootloader mode", mgmt_build_bootloader_info(b, sizeof(b), "mode"), b, "a1 65 7175657279 64 6d6f6465");
	check_body("bootloader", mgmt_build_bootloader_info(b, sizeof(b), NULL), b, "a0");
	check_body("datetime", mgmt_build_datetime_set(b, sizeof(b), "2025-01-02T03:04:05"), b,
		   "a1 68 6461746574696d65 73 323032352d30312d30325430333a30343a3035");
	check_body("erase slot 1", mgmt_build_image_erase(b, sizeof(b), 1), b, "a1 64 736c6f74 01");
	check_body("erase, no slot", mgmt_build_image_erase(b, sizeof(b), -1), b, "a0");
	check_body("confirm running", mgmt_build_image_state_write(b, sizeof(b), NULL, 0, true), b,
		   "a1 67 636f6e6669726d f5");
	check_body("test hash", mgmt_build_image_state_write(b, sizeof(b), hash, 32, false), b,
		   "a2 64 68617368 58 20 bc1d000000000000000000000000000000000000000000000000000000000000"
		   " 67 636f6e6669726d f4");
}

/* Every buffer too small for the body is refused with -EMSGSIZE. */
static void test_builders_refuse_small_buffers(void)
{
	static const uint8_t hash[64] = { 0 };
	uint8_t b[128];

	for (size_t cap = 0; cap < 81; cap++)
		tap_checkf(mgmt_build_image_state_write(b, cap, hash, 64, true) == -EMSGSIZE, __FILE__, __LINE__,
			   "state write, cap %zu", cap);
	CHECK_INT(mgmt_build_image_state_write(b, 81, hash, 64, true), 81);
	for (size_t cap = 0; cap < 6; cap++)
		tap_checkf(mgmt_build_echo(b, cap, "hi") == -EMSGSIZE, __FILE__, __LINE__, "echo, cap %zu", cap);
	CHECK_INT(mgmt_build_echo(b, 6, "hi"), 6);
	CHECK_INT(mgmt_build_empty(b, 0), -EMSGSIZE);
	CHECK_INT(mgmt_build_image_erase(b, 6, 1), -EMSGSIZE);
}

/* Versions as smpctl shows them (ISSUE-NOTES 8), from what Zephyr's img_mgmt_ver_str() writes. */
static void test_version_text(void)
{
	static const struct {
		const char *device, *shown;
	} cases[] = {
		{ "1.2.3", "1.2.3+0" }, { "1.2.3.4", "1.2.3+4" }, { "0.0.0", "0.0.0+0" },
		{ "255.255.65535.4294967295", "255.255.65535+4294967295" }, { "", "" }, { "beta", "beta" },
		{ "1.2", "1.2" }, { "1.2.3.4.5", "1.2.3.4.5" },
	};
	char out[MGMT_VERSION_TEXT + 8];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		mgmt_version_text(cases[i].device, out, sizeof(out));
		CHECK_STR(out, cases[i].shown);
	}
}

/* Version order as MCUboot's: major, minor, revision, build; both spellings compare alike. */
static void test_version_compare(void)
{
	static const struct {
		const char *a, *b;
		int cmp;
	} cases[] = {
		{ "1.2.3", "1.2.3", 0 }, { "1.2.3", "1.2.3.0", 0 }, { "1.2.3+0", "1.2.3", 0 }, { "1.2.3+4", "1.2.3.4", 0 },
		{ "1.2.4", "1.2.3.9", 1 }, { "1.10.0", "1.9.9", 1 }, { "2.0.0", "10.0.0", -1 }, { "1.2.3+5", "1.2.3.4", 1 },
		{ "0.0.0", "0.0.0.1", -1 }, { "255.255.65535+4294967295", "255.255.65535.4294967294", 1 },
	};
	static const char *const bad[] = { "", "1.2", "beta", "1.2.3.4.5", "1.2.3+", "1..3", "-1.2.3", "1.2.3x",
					   "1.2.3+4294967296", " 1.2.3" };
	int cmp;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		CHECK_INT(mgmt_version_compare(cases[i].a, cases[i].b, &cmp), 0);
		CHECK_INT(cmp, cases[i].cmp);
		CHECK_INT(mgmt_version_compare(cases[i].b, cases[i].a, &cmp), 0);
		CHECK_INT(cmp, -cases[i].cmp);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		tap_checkf(mgmt_version_compare(bad[i], "1.0.0", &cmp) == -EINVAL, __FILE__, __LINE__, "'%s' refused", bad[i]);
}

/* Bodies captured from Zephyr 4.1.0's smp_svr (tests/interop fixture smp-svr-b2475-full, native_sim). */
#define ZEPHYR_STAT_LIST "bf69737461745f6c6973749f6f666c6173685f73696d5f737461747374666c6173685f73696d5f7468726573686f6c64736d736d705f7376725f7374617473ffff"
#define ZEPHYR_STAT_SHOW "bf646e616d656d736d705f7376725f7374617473666669656c6473bf657469636b730062733100ffff"
#define ZEPHYR_SHELL_OK "bf616f78180d0a5a65706879722076657273696f6e20342e312e300d0a6372657400ff"
#define ZEPHYR_SHELL_NOT_FOUND "bf616f78270d0a1b5b313b33316d6e6f737563683a20636f6d6d616e64206e6f7420666f756e640d0a1b5b6d6372657427ff"
#define ZEPHYR_TASKSTAT "bf657461736b73bf6a6d63756d677220736d70bf647072696f0363746964006573746174651880ff68736d705f75647034bf647072696f00637469640165737461746502ff6469646c65bf647072696f0f637469640765737461746500ffffff"

/* stat list and stat show as Zephyr sends them (indefinite maps and arrays). */
static void test_stat_decoding(void)
{
	MgmtStatList list;
	MgmtStatGroup g;
	cbor_item_t *m = cbor_from_spaced_hex(ZEPHYR_STAT_LIST);

	CHECK_INT(mgmt_decode_stat_list(m, &list), 0);
	CHECK(list.count == 3 && !list.truncated);
	CHECK_STR(list.names[2], "smp_svr_stats");
	smp_cbor_freep(&m);
	m = cbor_from_spaced_hex(ZEPHYR_STAT_SHOW);
	CHECK_INT(mgmt_decode_stat_show(m, &g), 0);
	CHECK_STR(g.name, "smp_svr_stats");
	CHECK(g.count == 2 && g.fields[0].value == 0);
	CHECK_STR(g.fields[0].name, "ticks");
	CHECK_STR(g.fields[1].name, "s1");
	smp_cbor_freep(&m);
	m = cbor_from_spaced_hex("a1 66 6669656c6473 a1 61 61 61 62"); /* a text value */
	CHECK_INT(mgmt_decode_stat_show(m, &g), -EBADMSG);
	smp_cbor_freep(&m);
	m = cbor_from_spaced_hex("a1 69 737461745f6c697374 9f 01 ff"); /* a number in the list */
	CHECK_INT(mgmt_decode_stat_list(m, &list), -EBADMSG);
	smp_cbor_freep(&m);
	m = cbor_from_spaced_hex("a0");
	CHECK_INT(mgmt_decode_stat_list(m, &list), -EBADMSG);
	CHECK_INT(mgmt_decode_stat_show(m, &g), -EBADMSG);
	smp_cbor_freep(&m);
}

/* More entries than the arrays hold: the first ones are kept and the rest flagged. */
static void test_stat_list_truncated(void)
{
	SmpCborWriter w;
	uint8_t buf[4096];
	MgmtStatList list;
	cbor_item_t *m = NULL;

	smp_cbor_writer_init(&w, buf, sizeof(buf));
	smp_cbor_put_map(&w, 1);
	smp_cbor_put_text(&w, "stat_list");
	smp_cbor_put_array(&w, MGMT_STAT_GROUPS + 3);
	for (int i = 0; i < MGMT_STAT_GROUPS + 3; i++)
		smp_cbor_put_text(&w, "g");
	CHECK(smp_cbor_writer_done(&w) > 0);
	CHECK_INT(smp_cbor_decode(buf, w.len, &m), 0);
	CHECK_INT(mgmt_decode_stat_list(m, &list), 0);
	CHECK(list.count == MGMT_STAT_GROUPS && list.truncated);
	smp_cbor_freep(&m);
}

/* shell exec: output and return code, -ENOEXEC (-8) for an unknown command; the legacy "rc" form is
 * not a result. */
static void test_shell_decoding(void)
{
	char out[64], small[8];
	MgmtShellResult res = { .output = out, .output_size = sizeof(out) };
	cbor_item_t *m = cbor_from_spaced_hex(ZEPHYR_SHELL_OK);

	CHECK_INT(mgmt_decode_shell_exec(m, &res), 0);
	CHECK_STR(out, "\r\nZephyr version 4.1.0\r\n");
	CHECK(res.ret == 0 && !res.output_cut);
	smp_cbor_freep(&m);
	m = cbor_from_spaced_hex(ZEPHYR_SHELL_NOT_FOUND);
	CHECK_INT(mgmt_decode_shell_exec(m, &res), 0);
	CHECK(res.ret == -8);
	res = (MgmtShellResult){ .output = small, .output_size = sizeof(small) };
	CHECK_INT(mgmt_decode_shell_exec(m, &res), 0);
	CHECK(res.output_cut && strlen(small) == 7);
	smp_cbor_freep(&m);
	m = cbor_from_spaced_hex("a2 61 6f 60 62 7263 00");
	CHECK_INT(mgmt_decode_shell_exec(m, &res), -EBADMSG);
	smp_cbor_freep(&m);
}

/* Task stats keep every thread, names repeated or not, and the optional columns when present. */
static void test_taskstat_decoding(void)
{
	MgmtTaskStats ts;
	cbor_item_t *m = cbor_from_spaced_hex(ZEPHYR_TASKSTAT);

	CHECK_INT(mgmt_decode_taskstat(m, &ts), 0);
	CHECK(ts.count == 3);
	CHECK_STR(ts.tasks[0].name, "mcumgr smp");
	CHECK(ts.tasks[0].prio == 3 && ts.tasks[0].state == 128 && !ts.tasks[0].has_stksiz);
	CHECK(ts.tasks[2].prio == 15 && ts.tasks[2].tid == 7);
	smp_cbor_freep(&m);
	/* Priorities as names (no CONFIG_THREAD_NAME): "0" twice; stack columns. */
	m = cbor_from_spaced_hex("a1 65 7461736b73 a2 61 30 a5 64 7072696f 00 63 746964 00 65 7374617465 00 "
				 "66 73746b73697a 18 40 66 73746b757365 10 61 30 a3 64 7072696f 00 63 746964 01 "
				 "65 7374617465 02");
	CHECK_INT(mgmt_decode_taskstat(m, &ts), 0);
	CHECK(ts.count == 2 && ts.tasks[0].has_stksiz && ts.tasks[0].stksiz == 64 && ts.tasks[0].stkuse == 16);
	CHECK(ts.tasks[1].tid == 1 && !ts.tasks[1].has_stkuse);
	smp_cbor_freep(&m);
	m = cbor_from_spaced_hex("a1 65 7461736b73 a1 61 30 a1 64 7072696f 00"); /* no tid, no state */
	CHECK_INT(mgmt_decode_taskstat(m, &ts), -EBADMSG);
	smp_cbor_freep(&m);
}

/* mcumgr's original mpstat answer (Zephyr 4.1 has none). */
static void test_mpstat_decoding(void)
{
	MgmtMemPools mp;
	cbor_item_t *m = cbor_from_spaced_hex("a1 66 6d706f6f6c73 a1 61 70 a4 66 626c6b73697a 10 65 6e626c6b73 08 "
					      "65 6e66726565 04 63 6d696e 02");

	CHECK_INT(mgmt_decode_mpstat(m, &mp), 0);
	CHECK(mp.count == 1 && mp.pools[0].blksiz == 16 && mp.pools[0].nblks == 8 && mp.pools[0].nfree == 4 &&
	      mp.pools[0].min == 2);
	smp_cbor_freep(&m);
}

/* Enumeration: a list of ids, or details with names and handler counts (smp_group_10.rst). */
static void test_enum_decoding(void)
{
	MgmtGroupList l;
	cbor_item_t *m = cbor_from_spaced_hex("bf 66 67726f757073 9f 00 01 02 09 ff ff");

	CHECK_INT(mgmt_decode_enum_groups(m, &l), 0);
	CHECK(l.count == 4 && l.groups[3].id == 9 && !l.groups[3].has_name);
	CHECK(mgmt_group_list_find(&l, 2) && !mgmt_group_list_find(&l, 8));
	smp_cbor_freep(&m);
	m = cbor_from_spaced_hex("a1 66 67726f757073 81 a3 65 67726f7570 08 64 6e616d65 67 6673206d676d74 "
				 "68 68616e646c657273 05");
	CHECK_INT(mgmt_decode_enum_groups(m, &l), 0);
	CHECK(l.count == 1 && l.groups[0].id == 8 && l.groups[0].has_name && l.groups[0].handlers == 5);
	CHECK_STR(l.groups[0].name, "fs mgmt");
	smp_cbor_freep(&m);
	m = cbor_from_spaced_hex("a1 66 67726f757073 81 1a 00010000"); /* id above 16 bits */
	CHECK_INT(mgmt_decode_enum_groups(m, &l), -EBADMSG);
	smp_cbor_freep(&m);
}

/* Request bodies of the new groups, as smp_group_2.rst and _9.rst give them. */
static void test_group_builders(void)
{
	char *argv[] = { "kernel", "version" };
	uint8_t b[96];

	check_body("stat show", mgmt_build_stat_show(b, sizeof(b), "st"), b, "a1 64 6e616d65 62 7374");
	check_body("shell", mgmt_build_shell_exec(b, sizeof(b), argv, 2), b,
		   "a1 64 61726776 82 66 6b65726e656c 67 76657273696f6e");
	check_body("shell empty", mgmt_build_shell_exec(b, sizeof(b), NULL, 0), b, "a1 64 61726776 80");
	CHECK_INT(mgmt_build_shell_exec(b, 8, argv, 2), -EMSGSIZE);
}

/* File system requests as fs_mgmt.c reads them: "len" only with off 0; the fitted chunk fills the frame. */
static void test_fs_builders(void)
{
	static const uint8_t data[3] = { 1, 2, 3 };
	MgmtFsChunk c = { .name = "/a", .off = 0, .len = 3, .data = data, .data_len = 3 };
	static uint8_t b[4096], src[4096];
	size_t n;

	check_body("fs upload first", mgmt_build_fs_upload(b, sizeof(b), &c), b,
		   "a4 64 6e616d65 62 2f61 63 6f6666 00 63 6c656e 03 64 64617461 43 010203");
	c.off = 24;
	c.data_len = 1;
	check_body("fs upload next", mgmt_build_fs_upload(b, sizeof(b), &c), b,
		   "a3 64 6e616d65 62 2f61 63 6f6666 18 18 64 64617461 41 01");
	check_body("fs download", mgmt_build_fs_download(b, sizeof(b), "/a", 5), b,
		   "a2 64 6e616d65 62 2f61 63 6f6666 05");
	check_body("fs status", mgmt_build_fs_name(b, sizeof(b), "/a"), b, "a1 64 6e616d65 62 2f61");
	check_body("fs hash", mgmt_build_fs_hash(b, sizeof(b), "/a", "crc32", 0, 0), b,
		   "a2 64 6e616d65 62 2f61 64 74797065 65 6372633332");
	check_body("fs hash range", mgmt_build_fs_hash(b, sizeof(b), "/a", NULL, 1, 2), b,
		   "a3 64 6e616d65 62 2f61 63 6f6666 01 63 6c656e 02");
	c.data = src;
	for (size_t frame = 64; frame <= 3000; frame += 7) {
		c.off = frame * 13;
		n = mgmt_fs_upload_fit(&c, frame);
		c.data_len = n;
		tap_checkf(n == 0 || (size_t)mgmt_build_fs_upload(b, sizeof(b), &c) + SMP_HEADER_SIZE <= frame, __FILE__,
			   __LINE__, "frame %zu: %zu data bytes do not fit", frame, n);
		c.data_len = n + 1;
		tap_checkf(mgmt_build_fs_upload(b, frame - SMP_HEADER_SIZE, &c) == -EMSGSIZE, __FILE__, __LINE__,
			   "frame %zu: one byte more than %zu still fits", frame, n);
	}
}

/* Answers captured from smp-svr-b2475-full: crc32 as a number, the types map, an offset error. */
static void test_fs_decoding(void)
{
	uint8_t buf[16];
	MgmtFsData data = { .data = buf, .data_size = sizeof(buf) };
	MgmtFsHash h;
	MgmtFsHashTypes types;
	uint64_t v;
	cbor_item_t *m = cbor_from_spaced_hex("bf 64 74797065 65 6372633332 63 6c656e 19 1770 66 6f7574707574 1a 45881b0a ff");

	CHECK_INT(mgmt_decode_fs_hash(m, &h), 0);
	CHECK(h.numeric && h.output_len == 4 && h.len == 6000 && !h.has_off);
	CHECK(h.output[0] == 0x45 && h.output[3] == 0x0a);
	CHECK_STR(h.type, "crc32");
	smp_cbor_freep(&m);
	m = cbor_from_spaced_hex("bf 65 7479706573 bf 65 6372633332 bf 66 666f726d6174 00 64 73697a65 04 ff ff ff");
	CHECK_INT(mgmt_decode_fs_hash_types(m, &types), 0);
	CHECK(types.count == 1 && !types.types[0].byte_string && types.types[0].size == 4);
	smp_cbor_freep(&m);
	m = cbor_from_spaced_hex("bf 63 6f6666 00 64 64617461 43 010203 63 6c656e 03 ff");
	CHECK_INT(mgmt_decode_fs_download(m, &data), 0);
	CHECK(data.off == 0 && data.data_len == 3 && data.has_len && data.len == 3);
	data.data_size = 2; /* more data than the buffer */
	CHECK_INT(mgmt_decode_fs_download(m, &data), -EBADMSG);
	smp_cbor_freep(&m);
	m = cbor_from_spaced_hex("bf 63 657272 bf 65 67726f7570 08 62 7263 0b ff 63 6c656e 19 03e8 ff");
	CHECK_INT(mgmt_decode_fs_len(m, &v), 0);
	CHECK(v == 1000);
	CHECK_INT(mgmt_decode_fs_off(m, &v), -EBADMSG);
	smp_cbor_freep(&m);
}

/* Settings requests as settings_mgmt.c decodes them: "name" text, "max_size" uint32, "val" bytes. */
static void test_settings_builders(void)
{
	static const uint8_t val[2] = { 0x53, 0x4e };
	uint8_t b[64];

	check_body("settings read", mgmt_build_settings_read(b, sizeof(b), "a/b", 4096), b,
		   "a2 64 6e616d65 63 612f62 68 6d61785f73697a65 19 1000");
	check_body("settings write", mgmt_build_settings_write(b, sizeof(b), "a/b", val, 2), b,
		   "a2 64 6e616d65 63 612f62 63 76616c 42 534e");
	check_body("settings write empty", mgmt_build_settings_write(b, sizeof(b), "a/b", NULL, 0), b,
		   "a2 64 6e616d65 63 612f62 63 76616c 40");
	check_body("settings delete", mgmt_build_settings_delete(b, sizeof(b), "a/b"), b, "a1 64 6e616d65 63 612f62");
	CHECK_INT(mgmt_build_settings_write(b, 12, "a/b", val, 2), -EMSGSIZE);
}

/* smp-svr-b2475-settings' answers (zcbor's indefinite maps): a value with the device's limit, one without,
 * and what no server should send. */
static void test_settings_decoding(void)
{
	_cleanup_free_ MgmtSettingsValue *v = malloc(sizeof(*v));
	static const struct {
		const char *what, *hex;
		int want;
		size_t len;
		bool has_max;
	} cases[] = {
		{ "limit reported", "bf 63 76616c 47 534e2d30303031 68 6d61785f73697a65 18 20 ff", 0, 7, true },
		{ "no limit", "bf 63 76616c 47 534e2d30303031 ff", 0, 7, false },
		{ "empty value", "bf 63 76616c 40 ff", 0, 0, false },
		{ "no val", "bf 68 6d61785f73697a65 18 20 ff", -EBADMSG, 0, false },
		{ "val as text", "bf 63 76616c 61 41 ff", -EBADMSG, 0, false },
		{ "max_size negative", "bf 63 76616c 40 68 6d61785f73697a65 20 ff", -EBADMSG, 0, false },
		{ "max_size over 32 bits", "bf 63 76616c 40 68 6d61785f73697a65 1b 0000000100000000 ff", -EBADMSG, 0, false },
	};

	CHECK(v != NULL);
	for (size_t i = 0; v && i < ARRAY_SIZE(cases); i++) {
		cbor_item_t *m = cbor_from_spaced_hex(cases[i].hex);
		int r = mgmt_decode_settings_read(m, v);

		tap_checkf(r == cases[i].want && (r < 0 || (v->len == cases[i].len && v->has_max_size == cases[i].has_max &&
							     (!v->has_max_size || v->max_size == 32))),
			   __FILE__, __LINE__, "%s: %d", cases[i].what, r);
		smp_cbor_freep(&m);
	}
}

int main(void)
{
	static const TapTest tests[] = {
		TAP_TEST(test_chunk_fit_is_exact),
		TAP_TEST(test_chunk_fit_caps_body),
		TAP_TEST(test_upload_chunk_fields),
		TAP_TEST(test_image_list_decoding),
		TAP_TEST(test_image_list_refusals),
		TAP_TEST(test_image_list_limits),
		TAP_TEST(test_slot_info_decoding),
		TAP_TEST(test_slot_info_refusals),
		TAP_TEST(test_decoders_table),
		TAP_TEST(test_text_answers),
		TAP_TEST(test_bootloader_info),
		TAP_TEST(test_bootloader_mode_names),
		TAP_TEST(test_builders_exact),
		TAP_TEST(test_builders_refuse_small_buffers),
		TAP_TEST(test_version_text),
		TAP_TEST(test_version_compare),
		TAP_TEST(test_stat_decoding),
		TAP_TEST(test_stat_list_truncated),
		TAP_TEST(test_shell_decoding),
		TAP_TEST(test_taskstat_decoding),
		TAP_TEST(test_mpstat_decoding),
		TAP_TEST(test_enum_decoding),
		TAP_TEST(test_group_builders),
		TAP_TEST(test_fs_builders),
		TAP_TEST(test_fs_decoding),
		TAP_TEST(test_settings_builders),
		TAP_TEST(test_settings_decoding),
	};
	return tap_run(tests, ARRAY_SIZE(tests));
}
