/* SPDX-License-Identifier: MIT */
/* Serial framing codec: CRC, base64, COBS, the three framings both ways, and the deframer's handling of
 * noise, corruption and truncation. Vectors from independent encoders: tests/vectors/serial-frames.txt. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serial-frame.h"
#include "tap.h"
#include "util.h"

#define MAX_PACKETS 16

typedef struct Collected {
	size_t count;
	size_t len[MAX_PACKETS];
	uint8_t data[MAX_PACKETS][4096];
} Collected;

static void collect(void *userdata, const uint8_t *packet, size_t len)
{
	Collected *c = userdata;

	if (c->count < MAX_PACKETS && len <= sizeof(c->data[0])) {
		memcpy(c->data[c->count], packet, len);
		c->len[c->count] = len;
	}
	c->count++;
}

/* A deterministic SMP-looking packet: header with the body length, then body bytes. */
static size_t make_packet(uint8_t *p, size_t len, uint8_t salt)
{
	size_t body = len - 8;

	p[0] = 0x0a; p[1] = 0; p[2] = (uint8_t)(body >> 8); p[3] = (uint8_t)body;
	p[4] = 0; p[5] = 1; p[6] = salt; p[7] = 1;
	for (size_t i = 8; i < len; i++)
		p[i] = (uint8_t)(i * 7 + salt);
	return len;
}

/* Encodes, then reads back through a fresh deframer fed `step` bytes at a time. */
static bool roundtrip(SerialFraming f, const uint8_t *p, size_t len, size_t line, size_t step)
{
	size_t max = serial_frame_encoded_max(f, len, line);
	_cleanup_free_ uint8_t *wire = malloc(max);
	SerialDeframer d;
	Collected *c = calloc(1, sizeof(*c));
	int n = wire ? serial_frame_encode(f, p, len, line, wire, max) : -ENOMEM;
	bool ok = n > 0 && c && serial_deframer_init(&d, f, 4096) == 0;

	if (ok) {
		for (size_t off = 0; off < (size_t)n; off += step)
			serial_deframer_feed(&d, wire + off, MIN(step, (size_t)n - off), collect, c);
		ok = c->count == 1 && c->len[0] == len && memcmp(c->data[0], p, len) == 0;
		serial_deframer_done(&d);
	}
	free(c);
	return ok;
}

/* The CRC catalogue's check value of CRC-16/XMODEM. */
static void test_crc16_check_value(void)
{
	CHECK_INT(serial_crc16(0, (const uint8_t *)"123456789", 9), 0x31c3);
}

/* RFC 4648 test vectors, and padding only where it belongs. */
static void test_base64(void)
{
	static const char *const enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	char out[16];
	uint8_t back[16];

	for (size_t n = 0; n < ARRAY_SIZE(enc); n++) {
		size_t k = serial_base64_encode((const uint8_t *)"foobar", n, out);

		CHECK(k == strlen(enc[n]) && memcmp(out, enc[n], k) == 0);
		CHECK_INT(serial_base64_decode(enc[n], strlen(enc[n]), back, sizeof(back)), (int)n);
		CHECK(memcmp(back, "foobar", n) == 0);
	}
	CHECK_INT(serial_base64_decode("Zg==Zg==", 8, back, sizeof(back)), -EINVAL);
	CHECK_INT(serial_base64_decode("Z===", 4, back, sizeof(back)), -EINVAL);
	CHECK_INT(serial_base64_decode("Zm9", 3, back, sizeof(back)), -EINVAL);
	CHECK_INT(serial_base64_decode("Zm9*", 4, back, sizeof(back)), -EINVAL);
	CHECK_INT(serial_base64_decode("Zm9vYmFy", 8, back, 5), -ENOBUFS);
}

/* COBS round trips at the block edges (253, 254, 255 non-zero bytes) and with zeros everywhere. */
static void test_cobs_roundtrip(void)
{
	static const size_t lens[] = { 0, 1, 2, 253, 254, 255, 256, 507, 508, 509, 1000 };
	uint8_t in[1000], enc[1010], dec[1000];

	for (size_t z = 0; z < 3; z++)
		for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
			size_t n = lens[i], k;

			for (size_t j = 0; j < n; j++)
				in[j] = z == 0 ? (uint8_t)(1 + j % 255) : z == 1 ? 0 : (uint8_t)(j % 5);
			k = serial_cobs_encode(in, n, enc);
			CHECK(k <= n + n / 254 + 1 && memchr(enc, 0, k) == NULL);
			CHECK_INT(serial_cobs_decode(enc, k, dec, sizeof(dec)), (int)n);
			CHECK(memcmp(dec, in, n) == 0);
		}
	CHECK_INT(serial_cobs_decode((const uint8_t *)"\x05\x01\x02", 3, dec, sizeof(dec)), -EINVAL);
	CHECK_INT(serial_cobs_decode((const uint8_t *)"\x03\x01\x00", 3, dec, sizeof(dec)), -EINVAL);
}

