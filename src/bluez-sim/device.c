/* SPDX-License-Identifier: MIT */
/*
 * Device1 of bluez@5.66 for an LE peripheral (BLUEZ.md §3, src/device.c). Connect replies once the ATT
 * channel is up, before the services are resolved: Connected=true → reply → InterfacesAdded(service, char,
 * desc) → ServicesResolved=true. Disconnect drops the link after DISCONNECT_TIMER (2 s, scaled); a lost
 * link gives ServicesResolved=false, (the Disconnect reply,) Connected=false.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "bluez-sim.h"
#include "util.h"

#define CONNECT_USEC 50000.0          /* first advertising event and the CONNECT_IND, roughly */
#define CONNECT_TIMEOUT_USEC 20e6     /* the kernel's LE create-connection timeout */
#define DISCONNECT_USEC 2e6           /* DISCONNECT_TIMER, device.c:68 */
#define RESOLVE_INTERVALS 10.0        /* MTU exchange and primary/characteristic/descriptor discovery */
#define CACHED_INTERVALS 2.0          /* with the GATT cache only the MTU exchange is left */

static const char *const resolved_uuids[] = { "00001800-0000-1000-8000-00805f9b34fb",
					      "00001801-0000-1000-8000-00805f9b34fb", SMP_SERVICE_UUID };

static Stand *peer_stand(const Peer *p)
{
	return p->adapter->stand;
}

static void reply_pending(sd_bus_message **msg, const char *error, const char *message)
{
	if (!*msg)
		return;
	if (error)
		reply_error(*msg, error, message);
	else
		sd_bus_reply_method_return(*msg, NULL);
	*msg = sd_bus_message_unref(*msg);
}

static void set_bool(Peer *p, bool *field, bool value, const char *prop)
{
	if (*field == value)
		return;
	*field = value;
	peer_emit(p, IFACE_DEVICE, prop);
}

/* ServicesResolved=false, the Disconnect replies, Connected=false (device.c:3091-3160); acquired
 * sockets are closed (gatt-client.c:2380-2398). Used for every way a link ends. */
void peer_link_lost(Peer *p)
{
	if (!p->connected)
		return;
	stand_log(peer_stand(p), "%s: link down", p->radio->address);
	p->resolve_timer = sd_event_source_disable_unref(p->resolve_timer);
	p->disconnect_timer = sd_event_source_disable_unref(p->disconnect_timer);
	p->drop_timer = sd_event_source_disable_unref(p->drop_timer);
	radio_disconnected(p->radio);
	gatt_link_down(p);
	pairing_abort(p);
	set_bool(p, &p->resolved, false, "ServicesResolved");
	for (size_t i = 0; i < p->n_disconnect_msgs; i++)
		reply_pending(&p->disconnect_msgs[i], NULL, NULL);
	p->n_disconnect_msgs = 0;
	p->disconnecting = false;
	set_bool(p, &p->connected, false, "Connected");
	for (size_t i = 0; i < peer_stand(p)->n_adapters; i++)
		adapter_advertise_now(&peer_stand(p)->adapters[i]);
}

static int on_resolved(sd_event_source *src, uint64_t usec, void *userdata)
{
	Peer *p = userdata;

	(void)src, (void)usec;
	p->resolve_timer = sd_event_source_disable_unref(p->resolve_timer);
	peer_export_gatt(p);
	if (!p->uuids_resolved) {
		p->uuids_resolved = true;
		peer_emit(p, IFACE_DEVICE, "UUIDs");
	}
	set_bool(p, &p->resolved, true, "ServicesResolved");
	return 0;
}

/* The peer forgot nothing but the device did (a settings erase): it refuses our LTK and drops the link
 * before the ATT socket is up, which 5.66 reports as le-connection-abort-by-local (BLUEZ.md §3). */
static void connect_key_missing(Peer *p)
{
	stand_log(peer_stand(p), "%s: the device has no bond: key missing, link dropped", p->radio->address);
	set_bool(p, &p->connected, true, "Connected");
	reply_pending(&p->connect_msg, ERR_FAILED, "le-connection-abort-by-local");
	p->connected = false;
	peer_emit(p, IFACE_DEVICE, "Connected");
}

