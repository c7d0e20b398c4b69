/* SPDX-License-Identifier: MIT */
/*
 * Transports: a small operation table chosen by the address prefix ("udp:", "ble:", "serial:"),
 * all driven by one sd-event loop. A transport moves whole SMP frames; it knows nothing of images or
 * of what the frames mean. Everything is asynchronous: open() starts, the `opened` event finishes it;
 * incoming frames and link loss arrive as events. Nothing blocks, nothing is global, so one process can
 * drive several devices on one loop.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

typedef struct Transport Transport;

typedef struct TransportEvents {
	/* open() finished: err 0, or a negative errno. */
	void (*opened)(void *userdata, int err);
	/* One complete SMP frame (header + body), reassembled by the transport where it must be. */
	void (*frame)(void *userdata, const uint8_t *frame, size_t len);
	/* The link is gone (err: -ECONNRESET, -EPIPE, -ENOTCONN, …); open() may be called again. */
	void (*lost)(void *userdata, int err);
} TransportEvents;

typedef struct TransportOptions {
	uint64_t open_timeout_usec; /* for transports that connect (BLE): scan + connect budget */
	/* BLE: how long to look for a device that BlueZ does not know yet (--scan-timeout); 0 = the whole
	 * open budget. On expiry the error lists the devices that were seen. */
	uint64_t scan_timeout_usec;
	const char *adapter;        /* BLE: "hci0"; NULL = first powered adapter */
	/* An operation table to use instead of the one the address prefix names: lets a program embed its
	 * own transport (the tests host the simulated device in-process this way). */
	const struct TransportOps *ops;
	bool verbose;
	/* BLE pairing (ISSUE-NOTES 19): the passkey the device shows ("123456"), NULL if none; make
	 * smpctl's agent BlueZ's default agent (--default-agent). */
	const char *passkey;
	bool default_agent;
	/* One line the user should see although nothing failed ("removed the stale bond with …, paired
	 * again"); NULL: such lines only go to log_debug. */
	void (*notice)(const char *line);
	/* What the transport is doing while the user waits ("scanning for …"), for a terminal's status
	 * line; NULL when nobody watches (no terminal, --json). */
	void (*status)(const char *line);
	/* Interactive pairing, NULL when nobody can answer (no terminal). Both block until the user answers:
	 * ask_passkey for the passkey the device displays (0 and *passkey, or -ECANCELED); confirm_number
	 * whether the device shows `number` (numeric comparison: 1 yes, 0 no). `who` names the device. */
	int (*ask_passkey)(const char *who, uint32_t *passkey);
	int (*confirm_number)(const char *who, uint32_t number);
} TransportOptions;

typedef struct TransportOps {
	const char *scheme;     /* "udp": matched against the text before the first ':' */
	const char *usage;      /* "udp:HOST[:PORT]" for error messages */
	/* Parses the address (after "scheme:") and sets up t->state. err gets one line on failure. */
	int (*init)(Transport *t, const char *rest, char *err, size_t err_size);
	int (*open)(Transport *t);
	/* Sends one whole frame. A transport with fragment_size > 0 splits a frame larger than that into
	 * consecutive writes of at most fragment_size bytes (the first holding the whole 8-byte header),
	 * never mixing two frames in one write; whether the device can reassemble is the caller's business
	 * (the session probes it, REFERENCE.md §6). */
	int (*send)(Transport *t, const uint8_t *frame, size_t len);
	void (*close)(Transport *t);
	void (*free)(Transport *t);
	/* Largest SMP frame this transport can carry now (before device buffer limits). BLE: MTU-3 until the
	 * device is known to reassemble, then the reassembly size. */
	size_t (*max_frame)(Transport *t);
	/* Size of one link write when the transport can split a frame over several writes (BLE: min(MTU-3,
	 * 512)); 0 for datagram transports that carry a frame whole (UDP). NULL = 0. */
	size_t (*fragment_size)(Transport *t);
	/* The device reassembles request frames up to buf_size bytes (REFERENCE.md §6; learned from MCUmgr
	 * params and the reassembly probe); 0 = it does not. NULL for transports that never fragment. */
	void (*set_reassembly)(Transport *t, size_t buf_size);
	/* Bytes of the device's SMP buffer (MCUmgr params buf_size) that the transport's framing takes
	 * besides the frame (serial console: its length and CRC, 4); NULL = 0. */
	size_t (*buffer_overhead)(Transport *t);
	/* Nothing is there to answer (UDP: an ICMP port unreachable came back), so asking again is
	 * pointless; NULL = the transport cannot tell. */
	bool (*peer_absent)(Transport *t);
	/* One line, for the user, on what last went wrong below the SMP layer ("nothing listens at …",
	 * "org.bluez is not on the system bus: is bluetoothd running?"), or NULL. */
	const char *(*error_text)(Transport *t);
} TransportOps;

struct Transport {
	const TransportOps *ops;
	sd_event *event;
	char *address;           /* as given, for messages */
	TransportOptions options;
	TransportEvents events;
	void *userdata;
	void *state;             /* the transport's own */
};

/* Picks the operation table by prefix and parses the address. Returns 0, -EPROTONOSUPPORT for an
 * unknown scheme, or -EINVAL; err gets one line for the user either way. */
int transport_new(sd_event *event, const char *address, const TransportOptions *options,
		  const TransportEvents *events, void *userdata, Transport **out, char *err, size_t err_size);
int transport_open(Transport *t);
int transport_send(Transport *t, const uint8_t *frame, size_t len);
void transport_close(Transport *t);
size_t transport_max_frame(Transport *t);
size_t transport_fragment_size(Transport *t);
size_t transport_buffer_overhead(Transport *t);
void transport_set_reassembly(Transport *t, size_t buf_size);
const char *transport_error_text(Transport *t);
bool transport_peer_absent(Transport *t);
void transport_free(Transport *t);
void transport_freep(Transport **t);

/* Known schemes, for --help and completion. */
const char *const *transport_schemes(void);

extern const TransportOps transport_udp_ops;
extern const TransportOps transport_ble_ops;
extern const TransportOps transport_serial_ops;
