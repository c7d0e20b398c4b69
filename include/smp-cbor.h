/* SPDX-License-Identifier: MIT */
/*
 * CBOR for SMP bodies, on top of libcbor.
 *
 * Reading: device and file bytes never reach libcbor's tree decoder (cbor_load) unchecked. Debian's
 * libcbor 0.8 allocates for the count a header declares before it checks that the bytes exist
 * (9 hostile bytes, 9b 00 00 00 00 08 00 00 00, ask for 1 GiB). smp_cbor_check() first walks the input
 * head by head (RFC 8949 §3) with a small parser of its own, checking every declared length and count
 * against the bytes left (every item takes at least one byte) and capping nesting depth and item count;
 * only then smp_cbor_decode() calls cbor_load().
 * Definite and indefinite-length maps, arrays and strings are all accepted (Zephyr emits indefinite
 * maps, REFERENCE.md §1). Duplicate map keys are tolerated (Zephyr task stats, §11): lookups return the
 * first match.
 *
 * Writing: a bounded writer over a caller's buffer using libcbor's streaming encoders, so sizes are
 * exact and nothing allocates on the upload path.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cbor.h>

#define SMP_CBOR_MAX_DEPTH 16
#define SMP_CBOR_MAX_ITEMS 4096

/* Validates that buf[0..len) holds exactly one well-formed CBOR item within the limits above.
 * Returns 0, or -EBADMSG (malformed, truncated, trailing bytes, counts larger than the input),
 * -E2BIG (too deep or too many items). */
int smp_cbor_check(const uint8_t *buf, size_t len);

/* For a body that smp_cbor_check() refused with -E2BIG: the entry count that the first array value of
 * its top-level map declares, read from the heads alone (a definite array; the keys before it are
 * skipped within the same limits). Returns 0, or -ENOENT (no such array), -EBADMSG, -E2BIG. */
int smp_cbor_peek_array_count(const uint8_t *buf, size_t len, uint64_t *count);

/* smp_cbor_check() then cbor_load(). On success *out holds a new reference (cbor_decref it). */
int smp_cbor_decode(const uint8_t *buf, size_t len, cbor_item_t **out);

/* Cleanup helper: _cleanup_(smp_cbor_freep) cbor_item_t *item = NULL; */
void smp_cbor_freep(cbor_item_t **item);

/* Map lookups on a decoded map (definite or indefinite). Keys are compared as text strings,
 * definite or chunked. Each returns 0, -ENOENT when the key is absent (or map is not a map),
 * or -EBADMSG when the value has the wrong type or does not fit. */
const cbor_item_t *smp_cbor_map_get(const cbor_item_t *map, const char *key);
int smp_cbor_get_uint(const cbor_item_t *map, const char *key, uint64_t *out);
int smp_cbor_get_int(const cbor_item_t *map, const char *key, int64_t *out);
int smp_cbor_get_bool(const cbor_item_t *map, const char *key, bool *out);
/* Copies a byte string (definite or chunked) into out[0..out_size); *out_len gets its length.
 * -EMSGSIZE when it does not fit. */
int smp_cbor_get_bytes(const cbor_item_t *map, const char *key, uint8_t *out, size_t out_size, size_t *out_len);
/* Copies a text string, NUL-terminated, into out[0..out_size). -EMSGSIZE when it does not fit; out then
 * holds the longest head that fits, cut at a UTF-8 character boundary (callers may show a cut text). */
int smp_cbor_get_text(const cbor_item_t *map, const char *key, char *out, size_t out_size);

/* Item-level accessors, same return conventions, for array elements and nested values (a NULL item is
 * the wrong type: -EBADMSG). */
int smp_cbor_item_uint(const cbor_item_t *item, uint64_t *out);
int smp_cbor_item_int(const cbor_item_t *item, int64_t *out);
int smp_cbor_item_bool(const cbor_item_t *item, bool *out);
int smp_cbor_item_text(const cbor_item_t *item, char *out, size_t out_size);
int smp_cbor_item_bytes(const cbor_item_t *item, uint8_t *out, size_t out_size, size_t *out_len);

/* Bounded writer. Every put_* appends; when the buffer is too small `overflow` is set and later
 * calls do nothing, so a caller checks once at the end with smp_cbor_writer_done(). */
typedef struct SmpCborWriter {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;
} SmpCborWriter;

void smp_cbor_writer_init(SmpCborWriter *w, uint8_t *buf, size_t cap);
/* Returns the written length, or -EMSGSIZE after an overflow. */
int smp_cbor_writer_done(const SmpCborWriter *w);

void smp_cbor_put_map(SmpCborWriter *w, size_t pairs);
void smp_cbor_put_indef_map(SmpCborWriter *w);
void smp_cbor_put_array(SmpCborWriter *w, size_t items);
void smp_cbor_put_indef_array(SmpCborWriter *w);
void smp_cbor_put_break(SmpCborWriter *w);
void smp_cbor_put_uint(SmpCborWriter *w, uint64_t v);
void smp_cbor_put_int(SmpCborWriter *w, int64_t v);
void smp_cbor_put_bool(SmpCborWriter *w, bool v);
void smp_cbor_put_text(SmpCborWriter *w, const char *s);
void smp_cbor_put_text_n(SmpCborWriter *w, const char *s, size_t n);
void smp_cbor_put_bytes(SmpCborWriter *w, const uint8_t *p, size_t n);

/* Encoded size of a CBOR head carrying v (uint, or string/array/map length): 1, 2, 3, 5 or 9. */
size_t smp_cbor_head_size(uint64_t v);
