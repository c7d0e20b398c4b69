/* SPDX-License-Identifier: MIT */
/*
 * The object tree of bluetoothd 5.66 (BLUEZ.md §1): ObjectManager on "/", AgentManager1 on /org/bluez,
 * Adapter1 on /org/bluez/hciN, Device1 and the SMP service/characteristic/CCC under it with BlueZ's
 * paths. Objects exist only while exported (object-find callbacks); properties that BlueZ omits at times
 * (RSSI when not seen, MTU when disconnected) live in a second vtable whose find callback says so.
 * InterfacesAdded/Removed come from "/" and PropertiesChanged from the object's path (sd-bus).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bluez-sim.h"
#include "util.h"

enum { LEVEL_DEVICE, LEVEL_SERVICE, LEVEL_CHAR, LEVEL_DESC, LEVEL_SEEN, LEVEL_CONNECTED_CHAR };

static const char *peer_level_path(const Peer *p, int level)
{
	switch (level) {
	case LEVEL_SERVICE: return p->svc_path;
	case LEVEL_CHAR: case LEVEL_CONNECTED_CHAR: return p->chr_path;
	case LEVEL_DESC: return p->desc_path;
	default: return p->path;
	}
}

static bool peer_level_exists(const Peer *p, int level)
{
	if (!p->exported)
		return false;
	switch (level) {
	case LEVEL_DEVICE: return true;
	case LEVEL_SEEN: return p->seen;
	case LEVEL_CONNECTED_CHAR: return p->gatt_exported && p->connected;
	default: return p->gatt_exported;
	}
}

static Peer *peer_at(Adapter *a, const char *path, int level)
{
	for (size_t i = 0; i < a->stand->n_radios; i++) {
		Peer *p = &a->peers[i];

		if (peer_level_exists(p, level) && strcmp(path, peer_level_path(p, level)) == 0)
			return p;
	}
	return NULL;
}

Peer *peer_find(Stand *s, const char *path)
{
	for (size_t a = 0; a < s->n_adapters; a++) {
		Peer *p = peer_at(&s->adapters[a], path, LEVEL_DEVICE);

		if (p)
			return p;
	}
	return NULL;
}

#define DEFINE_FIND(name, level) \
	static int name(sd_bus *bus, const char *path, const char *iface, void *userdata, void **found, \
			sd_bus_error *error) \
	{ \
		Peer *p = peer_at(((ObjectKey *)userdata)->adapter, path, level); \
		(void)bus, (void)iface, (void)error; \
		*found = p; \
		return p != NULL; \
	}

DEFINE_FIND(find_device, LEVEL_DEVICE)
DEFINE_FIND(find_seen, LEVEL_SEEN)
DEFINE_FIND(find_service, LEVEL_SERVICE)
DEFINE_FIND(find_char, LEVEL_CHAR)
DEFINE_FIND(find_connected_char, LEVEL_CONNECTED_CHAR)
DEFINE_FIND(find_desc, LEVEL_DESC)

static int find_adapter(sd_bus *bus, const char *path, const char *iface, void *userdata, void **found,
			sd_bus_error *error)
{
	Adapter *a = ((ObjectKey *)userdata)->adapter;

	(void)bus, (void)iface, (void)error;
	*found = a;
	return strcmp(path, a->path) == 0;
}

static int enumerate(sd_bus *bus, const char *prefix, void *userdata, char ***nodes, sd_bus_error *error)
{
	Stand *s = userdata;
	char **list = calloc(s->n_adapters * (1 + s->n_radios * 4) + 1, sizeof(char *));
	size_t n = 0;

	(void)bus, (void)prefix, (void)error;
	if (!list)
		return -ENOMEM;
	for (size_t a = 0; a < s->n_adapters; a++) {
		list[n++] = stand_strdup(s->adapters[a].path);
		for (size_t i = 0; i < s->n_radios; i++) {
			Peer *p = &s->adapters[a].peers[i];

			if (!p->exported)
				continue;
			list[n++] = stand_strdup(p->path);
			if (p->gatt_exported) {
				list[n++] = stand_strdup(p->svc_path);
				list[n++] = stand_strdup(p->chr_path);
				list[n++] = stand_strdup(p->desc_path);
			}
		}
	}
	*nodes = list;
	return 0;
}

static int get_rssi(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
		    void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;

	(void)bus, (void)path, (void)iface, (void)prop, (void)error;
	return sd_bus_message_append(reply, "n", p->radio->rssi);
}

static int get_mtu(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
		   void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;

	(void)bus, (void)path, (void)iface, (void)prop, (void)error;
	return sd_bus_message_append(reply, "q", (uint16_t)p->adapter->stand->link.mtu);
}

/* RSSI exists while the device is seen by a discovery (device.c:1092-1101 of bluez@5.66). */
static const sd_bus_vtable seen_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("RSSI", "n", get_rssi, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_VTABLE_END
};

