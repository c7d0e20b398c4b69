/* SPDX-License-Identifier: MIT */
/* Hash and signature checks of MCUboot images (REFERENCE.md §8; MCUboot bootutil image_validate.c,
 * imgtool keys/). OpenSSL is used here and in image-sign.c only. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "image.h"
#include "image-crypto.h"
#include "util.h"

/* A key file is a few KiB at most; anything larger is not a key. */
#define KEY_FILE_MAX (64u * 1024)

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
	case IMAGE_TLV_ENC_RSA2048: return "ENC_RSA2048";
	case IMAGE_TLV_ENC_KW: return "ENC_KW";
	case IMAGE_TLV_ENC_EC256: return "ENC_EC256";
	case IMAGE_TLV_ENC_X25519: return "ENC_X25519";
	case IMAGE_TLV_ENC_X25519_SHA512: return "ENC_X25519_SHA512";
	case IMAGE_TLV_DEPENDENCY: return "DEPENDENCY";
	case IMAGE_TLV_SEC_CNT: return "SEC_CNT";
	case IMAGE_TLV_BOOT_RECORD: return "BOOT_RECORD";
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

/* Encrypted key files fail instead of asking on the terminal: library code never prompts. */
static int no_passphrase(char *pass, size_t size, size_t *len, const OSSL_PARAM params[], void *data)
{
	(void)pass, (void)size, (void)params, (void)data;
	*len = 0;
	return 0;
}

EVP_PKEY *image_key_load(const char *path, char *why, size_t why_size)
{
	_cleanup_free_ uint8_t *raw = NULL;
	const unsigned char *p;
	OSSL_DECODER_CTX *dctx;
	EVP_PKEY *key = NULL;
	size_t len = 0;
	char problem[64];
	int r = image_file_read(path, KEY_FILE_MAX, &raw, &len, problem, sizeof(problem));

	if (r == -EFBIG)
		snprintf(why, why_size, "%s is not a PEM key (it is larger than any key file): give the public key "
			 "the image was signed with", path);
	else if (r < 0)
		snprintf(why, why_size, "cannot use %s as a key: %s; give the public key (PEM) the image was signed "
			 "with", path, problem);
	if (r < 0)
		return NULL;
	/* Any input format and structure: PEM or DER, SubjectPublicKeyInfo, PKCS#1, PKCS#8, SEC1. */
	dctx = OSSL_DECODER_CTX_new_for_pkey(&key, NULL, NULL, NULL, 0, NULL, NULL);
	p = raw;
	if (!dctx || OSSL_DECODER_CTX_set_passphrase_cb(dctx, no_passphrase, NULL) != 1 ||
	    OSSL_DECODER_from_data(dctx, &p, &len) != 1) {
		EVP_PKEY_free(key);
		key = NULL;
		snprintf(why, why_size, "%s is not a PEM or DER key without a passphrase: give the public key the "
			 "image was signed with", path);
	}
	OSSL_DECODER_CTX_free(dctx);
	return key;
}

int image_key_der(EVP_PKEY *key, uint8_t **der)
{
	*der = NULL;
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA)
		return i2d_PublicKey(key, der);
	return i2d_PUBKEY(key, der);
}

const char *image_key_curve(EVP_PKEY *key)
{
	char group[64] = "";
	size_t n = 0;

	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
	    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &n) != 1)
		return "";
	if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
		return "P-256";
	if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0)
		return "P-384";
	return "other";
}

/* MCUboot's signature types: RSA-PSS 2048/3072, ECDSA P-256/P-384 (ECDSASIG), Ed25519. */
uint16_t image_key_sig_type(EVP_PKEY *key)
{
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
		switch (EVP_PKEY_get_bits(key)) {
		case 2048: return IMAGE_TLV_RSA2048_PSS;
		case 3072: return IMAGE_TLV_RSA3072_PSS;
		default: return 0;
		}
	case EVP_PKEY_EC:
		return image_key_curve(key)[0] == 'P' ? IMAGE_TLV_ECDSA_SIG : 0;
	case EVP_PKEY_ED25519:
		return IMAGE_TLV_ED25519;
	default:
		return 0;
	}
}

