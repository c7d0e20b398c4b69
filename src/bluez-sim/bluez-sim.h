/* SPDX-License-Identifier: MIT */
/*
 * smpctl-bluez-sim: a BlueZ 5.66 stand-in on a private D-Bus hosting simulated SMP devices (BLUEZ.md).
 *
 * A Radio is one simulated peripheral (a SimDevice behind Zephyr's smp_bt.c, its advertising and its one
 * connection); a Peer is what bluetoothd knows of that radio under one adapter (the Device1 object, its
 * GATT objects, its bond). While connected, the radio's link (radio.c) moves ATT PDUs at the rate of
 * the link model and hands them to the peer's acquired sockets or StartNotify sessions (gatt.c).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "airtime.h"
#include "link-model.h"
#include "sim-device.h"
#include "sim-idle-host.h"

#define SMP_SERVICE_UUID "8d53dc1d-1db7-4cd3-868b-8a527460aa84"
#define SMP_CHAR_UUID "da2e7828-fbce-4e01-ae9e-261174997c48"
#define CCC_UUID "00002902-0000-1000-8000-00805f9b34fb"

#define IFACE_ADAPTER "org.bluez.Adapter1"
#define IFACE_DEVICE "org.bluez.Device1"
#define IFACE_SERVICE "org.bluez.GattService1"
#define IFACE_CHAR "org.bluez.GattCharacteristic1"
#define IFACE_DESC "org.bluez.GattDescriptor1"
#define IFACE_AGENT "org.bluez.Agent1"

/* src/error.c and device.c of bluez@5.66 */
#define ERR_FAILED "org.bluez.Error.Failed"
#define ERR_IN_PROGRESS "org.bluez.Error.InProgress"
#define ERR_NOT_PERMITTED "org.bluez.Error.NotPermitted"
#define ERR_INVALID_ARGS "org.bluez.Error.InvalidArguments"
#define ERR_DOES_NOT_EXIST "org.bluez.Error.DoesNotExist"
#define ERR_ALREADY_EXISTS "org.bluez.Error.AlreadyExists"
#define ERR_NOT_SUPPORTED "org.bluez.Error.NotSupported"
#define ERR_NOT_READY "org.bluez.Error.NotReady"
#define ERR_NOT_CONNECTED "org.bluez.Error.NotConnected"
#define MSG_INVALID_ARGS "Invalid arguments in method call"

#define MAX_ADAPTERS 4
#define MAX_RADIOS AIRTIME_LINKS_MAX /* 32: eight per adapter on four adapters, or all on one */
#define MAX_CLIENTS 16      /* discovery clients per adapter, notify sessions per characteristic */
#define MAX_AGENTS 16
#define MAX_SEEN_CLIENTS 64 /* distinct senders remembered for --stats-file */
#define MAX_FILTER_UUIDS 8
#define PDU_QUEUE 1024
#define ATT_VALUE_MAX 512   /* BT_ATT_MAX_VALUE_LEN */
#define RESPONSES_MAX 8

/* Handles of the SMP service as a Zephyr application with GAP, GATT and SMP lays them out. */
#define HANDLE_SERVICE 0x0010
#define HANDLE_CHAR 0x0011
#define HANDLE_CCC 0x0013

typedef struct Stand Stand;
typedef struct Adapter Adapter;
typedef struct Peer Peer;
typedef struct Radio Radio;

typedef enum Security {
	SEC_NONE = 1,     /* Zephyr security level 1: open */
	SEC_ENCRYPT = 2,  /* encryption, Just Works is enough (CONFIG_MCUMGR_TRANSPORT_BT_PERM_RW_ENCRYPT) */
	SEC_AUTHEN = 3,   /* authenticated pairing (MITM) needed (_PERM_RW_AUTHEN, Zephyr >= 4.0 default) */
} Security;

typedef enum IoCap {
	IO_DISPLAY_ONLY,
	IO_DISPLAY_YES_NO,
	IO_KEYBOARD_ONLY,
	IO_NO_IO,
	IO_KEYBOARD_DISPLAY,
} IoCap;

