/* SPDX-License-Identifier: MIT */
/* Serial framing of SMP packets (console, raw, COBS): see serial-frame.h for the sources of each. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "serial-frame.h"
#include "util.h"

static const char *const framing_names[] = {
	[SERIAL_FRAMING_CONSOLE] = "console",
	[SERIAL_FRAMING_RAW] = "raw",
	[SERIAL_FRAMING_COBS] = "cobs",
};

int serial_framing_parse(const char *name, SerialFraming *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(framing_names); i++)
		if (strcmp(name, framing_names[i]) == 0) {
			*out = (SerialFraming)i;
			return 0;
		}
	return -EINVAL;
}

const char *serial_framing_name(SerialFraming f)
{
	return (size_t)f < ARRAY_SIZE(framing_names) ? framing_names[f] : "?";
}

uint16_t serial_crc16(uint16_t crc, const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		crc ^= (uint16_t)(data[i] << 8);
		for (int bit = 0; bit < 8; bit++)
			crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
	}
	return crc;
}

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t serial_base64_encode(const uint8_t *in, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t n = MIN(len - i, 3);

		if (n > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (n > 2)
			v |= in[i + 2];
		out[o++] = b64_alphabet[(v >> 18) & 63];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = n > 1 ? b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = n > 2 ? b64_alphabet[v & 63] : '=';
	}
	return o;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* One quad: 1 to 3 bytes into out, or -EINVAL. `last`: padding is allowed. */
static int b64_quad(const char *q, bool last, uint8_t out[3])
{
	int v[4], n = 3;

	for (int i = 0; i < 4; i++) {
		v[i] = b64_value(q[i]);
		if (v[i] >= 0)
			continue;
		/* '=' only as the last one or two characters of the last quad */
		if (!last || q[i] != '=' || i < 2 || (i == 2 && q[3] != '='))
			return -EINVAL;
		v[i] = 0;
		n = MIN(n, i - 1);
	}
	out[0] = (uint8_t)(v[0] << 2 | v[1] >> 4);
	out[1] = (uint8_t)((v[1] & 15) << 4 | v[2] >> 2);
	out[2] = (uint8_t)((v[2] & 3) << 6 | v[3]);
	return n;
}

int serial_base64_decode(const char *in, size_t len, uint8_t *out, size_t out_size)
{
	size_t o = 0;

	if (len % 4)
		return -EINVAL;
	for (size_t i = 0; i < len; i += 4) {
		uint8_t bytes[3];
		int n = b64_quad(in + i, i + 4 == len, bytes);

		if (n < 0)
			return n;
		if (out_size - o < (size_t)n)
			return -ENOBUFS;
		memcpy(out + o, bytes, (size_t)n);
		o += (size_t)n;
	}
	return (int)o;
}

size_t serial_cobs_encode(const uint8_t *in, size_t len, uint8_t *out)
{
	size_t code_at = 0, o = 1;
	uint8_t code = 1;

	for (size_t i = 0; i < len; i++) {
		if (in[i] != 0) {
			out[o++] = in[i];
			code++;
		}
		if (in[i] == 0 || code == 0xff) {
			out[code_at] = code;
			code = 1;
			code_at = o++;
			/* a full block at the very end needs no empty block after it */
			if (in[i] != 0 && i + 1 == len) {
				o--;
				return o;
			}
		}
	}
	out[code_at] = code;
	return o;
}

/* Works in place (out == in): the write position never passes the read position. */
int serial_cobs_decode(const uint8_t *in, size_t len, uint8_t *out, size_t out_size)
{
	size_t i = 0, o = 0;

	while (i < len) {
		uint8_t code = in[i++];

		if (code == 0 || code - 1u > len - i)
			return -EINVAL;
		for (uint8_t k = 1; k < code; k++) {
			if (in[i] == 0)
				return -EINVAL;
			if (o == out_size)
				return -ENOBUFS;
			out[o++] = in[i++];
		}
		if (code != 0xff && i < len) {
			if (o == out_size)
				return -ENOBUFS;
			out[o++] = 0;
		}
	}
	return (int)o;
}

/* Zephyr's per-line input: ((MCUMGR_SERIAL_MAX_FRAME - 3) >> 2) * 3 bytes before base64. */
static size_t console_line_input(size_t line_size)
{
	return ((line_size - 3) >> 2) * 3;
}

static bool console_line_ok(size_t line_size)
{
	return line_size >= SERIAL_LINE_MIN && line_size <= SERIAL_LINE_MAX;
}