static void link_up(Peer *p)
{
	Radio *r = p->radio;
	Stand *s = peer_stand(p);
	double intervals = p->gatt_exported ? CACHED_INTERVALS : RESOLVE_INTERVALS;

	if (p->paired && !r->bonded) {
		connect_key_missing(p);
		pairing_abort(p);
		return;
	}
	radio_connected(r, p);
	r->link_security = !p->paired ? SEC_NONE : r->bond_authenticated ? SEC_AUTHEN : SEC_ENCRYPT;
	p->temporary = false;
	p->expire_timer = sd_event_source_disable_unref(p->expire_timer);
	stand_log(s, "%s: connected via %s", r->address, p->adapter->path);
	set_bool(p, &p->connected, true, "Connected");
	reply_pending(&p->connect_msg, NULL, NULL);
	stand_timer(s, &p->resolve_timer, stand_scaled(s, intervals * (double)link_interval_usec(&s->link)), on_resolved, p);
	gatt_link_up(p);
	pairing_link_up(p);
}

typedef enum TransientFailure {
	TRANSIENT_NONE,
	TRANSIENT_ABORT_BY_LOCAL,  /* Connected=true, the ATT socket fails: le-connection-abort-by-local */
	TRANSIENT_SOFTWARE_ABORT,  /* the connect fails with strerror(ECONNABORTED) */
	TRANSIENT_DROP_UNRESOLVED, /* Connect succeeds, the link drops before ServicesResolved */
} TransientFailure;

uint64_t stand_random(Faults *f)
{
	f->connect_seed ^= f->connect_seed << 13;
	f->connect_seed ^= f->connect_seed >> 7;
	f->connect_seed ^= f->connect_seed << 17;
	return f->connect_seed;
}

/* --connect-failures: does this attempt fail, and how? Seeded, so a run repeats exactly; never more
 * than connect_failures_run in a row. */
static TransientFailure transient_failure_draw(Stand *s)
{
	Faults *f = &s->faults;

	if (f->connect_failures <= 0 || !f->connect_seed)
		return TRANSIENT_NONE;
	if (f->connect_failures_in_row >= f->connect_failures_run ||
	    (double)(stand_random(f) % 1000000) >= f->connect_failures * 1e6) {
		f->connect_failures_in_row = 0;
		return TRANSIENT_NONE;
	}
	f->connect_failures_in_row++;
	return (TransientFailure)(1 + stand_random(f) % 3);
}

static void connect_fails_transiently(Peer *p, TransientFailure kind)
{
	Stand *s = peer_stand(p);

	switch (kind) {
	case TRANSIENT_ABORT_BY_LOCAL:
		stand_log(s, "%s: connect fails: le-connection-abort-by-local (fault knob)", p->radio->address);
		set_bool(p, &p->connected, true, "Connected");
		reply_pending(&p->connect_msg, ERR_FAILED, "le-connection-abort-by-local");
		set_bool(p, &p->connected, false, "Connected");
		break;
	case TRANSIENT_SOFTWARE_ABORT:
		stand_log(s, "%s: connect fails: Software caused connection abort (fault knob)", p->radio->address);
		reply_pending(&p->connect_msg, ERR_FAILED, "Software caused connection abort");
		break;
	default:
		break;
	}
	pairing_abort(p);
}

/* Connect replied, then the link drops before the services resolve (a supervision timeout). */
static int on_drop_unresolved(sd_event_source *src, uint64_t usec, void *userdata)
{
	Peer *p = userdata;

	(void)src, (void)usec;
	p->drop_timer = sd_event_source_disable_unref(p->drop_timer);
	stand_log(peer_stand(p), "%s: link lost before the services resolved (fault knob)", p->radio->address);
	peer_link_lost(p);
	return 0;
}

/* The adapter already has --max-links LE links: its controller refuses LE Create Connection with HCI
 * status 0x07, Memory Capacity Exceeded (Zephyr's ull_central.c ll_create_connection, when no connection
 * context is free). No link comes up, so Connected never changes. The kernel fails the ATT socket with
 * bt_to_errno(0x07) = ENOMEM (net/bluetooth/lib.c), and bluetoothd 5.66 maps every ATT socket error other
 * than ECONNABORTED to -ECONNABORTED: Failed "le-connection-abort-by-local" (device.c:5351-5372,
 * error.c:207-209; BLUEZ.md §3), the same words as an abort by interference. A client cannot tell the
 * two apart, and retrying is right for both: a slot frees when another link ends. */
