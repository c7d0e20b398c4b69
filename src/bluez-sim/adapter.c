/* SPDX-License-Identifier: MIT */
/*
 * Adapter1 of bluez@5.66 (BLUEZ.md §2, src/adapter.c): per-sender discovery sessions and filters,
 * validation of SetDiscoveryFilter, and the advertising reports that make devices appear while a
 * session is active (InterfacesAdded the first time, PropertiesChanged(RSSI) afterwards).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bluez-sim.h"
#include "util.h"

#define ADV_FIRST_USEC 100000.0  /* Zephyr's fast advertising interval, BT_GAP_ADV_FAST_INT_MIN_2 */
#define ADV_REPEAT_USEC 1000000.0
#define ADV_REPEAT_FLOOR_USEC 100000u /* re-reports never spin, even at --time-scale 0 */

static DiscoveryClient *client_find(Adapter *a, const char *owner)
{
	for (size_t i = 0; i < MAX_CLIENTS; i++)
		if (a->clients[i].owner && !strcmp(a->clients[i].owner, owner))
			return &a->clients[i];
	return NULL;
}

static DiscoveryClient *client_get(Adapter *a, const char *owner)
{
	DiscoveryClient *c = client_find(a, owner);

	for (size_t i = 0; !c && i < MAX_CLIENTS; i++)
		if (!a->clients[i].owner) {
			c = &a->clients[i];
			*c = (DiscoveryClient){ .owner = stand_strdup(owner) };
		}
	return c;
}

static void client_free(DiscoveryClient *c)
{
	c->stopping = sd_event_source_disable_unref(c->stopping);
	c->stop_msg = sd_bus_message_unref(c->stop_msg);
	stand_free_owner(&c->owner);
	*c = (DiscoveryClient){ 0 };
}

static bool any_active(const Adapter *a)
{
	for (size_t i = 0; i < MAX_CLIENTS; i++)
		if (a->clients[i].owner && a->clients[i].active)
			return true;
	return false;
}

/* adapter.c:6965-7016: UUIDs match advertised ones only; RSSI is a floor; Pathloss needs TxPower, which
 * the simulated devices do not advertise; Pattern is a prefix of the address or the name. */
static bool filter_match(const DiscoveryFilter *f, const Radio *r)
{
	bool uuid = f->n_uuids == 0;

	if (!f->set)
		return true;
	if (!strcmp(f->transport, "bredr") || f->has_pathloss)
		return false;
	for (size_t i = 0; i < f->n_uuids; i++)
		uuid |= r->uuid_in_adv && !strcasecmp(f->uuids[i], SMP_SERVICE_UUID);
	if (!uuid || (f->has_rssi && r->rssi < f->rssi))
		return false;
	return !f->pattern[0] || !strncmp(r->address, f->pattern, strlen(f->pattern)) ||
	       !strncmp(r->name, f->pattern, strlen(f->pattern));
}

static bool report_matches(const Adapter *a, const Radio *r, bool *filtered)
{
	bool match = false;

	*filtered = false;
	for (size_t i = 0; i < MAX_CLIENTS; i++) {
		const DiscoveryClient *c = &a->clients[i];

		if (!c->owner || !c->active)
			continue;
		*filtered |= c->filter.set;
		match |= filter_match(&c->filter, r);
	}
	return match;
}

/* One advertising report of radio r on adapter a (adapter.c:7076-7260, device.c:5849-5886). */
static void report(Adapter *a, Peer *p)
{
	bool filtered;

	if (p->radio->offline || p->radio->conn || !report_matches(a, p->radio, &filtered))
		return;
	if (!p->exported) {
		p->seen = true;
		p->temporary = !p->paired;
		peer_export(p);
	} else if (!p->seen || filtered) {
		/* A filtered discovery re-signals RSSI on every report; without one only changes of 8 dBm. */
		p->seen = true;
		peer_emit(p, IFACE_DEVICE, "RSSI");
	}
	peer_arm_expiry(p);
}

static int on_scan(sd_event_source *src, uint64_t usec, void *userdata)
{
	Adapter *a = userdata;
	uint64_t next = stand_scaled(a->stand, ADV_REPEAT_USEC);

	(void)src, (void)usec;
	for (size_t i = 0; i < a->stand->n_radios; i++)
		report(a, &a->peers[i]);
	stand_timer(a->stand, &a->scan_timer, MAX(next, ADV_REPEAT_FLOOR_USEC), on_scan, a);
	return 0;
}

void adapter_advertise_now(Adapter *a)
{
	if (a->discovering)
		stand_timer(a->stand, &a->scan_timer, 0, on_scan, a);
}

