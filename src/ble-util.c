/* SPDX-License-Identifier: MIT */
/* Pure parts of the BLE transport: addresses, object paths, reassembly. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ble.h"
#include "smp.h"

int ble_address_parse(const char *text, BleAddress *out)
{
	*out = (BleAddress){ 0 };
	if (strncmp(text, "name=", 5) == 0) {
		size_t n = strlen(text + 5);

		if (n == 0 || n >= sizeof(out->name))
			return -EINVAL;
		out->by_name = true;
		memcpy(out->name, text + 5, n + 1);
		return 0;
	}
	if (strlen(text) != 17)
		return -EINVAL;
	for (int i = 0; i < 17; i++) {
		char c = text[i];

		if (i % 3 == 2 ? c != ':' : !isxdigit((unsigned char)c))
			return -EINVAL;
		out->address[i] = (char)toupper((unsigned char)c);
	}
	return 0;
}

void ble_device_path(const char *adapter_path, const char *address, char *out, size_t out_size)
{
	int n = snprintf(out, out_size, "%s/dev_%s", adapter_path, address);

	for (char *c = out + (n > 17 ? n - 17 : 0); *c; c++)
		if (*c == ':')
			*c = '_';
}

int ble_rx_feed(BleRx *rx, const uint8_t *data, size_t n)
{
	SmpHeader h;
	size_t want;

	if (rx->len == 0 && n < SMP_HEADER_SIZE)
		return -EBADMSG; /* the first notification of a frame carries the whole header */
	if (n > sizeof(rx->buf) - rx->len) {
		rx->len = 0;
		return -EBADMSG;
	}
	memcpy(rx->buf + rx->len, data, n);
	rx->len += n;
	smp_header_decode(rx->buf, rx->len, &h);
	want = SMP_HEADER_SIZE + (size_t)h.len;
	if (rx->len < want)
		return 0;
	if (rx->len > want) {
		/* Never two frames in one notification (smp_bt.c): this one is garbage. */
		rx->len = 0;
		return -EBADMSG;
	}
	rx->len = 0;
	return (int)want;
}
