/* SPDX-License-Identifier: MIT */
#include "cbor-hex.h"

#include <stdint.h>
#include <string.h>

#include "smp-cbor.h"
#include "tap.h"
#include "util.h"

cbor_item_t *cbor_from_spaced_hex(const char *spaced)
{
	char clean[1200];
	uint8_t buf[600];
	cbor_item_t *item = NULL;
	size_t n = 0;
	int len;

	for (const char *c = spaced; *c && n + 1 < sizeof(clean); c++)
		if (*c != ' ')
			clean[n++] = *c;
	clean[n] = '\0';
	len = hex_decode(clean, buf, sizeof(buf));
	CHECK(len > 0);
	if (len > 0)
		CHECK_INT(smp_cbor_decode(buf, (size_t)len, &item), 0);
	return item;
}