static void connect_refused_full(Peer *p)
{
	stand_log(peer_stand(p), "%s: %s already has %u LE links (--max-links): Memory Capacity Exceeded",
		  p->radio->address, p->adapter->path, adapter_links(p->adapter));
	reply_pending(&p->connect_msg, ERR_FAILED, "le-connection-abort-by-local");
	pairing_abort(p);
}

static int on_connect_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	Peer *p = userdata;
	Radio *r = p->radio;
	TransientFailure fault;

	(void)src, (void)usec;
	p->connect_timer = sd_event_source_disable_unref(p->connect_timer);
	if (r->offline || r->conn) {
		stand_log(peer_stand(p), "%s: not advertising: connection attempt timed out", r->address);
		reply_pending(&p->connect_msg, ERR_FAILED, "le-connection-abort-by-local");
		pairing_abort(p);
		return 0;
	}
	if (adapter_links(p->adapter) >= peer_stand(p)->max_links) {
		connect_refused_full(p);
		return 0;
	}
	fault = p->connect_msg ? transient_failure_draw(peer_stand(p)) : TRANSIENT_NONE;
	if (fault == TRANSIENT_ABORT_BY_LOCAL || fault == TRANSIENT_SOFTWARE_ABORT) {
		connect_fails_transiently(p, fault);
		return 0;
	}
	link_up(p);
	if (fault == TRANSIENT_DROP_UNRESOLVED && p->connected && p->resolve_timer) {
		/* The discovery never finishes: the link goes where ServicesResolved would have come. */
		p->resolve_timer = sd_event_source_disable_unref(p->resolve_timer);
		stand_timer(peer_stand(p), &p->drop_timer, stand_scaled(peer_stand(p), CONNECT_USEC), on_drop_unresolved, p);
	}
	return 0;
}

/* Connects when the radio advertises; otherwise waits for it up to the kernel's timeout. */
static void connect_attempt(Peer *p)
{
	Stand *s = peer_stand(p);
	bool available = !p->radio->offline && !p->radio->conn;

	stand_timer(s, &p->connect_timer, stand_scaled(s, available ? CONNECT_USEC : CONNECT_TIMEOUT_USEC),
		    on_connect_timer, p);
}

void peer_radio_back(Peer *p)
{
	if (p->connect_timer && !p->connected)
		stand_timer(peer_stand(p), &p->connect_timer, stand_scaled(peer_stand(p), CONNECT_USEC), on_connect_timer, p);
}

bool peer_connect_pending(const Peer *p)
{
	return p->connect_timer != NULL;
}

void peer_connect_start(Peer *p)
{
	if (!p->connected && !p->connect_timer)
		connect_attempt(p);
}

/* Another device's LE connection attempt pending on this adapter: the controller takes one at a time,
 * and the kernel refuses a second (EBUSY), which bluetoothd reports as le-connection-abort-by-local. */
static bool adapter_connect_busy(const Peer *p)
{
	const Adapter *a = p->adapter;

	for (size_t i = 0; i < peer_stand(p)->n_radios; i++)
		if (&a->peers[i] != p && a->peers[i].connect_msg && a->peers[i].connect_timer)
			return true;
	return false;
}

static int device_connect(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;

	(void)error;
	stats_client_call(p->adapter->stand, m, p->radio->address);
	if (!p->adapter->powered)
		return reply_error(m, ERR_NOT_READY, "Resource Not Ready");
	/* LE: success, not AlreadyConnected, even while a Disconnect's 2 s timer runs: the link then
	 * drops under the new caller (device.c dev_connect checks le_state.connected only). */
	if (p->connected)
		return sd_bus_reply_method_return(m, NULL);
	if (p->connect_msg)
		return reply_error(m, ERR_FAILED, "Operation already in progress"); /* strerror(EALREADY), 5.66 */
	if (adapter_connect_busy(p)) {
		stand_log(peer_stand(p), "%s: another LE connection attempt is pending on %s: refused", p->radio->address,
			  p->adapter->path);
		return reply_error(m, ERR_FAILED, "le-connection-abort-by-local");
	}
	p->connect_msg = sd_bus_message_ref(m);
	peer_connect_start(p);
	return 1;
}