static int hex_to_bytes(const char *hex, uint8_t **out, size_t *len)
{
	size_t n = strlen(hex) / 2;
	uint8_t *b = malloc(n + 1);
	int r;

	if (!b)
		return -ENOMEM;
	r = hex_decode(hex, b, n + 1);
	if (r < 0) {
		free(b);
		return r;
	}
	*out = b;
	*len = (size_t)r;
	return 0;
}

/* One vector: the deframer recovers the packet from the independent encoder's bytes; our encoder
 * writes those same bytes where the two encoders agree: always for COBS and for frames captured from
 * Zephyr; for the smp package's console lines when one line holds the frame (Zephyr's continuation
 * lines are 3 bytes shorter, and it never splits the CRC, serial_util.c). */
static void check_vector(const char *name, SerialFraming f, const uint8_t *p, size_t plen, const uint8_t *w,
			 size_t wlen)
{
	uint8_t mine[8192];
	Collected *c = calloc(1, sizeof(*c));
	SerialDeframer d;
	int n;

	CHECK(c && serial_deframer_init(&d, f, 4096) == 0);
	if (!c)
		return;
	serial_deframer_feed(&d, w, wlen, collect, c);
	tap_checkf(c->count == 1 && c->len[0] == plen && memcmp(c->data[0], p, plen) == 0, __FILE__, __LINE__,
		   "vector %s/%s decodes", name, serial_framing_name(f));
	serial_deframer_done(&d);
	free(c);
	n = serial_frame_encode(f, p, plen, SERIAL_LINE_DEFAULT, mine, sizeof(mine));
	if (f == SERIAL_FRAMING_COBS || plen + 4 <= 93 || strncmp(name, "zephyr-", 7) == 0)
		tap_checkf(n == (int)wlen && memcmp(mine, w, wlen) == 0, __FILE__, __LINE__, "vector %s/%s encodes",
			   name, serial_framing_name(f));
}

static void test_independent_vectors(void)
{
	char path[4096], line[65536];
	FILE *fp;
	unsigned count = 0;

	snprintf(path, sizeof(path), "%s/serial-frames.txt", SMPCTL_TEST_VECTORS);
	fp = fopen(path, "r");
	CHECK(fp != NULL);
	if (!fp)
		return;
	while (fgets(line, sizeof(line), fp)) {
		char name[64], framing[16], phex[16384], whex[32768];
		_cleanup_free_ uint8_t *p = NULL;
		_cleanup_free_ uint8_t *w = NULL;
		size_t plen, wlen;
		SerialFraming f;

		if (line[0] == '#' || sscanf(line, "%63s %15s %16383s %32767s", name, framing, phex, whex) != 4)
			continue;
		CHECK(serial_framing_parse(framing, &f) == 0);
		CHECK(hex_to_bytes(phex, &p, &plen) == 0 && hex_to_bytes(whex, &w, &wlen) == 0);
		if (p && w)
			check_vector(name, f, p, plen, w, wlen);
		count++;
	}
	fclose(fp);
	CHECK(count >= 20);
}

/* Every length from 1 to 700 bytes survives each framing, fed whole and byte by byte, at several line
 * sizes: the CRC placement rule and the shortened continuation lines hold at every boundary. */
static void test_roundtrip_all_lengths(void)
{
	static const size_t lines[] = { 15, 64, 127, 128, 255, 1024 };
	uint8_t p[700];
	unsigned bad = 0;

	for (size_t len = 8; len <= sizeof(p); len++) {
		make_packet(p, len, (uint8_t)len);
		for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
			bad += !roundtrip(SERIAL_FRAMING_CONSOLE, p, len, lines[i], len % 2 ? 1 : 4096);
		bad += !roundtrip(SERIAL_FRAMING_RAW, p, len, 0, len % 3 ? 5 : 4096);
		bad += !roundtrip(SERIAL_FRAMING_COBS, p, len, 0, len % 2 ? 1 : 4096);
	}
	CHECK_INT(bad, 0);
}

/* Console lines respect the line size, start with the right marker, end in a newline; as Zephyr 4.1
 * writes them, the first line is 127 bytes and the continuations 123. */
