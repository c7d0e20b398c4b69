/* SPDX-License-Identifier: MIT */
/* Pure parts of the BLE transport: addresses, object paths, write sizes, reassembly, error classes. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ble.h"
#include "smp.h"
#include "util.h"

int ble_address_parse(const char *text, BleAddress *out)
{
	const char *slash = strchr(text, '/');

	*out = (BleAddress){ 0 };
	/* "hci1/AA:…": through that adapter (a rack spreads its devices over several). */
	if (slash && strncmp(text, "hci", 3) == 0) {
		size_t n = (size_t)(slash - text);

		if (n == 3 || n >= sizeof(out->adapter) || strspn(text + 3, "0123456789") != n - 3)
			return -EINVAL;
		memcpy(out->adapter, text, n);
		text = slash + 1;
	}
	if (strncmp(text, "name=", 5) == 0) {
		size_t n = strlen(text + 5);

		if (n == 0 || n >= sizeof(out->name))
			return -EINVAL;
		out->by_name = true;
		memcpy(out->name, text + 5, n + 1);
		return 0;
	}
	if (strlen(text) != 17)
		return -EINVAL;
	for (int i = 0; i < 17; i++) {
		char c = text[i];

		if (i % 3 == 2 ? c != ':' : !isxdigit((unsigned char)c))
			return -EINVAL;
		out->address[i] = (char)toupper((unsigned char)c);
	}
	return 0;
}

void ble_device_path(const char *adapter_path, const char *address, char *out, size_t out_size)
{
	int n = snprintf(out, out_size, "%s/dev_%s", adapter_path, address);

	if (n < 0 || (size_t)n >= out_size) {
		out[0] = '\0'; /* a truncated path would name another object */
		return;
	}
	for (char *c = out + (n > 17 ? n - 17 : 0); *c; c++)
		if (*c == ':')
			*c = '_';
}

int ble_address_from_path(const char *path, char out[18])
{
	const char *dev = strrchr(path, '/');

	if (!dev || strncmp(dev, "/dev_", 5) != 0 || strlen(dev + 5) != 17)
		return -EINVAL;
	dev += 5;
	for (int i = 0; i < 17; i++) {
		char c = dev[i];

		if (i % 3 == 2 ? c != '_' : !isxdigit((unsigned char)c))
			return -EINVAL;
		out[i] = i % 3 == 2 ? ':' : (char)toupper((unsigned char)c);
	}
	out[17] = '\0';
	return 0;
}

bool ble_path_under(const char *path, const char *parent)
{
	size_t n = strlen(parent);

	return n > 0 && strncmp(path, parent, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

size_t ble_write_size(uint16_t att_mtu)
{
	if (att_mtu < BLE_ATT_MTU_MIN)
		att_mtu = BLE_ATT_MTU_MIN;
	return MIN((size_t)att_mtu - 3, (size_t)BLE_WRITE_MAX);
}

int ble_rx_feed(BleRx *rx, const uint8_t *data, size_t n)
{
	SmpHeader h;
	size_t want;

	if (rx->len == 0) {
		/* The first notification of a frame carries the whole header, and a server only answers. */
		if (smp_header_decode(data, n, &h) < 0 || (h.op != SMP_OP_READ_RSP && h.op != SMP_OP_WRITE_RSP))
			return -EBADMSG;
	}
	if (n > sizeof(rx->buf) - rx->len) {
		rx->len = 0;
		return -EBADMSG;
	}
	memcpy(rx->buf + rx->len, data, n);
	rx->len += n;
	smp_header_decode(rx->buf, rx->len, &h);
	want = SMP_HEADER_SIZE + (size_t)h.len;
	if (rx->len < want)
		return 0;
	if (rx->len > want) {
		/* Never two frames in one notification (smp_bt.c smp_bt_tx_pkt): this one is garbage. */
		rx->len = 0;
		return -EBADMSG;
	}
	rx->len = 0;
	return (int)want;
}

int ble_rx_notification(BleRx *rx, const uint8_t *data, size_t n, bool *dropped)
{
	bool partial = rx->len > 0;
	int r = ble_rx_feed(rx, data, n);

	if (dropped)
		*dropped = r < 0;
	/* A lost notification makes the next frame's head overrun the partial one: start over with it. */
	if (r < 0 && partial)
		r = ble_rx_feed(rx, data, n);
	return r;
}

int ble_passkey_parse(const char *text, uint32_t *out)
{
	uint32_t v = 0;
	size_t n = strlen(text);

	if (n == 0 || n > 6)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)text[i]))
			return -EINVAL;
		v = v * 10 + (uint32_t)(text[i] - '0');
	}
	*out = v;
	return 0;
}