static int on_disconnect_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	Peer *p = userdata;

	(void)src, (void)usec;
	p->disconnect_timer = sd_event_source_disable_unref(p->disconnect_timer);
	peer_link_lost(p);
	return 0;
}

static int device_disconnect(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;
	Stand *s = peer_stand(p);

	(void)error;
	if (p->connect_timer && !p->connected) {
		/* A pending Connect is cancelled (device.c:1743-1749). */
		p->connect_timer = sd_event_source_disable_unref(p->connect_timer);
		reply_pending(&p->connect_msg, ERR_FAILED, "br-connection-canceled");
		pairing_abort(p);
		return sd_bus_reply_method_return(m, NULL);
	}
	if (!p->connected)
		return sd_bus_reply_method_return(m, NULL);
	if (p->n_disconnect_msgs == ARRAY_SIZE(p->disconnect_msgs))
		return reply_error(m, ERR_IN_PROGRESS, "Operation already in progress");
	p->disconnect_msgs[p->n_disconnect_msgs++] = sd_bus_message_ref(m);
	if (!p->disconnecting) {
		p->disconnecting = true;
		stand_timer(s, &p->disconnect_timer, stand_scaled(s, DISCONNECT_USEC), on_disconnect_timer, p);
	}
	return 1;
}

static int on_expire(sd_event_source *src, uint64_t usec, void *userdata)
{
	Peer *p = userdata;

	(void)src, (void)usec;
	p->expire_timer = sd_event_source_disable_unref(p->expire_timer);
	if (p->temporary && !p->connected && !p->connect_timer && !p->pairing) {
		stand_log(peer_stand(p), "%s: temporary device expired", p->radio->address);
		peer_remove(p);
	}
	return 0;
}

/* TemporaryTimeout after the last report (device.c:4192-4207); a BlueZ timer, not scaled. */
void peer_arm_expiry(Peer *p)
{
	if (p->temporary)
		stand_timer(peer_stand(p), &p->expire_timer, (uint64_t)(peer_stand(p)->temporary_timeout_s * 1e6), on_expire, p);
}

/* RemoveDevice or expiry: the link, the bond and the objects go. */
void peer_remove(Peer *p)
{
	peer_link_lost(p);
	p->connect_timer = sd_event_source_disable_unref(p->connect_timer);
	p->expire_timer = sd_event_source_disable_unref(p->expire_timer);
	reply_pending(&p->connect_msg, ERR_FAILED, "br-connection-canceled");
	pairing_abort(p);
	gatt_link_down(p);
	for (size_t i = 0; i < p->n_notify_clients; i++)
		stand_free_owner(&p->notify_clients[i]);
	p->n_notify_clients = 0;
	p->notifying = false;
	peer_unexport(p);
	p->paired = p->bonded = p->trusted = p->blocked = false;
	p->seen = p->uuids_resolved = false;
	p->temporary = true;
}

static int get_string(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
		      void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;

	(void)bus, (void)path, (void)iface, (void)error;
	if (!strcmp(prop, "Address"))
		return sd_bus_message_append(reply, "s", p->radio->address);
	if (!strcmp(prop, "AddressType"))
		return sd_bus_message_append(reply, "s", p->radio->random_address ? "random" : "public");
	if (!strcmp(prop, "Adapter"))
		return sd_bus_message_append(reply, "o", p->adapter->path);
	return sd_bus_message_append(reply, "s", p->radio->name);
}

static int get_bool(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
		    void *userdata, sd_bus_error *error)
{
	static const struct {
		const char *name;
		size_t offset;
	} fields[] = {
		{ "Paired", offsetof(Peer, paired) }, { "Bonded", offsetof(Peer, bonded) },
		{ "Trusted", offsetof(Peer, trusted) }, { "Blocked", offsetof(Peer, blocked) },
		{ "Connected", offsetof(Peer, connected) }, { "ServicesResolved", offsetof(Peer, resolved) },
	};
	const char *p = userdata;

	(void)bus, (void)path, (void)iface, (void)error;
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (!strcmp(prop, fields[i].name))
			return sd_bus_message_append(reply, "b", *(const bool *)(p + fields[i].offset));
	return sd_bus_message_append(reply, "b", 0); /* LegacyPairing: LE Secure Connections */
}

