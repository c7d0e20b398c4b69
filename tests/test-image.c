/* SPDX-License-Identifier: MIT */
/* MCUboot images: signing and verification with every key type, tampering, wrong keys, KEYHASH and
 * PUBKEY, pure Ed25519, malformed headers and TLVs, Intel HEX, reproducibility. Keys are the committed
 * TEST keys in tests/keys. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "image.h"
#include "tap.h"
#include "util.h"

#define PAYLOAD_LEN 9000

static const char *const key_names[] = { "rsa-2048", "rsa-3072", "ec-p256", "ec-p384", "ed25519" };

static const char *key_path(const char *name, bool pub)
{
	static char path[4][512];
	static unsigned next;
	char *out = path[next++ % ARRAY_SIZE(path)];

	snprintf(out, sizeof(path[0]), "%s/%s%s.pem", SMPCTL_TEST_KEYS, name, pub ? ".pub" : "");
	return out;
}

static const uint8_t *payload(void)
{
	static uint8_t bytes[PAYLOAD_LEN];

	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)(i * 7 + (i >> 8));
	return bytes;
}

static ImageSignSpec spec_for(const char *key)
{
	return (ImageSignSpec){ .payload = payload(), .payload_len = PAYLOAD_LEN, .version = { 1, 2, 3, 4 },
				.key_path = key ? key_path(key, false) : NULL };
}

/* Signs with spec; the test fails (and returns 0) when signing does. */
static size_t sign(const ImageSignSpec *spec, uint8_t **out)
{
	char why[200] = "";
	size_t len = 0;
	int r = image_sign(spec, out, &len, why, sizeof(why));

	tap_checkf(r == 0, __FILE__, __LINE__, "image_sign: %d %s", r, why);
	return r == 0 ? len : 0;
}

static size_t make(const char *key, bool counter, uint8_t **out)
{
	ImageSignSpec s = spec_for(key);

	s.has_security_counter = counter;
	s.security_counter = 7;
	return sign(&s, out);
}

/* Parses (which must succeed) and verifies with the named key's public half, or with none. */
static ImageVerdict verify_with(const uint8_t *data, size_t len, const char *key_file)
{
	ImageVerdict v = { 0 };
	Image img;

	CHECK_INT(image_parse(data, len, &img, NULL, 0), 0);
	CHECK_INT(image_verify(&img, key_file, &v), 0);
	return v;
}

static ImageVerdict verify(const uint8_t *data, size_t len, const char *key)
{
	return verify_with(data, len, key ? key_path(key, true) : NULL);
}

static const ImageTlv *find(const Image *m, uint16_t type)
{
	for (size_t i = 0; i < m->tlv_count; i++)
		if (m->tlvs[i].type == type)
			return &m->tlvs[i];
	return NULL;
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* Every key type signs an image that parses and verifies, with and without protected TLVs, with KEYHASH
 * or PUBKEY, checked with the public or the private key file. */
static void test_every_key_type_verifies(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(key_names); i++)
		for (int variant = 0; variant < 4; variant++) {
			ImageSignSpec s = spec_for(key_names[i]);
			uint8_t *img = NULL;
			size_t len;
			ImageVerdict v;

			s.has_security_counter = variant & 1;
			s.embed_pubkey = variant & 2;
			len = sign(&s, &img);
			v = verify(img, len, key_names[i]);
			tap_checkf(v.hash_ok && v.sig == IMAGE_SIG_OK && v.has_key_tlv && v.key_tlv_matches, __FILE__,
				   __LINE__, "%s variant %d: %s", key_names[i], variant, v.why);
			v = verify_with(img, len, key_path(key_names[i], false));
			tap_checkf(v.sig == IMAGE_SIG_OK, __FILE__, __LINE__, "%s with the private key", key_names[i]);
			free(img);
		}
}

/* The layout is imgtool's: header fields, SEC_CNT protected, then hash, KEYHASH, signature. */
static void test_layout_is_imgtools(void)
{
	uint8_t *img = NULL;
	size_t len = make("ec-p256", true, &img);
	Image m;

	CHECK_INT(image_parse(img, len, &m, NULL, 0), 0);
	CHECK_INT(m.hdr_size, 0x200);
	CHECK_INT(m.img_size, PAYLOAD_LEN);
	CHECK_INT(m.protect_tlv_size, 12);
	CHECK_INT(m.flags, 0);
	CHECK(m.version.major == 1 && m.version.minor == 2 && m.version.revision == 3 && m.version.build == 4);
	CHECK_INT(m.size, len);
	CHECK_INT(m.tlv_count, 4);
	CHECK(m.tlvs[0].type == IMAGE_TLV_SEC_CNT && m.tlvs[0].protected_area && img[m.tlvs[0].offset] == 7);
	CHECK(m.tlvs[1].type == IMAGE_TLV_SHA256 && !m.tlvs[1].protected_area);
	CHECK(m.tlvs[2].type == IMAGE_TLV_KEYHASH && m.tlvs[2].len == 32);
	CHECK(m.tlvs[3].type == IMAGE_TLV_ECDSA_SIG);
	/* The header's padding up to hdr_size is zeros, as in a Zephyr build. */
	for (size_t i = IMAGE_HEADER_SIZE; i < m.hdr_size; i++)
		CHECK(img[i] == 0);
	CHECK_MEM(img + m.hdr_size, payload(), PAYLOAD_LEN);
	free(img);
}