size_t serial_frame_encoded_max(SerialFraming f, size_t len, size_t line_size)
{
	size_t per_line;

	switch (f) {
	case SERIAL_FRAMING_RAW:
		return len;
	case SERIAL_FRAMING_COBS:
		return len + 2 + (len + 2) / 254 + 2;
	case SERIAL_FRAMING_CONSOLE:
		if (!console_line_ok(line_size))
			return 0;
		/* every line but the last carries at least (input − 3) − 3 bytes, see console_encode */
		per_line = console_line_input(line_size) - 6;
		return ((len + 4) / per_line + 2) * line_size;
	}
	return 0;
}

typedef struct Out {
	uint8_t *p;
	size_t len, size;
	bool full;
} Out;

static void out_put(Out *o, const void *data, size_t len)
{
	if (o->size - o->len < len) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->len, data, len);
	o->len += len;
}

static void out_b64(Out *o, const uint8_t *raw, size_t len)
{
	char quad[4];

	out_put(o, quad, serial_base64_encode(raw, len, quad));
}

/* The remaining 0-2 packet bytes and the CRC, as in mcumgr_serial_tx_pkt()'s `if (last)` switch. */
static void console_tail(Out *o, const uint8_t *rest, size_t n, uint16_t crc)
{
	uint8_t raw[4];

	memcpy(raw, rest, n);
	raw[n] = (uint8_t)(crc >> 8);
	raw[n + 1] = (uint8_t)crc;
	out_b64(o, raw, MIN(n + 2, 3));
	if (n == 2)
		out_b64(o, raw + 3, 1);
}

/*
 * Zephyr 4.1 serial_util.c mcumgr_serial_tx_pkt(), quirks included: the first line spends a quad on
 * the length and the first packet byte, and max_input stays 3 bytes lower for every later line too (it
 * is decremented once and never restored); a line where the CRC would not fit whole holds back one
 * byte so that the CRC goes with it on the next line.
 */
static int console_encode(const uint8_t *pkt, size_t len, size_t line_size, Out *o)
{
	size_t max_input = console_line_input(line_size), off = 0;
	uint16_t crc = serial_crc16(0, pkt, len);
	bool first = true;

	while (off < len) {
		size_t before = off, to_process, remaining;
		bool last = false;

		out_put(o, first ? "\x06\x09" : "\x04\x14", 2);
		if (first) {
			uint8_t raw[3] = { (uint8_t)((len + 2) >> 8), (uint8_t)(len + 2), pkt[0] };

			out_b64(o, raw, 3);
			off = 1;
			max_input -= 3;
		}
		remaining = len - off;
		to_process = MIN(max_input, remaining);
		if (remaining == max_input || remaining + 1 == max_input)
			to_process--;
		else if (remaining + 2 <= max_input)
			last = true;
		for (; to_process >= 3; to_process -= 3, off += 3)
			out_b64(o, pkt + off, 3);
		if (last) {
			console_tail(o, pkt + off, len - off, crc);
			off = len;
		}
		out_put(o, "\n", 1);
		if (off == before && !first)
			return -EINVAL; /* no progress: line too short (cannot happen above SERIAL_LINE_MIN) */
		first = false;
	}
	return 0;
}

int serial_frame_encode(SerialFraming f, const uint8_t *packet, size_t len, size_t line_size, uint8_t *out,
			size_t out_size)
{
	Out o = { .p = out, .size = out_size };
	uint16_t crc;
	int r = 0;

	if (len == 0 || len > SERIAL_PACKET_MAX - 2)
		return -EINVAL;
	switch (f) {
	case SERIAL_FRAMING_CONSOLE:
		if (!console_line_ok(line_size))
			return -EINVAL;
		r = console_encode(packet, len, line_size, &o);
		break;
	case SERIAL_FRAMING_RAW:
		out_put(&o, packet, len);
		break;
	case SERIAL_FRAMING_COBS: {
		_cleanup_free_ uint8_t *tmp = malloc(len + 2);

		if (!tmp)
			return -ENOMEM;
		if (out_size < serial_frame_encoded_max(f, len, 0))
			return -ENOBUFS;
		crc = serial_crc16(0, packet, len);
		memcpy(tmp, packet, len);
		tmp[len] = (uint8_t)(crc >> 8);
		tmp[len + 1] = (uint8_t)crc;
		o.len = serial_cobs_encode(tmp, len + 2, out);
		out_put(&o, "", 1);
		break;
	}
	default:
		return -EINVAL;
	}
	if (r < 0)
		return r;
	return o.full ? -ENOBUFS : (int)o.len;
}

/* ---- reading ---- */