/* RSSI is invalidated for every device seen when the last session ends (adapter.c:1693-1699). */
static void invalidate_rssi(Peer *p)
{
	sd_bus_message *m = NULL;

	p->seen = false;
	if (!p->exported)
		return;
	if (sd_bus_message_new_signal(p->adapter->stand->bus, &m, p->path, "org.freedesktop.DBus.Properties",
				      "PropertiesChanged") >= 0 &&
	    sd_bus_message_append(m, "sa{sv}as", IFACE_DEVICE, 0, 1, "RSSI") >= 0)
		sd_bus_send(NULL, m, NULL);
	sd_bus_message_unref(m);
}

static void discovery_update(Adapter *a)
{
	bool active = any_active(a);

	if (active == a->discovering)
		return;
	a->discovering = active;
	sd_bus_emit_properties_changed(a->stand->bus, a->path, IFACE_ADAPTER, "Discovering", NULL);
	if (active) {
		stand_timer(a->stand, &a->scan_timer, stand_scaled(a->stand, ADV_FIRST_USEC), on_scan, a);
		return;
	}
	a->scan_timer = sd_event_source_disable_unref(a->scan_timer);
	for (size_t i = 0; i < a->stand->n_radios; i++)
		if (a->peers[i].seen)
			invalidate_rssi(&a->peers[i]);
}

void adapter_sender_gone(Adapter *a, const char *owner)
{
	DiscoveryClient *c = client_find(a, owner);

	if (c) {
		client_free(c);
		discovery_update(a);
	}
}

static int start_discovery(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Adapter *a = userdata;
	DiscoveryClient *c;
	int r;

	(void)error;
	stats_client_call(a->stand, m, a->path);
	if (!a->powered || a->stand->faults.discovery_not_ready == DISCOVERY_NOT_READY_START)
		return reply_error(m, ERR_NOT_READY, "Resource Not Ready");
	c = client_get(a, sd_bus_message_get_sender(m));
	if (!c)
		return reply_error(m, ERR_FAILED, "Too many discovery clients");
	/* Still in discovery_list while its stop is pending: btd_error_busy (adapter.c start_discovery()). */
	if (c->active)
		return reply_error(m, ERR_IN_PROGRESS, "Operation already in progress");
	c->active = true;
	/* The reply comes first, Discovering=true after it (adapter.c:1817-1866). */
	r = sd_bus_reply_method_return(m, NULL);
	discovery_update(a);
	return r;
}

static unsigned active_clients(const Adapter *a)
{
	unsigned n = 0;

	for (size_t i = 0; i < MAX_CLIENTS; i++)
		n += a->clients[i].owner && a->clients[i].active;
	return n;
}

static int on_stopped(sd_event_source *src, uint64_t usec, void *userdata)
{
	Adapter *a = userdata;

	(void)usec;
	for (size_t i = 0; i < MAX_CLIENTS; i++) {
		DiscoveryClient *c = &a->clients[i];

		if (c->owner && c->stopping == src) {
			sd_bus_reply_method_return(c->stop_msg, NULL);
			client_free(c);
		}
	}
	discovery_update(a);
	return 0;
}

static int stop_discovery(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Adapter *a = userdata;
	DiscoveryClient *c;
	int r;

	(void)error;
	stats_client_call(a->stand, m, a->path);
	if (!a->powered)
		return reply_error(m, ERR_NOT_READY, "Resource Not Ready");
	c = client_find(a, sd_bus_message_get_sender(m));
	if (!c || !c->active)
		return reply_error(m, ERR_FAILED, "No discovery started");
	if (c->stopping)
		return reply_error(m, ERR_IN_PROGRESS, "Operation already in progress");
	/* The last session stops the controller's scan first: the client stays in discovery_list, its
	 * filter kept, until MGMT_OP_STOP_DISCOVERY completes (adapter.c stop_discovery(), discovery_stop(),
	 * stop_discovery_complete()). */
	if (a->stand->faults.stop_discovery_delay_ms && active_clients(a) == 1) {
		c->stop_msg = sd_bus_message_ref(m);
		return sd_event_add_time_relative(a->stand->event, &c->stopping, CLOCK_MONOTONIC,
						  a->stand->faults.stop_discovery_delay_ms * 1000ull, 0, on_stopped, a) < 0 ?
			-ENOMEM : 1;
	}
	/* The client and its filter go with the session: bleak sets its filter again every time. */
	client_free(c);
	r = sd_bus_reply_method_return(m, NULL);
	discovery_update(a);
	return r;
}

