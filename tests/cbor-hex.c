/* SPDX-License-Identifier: MIT */
#include "cbor-hex.h"

#include <stdint.h>
#include <string.h>

#include "smp-cbor.h"
#include "tap.h"
#include "util.h"

size_t bytes_from_spaced_hex(const char *spaced, uint8_t *out, size_t size)
{
	char clean[2048];
	size_t n = 0;
	int len;

	for (const char *c = spaced; *c && n + 1 < sizeof(clean); c++)
		if (*c != ' ')
			clean[n++] = *c;
	clean[n] = '\0';
	if (n == 0)
		return 0;
	len = hex_decode(clean, out, size);
	CHECK(len > 0);
	return len > 0 ? (size_t)len : 0;
}

cbor_item_t *cbor_from_spaced_hex(const char *spaced)
{
	uint8_t buf[600];
	cbor_item_t *item = NULL;
	size_t len = bytes_from_spaced_hex(spaced, buf, sizeof(buf));

	CHECK(len > 0);
	if (len > 0)
		CHECK_INT(smp_cbor_decode(buf, len, &item), 0);
	return item;
}
