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
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/socket.h>

#include "ble-bluez.h"
#include "ble.h"
#include "log.h"
#include "smp.h"
#include "transport.h"
#include "util.h"

#define USEC_PER_SEC 1000000ull
#define USEC_PER_MSEC 1000ull
#define _fallthrough_ __attribute__((fallthrough))
#define BLE_CONNECT_TIMEOUT_USEC (35 * USEC_PER_SEC) /* kernel LE connect gives up after 20 s, + discovery */
#define BLE_NOTIFY_TIMEOUT_USEC (3 * USEC_PER_SEC)   /* 5.66 may never answer AcquireNotify (BLUEZ.md §4) */
#define BLE_PAIR_TIMEOUT_USEC (60 * USEC_PER_SEC)
#define BLE_RETRY_USEC (1 * USEC_PER_SEC)
#define BLE_CONNECT_TRIES 6
#define BLE_LOCK_POLL_USEC (100 * USEC_PER_MSEC)
#define BLE_DISCONNECT_WAIT_USEC (4 * USEC_PER_SEC) /* DISCONNECT_TIMER (2 s) and a margin */
#define BLE_BACKOFF_FIRST_USEC (250 * USEC_PER_MSEC)
#define BLE_BACKOFF_MAX_USEC (2 * USEC_PER_SEC)
#define BLE_BOND_LOST_BLIPS 3 /* link up then dropped before ATT, on a paired device: the key is refused */
#define BLE_SCANS 3
#define BLE_TXQ_MAX (256u * 1024)
#define BLE_WRITES_IN_FLIGHT 32u /* a bus allows 128 pending replies per connection */

typedef enum BleStep {
	BLE_IDLE,
	BLE_FINDING,
	BLE_SCANNING,
	BLE_CONNECTING,
	BLE_CONNECT_WAIT,
	BLE_RESOLVING,
	BLE_NOTIFYING,
	BLE_PAIRING,
	BLE_REMOVING,
	BLE_WRITING,
	BLE_OPEN,
} BleStep;

typedef struct BleState {
	BleAddress want;
	BleAgentOptions agent_options;
	sd_bus *bus;
	sd_bus_slot *match_added, *match_removed, *match_props, *call;
	sd_event_source *retry, *deadline, *lost_later;
	uint64_t deadline_usec;
	BleAgent *agent;
	BleStep step;
	char adapter[64], device[128], chr[192];
	bool dev_connected, dev_paired;   /* as BlueZ last said */
	bool paired_before;               /* a bond from an earlier session, not from this open */
	bool was_connected, we_connected; /* Disconnect only a link we made */
	bool scanning, bond_removed;
	bool we_paired;          /* our Pair() succeeded in this open */
	bool pair_first;         /* the device needs pairing: Pair() before the notification setup */
	bool blip;               /* Connected=true seen during this Connect */
	unsigned blip_failures;  /* consecutive Connect failures after such a blip */
	int notify_fd, write_fd;
	sd_event_source *notify_io, *write_io;
	uint16_t mtu;
	bool start_notify, notify_started, write_value;
	size_t reassembly;
	BleRx rx;
	uint8_t *txq;           /* writes waiting for POLLOUT or a WriteValue slot: [u16 length][bytes]… */
	size_t txq_len;
	unsigned writes_pending;
	unsigned connect_tries, resolve_tries, scans;
	uint64_t scan_started_usec;
	sd_event_source *scan_timer;  /* --scan-timeout */
	BleScanResult seen[8];        /* other devices heard while scanning, for the not-found message */
	size_t n_seen;
	int connect_lock_fd;          /* held from Connect until its answer: one LE connect per adapter */
	bool lock_waited;
	char last_connect_error[160];
	char error[512];
} BleState;

static void ble_close(Transport *t);
static int ble_connect(Transport *t);
static void ble_connect_lock_release(BleState *s);
static int ble_scan_for_device(Transport *t);
static int ble_notify_start(Transport *t);
static int ble_pair(Transport *t);

static const char *ble_who(const BleState *s)
{
	return s->want.by_name ? s->want.name : s->want.address;
}

static void ble_notice(Transport *t, const char *line)
{
	log_debug("ble: %s", line);
	if (t->options.notice)
		t->options.notice(line);
}

/* "… not found after 30 s of scanning: is it advertising and in range? Seen: NAME (ADDR, -60 dBm), …" */
static void ble_describe_not_found(const BleState *s, char *e, size_t n)
{
	int len = snprintf(e, n, "%s%s not found after %.0f s of scanning: is it advertising and in range? %s",
			   s->want.by_name ? "a device named " : "device ", ble_who(s),
			   (double)(now_usec() - s->scan_started_usec) / 1e6,
			   s->n_seen ? "Seen:" : "No other device was heard either.");

	for (size_t i = 0; i < s->n_seen && len > 0 && (size_t)len < n; i++) {
		const BleScanResult *d = &s->seen[i];
		char rssi[16] = "";

		if (d->has_rssi)
			snprintf(rssi, sizeof(rssi), ", %d dBm", d->rssi);
		len += snprintf(e + len, n - (size_t)len, "%s %s (%s%s)", i ? "," : "", d->name[0] ? d->name : "(no name)",
				d->address, rssi);
	}
}

/* What the step we are stuck in means, for a deadline or a close while opening. */
static void ble_describe_step(Transport *t)
{
	BleState *s = t->state;
	const char *problem = ble_agent_problem(s->agent);
	char *e = s->error;
	size_t n = sizeof(s->error);

	switch (s->step) {
	case BLE_FINDING: snprintf(e, n, "BlueZ did not list its objects in time"); break;
	case BLE_SCANNING:
		ble_describe_not_found(s, e, n);
		break;
	case BLE_CONNECTING:
	case BLE_CONNECT_WAIT:
		snprintf(e, n, "could not connect to %s%s%s (is it advertising, and in range?)", ble_who(s),
			 s->last_connect_error[0] ? ": " : "", s->last_connect_error);
		break;
	case BLE_RESOLVING: snprintf(e, n, "%s connected but its services were not resolved in time", ble_who(s)); break;
	case BLE_NOTIFYING: snprintf(e, n, "BlueZ did not set up notifications from %s in time", ble_who(s)); break;
	case BLE_PAIRING:
		snprintf(e, n, "%s", problem ? problem : "pairing did not finish in time (is a passkey shown on the device?)");
		break;
	case BLE_REMOVING: snprintf(e, n, "removing the stale bond with %s did not finish", ble_who(s)); break;
	case BLE_WRITING: snprintf(e, n, "BlueZ did not hand over the write socket of %s in time", ble_who(s)); break;
	default: break;
	}
}

