/* SPDX-License-Identifier: MIT */
/* Bluetooth LE through BlueZ: the ble: transport's pure parts (address forms, object paths, notification
 * reassembly, write sizes, D-Bus error classes, passkeys) and the scan behind 'smpctl scan'. sd-bus stays
 * inside the ble: transport (transport-ble.c, ble-find.c, ble-connect.c, ble-pair.c, ble-gatt-io.c,
 * ble-link.c), ble-bluez.c, ble-agent.c and ble-scan.c (STYLE.md §3). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#define BLE_SMP_SERVICE_UUID "8d53dc1d-1db7-4cd3-868b-8a527460aa84"
#define BLE_SMP_CHAR_UUID "da2e7828-fbce-4e01-ae9e-261174997c48"
#define BLE_ATT_MTU_MIN 23
#define BLE_WRITE_MAX 512 /* bluetoothd reads the AcquireWrite socket 512 bytes at a time (BLUEZ.md §4) */

typedef struct BleAddress {
	char adapter[16];  /* "hci1" when the address names one, else "" */
	bool by_name;
	char address[18];  /* upper case, as BlueZ writes it */
	char name[64];
} BleAddress;

/* "AA:BB:CC:DD:EE:FF" (any case) or "name=NAME", either after "hciN/" to name the adapter.
 * Returns 0 or -EINVAL. */
int ble_address_parse(const char *text, BleAddress *out);
/* BlueZ's object path of a device: ADAPTER/dev_AA_BB_CC_DD_EE_FF (BLUEZ.md §1). */
void ble_device_path(const char *adapter_path, const char *address, char *out, size_t out_size);
/* The address in a device object path (…/dev_AA_BB_CC_DD_EE_FF, nothing after it) into out[18].
 * Returns 0 or -EINVAL. */
int ble_address_from_path(const char *path, char out[18]);
/* path is parent or lies below it ("/a/b" is under "/a", "/ab" is not). */
bool ble_path_under(const char *path, const char *parent);

/* Payload of one Write Command or notification for an ATT MTU: min(MTU-3, 512) (BLUEZ.md §5). */
size_t ble_write_size(uint16_t att_mtu);

/* Reassembles SMP frames from notifications by the header's length (REFERENCE.md §6). feed() returns
 * the length of a completed frame (in rx->buf), 0 while incomplete, or -EBADMSG for a fragment that
 * cannot start or continue a frame (the state restarts with the next notification). A frame starts
 * with a response header (op 1 or 3): a server sends nothing else. */
typedef struct BleRx {
	uint8_t buf[8 + 65535];
	size_t len;
} BleRx;
int ble_rx_feed(BleRx *rx, const uint8_t *data, size_t n);
/* feed(), resynchronising: when a notification overruns the frame in progress (a notification was
 * lost), the partial frame is dropped and this notification is tried as the start of the next one.
 * *dropped (if not NULL) is set when bytes were thrown away. */
int ble_rx_notification(BleRx *rx, const uint8_t *data, size_t n, bool *dropped);

/* "123456" (1 to 6 decimal digits, 0..999999). Returns 0 or -EINVAL. */
int ble_passkey_parse(const char *text, uint32_t *out);

/* What a D-Bus error from BlueZ means for the client (BLUEZ.md §3, §4; bluez@5.66 src/error.c). */
typedef enum BleErrorKind {
	BLE_ERROR_OTHER,
	BLE_ERROR_NO_BLUEZ,      /* nobody owns org.bluez */
	BLE_ERROR_TIMEOUT,       /* no answer in time (5.66's lost AcquireNotify reply, a stuck call) */
	BLE_ERROR_GONE,          /* the object is not there (any more) */
	BLE_ERROR_LINK,          /* le-connection-* / br-connection-*: radio trouble, worth a retry */
	BLE_ERROR_IN_PROGRESS,   /* another connect or pairing is under way */
	BLE_ERROR_NOT_READY,     /* adapter powered off */
	BLE_ERROR_NEEDS_PAIRING, /* the characteristic needs an encrypted/authenticated link */
	BLE_ERROR_PAIRING_FAILED,/* Pair() failed: wrong passkey, refused, canceled, timed out */
	BLE_ERROR_ALREADY_PAIRED,/* Pair() on a bonded device */
	BLE_ERROR_UNSUPPORTED,   /* NotSupported, other NotPermitted, UnknownMethod */
} BleErrorKind;
BleErrorKind ble_error_kind(const char *name, const char *message);

typedef struct BleScanResult {
	char address[18];
	char name[64];
	int16_t rssi;
	bool has_rssi;
	bool smp_uuid_advertised; /* its UUIDs list the SMP service */
} BleScanResult;

/* An LE discovery filtered on the SMP service UUID (ISSUE-NOTES 18) for duration_usec, on the caller's
 * loop; devices BlueZ already knows that offer the SMP service are reported too. found() is called once
 * per device when it is first seen; done() once at the end (0, or a negative errno: then
 * ble_scan_error() says why in one line). adapter: "hci1", or NULL for the first powered one. */
typedef struct BleScan BleScan;
int ble_scan_start(sd_event *event, const char *adapter, uint64_t duration_usec,
		   void (*found)(void *userdata, const BleScanResult *r), void (*done)(void *userdata, int err),
		   void *userdata, BleScan **out);
/* On failure *out is still set, for ble_scan_error(), and done() is not called; free it. */
/* Everything seen so far, with the latest name and RSSI. */
const BleScanResult *ble_scan_results(const BleScan *s, size_t *count);
const char *ble_scan_error(const BleScan *s);
/* Stops discovery if still running. Not from inside found()/done(). */
void ble_scan_free(BleScan *s);

/* The same, run to the end: copies at most max results. err gets one line on failure (no BlueZ, no
 * adapter). */
int ble_scan(sd_event *event, const char *adapter, uint64_t duration_usec, BleScanResult *out, size_t max,
	     size_t *count, char *err, size_t err_size);

/* Every ble: transport of the process shares one connection to BlueZ, opened by the first and closed
 * by the last (smpctl(1) RACKS). keep(true) holds it between links too, until keep(false), so that a
 * rack stays one client (one unique bus name) to BlueZ while its devices come and go. Opens nothing. */
void ble_connection_keep(bool keep);
