/* SPDX-License-Identifier: MIT */
/* Image files: binary as is, or Intel HEX turned into the bytes that are uploaded (the span from the
 * lowest to the highest data address, gaps filled with 0xff as erased flash reads). Bounded throughout:
 * a line is at most one 255-byte record, addresses stay below 4 GiB + 64 KiB, the span below 16 MiB. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "image.h"
#include "util.h"

/* ":" LL AAAA TT, up to 255 data bytes, CC. */
#define HEX_RECORD_MAX (5u + 255u)

typedef struct HexSpan {
	uint64_t lo, hi; /* [lo, hi) */
} HexSpan;

typedef struct HexRecord {
	uint8_t len, type;
	uint16_t addr;
	const uint8_t *data;
	uint8_t raw[HEX_RECORD_MAX];
} HexRecord;

/* One record ":LLAAAATT<data>CC" without its line end: decoded and its checksum checked. */
static int hex_record(const char *line, size_t len, HexRecord *rec)
{
	unsigned sum = 0;
	size_t n;

	if (len < 11 || line[0] != ':' || (len - 1) % 2 || (len - 1) / 2 > HEX_RECORD_MAX)
		return -EBADMSG;
	n = (len - 1) / 2;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_digit(line[1 + 2 * i]), lo = hex_digit(line[2 + 2 * i]);

		if (hi < 0 || lo < 0)
			return -EBADMSG;
		rec->raw[i] = (uint8_t)(hi << 4 | lo);
		sum += rec->raw[i];
	}
	if (n != (size_t)rec->raw[0] + 5 || (sum & 0xff) != 0)
		return -EBADMSG;
	rec->len = rec->raw[0];
	rec->addr = (uint16_t)(rec->raw[1] << 8 | rec->raw[2]);
	rec->type = rec->raw[3];
	rec->data = rec->raw + 4;
	return 0;
}

/* Record types (Intel HEX-86/386): 00 data, 01 end of file, 02 extended segment address, 03 start
 * segment address, 04 extended linear address, 05 start linear address. Each has a fixed length but
 * data. Returns 1 at end of file. */
static int hex_apply(const HexRecord *rec, uint64_t *base, HexSpan *span, uint8_t *out)
{
	uint64_t addr = *base + rec->addr;

	switch (rec->type) {
	case 0x00:
		if (!out) {
			span->lo = MIN(span->lo, addr);
			span->hi = MAX(span->hi, addr + rec->len);
		} else {
			memcpy(out + (addr - span->lo), rec->data, rec->len);
		}
		return 0;
	case 0x01:
		return rec->len == 0 ? 1 : -EBADMSG;
	case 0x02:
	case 0x04:
		if (rec->len != 2)
			return -EBADMSG;
		*base = (uint64_t)(rec->data[0] << 8 | rec->data[1]) << (rec->type == 0x02 ? 4 : 16);
		return 0;
	case 0x03:
	case 0x05:
		return rec->len == 4 ? 0 : -EBADMSG;
	default:
		return -EBADMSG;
	}
}

static size_t trim_line(const char *p, size_t n)
{
	while (n && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	return n;
}

/* Walks every record up to the end-of-file record; with out == NULL only measures the span. */
static int hex_walk(const char *text, size_t len, HexSpan *span, uint8_t *out, char *why, size_t why_size)
{
	uint64_t base = 0;
	size_t line_no = 0;
	int r = 0;

	for (const char *p = text, *end = text + len; p < end && r == 0; line_no++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p), used = trim_line(p, n);
		HexRecord rec;

		if (used > 0) {
			r = hex_record(p, used, &rec);
			if (r == 0)
				r = hex_apply(&rec, &base, span, out);
			if (r < 0) {
				snprintf(why, why_size,
					 "Intel HEX line %zu is malformed, of an unknown type or fails its checksum",
					 line_no + 1);
				return -EBADMSG;
			}
		}
		p += n + 1;
	}
	if (r != 1) {
		snprintf(why, why_size, "the Intel HEX file has no end-of-file record (truncated?)");
		return -EBADMSG;
	}
	return 0;
}

static int hex_to_binary(const uint8_t *text, size_t len, uint8_t **data, size_t *data_len, char *why,
			 size_t why_size)
{
	HexSpan span = { UINT64_MAX, 0 };
	uint8_t *bin;
	int r = hex_walk((const char *)text, len, &span, NULL, why, why_size);

	if (r < 0)
		return r;
	if (span.hi <= span.lo || span.hi - span.lo > IMAGE_FILE_MAX) {
		snprintf(why, why_size, "the Intel HEX file holds no data, or spans more than 16 MiB");
		return -EBADMSG;
	}
	bin = malloc((size_t)(span.hi - span.lo));
	if (!bin)
		return -ENOMEM;
	/* Gaps between records read as erased flash. */
	memset(bin, 0xff, (size_t)(span.hi - span.lo));
	r = hex_walk((const char *)text, len, &span, bin, why, why_size);
	if (r < 0) {
		free(bin);
		return r;
	}
	*data = bin;
	*data_len = (size_t)(span.hi - span.lo);
	return 0;
}

