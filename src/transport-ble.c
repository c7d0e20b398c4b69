/* SPDX-License-Identifier: MIT */
/*
 * ble:AA:BB:CC:DD:EE:FF | ble:name=NAME — SMP over the device's SMP GATT characteristic through BlueZ's
 * D-Bus API (BLUEZ.md; REFERENCE.md §6). Everything runs asynchronously on the caller's sd-event loop,
 * one step after the other:
 *
 *   FINDING     matches first, then GetManagedObjects: the adapter, and the device if BlueZ knows it
 *   SCANNING    else an LE discovery (filtered on the transport only, ISSUE-NOTES 18) until it shows up
 *   CONNECTING  Device1.Connect with a long timeout; le-connection-* failures are retried (bounded)
 *   RESOLVING   wait for ServicesResolved, find the SMP characteristic by UUID under the device
 *   NOTIFYING   AcquireNotify, else StartNotify; "not paired" leads to PAIRING (our own Agent1), and a
 *               bond the device forgot to REMOVING (Adapter1.RemoveDevice) and a fresh scan and pairing
 *   WRITING     AcquireWrite, else WriteValue(type=command)
 *   OPEN        frames go out in writes of at most min(MTU-3, 512) bytes; answers are reassembled from
 *               notifications by the SMP header's length
 *
 * A lost link (socket hang-up, Connected=false, the device object removed) is reported once through
 * events.lost; open() again finds and connects the device anew.
 *
 * This file holds the operation table and what it calls; the steps live in ble-find.c (FINDING,
 * SCANNING), ble-connect.c (CONNECTING, RESOLVING, and Disconnect), ble-pair.c (PAIRING, REMOVING),
 * ble-gatt-io.c (NOTIFYING, WRITING, and the open link's I/O) and ble-link.c (BlueZ's signals, and
 * ending an open or a link). They share BleState (ble-transport-internal.h). Every transport of the
 * process talks to BlueZ over one connection, with one discovery session per adapter and one agent
 * (ble-bus.c, ble-agent.c): BlueZ keys those by sender.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ble-transport-internal.h"
#include "log.h"
#include "util.h"

static int on_deadline(sd_event_source *src, uint64_t usec, void *userdata)
{
	Transport *t = userdata;

	(void)src, (void)usec;
	ble_fail(t, -ETIMEDOUT, NULL);
	return 0;
}

static int ble_init(Transport *t, const char *rest, char *err, size_t err_size)
{
	BleState *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	if (ble_address_parse(rest, &s->want) < 0) {
		snprintf(err, err_size, "invalid Bluetooth address 'ble:%s': use ble:AA:BB:CC:DD:EE:FF or ble:name=NAME",
			 rest);
		free(s);
		return -EINVAL;
	}
	if (t->options.passkey && ble_passkey_parse(t->options.passkey, &s->agent_options.passkey) < 0) {
		snprintf(err, err_size, "invalid passkey '%s': use the 6 digits the device shows", t->options.passkey);
		free(s);
		return -EINVAL;
	}
	s->agent_options.has_passkey = t->options.passkey != NULL;
	s->agent_options.make_default = t->options.default_agent;
	s->agent_options.ask_passkey = t->options.ask_passkey;
	s->agent_options.confirm_number = t->options.confirm_number;
	s->agent_options.notice = t->options.notice;
	s->notify_fd = s->write_fd = s->connect_lock_fd = -1;
	s->mtu = BLE_ATT_MTU_MIN;
	t->state = s;
	return 0;
}

static int ble_open_start(Transport *t)
{
	BleState *s = t->state;
	uint64_t budget = t->options.open_timeout_usec;
	int r;

	/* One connection for every transport of the process (ble-bus.c): BlueZ sees one client. Matches and
	 * calls are this transport's own slots on it. */
	r = ble_bus_ref(t->event, &s->shared);
	if (r < 0) {
		snprintf(s->error, sizeof(s->error), "cannot reach the system bus: %s", strerror(-r));
		return r;
	}
	s->bus = ble_bus_get(s->shared);
	r = ble_add_matches(t);
	if (r < 0)
		return r;
	if (ble_agent_new(s->shared, &s->agent_options, &s->agent) < 0)
		log_debug("ble: no pairing agent (Just Works only)");
	if (budget) {
		/* A little before the caller's own deadline, so that the message says where it stuck. */
		budget = budget > 2 * USEC_PER_SEC ? budget - USEC_PER_SEC / 5 : budget;
		s->deadline_usec = now_usec() + budget;
		r = sd_event_add_time_relative(t->event, &s->deadline, CLOCK_MONOTONIC, budget, 0, on_deadline, t);
		if (r < 0)
			return r;
	}
	s->step = BLE_FINDING;
	return ble_get_objects(t);
}

