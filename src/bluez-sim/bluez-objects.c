/* SPDX-License-Identifier: MIT */
/*
 * The org.bluez objects of the stand-in, as BlueZ 5.66 exports them (BLUEZ.md §1-§4): ObjectManager on
 * "/", Adapter1 on /org/bluez/hci0, Device1 objects that appear on discovery, and the SMP service,
 * characteristic and CCC descriptor that appear when a device connects, with BlueZ's paths, method
 * signatures, error names and signal order.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bluez-sim.h"
#include "util.h"

#define ERR_FAILED "org.bluez.Error.Failed"
#define ERR_IN_PROGRESS "org.bluez.Error.InProgress"
#define ERR_NOT_PERMITTED "org.bluez.Error.NotPermitted"
#define ERR_INVALID_ARGS "org.bluez.Error.InvalidArguments"
#define ERR_DOES_NOT_EXIST "org.bluez.Error.DoesNotExist"
#define ERR_ALREADY_EXISTS "org.bluez.Error.AlreadyExists"
#define ERR_NOT_SUPPORTED "org.bluez.Error.NotSupported"

static Peer *peer_by_path(Stand *s, const char *path, int level)
{
	for (size_t i = 0; i < s->peer_count; i++) {
		Peer *p = &s->peers[i];
		const char *want = level == 0 ? p->path : level == 1 ? p->svc_path : level == 2 ? p->chr_path : p->desc_path;

		if (strcmp(path, want) == 0 && p->exported && (level == 0 || p->gatt_exported))
			return p;
	}
	return NULL;
}

/* sd-bus object-find callbacks: the device and its GATT objects exist only while exported. */
#define DEFINE_FIND(name, level) \
	static int name(sd_bus *bus, const char *path, const char *iface, void *userdata, void **found, \
			sd_bus_error *error) \
	{ \
		Peer *p = peer_by_path(userdata, path, level); \
		(void)bus, (void)iface, (void)error; \
		*found = p; \
		return p != NULL; \
	}

DEFINE_FIND(find_device, 0)
DEFINE_FIND(find_service, 1)
DEFINE_FIND(find_char, 2)
DEFINE_FIND(find_desc, 3)

/* Registered as a fallback like the objects below it: sd-bus does not mix the two kinds on one path. */
static int find_adapter(sd_bus *bus, const char *path, const char *iface, void *userdata, void **found,
			sd_bus_error *error)
{
	(void)bus, (void)iface, (void)error;
	*found = userdata;
	return strcmp(path, ADAPTER_PATH) == 0;
}

/* Children below /org/bluez/hci0 for introspection and GetManagedObjects. */
static int enumerate(sd_bus *bus, const char *prefix, void *userdata, char ***nodes, sd_bus_error *error)
{
	Stand *s = userdata;
	char **list = calloc(s->peer_count * 4 + 1, sizeof(char *));
	size_t n = 0;

	(void)bus, (void)prefix, (void)error;
	if (!list)
		return -ENOMEM;
	for (size_t i = 0; i < s->peer_count; i++) {
		Peer *p = &s->peers[i];

		if (!p->exported)
			continue;
		list[n++] = strdup(p->path);
		if (p->gatt_exported) {
			list[n++] = strdup(p->svc_path);
			list[n++] = strdup(p->chr_path);
			list[n++] = strdup(p->desc_path);
		}
	}
	*nodes = list;
	return 0;
}

static int get_bool(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
		    void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;
	int v = 0;

	(void)bus, (void)path, (void)iface, (void)error;
	if (!strcmp(prop, "Connected"))
		v = p->connected;
	else if (!strcmp(prop, "ServicesResolved"))
		v = p->resolved;
	else if (!strcmp(prop, "Paired") || !strcmp(prop, "Bonded") || !strcmp(prop, "Trusted") ||
		 !strcmp(prop, "Blocked") || !strcmp(prop, "LegacyPairing"))
		v = 0;
	else if (!strcmp(prop, "Notifying"))
		v = p->notifying || p->notify_acquired;
	else if (!strcmp(prop, "WriteAcquired"))
		v = p->write_acquired;
	else if (!strcmp(prop, "NotifyAcquired"))
		v = p->notify_acquired;
	else if (!strcmp(prop, "Primary"))
		v = 1;
	return sd_bus_message_append(reply, "b", v);
}