static size_t deframer_capacity(SerialFraming f, size_t max_packet)
{
	switch (f) {
	case SERIAL_FRAMING_CONSOLE:
		/* the stream after its length (packet + CRC), plus the length and one line's decode */
		return max_packet + 4 + SERIAL_LINE_MAX / 4 * 3;
	case SERIAL_FRAMING_RAW:
		return max_packet;
	case SERIAL_FRAMING_COBS:
		return max_packet + 2 + (max_packet + 2) / 254 + 1;
	}
	return 0;
}

int serial_deframer_init(SerialDeframer *d, SerialFraming f, size_t max_packet)
{
	if (max_packet == 0 || max_packet > SERIAL_PACKET_MAX - 2 || (unsigned)f > SERIAL_FRAMING_COBS)
		return -EINVAL;
	*d = (SerialDeframer){ .framing = f, .max_packet = max_packet, .cap = deframer_capacity(f, max_packet) };
	d->buf = malloc(d->cap);
	if (f == SERIAL_FRAMING_CONSOLE)
		d->line = malloc(SERIAL_LINE_MAX);
	if (!d->buf || (f == SERIAL_FRAMING_CONSOLE && !d->line)) {
		serial_deframer_done(d);
		return -ENOMEM;
	}
	return 0;
}

void serial_deframer_done(SerialDeframer *d)
{
	free(d->buf);
	free(d->line);
	d->buf = NULL;
	d->line = NULL;
}

static void drop(SerialDeframer *d, SerialDropReason why, uint64_t count)
{
	d->drops[why] += count;
}

static void console_reset(SerialDeframer *d)
{
	d->len = 0;
	d->want = 0;
}

/* A packet's stream is complete: check the CRC over packet and CRC (zero when they agree). */
static void console_finish(SerialDeframer *d, SerialFrameFn emit, void *userdata)
{
	size_t want = d->want;

	console_reset(d);
	if (serial_crc16(0, d->buf, want) != 0) {
		drop(d, SERIAL_DROP_CRC, 1);
		return;
	}
	d->frames++;
	emit(userdata, d->buf, want - 2);
}

/* The base64 of one line after its marker, as mcumgr_serial_process_frag() takes it. */
static void console_fragment(SerialDeframer *d, bool start, const char *b64, size_t n, SerialFrameFn emit,
			     void *userdata)
{
	int got;

	if (start) {
		if (d->want)
			drop(d, SERIAL_DROP_TRUNCATED, 1); /* a new packet before the last one ended */
		console_reset(d);
	} else if (!d->want) {
		drop(d, SERIAL_DROP_TRUNCATED, 1); /* a continuation whose first line was lost */
		return;
	}
	got = serial_base64_decode(b64, n, d->buf + d->len, d->cap - d->len);
	if (got < 0 || (start && got < 2)) {
		drop(d, SERIAL_DROP_MALFORMED, 1);
		console_reset(d);
		return;
	}
	if (start) {
		size_t declared = (size_t)d->buf[0] << 8 | d->buf[1];

		if (declared < 3 || declared - 2 > d->max_packet) {
			drop(d, declared < 3 ? SERIAL_DROP_MALFORMED : SERIAL_DROP_OVERSIZE, 1);
			return;
		}
		d->want = declared;
		memmove(d->buf, d->buf + 2, (size_t)got - 2);
		got -= 2;
	}
	d->len += (size_t)got;
	if (d->len > d->want) {
		drop(d, SERIAL_DROP_MALFORMED, 1); /* more data than the length said */
		console_reset(d);
	} else if (d->len == d->want) {
		console_finish(d, emit, userdata);
	}
}

/* One received line: anything before a marker is console noise (a log line, an echo); a line without
 * a marker is noise as a whole and leaves a packet in progress alone, as Zephyr does. */
static void console_line(SerialDeframer *d, SerialFrameFn emit, void *userdata)
{
	const char *l = d->line;
	size_t n = d->line_len;

	while (n && (l[n - 1] == '\n' || l[n - 1] == '\r'))
		n--;
	for (size_t i = 0; i + 1 < n; i++) {
		bool start = l[i] == SERIAL_MARK_PKT_1 && l[i + 1] == SERIAL_MARK_PKT_2;

		if (start || (l[i] == SERIAL_MARK_FRAG_1 && l[i + 1] == SERIAL_MARK_FRAG_2)) {
			drop(d, SERIAL_DROP_NOISE, i);
			console_fragment(d, start, l + i + 2, n - i - 2, emit, userdata);
			return;
		}
	}
	if (n)
		drop(d, SERIAL_DROP_NOISE, n);
}

