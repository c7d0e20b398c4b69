/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: BLE notifications from the device reassembled into SMP frames (ble_rx_notification, with
 * its resynchronisation after a lost notification). The input is a sequence of notifications, each
 * [length: 2 bytes, big endian] [bytes], as the SMP characteristic delivers them (at most an ATT MTU
 * each; longer ones are cut there); each whole frame's header and body go through the client's first
 * reading of them.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ble.h"
#include "smp-cbor.h"
#include "smp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ATT_NOTIFY_MAX (517 - 3)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static BleRx rx;
	size_t off = 0;

	rx.len = 0;
	while (size - off >= 2) {
		size_t n = (size_t)data[off] << 8 | data[off + 1];
		bool dropped;
		int r;

		off += 2;
		if (n > size - off)
			n = size - off;
		if (n > ATT_NOTIFY_MAX)
			n = ATT_NOTIFY_MAX;
		r = ble_rx_notification(&rx, data + off, n, &dropped);
		if (r > 0) {
			cbor_item_t *body = NULL;
			SmpHeader h;

			/* a whole frame: what the client reads first (fuzz-smp-response covers the rest) */
			if (smp_header_decode(rx.buf, (size_t)r, &h) == 0 &&
			    smp_cbor_decode(rx.buf + SMP_HEADER_SIZE, (size_t)r - SMP_HEADER_SIZE, &body) == 0)
				cbor_decref(&body);
		}
		off += n;
	}
	return 0;
}
