/* SPDX-License-Identifier: MIT */
/* MCUboot images: signing and verification with every key type, tampering, wrong keys, malformed input,
 * Intel HEX. Keys are the committed TEST keys in tests/keys. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "image.h"
#include "tap.h"
#include "util.h"

static const char *const key_names[] = { "rsa-2048", "rsa-3072", "ec-p256", "ec-p384", "ed25519" };

static void key_path(char *out, size_t size, const char *name, bool pub)
{
	snprintf(out, size, "%s/%s%s.pem", SMPCTL_TEST_KEYS, name, pub ? ".pub" : "");
}

static size_t make(const char *key, bool counter, uint8_t **out)
{
	static uint8_t payload[9000];
	char path[512];
	size_t len = 0;
	char why[200];

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7);
	if (key)
		key_path(path, sizeof(path), key, false);
	CHECK_INT(image_sign(&(ImageSignSpec){ .payload = payload, .payload_len = sizeof(payload),
					       .version = { 1, 2, 3, 4 }, .key_path = key ? path : NULL,
					       .has_security_counter = counter, .security_counter = 7 },
			     out, &len, why, sizeof(why)), 0);
	return len;
}

static ImageVerdict verify(const uint8_t *data, size_t len, const char *key)
{
	ImageVerdict v = { 0 };
	char path[512];
	Image img;

	CHECK_INT(image_parse(data, len, &img, NULL, 0), 0);
	if (key)
		key_path(path, sizeof(path), key, true);
	CHECK_INT(image_verify(&img, key ? path : NULL, &v), 0);
	return v;
}

/* Every key type signs an image that parses and verifies, with and without protected TLVs. */
static void test_every_key_type_verifies(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(key_names); i++)
		for (int counter = 0; counter < 2; counter++) {
			uint8_t *img = NULL;
			size_t len = make(key_names[i], counter, &img);
			ImageVerdict v = verify(img, len, key_names[i]);

			tap_checkf(v.hash_ok && v.sig == IMAGE_SIG_OK, __FILE__, __LINE__, "%s counter %d: %s", key_names[i],
				   counter, v.why);
			tap_checkf(v.has_key_tlv && v.key_tlv_matches, __FILE__, __LINE__, "%s keyhash", key_names[i]);
			free(img);
		}
}

/* P-384 images carry a SHA-384 hash TLV, as imgtool chooses; the others SHA-256. */
static void test_hash_type_follows_key(void)
{
	uint8_t *img = NULL;
	size_t len = make("ec-p384", false, &img);
	Image m;

	CHECK_INT(image_parse(img, len, &m, NULL, 0), 0);
	CHECK_INT(m.hash_type, IMAGE_TLV_SHA384);
	CHECK_INT(m.hash_len, 48);
	free(img);
	len = make("ed25519", false, &img);
	CHECK_INT(image_parse(img, len, &m, NULL, 0), 0);
	CHECK_INT(m.hash_type, IMAGE_TLV_SHA256);
	CHECK_INT(m.version.build, 4);
	free(img);
}

/* A flipped bit anywhere under the hash breaks the hash; one in the signature breaks the signature. */
static void test_tampering_is_caught(void)
{
	uint8_t *img = NULL;
	size_t len = make("ec-p256", true, &img);
	Image m;
	size_t where[3];

	CHECK_INT(image_parse(img, len, &m, NULL, 0), 0);
	where[0] = 21;                                              /* header: version */
	where[1] = m.hdr_size + 100;                                /* payload */
	where[2] = (size_t)m.hdr_size + m.img_size + m.protect_tlv_size - 1; /* protected TLV */
	for (size_t i = 0; i < ARRAY_SIZE(where); i++) {
		img[where[i]] ^= 1;
		CHECK(!verify(img, len, "ec-p256").hash_ok);
		CHECK(verify(img, len, "ec-p256").sig == IMAGE_SIG_BAD);
		img[where[i]] ^= 1;
	}
	img[m.tlvs[m.tlv_count - 1].offset + 10] ^= 1;
	CHECK(verify(img, len, "ec-p256").hash_ok);
	CHECK(verify(img, len, "ec-p256").sig == IMAGE_SIG_BAD);
	free(img);
}

