/* SPDX-License-Identifier: MIT */
/* Pure parts of the BLE side: address forms, BlueZ paths, notification reassembly, the link model. */
#include <errno.h>
#include <string.h>

#include "ble.h"
#include "link-model.h"
#include "smp.h"
#include "tap.h"
#include "util.h"

/* Addresses in any case become BlueZ's upper case; names; anything else is refused. */
static void test_address_forms(void)
{
	static const char *const bad[] = { "", "C0:FF:EE:00:00", "C0-FF-EE-00-00-01", "C0:FF:EE:00:00:0G", "name=",
					   "C0:FF:EE:00:00:011", "hci/C0:FF:EE:00:00:01", "hcix/C0:FF:EE:00:00:01",
					   "hci1/", "hci1/hci2/C0:FF:EE:00:00:01", "hci123456789012345/C0:FF:EE:00:00:01" };
	BleAddress a;
	char path[128];

	CHECK_INT(ble_address_parse("c0:ff:ee:00:00:01", &a), 0);
	CHECK(!a.by_name);
	CHECK_STR(a.address, "C0:FF:EE:00:00:01");
	CHECK_INT(ble_address_parse("name=My Board", &a), 0);
	CHECK(a.by_name);
	CHECK_STR(a.name, "My Board");
	CHECK_STR(a.adapter, "");
	CHECK_INT(ble_address_parse("hci1/c0:ff:ee:00:00:02", &a), 0);
	CHECK_STR(a.adapter, "hci1");
	CHECK_STR(a.address, "C0:FF:EE:00:00:02");
	CHECK_INT(ble_address_parse("hci12/name=bay-3", &a), 0);
	CHECK_STR(a.adapter, "hci12");
	CHECK_STR(a.name, "bay-3");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		tap_checkf(ble_address_parse(bad[i], &a) == -EINVAL, __FILE__, __LINE__, "'%s' refused", bad[i]);
	ble_device_path("/org/bluez/hci1", "C0:FF:EE:00:00:01", path, sizeof(path));
	CHECK_STR(path, "/org/bluez/hci1/dev_C0_FF_EE_00_00_01");
}

static size_t frame(uint8_t *buf, uint16_t body_len)
{
	SmpHeader h = { .op = SMP_OP_WRITE_RSP, .version = 1, .len = body_len, .group = 1, .seq = 7, .id = 1 };

	smp_header_encode(&h, buf);
	for (uint16_t i = 0; i < body_len; i++)
		buf[SMP_HEADER_SIZE + i] = (uint8_t)i;
	return SMP_HEADER_SIZE + body_len;
}

/* A response split over notifications of MTU-3 bytes comes back whole; a stray piece is dropped and the
 * next frame still reassembles. */
static void test_reassembly(void)
{
	static BleRx rx;
	uint8_t buf[3000];
	size_t n = frame(buf, 2400), off;
	int r = 0;

	for (off = 0; off < n; off += 244)
		r = ble_rx_feed(&rx, buf + off, MIN((size_t)244, n - off));
	CHECK_INT(r, (int)n);
	CHECK_MEM(rx.buf, buf, n);
	CHECK_INT(ble_rx_feed(&rx, buf, 5), -EBADMSG);             /* shorter than a header */
	n = frame(buf, 10);
	CHECK_INT(ble_rx_feed(&rx, buf, n), (int)n);
	CHECK_INT(ble_rx_feed(&rx, buf, n - 2), 0);                /* incomplete… */
	CHECK_INT(ble_rx_feed(&rx, buf, n), -EBADMSG);             /* …then too much: dropped */
	CHECK_INT(ble_rx_feed(&rx, buf, n), (int)n);               /* and the next one is whole */
}

/* REFERENCE.md §14: packets per ATT PDU and the one-direction ceiling. */
static void test_link_model(void)
{
	LinkModel m;

	link_model_default(&m);
	CHECK_INT(link_packets(&m, 244), 1);
	CHECK_INT(link_packets(&m, 245), 2);
	CHECK_INT(link_packets(&m, 495), 2);
	m.data_length = 27;
	CHECK_INT(link_packets(&m, 20), 1);
	CHECK_INT(link_packets(&m, 21), 2);
	m.data_length = 251;
	m.interval_ms = 15;
	CHECK((int)link_ceiling(&m) == 97600);
	m.interval_ms = 50;
	CHECK((int)link_ceiling(&m) == 29280);
}

int main(void)
{
	static const TapTest tests[] = {
		TAP_TEST(test_address_forms),
		TAP_TEST(test_reassembly),
		TAP_TEST(test_link_model),
	};
	return tap_run(tests, ARRAY_SIZE(tests));
}