static int get_string(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
		      void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;

	(void)bus, (void)path, (void)error;
	if (!strcmp(prop, "Address"))
		return sd_bus_message_append(reply, "s", p->address);
	if (!strcmp(prop, "AddressType"))
		return sd_bus_message_append(reply, "s", "random");
	if (!strcmp(prop, "Name") || !strcmp(prop, "Alias"))
		return sd_bus_message_append(reply, "s", p->name);
	if (!strcmp(iface, "org.bluez.GattService1"))
		return sd_bus_message_append(reply, "s", SMP_SERVICE_UUID);
	if (!strcmp(iface, "org.bluez.GattCharacteristic1"))
		return sd_bus_message_append(reply, "s", SMP_CHAR_UUID);
	return sd_bus_message_append(reply, "s", CCC_UUID);
}

static int get_object(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
		      void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;

	(void)bus, (void)path, (void)iface, (void)error;
	if (!strcmp(prop, "Adapter"))
		return sd_bus_message_append(reply, "o", ADAPTER_PATH);
	if (!strcmp(prop, "Device"))
		return sd_bus_message_append(reply, "o", p->path);
	if (!strcmp(prop, "Service"))
		return sd_bus_message_append(reply, "o", p->svc_path);
	return sd_bus_message_append(reply, "o", p->chr_path);
}

static int get_uuids(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
		     void *userdata, sd_bus_error *error)
{
	(void)bus, (void)path, (void)iface, (void)prop, (void)userdata, (void)error;
	return sd_bus_message_append(reply, "as", 1, SMP_SERVICE_UUID);
}

static int get_rssi(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
		    void *userdata, sd_bus_error *error)
{
	(void)bus, (void)path, (void)iface, (void)prop, (void)userdata, (void)error;
	return sd_bus_message_append(reply, "n", (int16_t)-58);
}

static int get_empty_dict(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
			  void *userdata, sd_bus_error *error)
{
	(void)bus, (void)path, (void)iface, (void)userdata, (void)error;
	return sd_bus_message_append(reply, !strcmp(prop, "ManufacturerData") ? "a{qv}" : "a{sv}", 0);
}

static int get_flags(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
		     void *userdata, sd_bus_error *error)
{
	(void)bus, (void)path, (void)iface, (void)prop, (void)userdata, (void)error;
	return sd_bus_message_append(reply, "as", 2, "write-without-response", "notify");
}

static int get_mtu(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
		   void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;

	(void)bus, (void)path, (void)iface, (void)prop, (void)error;
	return sd_bus_message_append(reply, "q", (uint16_t)p->stand->link.mtu);
}

static int get_value(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
		     void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;

	(void)bus, (void)path, (void)iface, (void)prop, (void)error;
	return sd_bus_message_append_array(reply, 'y', p->value, p->value_len);
}

static int get_includes(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
			void *userdata, sd_bus_error *error)
{
	(void)bus, (void)path, (void)iface, (void)prop, (void)userdata, (void)error;
	return sd_bus_message_append(reply, "ao", 0);
}

/* Adapter1 (BLUEZ.md §2) */
static int adapter_get(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
		       void *userdata, sd_bus_error *error)
{
	Stand *s = userdata;

	(void)bus, (void)path, (void)iface, (void)error;
	if (!strcmp(prop, "Address"))
		return sd_bus_message_append(reply, "s", "00:1A:7D:DA:71:13");
	if (!strcmp(prop, "AddressType"))
		return sd_bus_message_append(reply, "s", "public");
	if (!strcmp(prop, "Name") || !strcmp(prop, "Alias"))
		return sd_bus_message_append(reply, "s", "smpctl-bluez-sim");
	if (!strcmp(prop, "Discovering"))
		return sd_bus_message_append(reply, "b", s->discovering);
	if (!strcmp(prop, "UUIDs"))
		return sd_bus_message_append(reply, "as", 0);
	return sd_bus_message_append(reply, "b", !strcmp(prop, "Powered") || !strcmp(prop, "Pairable"));
}

static void announce(Stand *s)
{
	for (size_t i = 0; i < s->peer_count; i++) {
		Peer *p = &s->peers[i];

		if (p->offline)
			continue;
		if (!p->exported)
			peer_export(p);
		else
			peer_emit(p, "org.bluez.Device1", "RSSI");
	}
}

