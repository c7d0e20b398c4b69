/* SPDX-License-Identifier: MIT */
/*
 * One connection to BlueZ for the whole process (ble-bus.h). BlueZ keys discovery sessions, pairing
 * agents and notify sessions by the D-Bus sender (BLUEZ.md §2-§4), so a rack of N devices sharing one
 * connection is one client to BlueZ: this file holds what must then be shared, the connection and each
 * adapter's discovery session; the agent is ble-agent.c's, kept here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ble-bluez.h"
#include "log.h"
#include "util.h"

#define BLE_BUS_ADAPTERS 8
/* dbus-daemon answers a call beyond max_replies_per_connection (128 on the system bus, system.conf)
 * with LimitsExceeded at once. Set aside of them: the bus's own calls (discovery of each adapter, the
 * agent's registration, async matches) and one step call (s->call) of each transport; WriteValue
 * answers have the rest. */
#define BLE_BUS_REPLIES 128u
#define BLE_BUS_RESERVED (2u * BLE_BUS_ADAPTERS)

typedef enum DiscoveryState {
	DISCOVERY_IDLE,
	DISCOVERY_FILTERING, /* SetDiscoveryFilter sent */
	DISCOVERY_STARTING,  /* StartDiscovery sent */
	DISCOVERY_ON,
	DISCOVERY_STOPPING,  /* StopDiscovery sent: the session lasts until its reply */
} DiscoveryState;

typedef struct BleDiscovery {
	BleBus *bus;
	char adapter[64];
	unsigned users;
	DiscoveryState state;
	sd_bus_slot *call;
} BleDiscovery;

struct BleBus {
	unsigned refs;
	sd_event *event;
	sd_bus *bus;
	BleDiscovery discoveries[BLE_BUS_ADAPTERS];
	BleDiscoveryUser *users;
	BleAgentHost *agents;
	unsigned writes;          /* WriteValue answers awaited, all transports */
	BleWriteWaiter *waiting;  /* transports with writes queued for want of a slot, first come first */
};

static BleBus *the_bus;
static bool keep_open; /* ble_connection_keep(): a rack holds the connection between its devices' links */

int ble_bus_ref(sd_event *event, BleBus **out)
{
	BleBus *b = the_bus;
	int r;

	if (b && b->event != event)
		return -EBUSY;
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b)
			return -ENOMEM;
		r = ble_bus_open(event, &b->bus);
		if (r < 0) {
			free(b);
			return r;
		}
		b->event = sd_event_ref(event);
		for (size_t i = 0; i < BLE_BUS_ADAPTERS; i++)
			b->discoveries[i].bus = b;
		the_bus = b;
	}
	b->refs++;
	*out = b;
	return 0;
}

static void bus_free(BleBus *b)
{
	for (size_t i = 0; i < BLE_BUS_ADAPTERS; i++)
		sd_bus_slot_unref(b->discoveries[i].call);
	/* What the transports sent last (StopNotify, StopDiscovery, Disconnect) goes out before the close. */
	sd_bus_flush_close_unref(b->bus);
	sd_event_unref(b->event);
	if (the_bus == b)
		the_bus = NULL;
	free(b);
}

void ble_bus_unref(BleBus *b)
{
	if (b && --b->refs == 0 && !keep_open)
		bus_free(b);
}

void ble_connection_keep(bool keep)
{
	keep_open = keep;
	if (!keep && the_bus && the_bus->refs == 0)
		bus_free(the_bus);
}

sd_bus *ble_bus_get(const BleBus *b)
{
	return b->bus;
}

/* At least one, or writes would never go: beyond ~110 transports the reservation above is not met. */
static unsigned write_budget(const BleBus *b)
{
	unsigned used = BLE_BUS_RESERVED + b->refs;

	return used < BLE_BUS_REPLIES ? BLE_BUS_REPLIES - used : 1;
}