static int read_uuids(sd_bus_message *m, DiscoveryFilter *f)
{
	const char *u;
	int r = sd_bus_message_enter_container(m, 'v', "as");

	if (r >= 0)
		r = sd_bus_message_enter_container(m, 'a', "s");
	while (r >= 0 && (r = sd_bus_message_read(m, "s", &u)) > 0) {
		size_t len = strlen(u);

		if (f->n_uuids == MAX_FILTER_UUIDS || (len != 4 && len != 8 && len != 36))
			return -EINVAL; /* bt_string_to_uuid() fails */
		snprintf(f->uuids[f->n_uuids++], sizeof(f->uuids[0]), "%s", u);
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	return r;
}

static int read_string(sd_bus_message *m, char *out, size_t size)
{
	const char *v;
	int r = sd_bus_message_read(m, "v", "s", &v);

	if (r < 0 || strlen(v) >= size)
		return -EINVAL;
	snprintf(out, size, "%s", v);
	return 0;
}

/* One key of SetDiscoveryFilter; the variant must hold exactly the type BlueZ reads (adapter.c:2542-2829). */
static int read_filter_key(sd_bus_message *m, const char *key, const char *type, DiscoveryFilter *f)
{
	int v = 0;

	if (!strcmp(key, "UUIDs") && !strcmp(type, "as"))
		return read_uuids(m, f);
	if (!strcmp(key, "RSSI") && !strcmp(type, "n")) {
		f->has_rssi = true;
		return sd_bus_message_read(m, "v", "n", &f->rssi) < 0 || f->rssi < -127 || f->rssi > 20 ? -EINVAL : 0;
	}
	if (!strcmp(key, "Pathloss") && !strcmp(type, "q")) {
		f->has_pathloss = true;
		return sd_bus_message_read(m, "v", "q", &f->pathloss) < 0 || f->pathloss > 137 ? -EINVAL : 0;
	}
	if (!strcmp(key, "Transport") && !strcmp(type, "s")) {
		if (read_string(m, f->transport, sizeof(f->transport)) < 0)
			return -EINVAL;
		return !strcmp(f->transport, "auto") || !strcmp(f->transport, "le") || !strcmp(f->transport, "bredr") ?
			0 : -EINVAL;
	}
	if ((!strcmp(key, "DuplicateData") || !strcmp(key, "Discoverable")) && !strcmp(type, "b")) {
		if (sd_bus_message_read(m, "v", "b", &v) < 0)
			return -EINVAL;
		*(key[0] == 'D' && key[1] == 'u' ? &f->duplicate : &f->discoverable) = v;
		return 0;
	}
	if (!strcmp(key, "Pattern") && !strcmp(type, "s"))
		return read_string(m, f->pattern, sizeof(f->pattern));
	return -EINVAL;
}

static int parse_filter(sd_bus_message *m, DiscoveryFilter *f)
{
	int r = sd_bus_message_enter_container(m, 'a', "{sv}");

	*f = (DiscoveryFilter){ .duplicate = false }; /* the code's default, not the doc's (adapter.c:2711) */
	snprintf(f->transport, sizeof(f->transport), "auto");
	while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *key, *type;

		f->set = true;
		if (sd_bus_message_read(m, "s", &key) < 0 || sd_bus_message_peek_type(m, NULL, &type) < 0 ||
		    read_filter_key(m, key, type, f) < 0)
			return -EINVAL;
		r = sd_bus_message_exit_container(m);
	}
	if (r < 0)
		return r;
	return f->has_rssi && f->has_pathloss ? -EINVAL : 0;
}

static int set_discovery_filter(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Adapter *a = userdata;
	DiscoveryFilter f;
	DiscoveryClient *c;

	(void)error;
	stats_client_call(a->stand, m, a->path);
	if (!a->powered || a->stand->faults.discovery_not_ready == DISCOVERY_NOT_READY_FILTER)
		return reply_error(m, ERR_NOT_READY, "Resource Not Ready");
	if (parse_filter(m, &f) < 0)
		return reply_error(m, ERR_INVALID_ARGS, MSG_INVALID_ARGS);
	c = client_get(a, sd_bus_message_get_sender(m));
	if (!c)
		return reply_error(m, ERR_FAILED, "Too many discovery clients");
	c->filter = f;
	if (!f.set && !c->active)
		client_free(c); /* an empty dict clears the caller's filter */
	return sd_bus_reply_method_return(m, NULL);
}

static int get_discovery_filters(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(void)userdata, (void)error;
	return sd_bus_reply_method_return(m, "as", 7, "UUIDs", "RSSI", "Pathloss", "Transport", "DuplicateData",
					  "Discoverable", "Pattern");
}

/* adapter.c:3522-3553: unknown → DoesNotExist; connected → disconnect first, reply after it. */
static int remove_device(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Adapter *a = userdata;
	const char *path;
	Peer *p;
	int r = sd_bus_message_read(m, "o", &path);

	(void)error;
	if (r < 0)
		return r;
	if (!a->powered)
		return reply_error(m, ERR_NOT_READY, "Resource Not Ready");
	p = peer_find(a->stand, path);
	if (!p || p->adapter != a)
		return reply_error(m, ERR_DOES_NOT_EXIST, "Does Not Exist");
	peer_remove(p);
	return sd_bus_reply_method_return(m, NULL);
}

