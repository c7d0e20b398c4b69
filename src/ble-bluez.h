/* SPDX-License-Identifier: MIT */
/* BlueZ's D-Bus objects as the ble: transport and the scan read them (BLUEZ.md §1-§4, §7), and
 * smpctl's own pairing agent (ISSUE-NOTES 19). Private to the BLE files: the only header with sd-bus. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "ble-bus.h"
#include "ble.h"

#define BLUEZ_SERVICE "org.bluez"
#define BLUEZ_ADAPTER "org.bluez.Adapter1"
#define BLUEZ_DEVICE "org.bluez.Device1"
#define BLUEZ_CHAR "org.bluez.GattCharacteristic1"
#define BLUEZ_AGENT_MANAGER "org.bluez.AgentManager1"
#define DBUS_OBJECT_MANAGER "org.freedesktop.DBus.ObjectManager"
#define DBUS_PROPERTIES "org.freedesktop.DBus.Properties"

/* Which BleProps fields the dict held. */
enum {
	BLE_PROP_ADDRESS = 1u << 0,
	BLE_PROP_NAME = 1u << 1,
	BLE_PROP_RSSI = 1u << 2,
	BLE_PROP_UUIDS = 1u << 3,
	BLE_PROP_CONNECTED = 1u << 4,
	BLE_PROP_RESOLVED = 1u << 5,
	BLE_PROP_PAIRED = 1u << 6,
	BLE_PROP_POWERED = 1u << 7,
	BLE_PROP_UUID = 1u << 8,
	BLE_PROP_VALUE = 1u << 9,
	BLE_PROP_MTU = 1u << 10,
};

/* The properties the BLE code looks at, from any interface's a{sv}; unknown keys are skipped. */
typedef struct BleProps {
	unsigned has;
	char address[18];
	char name[64];
	char uuid[40];
	int16_t rssi;
	bool smp_uuid;         /* UUIDs lists the SMP service */
	bool connected, resolved, paired, powered;
	uint16_t mtu;
	const uint8_t *value;  /* borrowed from the message */
	size_t value_len;
} BleProps;

/* Reads the a{sv} the message is at. */
int ble_props_read(sd_bus_message *m, BleProps *p);

/* Calls visit(path, interface, properties) for each interface of a GetManagedObjects reply
 * (a{oa{sa{sv}}}) or of an InterfacesAdded body (o a{sa{sv}}). A negative return from visit stops. */
typedef int (*BleObjectVisit)(void *userdata, const char *path, const char *iface, const BleProps *p);
int ble_objects_read(sd_bus_message *m, BleObjectVisit visit, void *userdata);
int ble_interfaces_added_read(sd_bus_message *m, BleObjectVisit visit, void *userdata);
/* InterfacesRemoved(o, as): whether it removes iface from an object at or below `under`. */
bool ble_interfaces_removed_has(sd_bus_message *m, const char *under, const char *iface);

/* Picks the adapter: the named one ("hci1"), else the first powered (bleak does the same). */
typedef struct BleAdapterPick {
	const char *want;   /* NULL: first powered */
	char path[64];
	char off[64];       /* an adapter that fits but is powered off, for the message */
	unsigned seen;
} BleAdapterPick;
int ble_adapter_pick_visit(void *userdata, const char *path, const char *iface, const BleProps *p);
/* One line on why no adapter was picked. */
void ble_adapter_pick_explain(const BleAdapterPick *pick, char *out, size_t size);

/* An asynchronous method call on org.bluez with its own timeout (0: sd-bus's 25 s). */
int ble_call(sd_bus *bus, sd_bus_slot **slot, const char *path, const char *iface, const char *member,
	     uint64_t timeout_usec, sd_bus_message_handler_t callback, void *userdata, const char *types, ...);
/* Opens the system bus (DBUS_SYSTEM_BUS_ADDRESS honoured) on the loop. */
int ble_bus_open(sd_event *event, sd_bus **out);
/* PropertiesChanged of every object under /org/bluez (devices, characteristics), installed before
 * GetManagedObjects so that no change falls between the two (BLUEZ.md §7). */
int ble_match_properties_changed(sd_bus *bus, sd_bus_slot **slot, sd_bus_message_handler_t callback,
				 void *userdata);
/* One line for a failed call: "no BlueZ on the system bus …" or "WHAT failed: message (name)". Returns
 * the negative errno that fits the error. */
int ble_bus_error_explain(const sd_bus_error *e, const char *what, char *out, size_t size);

/* org.bluez.Agent1 on our bus connection, registered once with capability KeyboardDisplay (ISSUE-NOTES 19)
 * however many transports share the connection: BlueZ takes one agent per sender. Each transport holds a
 * BleAgent, its share of it: the agent's calls go to the share told about the device they name; a
 * passkey, when given, is the one that device shows. */
typedef struct BleAgent BleAgent;
typedef struct BleAgentOptions {
	bool has_passkey;
	uint32_t passkey;
	bool make_default;
	/* The user, when there is one to ask (TransportOptions has the contract); NULL otherwise. */
	int (*ask_passkey)(const char *who, uint32_t *passkey);
	int (*confirm_number)(const char *who, uint32_t number);
	void (*notice)(const char *line);
} BleAgentOptions;
int ble_agent_new(BleBus *bus, const BleAgentOptions *options, BleAgent **out);
void ble_agent_set_device(BleAgent *a, const char *device_path);
/* Why the agent refused or what it could not do, for the user; NULL if nothing went wrong. */
const char *ble_agent_problem(const BleAgent *a);
/* BlueZ asked the agent for a passkey, a PIN or a confirmation, or told it one to show: the pairing was
 * not Just Works. */
bool ble_agent_was_asked(const BleAgent *a);
/* BlueZ's agent has one request at a time and fails a second pairing's with EBUSY (bluez@5.66
 * src/agent.c agent_request_passkey() and its kin: "if (agent->request) return -EBUSY"): one Pair() at
 * a time per connection. True when the turn is a's (taken now, or already), false while another has it. */
bool ble_agent_turn_take(BleAgent *a);
void ble_agent_turn_end(BleAgent *a);
/* Frees the share; the last one unregisters the agent (asynchronously). */
void ble_agent_free(BleAgent *a);
