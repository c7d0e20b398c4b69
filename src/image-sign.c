/* SPDX-License-Identifier: MIT */
/*
 * Signed MCUboot images as imgtool makes them (scripts/imgtool/image.py create(); keys/ecdsa.py,
 * rsa.py, ed25519.py): the header padded with zeros to hdr_size, the payload, the protected TLVs
 * (covered by the hash), then the unprotected area: hash, SIG_PURE, KEYHASH or PUBKEY, signature, in
 * that order. For test images and the demo's sample; the tamper helpers make the images that must be
 * refused.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "image.h"
#include "image-crypto.h"
#include "util.h"

/* Room for the unprotected area: hash (68) + SIG_PURE (5) + PUBKEY of RSA-3072 (~402) + signature
 * (388) + info (4), with margin. */
#define SIGN_TLV_ROOM 2048u

typedef struct Builder {
	uint8_t *buf;
	size_t len, cap;
} Builder;

static void put_le(Builder *b, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b->buf[b->len++] = (uint8_t)(v >> (8 * i));
}

static void put_tlv(Builder *b, uint16_t type, const uint8_t *data, size_t n)
{
	put_le(b, type, 2);
	put_le(b, n, 2);
	memcpy(b->buf + b->len, data, n);
	b->len += n;
}

/* MCUboot image.h struct image_header; imgtool add_header() with --pad-header. */
static void put_header(Builder *b, const ImageSignSpec *s, uint16_t hdr_size, uint16_t prot_size)
{
	memset(b->buf, 0, hdr_size);
	put_le(b, IMAGE_MAGIC, 4);
	put_le(b, s->load_addr, 4);
	put_le(b, hdr_size, 2);
	put_le(b, prot_size, 2);
	put_le(b, s->payload_len, 4);
	put_le(b, s->rom_fixed ? IMAGE_F_ROM_FIXED : 0, 4); /* flags */
	b->buf[b->len++] = s->version.major;
	b->buf[b->len++] = s->version.minor;
	put_le(b, s->version.revision, 2);
	put_le(b, s->version.build, 4);
	b->len = hdr_size;
}

/* imgtool: RSA-PSS (MGF1-SHA256, salt 32) and ECDSA sign the digest; Ed25519 signs msg as its message
 * (the digest bytes, or with --pure the image bytes). */
static int sign_message(EVP_PKEY *key, const uint8_t *msg, size_t msg_len, const EVP_MD *md, uint8_t *sig,
			size_t *sig_len)
{
	EVP_PKEY_CTX *pctx;
	EVP_MD_CTX *mctx;
	bool ok;

	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519) {
		mctx = EVP_MD_CTX_new();
		ok = mctx && EVP_DigestSignInit(mctx, NULL, NULL, NULL, key) == 1 &&
		     EVP_DigestSign(mctx, sig, sig_len, msg, msg_len) == 1;
		EVP_MD_CTX_free(mctx);
		return ok ? 0 : -EINVAL;
	}
	pctx = EVP_PKEY_CTX_new(key, NULL);
	ok = pctx && EVP_PKEY_sign_init(pctx) > 0 && EVP_PKEY_CTX_set_signature_md(pctx, md) > 0;
	if (ok && EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
		     EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) > 0 &&
		     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) > 0;
	ok = ok && EVP_PKEY_sign(pctx, sig, sig_len, msg, msg_len) > 0;
	EVP_PKEY_CTX_free(pctx);
	return ok ? 0 : -EINVAL;
}

/* imgtool keys/ecdsa.py sig_len(): --pad-sig pads the DER to 72 bytes (P-256) or 103 (P-384); a
 * 104-byte P-384 signature stays as it is. */
static size_t ecdsa_padded_length(EVP_PKEY *key, size_t sig_len)
{
	size_t fixed = strcmp(image_key_curve(key), "P-384") == 0 ? 103 : 72;

	return MAX(fixed, sig_len);
}

