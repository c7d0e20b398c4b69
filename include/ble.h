/* SPDX-License-Identifier: MIT */
/* Bluetooth LE through BlueZ: the ble: transport's address form, notification reassembly, and the scan
 * behind 'smpctl scan'. sd-bus stays inside transport-ble.c and ble-scan.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#define BLE_SMP_SERVICE_UUID "8d53dc1d-1db7-4cd3-868b-8a527460aa84"

typedef struct BleAddress {
	bool by_name;
	char address[18];  /* upper case, as BlueZ writes it */
	char name[64];
} BleAddress;

/* "AA:BB:CC:DD:EE:FF" (any case) or "name=NAME". Returns 0 or -EINVAL. */
int ble_address_parse(const char *text, BleAddress *out);
/* BlueZ's object path of a device: ADAPTER/dev_AA_BB_CC_DD_EE_FF (BLUEZ.md §1). */
void ble_device_path(const char *adapter_path, const char *address, char *out, size_t out_size);

/* Reassembles SMP frames from notifications by the header's length (REFERENCE.md §6). feed() returns
 * the length of a completed frame (in rx->buf), 0 while incomplete, or -EBADMSG for a fragment that
 * cannot start or continue a frame (the state restarts with the next notification). */
typedef struct BleRx {
	uint8_t buf[8 + 65535];
	size_t len;
} BleRx;
int ble_rx_feed(BleRx *rx, const uint8_t *data, size_t n);

typedef struct BleScanResult {
	char address[18];
	char name[64];
	int16_t rssi;
	bool has_rssi;
} BleScanResult;

/* Scans for devices that advertise the SMP service for duration_usec and returns them (at most max).
 * err gets one line on failure (no BlueZ, no adapter). */
int ble_scan(sd_event *event, const char *adapter, uint64_t duration_usec, BleScanResult *out, size_t max,
	     size_t *count, char *err, size_t err_size);
