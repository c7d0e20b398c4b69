/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "smp-cbor.h"
#include "util.h"

/* RFC 8949 §3: a head is the initial byte (major type in the top 3 bits, additional information in
 * the low 5) and 0, 1, 2, 4 or 8 bytes of argument. */
enum {
	CBOR_UINT = 0,
	CBOR_NEGINT = 1,
	CBOR_BYTES = 2,
	CBOR_TEXT = 3,
	CBOR_ARRAY = 4,
	CBOR_MAP = 5,
	CBOR_TAG = 6,
	CBOR_SIMPLE = 7,
	CBOR_AI_INDEFINITE = 31,
	CBOR_BREAK = 0xff,
};

typedef struct Walk {
	const uint8_t *p;
	size_t left;
	size_t items;
} Walk;

typedef struct Head {
	uint8_t major;
	uint8_t ai;
	uint64_t arg;
	bool indefinite;
} Head;

static int walk_head(Walk *w, Head *h)
{
	static const uint8_t arg_size[] = { 1, 2, 4, 8 };
	size_t n;

	if (w->left < 1)
		return -EBADMSG;
	h->major = w->p[0] >> 5;
	h->ai = w->p[0] & 0x1f;
	h->arg = h->ai;
	h->indefinite = false;
	w->p++;
	w->left--;
	if (h->ai < 24)
		return 0;
	if (h->ai == CBOR_AI_INDEFINITE) {
		/* Only strings, arrays and maps can be indefinite; 0xff (break) is handled by the caller. */
		if (h->major != CBOR_BYTES && h->major != CBOR_TEXT && h->major != CBOR_ARRAY && h->major != CBOR_MAP)
			return -EBADMSG;
		h->indefinite = true;
		return 0;
	}
	if (h->ai > 27)
		return -EBADMSG; /* 28..30 are reserved */
	n = arg_size[h->ai - 24];
	if (w->left < n)
		return -EBADMSG;
	h->arg = 0;
	for (size_t i = 0; i < n; i++)
		h->arg = h->arg << 8 | w->p[i];
	w->p += n;
	w->left -= n;
	return 0;
}

static int walk_item(Walk *w, unsigned depth);

static int walk_count_item(Walk *w, unsigned depth)
{
	if (++w->items > SMP_CBOR_MAX_ITEMS)
		return -E2BIG;
	return walk_item(w, depth);
}

/* Every chunk of an indefinite string is a definite string of the same major type (RFC 8949 §3.2.3). */
static int walk_string_chunks(Walk *w, uint8_t major)
{
	for (;;) {
		Head h;
		int r;

		if (w->left < 1)
			return -EBADMSG;
		if (w->p[0] == CBOR_BREAK) {
			w->p++;
			w->left--;
			return 0;
		}
		r = walk_head(w, &h);
		if (r < 0)
			return r;
		if (h.major != major || h.indefinite || h.arg > w->left)
			return -EBADMSG;
		if (++w->items > SMP_CBOR_MAX_ITEMS)
			return -E2BIG;
		w->p += h.arg;
		w->left -= (size_t)h.arg;
	}
}

static int walk_indefinite(Walk *w, unsigned depth, unsigned per_entry)
{
	for (;;) {
		int r;

		if (w->left < 1)
			return -EBADMSG;
		if (w->p[0] == CBOR_BREAK) {
			w->p++;
			w->left--;
			return 0;
		}
		for (unsigned i = 0; i < per_entry; i++) {
			r = walk_count_item(w, depth + 1);
			if (r < 0)
				return r;
		}
	}
}

static int walk_definite(Walk *w, unsigned depth, uint64_t entries, unsigned per_entry)
{
	/* Each item takes at least one byte: a count larger than what is left is a lie (ISSUE-NOTES 5). */
	if (entries > w->left / per_entry)
		return -EBADMSG;
	for (uint64_t i = 0; i < entries * per_entry; i++) {
		int r = walk_count_item(w, depth + 1);

		if (r < 0)
			return r;
	}
	return 0;
}