int image_file_decode(const uint8_t *raw, size_t raw_len, uint8_t **data, size_t *len, char *why, size_t why_size)
{
	/* An MCUboot binary starts with 0x3d (its magic, little-endian), never with ':'. */
	if (raw_len > 0 && raw[0] == ':')
		return hex_to_binary(raw, raw_len, data, len, why, why_size);
	if (raw_len > IMAGE_FILE_MAX) {
		snprintf(why, why_size, "larger than any firmware image (16 MiB)");
		return -EFBIG;
	}
	*data = malloc(raw_len ? raw_len : 1);
	if (!*data)
		return -ENOMEM;
	if (raw_len)
		memcpy(*data, raw, raw_len);
	*len = raw_len;
	return 0;
}

int image_file_read(const char *path, size_t max_size, uint8_t **data, size_t *len, char *why, size_t why_size)
{
	struct stat st;
	int r;

	/* Named in words: read() on a directory says EISDIR, but a device or an empty file would only
	 * fail later, as "Invalid argument" or as a short image. */
	if (stat(path, &st) < 0)
		r = -errno;
	else if (S_ISDIR(st.st_mode))
		r = -EISDIR;
	else if (!S_ISREG(st.st_mode))
		r = -EINVAL;
	else if (st.st_size == 0)
		r = -ENODATA;
	else
		r = read_file_bounded(path, max_size, data, len);
	snprintf(why, why_size, "%s", r == -EISDIR ? "it is a directory"
				      : r == -EINVAL ? "it is not a regular file"
				      : r == -ENODATA ? "it is empty"
				      : r == -EFBIG ? "it is too large"
				      : r < 0 ? strerror(-r) : "");
	return r;
}

int image_load_file(const char *path, uint8_t **data, size_t *len, char *why, size_t why_size)
{
	_cleanup_free_ uint8_t *raw = NULL;
	size_t raw_len = 0;
	/* Intel HEX takes a little under 2.9 characters per byte with its 16-byte records. */
	int r = image_file_read(path, IMAGE_FILE_MAX * 3, &raw, &raw_len, why, why_size);

	if (r == -EFBIG)
		snprintf(why, why_size, "larger than any firmware image");
	if (r < 0)
		return r;
	return image_file_decode(raw, raw_len, data, len, why, why_size);
}

/* One record with its checksum: the two's complement of the sum of all bytes before it. */
static size_t hex_put_record(char *out, uint8_t type, uint16_t addr, const uint8_t *data, size_t n)
{
	unsigned sum = (unsigned)n + (addr >> 8) + (addr & 0xffu) + type;
	size_t w = (size_t)sprintf(out, ":%02X%04X%02X", (unsigned)n, (unsigned)addr, (unsigned)type);

	for (size_t i = 0; i < n; i++) {
		w += (size_t)sprintf(out + w, "%02X", data[i]);
		sum += data[i];
	}
	w += (size_t)sprintf(out + w, "%02X\n", (unsigned)(-sum & 0xffu));
	return w;
}

int image_hex_encode(const uint8_t *data, size_t len, uint32_t base_addr, char **text, size_t *text_len)
{
	/* Data records of up to 44 characters: one per 16 bytes, plus one short record where a 64 KiB
	 * boundary splits them; a 16-character 04 record per 64 KiB; the EOF record and a NUL. */
	size_t blocks = len / 0x10000 + 2, cap = (len / 16 + blocks) * 44 + blocks * 16 + 16, w = 0;
	char *out;

	if (len > IMAGE_FILE_MAX || (uint64_t)base_addr + len > (uint64_t)UINT32_MAX + 1)
		return -EINVAL;
	out = malloc(cap);
	if (!out)
		return -ENOMEM;
	for (size_t off = 0; off < len;) {
		uint64_t addr = (uint64_t)base_addr + off;
		/* Records never cross a 64 KiB boundary: their 16-bit address would wrap. */
		size_t n = MIN(MIN((size_t)16, len - off), (size_t)(0x10000 - (addr & 0xffff)));

		const uint8_t upper[2] = { (uint8_t)(addr >> 24), (uint8_t)(addr >> 16) };

		if (off == 0 || (addr & 0xffff) == 0)
			w += hex_put_record(out + w, 0x04, 0, upper, 2);
		w += hex_put_record(out + w, 0x00, (uint16_t)addr, data + off, n);
		off += n;
	}
	w += hex_put_record(out + w, 0x01, 0, NULL, 0);
	*text = out;
	*text_len = w;
	return 0;
}