static void ble_deliver(Transport *t, const uint8_t *data, size_t n);

/* Notifications still in the socket when the link goes down were sent before it went: Zephyr answers a
 * reset, then drops the link 250 ms later (REFERENCE.md §11), and bluetoothd closes our end after
 * writing what it had. The hang-up, Connected=false or the write socket's hang-up may reach the loop
 * first: hand those frames up before the loss. Returns false when a frame's handler closed the link. */
static bool ble_drain_notifications(Transport *t)
{
	BleState *s = t->state;
	uint8_t buf[BLE_WRITE_MAX + 8];
	ssize_t n;

	if (s->step != BLE_OPEN || s->notify_fd < 0)
		return true;
	while ((n = recv(s->notify_fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		ble_deliver(t, buf, (size_t)n);
		if (s->step != BLE_OPEN)
			return false;
	}
	return true;
}

/* Ends an open in progress (events.opened) or an open link (events.lost), once. fmt NULL keeps the
 * error text already set. */
static void ble_fail(Transport *t, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void ble_fail(Transport *t, int err, const char *fmt, ...)
{
	BleState *s = t->state;
	bool opening = s->step != BLE_OPEN;
	va_list ap;

	if (s->step == BLE_IDLE || !ble_drain_notifications(t))
		return;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(s->error, sizeof(s->error), fmt, ap);
		va_end(ap);
	}
	if (!s->error[0])
		ble_describe_step(t);
	log_debug("ble: %s", s->error);
	ble_close(t);
	if (opening)
		t->events.opened(t->userdata, err);
	else
		t->events.lost(t->userdata, err);
}

static void ble_fail_call(Transport *t, sd_bus_message *reply, const char *what)
{
	BleState *s = t->state;
	int err = ble_bus_error_explain(sd_bus_message_get_error(reply), what, s->error, sizeof(s->error));

	ble_fail(t, err, NULL);
}

static const sd_bus_error *ble_reply_error(sd_bus_message *reply)
{
	return sd_bus_message_is_method_error(reply, NULL) ? sd_bus_message_get_error(reply) : NULL;
}

/* Time left of the open budget for one long call, at least a second. */
static uint64_t ble_budget(const BleState *s, uint64_t most)
{
	uint64_t now = now_usec();

	if (!s->deadline_usec)
		return most;
	return s->deadline_usec > now + USEC_PER_SEC ? MIN(most, s->deadline_usec - now) : USEC_PER_SEC;
}

static int ble_call_step(Transport *t, const char *path, const char *iface, const char *member, uint64_t usec,
			 sd_bus_message_handler_t callback)
{
	BleState *s = t->state;

	return ble_call(s->bus, &s->call, path, iface, member, usec, callback, t, NULL);
}

/* ------------------------------------------------------------------------------------------------ */
/* Finding the adapter, the device and the characteristic                                            */

static bool ble_device_wanted(const BleState *s, const BleProps *p)
{
	if (s->want.by_name)
		return (p->has & BLE_PROP_NAME) && !strcmp(p->name, s->want.name);
	return (p->has & BLE_PROP_ADDRESS) && !strcasecmp(p->address, s->want.address);
}

static int ble_visit_device(void *userdata, const char *path, const char *iface, const BleProps *p)
{
	BleState *s = ((Transport *)userdata)->state;

	if (strcmp(iface, BLUEZ_DEVICE) || s->device[0] || !ble_path_under(path, s->adapter) ||
	    !ble_device_wanted(s, p))
		return 0;
	snprintf(s->device, sizeof(s->device), "%s", path);
	s->dev_connected = (p->has & BLE_PROP_CONNECTED) && p->connected;
	s->dev_paired = (p->has & BLE_PROP_PAIRED) && p->paired;
	s->paired_before = s->dev_paired;
	return 0;
}

static int ble_visit_char(void *userdata, const char *path, const char *iface, const BleProps *p)
{
	BleState *s = ((Transport *)userdata)->state;

	if (!strcmp(iface, BLUEZ_CHAR) && !s->chr[0] && ble_path_under(path, s->device) &&
	    (p->has & BLE_PROP_UUID) && !strcasecmp(p->uuid, BLE_SMP_CHAR_UUID))
		snprintf(s->chr, sizeof(s->chr), "%s", path);
	return 0;
}

/* GetManagedObjects, read in passes since BlueZ lists objects in no particular order. */
static int ble_read_objects(Transport *t, sd_bus_message *m)
{
	BleState *s = t->state;
	int r = 0;

	if (!s->adapter[0]) {
		BleAdapterPick pick = { .want = t->options.adapter };

		r = ble_objects_read(m, ble_adapter_pick_visit, &pick);
		if (r < 0)
			return r;
		if (!pick.path[0]) {
			ble_adapter_pick_explain(&pick, s->error, sizeof(s->error));
			return -ENODEV;
		}
		snprintf(s->adapter, sizeof(s->adapter), "%s", pick.path);
	}
	if (!s->device[0]) {
		sd_bus_message_rewind(m, true);
		r = ble_objects_read(m, ble_visit_device, t);
	}
	if (r >= 0 && s->device[0]) {
		sd_bus_message_rewind(m, true);
		r = ble_objects_read(m, ble_visit_char, t);
	}
	return r;
}

static int on_retry_objects(sd_event_source *src, uint64_t usec, void *userdata);

/* bluez#1489: "resolved" while the objects are not (yet) there: look once more, a second later. */
static int ble_char_found(Transport *t)
{
	BleState *s = t->state;

	if (s->chr[0])
		return s->pair_first && !s->we_paired ? ble_pair(t) : ble_notify_start(t);
	if (s->resolve_tries++ < 1) {
		s->retry = sd_event_source_disable_unref(s->retry);
		return sd_event_add_time_relative(t->event, &s->retry, CLOCK_MONOTONIC, BLE_RETRY_USEC, 0,
						  on_retry_objects, t);
	}
	ble_fail(t, -ENOENT, "%s has no SMP characteristic (%s): is its SMP server enabled "
			     "(CONFIG_MCUMGR_TRANSPORT_BT)?", ble_who(s), BLE_SMP_CHAR_UUID);
	return 0;
}

static int on_objects(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;
	int r;

	(void)e;
	if (ble_reply_error(m)) {
		ble_fail_call(t, m, "GetManagedObjects");
		return 0;
	}
	r = ble_read_objects(t, m);
	if (r < 0) {
		ble_fail(t, r, r == -ENODEV ? NULL : "BlueZ's object list could not be read: %s", strerror(-r));
		return 0;
	}
	if (s->step == BLE_RESOLVING)
		return ble_char_found(t);
	return s->device[0] ? ble_connect(t) : ble_scan_for_device(t);
}

static int ble_get_objects(Transport *t)
{
	return ble_call_step(t, "/", DBUS_OBJECT_MANAGER, "GetManagedObjects", 0, on_objects);
}

static int on_retry_objects(sd_event_source *src, uint64_t usec, void *userdata)
{
	Transport *t = userdata;
	BleState *s = t->state;

	(void)src, (void)usec;
	s->retry = sd_event_source_disable_unref(s->retry);
	return ble_get_objects(t);
}

/* ------------------------------------------------------------------------------------------------ */
/* Scanning                                                                                          */

static int on_discovery_started(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	const sd_bus_error *err = ble_reply_error(m);

	(void)e;
	/* InProgress: this connection's session already runs (BLUEZ.md §2); fine. */
	if (err && ble_error_kind(err->name, err->message) != BLE_ERROR_IN_PROGRESS)
		ble_fail_call(t, m, "StartDiscovery");
	return 0;
}

static int on_filter_set(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;

	(void)e;
	if (ble_reply_error(m)) {
		ble_fail_call(t, m, "SetDiscoveryFilter");
		return 0;
	}
	s->scanning = true;
	return ble_call_step(t, s->adapter, BLUEZ_ADAPTER, "StartDiscovery", 0, on_discovery_started);
}

static int on_scan_timeout(sd_event_source *src, uint64_t usec, void *userdata)
{
	Transport *t = userdata;
	BleState *s = t->state;

	(void)src, (void)usec;
	s->scan_timer = sd_event_source_disable_unref(s->scan_timer);
	if (s->step != BLE_SCANNING)
		return 0;
	ble_describe_not_found(s, s->error, sizeof(s->error));
	ble_fail(t, -ENODEV, NULL);
	return 0;
}

/* Not among the known objects: scan, filtered on LE only (ISSUE-NOTES 18: advertisements often omit
 * the 128-bit UUID, so connecting never filters on it). */
static int ble_scan_for_device(Transport *t)
{
	BleState *s = t->state;

	if (s->scans++ >= BLE_SCANS) {
		ble_fail(t, -ENODEV, "%s keeps disappearing from BlueZ", ble_who(s));
		return 0;
	}
	s->step = BLE_SCANNING;
	s->scan_started_usec = now_usec();
	s->n_seen = 0;
	log_debug("ble: %s not known to BlueZ, scanning", ble_who(s));
	if (t->options.scan_timeout_usec) {
		s->scan_timer = sd_event_source_disable_unref(s->scan_timer);
		if (sd_event_add_time_relative(t->event, &s->scan_timer, CLOCK_MONOTONIC, t->options.scan_timeout_usec, 0,
					       on_scan_timeout, t) < 0)
			return -ENOMEM;
	}
	if (t->options.status) {
		char line[160];

		snprintf(line, sizeof(line), "scanning for %s%s (up to %.0f s)…", s->want.by_name ? "a device named " : "",
			 ble_who(s),
			 (double)(t->options.scan_timeout_usec ? t->options.scan_timeout_usec
							       : t->options.open_timeout_usec) / 1e6);
		t->options.status(line);
	}
	return ble_call(s->bus, &s->call, s->adapter, BLUEZ_ADAPTER, "SetDiscoveryFilter", 0, on_filter_set, t,
			"a{sv}", 1, "Transport", "s", "le");
}

/* Remembers a device heard while scanning (latest name and RSSI), for the not-found message. */
static void ble_note_seen(BleState *s, const char *path, const BleProps *p)
{
	BleScanResult *d = NULL;
	char address[18];

	if (!ble_path_under(path, s->adapter) || ble_address_from_path(path, address) < 0)
		return;
	for (size_t i = 0; i < s->n_seen && !d; i++)
		if (!strcmp(s->seen[i].address, address))
			d = &s->seen[i];
	if (!d) {
		if (s->n_seen == ARRAY_SIZE(s->seen))
			return;
		d = &s->seen[s->n_seen++];
		*d = (BleScanResult){ 0 };
		snprintf(d->address, sizeof(d->address), "%s", address);
	}
	if (p->has & BLE_PROP_NAME)
		snprintf(d->name, sizeof(d->name), "%s", p->name);
	if (p->has & BLE_PROP_RSSI) {
		d->rssi = p->rssi;
		d->has_rssi = true;
	}
}

static int ble_visit_added(void *userdata, const char *path, const char *iface, const BleProps *p)
{
	BleState *s = ((Transport *)userdata)->state;

	if (!strcmp(iface, BLUEZ_DEVICE))
		ble_note_seen(s, path, p);
	return ble_visit_device(userdata, path, iface, p);
}

static int on_interfaces_added(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;

	(void)e;
	if (s->step != BLE_SCANNING)
		return 0;
	if (ble_interfaces_added_read(m, ble_visit_added, t) >= 0 && s->device[0])
		ble_connect(t);
	return 0;
}

/* A device BlueZ already knew (but which did not match yet) shows up again while scanning. */
static void ble_scan_changed(Transport *t, const char *path, const BleProps *p)
{
	BleState *s = t->state;
	char expected[128];

	if (!ble_path_under(path, s->adapter))
		return;
	ble_note_seen(s, path, p);
	if (!s->want.by_name) {
		ble_device_path(s->adapter, s->want.address, expected, sizeof(expected));
		if (strcmp(path, expected))
			return;
	} else if (!ble_device_wanted(s, p)) {
		return;
	}
	snprintf(s->device, sizeof(s->device), "%s", path);
	ble_connect(t);
}

/* ------------------------------------------------------------------------------------------------ */
/* Connecting, bounded retries                                                                       */

static int on_retry_connect(sd_event_source *src, uint64_t usec, void *userdata)
{
	Transport *t = userdata;
	BleState *s = t->state;

	(void)src, (void)usec;
	s->retry = sd_event_source_disable_unref(s->retry);
	return ble_connect(t);
}

static int ble_remove_bond(Transport *t);

/* Radio trouble is worth another Connect, after a pause that doubles from BLE_BACKOFF_FIRST_USEC up to
 * BLE_BACKOFF_MAX_USEC (a controller busy with another connection, a device still rebooting), within the
 * open budget and BLE_CONNECT_TRIES. */
static int ble_retry_connect_later(Transport *t, const char *why)
{
	BleState *s = t->state;
	uint64_t pause = BLE_BACKOFF_FIRST_USEC << MIN(s->connect_tries ? s->connect_tries - 1 : 0, 4u);

	pause = MIN(pause, BLE_BACKOFF_MAX_USEC);
	log_debug("ble: connecting to %s failed (%s): try %u of %u in %llu ms", ble_who(s), why,
		  s->connect_tries + 1, BLE_CONNECT_TRIES, (unsigned long long)(pause / 1000));
	s->step = BLE_CONNECT_WAIT;
	s->retry = sd_event_source_disable_unref(s->retry);
	return sd_event_add_time_relative(t->event, &s->retry, CLOCK_MONOTONIC, pause, 0, on_retry_connect, t);
}

/* Connect failed: radio trouble is retried after Connected=false (or a second), as bleak does
 * (BLUEZ.md §3, §9); a vanished device object is searched again. */
static int ble_connect_failed(Transport *t, sd_bus_message *m)
{
	BleState *s = t->state;
	const sd_bus_error *err = sd_bus_message_get_error(m);

	snprintf(s->last_connect_error, sizeof(s->last_connect_error), "%s", err->message ? err->message : err->name);
	log_debug("ble: Connect failed: %s (%s), try %u", err->message ? err->message : "", err->name, s->connect_tries);
	switch (ble_error_kind(err->name, err->message)) {
	case BLE_ERROR_IN_PROGRESS:
		/* Someone's Connect is under way, often our own from a run that was interrupted while it waited
		 * for a device to come back (BlueZ does not cancel it when its caller leaves): wait for that
		 * attempt, however many seconds it takes, within the open budget. Connected=true ends the wait. */
		s->connect_tries--;
		s->step = BLE_CONNECT_WAIT;
		if (t->options.status)
			t->options.status("waiting for a connection attempt already under way…");
		return sd_event_add_time_relative(t->event, &s->retry, CLOCK_MONOTONIC, BLE_RETRY_USEC, 0,
						  on_retry_connect, t);
	case BLE_ERROR_OTHER:
		if (strcmp(err->name, "org.bluez.Error.Failed"))
			break;
		_fallthrough_;
	case BLE_ERROR_LINK:
		/* A paired device that drops every link right after it came up refuses our key: it forgot
		 * the bond (a settings erase, ISSUE-NOTES 20). */
		s->blip_failures = s->blip ? s->blip_failures + 1 : 0;
		if (s->dev_paired && s->blip_failures >= BLE_BOND_LOST_BLIPS)
			return ble_remove_bond(t);
		if (s->connect_tries >= BLE_CONNECT_TRIES)
			break;
		return ble_retry_connect_later(t, s->last_connect_error);
	case BLE_ERROR_GONE:
		s->device[0] = '\0';
		return ble_scan_for_device(t);
	case BLE_ERROR_NEEDS_PAIRING:
	case BLE_ERROR_PAIRING_FAILED:
		if (s->dev_paired && !s->bond_removed)
			return ble_remove_bond(t);
		break;
	default:
		break;
	}
	if (s->connect_tries >= BLE_CONNECT_TRIES)
		ble_fail(t, -EHOSTDOWN, "could not connect to %s: %s (%u tries)", ble_who(s), s->last_connect_error,
			 s->connect_tries);
	else
		ble_fail_call(t, m, "connecting");
	return 0;
}

static int on_resolved_get(sd_bus_message *m, void *userdata, sd_bus_error *e);

static int on_connected(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;

	(void)e;
	ble_connect_lock_release(s);
	if (ble_reply_error(m))
		return ble_connect_failed(t, m);
	s->we_connected = !s->was_connected;
	s->step = BLE_RESOLVING;
	s->resolve_tries = 0;
	/* Connect replies before the services are resolved (BLUEZ.md §3): ask, and watch the signal. */
	return ble_call(s->bus, &s->call, s->device, DBUS_PROPERTIES, "Get", 0, on_resolved_get, t, "ss", BLUEZ_DEVICE,
			"ServicesResolved");
}

/*
 * The controller makes one LE connection at a time and the kernel refuses a second attempt (EBUSY,
 * which bluetoothd reports as le-connection-abort-by-local): smpctl processes on one adapter take turns
 * through a lock file per adapter (and per bus, so that test stand-ins on private buses stay apart),
 * held from Connect until its answer. flock(2) ends with the process, however it ends.
 */
static int ble_connect_lock_take(Transport *t)
{
	BleState *s = t->state;
	const char *bus = getenv("DBUS_SYSTEM_BUS_ADDRESS");
	const char *adapter = strrchr(s->adapter, '/');
	char dir[256], path[384];
	int fd;

	if (s->connect_lock_fd >= 0)
		return 1;
	if (runtime_dir(dir, sizeof(dir)) < 0)
		return 1; /* no place for the lock: go without, BlueZ's own refusal is retried anyway */
	snprintf(path, sizeof(path), "%s/le-connect-%s-%08x.lock", dir, adapter ? adapter + 1 : "hci",
		 bus ? fnv1a32(bus) : 0u);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return 1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		if (!s->lock_waited)
			log_debug("ble: another connection attempt on %s is under way: waiting for its turn", s->adapter);
		s->lock_waited = true;
		return 0;
	}
	s->connect_lock_fd = fd;
	return 1;
}

static void ble_connect_lock_release(BleState *s)
{
	if (s->connect_lock_fd >= 0)
		close(TAKE_FD(s->connect_lock_fd));
}

static int ble_connect(Transport *t)
{
	BleState *s = t->state;

	s->retry = sd_event_source_disable_unref(s->retry);
	if (!ble_connect_lock_take(t)) {
		s->step = BLE_CONNECT_WAIT;
		return sd_event_add_time_relative(t->event, &s->retry, CLOCK_MONOTONIC, BLE_LOCK_POLL_USEC, 0,
						  on_retry_connect, t);
	}
	s->scan_timer = sd_event_source_disable_unref(s->scan_timer);
	if (s->scanning) {
		s->scanning = false;
		sd_bus_call_method_async(s->bus, NULL, BLUEZ_SERVICE, s->adapter, BLUEZ_ADAPTER, "StopDiscovery", NULL,
					 NULL, NULL);
	}
	if (s->agent)
		ble_agent_set_device(s->agent, s->device);
	s->step = BLE_CONNECTING;
	s->connect_tries++;
	s->blip = false;
	s->was_connected = s->dev_connected;
	log_debug("ble: connecting to %s", s->device);
	return ble_call_step(t, s->device, BLUEZ_DEVICE, "Connect", ble_budget(s, BLE_CONNECT_TIMEOUT_USEC),
			     on_connected);
}

/* ------------------------------------------------------------------------------------------------ */
/* Services resolved, notifications, pairing                                                         */

static int ble_resolved(Transport *t)
{
	BleState *s = t->state;

	s->chr[0] = '\0';
	return ble_get_objects(t);
}

static int on_resolved_get(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	int resolved = 0;

	(void)e;
	if (!ble_reply_error(m) && sd_bus_message_read(m, "v", "b", &resolved) >= 0 && resolved)
		return ble_resolved(t);
	return 0; /* not yet: PropertiesChanged(ServicesResolved) will say */
}

/* The received fd belongs to the message: keep a duplicate (sd_bus_message_read_basic(3)). */
static int ble_take_fd(sd_bus_message *m, int *fd, uint16_t *mtu)
{
	int borrowed;
	int r = sd_bus_message_read(m, "hq", &borrowed, mtu);

	if (r < 0)
		return r;
	*fd = fcntl(borrowed, F_DUPFD_CLOEXEC, 3);
	return *fd < 0 ? -errno : 0;
}

static int ble_write_start(Transport *t);
static int on_notify_readable(sd_event_source *src, int fd, uint32_t revents, void *userdata);

static int on_start_notify(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;
	const sd_bus_error *err = ble_reply_error(m);

	(void)e;
	if (err && ble_error_kind(err->name, err->message) == BLE_ERROR_NEEDS_PAIRING)
		return ble_pair(t);
	if (err) {
		ble_fail_call(t, m, "StartNotify");
		return 0;
	}
	s->notify_started = true;
	return ble_write_start(t);
}

static int ble_start_notify(Transport *t)
{
	BleState *s = t->state;

	s->start_notify = true;
	return ble_call_step(t, s->chr, BLUEZ_CHAR, "StartNotify", 0, on_start_notify);
}

static int on_stuck_released(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	(void)m, (void)e;
	return ble_start_notify(userdata); /* "No notify session started" is fine too */
}

static int on_acquire_notify(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;
	const sd_bus_error *err = ble_reply_error(m);
	uint16_t mtu = 0;

	(void)e;
	if (err && ble_error_kind(err->name, err->message) == BLE_ERROR_NEEDS_PAIRING)
		return ble_pair(t);
	if (err || ble_take_fd(m, &s->notify_fd, &mtu) < 0) {
		/* NotSupported, NotPermitted, or 5.66 never answering after a failed CCC write: notifications
		 * as PropertiesChanged. 5.66 keeps the failed acquisition's lock ("Notify acquired") until
		 * StopNotify, so release it first (BLUEZ.md §4). */
		log_debug("ble: AcquireNotify failed (%s); using StartNotify", err ? err->name : "no fd");
		s->start_notify = true;
		return ble_call_step(t, s->chr, BLUEZ_CHAR, "StopNotify", 0, on_stuck_released);
	}
	s->mtu = MAX(mtu, (uint16_t)BLE_ATT_MTU_MIN);
	if (sd_event_add_io(t->event, &s->notify_io, s->notify_fd, EPOLLIN, on_notify_readable, t) < 0) {
		ble_fail(t, -ENOMEM, "cannot watch the notification socket");
		return 0;
	}
	return ble_write_start(t);
}

static int ble_notify_start(Transport *t)
{
	BleState *s = t->state;

	s->step = BLE_NOTIFYING;
	if (s->start_notify)
		return ble_start_notify(t);
	return ble_call(s->bus, &s->call, s->chr, BLUEZ_CHAR, "AcquireNotify", BLE_NOTIFY_TIMEOUT_USEC,
			on_acquire_notify, t, "a{sv}", 0);
}

static int on_paired(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;
	const sd_bus_error *err = ble_reply_error(m);
	const char *problem = ble_agent_problem(s->agent);

	(void)e;
	if (!err || ble_error_kind(err->name, err->message) == BLE_ERROR_ALREADY_PAIRED) {
		log_debug("ble: %s with %s", err ? "already paired" : "paired", s->device);
		s->dev_paired = true;
		s->we_paired = !err;
		return ble_notify_start(t);
	}
	if (problem)
		ble_fail(t, -EACCES, "pairing with %s failed: %s", ble_who(s), problem);
	else if (ble_error_kind(err->name, err->message) == BLE_ERROR_PAIRING_FAILED)
		ble_fail(t, -EACCES, "pairing with %s failed (%s): check the passkey (--passkey NNNNNN, as the device "
				     "shows it)", ble_who(s), err->message ? err->message : err->name);
	else
		ble_fail_call(t, m, "pairing");
	return 0;
}

/* The characteristic needs an encrypted or authenticated link (Zephyr's
 * CONFIG_MCUMGR_TRANSPORT_BT_PERM_RW_ENCRYPT/_AUTHEN). Not paired: pair with our agent. Paired, but not
 * by us in this open: the bond is not good enough (a Just Works bond that bluetoothd's own security
 * elevation made, BLUEZ.md §3) or the device forgot it (ISSUE-NOTES 20); either way it is removed and
 * the device paired again with our agent, before the notification setup can elevate on its own. */
static int ble_pair(Transport *t)
{
	BleState *s = t->state;

	if (s->we_paired) {
		/* Paired, yet still refused. With no passkey or number exchanged, the pairing was Just Works:
		 * the device has no display or keyboard to authenticate with, and no flag of ours changes that. */
		if (!ble_agent_was_asked(s->agent))
			ble_fail(t, -EACCES, "%s requires an authenticated pairing but has no display or keyboard for a "
					     "passkey (Just Works only): build it with CONFIG_MCUMGR_TRANSPORT_BT_PERM_RW_ENCRYPT, "
					     "or give it passkey callbacks (bt_conn_auth_cb)", ble_who(s));
		else
			ble_fail(t, -EACCES, "%s still refuses the SMP characteristic after pairing with a passkey: "
					     "check the device's security settings", ble_who(s));
		return 0;
	}
	if (s->dev_paired)
		return ble_remove_bond(t);
	s->step = BLE_PAIRING;
	if (s->agent)
		ble_agent_set_device(s->agent, s->device);
	log_debug("ble: %s needs pairing: Device1.Pair()", s->device);
	return ble_call_step(t, s->device, BLUEZ_DEVICE, "Pair", ble_budget(s, BLE_PAIR_TIMEOUT_USEC), on_paired);
}

static int on_removed(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;
	char line[256];

	(void)e;
	if (ble_reply_error(m)) {
		ble_fail_call(t, m, "removing the refused bond (RemoveDevice)");
		return 0;
	}
	if (s->paired_before) {
		snprintf(line, sizeof(line), "%s refused the bond BlueZ held (did a settings erase make it forget?): "
			 "removed it, pairing again", ble_who(s));
		ble_notice(t, line);
	} else {
		log_debug("ble: the Just Works bond of BlueZ's own security elevation is not enough for %s: removed "
			  "it, pairing with our agent", ble_who(s));
	}
	s->device[0] = s->chr[0] = '\0';
	s->dev_connected = s->dev_paired = s->paired_before = s->we_connected = false;
	s->start_notify = s->notify_started = false;
	s->pair_first = true;
	s->connect_tries = s->blip_failures = 0;
	return ble_scan_for_device(t);
}

static int ble_remove_bond(Transport *t)
{
	BleState *s = t->state;

	if (s->bond_removed) {
		ble_fail(t, -EACCES, "%s refuses the link even after its bond was renewed", ble_who(s));
		return 0;
	}
	s->bond_removed = true;
	s->step = BLE_REMOVING;
	return ble_call(s->bus, &s->call, s->adapter, BLUEZ_ADAPTER, "RemoveDevice", 0, on_removed, t, "o", s->device);
}

/* ------------------------------------------------------------------------------------------------ */
/* The write side, and open                                                                          */

static int ble_opened(Transport *t)
{
	BleState *s = t->state;

	s->step = BLE_OPEN;
	s->deadline = sd_event_source_disable_unref(s->deadline);
	s->error[0] = '\0';
	log_debug("ble: open, ATT MTU %u, %s, %s", s->mtu, s->start_notify ? "StartNotify" : "AcquireNotify",
		  s->write_value ? "WriteValue" : "AcquireWrite");
	t->events.opened(t->userdata, 0);
	return 0;
}

static int on_mtu(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;
	uint16_t mtu = 0;

	(void)e;
	/* The property exists from 5.62 (BLUEZ.md §5); without it the MTU stays what we know. */
	if (!ble_reply_error(m) && sd_bus_message_read(m, "v", "q", &mtu) >= 0 && mtu >= BLE_ATT_MTU_MIN)
		s->mtu = mtu;
	return ble_opened(t);
}

static int on_write_ready(sd_event_source *src, int fd, uint32_t revents, void *userdata);

static int on_acquire_write(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;
	const sd_bus_error *err = ble_reply_error(m);
	uint16_t mtu = 0;

	(void)e;
	if (err || ble_take_fd(m, &s->write_fd, &mtu) < 0) {
		log_debug("ble: AcquireWrite failed (%s); writing with WriteValue(type=command)", err ? err->name : "no fd");
		s->write_value = true;
		return ble_call(s->bus, &s->call, s->chr, DBUS_PROPERTIES, "Get", 0, on_mtu, t, "ss", BLUEZ_CHAR, "MTU");
	}
	if (mtu >= BLE_ATT_MTU_MIN)
		s->mtu = mtu;
	/* No events asked: epoll still reports the hang-up (EPOLLHUP/EPOLLERR) of a lost link. */
	if (sd_event_add_io(t->event, &s->write_io, s->write_fd, 0, on_write_ready, t) < 0) {
		ble_fail(t, -ENOMEM, "cannot watch the write socket");
		return 0;
	}
	return ble_opened(t);
}

static int ble_write_start(Transport *t)
{
	BleState *s = t->state;

	s->step = BLE_WRITING;
	return ble_call(s->bus, &s->call, s->chr, BLUEZ_CHAR, "AcquireWrite", 0, on_acquire_write, t, "a{sv}", 0);
}

/* ------------------------------------------------------------------------------------------------ */
/* Signals while opening and while open                                                              */

/* Forgets what a link that is gone had set up (acquired sockets, queued writes), keeping the bus, the
 * matches and the device: the next Connect starts from there. */
static void ble_forget_link(BleState *s)
{
	s->notify_io = sd_event_source_disable_unref(s->notify_io);
	s->write_io = sd_event_source_disable_unref(s->write_io);
	if (s->notify_fd >= 0)
		close(TAKE_FD(s->notify_fd));
	if (s->write_fd >= 0)
		close(TAKE_FD(s->write_fd));
	s->call = sd_bus_slot_unref(s->call);
	s->txq_len = s->rx.len = 0;
	s->writes_pending = 0;
	s->start_notify = s->write_value = false;
	s->dev_connected = false;
}

static void ble_link_down(Transport *t, const char *why)
{
	BleState *s = t->state;

	switch (s->step) {
	case BLE_CONNECT_WAIT:
		/* The blip of a failed connect is over: try again now (bleak PR #1255), unless a pause is
		 * already set (the backoff, a lock or an attempt in progress to wait for). */
		if (!s->retry)
			ble_connect(t);
		return;
	case BLE_RESOLVING:
	case BLE_NOTIFYING:
	case BLE_WRITING:
		/* Connect succeeded on a link that then went: one that another client's Disconnect was
		 * already taking down (its 2 s timer, BLUEZ.md §3), or lost before the services resolved.
		 * Transient: connect again. */
		if (s->connect_tries < BLE_CONNECT_TRIES) {
			snprintf(s->last_connect_error, sizeof(s->last_connect_error), "%s", why);
			ble_forget_link(s);
			ble_retry_connect_later(t, "the link went down before it was ready");
			return;
		}
		ble_fail(t, -ECONNRESET, "%s %s", ble_who(s), why);
		return;
	case BLE_OPEN:
		ble_fail(t, -ECONNRESET, "%s %s", ble_who(s), why);
		return;
	default:
		return; /* CONNECTING, PAIRING, REMOVING: their replies decide */
	}
}

static void ble_device_changed(Transport *t, const BleProps *p)
{
	BleState *s = t->state;

	if (p->has & BLE_PROP_PAIRED)
		s->dev_paired = p->paired;
	if (p->has & BLE_PROP_CONNECTED)
		s->dev_connected = p->connected;
	if ((p->has & BLE_PROP_CONNECTED) && p->connected && s->step == BLE_CONNECTING)
		s->blip = true;
	if ((p->has & BLE_PROP_CONNECTED) && p->connected && s->step == BLE_CONNECT_WAIT) {
		ble_connect(t); /* the attempt we waited for made the link: Connect now returns at once */
		return;
	}
	if ((p->has & BLE_PROP_RESOLVED) && p->resolved && s->step == BLE_RESOLVING)
		ble_resolved(t);
	else if ((p->has & BLE_PROP_CONNECTED) && !p->connected)
		ble_link_down(t, "disconnected");
}

static void ble_deliver(Transport *t, const uint8_t *data, size_t n)
{
	BleState *s = t->state;
	bool dropped;
	int r = ble_rx_notification(&s->rx, data, n, &dropped);

	if (dropped)
		log_debug("ble: a notification of %zu bytes that neither starts nor continues a frame: dropped", n);
	if (r > 0)
		t->events.frame(t->userdata, s->rx.buf, (size_t)r);
}

/* Device: Connected / ServicesResolved / Paired; characteristic: Value (notifications under
 * StartNotify, one signal each, BLUEZ.md §1). */
static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;
	const char *path = sd_bus_message_get_path(m), *iface;
	BleProps p;

	(void)e;
	if (!path || sd_bus_message_read(m, "s", &iface) < 0 || ble_props_read(m, &p) < 0)
		return 0;
	if (!strcmp(iface, BLUEZ_CHAR)) {
		if (s->step == BLE_OPEN && s->start_notify && !strcmp(path, s->chr) && (p.has & BLE_PROP_VALUE))
			ble_deliver(t, p.value, p.value_len);
	} else if (!strcmp(iface, BLUEZ_DEVICE)) {
		if (s->step == BLE_SCANNING)
			ble_scan_changed(t, path, &p);
		else if (s->device[0] && !strcmp(path, s->device))
			ble_device_changed(t, &p);
	}
	return 0;
}

