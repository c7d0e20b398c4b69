/* SPDX-License-Identifier: MIT */
/* libFuzzer: the bounded CBOR checker against arbitrary bytes, libcbor behind it, every getter on
 * every item of what decodes, and the count read from the heads of what is too large to decode. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smp-cbor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_item(const cbor_item_t *item)
{
	uint8_t bytes[40];
	char text[40];
	uint64_t u;
	int64_t i;
	bool b;
	size_t n;

	int r;

	smp_cbor_item_uint(item, &u);
	smp_cbor_item_int(item, &i);
	smp_cbor_item_bool(item, &b);
	/* A text comes back NUL-terminated inside the buffer, whole or cut; bytes never overrun it. */
	for (size_t size = 1; size <= sizeof(text); size += 13) {
		r = smp_cbor_item_text(item, text, size);
		if ((r == 0 || r == -EMSGSIZE) && strnlen(text, size) >= size)
			abort();
	}
	r = smp_cbor_item_bytes(item, bytes, sizeof(bytes), &n);
	if ((r == 0 || r == -EMSGSIZE) && n > sizeof(bytes))
		abort();
}

static void fuzz_map(const cbor_item_t *map)
{
	static const char *const keys[] = { "rc", "off", "images", "r", "hash", "err", "rsn", "" };
	uint8_t bytes[64];
	char text[64];
	uint64_t u;
	int64_t i;
	bool b;
	size_t n;

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		smp_cbor_map_get(map, keys[k]);
		smp_cbor_get_uint(map, keys[k], &u);
		smp_cbor_get_int(map, keys[k], &i);
		smp_cbor_get_bool(map, keys[k], &b);
		smp_cbor_get_text(map, keys[k], text, sizeof(text));
		smp_cbor_get_bytes(map, keys[k], bytes, sizeof(bytes), &n);
	}
}

/* Every item of the tree; recursion is bounded by smp_cbor_check()'s depth cap. */
static void fuzz_tree(const cbor_item_t *item)
{
	fuzz_item(item);
	if (cbor_isa_map(item)) {
		fuzz_map(item);
		for (size_t k = 0; k < cbor_map_size(item); k++) {
			fuzz_tree(cbor_map_handle(item)[k].key);
			fuzz_tree(cbor_map_handle(item)[k].value);
		}
	} else if (cbor_isa_array(item)) {
		for (size_t k = 0; k < cbor_array_size(item); k++)
			fuzz_tree(cbor_array_handle(item)[k]);
	} else if (cbor_isa_tag(item)) {
		cbor_item_t *tagged = cbor_tag_item(item);

		fuzz_tree(tagged);
		cbor_decref(&tagged);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cbor_item_t *item = NULL;
	uint64_t count;
	int r = smp_cbor_decode(data, size, &item);

	/* Whatever it says, it never reads past the input, and a count is one the bytes can hold. */
	if (smp_cbor_peek_array_count(data, size, &count) == 0 && count > size)
		abort();
	if (r < 0)
		return 0;
	fuzz_tree(item);
	smp_cbor_freep(&item);
	return 0;
}