static int on_start_discovery(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Stand *s = userdata;
	int r;

	if (s->discovering && s->discovery_owner && !strcmp(s->discovery_owner, sd_bus_message_get_sender(m)))
		return sd_bus_error_set(error, ERR_IN_PROGRESS, "Operation already in progress");
	free(s->discovery_owner);
	s->discovery_owner = strdup(sd_bus_message_get_sender(m));
	s->discovering = true;
	/* The reply comes when the controller scans; Discovering=true follows it (adapter.c). */
	r = sd_bus_reply_method_return(m, NULL);
	sd_bus_emit_properties_changed(s->bus, ADAPTER_PATH, "org.bluez.Adapter1", "Discovering", NULL);
	announce(s);
	return r < 0 ? r : 1;
}

static int on_stop_discovery(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Stand *s = userdata;
	int r;

	if (!s->discovering)
		return sd_bus_error_set(error, ERR_FAILED, "No discovery started");
	s->discovering = false;
	r = sd_bus_reply_method_return(m, NULL);
	sd_bus_emit_properties_changed(s->bus, ADAPTER_PATH, "org.bluez.Adapter1", "Discovering", NULL);
	return r < 0 ? r : 1;
}

/* SetDiscoveryFilter(a{sv}): known keys with their types, else InvalidArguments (adapter.c). */
static int on_set_filter(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	static const char *const keys[][2] = { { "UUIDs", "as" }, { "RSSI", "n" }, { "Pathloss", "q" },
					       { "Transport", "s" }, { "DuplicateData", "b" }, { "Discoverable", "b" },
					       { "Pattern", "s" } };
	int r;

	(void)userdata;
	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *key, *contents;
		bool ok = false;

		if (sd_bus_message_read(m, "s", &key) < 0 || sd_bus_message_peek_type(m, NULL, &contents) < 0)
			return sd_bus_error_set(error, ERR_INVALID_ARGS, "Invalid arguments in method call");
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
			ok |= !strcmp(key, keys[i][0]) && !strcmp(contents, keys[i][1]);
		if (!ok)
			return sd_bus_error_set(error, ERR_INVALID_ARGS, "Invalid arguments in method call");
		sd_bus_message_skip(m, "v");
		sd_bus_message_exit_container(m);
	}
	return sd_bus_reply_method_return(m, NULL);
}

static int on_remove_device(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Stand *s = userdata;
	const char *path;
	Peer *p;
	int r = sd_bus_message_read(m, "o", &path);

	if (r < 0)
		return r;
	p = peer_by_path(s, path, 0);
	if (!p)
		return sd_bus_error_set(error, ERR_DOES_NOT_EXIST, "Does Not Exist");
	if (p->connected)
		peer_link_down(p, true);
	sd_bus_emit_object_removed(s->bus, p->path);
	p->exported = p->gatt_exported = false;
	return sd_bus_reply_method_return(m, NULL);
}

static int on_get_filters(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(void)userdata, (void)error;
	return sd_bus_reply_method_return(m, "as", 7, "UUIDs", "RSSI", "Pathloss", "Transport", "DuplicateData",
					  "Discoverable", "Pattern");
}

static const sd_bus_vtable adapter_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Address", "s", adapter_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("AddressType", "s", adapter_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Name", "s", adapter_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Alias", "s", adapter_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Powered", "b", adapter_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Discoverable", "b", adapter_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Pairable", "b", adapter_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Discovering", "b", adapter_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("UUIDs", "as", adapter_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_METHOD("StartDiscovery", "", "", on_start_discovery, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("StopDiscovery", "", "", on_stop_discovery, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("SetDiscoveryFilter", "a{sv}", "", on_set_filter, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("RemoveDevice", "o", "", on_remove_device, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("GetDiscoveryFilters", "", "as", on_get_filters, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END
};

/* Device1 (BLUEZ.md §3): Connect replies once the link is up, before the services are resolved. */
static int on_connect(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;
	int r;

	if (p->connected)
		return sd_bus_reply_method_return(m, NULL);
	if (p->offline)
		return sd_bus_error_set(error, ERR_FAILED, "le-connection-abort-by-local");
	p->connected = true;
	peer_emit(p, "org.bluez.Device1", "Connected");
	r = sd_bus_reply_method_return(m, NULL);
	peer_link_up(p);
	peer_export_gatt(p);
	p->resolved = true;
	peer_emit(p, "org.bluez.Device1", "ServicesResolved");
	return r < 0 ? r : 1;
}

