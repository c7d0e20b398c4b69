/* SPDX-License-Identifier: MIT */
/* 'smpctl scan': the devices BlueZ already knows that offer the SMP service, then an LE discovery
 * filtered on the SMP service UUID (ISSUE-NOTES 18) for the given time, all on the caller's loop.
 * Matches are installed before GetManagedObjects (BLUEZ.md §7); a device is reported when it is first
 * seen, and later reports only refresh its name and RSSI. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ble-bluez.h"
#include "fiber.h"
#include "log.h"
#include "util.h"

#define SCAN_RESULTS_MAX 256

struct BleScan {
	sd_event *event;
	sd_bus *bus;
	sd_bus_slot *match_added, *match_props, *call;
	sd_event_source *timer;
	char want_adapter[32];
	char adapter[64];
	uint64_t duration_usec;
	void (*found)(void *userdata, const BleScanResult *r);
	void (*done)(void *userdata, int err);
	void *userdata;
	BleScanResult *results;
	size_t count;
	bool discovering, finished;
	char error[256];
};

static BleScanResult *scan_lookup(BleScan *s, const char *address)
{
	for (size_t i = 0; i < s->count; i++)
		if (!strcasecmp(s->results[i].address, address))
			return &s->results[i];
	return NULL;
}

static void scan_merge(BleScanResult *r, const BleProps *p)
{
	if (p->has & BLE_PROP_NAME)
		snprintf(r->name, sizeof(r->name), "%s", p->name);
	if (p->has & BLE_PROP_RSSI) {
		r->rssi = p->rssi;
		r->has_rssi = true;
	}
	if (p->has & BLE_PROP_UUIDS)
		r->smp_uuid_advertised |= p->smp_uuid;
}

/* A device's properties, from the object list or a signal: new SMP devices are reported, known ones
 * refreshed. */
static void scan_saw(BleScan *s, const char *path, const BleProps *p)
{
	char address[18];
	BleScanResult *r;

	if (!s->adapter[0] || !ble_path_under(path, s->adapter) || ble_address_from_path(path, address) < 0)
		return;
	r = scan_lookup(s, address);
	if (r) {
		scan_merge(r, p);
		return;
	}
	if (!(p->has & BLE_PROP_UUIDS) || !p->smp_uuid || s->count == SCAN_RESULTS_MAX)
		return;
	r = &s->results[s->count++];
	*r = (BleScanResult){ 0 };
	snprintf(r->address, sizeof(r->address), "%s", address);
	scan_merge(r, p);
	if (s->found)
		s->found(s->userdata, r);
}

static int scan_visit(void *userdata, const char *path, const char *iface, const BleProps *p)
{
	if (!strcmp(iface, BLUEZ_DEVICE))
		scan_saw(userdata, path, p);
	return 0;
}

static void scan_finish(BleScan *s, int err)
{
	if (s->finished)
		return;
	s->finished = true;
	s->timer = sd_event_source_disable_unref(s->timer);
	s->call = sd_bus_slot_unref(s->call);
	if (s->discovering) {
		s->discovering = false;
		sd_bus_call_method_async(s->bus, NULL, BLUEZ_SERVICE, s->adapter, BLUEZ_ADAPTER, "StopDiscovery", NULL,
					 NULL, NULL);
	}
	log_debug("ble scan: %s, %zu device%s", err < 0 ? s->error : "done", s->count, s->count == 1 ? "" : "s");
	if (s->done)
		s->done(s->userdata, err); /* last: it may free s */
}

static void scan_fail_call(BleScan *s, sd_bus_message *m, const char *what)
{
	scan_finish(s, ble_bus_error_explain(sd_bus_message_get_error(m), what, s->error, sizeof(s->error)));
}

static int on_scan_over(sd_event_source *src, uint64_t usec, void *userdata)
{
	(void)src, (void)usec;
	scan_finish(userdata, 0);
	return 0;
}

static int on_started(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	BleScan *s = userdata;

	(void)e;
	if (sd_bus_message_is_method_error(m, NULL)) {
		s->discovering = false;
		scan_fail_call(s, m, "starting the scan (StartDiscovery)");
	}
	return 0;
}

static int on_filtered(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	BleScan *s = userdata;
	int r;

	(void)e;
	if (sd_bus_message_is_method_error(m, NULL)) {
		scan_fail_call(s, m, "SetDiscoveryFilter");
		return 0;
	}
	s->discovering = true;
	r = ble_call(s->bus, &s->call, s->adapter, BLUEZ_ADAPTER, "StartDiscovery", 0, on_started, s, NULL);
	if (r >= 0)
		r = sd_event_add_time_relative(s->event, &s->timer, CLOCK_MONOTONIC, s->duration_usec, 0, on_scan_over, s);
	if (r < 0) {
		snprintf(s->error, sizeof(s->error), "cannot scan: %s", strerror(-r));
		scan_finish(s, r);
	}
	return 0;
}

