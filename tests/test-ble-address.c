/* SPDX-License-Identifier: MIT */
/* Pure parts of the ble: transport: object paths, write sizes, resynchronising reassembly, passkeys,
 * and what BlueZ's D-Bus errors mean. */
#include <errno.h>
#include <string.h>

#include "ble.h"
#include "smp.h"
#include "tap.h"
#include "util.h"

/* A device path gives back its address; anything else under /org/bluez is refused. */
static void test_address_from_path(void)
{
	static const char *const bad[] = { "/org/bluez/hci0", "/org/bluez/hci0/dev_C0_FF_EE_00_00",
					   "/org/bluez/hci0/dev_C0_FF_EE_00_00_01/service0010",
					   "/org/bluez/hci0/dev_C0:FF:EE:00:00:01", "/org/bluez/hci0/dev_G0_FF_EE_00_00_01",
					   "dev_C0_FF_EE_00_00_01", "" };
	char address[18];
	char path[128];

	CHECK_INT(ble_address_from_path("/org/bluez/hci0/dev_C0_FF_EE_00_00_01", address), 0);
	CHECK_STR(address, "C0:FF:EE:00:00:01");
	CHECK_INT(ble_address_from_path("/org/bluez/hci1/dev_c0_ff_ee_0a_0b_0c", address), 0);
	CHECK_STR(address, "C0:FF:EE:0A:0B:0C");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		tap_checkf(ble_address_from_path(bad[i], address) == -EINVAL, __FILE__, __LINE__, "'%s' refused", bad[i]);
	/* The round trip through BlueZ's path scheme (BLUEZ.md §1). */
	ble_device_path("/org/bluez/hci0", "AA:BB:CC:DD:EE:FF", path, sizeof(path));
	CHECK_INT(ble_address_from_path(path, address), 0);
	CHECK_STR(address, "AA:BB:CC:DD:EE:FF");
	/* A buffer too small for the whole path gives no path rather than another object's. */
	ble_device_path("/org/bluez/hci0", "AA:BB:CC:DD:EE:FF", path, 20);
	CHECK_STR(path, "");
}