static int on_disconnect(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;
	int r;

	(void)error;
	if (!p->connected)
		return sd_bus_reply_method_return(m, NULL);
	/* ServicesResolved=false, the reply, then Connected=false (device.c). */
	p->resolved = false;
	peer_emit(p, "org.bluez.Device1", "ServicesResolved");
	r = sd_bus_reply_method_return(m, NULL);
	peer_link_down(p, false);
	p->connected = false;
	peer_emit(p, "org.bluez.Device1", "Connected");
	return r < 0 ? r : 1;
}

static int on_pair(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(void)userdata;
	(void)m;
	/* The simulated devices need no pairing (no encrypted characteristic is modelled yet). */
	return sd_bus_error_set(error, ERR_ALREADY_EXISTS, "Already Exists");
}

static int on_cancel_pairing(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(void)userdata, (void)m;
	return sd_bus_error_set(error, ERR_DOES_NOT_EXIST, "Does Not Exist");
}

static const sd_bus_vtable device_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Address", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("AddressType", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Name", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Alias", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Paired", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Bonded", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Trusted", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Blocked", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("LegacyPairing", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Connected", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("ServicesResolved", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("UUIDs", "as", get_uuids, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Adapter", "o", get_object, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("RSSI", "n", get_rssi, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("ManufacturerData", "a{qv}", get_empty_dict, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("ServiceData", "a{sv}", get_empty_dict, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_METHOD("Connect", "", "", on_connect, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Disconnect", "", "", on_disconnect, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Pair", "", "", on_pair, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("CancelPairing", "", "", on_cancel_pairing, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END
};

static const sd_bus_vtable service_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("UUID", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Device", "o", get_object, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Primary", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Includes", "ao", get_includes, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_VTABLE_END
};

/* GattCharacteristic1 (BLUEZ.md §4) */
static int reply_acquired(sd_bus_message *m, Peer *p, bool write)
{
	int fd = -1, r = peer_acquire(p, write, &fd);

	if (r < 0)
		return r;
	r = sd_bus_reply_method_return(m, "hq", fd, (uint16_t)p->stand->link.mtu);
	close(fd); /* sd-bus sent a duplicate */
	peer_emit(p, "org.bluez.GattCharacteristic1", write ? "WriteAcquired" : "NotifyAcquired");
	return r < 0 ? r : 1;
}

static int on_acquire_write(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;

	if (!p->connected)
		return sd_bus_error_set(error, ERR_FAILED, "Not connected");
	if (p->write_acquired)
		return sd_bus_error_set(error, ERR_NOT_PERMITTED, "Write acquired");
	if (p->stand->acquire_write_fails)
		return sd_bus_error_set(error, ERR_NOT_SUPPORTED, "Operation is not supported");
	return reply_acquired(m, p, true);
}

static int on_acquire_notify(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;

	if (!p->connected)
		return sd_bus_error_set(error, ERR_FAILED, "Not connected");
	if (p->notify_acquired)
		return sd_bus_error_set(error, ERR_NOT_PERMITTED, "Notify acquired");
	if (p->notifying)
		return sd_bus_error_set(error, ERR_IN_PROGRESS, "In Progress");
	/* BlueZ 5.66: when the CCC write fails AcquireNotify never replies (BLUEZ.md §4). */
	if (p->stand->acquire_notify_hangs)
		return 1;
	return reply_acquired(m, p, false);
}

static int on_write_value(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;
	const void *data;
	size_t len;
	int r = sd_bus_message_read_array(m, 'y', &data, &len);

	if (r < 0)
		return r;
	if (!p->connected)
		return sd_bus_error_set(error, ERR_FAILED, "Not connected");
	if (p->write_acquired)
		return sd_bus_error_set(error, ERR_NOT_PERMITTED, "Write acquired");
	if (len > p->stand->link.mtu - 3)
		return sd_bus_error_set(error, ERR_FAILED, "Failed to initiate write");
	/* A Write Command: answered as soon as it is queued (gatt-client.c). */
	r = sd_bus_reply_method_return(m, NULL);
	if (len)
		peer_client_write(p, data, len);
	return r < 0 ? r : 1;
}

static int on_read_value(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(void)m, (void)userdata;
	return sd_bus_error_set(error, ERR_NOT_PERMITTED, "Read not permitted");
}

static int on_start_notify(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;

	if (p->notify_acquired)
		return sd_bus_error_set(error, ERR_NOT_PERMITTED, "Notify acquired");
	if (!p->notifying) {
		p->notifying = true;
		/* Notifying=true is seen before the reply (gdbus flushes property changes first). */
		peer_emit(p, "org.bluez.GattCharacteristic1", "Notifying");
	}
	return sd_bus_reply_method_return(m, NULL);
}

static int on_stop_notify(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;

	if (!p->notifying)
		return sd_bus_error_set(error, ERR_FAILED, "No notify session started");
	p->notifying = false;
	peer_emit(p, "org.bluez.GattCharacteristic1", "Notifying");
	return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable char_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("UUID", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Service", "o", get_object, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Value", "ay", get_value, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Notifying", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Flags", "as", get_flags, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("WriteAcquired", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("NotifyAcquired", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("MTU", "q", get_mtu, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_METHOD("ReadValue", "a{sv}", "ay", on_read_value, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("WriteValue", "aya{sv}", "", on_write_value, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("AcquireWrite", "a{sv}", "hq", on_acquire_write, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("AcquireNotify", "a{sv}", "hq", on_acquire_notify, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("StartNotify", "", "", on_start_notify, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("StopNotify", "", "", on_stop_notify, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END
};

static const sd_bus_vtable desc_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("UUID", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Characteristic", "o", get_object, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Value", "ay", get_value, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_VTABLE_END
};

static int on_register_agent(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(void)userdata, (void)error;
	return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable agent_manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("RegisterAgent", "os", "", on_register_agent, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("UnregisterAgent", "o", "", on_register_agent, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("RequestDefaultAgent", "o", "", on_register_agent, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END
};

int objects_register(Stand *s)
{
	int r;

	r = sd_bus_add_object_manager(s->bus, NULL, "/");
	if (r >= 0)
		r = sd_bus_add_object_vtable(s->bus, NULL, "/org/bluez", "org.bluez.AgentManager1", agent_manager_vtable, s);
	if (r >= 0)
		r = sd_bus_add_fallback_vtable(s->bus, NULL, ADAPTER_PATH, "org.bluez.Adapter1", adapter_vtable,
					       find_adapter, s);
	if (r >= 0)
		r = sd_bus_add_fallback_vtable(s->bus, NULL, ADAPTER_PATH, "org.bluez.Device1", device_vtable, find_device, s);
	if (r >= 0)
		r = sd_bus_add_fallback_vtable(s->bus, NULL, ADAPTER_PATH, "org.bluez.GattService1", service_vtable,
					       find_service, s);
	if (r >= 0)
		r = sd_bus_add_fallback_vtable(s->bus, NULL, ADAPTER_PATH, "org.bluez.GattCharacteristic1", char_vtable,
					       find_char, s);
	if (r >= 0)
		r = sd_bus_add_fallback_vtable(s->bus, NULL, ADAPTER_PATH, "org.bluez.GattDescriptor1", desc_vtable,
					       find_desc, s);
	if (r >= 0)
		r = sd_bus_add_node_enumerator(s->bus, NULL, ADAPTER_PATH, enumerate, s);
	return r;
}

/* A device seen for the first time: InterfacesAdded from "/" (BLUEZ.md §2). */
int peer_export(Peer *p)
{
	p->exported = true;
	return sd_bus_emit_object_added(p->stand->bus, p->path);
}

/* After connecting: service, then characteristic, then descriptor, parent first (gdbus/object.c). */
int peer_export_gatt(Peer *p)
{
	if (p->gatt_exported)
		return 0; /* [GATT] Cache = always: the objects stay across reconnections */
	p->gatt_exported = true;
	sd_bus_emit_object_added(p->stand->bus, p->svc_path);
	sd_bus_emit_object_added(p->stand->bus, p->chr_path);
	return sd_bus_emit_object_added(p->stand->bus, p->desc_path);
}

void peer_emit(Peer *p, const char *iface, const char *prop)
{
	const char *path = !strcmp(iface, "org.bluez.Device1") ? p->path : p->chr_path;

	if (p->exported)
		sd_bus_emit_properties_changed(p->stand->bus, path, iface, prop, NULL);
}