typedef struct HashCase {
	const char *key;
	uint16_t asked;
	bool pure;
	int rc;
	uint16_t got;
} HashCase;

/* The hash follows imgtool's table: SHA-384 for P-384, SHA-512 for pure, Ed25519 may take SHA-512,
 * RSA and P-256 only SHA-256; without a key, any. Every accepted combination verifies. */
static void test_hash_choice_follows_imgtool(void)
{
	static const HashCase cases[] = {
		{ "ec-p384", 0, false, 0, IMAGE_TLV_SHA384 },
		{ "ec-p384", IMAGE_TLV_SHA256, false, -EINVAL, 0 },
		{ "ec-p256", 0, false, 0, IMAGE_TLV_SHA256 },
		{ "ec-p256", IMAGE_TLV_SHA512, false, -EINVAL, 0 },
		{ "rsa-2048", IMAGE_TLV_SHA384, false, -EINVAL, 0 },
		{ "rsa-3072", 0, false, 0, IMAGE_TLV_SHA256 },
		{ "ed25519", 0, false, 0, IMAGE_TLV_SHA256 },
		{ "ed25519", IMAGE_TLV_SHA512, false, 0, IMAGE_TLV_SHA512 },
		{ "ed25519", IMAGE_TLV_SHA384, false, -EINVAL, 0 },
		{ "ed25519", 0, true, 0, IMAGE_TLV_SHA512 },
		{ "ed25519", IMAGE_TLV_SHA256, true, -EINVAL, 0 },
		{ "ec-p256", 0, true, -EINVAL, 0 },
		{ NULL, IMAGE_TLV_SHA384, false, 0, IMAGE_TLV_SHA384 },
		{ NULL, IMAGE_TLV_SHA512, false, 0, IMAGE_TLV_SHA512 },
		{ NULL, 0, true, -EINVAL, 0 },
		{ NULL, 0x13, false, -EINVAL, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		ImageSignSpec s = spec_for(cases[i].key);
		uint8_t *img = NULL;
		size_t len = 0;
		char why[200] = "";
		int r;
		Image m;

		s.hash_type = cases[i].asked;
		s.pure = cases[i].pure;
		r = image_sign(&s, &img, &len, why, sizeof(why));
		tap_checkf(r == cases[i].rc, __FILE__, __LINE__, "case %zu: %d %s", i, r, why);
		if (r < 0) {
			tap_checkf(why[0] != '\0', __FILE__, __LINE__, "case %zu says why", i);
			continue;
		}
		CHECK_INT(image_parse(img, len, &m, NULL, 0), 0);
		tap_checkf(m.hash_type == cases[i].got, __FILE__, __LINE__, "case %zu: hash 0x%x", i, m.hash_type);
		CHECK_INT(m.hash_len, cases[i].got == IMAGE_TLV_SHA256 ? 32
				      : cases[i].got == IMAGE_TLV_SHA384 ? 48 : 64);
		tap_checkf(verify(img, len, cases[i].key).hash_ok, __FILE__, __LINE__, "case %zu hash", i);
		if (cases[i].key)
			tap_checkf(verify(img, len, cases[i].key).sig == IMAGE_SIG_OK, __FILE__, __LINE__,
				   "case %zu sig", i);
		free(img);
	}
}

typedef struct TamperCase {
	const char *name;
	ImageTamper what;
	bool hash_ok;
} TamperCase;

/* Each tamper kind (as smpctl-mkimage --tamper does it) is caught for every key type: under the hash
 * it breaks hash and signature, in the signature only the signature. */
static void test_tampering_is_caught(void)
{
	static const TamperCase cases[] = {
		{ "header", IMAGE_TAMPER_HEADER, false },
		{ "payload", IMAGE_TAMPER_PAYLOAD, false },
		{ "protected-tlv", IMAGE_TAMPER_PROTECTED_TLV, false },
		{ "signature", IMAGE_TAMPER_SIGNATURE, true },
	};

	for (size_t k = 0; k < ARRAY_SIZE(key_names); k++)
		for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
			uint8_t *img = NULL;
			size_t len = make(key_names[k], true, &img);
			ImageVerdict v;

			CHECK_INT(image_tamper_from_string(cases[i].name), cases[i].what);
			CHECK_INT(image_tamper(img, len, cases[i].what), 0);
			v = verify(img, len, key_names[k]);
			tap_checkf(v.hash_ok == cases[i].hash_ok && v.sig == IMAGE_SIG_BAD && v.why[0], __FILE__,
				   __LINE__, "%s %s: hash %d sig %s", key_names[k], cases[i].name, v.hash_ok,
				   image_sig_state_name(v.sig));
			free(img);
		}
	CHECK_INT(image_tamper_from_string("trailer"), -EINVAL);
}