static void console_feed(SerialDeframer *d, const uint8_t *data, size_t len, SerialFrameFn emit, void *userdata)
{
	for (size_t i = 0; i < len; i++) {
		if (d->line_overlong) {
			drop(d, SERIAL_DROP_NOISE, 1);
			d->line_overlong = data[i] != '\n';
			continue;
		}
		d->line[d->line_len++] = (char)data[i];
		if (data[i] == '\n') {
			console_line(d, emit, userdata);
			d->line_len = 0;
		} else if (d->line_len == SERIAL_LINE_MAX) {
			drop(d, SERIAL_DROP_NOISE, d->line_len);
			d->line_len = 0;
			d->line_overlong = true;
		}
	}
}

/* Zephyr raw mode's checks (serial_util.c, CONFIG_MCUMGR_TRANSPORT_SERIAL_HAS_RAW_BINARY_NON_SMP_OVER_CONSOLE):
 * op below MGMT_OP_COUNT and the whole packet within the buffer. Raw framing has no marker to find a
 * frame by, so we also want the reserved bits and the flags byte clear (every server sends 0 there): a
 * byte that cannot start a packet is noise and skipped, and the reader finds the next header. */
static void raw_scan(SerialDeframer *d, SerialFrameFn emit, void *userdata)
{
	size_t start = 0;

	while (d->len - start >= 8) {
		const uint8_t *h = d->buf + start;
		size_t total = 8 + ((size_t)h[2] << 8 | h[3]);

		bool header_ok = (h[0] & 0xe0) == 0 && (h[0] & 7) <= 3 && h[1] == 0;

		if (!header_ok || total > d->max_packet) {
			drop(d, header_ok ? SERIAL_DROP_OVERSIZE : SERIAL_DROP_NOISE, 1);
			start++;
			continue;
		}
		if (d->len - start < total)
			break;
		d->frames++;
		emit(userdata, h, total);
		start += total;
	}
	memmove(d->buf, d->buf + start, d->len - start);
	d->len -= start;
}

static void raw_feed(SerialDeframer *d, const uint8_t *data, size_t len, SerialFrameFn emit, void *userdata)
{
	while (len) {
		size_t n = MIN(len, d->cap - d->len);

		memcpy(d->buf + d->len, data, n);
		d->len += n;
		data += n;
		len -= n;
		raw_scan(d, emit, userdata);
	}
}

static void cobs_frame(SerialDeframer *d, SerialFrameFn emit, void *userdata)
{
	int n = serial_cobs_decode(d->buf, d->len, d->buf, d->cap);

	d->len = 0;
	if (n < 3) {
		drop(d, SERIAL_DROP_MALFORMED, 1);
		return;
	}
	if (serial_crc16(0, d->buf, (size_t)n) != 0) {
		drop(d, SERIAL_DROP_CRC, 1);
		return;
	}
	d->frames++;
	emit(userdata, d->buf, (size_t)n - 2);
}

static void cobs_feed(SerialDeframer *d, const uint8_t *data, size_t len, SerialFrameFn emit, void *userdata)
{
	for (size_t i = 0; i < len; i++) {
		if (data[i] == 0) {
			if (!d->skipping && d->len)
				cobs_frame(d, emit, userdata);
			d->skipping = false;
		} else if (d->skipping) {
			continue;
		} else if (d->len == d->cap) {
			drop(d, SERIAL_DROP_OVERSIZE, 1);
			d->len = 0;
			d->skipping = true;
		} else {
			d->buf[d->len++] = data[i];
		}
	}
}

void serial_deframer_feed(SerialDeframer *d, const uint8_t *data, size_t len, SerialFrameFn emit, void *userdata)
{
	switch (d->framing) {
	case SERIAL_FRAMING_CONSOLE:
		console_feed(d, data, len, emit, userdata);
		break;
	case SERIAL_FRAMING_RAW:
		raw_feed(d, data, len, emit, userdata);
		break;
	case SERIAL_FRAMING_COBS:
		cobs_feed(d, data, len, emit, userdata);
		break;
	}
}

bool serial_deframer_partial(const SerialDeframer *d)
{
	if (d->framing == SERIAL_FRAMING_CONSOLE)
		return d->want != 0;
	return d->len > 0 || d->skipping;
}

void serial_deframer_flush(SerialDeframer *d)
{
	if (serial_deframer_partial(d))
		drop(d, SERIAL_DROP_TRUNCATED, 1);
	d->len = 0;
	d->want = 0;
	d->skipping = false;
	d->line_len = 0;
	d->line_overlong = false;
}