static int get_prop(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
		    void *userdata, sd_bus_error *error)
{
	Adapter *a = userdata;
	char name[32];

	(void)bus, (void)path, (void)iface, (void)error;
	snprintf(name, sizeof(name), "smpctl-bluez-sim #%u", a->index);
	if (!strcmp(prop, "Address"))
		return sd_bus_message_append(reply, "s", a->address);
	if (!strcmp(prop, "AddressType"))
		return sd_bus_message_append(reply, "s", "public");
	if (!strcmp(prop, "Name") || !strcmp(prop, "Alias"))
		return sd_bus_message_append(reply, "s", name);
	if (!strcmp(prop, "Modalias"))
		return sd_bus_message_append(reply, "s", "usb:v1D6Bp0246d0542");
	if (!strcmp(prop, "Class"))
		return sd_bus_message_append(reply, "u", (uint32_t)0x7c010c);
	if (!strcmp(prop, "PairableTimeout") || !strcmp(prop, "DiscoverableTimeout"))
		return sd_bus_message_append(reply, "u", (uint32_t)(prop[0] == 'D' ? 180 : 0));
	if (!strcmp(prop, "UUIDs"))
		return sd_bus_message_append(reply, "as", 2, "00001800-0000-1000-8000-00805f9b34fb",
					     "00001801-0000-1000-8000-00805f9b34fb");
	if (!strcmp(prop, "Roles"))
		return sd_bus_message_append(reply, "as", 2, "central", "peripheral");
	if (!strcmp(prop, "ExperimentalFeatures"))
		return sd_bus_message_append(reply, "as", 0);
	if (!strcmp(prop, "Powered"))
		return sd_bus_message_append(reply, "b", a->powered);
	if (!strcmp(prop, "Discovering"))
		return sd_bus_message_append(reply, "b", a->discovering);
	return sd_bus_message_append(reply, "b", !strcmp(prop, "Pairable"));
}

/* Powering off drops every connection and ends discovery. */
static int set_powered(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *value,
		       void *userdata, sd_bus_error *error)
{
	Adapter *a = userdata;
	int on, r = sd_bus_message_read(value, "b", &on);

	(void)bus, (void)path, (void)iface, (void)prop, (void)error;
	if (r < 0 || a->powered == !!on)
		return r;
	a->powered = on;
	if (!on) {
		for (size_t i = 0; i < a->stand->n_radios; i++)
			if (a->peers[i].connected)
				peer_link_lost(&a->peers[i]);
		for (size_t i = 0; i < MAX_CLIENTS; i++)
			if (a->clients[i].owner)
				client_free(&a->clients[i]);
		discovery_update(a);
	}
	sd_bus_emit_properties_changed(a->stand->bus, a->path, IFACE_ADAPTER, "Powered", NULL);
	return 0;
}

const sd_bus_vtable adapter_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Address", "s", get_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("AddressType", "s", get_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Name", "s", get_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Alias", "s", get_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Class", "u", get_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_WRITABLE_PROPERTY("Powered", "b", get_prop, set_powered, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Discoverable", "b", get_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("DiscoverableTimeout", "u", get_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Pairable", "b", get_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("PairableTimeout", "u", get_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Discovering", "b", get_prop, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("UUIDs", "as", get_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Modalias", "s", get_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Roles", "as", get_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("ExperimentalFeatures", "as", get_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_METHOD("StartDiscovery", "", "", start_discovery, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("StopDiscovery", "", "", stop_discovery, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("SetDiscoveryFilter", "a{sv}", "", set_discovery_filter, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("GetDiscoveryFilters", "", "as", get_discovery_filters, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("RemoveDevice", "o", "", remove_device, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END
};

void adapter_init(Adapter *a, Stand *s, unsigned index)
{
	a->stand = s;
	a->index = index;
	a->powered = true;
	snprintf(a->path, sizeof(a->path), "/org/bluez/hci%u", index);
	snprintf(a->address, sizeof(a->address), "00:1A:7D:DA:71:%02X", 0x13 + index);
	for (size_t i = 0; i < s->n_radios; i++)
		peer_init(&a->peers[i], a, &s->radios[i]);
	airtime_init(&a->air, &s->link, s->n_radios, s->anchor_placement);
}

unsigned adapter_links(const Adapter *a)
{
	unsigned n = 0;

	for (size_t i = 0; i < a->stand->n_radios; i++)
		n += a->peers[i].connected;
	return n;
}