/* Tampering needs the part it names: no protected area, or no signature, is refused. */
static void test_tamper_needs_the_part(void)
{
	uint8_t *img = NULL;
	size_t len = make(NULL, false, &img);

	CHECK_INT(image_tamper(img, len, IMAGE_TAMPER_PROTECTED_TLV), -EINVAL);
	CHECK_INT(image_tamper(img, len, IMAGE_TAMPER_SIGNATURE), -EINVAL);
	CHECK_INT(image_tamper(img, 10, IMAGE_TAMPER_HEADER), -EINVAL);
	CHECK_INT(image_tamper(img, len, IMAGE_TAMPER_HEADER), 0);
	CHECK(!verify(img, len, NULL).hash_ok);
	free(img);
}

typedef struct WrongKeyCase {
	const char *signer, *checker;
} WrongKeyCase;

/* Another key of the same or another type is refused as the wrong key, and says why. */
static void test_wrong_key(void)
{
	static const WrongKeyCase cases[] = {
		{ "rsa-2048", "rsa-3072" }, { "rsa-2048", "ed25519" }, { "ec-p256", "ec-p384" },
		{ "ec-p384", "ec-p256" }, { "ed25519", "rsa-2048" }, { "rsa-3072", "ec-p256" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t *img = NULL;
		size_t len = make(cases[i].signer, false, &img);
		ImageVerdict v = verify(img, len, cases[i].checker);

		tap_checkf(v.hash_ok && v.sig == IMAGE_SIG_WRONG_KEY && v.why[0], __FILE__, __LINE__,
			   "%s checked with %s: %s", cases[i].signer, cases[i].checker, image_sig_state_name(v.sig));
		v = verify(img, len, NULL);
		CHECK(v.sig == IMAGE_SIG_UNCHECKED && v.sig_type != 0);
		free(img);
	}
}

/* A KEYHASH or PUBKEY that names another key makes the verdict wrong-key even though the key's type
 * fits; without any key TLV the signature alone decides. */
static void test_key_tlv_mismatch(void)
{
	for (int pubkey = 0; pubkey < 2; pubkey++) {
		ImageSignSpec s = spec_for("ed25519");
		uint8_t *img = NULL;
		size_t len;
		Image m;
		const ImageTlv *t;
		ImageVerdict v;

		s.embed_pubkey = pubkey;
		len = sign(&s, &img);
		CHECK_INT(image_parse(img, len, &m, NULL, 0), 0);
		t = find(&m, pubkey ? IMAGE_TLV_PUBKEY : IMAGE_TLV_KEYHASH);
		CHECK(t != NULL);
		if (!t)
			continue;
		img[t->offset + t->len - 1] ^= 0x80;
		v = verify(img, len, "ed25519");
		CHECK(v.hash_ok && v.has_key_tlv && !v.key_tlv_matches);
		CHECK_INT(v.sig, IMAGE_SIG_WRONG_KEY);
		/* Renamed to an unknown TLV type, the key TLV is gone and the signature verifies. */
		img[t->offset + t->len - 1] ^= 0x80;
		put16(img + t->offset - 4, 0x7f);
		v = verify(img, len, "ed25519");
		CHECK(v.hash_ok && !v.has_key_tlv && v.sig == IMAGE_SIG_OK);
		free(img);
	}
}

/* Appends the TLVs from `from` (an offset into donor's unprotected area) to img's unprotected area. */
static size_t append_tlvs(uint8_t *img, size_t len, const uint8_t *donor, size_t from, size_t donor_len)
{
	Image m;
	size_t info;

	CHECK_INT(image_parse(img, len, &m, NULL, 0), 0);
	info = (size_t)m.hdr_size + m.img_size + m.protect_tlv_size;
	memcpy(img + len, donor + from, donor_len - from);
	put16(img + info + 2, (unsigned)(len + donor_len - from - info));
	return len + donor_len - from;
}

/* With two KEYHASH + signature pairs (MCUboot accepts several), the pair naming the given key is the
 * one checked; a key named by neither is the wrong key. */
static void test_several_signatures(void)
{
	uint8_t *a = NULL, *b = NULL, *both;
	size_t a_len = make("ec-p256", false, &a), b_len = make("ed25519", false, &b), len;
	Image mb;

	CHECK_INT(image_parse(b, b_len, &mb, NULL, 0), 0);
	both = calloc(1, a_len + b_len);
	memcpy(both, a, a_len);
	/* The payloads are the same, so b's KEYHASH and signature cover a's bytes too. */
	len = append_tlvs(both, a_len, b, find(&mb, IMAGE_TLV_KEYHASH)->offset - 4, b_len);
	CHECK_INT(verify(both, len, "ed25519").sig, IMAGE_SIG_OK);
	CHECK_INT(verify(both, len, "ed25519").sig_type, IMAGE_TLV_ED25519);
	CHECK_INT(verify(both, len, "ec-p256").sig, IMAGE_SIG_OK);
	CHECK_INT(verify(both, len, "ec-p256").sig_type, IMAGE_TLV_ECDSA_SIG);
	CHECK_INT(verify(both, len, "rsa-2048").sig, IMAGE_SIG_WRONG_KEY);
	free(both);
	free(a);
	free(b);
}

/* Pure Ed25519 signs the image bytes: SIG_PURE and a SHA-512 hash TLV are present, the signature
 * verifies over the bytes (not the digest), and a changed payload breaks it. */
static void test_pure_signature(void)
{
	ImageSignSpec s = spec_for("ed25519");
	uint8_t *img = NULL;
	size_t len;
	Image m;
	const ImageTlv *pure;

	s.pure = true;
	s.has_security_counter = true;
	len = sign(&s, &img);
	CHECK_INT(image_parse(img, len, &m, NULL, 0), 0);
	CHECK_INT(m.hash_type, IMAGE_TLV_SHA512);
	pure = find(&m, IMAGE_TLV_SIG_PURE);
	CHECK(pure && pure->len == 1 && img[pure->offset] == 1 && !pure->protected_area);
	CHECK_INT(verify(img, len, "ed25519").sig, IMAGE_SIG_OK);
	/* Without SIG_PURE the signature is read as one over the digest, which it is not. */
	put16(img + pure->offset - 4, 0x7f);
	CHECK_INT(verify(img, len, "ed25519").sig, IMAGE_SIG_BAD);
	put16(img + pure->offset - 4, IMAGE_TLV_SIG_PURE);
	CHECK_INT(image_tamper(img, len, IMAGE_TAMPER_PAYLOAD), 0);
	CHECK_INT(verify(img, len, "ed25519").sig, IMAGE_SIG_BAD);
	free(img);
}

/* --pad-sig pads ECDSA DER signatures with zeros to imgtool's 72 (P-256) or 103 (P-384) bytes, a longer
 * DER staying as it is; padded signatures verify. */
static void test_padded_ecdsa(void)
{
	static const struct { const char *key; size_t min_len; } cases[] = { { "ec-p256", 72 }, { "ec-p384", 103 } };

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		ImageSignSpec s = spec_for(cases[i].key);
		const ImageTlv *sig;
		uint8_t *img = NULL;
		size_t len, der;
		Image m;

		s.pad_sig = true;
		len = sign(&s, &img);
		CHECK_INT(image_parse(img, len, &m, NULL, 0), 0);
		sig = find(&m, IMAGE_TLV_ECDSA_SIG);
		CHECK(sig != NULL);
		if (!sig)
			continue;
		der = (size_t)img[sig->offset + 1] + 2;
		CHECK_INT(sig->len, MAX(cases[i].min_len, der));
		for (size_t b = der; b < sig->len; b++)
			CHECK(img[sig->offset + b] == 0);
		CHECK_INT(verify(img, len, cases[i].key).sig, IMAGE_SIG_OK);
		free(img);
	}
}

