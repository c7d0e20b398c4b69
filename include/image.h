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

/* Header flags (MCUboot image.h IMAGE_F_*) that change what a verifier can check. Spelled as
 * sim-image-group.c spells its own copy, so the two definitions agree. */
#define IMAGE_F_ENCRYPTED_AES128 0x04u
#define IMAGE_F_ENCRYPTED_AES256 0x08u
#define IMAGE_F_NON_BOOTABLE 0x10u
#define IMAGE_F_RAM_LOAD 0x20u
#define IMAGE_F_ROM_FIXED 0x100u

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
	IMAGE_TLV_ENC_RSA2048 = 0x30,
	IMAGE_TLV_ENC_KW = 0x31,
	IMAGE_TLV_ENC_EC256 = 0x32,
	IMAGE_TLV_ENC_X25519 = 0x33,
	IMAGE_TLV_ENC_X25519_SHA512 = 0x34,
	IMAGE_TLV_DEPENDENCY = 0x40,
	IMAGE_TLV_SEC_CNT = 0x50,
	IMAGE_TLV_BOOT_RECORD = 0x60,
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
	bool encrypted;                   /* IMAGE_F_ENCRYPTED_*: the hash covers the plaintext, not checkable */
	uint8_t computed[IMAGE_HASH_MAX];
	uint16_t sig_type;                /* signature TLV type, 0 when none */
	ImageSigState sig;
	bool has_key_tlv;                 /* KEYHASH or PUBKEY present */
	bool key_tlv_matches;             /* … and names the given key */
	char why[200];                    /* one line when something does not verify; the first problem found */
} ImageVerdict;

/* Recomputes the hash and, with key_path (a PEM or DER public or private key), verifies the signature as
 * MCUboot does (bootutil image_validate.c): over the recomputed digest, or over the image bytes when a
 * SIG_PURE TLV is present. With several signatures, the one whose KEYHASH/PUBKEY names the key is
 * checked. An encrypted image's hash covers its plaintext: hash_ok is then false and why says so.
 * Returns 0 with the verdict filled, or -errno / -EINVAL when the key cannot be used (why explains). */
int image_verify(const Image *img, const char *key_path, ImageVerdict *out);
/* "none", "unchecked", "ok", "bad", "wrong-key", "unsupported". */
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
	bool rom_fixed;              /* IMAGE_F_ROM_FIXED: runs only from the slot at load_addr (imgtool --rom-fixed) */
	bool has_security_counter;   /* a protected TLV, as imgtool --security-counter */
	uint32_t security_counter;
	const char *key_path;        /* private key PEM, or NULL for an unsigned (hash-only) image */
	uint16_t hash_type;          /* 0: imgtool's choice (SHA-384 for P-384, SHA-512 for pure, else SHA-256);
				      * otherwise only what imgtool allows for the key (else -EINVAL) */
	bool pad_sig;                /* ECDSA: pad the DER signature with zeros (imgtool --pad-sig: 72/103 bytes) */
	bool pure;                   /* Ed25519: sign the image bytes, add SIG_PURE (imgtool --pure) */
	bool embed_pubkey;           /* PUBKEY TLV instead of KEYHASH (imgtool --public-key-format full) */
} ImageSignSpec;

/* Builds header, payload, protected TLVs (SEC_CNT), then the unprotected area in imgtool's order: hash,
 * SIG_PURE, KEYHASH/PUBKEY, signature. Returns 0 and a malloc'd image, or -EINVAL/-ENOMEM (why explains). */
int image_sign(const ImageSignSpec *spec, uint8_t **out, size_t *out_len, char *why, size_t why_size);

/* Flipping one bit of a signed image, to make images that must be refused (smpctl-mkimage --tamper). */
typedef enum ImageTamper {
	IMAGE_TAMPER_HEADER,        /* the version's major number: under the hash */
	IMAGE_TAMPER_PAYLOAD,       /* the middle of the payload */
	IMAGE_TAMPER_PROTECTED_TLV, /* the last byte of the protected area (SEC_CNT's value) */
	IMAGE_TAMPER_SIGNATURE,     /* the middle of the signature TLV's value: the hash still matches */
} ImageTamper;

/* Returns 0, or -EINVAL when the image does not parse or has no such part (no protected TLVs, unsigned). */
int image_tamper(uint8_t *buf, size_t len, ImageTamper what);
/* "header", "payload", "protected-tlv", "signature" → the kind, or -EINVAL. */
int image_tamper_from_string(const char *name);

/* Image files (image-hex.c): binary as is, or Intel HEX (detected by a leading ':'; records 00-05 with
 * their checksums). Intel HEX becomes the bytes from its lowest to its highest data address, gaps filled
 * with 0xff as erased flash reads back. Files and spans over 16 MiB are refused. */
#define IMAGE_FILE_MAX (16u * 1024 * 1024)

/* Reads a file the user named (an image, a key) of at most max_size bytes. Returns 0, or -EISDIR,
 * -EINVAL (not a regular file: a device, a pipe), -ENODATA (empty), -EFBIG or -errno, with why in words
 * ("it is a directory"). */
int image_file_read(const char *path, size_t max_size, uint8_t **data, size_t *len, char *why, size_t why_size);
/* Reads a binary image or an Intel HEX file into a new buffer. Returns 0, -EBADMSG (malformed HEX),
 * -EFBIG or an error of image_file_read(); why says which line or what. */
int image_load_file(const char *path, uint8_t **data, size_t *len, char *why, size_t why_size);
/* The same for a file's bytes already in memory. */
int image_file_decode(const uint8_t *raw, size_t raw_len, uint8_t **data, size_t *len, char *why, size_t why_size);
/* Intel HEX text for len bytes placed at base_addr: 16-byte data records, 04 records at every 64 KiB,
 * an end-of-file record. Returns 0 and a malloc'd NUL-terminated text, or -EINVAL (past 4 GiB), -ENOMEM. */
int image_hex_encode(const uint8_t *data, size_t len, uint32_t base_addr, char **text, size_t *text_len);
