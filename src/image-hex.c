/* SPDX-License-Identifier: MIT */
/* Image files: binary as is, or Intel HEX turned into the bytes that are uploaded (the span from the
 * lowest to the highest address, gaps filled with 0xff as erased flash reads). Bounded throughout. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "image.h"
#include "util.h"

#define IMAGE_FILE_MAX (16u * 1024 * 1024)

typedef struct HexSpan {
	uint64_t lo, hi; /* [lo, hi) */
} HexSpan;

static int hex_byte(const char *p)
{
	uint8_t b;

	return hex_decode((char[3]){ p[0], p[1], '\0' }, &b, 1) == 1 ? b : -1;
}

/* One record ":LLAAAATT<data>CC": fills rec[] (LL + 4 bytes), checks the checksum. */
static int hex_record(const char *line, size_t len, uint8_t *rec, size_t *rec_len)
{
	unsigned sum = 0;
	size_t n;

	while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (len < 11 || line[0] != ':' || (len - 1) % 2)
		return -EBADMSG;
	n = (len - 1) / 2;
	for (size_t i = 0; i < n; i++) {
		int b = hex_byte(line + 1 + 2 * i);

		if (b < 0)
			return -EBADMSG;
		rec[i] = (uint8_t)b;
		sum += (unsigned)b;
	}
	if (n != (size_t)rec[0] + 5 || (sum & 0xff) != 0)
		return -EBADMSG;
	*rec_len = n;
	return 0;
}

/* Walks every record; with out == NULL only measures the span. */
static int hex_walk(const char *text, size_t len, HexSpan *span, uint8_t *out, char *why, size_t why_size)
{
	uint64_t base = 0;
	size_t line_no = 0;
	bool eof = false;

	for (const char *p = text, *end = text + len; p < end && !eof; line_no++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		uint8_t rec[300];
		size_t rec_len;

		if (n > 2 * sizeof(rec) || (n > 0 && p[0] != '\r' && hex_record(p, n, rec, &rec_len) < 0)) {
			snprintf(why, why_size, "Intel HEX line %zu is malformed or fails its checksum", line_no + 1);
			return -EBADMSG;
		}
		if (n > 0 && p[0] == ':') {
			uint64_t addr = base + (uint64_t)(rec[1] << 8 | rec[2]);

			switch (rec[3]) {
			case 0x00:
				if (!out) {
					span->lo = MIN(span->lo, addr);
					span->hi = MAX(span->hi, addr + rec[0]);
				} else {
					memcpy(out + (addr - span->lo), rec + 4, rec[0]);
				}
				break;
			case 0x01: eof = true; break;
			case 0x02: base = (uint64_t)(rec[4] << 8 | rec[5]) << 4; break;
			case 0x04: base = (uint64_t)(rec[4] << 8 | rec[5]) << 16; break;
			case 0x03: case 0x05: break; /* start addresses */
			default:
				snprintf(why, why_size, "Intel HEX line %zu has an unknown record type", line_no + 1);
				return -EBADMSG;
			}
		}
		p += n + 1;
	}
	if (!eof) {
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
	memset(bin, 0xff, (size_t)(span.hi - span.lo));
	hex_walk((const char *)text, len, &span, bin, why, why_size);
	*data = bin;
	*data_len = (size_t)(span.hi - span.lo);
	return 0;
}

int image_file_decode(const uint8_t *raw, size_t raw_len, uint8_t **data, size_t *len, char *why, size_t why_size)
{
	if (raw_len > 0 && raw[0] == ':')
		return hex_to_binary(raw, raw_len, data, len, why, why_size);
	if (raw_len > IMAGE_FILE_MAX) {
		snprintf(why, why_size, "larger than any firmware image (16 MiB)");
		return -EFBIG;
	}
	*data = malloc(raw_len ? raw_len : 1);
	if (!*data)
		return -ENOMEM;
	memcpy(*data, raw, raw_len);
	*len = raw_len;
	return 0;
}

int image_load_file(const char *path, uint8_t **data, size_t *len, char *why, size_t why_size)
{
	_cleanup_free_ uint8_t *raw = NULL;
	size_t raw_len = 0;
	int r = read_file_bounded(path, IMAGE_FILE_MAX * 3, &raw, &raw_len);

	if (r < 0) {
		snprintf(why, why_size, r == -EFBIG ? "larger than any firmware image" : "%s", strerror(-r));
		return r;
	}
	return image_file_decode(raw, raw_len, data, len, why, why_size);
}