/* An unsigned image has a hash and no signature; asking for a key check says it is not signed. */
static void test_unsigned_image(void)
{
	uint8_t *img = NULL;
	size_t len = make(NULL, false, &img);
	ImageVerdict v = verify(img, len, NULL);

	CHECK(v.hash_ok && !v.why[0]);
	CHECK_INT(v.sig, IMAGE_SIG_NONE);
	CHECK_INT(v.sig_type, 0);
	v = verify(img, len, "ec-p256");
	CHECK(v.hash_ok && v.sig == IMAGE_SIG_NONE && strstr(v.why, "not signed"));
	free(img);
}

/* An encrypted image's hash cannot be checked (it covers the plaintext); the signature over the hash
 * TLV still can. A retired ECDSA-224 signature is unsupported. */
static void test_encrypted_and_unsupported(void)
{
	uint8_t *img = NULL;
	size_t len = make("ec-p256", false, &img);
	ImageVerdict v;
	Image m;

	img[16] |= IMAGE_F_ENCRYPTED_AES128;
	v = verify(img, len, "ec-p256");
	CHECK(v.encrypted && !v.hash_ok && strstr(v.why, "encrypted"));
	/* The flag is under the hash, so it cannot be set without re-signing; the signature over the
	 * recorded hash is still the signer's. */
	CHECK_INT(v.sig, IMAGE_SIG_OK);
	img[16] &= (uint8_t)~IMAGE_F_ENCRYPTED_AES128;
	CHECK_INT(image_parse(img, len, &m, NULL, 0), 0);
	put16(img + find(&m, IMAGE_TLV_ECDSA_SIG)->offset - 4, IMAGE_TLV_ECDSA224);
	v = verify(img, len, "ec-p256");
	CHECK(v.hash_ok && v.sig == IMAGE_SIG_UNSUPPORTED && v.why[0]);
	free(img);
}

