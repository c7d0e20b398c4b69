/* SPDX-License-Identifier: MIT */
/* libFuzzer: the bounded CBOR checker against arbitrary bytes, and libcbor behind it. */
#include <stddef.h>
#include <stdint.h>

#include "smp-cbor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "rc", "off", "images", "r", "hash", "err", "" };
	cbor_item_t *item = NULL;
	uint8_t bytes[64];
	char text[64];
	uint64_t u;
	int64_t i;
	bool b;
	size_t n;

	if (smp_cbor_decode(data, size, &item) < 0)
		return 0;
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		smp_cbor_get_uint(item, keys[k], &u);
		smp_cbor_get_int(item, keys[k], &i);
		smp_cbor_get_bool(item, keys[k], &b);
		smp_cbor_get_text(item, keys[k], text, sizeof(text));
		smp_cbor_get_bytes(item, keys[k], bytes, sizeof(bytes), &n);
	}
	smp_cbor_item_text(item, text, sizeof(text));
	smp_cbor_item_bytes(item, bytes, sizeof(bytes), &n);
	cbor_decref(&item);
	return 0;
}
