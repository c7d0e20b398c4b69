/* SPDX-License-Identifier: MIT */
/* The process's one connection to BlueZ, shared by every ble: transport on the loop (smpctl(1) RACKS),
 * and the LE discovery session each adapter has on it. Private to the BLE files. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

typedef struct BleBus BleBus;
typedef struct BleAgentHost BleAgentHost;

/* A reference to the system bus connection of this process on `event`: the first one opens it
 * (DBUS_SYSTEM_BUS_ADDRESS honoured), the last one flushes and closes it. A second loop while the first
 * still holds the connection is refused (-EBUSY): one process, one loop, one connection. */
int ble_bus_ref(sd_event *event, BleBus **out);
void ble_bus_unref(BleBus *b);
sd_bus *ble_bus_get(const BleBus *b);
#define BLE_WRITES_IN_FLIGHT 32u /* WriteValue answers one transport awaits at most */

/* How many WriteValue answers one of the transports may await: the bus bounds pending replies per
 * connection (dbus-daemon's max_replies_per_connection, 128 on the system bus), and they share one. */
unsigned ble_bus_write_share(const BleBus *b);

/* The connection's WriteValue budget, across transports. take() counts a slot and says true, or queues
 * w and says false: w->ready() is then called, with a slot counted for it unless it says false, once one is free (first come,
 * first served). done() gives a slot back when its answer came or the call was dropped; cancel()
 * withdraws w. */
typedef struct BleWriteWaiter BleWriteWaiter;
struct BleWriteWaiter {
	BleWriteWaiter *next;
	bool waiting;
	bool (*ready)(BleWriteWaiter *w); /* false: the slot was not used */
	void *userdata;
};
bool ble_bus_write_take(BleBus *b, BleWriteWaiter *w);
void ble_bus_write_done(BleBus *b);
void ble_bus_write_cancel(BleBus *b, BleWriteWaiter *w);
/* The pairing agent of the connection (ble-agent.c keeps it here: BlueZ takes one agent per sender). */
BleAgentHost **ble_bus_agent_host(BleBus *b);

/*
 * BlueZ keeps one discovery session per sender and adapter: a second StartDiscovery from the same
 * connection is refused with InProgress, and one StopDiscovery ends it for all (bluez@5.66
 * src/adapter.c start_discovery(), stop_discovery(); BLUEZ.md §2). A transport that needs to scan joins
 * the adapter's session: the first one sets the filter (LE only) and starts it, the last one to leave
 * stops it. failed() is called, after the user has been taken out, when BlueZ refused the session.
 */
typedef struct BleDiscoveryUser BleDiscoveryUser;
struct BleDiscoveryUser {
	BleDiscoveryUser *next;
	char adapter[64];
	bool joined;
	void (*failed)(BleDiscoveryUser *u, sd_bus_message *reply, const char *what);
	void *userdata;
};
int ble_discovery_join(BleBus *b, BleDiscoveryUser *u, const char *adapter);
void ble_discovery_leave(BleBus *b, BleDiscoveryUser *u);