static int walk_item(Walk *w, unsigned depth)
{
	Head h;
	int r;

	if (depth > SMP_CBOR_MAX_DEPTH)
		return -E2BIG;
	r = walk_head(w, &h);
	if (r < 0)
		return r;
	switch (h.major) {
	case CBOR_UINT:
	case CBOR_NEGINT:
		return 0;
	case CBOR_BYTES:
	case CBOR_TEXT:
		if (h.indefinite)
			return walk_string_chunks(w, h.major);
		if (h.arg > w->left)
			return -EBADMSG;
		w->p += h.arg;
		w->left -= (size_t)h.arg;
		return 0;
	case CBOR_ARRAY:
		return h.indefinite ? walk_indefinite(w, depth, 1) : walk_definite(w, depth, h.arg, 1);
	case CBOR_MAP:
		return h.indefinite ? walk_indefinite(w, depth, 2) : walk_definite(w, depth, h.arg, 2);
	case CBOR_TAG:
		return walk_count_item(w, depth + 1);
	default:
		/* Simple values and floats: the head holds them whole. ai 24 with a value < 32 is not
		 * well-formed (RFC 8949 §3.3). */
		if (h.ai == 24 && h.arg < 32)
			return -EBADMSG;
		return 0;
	}
}

int smp_cbor_check(const uint8_t *buf, size_t len)
{
	Walk w = { .p = buf, .left = len };
	int r;

	if (len == 0)
		return -EBADMSG;
	r = walk_item(&w, 0);
	if (r < 0)
		return r;
	return w.left == 0 ? 0 : -EBADMSG;
}

int smp_cbor_peek_array_count(const uint8_t *buf, size_t len, uint64_t *count)
{
	Walk w = { .p = buf, .left = len };
	Head h;
	int r = walk_head(&w, &h);

	if (r < 0)
		return r;
	if (h.major != CBOR_MAP)
		return -ENOENT;
	for (uint64_t i = 0; h.indefinite || i < h.arg; i++) {
		Walk value;
		Head v;

		if (h.indefinite && w.left > 0 && w.p[0] == CBOR_BREAK)
			return -ENOENT;
		r = walk_item(&w, 1); /* the key */
		if (r < 0)
			return r;
		value = w;
		r = walk_head(&value, &v);
		if (r < 0)
			return r;
		if (v.major == CBOR_ARRAY && !v.indefinite) {
			if (v.arg > value.left)
				return -EBADMSG; /* each entry takes a byte at least (walk_definite) */
			*count = v.arg;
			return 0;
		}
		r = walk_item(&w, 1);
		if (r < 0)
			return r;
	}
	return -ENOENT;
}

int smp_cbor_decode(const uint8_t *buf, size_t len, cbor_item_t **out)
{
	struct cbor_load_result result;
	cbor_item_t *item;
	int r = smp_cbor_check(buf, len);

	if (r < 0)
		return r;
	item = cbor_load(buf, len, &result);
	if (!item)
		return result.error.code == CBOR_ERR_MEMERROR ? -ENOMEM : -EBADMSG;
	if (result.read != len) {
		cbor_decref(&item);
		return -EBADMSG;
	}
	*out = item;
	return 0;
}

void smp_cbor_freep(cbor_item_t **item)
{
	if (*item)
		cbor_decref(item);
}

/* Compares a text item (definite or chunked) with a NUL-terminated key without allocating. */
static bool text_equals(const cbor_item_t *item, const char *key)
{
	size_t key_len = strlen(key), off = 0;

	if (!cbor_isa_string(item))
		return false;
	if (cbor_string_is_definite(item))
		return cbor_string_length(item) == key_len && memcmp(cbor_string_handle(item), key, key_len) == 0;
	for (size_t i = 0; i < cbor_string_chunk_count(item); i++) {
		const cbor_item_t *chunk = cbor_string_chunks_handle(item)[i];
		size_t n = cbor_string_length(chunk);

		if (n > key_len - off || memcmp(cbor_string_handle(chunk), key + off, n) != 0)
			return false;
		off += n;
	}
	return off == key_len;
}

const cbor_item_t *smp_cbor_map_get(const cbor_item_t *map, const char *key)
{
	struct cbor_pair *pairs;

	if (!map || !key || !cbor_isa_map(map))
		return NULL;
	pairs = cbor_map_handle(map);
	for (size_t i = 0; i < cbor_map_size(map); i++)
		if (text_equals(pairs[i].key, key))
			return pairs[i].value;
	return NULL;
}

int smp_cbor_item_uint(const cbor_item_t *item, uint64_t *out)
{
	if (!item || !cbor_isa_uint(item))
		return -EBADMSG;
	*out = cbor_get_int(item);
	return 0;
}