/* KEYHASH (or PUBKEY) and the signature TLV. */
static int put_key_tlvs(Builder *b, EVP_PKEY *key, const ImageSignSpec *s, const uint8_t *msg, size_t msg_len,
			const EVP_MD *md)
{
	uint8_t keyhash[EVP_MAX_MD_SIZE], sig[600] = { 0 }, *der = NULL;
	unsigned keyhash_len = 0;
	size_t sig_len = sizeof(sig);
	int n = image_key_der(key, &der);

	if (n <= 0)
		return -EINVAL;
	if (s->embed_pubkey) {
		put_tlv(b, IMAGE_TLV_PUBKEY, der, (size_t)n);
	} else {
		EVP_Digest(der, (size_t)n, keyhash, &keyhash_len, md, NULL);
		put_tlv(b, IMAGE_TLV_KEYHASH, keyhash, keyhash_len);
	}
	OPENSSL_free(der);
	if (sign_message(key, msg, msg_len, md, sig, &sig_len) < 0)
		return -EINVAL;
	if (s->pad_sig && EVP_PKEY_get_base_id(key) == EVP_PKEY_EC)
		sig_len = ecdsa_padded_length(key, sig_len);
	put_tlv(b, image_key_sig_type(key), sig, sig_len);
	return 0;
}

/* imgtool ALLOWED_KEY_SHA / ALLOWED_PURE_KEY_SHA: RSA and P-256 with SHA-256, P-384 with SHA-384,
 * Ed25519 with SHA-256 or SHA-512, pure Ed25519 with SHA-512; without a key, any. */
static int choose_hash(EVP_PKEY *key, const ImageSignSpec *s, uint16_t *hash_type, char *why, size_t why_size)
{
	uint16_t sig = key ? image_key_sig_type(key) : 0;
	bool p384 = key && strcmp(image_key_curve(key), "P-384") == 0;
	uint16_t wanted = s->pure ? IMAGE_TLV_SHA512 : p384 ? IMAGE_TLV_SHA384 : IMAGE_TLV_SHA256;
	uint16_t h = s->hash_type ? s->hash_type : wanted;

	if (key && !sig) {
		snprintf(why, why_size, "MCUboot signs with RSA-2048/3072, EC P-256/P-384 or Ed25519 keys only");
		return -EINVAL;
	}
	if (s->pure && sig != IMAGE_TLV_ED25519) {
		snprintf(why, why_size, "a pure signature needs an Ed25519 key (imgtool --pure)");
		return -EINVAL;
	}
	if (h != IMAGE_TLV_SHA256 && h != IMAGE_TLV_SHA384 && h != IMAGE_TLV_SHA512) {
		snprintf(why, why_size, "unknown hash TLV type 0x%02x", h);
		return -EINVAL;
	}
	if (key && h != wanted && !(sig == IMAGE_TLV_ED25519 && !s->pure && h == IMAGE_TLV_SHA512)) {
		snprintf(why, why_size, "imgtool does not use %s with this key (%s)", image_tlv_name(h),
			 image_tlv_name(wanted));
		return -EINVAL;
	}
	*hash_type = h;
	return 0;
}

static int check_spec(const ImageSignSpec *s, char *why, size_t why_size)
{
	uint16_t hdr_size = s->hdr_size ? s->hdr_size : 0x200;

	if (hdr_size < IMAGE_HEADER_SIZE) {
		snprintf(why, why_size, "the header size must be at least %u bytes", IMAGE_HEADER_SIZE);
		return -EINVAL;
	}
	if (s->payload_len > IMAGE_FILE_MAX || (s->payload_len && !s->payload)) {
		snprintf(why, why_size, "the payload must be given and at most 16 MiB");
		return -EINVAL;
	}
	return 0;
}

/* Header, payload and protected TLVs: everything the hash covers. */
static int build_signed_part(Builder *b, const ImageSignSpec *s)
{
	uint16_t hdr_size = s->hdr_size ? s->hdr_size : 0x200;
	/* imgtool: info (4) + SEC_CNT TLV (4 + u32). */
	uint16_t prot = s->has_security_counter ? 4 + 4 + 4 : 0;

	b->cap = (size_t)hdr_size + s->payload_len + prot + SIGN_TLV_ROOM;
	b->buf = calloc(1, b->cap);
	if (!b->buf)
		return -ENOMEM;
	put_header(b, s, hdr_size, prot);
	if (s->payload_len)
		memcpy(b->buf + b->len, s->payload, s->payload_len);
	b->len += s->payload_len;
	if (prot) {
		put_le(b, IMAGE_TLV_PROT_INFO_MAGIC, 2);
		put_le(b, prot, 2);
		put_le(b, IMAGE_TLV_SEC_CNT, 2);
		put_le(b, 4, 2);
		put_le(b, s->security_counter, 4);
	}
	return 0;
}

