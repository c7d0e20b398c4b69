/* SPDX-License-Identifier: MIT */
/*
 * MCUboot images (REFERENCE.md §8; MCUboot docs/design.md, boot/bootutil/include/bootutil/image.h):
 * parse the header and TLV areas, recompute the hash, verify the signature. The parser is pure and
 * bounds-checked over untrusted bytes; OpenSSL is used only in this module (hashing, signatures).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMAGE_MAGIC 0x96f3b83du
#define IMAGE_HEADER_SIZE 32u
#define IMAGE_TLV_INFO_MAGIC 0x6907u
#define IMAGE_TLV_PROT_INFO_MAGIC 0x6908u
#define IMAGE_HASH_MAX 64u

enum ImageTlvType {
	IMAGE_TLV_KEYHASH = 0x01,
	IMAGE_TLV_PUBKEY = 0x02,
	IMAGE_TLV_SHA256 = 0x10,
	IMAGE_TLV_SHA384 = 0x11,
	IMAGE_TLV_SHA512 = 0x12,
	IMAGE_TLV_RSA2048_PSS = 0x20,
	IMAGE_TLV_ECDSA224 = 0x21,
	IMAGE_TLV_ECDSA_SIG = 0x22,
	IMAGE_TLV_RSA3072_PSS = 0x23,
	IMAGE_TLV_ED25519 = 0x24,
	IMAGE_TLV_SIG_PURE = 0x25,
	IMAGE_TLV_DEPENDENCY = 0x40,
	IMAGE_TLV_SEC_CNT = 0x50,
};

typedef struct ImageVersion {
	uint8_t major;
	uint8_t minor;
	uint16_t revision;
	uint32_t build;
} ImageVersion;

typedef struct ImageTlv {
	uint16_t type;
	uint16_t len;
	uint32_t offset;  /* of the value, from the start of the image */
	bool protected_area;
} ImageTlv;

#define IMAGE_MAX_TLVS 32

typedef struct Image {
	const uint8_t *data;      /* borrowed: the bytes given to image_parse */
	size_t size;              /* hdr_size + img_size + TLV areas: the image proper */
	uint32_t load_addr;
	uint16_t hdr_size;
	uint16_t protect_tlv_size;
	uint32_t img_size;
	uint32_t flags;
	ImageVersion version;
	ImageTlv tlvs[IMAGE_MAX_TLVS];
	size_t tlv_count;
	uint16_t hash_type;       /* IMAGE_TLV_SHA256/384/512, 0 if none */
	uint8_t hash[IMAGE_HASH_MAX]; /* value of the hash TLV */
	size_t hash_len;
} Image;

/* Parses the structure of an MCUboot image at the start of buf (trailing bytes, e.g. erased flash at
 * 0xff, are allowed and not part of the image). No cryptography. Returns 0, or -EBADMSG with a one-line
 * reason in why (may be NULL) naming what is wrong ("bad magic 0x…", "TLV area runs past the end"). */
int image_parse(const uint8_t *buf, size_t len, Image *out, char *why, size_t why_size);

/* "1.2.3+4" (build omitted when 0 only if omit_zero_build). out_size ≥ 32. */
void image_version_format(const ImageVersion *v, bool omit_zero_build, char *out, size_t out_size);

/* SHA-256 of data (also used for the upload's "sha" and by the simulated device's "match"). */
void image_sha256(const void *data, size_t len, uint8_t out[32]);

/* Verification (image-verify.c). */
typedef enum ImageSigState {
	IMAGE_SIG_NONE,        /* the image carries no signature TLV */
	IMAGE_SIG_UNCHECKED,   /* signed, but no key was given */
	IMAGE_SIG_OK,
	IMAGE_SIG_BAD,         /* the signature does not verify with the key */
	IMAGE_SIG_WRONG_KEY,   /* the key's type does not fit the signature, or KEYHASH/PUBKEY name another key */
	IMAGE_SIG_UNSUPPORTED, /* a signature type this tool does not verify */
} ImageSigState;

typedef struct ImageVerdict {
	bool hash_ok;                     /* recomputed hash equals the hash TLV */
	uint8_t computed[IMAGE_HASH_MAX];
	uint16_t sig_type;                /* signature TLV type, 0 when none */
	ImageSigState sig;
	bool has_key_tlv;                 /* KEYHASH or PUBKEY present */
	bool key_tlv_matches;             /* … and names the given key */
	char why[200];                    /* one line when something does not verify */
} ImageVerdict;

/* Recomputes the hash and, with key_path (a PEM public or private key), verifies the signature as
 * MCUboot does. Returns 0 with the verdict filled, or -errno / -EINVAL when the key cannot be used
 * (why explains). */
int image_verify(const Image *img, const char *key_path, ImageVerdict *out);
const char *image_sig_state_name(ImageSigState s);
/* "ECDSA (P-256 or P-384)", "RSA-2048 PSS", … or NULL. */
const char *image_sig_type_name(uint16_t tlv_type);
/* "SHA256", "KEYHASH", … or NULL. */
const char *image_tlv_name(uint16_t tlv_type);

/* Signing, as imgtool does it (image-sign.c): for test images and the demo. */
typedef struct ImageSignSpec {
	const uint8_t *payload;
	size_t payload_len;
	ImageVersion version;
	uint16_t hdr_size;           /* 0: 0x200, as Zephyr builds */
	uint32_t load_addr;
	bool has_security_counter;   /* a protected TLV, as imgtool --security-counter */
	uint32_t security_counter;
	const char *key_path;        /* private key PEM, or NULL for an unsigned (hash-only) image */
	uint16_t hash_type;          /* 0: SHA-384 for P-384 keys, else SHA-256 (imgtool's choice) */
	bool pad_sig;                /* ECDSA: pad the DER signature to a fixed length (imgtool --pad-sig) */
} ImageSignSpec;

int image_sign(const ImageSignSpec *spec, uint8_t **out, size_t *out_len, char *why, size_t why_size);

/* Reads a binary image or an Intel HEX file (image-hex.c) into a new buffer. */
int image_load_file(const char *path, uint8_t **data, size_t *len, char *why, size_t why_size);
/* The same for a file's bytes already in memory. */
int image_file_decode(const uint8_t *raw, size_t raw_len, uint8_t **data, size_t *len, char *why, size_t why_size);