/* Keys that cannot be read are an error with a reason, not a verdict. */
static void test_bad_key_files(void)
{
	uint8_t *img = NULL;
	size_t len = make("ec-p256", false, &img);
	ImageVerdict v;
	Image m;

	CHECK_INT(image_parse(img, len, &m, NULL, 0), 0);
	CHECK_INT(image_verify(&m, "/nonexistent/key.pem", &v), -EINVAL);
	CHECK(strstr(v.why, "/nonexistent/key.pem"));
	CHECK_INT(image_verify(&m, SMPCTL_TEST_KEYS "/README.md", &v), -EINVAL);
	CHECK(v.why[0]);
	free(img);
	/* Signing needs a private key. */
	{
		ImageSignSpec s = spec_for(NULL);
		char why[200] = "";

		s.key_path = key_path("ec-p256", true);
		CHECK_INT(image_sign(&s, &img, &len, why, sizeof(why)), -EINVAL);
		CHECK(strstr(why, "private"));
		s.key_path = NULL;
		s.hdr_size = 16;
		CHECK_INT(image_sign(&s, &img, &len, why, sizeof(why)), -EINVAL);
	}
}

/* Every truncation of a valid image is refused with a one-line reason; trailing erased flash is not
 * part of the image. */
static void test_truncated_everywhere(void)
{
	uint8_t *img = NULL;
	size_t len = make("ed25519", true, &img);
	uint8_t *padded = malloc(len + 4096);
	Image m;

	for (size_t n = 0; n < len; n++) {
		char why[128] = "";

		tap_checkf(image_parse(img, n, &m, why, sizeof(why)) == -EBADMSG && why[0] && !strchr(why, '\n'),
			   __FILE__, __LINE__, "truncated to %zu: %s", n, why);
	}
	memcpy(padded, img, len);
	memset(padded + len, 0xff, 4096);
	CHECK_INT(image_parse(padded, len + 4096, &m, NULL, 0), 0);
	CHECK_INT(m.size, len);
	CHECK(verify(padded, len + 4096, "ed25519").sig == IMAGE_SIG_OK);
	free(padded);
	free(img);
}

/* Offsets in the test image (ec-p256, SEC_CNT): where the TLV areas start. */
typedef struct Layout {
	size_t prot, unprot, end;
} Layout;

typedef struct Mangle {
	const char *what;
	void (*apply)(uint8_t *img, size_t *len, const Layout *l);
} Mangle;