/* The unprotected area, its info's length patched in at the end. */
static int build_unprotected(Builder *b, const ImageSignSpec *s, EVP_PKEY *key, uint16_t hash_type)
{
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned digest_len = 0;
	size_t signed_len = b->len, info_at = b->len;
	int r = 0;

	EVP_Digest(b->buf, signed_len, digest, &digest_len, image_md(hash_type), NULL);
	put_le(b, IMAGE_TLV_INFO_MAGIC, 2);
	put_le(b, 0, 2);
	/* imgtool writes the hash TLV even for pure signatures (REFERENCE.md §8). */
	put_tlv(b, hash_type, digest, digest_len);
	if (s->pure)
		put_tlv(b, IMAGE_TLV_SIG_PURE, (const uint8_t[]){ 1 }, 1);
	if (key)
		r = s->pure ? put_key_tlvs(b, key, s, b->buf, signed_len, image_md(hash_type))
			    : put_key_tlvs(b, key, s, digest, digest_len, image_md(hash_type));
	b->buf[info_at + 2] = (uint8_t)(b->len - info_at);
	b->buf[info_at + 3] = (uint8_t)((b->len - info_at) >> 8);
	return r;
}

int image_sign(const ImageSignSpec *s, uint8_t **out, size_t *out_len, char *why, size_t why_size)
{
	EVP_PKEY *key = NULL;
	Builder b = { 0 };
	uint16_t hash_type = 0;
	int r = check_spec(s, why, why_size);

	if (r < 0)
		return r;
	if (s->pure && !s->key_path) {
		snprintf(why, why_size, "a pure signature needs a key");
		return -EINVAL;
	}
	if (s->key_path && !(key = image_key_load(s->key_path, why, why_size)))
		return -EINVAL;
	r = choose_hash(key, s, &hash_type, why, why_size);
	if (r >= 0)
		r = build_signed_part(&b, s);
	if (r >= 0 && (r = build_unprotected(&b, s, key, hash_type)) < 0)
		snprintf(why, why_size, "signing failed: is %s a private key?", s->key_path);
	EVP_PKEY_free(key);
	if (r < 0) {
		free(b.buf);
		return r;
	}
	*out = b.buf;
	*out_len = b.len;
	return 0;
}

int image_tamper_from_string(const char *name)
{
	static const char *const names[] = {
		[IMAGE_TAMPER_HEADER] = "header", [IMAGE_TAMPER_PAYLOAD] = "payload",
		[IMAGE_TAMPER_PROTECTED_TLV] = "protected-tlv", [IMAGE_TAMPER_SIGNATURE] = "signature",
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(name, names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

static const ImageTlv *first_signature(const Image *img)
{
	for (size_t i = 0; i < img->tlv_count; i++)
		if (!img->tlvs[i].protected_area && image_sig_type_name(img->tlvs[i].type))
			return &img->tlvs[i];
	return NULL;
}

int image_tamper(uint8_t *buf, size_t len, ImageTamper what)
{
	const ImageTlv *sig;
	Image img;
	size_t at;

	if (image_parse(buf, len, &img, NULL, 0) < 0)
		return -EINVAL;
	switch (what) {
	case IMAGE_TAMPER_HEADER:
		at = 20; /* ih_ver.iv_major: a downgrade or upgrade the signer never approved */
		break;
	case IMAGE_TAMPER_PAYLOAD:
		if (!img.img_size)
			return -EINVAL;
		at = img.hdr_size + img.img_size / 2;
		break;
	case IMAGE_TAMPER_PROTECTED_TLV:
		if (!img.protect_tlv_size)
			return -EINVAL;
		at = (size_t)img.hdr_size + img.img_size + img.protect_tlv_size - 1;
		break;
	case IMAGE_TAMPER_SIGNATURE:
		/* The middle of the value: inside r or s of a DER ECDSA signature, not its framing. */
		sig = first_signature(&img);
		if (!sig || !sig->len)
			return -EINVAL;
		at = sig->offset + sig->len / 2u;
		break;
	default:
		return -EINVAL;
	}
	buf[at] ^= 0x01;
	return 0;
}