typedef struct DiscoveryFilter {
	bool set;
	char uuids[MAX_FILTER_UUIDS][40];
	size_t n_uuids;
	bool has_rssi, has_pathloss;
	int16_t rssi;
	uint16_t pathloss;
	char transport[8];
	bool duplicate, discoverable;
	char pattern[64];
} DiscoveryFilter;

enum { DISCOVERY_NOT_READY_FILTER = 1, DISCOVERY_NOT_READY_START };

typedef struct DiscoveryClient {
	char *owner;          /* unique bus name; NULL = free slot */
	bool active;          /* StartDiscovery was called */
	sd_event_source *stopping; /* --stop-discovery-delay-ms: StopDiscovery answered when this fires */
	sd_bus_message *stop_msg;
	DiscoveryFilter filter;
} DiscoveryClient;

typedef struct Pdu {
	uint16_t len;
	size_t link_left;     /* link bytes (value + 7) still to send */
	bool last;            /* last notification of a response */
	uint8_t data[ATT_VALUE_MAX];
} Pdu;

typedef struct PduQueue {
	Pdu *items;
	size_t head, count;
} PduQueue;

typedef struct Frame {
	uint8_t *data;
	size_t len;
	unsigned conn_id;
} Frame;

/* The Agent1 objects registered with AgentManager1 (ISSUE-NOTES 19). */
typedef struct Agent {
	char *owner;
	char *path;
	IoCap cap;
} Agent;

/* One simulated device (a Zephyr SMP server) and its radio. */
struct Radio {
	Stand *stand;
	unsigned index;
	char address[18];
	char name[64];
	bool random_address;
	bool uuid_in_adv;
	int16_t rssi;
	bool has_passkey;        /* passkey= of --device: the one this device shows, over --passkey */
	uint32_t passkey;
	unsigned on_after_ms;     /* on-after= of --device: powered on (advertising) this long after the start */
	SimDevice *dev;
	SimIdleHost idle;        /* --idle-erase: the firmware's idle erase of slot 1 */
	bool offline;            /* resetting: neither advertising nor connectable */
	bool bonded;             /* its settings hold a bond with the host */
	bool bond_authenticated;
	bool bond_erased;        /* its settings were erased: the bond in RAM goes at the next reset */
	Peer *conn;              /* the connected peer, or NULL */
	Security link_security;  /* level of the current connection */
	/* the link (radio.c) */
	PduQueue up, down;      /* moved in the events its adapter's radio schedules (airtime.h) */
	uint64_t bytes_up, bytes_down;  /* this connection's, for the disconnect fault knobs */
	/* the device's side of smp_bt.c */
	uint8_t *rx;
	size_t rx_len, rx_expected;
	bool rx_active;          /* a reassembly buffer is taken */
	Frame queue[32];
	size_t queued;
	bool busy;               /* handling a frame, then sending its response (buffers_used()) */
	bool no_rsp_buffer;      /* … answering it with rc 2 in its own buffer: none was free for a response */
	sd_event_source *work;
	Frame responses[RESPONSES_MAX];
	size_t n_responses;
	size_t response_pdus;    /* notifications of the current response not yet on the air */
	sd_event_source *reset_timer;
	uint64_t offline_usec;
	unsigned conn_id;        /* responses go to the connection their request came from (smp_bt.c ud->id) */
	uint64_t disconnect_at;  /* fault knobs: bytes up after which the link drops, 0 = never */
	/* --delay-notify-ms: notifications on their way to bluetoothd */
	Pdu *delayed;
	uint64_t *delayed_at;
	size_t delayed_head, delayed_count;
	sd_event_source *delay_timer;
};

