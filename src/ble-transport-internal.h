/* SPDX-License-Identifier: MIT */
/* The ble: transport's state, shared by its files (transport-ble.c describes the steps; each file holds
 * one part of them). Private to those files. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ble-bluez.h"
#include "ble.h"
#include "transport.h"

#define USEC_PER_SEC 1000000ull
#define USEC_PER_MSEC 1000ull
#define BLE_RETRY_USEC (1 * USEC_PER_SEC)
#define BLE_CONNECT_TRIES 6

typedef enum BleStep {
	BLE_IDLE,
	BLE_FINDING,
	BLE_SCANNING,
	BLE_CONNECTING,
	BLE_CONNECT_WAIT,
	BLE_RESOLVING,
	BLE_NOTIFYING,
	BLE_PAIRING,
	BLE_REMOVING,
	BLE_WRITING,
	BLE_OPEN,
} BleStep;

typedef struct BleState {
	BleAddress want;
	BleAgentOptions agent_options;
	BleBus *shared;               /* the process's connection (ble-bus.c); bus is its sd_bus */
	sd_bus *bus;
	BleDiscoveryUser scan;        /* joined while this transport scans */
	sd_bus_slot *match_added, *match_removed, *match_props, *call;
	sd_event_source *retry, *deadline, *lost_later;
	uint64_t deadline_usec;
	BleAgent *agent;
	BleStep step;
	char adapter[64], device[128], chr[192];
	bool dev_connected, dev_paired;   /* as BlueZ last said */
	bool paired_before;               /* a bond from an earlier session, not from this open */
	bool was_connected, we_connected; /* Disconnect only a link we made */
	bool bond_removed;
	bool we_paired;          /* our Pair() succeeded in this open */
	bool pair_first;         /* the device needs pairing: Pair() before the notification setup */
	bool blip;               /* Connected=true seen during this Connect */
	unsigned blip_failures;  /* consecutive Connect failures after such a blip */
	int notify_fd, write_fd;
	sd_event_source *notify_io, *write_io;
	uint16_t mtu;
	bool start_notify, notify_started, write_value;
	bool notify_restarted;        /* a stale StartNotify session of ours was stopped once */
	size_t reassembly;
	BleRx rx;
	uint8_t *txq;           /* writes waiting for POLLOUT or a WriteValue slot: [u16 length][bytes]…,
				 * the length's top bit set on a frame's first piece */
	size_t txq_len;
	unsigned writes_pending;
	bool write_refused;     /* a WriteValue was refused: nothing more is written before the reset */
	BleWriteWaiter write_waiter;  /* queued for a slot of the connection's WriteValue budget */
	/* WriteValue calls awaiting their answer: slots of this transport, so that none of its callbacks
	 * runs after it closed on the connection that stays (ble-bus.c). */
	sd_bus_slot *writes[BLE_WRITES_IN_FLIGHT];
	unsigned connect_tries, resolve_tries, scans;
	uint64_t scan_started_usec;
	sd_event_source *scan_timer;  /* --scan-timeout */
	BleScanResult seen[8];        /* other devices heard while scanning, for the not-found message */
	size_t n_seen;
	int connect_lock_fd;          /* held from Connect until its answer: one LE connect per adapter */
	bool lock_waited;
	char last_connect_error[160];
	char error[512];
} BleState;

/* transport-ble.c: the operation table */
void ble_close(Transport *t);
void ble_quiesce(Transport *t);

/* ble-link.c: BlueZ's signals, ending an open or a link, helpers for every step */
const char *ble_who(const BleState *s);
void ble_notice(Transport *t, const char *line);
void ble_describe_step(Transport *t);
void ble_fail(Transport *t, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void ble_fail_call(Transport *t, sd_bus_message *reply, const char *what);
const sd_bus_error *ble_reply_error(sd_bus_message *reply);
uint64_t ble_budget(const BleState *s, uint64_t most);
int ble_call_step(Transport *t, const char *path, const char *iface, const char *member, uint64_t usec,
		  sd_bus_message_handler_t callback);
void ble_link_down(Transport *t, const char *why);
int ble_add_matches(Transport *t);

/* ble-find.c: FINDING, SCANNING */
int ble_get_objects(Transport *t);
int ble_scan_for_device(Transport *t);
void ble_describe_not_found(const BleState *s, char *e, size_t n);
int ble_visit_added(void *userdata, const char *path, const char *iface, const BleProps *p);
void ble_scan_changed(Transport *t, const char *path, const BleProps *p);

/* ble-connect.c: CONNECTING, RESOLVING, Disconnect */
int ble_connect(Transport *t);
void ble_connect_lock_release(BleState *s);
int ble_retry_connect_later(Transport *t, const char *why);
int ble_resolved(Transport *t);
void ble_disconnect_and_wait(Transport *t);

/* ble-pair.c: PAIRING, REMOVING */
int ble_pair(Transport *t);
int ble_remove_bond(Transport *t);

/* ble-gatt-io.c: NOTIFYING, WRITING, the open link's I/O */
int ble_visit_char(void *userdata, const char *path, const char *iface, const BleProps *p);
int ble_char_found(Transport *t);
int ble_notify_start(Transport *t);
void ble_deliver(Transport *t, const uint8_t *data, size_t n);
bool ble_drain_notifications(Transport *t);
void ble_forget_link(BleState *s);
int ble_write_one(Transport *t, const uint8_t *p, size_t n, bool frame_start);
