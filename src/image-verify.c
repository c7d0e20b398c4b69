/* SPDX-License-Identifier: MIT */
/* Hash and signature checks of MCUboot images (REFERENCE.md §8; MCUboot bootutil image_validate.c,
 * imgtool keys/). OpenSSL is used here and in image-sign.c only. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "image.h"
#include "image-crypto.h"
#include "util.h"

const char *image_sig_state_name(ImageSigState s)
{
	static const char *const names[] = {
		[IMAGE_SIG_NONE] = "none", [IMAGE_SIG_UNCHECKED] = "unchecked", [IMAGE_SIG_OK] = "ok",
		[IMAGE_SIG_BAD] = "bad", [IMAGE_SIG_WRONG_KEY] = "wrong-key", [IMAGE_SIG_UNSUPPORTED] = "unsupported",
	};
	return (size_t)s < ARRAY_SIZE(names) ? names[s] : "?";
}

const char *image_sig_type_name(uint16_t t)
{
	switch (t) {
	case IMAGE_TLV_RSA2048_PSS: return "RSA-2048 PSS";
	case IMAGE_TLV_RSA3072_PSS: return "RSA-3072 PSS";
	case IMAGE_TLV_ECDSA_SIG: return "ECDSA (P-256 or P-384)";
	case IMAGE_TLV_ECDSA224: return "ECDSA P-224";
	case IMAGE_TLV_ED25519: return "Ed25519";
	default: return NULL;
	}
}

const char *image_tlv_name(uint16_t t)
{
	switch (t) {
	case IMAGE_TLV_KEYHASH: return "KEYHASH";
	case IMAGE_TLV_PUBKEY: return "PUBKEY";
	case IMAGE_TLV_SHA256: return "SHA256";
	case IMAGE_TLV_SHA384: return "SHA384";
	case IMAGE_TLV_SHA512: return "SHA512";
	case IMAGE_TLV_SIG_PURE: return "SIG_PURE";
	case IMAGE_TLV_DEPENDENCY: return "DEPENDENCY";
	case IMAGE_TLV_SEC_CNT: return "SEC_CNT";
	default: return image_sig_type_name(t);
	}
}

const EVP_MD *image_md(uint16_t hash_type)
{
	switch (hash_type) {
	case IMAGE_TLV_SHA384: return EVP_sha384();
	case IMAGE_TLV_SHA512: return EVP_sha512();
	default: return EVP_sha256();
	}
}

/* What the hash (and every signature) covers: header, payload and the protected TLV area. */
size_t image_signed_length(const Image *img)
{
	return (size_t)img->hdr_size + img->img_size + img->protect_tlv_size;
}

EVP_PKEY *image_key_load(const char *path, char *why, size_t why_size)
{
	EVP_PKEY *key = NULL;
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(why, why_size, "cannot read the key %s: %s", path, strerror(errno));
		return NULL;
	}
	key = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	if (!key) {
		rewind(f);
		key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	}
	fclose(f);
	if (!key)
		snprintf(why, why_size, "%s is not a PEM public or private key", path);
	return key;
}

/* The key as MCUboot embeds it: PKCS#1 RSAPublicKey for RSA, SubjectPublicKeyInfo otherwise. */
int image_key_der(EVP_PKEY *key, uint8_t **der)
{
	*der = NULL;
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA)
		return i2d_PublicKey(key, der);
	return i2d_PUBKEY(key, der);
}

static const ImageTlv *find_tlv(const Image *img, uint16_t type)
{
	for (size_t i = 0; i < img->tlv_count; i++)
		if (img->tlvs[i].type == type && !img->tlvs[i].protected_area)
			return &img->tlvs[i];
	return NULL;
}

static const ImageTlv *find_signature(const Image *img)
{
	for (size_t i = 0; i < img->tlv_count; i++)
		if (image_sig_type_name(img->tlvs[i].type) && !img->tlvs[i].protected_area)
			return &img->tlvs[i];
	return NULL;
}

static bool key_fits(EVP_PKEY *key, uint16_t sig_type)
{
	int id = EVP_PKEY_get_base_id(key), bits = EVP_PKEY_get_bits(key);

	switch (sig_type) {
	case IMAGE_TLV_RSA2048_PSS: return id == EVP_PKEY_RSA && bits == 2048;
	case IMAGE_TLV_RSA3072_PSS: return id == EVP_PKEY_RSA && bits == 3072;
	case IMAGE_TLV_ECDSA_SIG: return id == EVP_PKEY_EC && (bits == 256 || bits == 384);
	case IMAGE_TLV_ED25519: return id == EVP_PKEY_ED25519;
	default: return false;
	}
}