/* "Under" means the object or a descendant, never a sibling sharing a prefix. */
static void test_path_under(void)
{
	static const struct {
		const char *path, *parent;
		bool under;
	} cases[] = {
		{ "/org/bluez/hci0/dev_A/service0010/char0011", "/org/bluez/hci0/dev_A", true },
		{ "/org/bluez/hci0/dev_A", "/org/bluez/hci0/dev_A", true },
		{ "/org/bluez/hci0/dev_AB", "/org/bluez/hci0/dev_A", false },
		{ "/org/bluez/hci10/dev_A", "/org/bluez/hci1", false },
		{ "/org/bluez/hci1/dev_A", "/org/bluez/hci1", true },
		{ "/org/bluez/hci1", "", false },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		tap_checkf(ble_path_under(cases[i].path, cases[i].parent) == cases[i].under, __FILE__, __LINE__,
			   "'%s' under '%s'", cases[i].path, cases[i].parent);
}

/* Writes carry MTU-3 bytes, at most 512 (bluetoothd's read buffer), and never less than the default. */
static void test_write_size(void)
{
	static const struct {
		uint16_t mtu;
		size_t size;
	} cases[] = { { 0, 20 }, { 22, 20 }, { 23, 20 }, { 185, 182 }, { 247, 244 }, { 498, 495 }, { 515, 512 },
		      { 517, 512 }, { 65535, 512 } };

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		tap_checkf(ble_write_size(cases[i].mtu) == cases[i].size, __FILE__, __LINE__, "MTU %u -> %zu",
			   cases[i].mtu, cases[i].size);
}

static size_t frame(uint8_t *buf, uint8_t op, uint16_t body_len, uint8_t seq)
{
	SmpHeader h = { .op = op, .version = 1, .len = body_len, .group = 1, .seq = seq, .id = 1 };

	smp_header_encode(&h, buf);
	for (uint16_t i = 0; i < body_len; i++)
		buf[SMP_HEADER_SIZE + i] = (uint8_t)(i + seq);
	return SMP_HEADER_SIZE + body_len;
}

/* Pieces of MTU-3 bytes, as smp_bt.c sends them. Returns the frame length reported at the end. */
static int feed_pieces(BleRx *rx, const uint8_t *buf, size_t n, size_t piece, size_t skip_index)
{
	int r = 0;
	size_t index = 0;

	for (size_t off = 0; off < n; off += piece, index++)
		if (index != skip_index)
			r = ble_rx_notification(rx, buf + off, MIN(piece, n - off), NULL);
	return r;
}

/* A lost notification: the frame in progress is dropped, and the next frame, whose head overruns it,
 * is reassembled from that head on instead of being lost too. (A head that happens to fill the broken
 * frame exactly cannot be told from its tail; the SMP layer rejects that frame by its sequence.) */
static void test_resync_after_lost_notification(void)
{
	static BleRx rx;
	static uint8_t a[1200], b[1200];
	size_t na = frame(a, SMP_OP_WRITE_RSP, 1000, 1), nb = frame(b, SMP_OP_WRITE_RSP, 1000, 2);
	bool dropped = false;

	CHECK_INT(feed_pieces(&rx, a, na, 244, 4), 0); /* the last of five pieces never came */
	CHECK(rx.len > 0);
	CHECK_INT(ble_rx_notification(&rx, b, 244, &dropped), 0);
	CHECK(dropped);
	CHECK_INT(feed_pieces(&rx, b + 244, nb - 244, 244, SIZE_MAX), (int)nb);
	CHECK_MEM(rx.buf, b, nb);
}

/* Only a response header starts a frame; a stray piece is dropped without disturbing the next frame. */
static void test_frame_starts(void)
{
	static BleRx rx;
	uint8_t buf[64];
	size_t n = frame(buf, SMP_OP_READ_RSP, 20, 3);
	bool dropped = false;

	CHECK_INT(ble_rx_notification(&rx, buf, n, &dropped), (int)n);
	CHECK(!dropped);
	n = frame(buf, SMP_OP_WRITE, 20, 4); /* a request: a server never notifies one */
	CHECK_INT(ble_rx_notification(&rx, buf, n, &dropped), -EBADMSG);
	CHECK(dropped);
	CHECK_INT(rx.len, 0);
	CHECK_INT(ble_rx_notification(&rx, buf + 8, 7, &dropped), -EBADMSG); /* too short for a header */
	n = frame(buf, SMP_OP_WRITE_RSP, 0, 5);                              /* an empty body is a frame */
	CHECK_INT(ble_rx_notification(&rx, buf, n, NULL), (int)n);
	n = frame(buf, SMP_OP_WRITE_RSP, 20, 6);
	CHECK_INT(ble_rx_notification(&rx, buf, n + 4, &dropped), -EBADMSG); /* longer than its header says */
	CHECK_INT(rx.len, 0);
}

/* The largest frame the header can describe fits; the buffer cannot be overrun by continuation pieces. */
static void test_rx_bounds(void)
{
	static BleRx rx;
	static uint8_t big[8 + 65535 + 512];
	size_t n = frame(big, SMP_OP_READ_RSP, 65535, 7);
	int r = feed_pieces(&rx, big, n, 512, SIZE_MAX);

	CHECK_INT(r, (int)n);
	CHECK_MEM(rx.buf, big, n);
}

/* Passkeys are up to six decimal digits. */
static void test_passkey(void)
{
	static const char *const bad[] = { "", "1234567", "12a456", "-12345", " 12345", "0x1234" };
	uint32_t v = 1;

	CHECK_INT(ble_passkey_parse("000000", &v), 0);
	CHECK_INT(v, 0);
	CHECK_INT(ble_passkey_parse("999999", &v), 0);
	CHECK_INT(v, 999999);
	CHECK_INT(ble_passkey_parse("42", &v), 0);
	CHECK_INT(v, 42);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		tap_checkf(ble_passkey_parse(bad[i], &v) == -EINVAL, __FILE__, __LINE__, "'%s' refused", bad[i]);
}

/* BlueZ 5.66's errors (BLUEZ.md §3, §4) map to what the transport does about them. */
static void test_error_kinds(void)
{
	static const struct {
		const char *name, *message;
		BleErrorKind kind;
	} cases[] = {
		{ "org.freedesktop.DBus.Error.ServiceUnknown", "The name org.bluez was not provided", BLE_ERROR_NO_BLUEZ },
		{ "org.freedesktop.DBus.Error.NoReply", "Method call timed out", BLE_ERROR_TIMEOUT },
		{ "org.freedesktop.DBus.Error.UnknownObject", "Unknown object", BLE_ERROR_GONE },
		{ "org.bluez.Error.DoesNotExist", "Does Not Exist", BLE_ERROR_GONE },
		{ "org.bluez.Error.Failed", "le-connection-abort-by-local", BLE_ERROR_LINK },
		{ "org.bluez.Error.Failed", "br-connection-canceled", BLE_ERROR_LINK },
		{ "org.bluez.Error.Failed", "Not connected", BLE_ERROR_LINK },
		{ "org.bluez.Error.Failed", "Operation already in progress", BLE_ERROR_IN_PROGRESS },
		{ "org.bluez.Error.InProgress", "In Progress", BLE_ERROR_IN_PROGRESS },
		{ "org.bluez.Error.Failed", "Operation failed with ATT error: 0x0e", BLE_ERROR_OTHER },
		{ "org.bluez.Error.NotPermitted", "Not paired", BLE_ERROR_NEEDS_PAIRING },
		{ "org.bluez.Error.NotPermitted", "Write not permitted", BLE_ERROR_UNSUPPORTED },
		{ "org.bluez.Error.NotPermitted", "Notify acquired", BLE_ERROR_UNSUPPORTED },
		{ "org.bluez.Error.NotAuthorized", "Not Authorized", BLE_ERROR_NEEDS_PAIRING },
		{ "org.bluez.Error.AuthenticationFailed", "Authentication Failed", BLE_ERROR_PAIRING_FAILED },
		{ "org.bluez.Error.AuthenticationCanceled", NULL, BLE_ERROR_PAIRING_FAILED },
		{ "org.bluez.Error.AlreadyExists", "Already Exists", BLE_ERROR_ALREADY_PAIRED },
		{ "org.bluez.Error.NotReady", "Resource Not Ready", BLE_ERROR_NOT_READY },
		{ "org.bluez.Error.NotSupported", "Operation is not supported", BLE_ERROR_UNSUPPORTED },
		{ "org.freedesktop.DBus.Error.UnknownMethod", "Unknown method", BLE_ERROR_UNSUPPORTED },
		{ "org.freedesktop.DBus.Error.AccessDenied", "Rejected send message", BLE_ERROR_OTHER },
		{ NULL, NULL, BLE_ERROR_OTHER },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		tap_checkf(ble_error_kind(cases[i].name, cases[i].message) == cases[i].kind, __FILE__, __LINE__,
			   "%s \"%s\" -> %d", cases[i].name ? cases[i].name : "(null)",
			   cases[i].message ? cases[i].message : "", cases[i].kind);
}

int main(void)
{
	static const TapTest tests[] = {
		TAP_TEST(test_address_from_path),
		TAP_TEST(test_path_under),
		TAP_TEST(test_write_size),
		TAP_TEST(test_resync_after_lost_notification),
		TAP_TEST(test_frame_starts),
		TAP_TEST(test_rx_bounds),
		TAP_TEST(test_passkey),
		TAP_TEST(test_error_kinds),
	};
	return tap_run(tests, ARRAY_SIZE(tests));
}