/* The first problem found is the one the verdict names. */
static void note(ImageVerdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(ImageVerdict *v, const char *fmt, ...)
{
	va_list ap;

	if (v->why[0])
		return;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
}

static const ImageTlv *find_tlv(const Image *img, uint16_t type)
{
	for (size_t i = 0; i < img->tlv_count; i++)
		if (img->tlvs[i].type == type && !img->tlvs[i].protected_area)
			return &img->tlvs[i];
	return NULL;
}

/* KEYHASH is the image's hash algorithm over the key's DER (bootutil_find_key); PUBKEY is the DER. */
static bool key_tlv_names(const Image *img, const ImageTlv *t, EVP_PKEY *key)
{
	uint8_t *der = NULL, digest[EVP_MAX_MD_SIZE];
	unsigned digest_len = 0;
	int n = image_key_der(key, &der);
	bool same = false;

	if (n > 0 && t->type == IMAGE_TLV_KEYHASH) {
		EVP_Digest(der, (size_t)n, digest, &digest_len, image_md(img->hash_type), NULL);
		same = t->len == digest_len && memcmp(img->data + t->offset, digest, digest_len) == 0;
	} else if (n > 0) {
		same = t->len == (size_t)n && memcmp(img->data + t->offset, der, (size_t)n) == 0;
	}
	OPENSSL_free(der);
	return same;
}

typedef struct SigChoice {
	const ImageTlv *sig, *key_tlv; /* key_tlv: the KEYHASH/PUBKEY before sig, or NULL */
} SigChoice;

/* image_validate.c: a KEYHASH/PUBKEY picks the key for the signature that follows it, and an image may
 * carry several such pairs. Check the pair that names this key, else the first signature. */
static SigChoice choose_signature(const Image *img, EVP_PKEY *key)
{
	SigChoice first = { 0 };
	const ImageTlv *key_tlv = NULL;

	for (size_t i = 0; i < img->tlv_count; i++) {
		const ImageTlv *t = &img->tlvs[i];

		if (t->protected_area)
			continue;
		if (t->type == IMAGE_TLV_KEYHASH || t->type == IMAGE_TLV_PUBKEY) {
			key_tlv = t;
		} else if (image_sig_type_name(t->type)) {
			if (!first.sig)
				first = (SigChoice){ t, key_tlv };
			if (key && key_tlv && key_tlv_names(img, key_tlv, key))
				return (SigChoice){ t, key_tlv };
			key_tlv = NULL;
		}
	}
	return first;
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
		/* MCUboot image_rsa.c: PSS, MGF1 with SHA-256, 32-byte salt. */
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

/* The digest a signature covers: the recomputed one, or for an encrypted image (whose plaintext we do
 * not have) the hash TLV, so that the signer's approval of that hash can still be checked. */
static bool check_signature(const Image *img, EVP_PKEY *key, const ImageTlv *sig, const ImageVerdict *v)
{
	const uint8_t *s = img->data + sig->offset;
	const uint8_t *digest = v->encrypted ? img->hash : v->computed;

	if (sig->type != IMAGE_TLV_ED25519)
		return verify_digest_sig(key, sig->type, s, sig->len, digest, img->hash_len, image_md(img->hash_type));
	/* Ed25519 signs the hash bytes as its message; with SIG_PURE, the image bytes themselves. */
	if (find_tlv(img, IMAGE_TLV_SIG_PURE))
		return verify_ed25519(key, s, sig->len, img->data, image_signed_length(img));
	return verify_ed25519(key, s, sig->len, digest, img->hash_len);
}

static const char *key_kind_name(EVP_PKEY *key)
{
	switch (image_key_sig_type(key)) {
	case IMAGE_TLV_RSA2048_PSS: return "an RSA-2048 key";
	case IMAGE_TLV_RSA3072_PSS: return "an RSA-3072 key";
	case IMAGE_TLV_ECDSA_SIG:
		return strcmp(image_key_curve(key), "P-256") == 0 ? "an EC P-256 key" : "an EC P-384 key";
	case IMAGE_TLV_ED25519: return "an Ed25519 key";
	default: return "of a type MCUboot does not use";
	}
}

static void judge_signature(const Image *img, EVP_PKEY *key, const SigChoice *c, ImageVerdict *v)
{
	uint16_t type = c->sig->type, key_type = image_key_sig_type(key);

	v->has_key_tlv = c->key_tlv != NULL;
	v->key_tlv_matches = c->key_tlv && key_tlv_names(img, c->key_tlv, key);
	if (type == IMAGE_TLV_ECDSA224 || (find_tlv(img, IMAGE_TLV_SIG_PURE) && type != IMAGE_TLV_ED25519)) {
		v->sig = IMAGE_SIG_UNSUPPORTED;
		note(v, "%s signatures%s are not verified by MCUboot or this tool", image_sig_type_name(type),
		     type == IMAGE_TLV_ECDSA224 ? "" : " with SIG_PURE");
	} else if (key_type != type) {
		v->sig = IMAGE_SIG_WRONG_KEY;
		note(v, "the image is signed with %s, the key is %s", image_sig_type_name(type), key_kind_name(key));
	} else if (v->has_key_tlv && !v->key_tlv_matches) {
		v->sig = IMAGE_SIG_WRONG_KEY;
		note(v, "the image names another signing key (its %s does not match this key)",
		     image_tlv_name(c->key_tlv->type));
	} else if (check_signature(img, key, c->sig, v)) {
		v->sig = IMAGE_SIG_OK;
	} else {
		v->sig = IMAGE_SIG_BAD;
		note(v, "the %s signature does not verify with this key", image_sig_type_name(type));
	}
}

static void check_hash(const Image *img, ImageVerdict *v)
{
	unsigned n = 0;

	EVP_Digest(img->data, image_signed_length(img), v->computed, &n, image_md(img->hash_type), NULL);
	v->encrypted = (img->flags & (IMAGE_F_ENCRYPTED_AES128 | IMAGE_F_ENCRYPTED_AES256)) != 0;
	v->hash_ok = !v->encrypted && n == img->hash_len && memcmp(v->computed, img->hash, n) == 0;
	if (v->encrypted)
		note(v, "the image is encrypted: its hash covers the plaintext, which cannot be checked here");
	else if (!v->hash_ok)
		note(v, "the image's hash does not match its contents: the file is damaged or was altered after "
			"signing");
}

int image_verify(const Image *img, const char *key_path, ImageVerdict *out)
{
	SigChoice choice;
	EVP_PKEY *key;

	*out = (ImageVerdict){ 0 };
	check_hash(img, out);
	if (!key_path) {
		choice = choose_signature(img, NULL);
		out->sig_type = choice.sig ? choice.sig->type : 0;
		out->sig = choice.sig ? IMAGE_SIG_UNCHECKED : IMAGE_SIG_NONE;
		return 0;
	}
	key = image_key_load(key_path, out->why, sizeof(out->why));
	if (!key)
		return -EINVAL;
	choice = choose_signature(img, key);
	out->sig_type = choice.sig ? choice.sig->type : 0;
	if (choice.sig) {
		judge_signature(img, key, &choice, out);
	} else {
		out->sig = IMAGE_SIG_NONE;
		note(out, "the image is not signed");
	}
	EVP_PKEY_free(key);
	return 0;
}