/* What bluetoothd knows of one radio under one adapter. */
struct Peer {
	Adapter *adapter;
	Radio *radio;
	char path[64], svc_path[80], chr_path[96], desc_path[112];
	bool exported;           /* Device1 on the bus */
	bool gatt_exported;      /* [GATT] Cache = always: kept across connections */
	bool temporary;          /* discovered, never connected or paired: expires */
	bool seen;               /* in the current discovery: RSSI present */
	bool paired, bonded, trusted, blocked;
	bool connected, resolved;
	bool disconnecting;
	bool uuids_resolved;     /* UUIDs include the resolved service */
	sd_bus_message *connect_msg;     /* a pending Connect */
	sd_bus_message *disconnect_msgs[4];
	size_t n_disconnect_msgs;
	sd_event_source *connect_timer, *resolve_timer, *disconnect_timer, *expire_timer, *drop_timer;
	/* pairing (agent.c) */
	sd_bus_message *pair_msg;
	sd_bus_slot *agent_call;
	sd_event_source *pair_timer;
	bool pairing, pairing_started;
	char *pair_owner, *pair_path;    /* the agent asked, or NULL: NoInputNoOutput (device.c:2828-2832) */
	IoCap pair_cap;
	int pair_method;
	void (*pair_done)(Peer *p, const char *error, const char *message);
	/* GATT client (gatt.c) */
	char *notify_clients[MAX_CLIENTS];
	bool notify_registered[MAX_CLIENTS]; /* the client's notify_id is set (gatt-client.c) */
	size_t n_notify_clients;
	bool notifying;
	bool write_acquired, notify_acquired;
	int write_fd, notify_fd;          /* the stand-in's ends of the acquired socket pairs */
	char *write_owner, *notify_owner;
	sd_event_source *write_io, *notify_io;
	sd_bus_message *notify_msg;       /* an AcquireNotify that waits (or hangs, 5.66) */
	sd_bus_message *ccc_msg;          /* a StartNotify waiting for pairing */
	uint8_t value[ATT_VALUE_MAX];
	size_t value_len;
};

/* Userdata of one vtable registration: sd-bus wants a distinct pointer per vtable of an interface. */
typedef struct ObjectKey {
	Adapter *adapter;
} ObjectKey;

struct Adapter {
	Stand *stand;
	ObjectKey keys[8];
	unsigned index;
	char path[24];
	char address[18];
	bool powered;
	bool discovering;
	DiscoveryClient clients[MAX_CLIENTS];
	sd_event_source *scan_timer;
	Peer peers[MAX_RADIOS];
	/* its radio, shared by the links it is central of (airtime.h; radio.c runs the events) */
	Airtime air;
	AirPick pick;            /* the event air_timer is armed for */
	sd_event_source *air_timer;
	uint64_t origin;         /* CLOCK_MONOTONIC at simulated time 0, taken at the first connection */
	bool origin_set;
	uint64_t clock;          /* simulated time of the last event: all that moves it at --time-scale 0 */
};

typedef struct Faults {
	uint64_t disconnect_after_bytes;  /* once: the link drops after this many bytes went up */
	uint64_t disconnect_after_notified; /* once: ... after the device notified this many bytes */
	uint64_t random_seed;             /* --disconnect-random: once, at a random byte count */
	unsigned drop_notify;             /* every Nth notification is lost */
	unsigned delay_notify_ms;
	unsigned flood_notify;            /* every notification is sent this many times more */
	bool acquire_notify_hangs, acquire_write_fails;
	bool lose_reset_answer;           /* the device restarts before its answer to a reset goes out */
	/* --connect-failures P: a Connect fails for a transient reason with probability P, at most
	 * connect_failures_run times in a row (--connect-failures-run), drawn from connect_seed */
	double connect_failures;
	unsigned connect_failures_run, connect_failures_in_row;
	uint64_t connect_seed;
	/* --gatt-errors P: AcquireWrite, AcquireNotify and StartNotify answer a transient error with
	 * probability P, drawn from connect_seed too */
	double gatt_errors;
	/* --discovery-not-ready filter|start: that call answers NotReady, as 5.66 on an unpowered adapter */
	unsigned discovery_not_ready;     /* 0, DISCOVERY_NOT_READY_FILTER or _START */
	unsigned stop_discovery_delay_ms; /* the controller's stop of the last session takes this long */
	unsigned write_value_fails, write_values; /* --write-value-fails N: the Nth WriteValue, once */
	unsigned corrupt_write, writes;   /* --corrupt-write N: the Nth write's last byte flipped, once */
	unsigned notifications;
	bool disconnect_fired;
} Faults;

