/* SPDX-License-Identifier: MIT */
/*
 * The ble: transport's link as BlueZ reports it (BLUEZ.md §1, §3, §7): the signals that move an open or
 * end a link (PropertiesChanged, InterfacesAdded/Removed), a link that goes down, and ending an open or
 * an open link once, with a message that says where it stuck. The small helpers every step uses live
 * here too.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ble-transport-internal.h"
#include "log.h"
#include "util.h"

const char *ble_who(const BleState *s)
{
	return s->want.by_name ? s->want.name : s->want.address;
}

void ble_notice(Transport *t, const char *line)
{
	log_debug("ble: %s", line);
	if (t->options.notice)
		t->options.notice(line);
}

/* What the step we are stuck in means, for a deadline or a close while opening. */
void ble_describe_step(Transport *t)
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

/* Ends an open in progress (events.opened) or an open link (events.lost), once. fmt NULL keeps the
 * error text already set. */
void ble_fail(Transport *t, int err, const char *fmt, ...)
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

void ble_fail_call(Transport *t, sd_bus_message *reply, const char *what)
{
	BleState *s = t->state;
	int err = ble_bus_error_explain(sd_bus_message_get_error(reply), what, s->error, sizeof(s->error));

	ble_fail(t, err, NULL);
}

const sd_bus_error *ble_reply_error(sd_bus_message *reply)
{
	return sd_bus_message_is_method_error(reply, NULL) ? sd_bus_message_get_error(reply) : NULL;
}

/* Time left of the open budget for one long call, at least a second. */
uint64_t ble_budget(const BleState *s, uint64_t most)
{
	uint64_t now = now_usec();

	if (!s->deadline_usec)
		return most;
	return s->deadline_usec > now + USEC_PER_SEC ? MIN(most, s->deadline_usec - now) : USEC_PER_SEC;
}

int ble_call_step(Transport *t, const char *path, const char *iface, const char *member, uint64_t usec,
			 sd_bus_message_handler_t callback)
{
	BleState *s = t->state;

	return ble_call(s->bus, &s->call, path, iface, member, usec, callback, t, NULL);
}

/* ------------------------------------------------------------------------------------------------ */
/* Signals while opening and while open                                                              */

void ble_link_down(Transport *t, const char *why)
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

/* Matches before GetManagedObjects, so nothing falls between the two (BLUEZ.md §7). */
int ble_add_matches(Transport *t)
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
