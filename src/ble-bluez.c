/* SPDX-License-Identifier: MIT */
/* Reading BlueZ's objects and properties (BLUEZ.md §1-§4), and the small D-Bus helpers the ble:
 * transport and the scan share (BLUEZ.md §7). Property values are type-checked before they are read:
 * a value of an unexpected type is skipped, not trusted. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ble-bluez.h"
#include "util.h"

typedef struct PropSpec {
	const char *key;
	const char *type;
	unsigned flag;
} PropSpec;

/* bluez@5.66 device.c:2961-2995, adapter.c:3860-3883, gatt-client.c:1662-1675 */
static const PropSpec prop_specs[] = {
	{ "Address", "s", BLE_PROP_ADDRESS },
	{ "Name", "s", BLE_PROP_NAME },
	{ "UUID", "s", BLE_PROP_UUID },
	{ "RSSI", "n", BLE_PROP_RSSI },
	{ "UUIDs", "as", BLE_PROP_UUIDS },
	{ "Connected", "b", BLE_PROP_CONNECTED },
	{ "ServicesResolved", "b", BLE_PROP_RESOLVED },
	{ "Paired", "b", BLE_PROP_PAIRED },
	{ "Powered", "b", BLE_PROP_POWERED },
	{ "MTU", "q", BLE_PROP_MTU },
	{ "Value", "ay", BLE_PROP_VALUE },
};

static int read_string(sd_bus_message *m, char *out, size_t size)
{
	const char *s;
	int r = sd_bus_message_read(m, "s", &s);

	if (r >= 0)
		snprintf(out, size, "%s", s);
	return r;
}

static int read_bool(sd_bus_message *m, bool *out)
{
	int b = 0;
	int r = sd_bus_message_read(m, "b", &b);

	*out = b;
	return r;
}

static int read_uuids(sd_bus_message *m, bool *smp)
{
	const char *uuid;
	int r = sd_bus_message_enter_container(m, 'a', "s");

	*smp = false;
	while (r >= 0 && (r = sd_bus_message_read(m, "s", &uuid)) > 0)
		*smp |= !strcasecmp(uuid, BLE_SMP_SERVICE_UUID);
	return r < 0 ? r : sd_bus_message_exit_container(m);
}

static int read_value(sd_bus_message *m, unsigned flag, BleProps *p)
{
	const void *bytes;

	switch (flag) {
	case BLE_PROP_ADDRESS: return read_string(m, p->address, sizeof(p->address));
	case BLE_PROP_NAME: return read_string(m, p->name, sizeof(p->name));
	case BLE_PROP_UUID: return read_string(m, p->uuid, sizeof(p->uuid));
	case BLE_PROP_RSSI: return sd_bus_message_read(m, "n", &p->rssi);
	case BLE_PROP_UUIDS: return read_uuids(m, &p->smp_uuid);
	case BLE_PROP_CONNECTED: return read_bool(m, &p->connected);
	case BLE_PROP_RESOLVED: return read_bool(m, &p->resolved);
	case BLE_PROP_PAIRED: return read_bool(m, &p->paired);
	case BLE_PROP_POWERED: return read_bool(m, &p->powered);
	case BLE_PROP_MTU: return sd_bus_message_read(m, "q", &p->mtu);
	case BLE_PROP_VALUE: {
		int r = sd_bus_message_read_array(m, 'y', &bytes, &p->value_len);

		p->value = bytes;
		return r;
	}
	default: return -EINVAL;
	}
}

static int read_entry(sd_bus_message *m, BleProps *p)
{
	const char *key, *contents;
	int r = sd_bus_message_read(m, "s", &key);

	if (r >= 0)
		r = sd_bus_message_peek_type(m, NULL, &contents);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(prop_specs); i++) {
		if (strcmp(key, prop_specs[i].key) || strcmp(contents, prop_specs[i].type))
			continue;
		r = sd_bus_message_enter_container(m, 'v', contents);
		if (r >= 0)
			r = read_value(m, prop_specs[i].flag, p);
		if (r >= 0)
			p->has |= prop_specs[i].flag;
		return r < 0 ? r : sd_bus_message_exit_container(m);
	}
	return sd_bus_message_skip(m, "v");
}

int ble_props_read(sd_bus_message *m, BleProps *p)
{
	int r = sd_bus_message_enter_container(m, 'a', "{sv}");

	*p = (BleProps){ 0 };
	while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		r = read_entry(m, p);
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
	}
	return r < 0 ? r : sd_bus_message_exit_container(m);
}

static int interfaces_read(sd_bus_message *m, const char *path, BleObjectVisit visit, void *userdata)
{
	int r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");

	while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
		const char *iface;
		BleProps p;

		r = sd_bus_message_read(m, "s", &iface);
		if (r >= 0)
			r = ble_props_read(m, &p);
		if (r >= 0)
			r = visit(userdata, path, iface, &p);
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
	}
	return r < 0 ? r : sd_bus_message_exit_container(m);
}

int ble_objects_read(sd_bus_message *m, BleObjectVisit visit, void *userdata)
{
	int r = sd_bus_message_enter_container(m, 'a', "{oa{sa{sv}}}");

	while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "oa{sa{sv}}")) > 0) {
		const char *path;

		r = sd_bus_message_read(m, "o", &path);
		if (r >= 0)
			r = interfaces_read(m, path, visit, userdata);
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
	}
	return r < 0 ? r : sd_bus_message_exit_container(m);
}

