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