int smp_cbor_item_int(const cbor_item_t *item, int64_t *out)
{
	uint64_t v;

	if (!item || !cbor_is_int(item))
		return -EBADMSG;
	v = cbor_get_int(item);
	if (v > INT64_MAX)
		return -EBADMSG;
	/* A negative integer n is encoded as -1 - n (RFC 8949 §3.1, major type 1). */
	*out = cbor_isa_uint(item) ? (int64_t)v : -1 - (int64_t)v;
	return 0;
}

/* Copies a definite or chunked string (text or bytes) into out. When it does not fit, out holds as
 * much as fits, *out_len says how much, and the result is -EMSGSIZE. */
static int copy_string(const cbor_item_t *item, bool text, uint8_t *out, size_t out_size, size_t *out_len)
{
	bool definite = text ? cbor_string_is_definite(item) : cbor_bytestring_is_definite(item);
	size_t count = definite ? 1 : text ? cbor_string_chunk_count(item) : cbor_bytestring_chunk_count(item);
	size_t len = 0;

	for (size_t i = 0; i < count; i++) {
		const cbor_item_t *chunk = definite ? item : text ? cbor_string_chunks_handle(item)[i]
								    : cbor_bytestring_chunks_handle(item)[i];
		size_t n = text ? cbor_string_length(chunk) : cbor_bytestring_length(chunk);
		const uint8_t *p = text ? cbor_string_handle(chunk) : cbor_bytestring_handle(chunk);
		size_t fits = MIN(n, out_size - len);

		if (fits)
			memcpy(out + len, p, fits);
		len += fits;
		if (fits < n) {
			*out_len = len;
			return -EMSGSIZE;
		}
	}
	*out_len = len;
	return 0;
}

/* The length of s[0..len) without a trailing incomplete UTF-8 sequence (RFC 3629 §3), so that a cut
 * text ends on a whole character. */
static size_t utf8_whole(const char *s, size_t len)
{
	size_t start = len, need;
	uint8_t lead;

	while (start > 0 && len - start < 3 && ((uint8_t)s[start - 1] & 0xc0) == 0x80)
		start--;
	if (start == 0)
		return len;
	lead = (uint8_t)s[start - 1];
	need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
	return len - (start - 1) < need ? start - 1 : len;
}

int smp_cbor_item_text(const cbor_item_t *item, char *out, size_t out_size)
{
	size_t len;
	int r;

	if (!item || !cbor_isa_string(item))
		return -EBADMSG;
	if (out_size == 0)
		return -EMSGSIZE;
	r = copy_string(item, true, (uint8_t *)out, out_size - 1, &len);
	if (r == -EMSGSIZE)
		len = utf8_whole(out, len);
	out[len] = '\0';
	return r;
}

int smp_cbor_item_bytes(const cbor_item_t *item, uint8_t *out, size_t out_size, size_t *out_len)
{
	if (!item || !cbor_isa_bytestring(item))
		return -EBADMSG;
	return copy_string(item, false, out, out_size, out_len);
}

/* libcbor 0.8's cbor_is_bool() asserts (aborts) on a float: check the width first. */
int smp_cbor_item_bool(const cbor_item_t *item, bool *out)
{
	if (!item || !cbor_isa_float_ctrl(item) || cbor_float_get_width(item) != CBOR_FLOAT_0)
		return -EBADMSG;
	if (cbor_ctrl_value(item) != CBOR_CTRL_TRUE && cbor_ctrl_value(item) != CBOR_CTRL_FALSE)
		return -EBADMSG;
	*out = cbor_ctrl_value(item) == CBOR_CTRL_TRUE;
	return 0;
}

int smp_cbor_get_uint(const cbor_item_t *map, const char *key, uint64_t *out)
{
	const cbor_item_t *v = smp_cbor_map_get(map, key);

	return v ? smp_cbor_item_uint(v, out) : -ENOENT;
}

int smp_cbor_get_int(const cbor_item_t *map, const char *key, int64_t *out)
{
	const cbor_item_t *v = smp_cbor_map_get(map, key);

	return v ? smp_cbor_item_int(v, out) : -ENOENT;
}

int smp_cbor_get_bool(const cbor_item_t *map, const char *key, bool *out)
{
	const cbor_item_t *v = smp_cbor_map_get(map, key);

	return v ? smp_cbor_item_bool(v, out) : -ENOENT;
}

