/* SPDX-License-Identifier: MIT */
/* 'smpctl scan': an LE discovery filtered on the SMP service UUID (ISSUE-NOTES 18), then the devices
 * BlueZ knows that offer it, read from GetManagedObjects. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <systemd/sd-bus.h>

#include "ble.h"
#include "util.h"

typedef struct Scan {
	BleScanResult *out;
	size_t max, count;
	char adapter[64];
	const char *want_adapter;
} Scan;

static bool has_smp_uuid(sd_bus_message *m)
{
	const char *uuid;
	bool found = false;

	if (sd_bus_message_enter_container(m, 'v', "as") < 0)
		return false;
	if (sd_bus_message_enter_container(m, 'a', "s") >= 0) {
		while (sd_bus_message_read(m, "s", &uuid) > 0)
			found |= !strcasecmp(uuid, BLE_SMP_SERVICE_UUID);
		sd_bus_message_exit_container(m);
	}
	sd_bus_message_exit_container(m);
	return found;
}

static int read_device(Scan *s, sd_bus_message *m, const char *path)
{
	BleScanResult r = { 0 };
	bool smp = false;
	int rc;

	while ((rc = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *key, *text;

		sd_bus_message_read(m, "s", &key);
		if (!strcmp(key, "Address") && sd_bus_message_read(m, "v", "s", &text) >= 0)
			snprintf(r.address, sizeof(r.address), "%s", text);
		else if (!strcmp(key, "Name") && sd_bus_message_read(m, "v", "s", &text) >= 0)
			snprintf(r.name, sizeof(r.name), "%s", text);
		else if (!strcmp(key, "RSSI") && sd_bus_message_read(m, "v", "n", &r.rssi) >= 0)
			r.has_rssi = true;
		else if (!strcmp(key, "UUIDs"))
			smp = has_smp_uuid(m);
		else
			sd_bus_message_skip(m, "v");
		sd_bus_message_exit_container(m);
	}
	if (smp && s->count < s->max && (!s->adapter[0] || !strncmp(path, s->adapter, strlen(s->adapter))))
		s->out[s->count++] = r;
	return rc;
}

static int read_objects(Scan *s, sd_bus_message *m, bool devices)
{
	const char *path, *iface;
	int r = sd_bus_message_enter_container(m, 'a', "{oa{sa{sv}}}");

	while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "oa{sa{sv}}")) > 0) {
		sd_bus_message_read(m, "o", &path);
		sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
		while (sd_bus_message_enter_container(m, 'e', "sa{sv}") > 0) {
			sd_bus_message_read(m, "s", &iface);
			if (!devices && !strcmp(iface, "org.bluez.Adapter1") && !s->adapter[0] &&
			    (!s->want_adapter || !strcmp(strrchr(path, '/') + 1, s->want_adapter)))
				snprintf(s->adapter, sizeof(s->adapter), "%s", path);
			if (devices && !strcmp(iface, "org.bluez.Device1") && sd_bus_message_enter_container(m, 'a', "{sv}") >= 0) {
				read_device(s, m, path);
				sd_bus_message_exit_container(m);
			} else {
				sd_bus_message_skip(m, "a{sv}");
			}
			sd_bus_message_exit_container(m);
		}
		sd_bus_message_exit_container(m);
		sd_bus_message_exit_container(m);
	}
	return r;
}

static int managed_objects(sd_bus *bus, Scan *s, bool devices, sd_bus_error *e)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	int r = sd_bus_call_method(bus, "org.bluez", "/", "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", e,
				   &reply, NULL);

	return r < 0 ? r : read_objects(s, reply, devices);
}

static int on_scan_over(sd_event_source *src, uint64_t usec, void *userdata)
{
	(void)src, (void)usec;
	*(bool *)userdata = true;
	return 0;
}

int ble_scan(sd_event *event, const char *adapter, uint64_t duration_usec, BleScanResult *out, size_t max,
	     size_t *count, char *err, size_t err_size)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(sd_event_source_disable_unrefp) sd_event_source *timer = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	Scan s = { .out = out, .max = max, .want_adapter = adapter };
	bool over = false;
	int r;

	r = sd_bus_open_system(&bus);
	if (r >= 0)
		r = sd_bus_attach_event(bus, event, 0);
	if (r >= 0)
		r = managed_objects(bus, &s, false, &e);
	if (r < 0) {
		snprintf(err, err_size, "%s", sd_bus_error_has_name(&e, "org.freedesktop.DBus.Error.ServiceUnknown")
			 ? "no BlueZ on the system bus (org.bluez not found): is bluetoothd running?"
			 : e.message ? e.message : strerror(-r));
		sd_bus_error_free(&e);
		return r;
	}
	if (!s.adapter[0]) {
		snprintf(err, err_size, adapter ? "no Bluetooth adapter named %s" : "no Bluetooth adapter%s",
			 adapter ? adapter : " (is one plugged in and powered?)");
		return -ENODEV;
	}
	r = sd_bus_call_method(bus, "org.bluez", s.adapter, "org.bluez.Adapter1", "SetDiscoveryFilter", &e, NULL,
			       "a{sv}", 2, "UUIDs", "as", 1, BLE_SMP_SERVICE_UUID, "Transport", "s", "le");
	if (r >= 0)
		r = sd_bus_call_method(bus, "org.bluez", s.adapter, "org.bluez.Adapter1", "StartDiscovery", &e, NULL, NULL);
	if (r < 0) {
		snprintf(err, err_size, "cannot scan: %s", e.message ? e.message : strerror(-r));
		sd_bus_error_free(&e);
		return r;
	}
	r = sd_event_add_time_relative(event, &timer, CLOCK_MONOTONIC, duration_usec, 0, on_scan_over, &over);
	while (r >= 0 && !over)
		r = sd_event_run(event, UINT64_MAX);
	sd_bus_call_method(bus, "org.bluez", s.adapter, "org.bluez.Adapter1", "StopDiscovery", NULL, NULL, NULL);
	r = managed_objects(bus, &s, true, &e);
	sd_bus_error_free(&e);
	*count = s.count;
	return r < 0 ? r : 0;
}