unsigned ble_bus_write_share(const BleBus *b)
{
	unsigned share = write_budget(b) / (b->refs ? b->refs : 1);

	return MIN(MAX(share, 1u), BLE_WRITES_IN_FLIGHT);
}

bool ble_bus_write_take(BleBus *b, BleWriteWaiter *w)
{
	BleWriteWaiter **p;

	if (b->writes < write_budget(b) && !b->waiting) {
		b->writes++;
		return true;
	}
	if (!w->waiting) {
		for (p = &b->waiting; *p; p = &(*p)->next)
			;
		*p = w;
		w->next = NULL;
		w->waiting = true;
	}
	return false;
}

void ble_bus_write_cancel(BleBus *b, BleWriteWaiter *w)
{
	if (!w->waiting)
		return;
	for (BleWriteWaiter **p = &b->waiting; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			break;
		}
	w->waiting = false;
	w->next = NULL;
}

/* A slot is free again: the longest waiting transport has it (ready() uses it, or not, and may queue
 * itself again at the end). */
void ble_bus_write_done(BleBus *b)
{
	if (b->writes)
		b->writes--;
	while (b->waiting && b->writes < write_budget(b)) {
		BleWriteWaiter *w = b->waiting;

		b->waiting = w->next;
		w->waiting = false;
		w->next = NULL;
		b->writes++;
		if (!w->ready(w))
			b->writes--;
	}
}

BleAgentHost **ble_bus_agent_host(BleBus *b)
{
	return &b->agents;
}

/* ------------------------------------------------------------------------------------------------ */
/* The discovery session of each adapter                                                            */

static BleDiscovery *discovery_of(BleBus *b, const char *adapter, bool create)
{
	BleDiscovery *free_one = NULL;

	for (size_t i = 0; i < BLE_BUS_ADAPTERS; i++) {
		BleDiscovery *d = &b->discoveries[i];

		if (!strcmp(d->adapter, adapter))
			return d;
		if (!free_one && !d->adapter[0])
			free_one = d;
	}
	if (create && free_one)
		snprintf(free_one->adapter, sizeof(free_one->adapter), "%s", adapter);
	return create ? free_one : NULL;
}

/* BlueZ refused the session: every user of the adapter hears it, each taken out first (its failed()
 * may close its transport, and a rack's others with it: the list is searched afresh each time). The
 * reference held meanwhile keeps the bus, and b->users, alive after the last transport's close. */
static void discovery_failed(BleDiscovery *d, sd_bus_message *m, const char *what)
{
	BleBus *b = d->bus;
	BleDiscoveryUser *u;

	d->state = DISCOVERY_IDLE;
	b->refs++;
	do {
		for (u = b->users; u && strcmp(u->adapter, d->adapter); u = u->next)
			;
		if (u) {
			ble_discovery_leave(b, u);
			u->failed(u, m, what);
		}
	} while (u);
	ble_bus_unref(b);
}

static int on_filter_set(sd_bus_message *m, void *userdata, sd_bus_error *e);

/* The filter is the session's (one per sender): LE only, no UUIDs (ISSUE-NOTES 18: advertisements often
 * omit the 128-bit UUID), which is what every transport wants. */
static int discovery_begin(BleDiscovery *d)
{
	d->state = DISCOVERY_FILTERING;
	return ble_call(d->bus->bus, &d->call, d->adapter, BLUEZ_ADAPTER, "SetDiscoveryFilter", 0, on_filter_set, d,
			"a{sv}", 1, "Transport", "s", "le");
}

/* 5.66 keeps the session until the controller stopped scanning (adapter.c stop_discovery(),
 * discovery_stop(), stop_discovery_complete()): a StartDiscovery before then is answered InProgress and
 * the session still ends, so a user who joined meanwhile starts a new one after this reply. */