/* KEYHASH is the image's hash algorithm over the key's DER; PUBKEY is the DER itself. */
static void check_key_tlv(const Image *img, EVP_PKEY *key, ImageVerdict *v)
{
	const ImageTlv *kh = find_tlv(img, IMAGE_TLV_KEYHASH), *pk = find_tlv(img, IMAGE_TLV_PUBKEY);
	uint8_t *der = NULL, digest[EVP_MAX_MD_SIZE];
	unsigned digest_len = 0;
	int n = image_key_der(key, &der);

	v->has_key_tlv = kh || pk;
	if (n <= 0 || !v->has_key_tlv) {
		OPENSSL_free(der);
		return;
	}
	if (kh) {
		EVP_Digest(der, (size_t)n, digest, &digest_len, image_md(img->hash_type), NULL);
		v->key_tlv_matches = kh->len == digest_len && memcmp(img->data + kh->offset, digest, digest_len) == 0;
	} else {
		v->key_tlv_matches = pk->len == (size_t)n && memcmp(img->data + pk->offset, der, (size_t)n) == 0;
	}
	OPENSSL_free(der);
}

/* imgtool --pad-sig appends zeros to the DER ECDSA signature: verify the DER part only. */
static size_t ecdsa_der_length(const uint8_t *sig, size_t len)
{
	if (len >= 2 && sig[0] == 0x30 && sig[1] < 0x80 && (size_t)sig[1] + 2 <= len)
		return (size_t)sig[1] + 2;
	return len;
}

static bool verify_digest_sig(EVP_PKEY *key, uint16_t sig_type, const uint8_t *sig, size_t sig_len,
			      const uint8_t *digest, size_t digest_len, const EVP_MD *md)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	bool ok = false;

	if (!ctx || EVP_PKEY_verify_init(ctx) <= 0 || EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0)
		goto out;
	if (sig_type == IMAGE_TLV_RSA2048_PSS || sig_type == IMAGE_TLV_RSA3072_PSS) {
		/* MCUboot RSA: PSS, MGF1 with SHA-256, 32-byte salt. */
		if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, 32) <= 0)
			goto out;
	} else {
		sig_len = ecdsa_der_length(sig, sig_len);
	}
	ok = EVP_PKEY_verify(ctx, sig, sig_len, digest, digest_len) == 1;
out:
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

static bool verify_ed25519(EVP_PKEY *key, const uint8_t *sig, size_t sig_len, const uint8_t *msg, size_t msg_len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
		  EVP_DigestVerify(ctx, sig, sig_len, msg, msg_len) == 1;

	EVP_MD_CTX_free(ctx);
	return ok;
}

static void verify_signature(const Image *img, EVP_PKEY *key, const ImageTlv *sig, ImageVerdict *v)
{
	const uint8_t *s = img->data + sig->offset;
	size_t digest_len = img->hash_len;
	bool ok;

	if (!key_fits(key, sig->type)) {
		v->sig = IMAGE_SIG_WRONG_KEY;
		snprintf(v->why, sizeof(v->why), "the key is not of the signature's type (%s)",
			 image_sig_type_name(sig->type));
		return;
	}
	if (sig->type == IMAGE_TLV_ED25519) {
		/* Ed25519 signs the hash bytes as its message; with SIG_PURE, the image bytes themselves. */
		ok = find_tlv(img, IMAGE_TLV_SIG_PURE) ? verify_ed25519(key, s, sig->len, img->data, image_signed_length(img))
						       : verify_ed25519(key, s, sig->len, v->computed, digest_len);
	} else {
		ok = verify_digest_sig(key, sig->type, s, sig->len, v->computed, digest_len, image_md(img->hash_type));
	}
	v->sig = ok ? IMAGE_SIG_OK : IMAGE_SIG_BAD;
	if (!ok)
		snprintf(v->why, sizeof(v->why), "the %s signature does not verify with this key",
			 image_sig_type_name(sig->type));
}

int image_verify(const Image *img, const char *key_path, ImageVerdict *out)
{
	const ImageTlv *sig = find_signature(img);
	EVP_PKEY *key;
	unsigned n = 0;

	*out = (ImageVerdict){ .sig_type = sig ? sig->type : 0, .sig = sig ? IMAGE_SIG_UNCHECKED : IMAGE_SIG_NONE };
	EVP_Digest(img->data, image_signed_length(img), out->computed, &n, image_md(img->hash_type), NULL);
	out->hash_ok = n == img->hash_len && memcmp(out->computed, img->hash, n) == 0;
	if (!out->hash_ok)
		snprintf(out->why, sizeof(out->why), "the image's hash does not match its contents: the file is "
						     "damaged or was altered after signing");
	if (!key_path)
		return 0;
	key = image_key_load(key_path, out->why, sizeof(out->why));
	if (!key)
		return -EINVAL;
	check_key_tlv(img, key, out);
	if (!sig) {
		snprintf(out->why, sizeof(out->why), "the image is not signed");
	} else if (!out->hash_ok) {
		out->sig = IMAGE_SIG_BAD;
	} else if (out->has_key_tlv && !out->key_tlv_matches) {
		out->sig = IMAGE_SIG_WRONG_KEY;
		snprintf(out->why, sizeof(out->why), "the image names another signing key (KEYHASH/PUBKEY)");
	} else if (!image_sig_type_name(sig->type) || sig->type == IMAGE_TLV_ECDSA224) {
		out->sig = IMAGE_SIG_UNSUPPORTED;
	} else {
		verify_signature(img, key, sig, out);
	}
	EVP_PKEY_free(key);
	return 0;
}