static void bad_magic(uint8_t *img, size_t *len, const Layout *l) { (void)len, (void)l; img[0] = 0; }
static void hdr_too_small(uint8_t *img, size_t *len, const Layout *l) { (void)len, (void)l; put16(img + 8, 0x10); }
static void hdr_huge(uint8_t *img, size_t *len, const Layout *l) { (void)len, (void)l; put16(img + 8, 0xffff); }
static void img_size_huge(uint8_t *img, size_t *len, const Layout *l) { (void)len, (void)l; img[15] = 0xff; }
static void prot_huge(uint8_t *img, size_t *len, const Layout *l) { (void)len, (void)l; put16(img + 10, 0xffff); }
static void prot_tiny(uint8_t *img, size_t *len, const Layout *l)
{
	(void)len;
	put16(img + 10, 2);
	put16(img + l->prot + 2, 2);
}
static void prot_unannounced(uint8_t *img, size_t *len, const Layout *l) { (void)len, (void)l; put16(img + 10, 0); }
static void prot_bad_magic(uint8_t *img, size_t *len, const Layout *l) { (void)len; put16(img + l->prot, 0x6907); }
static void prot_info_disagrees(uint8_t *img, size_t *len, const Layout *l) { (void)len; put16(img + l->prot + 2, 16); }
static void unprot_bad_magic(uint8_t *img, size_t *len, const Layout *l) { (void)len; put16(img + l->unprot, 0x6908); }
static void unprot_total_small(uint8_t *img, size_t *len, const Layout *l) { (void)len; put16(img + l->unprot + 2, 3); }
static void unprot_total_past_end(uint8_t *img, size_t *len, const Layout *l)
{
	(void)len;
	put16(img + l->unprot + 2, (unsigned)(l->end - l->unprot + 1));
}
static void tlv_past_area(uint8_t *img, size_t *len, const Layout *l) { (void)len; put16(img + l->unprot + 6, 0xfff0); }
static void tlv_header_split(uint8_t *img, size_t *len, const Layout *l)
{
	/* The area ends two bytes into the last TLV's header. */
	(void)len;
	put16(img + l->unprot + 2, (unsigned)(l->unprot + 4 + 4 + 32 + 2 - l->unprot));
}
static void prot_tlv_past_area(uint8_t *img, size_t *len, const Layout *l) { (void)len; put16(img + l->prot + 6, 5); }
static void hash_wrong_length(uint8_t *img, size_t *len, const Layout *l)
{
	/* SHA256 declared, but the TLV holds 33 bytes: the following KEYHASH TLV starts one byte later. */
	(void)len;
	put16(img + l->unprot + 6, 33);
}
static void hash_twice(uint8_t *img, size_t *len, const Layout *l)
{
	/* KEYHASH (32 bytes, right after the hash TLV) renamed SHA256. */
	(void)len;
	put16(img + l->unprot + 4 + 4 + 32, IMAGE_TLV_SHA256);
}
static void no_hash(uint8_t *img, size_t *len, const Layout *l) { (void)len; put16(img + l->unprot + 4, 0x7f); }
static void hash_in_protected(uint8_t *img, size_t *len, const Layout *l)
{
	(void)len;
	put16(img + l->prot + 4, IMAGE_TLV_SHA256);
	put16(img + l->prot + 6, 4);
}
static void too_many_tlvs(uint8_t *img, size_t *len, const Layout *l)
{
	/* 40 empty TLVs after the signature. */
	for (size_t i = 0; i < 40; i++)
		put16(img + l->end + 4 * i, 0x7f), put16(img + l->end + 4 * i + 2, 0);
	*len = l->end + 160;
	put16(img + l->unprot + 2, (unsigned)(*len - l->unprot));
}

/* Lies in the header, the TLV infos or the TLVs are refused with a reason, never read past the end. */
static void test_malformed_images(void)
{
	static const Mangle cases[] = {
		{ "bad magic", bad_magic },
		{ "hdr_size below 32", hdr_too_small },
		{ "hdr_size past the end", hdr_huge },
		{ "img_size past the end", img_size_huge },
		{ "protect_tlv_size huge", prot_huge },
		{ "protect_tlv_size below the info", prot_tiny },
		{ "protected area the header does not announce", prot_unannounced },
		{ "protected info magic wrong", prot_bad_magic },
		{ "protected info length disagrees", prot_info_disagrees },
		{ "unprotected info magic wrong", unprot_bad_magic },
		{ "unprotected total below the info", unprot_total_small },
		{ "unprotected total past the end", unprot_total_past_end },
		{ "TLV length past its area", tlv_past_area },
		{ "TLV header split by the area's end", tlv_header_split },
		{ "protected TLV past its area", prot_tlv_past_area },
		{ "hash TLV of the wrong length", hash_wrong_length },
		{ "two hash TLVs", hash_twice },
		{ "no hash TLV", no_hash },
		{ "hash TLV in the protected area", hash_in_protected },
		{ "more TLVs than any image has", too_many_tlvs },
	};
	uint8_t *good = NULL;
	size_t good_len = make("ec-p256", true, &good);
	Layout l = { 0x200 + PAYLOAD_LEN, 0x200 + PAYLOAD_LEN + 12, good_len };
	Image m;

	CHECK_INT(image_parse(good, good_len, &m, NULL, 0), 0);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t *img = calloc(1, good_len + 512);
		size_t len = good_len;
		char why[200] = "";
		int r;

		memcpy(img, good, good_len);
		cases[i].apply(img, &len, &l);
		r = image_parse(img, len, &m, why, sizeof(why));
		tap_checkf(r == -EBADMSG && why[0], __FILE__, __LINE__, "%s: %d (%s)", cases[i].what, r, why);
		free(img);
	}
	free(good);
}

static int write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	bool ok = fd >= 0 && write(fd, data, len) == (ssize_t)len;

	if (fd >= 0)
		close(fd);
	return ok ? 0 : -EIO;
}

/* A signed image written as Intel HEX (at 0, across a 64 KiB boundary, at a flash address) reads back
 * as the same bytes, and still verifies; binary files read back as they are. */