static int ble_open(Transport *t)
{
	BleState *s = t->state;
	int r;

	ble_close(t);
	s->adapter[0] = s->device[0] = s->chr[0] = '\0';
	s->error[0] = s->last_connect_error[0] = '\0';
	s->dev_connected = s->dev_paired = s->paired_before = s->was_connected = false;
	s->bond_removed = s->start_notify = s->notify_started = s->write_value = s->notify_restarted = false;
	s->we_paired = s->pair_first = s->blip = false;
	s->connect_tries = s->resolve_tries = s->scans = s->blip_failures = 0;
	s->deadline_usec = 0;
	s->mtu = BLE_ATT_MTU_MIN;
	r = ble_open_start(t);
	if (r < 0) {
		if (!s->error[0])
			snprintf(s->error, sizeof(s->error), "cannot talk to BlueZ: %s", strerror(-r));
		ble_close(t);
	}
	return r;
}

/* Everything of the link but the bus connection: nothing of this transport runs after it. Says goodbye
 * to BlueZ only for what we started: on a connection that stays, BlueZ would keep a notify session and
 * re-arm it on the next link (gatt-client.c btd_gatt_client_ready() -> register_notify()). */
void ble_quiesce(Transport *t)
{
	BleState *s = t->state;

	if (!s)
		return;
	if (s->step != BLE_OPEN && s->step != BLE_IDLE && !s->error[0])
		ble_describe_step(t); /* how far opening got, before the state goes */
	if (s->bus && s->chr[0] && (s->notify_started || s->start_notify))
		sd_bus_call_method_async(s->bus, NULL, BLUEZ_SERVICE, s->chr, BLUEZ_CHAR, "StopNotify", NULL, NULL, NULL);
	if (s->shared)
		ble_discovery_leave(s->shared, &s->scan);
	if (s->bus && s->we_connected && s->device[0])
		sd_bus_call_method_async(s->bus, NULL, BLUEZ_SERVICE, s->device, BLUEZ_DEVICE, "Disconnect", NULL, NULL,
					 NULL);
	s->call = sd_bus_slot_unref(s->call);
	s->match_added = sd_bus_slot_unref(s->match_added);
	s->match_removed = sd_bus_slot_unref(s->match_removed);
	s->match_props = sd_bus_slot_unref(s->match_props);
	s->retry = sd_event_source_disable_unref(s->retry);
	s->deadline = sd_event_source_disable_unref(s->deadline);
	s->scan_timer = sd_event_source_disable_unref(s->scan_timer);
	ble_connect_lock_release(s);
	s->lost_later = sd_event_source_disable_unref(s->lost_later);
	ble_forget_link(s);
	ble_agent_free(TAKE_PTR(s->agent));
	free(TAKE_PTR(s->txq));
	s->txq_len = s->rx.len = 0;
	s->writes_pending = 0;
	s->we_connected = s->notify_started = false;
	s->step = BLE_IDLE;
}

void ble_close(Transport *t)
{
	BleState *s = t->state;

	if (!s)
		return;
	ble_quiesce(t);
	ble_bus_unref(TAKE_PTR(s->shared));
	s->bus = NULL;
}

static void ble_close_op(Transport *t)
{
	ble_disconnect_and_wait(t);
	ble_close(t);
}

static void ble_free(Transport *t)
{
	ble_disconnect_and_wait(t);
	ble_close(t);
	free(t->state);
	t->state = NULL;
}

static size_t ble_fragment_size(Transport *t)
{
	return ble_write_size(((BleState *)t->state)->mtu);
}

static int ble_send(Transport *t, const uint8_t *frame, size_t len)
{
	BleState *s = t->state;
	size_t frag = ble_fragment_size(t);

	if (s->step != BLE_OPEN)
		return -ENOTCONN;
	if (len == 0)
		return -EINVAL; /* a zero-length write stops bluetoothd reading the socket (BLUEZ.md §4) */
	/* One frame's pieces only, never the tail of one with the head of the next (REFERENCE.md §6). */
	for (size_t off = 0; off < len; off += frag) {
		int r = ble_write_one(t, frame + off, MIN(frag, len - off), off == 0);

		if (r < 0)
			return r;
	}
	return 0;
}

static size_t ble_max_frame(Transport *t)
{
	BleState *s = t->state;

	return s->reassembly ? s->reassembly : ble_fragment_size(t);
}

static void ble_set_reassembly(Transport *t, size_t buf_size)
{
	((BleState *)t->state)->reassembly = buf_size;
}

static const char *ble_error_text(Transport *t)
{
	BleState *s = t->state;

	if (!s->error[0] && s->step != BLE_OPEN)
		ble_describe_step(t);
	return s->error[0] ? s->error : NULL;
}

const TransportOps transport_ble_ops = {
	.scheme = "ble",
	.usage = "ble:AA:BB:CC:DD:EE:FF | ble:name=NAME",
	.init = ble_init,
	.open = ble_open,
	.send = ble_send,
	.close = ble_close_op,
	.free = ble_free,
	.max_frame = ble_max_frame,
	.fragment_size = ble_fragment_size,
	.set_reassembly = ble_set_reassembly,
	.error_text = ble_error_text,
};
