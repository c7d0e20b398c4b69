/* SPDX-License-Identifier: MIT */
/*
 * A transport that hosts the simulated device in-process, for tests of the upload engine and the DFU
 * flow: requests go straight into sim_device_process(), answers come back from the event loop, and
 * faults are injected by request number. It is a TransportOps table like any other (transport.h's
 * `ops` option), so the code under test is exactly the shipped code.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "sim-device.h"

typedef struct SimLoopFaults {
	unsigned drop_request;      /* drop the Nth request (1-based) */
	unsigned drop_every;        /* drop every Nth request */
	unsigned lose_link_at;      /* the link drops when the Nth request is sent */
	unsigned reboot_at;         /* the device reboots before it handles the Nth request */
	unsigned corrupt_data_at;   /* flip a byte in the last byte of the Nth request (inside "data") */
	unsigned duplicate_every;   /* deliver every Nth answer twice */
	unsigned garble_answer_at;  /* replace the Nth answer's CBOR with garbage */
	unsigned refuse_opens;      /* this many open() attempts fail after a lost link */
	unsigned hold_max;          /* drop a request that finds this many unanswered (no free net_buf) */
	bool reverse_answers;       /* the answers that wait together come last first */
	/* called with the request's number before the device handles it (another client's turn) */
	void (*before_request)(unsigned n, void *userdata);
	void *before_request_userdata;
} SimLoopFaults;

typedef struct SimLoopStats {
	unsigned requests;
	unsigned answers;
	size_t largest_frame;
	size_t max_outstanding;
	unsigned dropped_busy;      /* requests dropped by hold_max */
	size_t max_outstanding_after_drop; /* the same, among requests sent after the last dropped one */
	unsigned opens;
} SimLoopStats;

/* The device behind the loop; created by sim_loop_device(). */
SimDevice *sim_loop_sim(void);
SimLoopFaults *sim_loop_faults(void);
const SimLoopStats *sim_loop_stats(void);

/* Creates a fresh simulated device (cfg NULL = defaults) and a connected Device session on it. */
int sim_loop_device(sd_event *event, const SimConfig *cfg, Device **out);

/* A valid MCUboot image of payload_size bytes (SHA-256 hash TLV only), version major.minor.0. */
size_t sim_loop_make_image(uint8_t *buf, size_t buf_size, size_t payload_size, uint8_t major, uint8_t minor,
			   uint8_t seed);