static void test_intel_hex_round_trip(void)
{
	static const uint32_t bases[] = { 0, 0xfff8, 0x0800c000 };
	char path[] = "/tmp/smpctl-test-image-XXXXXX";
	uint8_t *img = NULL, *back = NULL;
	size_t len = make("ec-p384", true, &img), back_len = 0;
	int fd = mkstemp(path);
	char why[128] = "";

	CHECK(fd >= 0);
	close(fd);
	for (size_t i = 0; i < ARRAY_SIZE(bases); i++) {
		char *text = NULL;
		size_t text_len = 0;

		CHECK_INT(image_hex_encode(img, len, bases[i], &text, &text_len), 0);
		CHECK(text && text[0] == ':' && strlen(text) == text_len);
		CHECK_INT(write_file(path, text, text_len), 0);
		CHECK_INT(image_load_file(path, &back, &back_len, why, sizeof(why)), 0);
		CHECK_INT(back_len, len);
		CHECK(back && memcmp(back, img, len) == 0);
		if (back)
			CHECK_INT(verify(back, back_len, "ec-p384").sig, IMAGE_SIG_OK);
		free(back);
		back = NULL;
		free(text);
	}
	CHECK_INT(image_hex_encode(img, len, 0xffffff00u, &(char *){ NULL }, &back_len), -EINVAL);
	CHECK_INT(write_file(path, img, len), 0);
	CHECK_INT(image_load_file(path, &back, &back_len, why, sizeof(why)), 0);
	CHECK(back_len == len && memcmp(back, img, len) == 0);
	free(back);
	unlink(path);
	free(img);
}

typedef struct HexCase {
	const char *what, *text;
	int rc;
	size_t len;
} HexCase;

/* Intel HEX decoding, table-driven: gaps read as 0xff, CRLF and blank lines are fine, everything
 * malformed is refused with the line it is on. */