static void test_console_line_shape(void)
{
	uint8_t p[600], wire[1200];
	int n;
	size_t lines = 0, start = 0;

	make_packet(p, sizeof(p), 3);
	n = serial_frame_encode(SERIAL_FRAMING_CONSOLE, p, sizeof(p), 127, wire, sizeof(wire));
	CHECK(n > 0);
	for (size_t i = 0; i < (size_t)n; i++) {
		if (wire[i] != '\n')
			continue;
		size_t l = i + 1 - start;

		CHECK(l <= 127);
		CHECK(lines == 0 ? wire[start] == 0x06 && wire[start + 1] == 0x09 : wire[start] == 0x04 && wire[start + 1] == 0x14);
		if (i + 1 < (size_t)n)
			CHECK_INT(l, lines == 0 ? 127 : 123);
		lines++;
		start = i + 1;
	}
	CHECK_INT(start, n);
	CHECK_INT(lines, 7); /* 604 bytes: 93 on the first line, 90 on each later one */
}

/* Encoding refuses what it cannot frame: empty packets, tiny or huge lines, small buffers. */
static void test_encode_limits(void)
{
	uint8_t p[64] = { 0 }, out[16];

	CHECK_INT(serial_frame_encode(SERIAL_FRAMING_CONSOLE, p, 0, 127, out, sizeof(out)), -EINVAL);
	CHECK_INT(serial_frame_encode(SERIAL_FRAMING_CONSOLE, p, 8, 10, out, sizeof(out)), -EINVAL);
	CHECK_INT(serial_frame_encode(SERIAL_FRAMING_CONSOLE, p, 8, SERIAL_LINE_MAX + 1, out, sizeof(out)), -EINVAL);
	CHECK_INT(serial_frame_encode(SERIAL_FRAMING_CONSOLE, p, 64, 127, out, sizeof(out)), -ENOBUFS);
	CHECK_INT(serial_frame_encode(SERIAL_FRAMING_RAW, p, 64, 0, out, sizeof(out)), -ENOBUFS);
	CHECK_INT(serial_frame_encode(SERIAL_FRAMING_COBS, p, 64, 0, out, sizeof(out)), -ENOBUFS);
}

static int encode(SerialFraming f, const uint8_t *p, size_t len, uint8_t *out, size_t size)
{
	return serial_frame_encode(f, p, len, SERIAL_LINE_DEFAULT, out, size);
}

/* Console output, an echo of what we sent and a log line between two frames' lines cost nothing. */
static void test_console_noise_between_lines(void)
{
	uint8_t p[300], wire[1024], stream[2048];
	Collected *c = calloc(1, sizeof(*c));
	SerialDeframer d;
	size_t n = 0, first_line;
	int w;

	make_packet(p, sizeof(p), 9);
	w = encode(SERIAL_FRAMING_CONSOLE, p, sizeof(p), wire, sizeof(wire));
	first_line = (size_t)((uint8_t *)memchr(wire, '\n', (size_t)w) - wire) + 1;
	n += (size_t)sprintf((char *)stream, "uart:~$ boot banner\r\n[00:00:01.000] <inf> app: hello\n");
	memcpy(stream + n, wire, first_line);
	n += first_line;
	n += (size_t)sprintf((char *)stream + n, "\x1b[1;32muart:~$ \x1b[m\n");
	memcpy(stream + n, wire + first_line, (size_t)w - first_line);
	n += (size_t)w - first_line;
	CHECK(serial_deframer_init(&d, SERIAL_FRAMING_CONSOLE, 4096) == 0);
	serial_deframer_feed(&d, stream, n, collect, c);
	CHECK(c->count == 1 && c->len[0] == sizeof(p) && memcmp(c->data[0], p, sizeof(p)) == 0);
	CHECK(d.drops[SERIAL_DROP_NOISE] > 0 && d.drops[SERIAL_DROP_CRC] == 0);
	serial_deframer_done(&d);
	free(c);
}

/* A flipped bit fails the CRC (console, COBS); the next frame is read all the same. */
static void test_crc_mismatch_dropped(void)
{
	static const SerialFraming fr[] = { SERIAL_FRAMING_CONSOLE, SERIAL_FRAMING_COBS };

	for (size_t i = 0; i < ARRAY_SIZE(fr); i++) {
		uint8_t p[40], wire[256];
		Collected *c = calloc(1, sizeof(*c));
		SerialDeframer d;
		int w;

		make_packet(p, sizeof(p), 1);
		w = encode(fr[i], p, sizeof(p), wire, sizeof(wire));
		CHECK(serial_deframer_init(&d, fr[i], 4096) == 0);
		/* console: 'B' ↔ 'C' in base64 flips a bit; COBS: bump a data byte that is not 0xff */
		wire[fr[i] == SERIAL_FRAMING_CONSOLE ? 20 : 12] ^= 0x01;
		serial_deframer_feed(&d, wire, (size_t)w, collect, c);
		wire[fr[i] == SERIAL_FRAMING_CONSOLE ? 20 : 12] ^= 0x01;
		serial_deframer_feed(&d, wire, (size_t)w, collect, c);
		CHECK_INT(c->count, 1);
		CHECK_INT(d.drops[SERIAL_DROP_CRC], 1);
		serial_deframer_done(&d);
		free(c);
	}
}

