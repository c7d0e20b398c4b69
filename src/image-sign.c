/* SPDX-License-Identifier: MIT */
/*
 * Signed MCUboot images as imgtool makes them (scripts/imgtool/image.py): header padded to hdr_size,
 * payload, optional protected TLVs (covered by the hash), then the unprotected area with the hash
 * TLV, KEYHASH and the signature, in that order. For test images and the demo's sample.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "image.h"
#include "image-crypto.h"
#include "util.h"

#define SIGN_MAX_TLVS 1024u

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

static void put_header(Builder *b, const ImageSignSpec *s, uint16_t hdr_size, uint16_t prot_size)
{
	memset(b->buf, 0, hdr_size);
	put_le(b, IMAGE_MAGIC, 4);
	put_le(b, s->load_addr, 4);
	put_le(b, hdr_size, 2);
	put_le(b, prot_size, 2);
	put_le(b, s->payload_len, 4);
	put_le(b, 0, 4); /* flags */
	b->buf[b->len++] = s->version.major;
	b->buf[b->len++] = s->version.minor;
	put_le(b, s->version.revision, 2);
	put_le(b, s->version.build, 4);
	b->len = hdr_size;
}

/* imgtool: RSA PSS (MGF1-SHA256, salt 32) and ECDSA sign the digest; Ed25519 signs the digest bytes. */
static int sign_digest(EVP_PKEY *key, const uint8_t *digest, size_t digest_len, const EVP_MD *md, uint8_t *sig,
		       size_t *sig_len)
{
	EVP_PKEY_CTX *pctx = NULL;
	EVP_MD_CTX *mctx = NULL;
	int ok = 0;

	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519) {
		mctx = EVP_MD_CTX_new();
		ok = mctx && EVP_DigestSignInit(mctx, NULL, NULL, NULL, key) == 1 &&
		     EVP_DigestSign(mctx, sig, sig_len, digest, digest_len) == 1;
		EVP_MD_CTX_free(mctx);
		return ok ? 0 : -EINVAL;
	}
	pctx = EVP_PKEY_CTX_new(key, NULL);
	ok = pctx && EVP_PKEY_sign_init(pctx) > 0 && EVP_PKEY_CTX_set_signature_md(pctx, md) > 0;
	if (ok && EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
		     EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) > 0 && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) > 0;
	ok = ok && EVP_PKEY_sign(pctx, sig, sig_len, digest, digest_len) > 0;
	EVP_PKEY_CTX_free(pctx);
	return ok ? 0 : -EINVAL;
}

static uint16_t sig_tlv_type(EVP_PKEY *key)
{
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA: return EVP_PKEY_get_bits(key) == 3072 ? IMAGE_TLV_RSA3072_PSS : IMAGE_TLV_RSA2048_PSS;
	case EVP_PKEY_EC: return IMAGE_TLV_ECDSA_SIG;
	case EVP_PKEY_ED25519: return IMAGE_TLV_ED25519;
	default: return 0;
	}
}

/* KEYHASH and signature TLVs. */
static int put_key_tlvs(Builder *b, EVP_PKEY *key, const uint8_t *digest, size_t digest_len, const EVP_MD *md,
			bool pad_sig)
{
	uint8_t keyhash[EVP_MAX_MD_SIZE], sig[600], *der = NULL;
	unsigned keyhash_len = 0;
	size_t sig_len = sizeof(sig);
	int n = image_key_der(key, &der);

	if (n <= 0)
		return -EINVAL;
	EVP_Digest(der, (size_t)n, keyhash, &keyhash_len, md, NULL);
	OPENSSL_free(der);
	put_tlv(b, IMAGE_TLV_KEYHASH, keyhash, keyhash_len);
	if (sign_digest(key, digest, digest_len, md, sig, &sig_len) < 0)
		return -EINVAL;
	if (pad_sig && EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
		size_t fixed = EVP_PKEY_get_bits(key) == 384 ? 104 : 72;

		memset(sig + sig_len, 0, fixed - sig_len);
		sig_len = fixed;
	}
	put_tlv(b, sig_tlv_type(key), sig, sig_len);
	return 0;
}

static uint16_t default_hash(EVP_PKEY *key)
{
	return key && EVP_PKEY_get_base_id(key) == EVP_PKEY_EC && EVP_PKEY_get_bits(key) == 384 ? IMAGE_TLV_SHA384
												   : IMAGE_TLV_SHA256;
}

int image_sign(const ImageSignSpec *s, uint8_t **out, size_t *out_len, char *why, size_t why_size)
{
	uint16_t hdr_size = s->hdr_size ? s->hdr_size : 0x200, prot = s->has_security_counter ? 4 + 4 + 4 : 0;
	EVP_PKEY *key = NULL;
	Builder b = { 0 };
	uint8_t digest[EVP_MAX_MD_SIZE], counter[4];
	unsigned digest_len = 0;
	size_t info_at;
	uint16_t hash_type;
	int r = 0;

	if (hdr_size < IMAGE_HEADER_SIZE || s->payload_len > 16u * 1024 * 1024)
		return -EINVAL;
	if (s->key_path && !(key = image_key_load(s->key_path, why, why_size)))
		return -EINVAL;
	hash_type = s->hash_type ? s->hash_type : default_hash(key);
	b.cap = hdr_size + s->payload_len + prot + SIGN_MAX_TLVS;
	b.buf = calloc(1, b.cap);
	if (!b.buf) {
		EVP_PKEY_free(key);
		return -ENOMEM;
	}
	put_header(&b, s, hdr_size, prot);
	memcpy(b.buf + b.len, s->payload, s->payload_len);
	b.len += s->payload_len;
	if (prot) {
		put_le(&b, IMAGE_TLV_PROT_INFO_MAGIC, 2);
		put_le(&b, prot, 2);
		for (int i = 0; i < 4; i++)
			counter[i] = (uint8_t)(s->security_counter >> (8 * i));
		put_tlv(&b, IMAGE_TLV_SEC_CNT, counter, 4);
	}
	EVP_Digest(b.buf, b.len, digest, &digest_len, image_md(hash_type), NULL);
	info_at = b.len;
	put_le(&b, IMAGE_TLV_INFO_MAGIC, 2);
	put_le(&b, 0, 2);
	put_tlv(&b, hash_type, digest, digest_len);
	if (key)
		r = put_key_tlvs(&b, key, digest, digest_len, image_md(hash_type), s->pad_sig);
	EVP_PKEY_free(key);
	if (r < 0) {
		snprintf(why, why_size, "signing failed: is the key a private key?");
		free(b.buf);
		return r;
	}
	b.buf[info_at + 2] = (uint8_t)(b.len - info_at);
	b.buf[info_at + 3] = (uint8_t)((b.len - info_at) >> 8);
	*out = b.buf;
	*out_len = b.len;
	return 0;
}