typedef struct ErrorName {
	const char *name;
	BleErrorKind kind;
} ErrorName;

/* bluez@5.66 src/error.c and the D-Bus daemon's own errors. */
static const ErrorName error_names[] = {
	{ "org.freedesktop.DBus.Error.ServiceUnknown", BLE_ERROR_NO_BLUEZ },
	{ "org.freedesktop.DBus.Error.NameHasNoOwner", BLE_ERROR_NO_BLUEZ },
	{ "org.freedesktop.DBus.Error.NoReply", BLE_ERROR_TIMEOUT },
	{ "org.freedesktop.DBus.Error.Timeout", BLE_ERROR_TIMEOUT },
	{ "org.freedesktop.DBus.Error.TimedOut", BLE_ERROR_TIMEOUT },
	{ "org.freedesktop.DBus.Error.UnknownObject", BLE_ERROR_GONE },
	{ "org.bluez.Error.DoesNotExist", BLE_ERROR_GONE },
	{ "org.freedesktop.DBus.Error.UnknownMethod", BLE_ERROR_UNSUPPORTED },
	{ "org.freedesktop.DBus.Error.UnknownInterface", BLE_ERROR_UNSUPPORTED },
	{ "org.bluez.Error.NotSupported", BLE_ERROR_UNSUPPORTED },
	{ "org.bluez.Error.InProgress", BLE_ERROR_IN_PROGRESS },
	{ "org.bluez.Error.NotReady", BLE_ERROR_NOT_READY },
	{ "org.bluez.Error.NotAuthorized", BLE_ERROR_NEEDS_PAIRING },
	{ "org.bluez.Error.AuthenticationFailed", BLE_ERROR_PAIRING_FAILED },
	{ "org.bluez.Error.AuthenticationRejected", BLE_ERROR_PAIRING_FAILED },
	{ "org.bluez.Error.AuthenticationCanceled", BLE_ERROR_PAIRING_FAILED },
	{ "org.bluez.Error.AuthenticationTimeout", BLE_ERROR_PAIRING_FAILED },
	{ "org.bluez.Error.Rejected", BLE_ERROR_PAIRING_FAILED },
	{ "org.bluez.Error.Canceled", BLE_ERROR_PAIRING_FAILED },
	{ "org.bluez.Error.ConnectionAttemptFailed", BLE_ERROR_LINK },
	{ "org.bluez.Error.AlreadyExists", BLE_ERROR_ALREADY_PAIRED },
};

static bool contains(const char *message, const char *word)
{
	return message && strcasestr(message, word);
}

/* NotPermitted carries the ATT error: "Not paired" for insufficient authentication/encryption
 * (gatt-client.c:269-297), "… not permitted" otherwise. Failed carries a short code (device.c). */
static BleErrorKind error_kind_by_message(const char *name, const char *message)
{
	if (!strcmp(name, "org.bluez.Error.NotPermitted"))
		return contains(message, "paired") || contains(message, "insufficient") ? BLE_ERROR_NEEDS_PAIRING
											   : BLE_ERROR_UNSUPPORTED;
	if (strcmp(name, "org.bluez.Error.Failed") && strcmp(name, "org.bluez.Failed"))
		return BLE_ERROR_OTHER;
	if (message && (!strncmp(message, "le-connection-", 14) || !strncmp(message, "br-connection-", 14) ||
			contains(message, "not connected")))
		return BLE_ERROR_LINK;
	if (contains(message, "already in progress"))
		return BLE_ERROR_IN_PROGRESS;
	if (contains(message, "key missing") || contains(message, "key-missing") || contains(message, "not paired"))
		return BLE_ERROR_NEEDS_PAIRING;
	return BLE_ERROR_OTHER;
}

BleErrorKind ble_error_kind(const char *name, const char *message)
{
	if (!name)
		return BLE_ERROR_OTHER;
	for (size_t i = 0; i < ARRAY_SIZE(error_names); i++)
		if (!strcmp(name, error_names[i].name))
			return error_names[i].kind;
	return error_kind_by_message(name, message);
}