static size_t count_lines(const uint8_t *wire, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += wire[i] == '\n';
	return n;
}

/* A frame cut short by the next frame's start line, and a continuation line without its start: both
 * counted as truncated, and the whole frame after them still arrives. */
static void test_console_truncated(void)
{
	uint8_t p[300], wire[1024];
	Collected *c = calloc(1, sizeof(*c));
	SerialDeframer d;
	size_t first_line;
	int w;

	make_packet(p, sizeof(p), 2);
	w = encode(SERIAL_FRAMING_CONSOLE, p, sizeof(p), wire, sizeof(wire));
	first_line = (size_t)((uint8_t *)memchr(wire, '\n', (size_t)w) - wire) + 1;
	CHECK(serial_deframer_init(&d, SERIAL_FRAMING_CONSOLE, 4096) == 0);
	serial_deframer_feed(&d, wire, first_line, collect, c);
	CHECK(serial_deframer_partial(&d));
	serial_deframer_feed(&d, wire, (size_t)w, collect, c);
	serial_deframer_feed(&d, wire + first_line, (size_t)w - first_line, collect, c);
	CHECK_INT(c->count, 1);
	/* the cut frame, and each orphaned continuation line */
	CHECK_INT(d.drops[SERIAL_DROP_TRUNCATED], 1 + count_lines(wire, (size_t)w) - 1);
	serial_deframer_feed(&d, wire, first_line, collect, c);
	serial_deframer_flush(&d);
	CHECK_INT(d.drops[SERIAL_DROP_TRUNCATED], 1 + count_lines(wire, (size_t)w));
	CHECK(!serial_deframer_partial(&d));
	serial_deframer_done(&d);
	free(c);
}

/* Frames larger than the deframer takes are dropped and counted; the reader recovers. */
static void test_oversize(void)
{
	static const SerialFraming fr[] = { SERIAL_FRAMING_CONSOLE, SERIAL_FRAMING_RAW, SERIAL_FRAMING_COBS };

	for (size_t i = 0; i < ARRAY_SIZE(fr); i++) {
		uint8_t big[600], small[40], wire[2048];
		Collected *c = calloc(1, sizeof(*c));
		SerialDeframer d;
		int w;

		make_packet(big, sizeof(big), 4);
		make_packet(small, sizeof(small), 5);
		CHECK(serial_deframer_init(&d, fr[i], 256) == 0);
		w = encode(fr[i], big, sizeof(big), wire, sizeof(wire));
		serial_deframer_feed(&d, wire, (size_t)w, collect, c);
		w = encode(fr[i], small, sizeof(small), wire, sizeof(wire));
		serial_deframer_feed(&d, wire, (size_t)w, collect, c);
		tap_checkf(c->count >= 1 && c->len[c->count - 1] == sizeof(small), __FILE__, __LINE__,
			   "%s: the small frame after the big one arrives", serial_framing_name(fr[i]));
		CHECK(d.drops[SERIAL_DROP_OVERSIZE] > 0);
		serial_deframer_done(&d);
		free(c);
	}
}

/* Raw framing has no marker: garbage before a header is skipped a byte at a time until one fits. */
static void test_raw_resync(void)
{
	uint8_t p[40], stream[128];
	Collected *c = calloc(1, sizeof(*c));
	SerialDeframer d;

	make_packet(p, sizeof(p), 6);
	memcpy(stream, "\xff\xfe garbage\r\n", 12);
	memcpy(stream + 12, p, sizeof(p));
	CHECK(serial_deframer_init(&d, SERIAL_FRAMING_RAW, 256) == 0);
	serial_deframer_feed(&d, stream, 12 + sizeof(p), collect, c);
	CHECK(c->count == 1 && c->len[0] == sizeof(p) && memcmp(c->data[0], p, sizeof(p)) == 0);
	CHECK(d.drops[SERIAL_DROP_NOISE] > 0);
	serial_deframer_done(&d);
	free(c);
}

int main(void)
{
	static const TapTest tests[] = {
		TAP_TEST(test_crc16_check_value),
		TAP_TEST(test_base64),
		TAP_TEST(test_cobs_roundtrip),
		TAP_TEST(test_independent_vectors),
		TAP_TEST(test_roundtrip_all_lengths),
		TAP_TEST(test_console_line_shape),
		TAP_TEST(test_encode_limits),
		TAP_TEST(test_console_noise_between_lines),
		TAP_TEST(test_crc_mismatch_dropped),
		TAP_TEST(test_console_truncated),
		TAP_TEST(test_oversize),
		TAP_TEST(test_raw_resync),
	};

	return tap_run(tests, ARRAY_SIZE(tests));
}
