/* SPDX-License-Identifier: MIT */
/* smpctl-bluez-sim: a BlueZ 5.66 stand-in on a private D-Bus hosting simulated SMP devices (BLUEZ.md). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "link-model.h"
#include "sim-device.h"

#define SMP_SERVICE_UUID "8d53dc1d-1db7-4cd3-868b-8a527460aa84"
#define SMP_CHAR_UUID "da2e7828-fbce-4e01-ae9e-261174997c48"
#define CCC_UUID "00002902-0000-1000-8000-00805f9b34fb"
#define ADAPTER_PATH "/org/bluez/hci0"
#define PDU_QUEUE 512

typedef struct Stand Stand;

typedef struct Pdu {
	uint16_t len;
	bool last;          /* the last notification of a response frame */
	uint8_t data[512];
} Pdu;

typedef struct PduQueue {
	Pdu *items;
	size_t head, count;
	unsigned head_packets_left; /* LL packets the head PDU still needs */
} PduQueue;

typedef struct Frame {
	uint8_t *data;
	size_t len;
} Frame;

typedef struct Peer {
	Stand *stand;
	char address[18];
	char name[32];
	char path[64], svc_path[80], chr_path[96], desc_path[112];
	SimDevice *dev;
	bool exported;       /* Device1 object on the bus */
	bool gatt_exported;
	bool connected, resolved;
	bool offline;        /* resetting: neither advertising nor connectable */
	bool notifying;      /* StartNotify session */
	bool write_acquired, notify_acquired;
	int write_fd, notify_fd; /* the stand-in's ends of the acquired socket pairs */
	sd_event_source *write_io, *notify_io, *tick;
	PduQueue up, down;
	uint8_t rx[65536];   /* device-side reassembly (smp_bt.c with CONFIG_MCUMGR_TRANSPORT_BT_REASSEMBLY) */
	size_t rx_len, rx_expected;
	Frame requests[32];  /* frames waiting for the device, in its buf_count buffers */
	size_t queued;
	bool busy;
	sd_event_source *done;
	uint8_t replies[4][4096];
	size_t reply_len[4], replies_count;
	unsigned responses_in_flight; /* response buffers not yet sent over the air */
	uint64_t bytes_up;
	uint64_t offline_usec;
	uint8_t value[512];  /* GattCharacteristic1.Value: the last notification (StartNotify path) */
	size_t value_len;
} Peer;

struct Stand {
	sd_bus *bus;
	sd_event *event;
	LinkModel link;
	double time_scale;
	bool reassembly;
	bool discovering;
	char *discovery_owner;
	uint64_t disconnect_after_bytes;
	unsigned drop_notify_every, notifications;
	bool acquire_notify_hangs, acquire_write_fails, known;
	SimConfig cfg;
	Peer peers[4];
	size_t peer_count;
	bool verbose;
};

int objects_register(Stand *s);
int peer_export(Peer *p);
int peer_export_gatt(Peer *p);
void peer_emit(Peer *p, const char *iface, const char *prop);

/* Link and device hosting (bluez-sim.c). */
void peer_client_write(Peer *p, const uint8_t *data, size_t len);
void peer_link_up(Peer *p);
void peer_link_down(Peer *p, bool emit);
void peer_release_write(Peer *p);
void peer_release_notify(Peer *p);
int peer_acquire(Peer *p, bool write, int *client_fd);