static int on_objects(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	BleScan *s = userdata;
	BleAdapterPick pick = { .want = s->want_adapter[0] ? s->want_adapter : NULL };
	int r;

	(void)e;
	if (sd_bus_message_is_method_error(m, NULL)) {
		scan_fail_call(s, m, "GetManagedObjects");
		return 0;
	}
	r = ble_objects_read(m, ble_adapter_pick_visit, &pick);
	if (r >= 0 && !pick.path[0]) {
		ble_adapter_pick_explain(&pick, s->error, sizeof(s->error));
		r = -ENODEV;
	} else if (r >= 0) {
		snprintf(s->adapter, sizeof(s->adapter), "%s", pick.path);
		sd_bus_message_rewind(m, true);
		r = ble_objects_read(m, scan_visit, s);
	}
	if (r >= 0)
		r = ble_call(s->bus, &s->call, s->adapter, BLUEZ_ADAPTER, "SetDiscoveryFilter", 0, on_filtered, s,
			     "a{sv}", 2, "UUIDs", "as", 1, BLE_SMP_SERVICE_UUID, "Transport", "s", "le");
	if (r < 0) {
		if (!s->error[0])
			snprintf(s->error, sizeof(s->error), "BlueZ's object list could not be read: %s", strerror(-r));
		scan_finish(s, r);
	}
	return 0;
}

static int on_added(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	(void)e;
	ble_interfaces_added_read(m, scan_visit, userdata);
	return 0;
}

static int on_changed(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	const char *path = sd_bus_message_get_path(m), *iface;
	BleProps p;

	(void)e;
	if (path && sd_bus_message_read(m, "s", &iface) >= 0 && !strcmp(iface, BLUEZ_DEVICE) &&
	    ble_props_read(m, &p) >= 0)
		scan_saw(userdata, path, &p);
	return 0;
}

static int scan_begin(BleScan *s)
{
	int r = ble_bus_open(s->event, &s->bus);

	if (r < 0) {
		snprintf(s->error, sizeof(s->error), "cannot reach the system bus: %s", strerror(-r));
		return r;
	}
	r = sd_bus_match_signal_async(s->bus, &s->match_added, BLUEZ_SERVICE, "/", DBUS_OBJECT_MANAGER,
				      "InterfacesAdded", on_added, NULL, s);
	if (r >= 0)
		r = ble_match_properties_changed(s->bus, &s->match_props, on_changed, s);
	if (r >= 0)
		r = ble_call(s->bus, &s->call, "/", DBUS_OBJECT_MANAGER, "GetManagedObjects", 0, on_objects, s, NULL);
	if (r < 0)
		snprintf(s->error, sizeof(s->error), "cannot talk to BlueZ: %s", strerror(-r));
	return r;
}

int ble_scan_start(sd_event *event, const char *adapter, uint64_t duration_usec,
		   void (*found)(void *userdata, const BleScanResult *r), void (*done)(void *userdata, int err),
		   void *userdata, BleScan **out)
{
	BleScan *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->results = calloc(SCAN_RESULTS_MAX, sizeof(*s->results));
	if (!s->results) {
		free(s);
		return -ENOMEM;
	}
	s->event = sd_event_ref(event);
	snprintf(s->want_adapter, sizeof(s->want_adapter), "%s", adapter ? adapter : "");
	s->duration_usec = duration_usec;
	s->found = found;
	s->done = done;
	s->userdata = userdata;
	*out = s;
	r = scan_begin(s);
	if (r < 0)
		s->finished = true; /* done() is not called: the error is the return value */
	return r;
}

const BleScanResult *ble_scan_results(const BleScan *s, size_t *count)
{
	*count = s->count;
	return s->results;
}

const char *ble_scan_error(const BleScan *s)
{
	return s->error[0] ? s->error : NULL;
}

void ble_scan_free(BleScan *s)
{
	if (!s)
		return;
	s->done = NULL;
	scan_finish(s, 0);
	sd_bus_slot_unref(s->match_added);
	sd_bus_slot_unref(s->match_props);
	sd_bus_flush_close_unref(s->bus);
	sd_event_unref(s->event);
	free(s->results);
	free(s);
}

typedef struct ScanWait {
	bool over;
	int err;
} ScanWait;

static void on_scan_done(void *userdata, int err)
{
	ScanWait *w = userdata;

	w->over = true;
	w->err = err;
}

int ble_scan(sd_event *event, const char *adapter, uint64_t duration_usec, BleScanResult *out, size_t max,
	     size_t *count, char *err, size_t err_size)
{
	ScanWait wait = { 0 };
	const BleScanResult *results;
	BleScan *s = NULL;
	size_t n;
	int r;

	*count = 0;
	r = ble_scan_start(event, adapter, duration_usec, NULL, on_scan_done, &wait, &s);
	while (r >= 0 && !wait.over)
		r = loop_turn(event);
	if (r >= 0)
		r = wait.err;
	if (r < 0) {
		snprintf(err, err_size, "%s", s && ble_scan_error(s) ? ble_scan_error(s) : strerror(-r));
		ble_scan_free(s);
		return r;
	}
	results = ble_scan_results(s, &n);
	*count = MIN(n, max);
	memcpy(out, results, *count * sizeof(*out));
	ble_scan_free(s);
	return 0;
}