static int set_bool_prop(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *value,
			 void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;
	int v, r = sd_bus_message_read(value, "b", &v);

	(void)bus, (void)path, (void)iface, (void)error;
	if (r < 0)
		return r;
	if (!strcmp(prop, "Trusted"))
		set_bool(p, &p->trusted, v, "Trusted");
	else
		set_bool(p, &p->blocked, v, "Blocked");
	return 0;
}

static int get_uuids(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
		     void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;
	int r;

	(void)bus, (void)path, (void)iface, (void)prop, (void)error;
	if (p->uuids_resolved)
		return sd_bus_message_append_strv(reply, (char **)(const char *const[]){ resolved_uuids[0],
					resolved_uuids[1], resolved_uuids[2], NULL });
	r = sd_bus_message_open_container(reply, 'a', "s");
	if (r >= 0 && p->radio->uuid_in_adv)
		r = sd_bus_message_append(reply, "s", SMP_SERVICE_UUID);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* Nordic's company id with a few bytes: a{qv} holding ay, the type bleak insists on (BLUEZ.md §8). */
static int get_manufacturer(sd_bus *bus, const char *path, const char *iface, const char *prop,
			    sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	static const uint8_t data[] = { 's', 'm', 'p' };
	int r;

	(void)bus, (void)path, (void)iface, (void)prop, (void)userdata, (void)error;
	r = sd_bus_message_open_container(reply, 'a', "{qv}");
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'e', "qv");
	if (r >= 0)
		r = sd_bus_message_append(reply, "q", (uint16_t)0x0059);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'v', "ay");
	if (r >= 0)
		r = sd_bus_message_append_array(reply, 'y', data, sizeof(data));
	for (int i = 0; i < 3 && r >= 0; i++)
		r = sd_bus_message_close_container(reply);
	return r;
}

static int get_service_data(sd_bus *bus, const char *path, const char *iface, const char *prop,
			    sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	(void)bus, (void)path, (void)iface, (void)prop, (void)userdata, (void)error;
	return sd_bus_message_append(reply, "a{sv}", 0);
}

const sd_bus_vtable device_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Address", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("AddressType", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Name", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Alias", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Paired", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Bonded", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_WRITABLE_PROPERTY("Trusted", "b", get_bool, set_bool_prop, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_WRITABLE_PROPERTY("Blocked", "b", get_bool, set_bool_prop, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("LegacyPairing", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Connected", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("ServicesResolved", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("UUIDs", "as", get_uuids, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Adapter", "o", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("ManufacturerData", "a{qv}", get_manufacturer, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("ServiceData", "a{sv}", get_service_data, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_METHOD("Connect", "", "", device_connect, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Disconnect", "", "", device_disconnect, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Pair", "", "", device_pair, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("CancelPairing", "", "", device_cancel_pairing, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END
};

/* BlueZ's paths: dev_ + address, service/char/desc + handle in lowercase hex (BLUEZ.md §1). */
void peer_init(Peer *p, Adapter *a, Radio *r)
{
	char addr[18];

	*p = (Peer){ .adapter = a, .radio = r, .write_fd = -1, .notify_fd = -1, .temporary = true };
	snprintf(addr, sizeof(addr), "%s", r->address);
	for (char *c = addr; *c; c++)
		if (*c == ':')
			*c = '_';
	snprintf(p->path, sizeof(p->path), "%s/dev_%s", a->path, addr);
	snprintf(p->svc_path, sizeof(p->svc_path), "%s/service%04x", p->path, HANDLE_SERVICE);
	snprintf(p->chr_path, sizeof(p->chr_path), "%s/char%04x", p->svc_path, HANDLE_CHAR);
	snprintf(p->desc_path, sizeof(p->desc_path), "%s/desc%04x", p->chr_path, HANDLE_CCC);
	if (a->stand->known) {
		/* As after an earlier pairing: in GetManagedObjects before any scan, bonded on both sides. */
		p->exported = p->paired = p->bonded = p->trusted = true;
		p->temporary = false;
		r->bonded = true;
		r->bond_authenticated = true;
	}
}