static int on_discovery_stopped(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	BleDiscovery *d = userdata;

	(void)m, (void)e;
	d->call = sd_bus_slot_unref(d->call);
	d->state = DISCOVERY_IDLE;
	if (!d->users)
		return 0;
	log_debug("ble: the discovery session on %s stopped with %u waiting: starting again", d->adapter, d->users);
	if (discovery_begin(d) < 0)
		discovery_failed(d, NULL, "SetDiscoveryFilter");
	return 0;
}

static void discovery_stop(BleDiscovery *d)
{
	log_debug("ble: nobody scans on %s any more: StopDiscovery", d->adapter);
	d->state = DISCOVERY_STOPPING;
	if (ble_call(d->bus->bus, &d->call, d->adapter, BLUEZ_ADAPTER, "StopDiscovery", 0, on_discovery_stopped, d,
		     NULL) < 0)
		d->state = DISCOVERY_IDLE;
}

static int on_discovery_started(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	BleDiscovery *d = userdata;
	const sd_bus_error *err = sd_bus_message_is_method_error(m, NULL) ? sd_bus_message_get_error(m) : NULL;

	(void)e;
	d->call = sd_bus_slot_unref(d->call);
	/* InProgress: a session of this connection already runs (BLUEZ.md §2); it is ours, fine. Never one
	 * that is stopping: the start waits for the stop's reply (on_discovery_stopped()). */
	if (err && ble_error_kind(err->name, err->message) != BLE_ERROR_IN_PROGRESS) {
		discovery_failed(d, m, "StartDiscovery");
		return 0;
	}
	d->state = DISCOVERY_ON;
	/* StopDiscovery while the start is pending is refused (InProgress, adapter.c stop_discovery()):
	 * the last user may have left meanwhile. */
	if (!d->users)
		discovery_stop(d);
	return 0;
}

static int on_filter_set(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	BleDiscovery *d = userdata;
	int r;

	(void)e;
	d->call = sd_bus_slot_unref(d->call);
	if (sd_bus_message_is_method_error(m, NULL)) {
		discovery_failed(d, m, "SetDiscoveryFilter");
		return 0;
	}
	if (!d->users) {
		d->state = DISCOVERY_IDLE;
		return 0;
	}
	d->state = DISCOVERY_STARTING;
	r = ble_call(d->bus->bus, &d->call, d->adapter, BLUEZ_ADAPTER, "StartDiscovery", 0, on_discovery_started, d,
		     NULL);
	if (r < 0)
		discovery_failed(d, NULL, "StartDiscovery");
	return 0;
}

int ble_discovery_join(BleBus *b, BleDiscoveryUser *u, const char *adapter)
{
	BleDiscovery *d;
	int r;

	if (u->joined)
		return 0;
	d = discovery_of(b, adapter, true);
	if (!d)
		return -ENOSPC;
	snprintf(u->adapter, sizeof(u->adapter), "%s", adapter);
	u->next = b->users;
	b->users = u;
	u->joined = true;
	d->users++;
	/* Stopping: the stop's reply starts it again. */
	if (d->state != DISCOVERY_IDLE) {
		log_debug("ble: joining the discovery session on %s (%u scanning)", adapter, d->users);
		return 0;
	}
	r = discovery_begin(d);
	if (r < 0) {
		d->state = DISCOVERY_IDLE;
		ble_discovery_leave(b, u);
	}
	return r;
}

void ble_discovery_leave(BleBus *b, BleDiscoveryUser *u)
{
	BleDiscovery *d;

	if (!u->joined)
		return;
	for (BleDiscoveryUser **p = &b->users; *p; p = &(*p)->next)
		if (*p == u) {
			*p = u->next;
			break;
		}
	u->joined = false;
	u->next = NULL;
	d = discovery_of(b, u->adapter, false);
	if (!d || --d->users > 0)
		return;
	/* While filtering, starting or stopping, the reply's handler sees nobody left and stops or does not
	 * start. */
	if (d->state == DISCOVERY_ON)
		discovery_stop(d);
}