int smp_cbor_get_bytes(const cbor_item_t *map, const char *key, uint8_t *out, size_t out_size, size_t *out_len)
{
	const cbor_item_t *v = smp_cbor_map_get(map, key);

	return v ? smp_cbor_item_bytes(v, out, out_size, out_len) : -ENOENT;
}

int smp_cbor_get_text(const cbor_item_t *map, const char *key, char *out, size_t out_size)
{
	const cbor_item_t *v = smp_cbor_map_get(map, key);

	return v ? smp_cbor_item_text(v, out, out_size) : -ENOENT;
}

void smp_cbor_writer_init(SmpCborWriter *w, uint8_t *buf, size_t cap)
{
	*w = (SmpCborWriter){ .buf = buf, .cap = cap };
}

int smp_cbor_writer_done(const SmpCborWriter *w)
{
	return w->overflow ? -EMSGSIZE : (int)w->len;
}

/* libcbor's encoders return 0 when the buffer is too small. */
static void writer_note(SmpCborWriter *w, size_t written)
{
	if (written == 0)
		w->overflow = true;
	w->len += written;
}

#define WRITER_PUT(w, call) do { \
	if (!(w)->overflow) \
		writer_note((w), call((w)->buf + (w)->len, (w)->cap - (w)->len)); \
} while (0)

static size_t enc_indef_map(unsigned char *b, size_t n) { return cbor_encode_indef_map_start(b, n); }
static size_t enc_indef_array(unsigned char *b, size_t n) { return cbor_encode_indef_array_start(b, n); }
static size_t enc_break(unsigned char *b, size_t n) { return cbor_encode_break(b, n); }

void smp_cbor_put_map(SmpCborWriter *w, size_t pairs)
{
	if (!w->overflow)
		writer_note(w, cbor_encode_map_start(pairs, w->buf + w->len, w->cap - w->len));
}

void smp_cbor_put_indef_map(SmpCborWriter *w) { WRITER_PUT(w, enc_indef_map); }
void smp_cbor_put_indef_array(SmpCborWriter *w) { WRITER_PUT(w, enc_indef_array); }
void smp_cbor_put_break(SmpCborWriter *w) { WRITER_PUT(w, enc_break); }

void smp_cbor_put_array(SmpCborWriter *w, size_t items)
{
	if (!w->overflow)
		writer_note(w, cbor_encode_array_start(items, w->buf + w->len, w->cap - w->len));
}

void smp_cbor_put_uint(SmpCborWriter *w, uint64_t v)
{
	if (!w->overflow)
		writer_note(w, cbor_encode_uint(v, w->buf + w->len, w->cap - w->len));
}

void smp_cbor_put_int(SmpCborWriter *w, int64_t v)
{
	if (v >= 0)
		smp_cbor_put_uint(w, (uint64_t)v);
	else if (!w->overflow)
		writer_note(w, cbor_encode_negint((uint64_t)(-1 - v), w->buf + w->len, w->cap - w->len));
}

void smp_cbor_put_bool(SmpCborWriter *w, bool v)
{
	if (!w->overflow)
		writer_note(w, cbor_encode_bool(v, w->buf + w->len, w->cap - w->len));
}

static void put_raw(SmpCborWriter *w, const void *p, size_t n)
{
	if (w->overflow)
		return;
	if (n > w->cap - w->len) {
		w->overflow = true;
		return;
	}
	if (n)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
}

void smp_cbor_put_text_n(SmpCborWriter *w, const char *s, size_t n)
{
	if (!w->overflow)
		writer_note(w, cbor_encode_string_start(n, w->buf + w->len, w->cap - w->len));
	put_raw(w, s, n);
}

void smp_cbor_put_text(SmpCborWriter *w, const char *s)
{
	smp_cbor_put_text_n(w, s, strlen(s));
}

void smp_cbor_put_bytes(SmpCborWriter *w, const uint8_t *p, size_t n)
{
	if (!w->overflow)
		writer_note(w, cbor_encode_bytestring_start(n, w->buf + w->len, w->cap - w->len));
	put_raw(w, p, n);
}

size_t smp_cbor_head_size(uint64_t v)
{
	return v < 24 ? 1 : v <= UINT8_MAX ? 2 : v <= UINT16_MAX ? 3 : v <= UINT32_MAX ? 5 : 9;
}