static int on_interfaces_removed(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;

	(void)e;
	if (s->step < BLE_CONNECTING || s->step == BLE_REMOVING || !s->device[0])
		return 0;
	if (ble_interfaces_removed_has(m, s->device, BLUEZ_DEVICE))
		ble_fail(t, -ECONNRESET, "%s was removed from BlueZ", ble_who(s));
	return 0;
}

static int on_notify_readable(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	Transport *t = userdata;
	BleState *s = t->state;
	uint8_t buf[BLE_WRITE_MAX + 8];

	(void)src;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0) {
			ble_deliver(t, buf, (size_t)n);
			if (s->step != BLE_OPEN)
				return 0; /* closed from the frame callback */
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR) && !(revents & (EPOLLHUP | EPOLLERR)))
			return 0;
		/* bluetoothd closed its end: the link is gone (BLUEZ.md §4). */
		ble_link_down(t, "was lost");
		return 0;
	}
}

static int on_deadline(sd_event_source *src, uint64_t usec, void *userdata)
{
	Transport *t = userdata;

	(void)src, (void)usec;
	ble_fail(t, -ETIMEDOUT, NULL);
	return 0;
}

static int on_lost_later(sd_event_source *src, void *userdata)
{
	Transport *t = userdata;

	(void)src;
	ble_fail(t, -ECONNRESET, "the link to %s was lost", ble_who(t->state));
	return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* Sending                                                                                           */

static int ble_write_value(Transport *t, const uint8_t *p, size_t n);

static size_t ble_queue_head(const BleState *s)
{
	return (size_t)s->txq[0] << 8 | s->txq[1];
}

static void ble_queue_pop(BleState *s, size_t bytes)
{
	memmove(s->txq, s->txq + bytes, s->txq_len - bytes);
	s->txq_len -= bytes;
}

/* Each WriteValue is answered once bluetoothd queued it (BLUEZ.md §6); a bounded number stay
 * outstanding, and the next queued write goes out on each answer. */
static int on_write_value(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;

	(void)e;
	if (ble_reply_error(m))
		log_debug("ble: WriteValue failed: %s", sd_bus_message_get_error(m)->message);
	if (s->writes_pending)
		s->writes_pending--;
	while (s->step == BLE_OPEN && s->txq_len && s->writes_pending < BLE_WRITES_IN_FLIGHT) {
		uint8_t piece[BLE_WRITE_MAX];
		size_t n = MIN(ble_queue_head(s), sizeof(piece));

		memcpy(piece, s->txq + 2, n);
		ble_queue_pop(s, 2 + ble_queue_head(s));
		if (ble_write_value(t, piece, n) < 0)
			break;
	}
	return 0;
}

static int ble_queue(BleState *s, const uint8_t *p, size_t n)
{
	uint8_t *q;

	if (s->txq_len + 2 + n > BLE_TXQ_MAX)
		return -ENOBUFS;
	q = realloc(s->txq, s->txq_len + 2 + n);
	if (!q)
		return -ENOMEM;
	s->txq = q;
	q[s->txq_len] = (uint8_t)(n >> 8);
	q[s->txq_len + 1] = (uint8_t)n;
	memcpy(q + s->txq_len + 2, p, n);
	s->txq_len += 2 + n;
	return 0;
}

static int ble_flush_queue(Transport *t)
{
	BleState *s = t->state;

	while (s->txq_len) {
		if (send(s->write_fd, s->txq + 2, ble_queue_head(s), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			ble_fail(t, -ECONNRESET, "the link to %s was lost", ble_who(s));
			return -ECONNRESET;
		}
		ble_queue_pop(s, 2 + ble_queue_head(s));
	}
	return sd_event_source_set_io_events(s->write_io, s->txq_len ? EPOLLOUT : 0);
}

static int on_write_ready(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	Transport *t = userdata;

	(void)src, (void)fd;
	if (revents & (EPOLLHUP | EPOLLERR)) {
		ble_link_down(t, "was lost");
		return 0;
	}
	ble_flush_queue(t);
	return 0;
}

static int ble_write_value(Transport *t, const uint8_t *p, size_t n)
{
	BleState *s = t->state;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_call(s->bus, &m, BLUEZ_SERVICE, s->chr, BLUEZ_CHAR, "WriteValue");

	if (r >= 0)
		r = sd_bus_message_append_array(m, 'y', p, n);
	if (r >= 0)
		r = sd_bus_message_append(m, "a{sv}", 1, "type", "s", "command");
	if (r >= 0)
		r = sd_bus_call_async(s->bus, NULL, m, on_write_value, t, 0);
	if (r >= 0)
		s->writes_pending++;
	return r;
}

/* A broken socket is reported through events.lost from the loop, not from inside send(). */
static int ble_lost_soon(Transport *t)
{
	BleState *s = t->state;

	if (!s->lost_later)
		sd_event_add_defer(t->event, &s->lost_later, on_lost_later, t);
	return -ECONNRESET;
}

static int ble_write_one(Transport *t, const uint8_t *p, size_t n)
{
	BleState *s = t->state;
	int r;

	if (s->write_value)
		return s->writes_pending < BLE_WRITES_IN_FLIGHT && !s->txq_len ? ble_write_value(t, p, n)
										 : ble_queue(s, p, n);
	if (s->txq_len == 0) {
		if (send(s->write_fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
			return 0;
		if (errno != EAGAIN && errno != EINTR)
			return ble_lost_soon(t); /* EPIPE, ECONNRESET: bluetoothd closed its end */
	}
	/* EAGAIN only means bluetoothd is behind (BLUEZ.md §6): the rest waits for POLLOUT. */
	r = ble_queue(s, p, n);
	return r < 0 ? r : sd_event_source_set_io_events(s->write_io, EPOLLOUT);
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
		int r = ble_write_one(t, frame + off, MIN(frag, len - off));

		if (r < 0)
			return r;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* The operation table                                                                               */

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

/* Matches before GetManagedObjects, so nothing falls between the two (BLUEZ.md §7). */
static int ble_add_matches(Transport *t)
{
	BleState *s = t->state;
	int r;

	r = sd_bus_match_signal_async(s->bus, &s->match_added, BLUEZ_SERVICE, "/", DBUS_OBJECT_MANAGER,
				      "InterfacesAdded", on_interfaces_added, NULL, t);
	if (r >= 0)
		r = sd_bus_match_signal_async(s->bus, &s->match_removed, BLUEZ_SERVICE, "/", DBUS_OBJECT_MANAGER,
					      "InterfacesRemoved", on_interfaces_removed, NULL, t);
	if (r >= 0)
		r = ble_match_properties_changed(s->bus, &s->match_props, on_properties_changed, t);
	return r;
}

static int ble_open_start(Transport *t)
{
	BleState *s = t->state;
	uint64_t budget = t->options.open_timeout_usec;
	int r;

	/* A new bus connection per link: BlueZ re-arms notify sessions of a connection that stays. */
	r = ble_bus_open(t->event, &s->bus);
	if (r < 0) {
		snprintf(s->error, sizeof(s->error), "cannot reach the system bus: %s", strerror(-r));
		return r;
	}
	r = ble_add_matches(t);
	if (r < 0)
		return r;
	if (ble_agent_new(s->bus, &s->agent_options, &s->agent) < 0)
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
	s->bond_removed = s->start_notify = s->notify_started = s->write_value = false;
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

/* Releases everything; says goodbye to BlueZ only for what we started. */
static void ble_close(Transport *t)
{
	BleState *s = t->state;

	if (!s)
		return;
	if (s->step != BLE_OPEN && s->step != BLE_IDLE && !s->error[0])
		ble_describe_step(t); /* how far opening got, before the state goes */
	if (s->bus && s->notify_started)
		sd_bus_call_method_async(s->bus, NULL, BLUEZ_SERVICE, s->chr, BLUEZ_CHAR, "StopNotify", NULL, NULL, NULL);
	if (s->bus && s->scanning)
		sd_bus_call_method_async(s->bus, NULL, BLUEZ_SERVICE, s->adapter, BLUEZ_ADAPTER, "StopDiscovery", NULL,
					 NULL, NULL);
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
	s->scanning = s->we_connected = s->notify_started = false;
	s->step = BLE_IDLE;
	s->bus = sd_bus_flush_close_unref(s->bus);
}

/* BlueZ answers Disconnect once its 2 s DISCONNECT_TIMER has dropped the link (BLUEZ.md §3). A program
 * that leaves before that hands the next one a link that is still up, then goes down under it: wait for
 * the answer (bounded), so that back-to-back runs each find the device idle. Outside any callback. */
static void ble_disconnect_and_wait(Transport *t)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	sd_bus_error error = SD_BUS_ERROR_NULL;
	BleState *s = t->state;
	int r;

	if (!s->bus || !s->we_connected || !s->dev_connected || !s->device[0])
		return;
	r = sd_bus_message_new_method_call(s->bus, &m, BLUEZ_SERVICE, s->device, BLUEZ_DEVICE, "Disconnect");
	if (r >= 0)
		r = sd_bus_call(s->bus, m, BLE_DISCONNECT_WAIT_USEC, &error, NULL);
	if (r < 0)
		log_debug("ble: Disconnect: %s", error.message ? error.message : strerror(-r));
	else
		log_debug("ble: disconnected from %s", ble_who(s));
	sd_bus_error_free(&error);
	s->we_connected = false; /* done: ble_close need not ask again */
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