static void test_intel_hex_decoding(void)
{
	static const HexCase cases[] = {
		{ "gap filled with 0xff", ":04000000010203F402\n:02000004000AF0\n:0100000055AA\n:00000001FF\n", 0,
		  0xa0001 },
		{ "CRLF, blank line", ":0400000001020304F2\r\n\r\n:00000001FF\r\n", 0, 4 },
		{ "after EOF ignored", ":0400000001020304F2\n:00000001FF\ngarbage\n", 0, 4 },
		{ "segment address", ":020000021000EC\n:0400000001020304F2\n:00000001FF\n", 0, 4 },
		{ "start addresses", ":0400000508000000EF\n:0400000300001000E9\n:0400000001020304F2\n:00000001FF\n", 0,
		  4 },
		{ "bad checksum", ":0400000001020304F1\n:00000001FF\n", -EBADMSG, 0 },
		{ "odd length", ":0400000001020304F\n:00000001FF\n", -EBADMSG, 0 },
		{ "not hex", ":04000000010203G4F2\n:00000001FF\n", -EBADMSG, 0 },
		{ "count disagrees", ":0500000001020304F1\n:00000001FF\n", -EBADMSG, 0 },
		{ "unknown type", ":0400000601020304EC\n:00000001FF\n", -EBADMSG, 0 },
		{ "short 04 record", ":0100000400FB\n:00000001FF\n", -EBADMSG, 0 },
		{ "EOF with data", ":0400000001020304F2\n:01000001FFFF\n", -EBADMSG, 0 },
		{ "no EOF", ":0400000001020304F2\n", -EBADMSG, 0 },
		{ "no data", ":00000001FF\n", -EBADMSG, 0 },
		{ "leading space", ":0400000001020304F2\n :00000001FF\n", -EBADMSG, 0 },
		{ "span over 16 MiB", ":0100000001FE\n:020000040200F8\n:0100000001FE\n:00000001FF\n", -EBADMSG, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t *data = NULL;
		size_t len = 0;
		char why[128] = "";
		int r = image_file_decode((const uint8_t *)cases[i].text, strlen(cases[i].text), &data, &len, why,
					  sizeof(why));

		tap_checkf(r == cases[i].rc, __FILE__, __LINE__, "%s: %d (%s)", cases[i].what, r, why);
		if (r == 0)
			tap_checkf(len == cases[i].len, __FILE__, __LINE__, "%s: %zu bytes", cases[i].what, len);
		else
			tap_checkf(why[0] != '\0', __FILE__, __LINE__, "%s says why", cases[i].what);
		if (r == 0 && i == 0)
			CHECK(data[0] == 1 && data[3] == 0xf4 && data[4] == 0xff && data[0x9ffff] == 0xff &&
			      data[0xa0000] == 0x55);
		free(data);
	}
}

/* The same spec gives the same hash every time; Ed25519 and unsigned images are identical bytes,
 * RSA-PSS and ECDSA signatures differ between runs but both verify. */
static void test_reproducible(void)
{
	for (size_t k = 0; k < ARRAY_SIZE(key_names) + 1; k++) {
		const char *key = k < ARRAY_SIZE(key_names) ? key_names[k] : NULL;
		bool deterministic = !key || strcmp(key, "ed25519") == 0;
		uint8_t *a = NULL, *b = NULL;
		size_t a_len = make(key, true, &a), b_len = make(key, true, &b);
		Image ma, mb;

		CHECK_INT(image_parse(a, a_len, &ma, NULL, 0), 0);
		CHECK_INT(image_parse(b, b_len, &mb, NULL, 0), 0);
		CHECK(ma.hash_len == mb.hash_len && memcmp(ma.hash, mb.hash, ma.hash_len) == 0);
		CHECK(memcmp(a, b, (size_t)ma.hdr_size + ma.img_size + ma.protect_tlv_size) == 0);
		tap_checkf((a_len == b_len && memcmp(a, b, a_len) == 0) == deterministic, __FILE__, __LINE__,
			   "%s: identical bytes %s expected", key ? key : "unsigned", deterministic ? "" : "not");
		if (key)
			CHECK(verify(a, a_len, key).sig == IMAGE_SIG_OK && verify(b, b_len, key).sig == IMAGE_SIG_OK);
		free(a);
		free(b);
	}
}

/* Versions print as imgtool writes them; SHA-256 is SHA-256 (FIPS 180-2 "abc"). */
static void test_version_and_sha256(void)
{
	static const uint8_t abc[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
		0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};
	char text[32];
	uint8_t digest[32];

	image_version_format(&(ImageVersion){ 1, 2, 3, 4 }, true, text, sizeof(text));
	CHECK_STR(text, "1.2.3+4");
	image_version_format(&(ImageVersion){ 255, 255, 65535, 0 }, true, text, sizeof(text));
	CHECK_STR(text, "255.255.65535");
	image_version_format(&(ImageVersion){ 0, 1, 0, 0 }, false, text, sizeof(text));
	CHECK_STR(text, "0.1.0+0");
	image_sha256("abc", 3, digest);
	CHECK_MEM(digest, abc, 32);
}

/* Names for the CLI: every type smpctl signs or shows has one; unknown types have none. */
static void test_names(void)
{
	static const uint16_t named[] = { IMAGE_TLV_KEYHASH, IMAGE_TLV_PUBKEY, IMAGE_TLV_SHA256, IMAGE_TLV_SHA384,
					  IMAGE_TLV_SHA512, IMAGE_TLV_RSA2048_PSS, IMAGE_TLV_ECDSA_SIG,
					  IMAGE_TLV_RSA3072_PSS, IMAGE_TLV_ED25519, IMAGE_TLV_SIG_PURE,
					  IMAGE_TLV_ENC_EC256, IMAGE_TLV_DEPENDENCY, IMAGE_TLV_SEC_CNT };

	for (size_t i = 0; i < ARRAY_SIZE(named); i++)
		tap_checkf(image_tlv_name(named[i]) != NULL, __FILE__, __LINE__, "TLV 0x%02x named", named[i]);
	CHECK(image_tlv_name(0x7f) == NULL && image_sig_type_name(IMAGE_TLV_SHA256) == NULL);
	CHECK_STR(image_sig_type_name(IMAGE_TLV_ED25519), "Ed25519");
	CHECK_STR(image_sig_state_name(IMAGE_SIG_WRONG_KEY), "wrong-key");
	CHECK_STR(image_sig_state_name((ImageSigState)99), "?");
}

int main(void)
{
	static const TapTest tests[] = {
		TAP_TEST(test_every_key_type_verifies),
		TAP_TEST(test_layout_is_imgtools),
		TAP_TEST(test_hash_choice_follows_imgtool),
		TAP_TEST(test_tampering_is_caught),
		TAP_TEST(test_tamper_needs_the_part),
		TAP_TEST(test_wrong_key),
		TAP_TEST(test_key_tlv_mismatch),
		TAP_TEST(test_several_signatures),
		TAP_TEST(test_pure_signature),
		TAP_TEST(test_padded_ecdsa),
		TAP_TEST(test_unsigned_image),
		TAP_TEST(test_encrypted_and_unsupported),
		TAP_TEST(test_bad_key_files),
		TAP_TEST(test_truncated_everywhere),
		TAP_TEST(test_malformed_images),
		TAP_TEST(test_intel_hex_round_trip),
		TAP_TEST(test_intel_hex_decoding),
		TAP_TEST(test_reproducible),
		TAP_TEST(test_version_and_sha256),
		TAP_TEST(test_names),
	};
	return tap_run(tests, ARRAY_SIZE(tests));
}