/* MTU exists while connected (since 5.63, characteristic_mtu_exists). */
static const sd_bus_vtable mtu_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("MTU", "q", get_mtu, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_VTABLE_END
};

static int register_adapter(Stand *s, Adapter *a)
{
	static const struct {
		const char *iface;
		const sd_bus_vtable *vtable;
		sd_bus_object_find_t find;
	} tables[] = {
		{ IFACE_ADAPTER, adapter_vtable, find_adapter },
		{ IFACE_DEVICE, device_vtable, find_device },
		{ IFACE_DEVICE, seen_vtable, find_seen },
		{ IFACE_SERVICE, service_vtable, find_service },
		{ IFACE_CHAR, char_vtable, find_char },
		{ IFACE_CHAR, mtu_vtable, find_connected_char },
		{ IFACE_DESC, desc_vtable, find_desc },
	};
	int r = 0;

	/* One key per table: sd-bus refuses two vtables of an interface with the same userdata or find. */
	for (size_t i = 0; i < ARRAY_SIZE(tables) && r >= 0; i++) {
		a->keys[i].adapter = a;
		r = sd_bus_add_fallback_vtable(s->bus, NULL, a->path, tables[i].iface, tables[i].vtable, tables[i].find,
					       &a->keys[i]);
	}
	return r;
}

int objects_register(Stand *s)
{
	int r = sd_bus_add_object_manager(s->bus, NULL, "/");

	if (r >= 0)
		r = sd_bus_add_object_vtable(s->bus, NULL, "/org/bluez", "org.bluez.AgentManager1", agent_manager_vtable, s);
	if (r >= 0)
		r = sd_bus_add_node_enumerator(s->bus, NULL, "/org/bluez", enumerate, s);
	for (size_t i = 0; i < s->n_adapters && r >= 0; i++)
		r = register_adapter(s, &s->adapters[i]);
	return r;
}

static const char *iface_path(Peer *p, const char *iface)
{
	if (!strcmp(iface, IFACE_DEVICE))
		return p->path;
	if (!strcmp(iface, IFACE_SERVICE))
		return p->svc_path;
	if (!strcmp(iface, IFACE_DESC))
		return p->desc_path;
	return p->chr_path;
}

/* PropertiesChanged from the object's path; nothing for objects not announced yet (gdbus/object.c:1761). */
void peer_emit(Peer *p, const char *iface, const char *prop)
{
	bool gatt = strcmp(iface, IFACE_DEVICE) != 0;

	if (!p->exported || (gatt && !p->gatt_exported))
		return;
	sd_bus_emit_properties_changed(p->adapter->stand->bus, iface_path(p, iface), iface, prop, NULL);
}

void peer_export(Peer *p)
{
	if (p->exported)
		return;
	p->exported = true;
	sd_bus_emit_object_added(p->adapter->stand->bus, p->path);
}

/* Service, characteristic, descriptor: parent first (gdbus/object.c:554-558). */
void peer_export_gatt(Peer *p)
{
	sd_bus *bus = p->adapter->stand->bus;

	if (p->gatt_exported)
		return;
	p->gatt_exported = true;
	sd_bus_emit_object_added(bus, p->svc_path);
	sd_bus_emit_object_added(bus, p->chr_path);
	sd_bus_emit_object_added(bus, p->desc_path);
}

void peer_unexport(Peer *p)
{
	sd_bus *bus = p->adapter->stand->bus;

	if (!p->exported)
		return;
	if (p->gatt_exported) {
		sd_bus_emit_object_removed(bus, p->desc_path);
		sd_bus_emit_object_removed(bus, p->chr_path);
		sd_bus_emit_object_removed(bus, p->svc_path);
	}
	sd_bus_emit_object_removed(bus, p->path);
	p->gatt_exported = false;
	p->exported = false;
}

int reply_error(sd_bus_message *m, const char *name, const char *message)
{
	return sd_bus_reply_method_errorf(m, name, "%s", message);
}
