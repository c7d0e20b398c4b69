/* SPDX-License-Identifier: MIT */
/* The BLE link model of the BlueZ stand-in (REFERENCE.md §14): packets per PDU, air time, how many
 * exchanges fit in an event, the ceiling, and connection events moving two queues. */
#include <errno.h>
#include <string.h>

#include "link-model.h"
#include "tap.h"
#include "util.h"

/* ceil((n + 7) / data_length) packets for n value bytes, at both data lengths. */
static void test_packets(void)
{
	static const struct {
		unsigned data_length;
		size_t value;
		unsigned packets;
	} cases[] = {
		{ 251, 1, 1 }, { 251, 244, 1 }, { 251, 245, 2 }, { 251, 495, 2 }, { 251, 496, 3 }, { 251, 512, 3 },
		{ 27, 20, 1 }, { 27, 21, 2 }, { 27, 47, 2 }, { 27, 48, 3 }, { 27, 244, 10 },
	};
	LinkModel m;

	link_model_default(&m);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		m.data_length = cases[i].data_length;
		tap_checkf(link_packets(&m, cases[i].value) == cases[i].packets, __FILE__, __LINE__,
			   "%zu bytes at DL %u: %u packets (got %u)", cases[i].value, cases[i].data_length,
			   cases[i].packets, link_packets(&m, cases[i].value));
	}
}

/* A full 251-byte packet takes 1048 µs at 2M and 2088 µs at 1M; an empty one 44 / 80 µs. */
static void test_air_time(void)
{
	LinkModel m;

	link_model_default(&m);
	CHECK_INT(link_packet_usec(&m, 251), 1048);
	CHECK_INT(link_packet_usec(&m, 0), 44);
	m.phy = LINK_PHY_1M;
	CHECK_INT(link_packet_usec(&m, 251), 2088);
	CHECK_INT(link_packet_usec(&m, 0), 80);
}

/* §14's ceiling, 6 x 244 bytes per interval, wherever six exchanges fit; fewer at 1M or 7.5 ms. */
static void test_ceiling(void)
{
	static const struct {
		double interval_ms;
		LinkPhy phy;
		unsigned exchanges;
		int ceiling;
	} cases[] = {
		{ 15, LINK_PHY_2M, 6, 97600 }, { 30, LINK_PHY_2M, 6, 48800 }, { 50, LINK_PHY_2M, 6, 29280 },
		{ 7.5, LINK_PHY_2M, 5, 162666 }, { 15, LINK_PHY_1M, 6, 97600 }, { 7.5, LINK_PHY_1M, 3, 97600 },
	};
	LinkModel m;

	link_model_default(&m);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		m.interval_ms = cases[i].interval_ms;
		m.phy = cases[i].phy;
		CHECK_INT(link_exchanges_per_event(&m, 251, 0), cases[i].exchanges);
		CHECK_INT((int)link_ceiling(&m), cases[i].ceiling);
	}
}

/* Full packets both ways need longer exchanges: only three fit in 15 ms at 1M. */
static void test_two_way_exchanges(void)
{
	LinkModel m;

	link_model_default(&m);
	m.phy = LINK_PHY_1M;
	CHECK_INT(link_exchanges_per_event(&m, 251, 251), 3);
	m.phy = LINK_PHY_2M;
	CHECK_INT(link_exchanges_per_event(&m, 251, 251), 6);
}

/* Six exchanges move six packets up and six down; a 502-byte PDU (495 + 7) spans two packets and
 * the one after it finishes in the next event. */
static void test_event_moves_packets(void)
{
	LinkModel m;
	size_t up[4] = { 502, 502, 502, 502 }, down[2] = { 27, 27 };
	LinkEvent ev;

	link_model_default(&m);
	link_event_run(&m, up, 4, down, 2, &ev);
	CHECK_INT(ev.exchanges, 6);
	CHECK_INT(ev.up_done, 3);
	CHECK_INT(ev.down_done, 2);
	CHECK_INT(up[3], 502);
	link_event_run(&m, up + 3, 1, NULL, 0, &ev);
	CHECK_INT(ev.exchanges, 2);
	CHECK_INT(ev.up_done, 1);
	CHECK_INT(ev.air_usec, 2 * (1048 + 150 + 44 + 150));
}

/* An idle link has no exchange; a PDU larger than an event finishes over several events. */
static void test_event_spans(void)
{
	LinkModel m;
	size_t big[1] = { 512 + 7 };
	LinkEvent ev;

	link_model_default(&m);
	link_event_run(&m, NULL, 0, NULL, 0, &ev);
	CHECK_INT(ev.exchanges, 0);
	m.packets_per_event = 2;
	m.data_length = 27;
	link_event_run(&m, big, 1, NULL, 0, &ev);
	CHECK_INT(ev.up_done, 0);
	CHECK_INT(big[0], 519 - 54);
}

/* An event never runs past the interval: full packets both ways at 1M fit once in 7.5 ms, thrice in 15. */
static void test_event_fits_interval(void)
{
	LinkModel m;
	size_t up[8] = { 251, 251, 251, 251, 251, 251, 251, 251 }, down[8] = { 251, 251, 251, 251, 251, 251, 251, 251 };
	LinkEvent ev;

	link_model_default(&m);
	m.phy = LINK_PHY_1M;
	m.interval_ms = 7.5;
	link_event_run(&m, up, 8, down, 8, &ev);
	CHECK_INT(ev.exchanges, 1);
	CHECK_INT(ev.air_usec, 2088 + 150 + 2088 + 150);
	m.interval_ms = 15;
	link_event_run(&m, up + 1, 7, down + 1, 7, &ev);
	CHECK_INT(ev.exchanges, 3);
	CHECK(ev.air_usec <= link_interval_usec(&m));
}

/* The option ranges: interval 7.5..4000 ms, MTU 23..517, data length 27..251, PHY names. */
static void test_validate(void)
{
	LinkModel m;
	LinkPhy phy;

	link_model_default(&m);
	CHECK_INT(link_model_validate(&m), 0);
	m.mtu = 22;
	CHECK_INT(link_model_validate(&m), -EINVAL);
	m.mtu = 517;
	m.interval_ms = 7;
	CHECK_INT(link_model_validate(&m), -EINVAL);
	m.interval_ms = 7.5;
	m.data_length = 252;
	CHECK_INT(link_model_validate(&m), -EINVAL);
	m.data_length = 27;
	m.packets_per_event = 0;
	CHECK_INT(link_model_validate(&m), -EINVAL);
	CHECK_INT(link_phy_parse("1m", &phy), 0);
	CHECK_INT(phy, LINK_PHY_1M);
	CHECK_INT(link_phy_parse("2M", &phy), 0);
	CHECK_INT(phy, LINK_PHY_2M);
	CHECK_INT(link_phy_parse("coded", &phy), -EINVAL);
	CHECK_INT(link_value_max(&m), 514);
	CHECK_INT(link_interval_usec(&m), 7500);
}

int main(void)
{
	static const TapTest tests[] = {
		TAP_TEST(test_packets),
		TAP_TEST(test_air_time),
		TAP_TEST(test_ceiling),
		TAP_TEST(test_two_way_exchanges),
		TAP_TEST(test_event_moves_packets),
		TAP_TEST(test_event_spans),
		TAP_TEST(test_event_fits_interval),
		TAP_TEST(test_validate),
	};
	return tap_run(tests, ARRAY_SIZE(tests));
}
