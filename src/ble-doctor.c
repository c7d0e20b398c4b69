/* SPDX-License-Identifier: MIT */
/* The D-Bus half of smpctl doctor: who owns org.bluez and ModemManager's name on the system bus, and
 * BlueZ's adapters and devices from one GetManagedObjects (BLUEZ.md §1). Synchronous: nothing else runs
 * while the doctor looks. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ble-bluez.h"
#include "doctor.h"
#include "util.h"

#define MODEM_MANAGER_SERVICE "org.freedesktop.ModemManager1"
/* As the ble: transport decides it (ble-connect.c, BLE_BOND_LOST_BLIPS): three links in a row that
 * drop as they come up, on a paired device, are a refused key, not bad luck. */
#define BOND_TRIES 3
#define BOND_RETRY_NSEC (300 * 1000 * 1000)

static int name_has_owner(sd_bus *bus, const char *name, uint64_t timeout_usec, bool *out)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
	int owned = 0, r;

	r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.DBus", "/org/freedesktop/DBus",
					   "org.freedesktop.DBus", "NameHasOwner");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", name);
	if (r >= 0)
		r = sd_bus_call(bus, m, timeout_usec, NULL, &reply);
	if (r >= 0)
		r = sd_bus_message_read(reply, "b", &owned);
	*out = r >= 0 && owned;
	return r;
}

static void copy_name(char *out, size_t size, const char *path)
{
	const char *slash = strrchr(path, '/');

	snprintf(out, size, "%s", slash ? slash + 1 : path);
}

static int visit(void *userdata, const char *path, const char *iface, const BleProps *p)
{
	DoctorBus *b = userdata;

	if (!strcmp(iface, BLUEZ_ADAPTER) && b->n_adapters < DOCTOR_MAX_ADAPTERS) {
		DoctorAdapter *a = &b->adapters[b->n_adapters++];

		copy_name(a->name, sizeof(a->name), path);
		snprintf(a->address, sizeof(a->address), "%s", p->address);
		a->powered = !(p->has & BLE_PROP_POWERED) || p->powered;
	} else if (!strcmp(iface, BLUEZ_DEVICE) && b->n_devices < DOCTOR_MAX_DEVICES) {
		DoctorDevice *d = &b->devices[b->n_devices++];
		char parent[64];
		const char *slash = strrchr(path, '/');

		/* /org/bluez/hciN/dev_…: the adapter is the parent object. */
		snprintf(parent, sizeof(parent), "%.*s", slash ? (int)(slash - path) : 0, path);
		copy_name(d->adapter, sizeof(d->adapter), parent);
		snprintf(d->address, sizeof(d->address), "%s", p->address);
		snprintf(d->name, sizeof(d->name), "%s", p->name);
		d->paired = p->paired;
		d->smp = p->smp_uuid;
	}
	return 0;
}

static void read_objects(sd_bus *bus, DoctorBus *out, uint64_t timeout_usec)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, BLUEZ_SERVICE, "/", DBUS_OBJECT_MANAGER, "GetManagedObjects");
	if (r >= 0)
		r = sd_bus_call(bus, m, timeout_usec, &e, &reply);
	if (r < 0 && sd_bus_error_has_name(&e, SD_BUS_ERROR_ACCESS_DENIED)) {
		out->access_denied = true;
		return;
	}
	if (r < 0) {
		ble_bus_error_explain(&e, "GetManagedObjects", out->call_error, sizeof(out->call_error));
		return;
	}
	if (ble_objects_read(reply, visit, out) < 0)
		snprintf(out->call_error, sizeof(out->call_error), "BlueZ's object list could not be read");
}

void ble_doctor_probe(DoctorBus *out, uint64_t timeout_usec)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	int r;

	*out = (DoctorBus){ 0 };
	r = sd_bus_open_system(&bus);
	if (r < 0) {
		out->open_error = r;
		return;
	}
	r = name_has_owner(bus, BLUEZ_SERVICE, timeout_usec, &out->bluez);
	if (r < 0) {
		out->open_error = r;
		return;
	}
	name_has_owner(bus, MODEM_MANAGER_SERVICE, timeout_usec, &out->modem_manager);
	if (out->bluez)
		read_objects(bus, out, timeout_usec);
}

static int device_call(sd_bus *bus, const char *path, const char *member, uint64_t timeout_usec, sd_bus_error *e)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_call(bus, &m, BLUEZ_SERVICE, path, BLUEZ_DEVICE, member);

	return r < 0 ? r : sd_bus_call(bus, m, timeout_usec, e, NULL);
}

/* One Connect: 1 when a link came up (and was taken down again), 0 when it dropped as it came up, a
 * negative errno with out->detail otherwise. */
static int try_connect(sd_bus *bus, const char *path, uint64_t timeout_usec, DoctorBondTry *out)
{
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	int r = device_call(bus, path, "Connect", timeout_usec, &e);

	if (r >= 0) {
		sd_bus_error_free(&e);
		device_call(bus, path, "Disconnect", timeout_usec, &e);
		return 1;
	}
	/* le-connection-abort-by-local and the other short codes of a link that did not last (BLUEZ.md §3). */
	if (ble_error_kind(e.name, e.message) == BLE_ERROR_LINK ||
	    (ble_error_kind(e.name, e.message) == BLE_ERROR_OTHER && sd_bus_error_has_name(&e, "org.bluez.Error.Failed")))
		return 0;
	return ble_bus_error_explain(&e, "Connect", out->detail, sizeof(out->detail));
}

void ble_doctor_try_bond(const DoctorDevice *d, uint64_t timeout_usec, DoctorBondTry *out)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	const struct timespec pause = { .tv_nsec = BOND_RETRY_NSEC };
	char adapter[128], path[192];
	int connected = 0, r;

	*out = (DoctorBondTry){ .state = DOCTOR_BOND_UNKNOWN };
	snprintf(adapter, sizeof(adapter), "/org/bluez/%s", d->adapter);
	ble_device_path(adapter, d->address, path, sizeof(path));
	r = sd_bus_open_system(&bus);
	if (r >= 0)
		r = sd_bus_get_property_trivial(bus, BLUEZ_SERVICE, path, BLUEZ_DEVICE, "Connected", &e, 'b', &connected);
	if (r < 0) {
		ble_bus_error_explain(&e, "reading Connected", out->detail, sizeof(out->detail));
		return;
	}
	if (connected) {
		out->state = DOCTOR_BOND_WORKS;
		return;
	}
	for (int i = 0; i < BOND_TRIES; i++) {
		if (i)
			nanosleep(&pause, NULL);
		r = try_connect(bus, path, timeout_usec, out);
		if (r != 0) {
			out->state = r > 0 ? DOCTOR_BOND_WORKS : DOCTOR_BOND_UNKNOWN;
			return;
		}
	}
	out->state = DOCTOR_BOND_REFUSED;
}