int ble_interfaces_added_read(sd_bus_message *m, BleObjectVisit visit, void *userdata)
{
	const char *path;
	int r = sd_bus_message_read(m, "o", &path);

	return r < 0 ? r : interfaces_read(m, path, visit, userdata);
}

bool ble_interfaces_removed_has(sd_bus_message *m, const char *under, const char *iface)
{
	const char *path, *name;
	bool found = false;

	if (sd_bus_message_read(m, "o", &path) < 0 || !under[0] || !ble_path_under(path, under))
		return false;
	if (sd_bus_message_enter_container(m, 'a', "s") < 0)
		return false;
	while (sd_bus_message_read(m, "s", &name) > 0)
		found |= !strcmp(name, iface);
	return found;
}

int ble_adapter_pick_visit(void *userdata, const char *path, const char *iface, const BleProps *p)
{
	BleAdapterPick *pick = userdata;
	const char *name = strrchr(path, '/');

	if (strcmp(iface, BLUEZ_ADAPTER) || !name)
		return 0;
	pick->seen++;
	if (pick->want && strcmp(name + 1, pick->want))
		return 0;
	if (!(p->has & BLE_PROP_POWERED) || p->powered) {
		if (!pick->path[0])
			snprintf(pick->path, sizeof(pick->path), "%s", path);
	} else if (!pick->off[0]) {
		snprintf(pick->off, sizeof(pick->off), "%s", name + 1);
	}
	return 0;
}

void ble_adapter_pick_explain(const BleAdapterPick *pick, char *out, size_t size)
{
	if (pick->off[0])
		snprintf(out, size, "Bluetooth adapter %s is powered off: turn it on ('bluetoothctl power on')", pick->off);
	else if (pick->want)
		snprintf(out, size, "no Bluetooth adapter named %s (BlueZ has %u: 'bluetoothctl list' names them)",
			 pick->want, pick->seen);
	else
		snprintf(out, size, "no Bluetooth adapter: is one plugged in and not blocked ('rfkill list bluetooth'; "
			 "'sudo rfkill unblock bluetooth')? 'smpctl doctor' checks the set-up");
}

int ble_call(sd_bus *bus, sd_bus_slot **slot, const char *path, const char *iface, const char *member,
	     uint64_t timeout_usec, sd_bus_message_handler_t callback, void *userdata, const char *types, ...)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	va_list ap;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, BLUEZ_SERVICE, path, iface, member);
	if (r >= 0 && types) {
		va_start(ap, types);
		r = sd_bus_message_appendv(m, types, ap);
		va_end(ap);
	}
	if (r < 0)
		return r;
	if (slot)
		*slot = sd_bus_slot_unref(*slot);
	return sd_bus_call_async(bus, slot, m, callback, userdata, timeout_usec);
}

int ble_bus_open(sd_event *event, sd_bus **out)
{
	sd_bus *bus = NULL;
	int r = sd_bus_open_system(&bus);

	if (r >= 0)
		r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
	if (r < 0) {
		sd_bus_unref(bus);
		return r;
	}
	*out = bus;
	return 0;
}

int ble_bus_error_explain(const sd_bus_error *e, const char *what, char *out, size_t size)
{
	/* The bus's policy (/etc/dbus-1/system.d/bluetooth.conf), not BlueZ, refused the call. */
	if (sd_bus_error_has_name(e, SD_BUS_ERROR_ACCESS_DENIED)) {
		snprintf(out, size, "%s failed: the system bus does not let this user call BlueZ: 'sudo usermod -aG "
			 "bluetooth $USER', then log in again ('smpctl doctor' checks the set-up)", what);
		return -EACCES;
	}
	switch (ble_error_kind(e->name, e->message)) {
	case BLE_ERROR_NO_BLUEZ:
		snprintf(out, size, "no BlueZ on the system bus (org.bluez not found): is bluetoothd running? "
			 "('sudo systemctl start bluetooth'; 'smpctl doctor' checks the set-up)");
		return -EHOSTUNREACH;
	case BLE_ERROR_TIMEOUT:
		snprintf(out, size, "BlueZ did not answer %s in time", what);
		return -ETIMEDOUT;
	case BLE_ERROR_NOT_READY:
		snprintf(out, size, "%s failed: the Bluetooth adapter is not ready (powered off? 'bluetoothctl power on')",
			 what);
		return -ENETDOWN;
	case BLE_ERROR_GONE:
		snprintf(out, size, "%s failed: the object is gone from BlueZ (%s)", what, e->message ? e->message : "");
		return -ENODEV;
	default:
		snprintf(out, size, "%s failed: %s (%s)", what, e->message ? e->message : "", e->name ? e->name : "?");
		return -EIO;
	}
}

int ble_match_properties_changed(sd_bus *bus, sd_bus_slot **slot, sd_bus_message_handler_t callback,
				 void *userdata)
{
	return sd_bus_add_match_async(bus, slot,
				      "type='signal',sender='org.bluez',interface='org.freedesktop.DBus.Properties',"
				      "member='PropertiesChanged',path_namespace='/org/bluez'",
				      callback, NULL, userdata);
}
