/* SPDX-License-Identifier: MIT */
/*
 * Serial framing of SMP packets: a pure codec (bytes in, bytes out, no I/O), shared by the serial
 * transport, the simulated device's pty host, the tests and the fuzzers.
 *
 * console  Zephyr's "SMP over console" (Zephyr 4.1.0: subsys/mgmt/mcumgr/transport/src/serial_util.c,
 *          smp_uart.c, drivers/console/uart_mcumgr.c, include/zephyr/mgmt/mcumgr/transport/serial.h):
 *          lines of at most MCUMGR_SERIAL_MAX_FRAME (127) bytes, newline included; the first starts
 *          0x06 0x09, the others 0x04 0x14; the rest of each line is base64 of its own (padded per line)
 *          of the stream  be16(len(packet) + 2) || packet || be16(CRC-16/XMODEM(packet)).
 * raw      EXPERIMENTAL. Zephyr PR #101821 (merged 2026; smp_raw_uart.c and serial_util.c at
 *          zephyrproject-rtos/zephyr 4d0b43fc / 0dc6d2d2): the SMP packet as is, no base64, no CRC;
 *          the receiver finds the end from the header's length, drops a packet whose total exceeds its
 *          buffer or whose op is >= 4, and forgets a partial packet after an input timeout
 *          (CONFIG_MCUMGR_TRANSPORT_RAW_UART_INPUT_TIMEOUT_TIME_MS). The raw-mode UART driver that
 *          feeds it was not found in the sources we could read: how it chunks its input is not known.
 * cobs     EXPERIMENTAL. MCUboot PR #2773 (draft, 2026-06-24) and smpclient 7.3.0 (PR #122):
 *          COBS(packet || be16(CRC-16/XMODEM(packet))) || 0x00. Only the PR descriptions were
 *          readable, not their code: the COBS variant is assumed to be the standard one (blocks of at
 *          most 254 bytes, code 0xff without an implied zero) and no leading delimiter is sent.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum SerialFraming {
	SERIAL_FRAMING_CONSOLE,
	SERIAL_FRAMING_RAW,
	SERIAL_FRAMING_COBS,
} SerialFraming;

#define SERIAL_MARK_PKT_1 0x06 /* MCUMGR_SERIAL_HDR_PKT 0x0609: the first line of a packet */
#define SERIAL_MARK_PKT_2 0x09
#define SERIAL_MARK_FRAG_1 0x04 /* MCUMGR_SERIAL_HDR_FRAG 0x0414: a continuation line */
#define SERIAL_MARK_FRAG_2 0x14
#define SERIAL_LINE_DEFAULT 127u   /* MCUMGR_SERIAL_MAX_FRAME (Zephyr 4.1), newline included */
#define SERIAL_LINE_MIN 11u        /* marker, two base64 quads, newline */
#define SERIAL_LINE_MAX 8192u
#define SERIAL_PACKET_MAX 65535u   /* the console length field is 16 bits (packet + CRC) */

/* "console", "raw", "cobs" → 0 and *out, else -EINVAL. */
int serial_framing_parse(const char *name, SerialFraming *out);
const char *serial_framing_name(SerialFraming f);

/* CRC-16/XMODEM (CCITT polynomial 0x1021, init 0, no reflection): Zephyr's crc16_itu_t(0, …). */
uint16_t serial_crc16(uint16_t crc, const uint8_t *data, size_t len);

/* Base64 (RFC 4648, padded). encode writes 4⌈len/3⌉ bytes; decode takes a multiple of 4 with padding
 * only in the last quad and returns the byte count, or -EINVAL (bad length, character or padding) or
 * -ENOBUFS. */
size_t serial_base64_encode(const uint8_t *in, size_t len, char *out);
int serial_base64_decode(const char *in, size_t len, uint8_t *out, size_t out_size);

/* COBS: encode writes at most len + len/254 + 1 bytes (no delimiter); decode returns the byte count or
 * -EINVAL (a zero byte, or a block running past the end) or -ENOBUFS. */
size_t serial_cobs_encode(const uint8_t *in, size_t len, uint8_t *out);
int serial_cobs_decode(const uint8_t *in, size_t len, uint8_t *out, size_t out_size);

/* Bytes serial_frame_encode needs at most for a packet of len bytes (line_size: console only). */
size_t serial_frame_encoded_max(SerialFraming f, size_t len, size_t line_size);
/* One SMP packet (header + body) onto the wire in the given framing. Console lines hold at most
 * line_size bytes, newline included, split as Zephyr's mcumgr_serial_tx_pkt() splits them (the CRC is
 * never cut across two lines). Returns the byte count, -EINVAL (empty packet, packet over
 * SERIAL_PACKET_MAX, line_size out of range) or -ENOBUFS. */
int serial_frame_encode(SerialFraming f, const uint8_t *packet, size_t len, size_t line_size, uint8_t *out,
			size_t out_size);

/* Why the deframer dropped bytes: counted, so a transport can say what went wrong. */
typedef enum SerialDropReason {
	SERIAL_DROP_NOISE,     /* bytes that belong to no frame: console output, echo, a wrong baud rate */
	SERIAL_DROP_CRC,       /* a whole frame whose CRC does not match */
	SERIAL_DROP_TRUNCATED, /* a frame cut short: a new frame began, a line lost, the input went idle */
	SERIAL_DROP_MALFORMED, /* bad base64, a bad COBS block, a length that contradicts the data */
	SERIAL_DROP_OVERSIZE,  /* a frame larger than the deframer accepts */
	SERIAL_DROP_REASONS,
} SerialDropReason;

typedef void (*SerialFrameFn)(void *userdata, const uint8_t *packet, size_t len);

/* Reassembles SMP packets from a byte stream, the reading side of serial_frame_encode. Bounded: a line
 * is at most SERIAL_LINE_MAX bytes, a packet at most max_packet bytes; anything else is dropped and
 * counted, and the deframer finds the next frame. */
typedef struct SerialDeframer {
	SerialFraming framing;
	size_t max_packet;
	uint8_t *buf;          /* console: decoded stream; raw: packet; cobs: encoded frame */
	size_t len, cap;
	size_t want;           /* console: declared length (packet + CRC); 0 = no frame in progress */
	char *line;            /* console: the line being read */
	size_t line_len;
	bool line_overlong;    /* console: the line passed SERIAL_LINE_MAX; skip to its newline */
	bool skipping;         /* cobs: an oversized frame; skip to the next 0x00 */
	uint64_t drops[SERIAL_DROP_REASONS];
	uint64_t frames;
} SerialDeframer;

/* 0 or -ENOMEM / -EINVAL (max_packet 0 or over SERIAL_PACKET_MAX). */
int serial_deframer_init(SerialDeframer *d, SerialFraming f, size_t max_packet);
void serial_deframer_done(SerialDeframer *d);
/* Feeds received bytes; emit is called once per complete, checked packet, in order. */
void serial_deframer_feed(SerialDeframer *d, const uint8_t *data, size_t len, SerialFrameFn emit, void *userdata);
/* A frame has begun and not ended. */
bool serial_deframer_partial(const SerialDeframer *d);
/* Forgets a partial frame (counted as truncated): the input went idle mid-frame. */
void serial_deframer_flush(SerialDeframer *d);
