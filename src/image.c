/* SPDX-License-Identifier: MIT */
/* MCUboot image structure (REFERENCE.md §8; MCUboot boot/bootutil/include/bootutil/image.h). Pure and
 * bounds-checked: every offset is computed in 64 bits against the buffer's length. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>

#include "image.h"
#include "util.h"

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int fail(char *why, size_t why_size, const char *text)
{
	if (why && why_size)
		snprintf(why, why_size, "%s", text);
	return -EBADMSG;
}

static size_t hash_len_of(uint16_t type)
{
	switch (type) {
	case IMAGE_TLV_SHA256: return 32;
	case IMAGE_TLV_SHA384: return 48;
	case IMAGE_TLV_SHA512: return 64;
	default: return 0;
	}
}

/* One TLV area: {u16 magic, u16 total length including this info}, then {u16 type, u16 len, data}…
 * (image.h: struct image_tlv_info, struct image_tlv). */
static int parse_tlv_area(const uint8_t *buf, uint64_t off, uint64_t total, bool protected_area, Image *img,
			  char *why, size_t why_size)
{
	uint64_t p = off + 4, end = off + total;

	while (p < end) {
		uint16_t type, len;
		ImageTlv *t;

		if (end - p < 4)
			return fail(why, why_size, "a TLV header runs past the end of its area");
		type = le16(buf + p);
		len = le16(buf + p + 2);
		if (end - p - 4 < len)
			return fail(why, why_size, "a TLV runs past the end of its area");
		if (img->tlv_count == IMAGE_MAX_TLVS)
			return fail(why, why_size, "more TLVs than any MCUboot image has");
		t = &img->tlvs[img->tlv_count++];
		*t = (ImageTlv){ .type = type, .len = len, .offset = (uint32_t)(p + 4),
				 .protected_area = protected_area };
		if (hash_len_of(type)) {
			if (protected_area || img->hash_type)
				return fail(why, why_size, "more than one hash TLV, or one in the protected area");
			if (len != hash_len_of(type))
				return fail(why, why_size, "the hash TLV has the wrong length for its type");
			img->hash_type = type;
			img->hash_len = len;
			memcpy(img->hash, buf + p + 4, len);
		}
		p += 4 + (uint64_t)len;
	}
	return 0;
}

static int parse_header(const uint8_t *buf, size_t len, Image *img, char *why, size_t why_size)
{
	char text[96];

	if (len < IMAGE_HEADER_SIZE)
		return fail(why, why_size, "shorter than an MCUboot header (32 bytes)");
	if (le32(buf) != IMAGE_MAGIC) {
		snprintf(text, sizeof(text), "bad magic 0x%08x (an MCUboot image starts with 0x96f3b83d)", le32(buf));
		return fail(why, why_size, text);
	}
	img->load_addr = le32(buf + 4);
	img->hdr_size = le16(buf + 8);
	img->protect_tlv_size = le16(buf + 10);
	img->img_size = le32(buf + 12);
	img->flags = le32(buf + 16);
	img->version = (ImageVersion){ buf[20], buf[21], le16(buf + 22), le32(buf + 24) };
	if (img->hdr_size < IMAGE_HEADER_SIZE)
		return fail(why, why_size, "the header size field is smaller than the header");
	if ((uint64_t)img->hdr_size + img->img_size > len)
		return fail(why, why_size, "the payload runs past the end of the file (truncated?)");
	return 0;
}

/* MCUboot tlv.c: the protected area's info must agree with the header's protect_tlv_size. */
static int parse_protected(const uint8_t *buf, size_t len, uint64_t off, Image *img, char *why, size_t why_size)
{
	if (off + 4 > len || le16(buf + off) != IMAGE_TLV_PROT_INFO_MAGIC)
		return fail(why, why_size, "the header announces protected TLVs but there are none");
	if (img->protect_tlv_size < 4 || le16(buf + off + 2) != img->protect_tlv_size)
		return fail(why, why_size, "the protected TLV area's size does not match the header");
	if (off + img->protect_tlv_size > len)
		return fail(why, why_size, "the protected TLV area runs past the end of the file");
	return parse_tlv_area(buf, off, img->protect_tlv_size, true, img, why, why_size);
}

int image_parse(const uint8_t *buf, size_t len, Image *out, char *why, size_t why_size)
{
	Image img = { .data = buf };
	uint64_t off, total;
	int r;

	r = parse_header(buf, len, &img, why, why_size);
	if (r < 0)
		return r;
	off = (uint64_t)img.hdr_size + img.img_size;
	if (img.protect_tlv_size) {
		r = parse_protected(buf, len, off, &img, why, why_size);
		if (r < 0)
			return r;
		off += img.protect_tlv_size;
	} else if (off + 4 <= len && le16(buf + off) == IMAGE_TLV_PROT_INFO_MAGIC) {
		return fail(why, why_size, "protected TLVs that the header does not announce");
	}
	if (off + 4 > len || le16(buf + off) != IMAGE_TLV_INFO_MAGIC)
		return fail(why, why_size, "no TLV area after the payload (is the image signed?)");
	total = le16(buf + off + 2);
	if (total < 4 || off + total > len)
		return fail(why, why_size, "the TLV area runs past the end of the file");
	/* ImageTlv.offset is 32 bits, as MCUboot's flash offsets are. */
	if (off + total > UINT32_MAX)
		return fail(why, why_size, "larger than 4 GiB");
	r = parse_tlv_area(buf, off, total, false, &img, why, why_size);
	if (r < 0)
		return r;
	if (!img.hash_type)
		return fail(why, why_size, "no hash TLV (SHA-256/384/512)");
	img.size = (size_t)(off + total);
	*out = img;
	return 0;
}

void image_version_format(const ImageVersion *v, bool omit_zero_build, char *out, size_t out_size)
{
	if (omit_zero_build && v->build == 0)
		snprintf(out, out_size, "%u.%u.%u", v->major, v->minor, v->revision);
	else
		snprintf(out, out_size, "%u.%u.%u+%u", v->major, v->minor, v->revision, v->build);
}

void image_sha256(const void *data, size_t len, uint8_t out[32])
{
	EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL);
}