struct Stand {
	sd_bus *bus;
	sd_event *event;
	LinkModel link;
	double time_scale;
	unsigned max_links;      /* LE links one adapter's controller takes (--max-links) */
	AirPlacement anchor_placement; /* where a new link's first anchor goes (--anchor-placement) */
	bool reassembly;
	/* smp_bt_tx_pkt() waits for each notification to be sent before the work queue takes the next frame
	 * (Zephyr); off: REFERENCE.md §14's model, where it moves on once the response is queued. */
	bool tx_wait;
	bool known;
	Security security;
	IoCap device_io;
	uint32_t passkey;
	double temporary_timeout_s;
	SimConfig cfg;
	Faults faults;
	Adapter adapters[MAX_ADAPTERS];
	size_t n_adapters;
	Radio radios[MAX_RADIOS];
	size_t n_radios;
	Agent agents[MAX_AGENTS];
	Agent *default_agent;
	bool verbose;
	const char *ready_file;
	const char *stats_file;  /* --stats-file: air time and bytes per adapter, written at exit */
	char *seen_clients[MAX_SEEN_CLIENTS]; /* unique names that called Connect, discovery or agent methods */
	size_t n_seen_clients;
};

/* bluez-sim.c */
void stand_log(const Stand *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint64_t stand_scaled(const Stand *s, double usec);
int stand_timer(Stand *s, sd_event_source **slot, uint64_t usec, sd_event_time_handler_t cb, void *userdata);
char *stand_strdup(const char *s);
void stand_free_owner(char **owner);

/* options.c */
int options_parse(Stand *s, int argc, char **argv);

/* objects.c: registration, lookups and the signals of gdbus/object.c */
int objects_register(Stand *s);
Peer *peer_find(Stand *s, const char *path);
void peer_emit(Peer *p, const char *iface, const char *prop);
void peer_export(Peer *p);
void peer_export_gatt(Peer *p);
void peer_unexport(Peer *p);
int reply_error(sd_bus_message *m, const char *name, const char *message);
uint64_t stand_random(Faults *f);

/* adapter.c */
extern const sd_bus_vtable adapter_vtable[];
void adapter_init(Adapter *a, Stand *s, unsigned index);
void adapter_sender_gone(Adapter *a, const char *owner);
void adapter_advertise_now(Adapter *a);
unsigned adapter_links(const Adapter *a);

/* device.c */
extern const sd_bus_vtable device_vtable[];
void peer_init(Peer *p, Adapter *a, Radio *r);
void peer_link_lost(Peer *p);
void peer_radio_back(Peer *p);
void peer_remove(Peer *p);
void peer_arm_expiry(Peer *p);
void peer_connect_start(Peer *p);
bool peer_connect_pending(const Peer *p);

/* agent.c: AgentManager1 and pairing */
extern const sd_bus_vtable agent_manager_vtable[];
int device_pair(sd_bus_message *m, void *userdata, sd_bus_error *error);
int device_cancel_pairing(sd_bus_message *m, void *userdata, sd_bus_error *error);
void agents_sender_gone(Stand *s, const char *owner);
int pairing_start(Peer *p, const char *owner, void (*done)(Peer *, const char *, const char *));
void pairing_abort(Peer *p);
void pairing_link_up(Peer *p);

/* gatt.c */
extern const sd_bus_vtable service_vtable[];
extern const sd_bus_vtable char_vtable[];
extern const sd_bus_vtable desc_vtable[];
void gatt_link_up(Peer *p);
void gatt_link_down(Peer *p);
void gatt_sender_gone(Peer *p, const char *owner);
bool gatt_subscribed(const Peer *p);
void gatt_notify(Peer *p, const uint8_t *data, size_t len);

/* radio.c: the link and the device behind it */
int radio_init(Radio *r, Stand *s, unsigned index);
void radio_free(Radio *r);
void radio_connected(Radio *r, Peer *p);
void radio_disconnected(Radio *r);
void radio_ccc_disabled(Radio *r);
void radio_client_write(Radio *r, const uint8_t *data, size_t len);
bool radio_security_ok(const Radio *r);
uint64_t radio_air_now(Adapter *a);
void radio_air_free(Adapter *a);

/* stats.c: --stats-file */
int stats_write(Stand *s, const char *path);
/* Logs "OBJECT: METHOD from SENDER" and remembers the sender, for the clients line of --stats-file. */
void stats_client_call(Stand *s, sd_bus_message *m, const char *object);