/* Another key of the same or another type is refused. */
static void test_wrong_key(void)
{
	uint8_t *img = NULL;
	size_t len = make("rsa-2048", false, &img);

	CHECK(verify(img, len, "rsa-3072").sig == IMAGE_SIG_WRONG_KEY);
	CHECK(verify(img, len, "ed25519").sig == IMAGE_SIG_WRONG_KEY);
	CHECK(verify(img, len, NULL).sig == IMAGE_SIG_UNCHECKED);
	free(img);
}

/* An unsigned image has a hash and no signature. */
static void test_unsigned_image(void)
{
	uint8_t *img = NULL;
	size_t len = make(NULL, false, &img);
	ImageVerdict v = verify(img, len, NULL);

	CHECK(v.hash_ok);
	CHECK_INT(v.sig, IMAGE_SIG_NONE);
	free(img);
}

/* Every truncation of a valid image either parses the same image (extra bytes cut) or is refused. */
static void test_truncated_everywhere(void)
{
	uint8_t *img = NULL;
	size_t len = make("ed25519", true, &img);

	for (size_t n = 0; n < len; n++) {
		Image m;
		char why[128] = "";

		CHECK_INT(image_parse(img, n, &m, why, sizeof(why)), -EBADMSG);
		CHECK(why[0] != '\0');
	}
	free(img);
}

typedef struct Mangle {
	const char *what;
	size_t offset;
	uint8_t value;
} Mangle;

/* Lies in the header or the TLV infos are refused with a reason, never read past the end. */
static void test_malformed_headers(void)
{
	uint8_t *img = NULL;
	size_t len = make("ec-p256", true, &img);
	Image m;
	const Mangle cases[] = {
		{ "magic", 0, 0x00 },
		{ "hdr_size too small", 8, 0x10 },
		{ "hdr_size huge", 9, 0xff },
		{ "img_size huge", 15, 0x7f },
		{ "protect size too big", 11, 0x40 },
		{ "protect size too small", 10, 0x01 },
	};

	CHECK_INT(image_parse(img, len, &m, NULL, 0), 0);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t saved = img[cases[i].offset];

		img[cases[i].offset] = cases[i].value;
		tap_checkf(image_parse(img, len, &m, NULL, 0) == -EBADMSG, __FILE__, __LINE__, "%s", cases[i].what);
		img[cases[i].offset] = saved;
	}
	/* A TLV whose length runs past its area. */
	img[m.tlvs[m.tlv_count - 1].offset - 2] = 0xff;
	img[m.tlvs[m.tlv_count - 1].offset - 1] = 0x7f;
	CHECK_INT(image_parse(img, len, &m, NULL, 0), -EBADMSG);
	free(img);
}

/* Intel HEX in, the same bytes out; a broken checksum is refused. */
static void test_intel_hex(void)
{
	const char *hex = ":04000000010203F402\n:02000004000AF0\n:0100000055AA\n:00000001FF\n";
	char path[] = "/tmp/smpctl-test-XXXXXX";
	uint8_t *data = NULL;
	size_t len = 0;
	char why[128];
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	CHECK(write(fd, hex, strlen(hex)) == (ssize_t)strlen(hex));
	close(fd);
	CHECK_INT(image_load_file(path, &data, &len, why, sizeof(why)), 0);
	CHECK_INT(len, 0xa0001);
	CHECK(data && data[0] == 1 && data[3] == 0xf4 && data[4] == 0xff && data[0xa0000] == 0x55);
	free(data);
	data = NULL;
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(write(fd, ":0400000001020304F1\n:00000001FF\n", 31) == 31);
	close(fd);
	CHECK_INT(image_load_file(path, &data, &len, why, sizeof(why)), -EBADMSG);
	unlink(path);
}

int main(void)
{
	static const TapTest tests[] = {
		TAP_TEST(test_every_key_type_verifies),
		TAP_TEST(test_hash_type_follows_key),
		TAP_TEST(test_tampering_is_caught),
		TAP_TEST(test_wrong_key),
		TAP_TEST(test_unsigned_image),
		TAP_TEST(test_truncated_everywhere),
		TAP_TEST(test_malformed_headers),
		TAP_TEST(test_intel_hex),
	};
	return tap_run(tests, ARRAY_SIZE(tests));
}
