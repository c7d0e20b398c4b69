/* SPDX-License-Identifier: MIT */
/*
 * The ble: transport's FINDING and SCANNING steps: the adapter and the device among BlueZ's objects
 * (GetManagedObjects, BLUEZ.md §1, §7), else an LE discovery until the device shows up, bounded by
 * --scan-timeout, remembering the other devices heard for the not-found message.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ble-transport-internal.h"
#include "log.h"
#include "util.h"

#define BLE_SCANS 3

/* ------------------------------------------------------------------------------------------------ */
/* Finding the adapter and the device                                                                */

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

/* GetManagedObjects, read in passes since BlueZ lists objects in no particular order. */
static int ble_read_objects(Transport *t, sd_bus_message *m)
{
	BleState *s = t->state;
	int r = 0;

	if (!s->adapter[0]) {
		/* "ble:hci1/…" names the adapter itself; else --adapter, else the first powered one */
		BleAdapterPick pick = { .want = s->want.adapter[0] ? s->want.adapter : t->options.adapter };

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

int ble_get_objects(Transport *t)
{
	return ble_call_step(t, "/", DBUS_OBJECT_MANAGER, "GetManagedObjects", 0, on_objects);
}

/* ------------------------------------------------------------------------------------------------ */
/* Scanning                                                                                          */

/* BlueZ refused the adapter's discovery session (ble-bus.c), which this transport had joined. */
static void on_discovery_failed(BleDiscoveryUser *u, sd_bus_message *reply, const char *what)
{
	Transport *t = u->userdata;

	if (reply)
		ble_fail_call(t, reply, what);
	else
		ble_fail(t, -EIO, "%s could not be sent to BlueZ", what);
}

/* "… not found after 30 s of scanning: is it advertising and in range? Seen: NAME (ADDR, -60 dBm), …" */
void ble_describe_not_found(const BleState *s, char *e, size_t n)
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

/* Not among the known objects: scan, through the adapter's one discovery session that every transport
 * of the process shares (ble-bus.c), filtered on LE only (ISSUE-NOTES 18: advertisements often omit the
 * 128-bit UUID, so connecting never filters on it). */
int ble_scan_for_device(Transport *t)
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
	s->scan.failed = on_discovery_failed;
	s->scan.userdata = t;
	return ble_discovery_join(s->shared, &s->scan, s->adapter);
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

int ble_visit_added(void *userdata, const char *path, const char *iface, const BleProps *p)
{
	BleState *s = ((Transport *)userdata)->state;

	if (!strcmp(iface, BLUEZ_DEVICE))
		ble_note_seen(s, path, p);
	return ble_visit_device(userdata, path, iface, p);
}

/* A device BlueZ already knew (but which did not match yet) shows up again while scanning. */
void ble_scan_changed(Transport *t, const char *path, const BleProps *p)
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
