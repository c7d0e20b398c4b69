/* SPDX-License-Identifier: MIT */
/*
 * The SMP request/response engine over one transport on one sd-event loop.
 *
 * Every request gets a sequence number and a deadline; responses are matched on (seq, group, id) and
 * op + 1 (REFERENCE.md §1), anything else is dropped as stale. Several requests may be in flight (the
 * upload window). Requests go out as SMP v2; when a device answers a v2 request with a v1 header it is a
 * legacy server and later requests use v1 (smp_protocol.rst, "version" field).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cbor.h>
#include <systemd/sd-event.h>

#include "smp.h"
#include "smp-error.h"
#include "transport.h"

typedef struct SmpClient SmpClient;

typedef struct SmpRequest {
	uint8_t op;    /* SMP_OP_READ or SMP_OP_WRITE */
	uint16_t group;
	uint8_t id;
	const uint8_t *body;
	size_t body_len;
} SmpRequest;

typedef struct SmpResponse {
	SmpHeader header;
	cbor_item_t *body; /* owned; released by smp_response_clear */
	SmpStatus status;
	uint64_t oversized_entries; /* -E2BIG: the entries the body's first array declares (0: unknown) */
} SmpResponse;

void smp_response_clear(SmpResponse *rsp);

/* err: 0 (rsp valid, borrowed for the call), -ETIMEDOUT, -ECONNRESET (link lost), -EBADMSG (the
 * answer was malformed), -E2BIG (well-formed but over SMP_CBOR_MAX_ITEMS or _DEPTH: rsp holds only
 * oversized_entries), -ECANCELED (client closing). */
typedef void (*SmpResponseFn)(void *userdata, int err, SmpResponse *rsp);

/* Link events reach the owner too (after the client has failed its pending requests). */
typedef struct SmpClientEvents {
	void (*lost)(void *userdata, int err);
} SmpClientEvents;

/* Creates the transport for address and a client on it. err gets one line on failure. */
int smp_client_new(sd_event *event, const char *address, const TransportOptions *options,
		   SmpClient **out, char *err, size_t err_size);
void smp_client_free(SmpClient *c);
void smp_client_freep(SmpClient **c);
void smp_client_set_events(SmpClient *c, const SmpClientEvents *events, void *userdata);

Transport *smp_client_transport(SmpClient *c);
sd_event *smp_client_event(SmpClient *c);
bool smp_client_is_open(const SmpClient *c);
uint8_t smp_client_version(const SmpClient *c);
void smp_client_force_version(SmpClient *c, uint8_t version);

/* Opens the transport, running the loop until it is open, timeout_usec passed, or the cancel flag
 * turns true. Returns 0 or -errno (-ETIMEDOUT, -ECANCELED, the transport's error). */
int smp_client_open(SmpClient *c, uint64_t timeout_usec);
void smp_client_close(SmpClient *c);

/* Sends a request; cb runs exactly once. Returns 0, -EBUSY when 255 requests are in flight, -ENOTCONN,
 * or the transport's send error. *seq_out (may be NULL) gets the sequence number used. */
int smp_client_submit(SmpClient *c, const SmpRequest *req, uint64_t timeout_usec, SmpResponseFn cb,
		      void *userdata, uint8_t *seq_out);
/* A response that arrives after its request timed out (and before its sequence number is reused) is
 * handed here instead of being dropped: a late acknowledgement still carries what the device did. */
typedef void (*SmpLateFn)(void *userdata, uint8_t seq, SmpResponse *rsp);
void smp_client_set_late_handler(SmpClient *c, SmpLateFn fn, void *userdata);

/* Gives a pending request a new deadline, timeout_usec from now. Returns 0, or -ENOENT when seq is not
 * pending. */
int smp_client_rearm(SmpClient *c, uint8_t seq, uint64_t timeout_usec);
/* Forgets a pending request without calling its callback (its answer will be dropped as stale). */
void smp_client_abandon(SmpClient *c, uint8_t seq);
size_t smp_client_in_flight(const SmpClient *c);

/* Submits and runs the loop until the answer. rsp must be cleared by the caller on success.
 * Returns 0 (rsp filled; check rsp->status), or the negative error SmpResponseFn would get. */
int smp_client_call(SmpClient *c, const SmpRequest *req, uint64_t timeout_usec, SmpResponse *rsp);

/* Runs the loop until *done turns true, the cancel flag turns true (-ECANCELED) or the loop fails. */
int smp_client_run_until(SmpClient *c, const bool *done);

/* Set by the owner (e.g. on SIGINT) to stop smp_client_call / _open early. */
void smp_client_set_cancel_flag(SmpClient *c, const volatile bool *cancel);
