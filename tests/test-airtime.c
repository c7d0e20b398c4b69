/* SPDX-License-Identifier: MIT */
/* One adapter's air time shared by its links (airtime.h): events never overlap, two links at 7.5 ms do not
 * both get a full event, the sum of N links stays under the adapter's ceiling and comes close to it, even
 * anchor placement shares the interval fairly, and
 * one link alone is what link-model.h has always computed. */
#include <stdio.h>
#include <string.h>

#include "airtime.h"
#include "tap.h"
#include "util.h"

#define PDU_LINK_BYTES (495 + LINK_L2CAP_ATT_OVERHEAD) /* an MTU-498 write on the link */

/* N links that always have writes to send, connected at the given times, run for `usec` of air. */
typedef struct Run {
	uint64_t exchanges[AIRTIME_LINKS_MAX], events[AIRTIME_LINKS_MAX], bytes[AIRTIME_LINKS_MAX];
	unsigned max_exchanges[AIRTIME_LINKS_MAX];
	uint64_t total_bytes, span;
	bool overlap;
} Run;

static void run_links(const LinkModel *m, AirPlacement placement, size_t n, const uint64_t *connect_at, uint64_t usec,
		      Run *out)
{
	Airtime a;
	size_t head_left[AIRTIME_LINKS_MAX];
	uint64_t end_of_last = 0, first = UINT64_MAX;
	AirPick pick;

	memset(out, 0, sizeof(*out));
	airtime_init(&a, m, n, placement);
	for (size_t i = 0; i < n; i++) {
		airtime_connect(&a, i, connect_at[i]);
		airtime_wake(&a, i, connect_at[i]);
		head_left[i] = PDU_LINK_BYTES;
	}
	while (airtime_next(&a, &pick) && pick.start < usec) {
		size_t q[8];
		LinkEvent ev;

		for (size_t k = 0; k < ARRAY_SIZE(q); k++)
			q[k] = k == 0 ? head_left[pick.link] : PDU_LINK_BYTES;
		link_event_run_within(m, pick.budget_usec, q, ARRAY_SIZE(q), NULL, 0, &ev);
		head_left[pick.link] = q[ev.up_done];
		out->overlap |= pick.start < end_of_last;
		end_of_last = pick.start + ev.air_usec;
		if (first == UINT64_MAX)
			first = pick.start;
		out->exchanges[pick.link] += ev.exchanges;
		out->events[pick.link]++;
		out->bytes[pick.link] += ev.up_done * 495;
		out->total_bytes += ev.up_done * 495;
		out->max_exchanges[pick.link] = MAX(out->max_exchanges[pick.link], ev.exchanges);
		airtime_done(&a, &pick, &ev, ev.up_done * 495, 0, true);
	}
	out->span = end_of_last - first;
}

static double rate(const Run *r)
{
	return (double)r->total_bytes * 1e6 / (double)r->span;
}

/* One link alone: an event every interval with the exchanges link_event_run gives it, at 7.5 and 15 ms. */
static void test_one_link_unchanged(void)
{
	static const double intervals[] = { 7.5, 15, 50 };
	LinkModel m;
	Run r;
	uint64_t at[1] = { 1000 };

	link_model_default(&m);
	for (size_t i = 0; i < ARRAY_SIZE(intervals); i++) {
		m.interval_ms = intervals[i];
		run_links(&m, AIR_PLACE_EVEN, 1, at, 1000 + 101 * link_interval_usec(&m), &r); /* data at the anchor: from the next one */
		CHECK_INT(r.events[0], 100);
		CHECK_INT(r.exchanges[0], 100 * link_exchanges_per_event(&m, 251, 0));
	}
}

/* The example: two links at 7.5 ms, 6 packets per event, cannot both get their full events. */
static void test_two_links_at_7_5_ms_share(void)
{
	LinkModel m;
	Run one, two;
	uint64_t at[2] = { 0, 3000 };

	link_model_default(&m);
	m.interval_ms = 7.5;
	run_links(&m, AIR_PLACE_EVEN, 1, at, 757500, &one);
	run_links(&m, AIR_PLACE_EVEN, 2, at, 757500, &two);
	CHECK(!two.overlap);
	/* alone: 5 exchanges in each of 100 intervals (6 do not fit in 7.5 ms at 2M) */
	CHECK_INT(one.exchanges[0], 500);
	CHECK(two.exchanges[0] + two.exchanges[1] <= one.exchanges[0] + 5);
	CHECK(two.exchanges[0] <= one.exchanges[0] * 3 / 5 && two.exchanges[1] <= one.exchanges[0] * 3 / 5);
	CHECK(two.exchanges[0] > 100 && two.exchanges[1] > 100); /* neither starves */
}

/* Events of up to eight links connected at odd times never overlap, at 7.5, 15 and 30 ms, 1M and 2M. */
static void test_events_never_overlap(void)
{
	static const uint64_t at[8] = { 0, 123, 4567, 8901, 15000, 15001, 77777, 99999 };
	static const double intervals[] = { 7.5, 15, 30 };
	LinkModel m;
	Run r;

	link_model_default(&m);
	for (size_t i = 0; i < ARRAY_SIZE(intervals); i++)
		for (int phy = 0; phy < 2; phy++)
			for (int packed = 0; packed < 2; packed++) {
				m.interval_ms = intervals[i];
				m.phy = phy ? LINK_PHY_2M : LINK_PHY_1M;
				run_links(&m, packed ? AIR_PLACE_PACKED : AIR_PLACE_EVEN, 8, at, 2000000, &r);
				tap_checkf(!r.overlap, __FILE__, __LINE__, "%.1f ms, %s, %s: events overlap",
					   m.interval_ms, phy ? "2M" : "1M", packed ? "packed" : "even");
				for (size_t k = 0; k < 8; k++)
					tap_checkf(r.exchanges[k] > 0, __FILE__, __LINE__, "%.1f ms: link %zu starved",
						   m.interval_ms, k);
			}
}

/* The sum of N links saturates under the adapter's ceiling, not at N x one link: with even placement at
 * the ceiling itself (every slot of the exchange grid used), packed within 20 % of it. */
static void test_aggregate_saturates(void)
{
	static const uint64_t at[8] = { 0, 2000, 20000, 31000, 47000, 50000, 61000, 90000 };
	LinkModel m;
	Run r;
	double single;

	link_model_default(&m);
	run_links(&m, AIR_PLACE_EVEN, 1, at, 3000000, &r);
	single = rate(&r);
	for (int packed = 0; packed < 2; packed++)
		for (size_t n = 2; n <= 8; n++) {
			double ceiling = airtime_ceiling(&m, (unsigned)n, packed ? AIR_PLACE_PACKED : AIR_PLACE_EVEN), got;
			double floor = packed ? 0.8 : 0.99;

			run_links(&m, packed ? AIR_PLACE_PACKED : AIR_PLACE_EVEN, n, at, 3000000, &r);
			got = rate(&r);
			printf("# %zu links at 15 ms, %s: %.0f B/s, %.1f %% of the adapter's %.0f B/s\n", n,
			       packed ? "packed" : "even", got, 100 * got / ceiling, ceiling);
			tap_checkf(got <= ceiling * 1.002 && got >= floor * ceiling, __FILE__, __LINE__,
				   "%zu links, %s: %.0f B/s against a ceiling of %.0f", n, packed ? "packed" : "even",
				   got, ceiling);
			CHECK(got < (double)n * single * 0.95);
			for (size_t k = 0; k < n; k++)
				CHECK(r.max_exchanges[k] <= link_exchanges_per_event(&m, 251, 0));
		}
}

/* Even placement shares fairly: of the exchanges of two links at 15 ms each gets half (five an event),
 * of four each a fifth to three tenths (two or three of ten); packed gives the second of two links four
 * exchanges an event to the first's six. */
static double share(const Run *r, size_t n, size_t k)
{
	uint64_t total = 0;

	for (size_t i = 0; i < n; i++)
		total += r->exchanges[i];
	return (double)r->exchanges[k] / (double)total;
}

static void test_even_placement_is_fair(void)
{
	static const uint64_t at[4] = { 0, 2000, 20000, 31000 };
	LinkModel m;
	Run r;

	link_model_default(&m);
	run_links(&m, AIR_PLACE_EVEN, 2, at, 3000000, &r);
	for (size_t k = 0; k < 2; k++)
		tap_checkf(share(&r, 2, k) > 0.49 && share(&r, 2, k) < 0.51, __FILE__, __LINE__, "2 links: %zu has %.3f",
			   k, share(&r, 2, k));
	run_links(&m, AIR_PLACE_EVEN, 4, at, 3000000, &r);
	for (size_t k = 0; k < 4; k++)
		tap_checkf(share(&r, 4, k) > 0.19 && share(&r, 4, k) < 0.31, __FILE__, __LINE__, "4 links: %zu has %.3f",
			   k, share(&r, 4, k));
	run_links(&m, AIR_PLACE_PACKED, 2, at, 3000000, &r);
	CHECK(share(&r, 2, 0) > 0.59 && share(&r, 2, 0) < 0.61);
}

/* The radio ceiling: MTU-498 writes (two packets each) back to back at 2M, 495 bytes per 2 x 1392 µs. The
 * adapter's under even placement: the 10 whole exchanges that fit in 15 ms (10 x 247.5 bytes), 6 at 1M
 * (2468 µs each); with one link allowed, that link's §14 ceiling. Packed placement, or an MTU whose last
 * packet is short, keeps the radio ceiling. */
static void test_ceiling(void)
{
	LinkModel m;

	link_model_default(&m);
	CHECK_INT(airtime_reserve_usec(&m), 1048 + 150 + 44 + 150);
	CHECK_INT((int)airtime_radio_ceiling(&m), 177801);
	CHECK_INT((int)(airtime_ceiling(&m, 16, AIR_PLACE_EVEN) + 0.5), 165000);
	CHECK(airtime_ceiling(&m, 16, AIR_PLACE_PACKED) == airtime_radio_ceiling(&m));
	CHECK_INT((int)airtime_ceiling(&m, 1, AIR_PLACE_EVEN), 97600);
	m.phy = LINK_PHY_1M;
	CHECK_INT((int)airtime_radio_ceiling(&m), 495000000 / (2 * (2088 + 150 + 80 + 150)));
	CHECK_INT((int)(airtime_ceiling(&m, 16, AIR_PLACE_EVEN) + 0.5), 99000);
	m.phy = LINK_PHY_2M;
	m.mtu = 300;
	CHECK(airtime_ceiling(&m, 16, AIR_PLACE_EVEN) == airtime_radio_ceiling(&m));
}

/* On an idle adapter a link's first anchor is the connect time. Even: the next goes to the middle of the
 * longest run of free slots (slot 5 of 10 after one link; then slot 2, between 0 and 5), slots of 15 ms / 10:
 * ten exchanges of 1392 µs, each with 108 µs of guard time for a reply that carries data. Packed:
 * right after the last link's full event. */
static void test_placement(void)
{
	LinkModel m;
	Airtime a;

	link_model_default(&m);
	airtime_init(&a, &m, 3, AIR_PLACE_EVEN);
	airtime_connect(&a, 0, 1000);
	CHECK_INT(a.links[0].anchor, 1000);
	airtime_connect(&a, 1, 40000);
	CHECK_INT(a.links[1].anchor, 1000 + 5 * 1500 + 3 * 15000);
	airtime_connect(&a, 2, 50000);
	CHECK_INT(a.links[2].anchor, 1000 + 2 * 1500 + 4 * 15000);
	airtime_disconnect(&a, 0);
	airtime_disconnect(&a, 1);
	airtime_disconnect(&a, 2);
	airtime_connect(&a, 2, 70000);
	CHECK_INT(a.links[2].anchor, 70000);

	airtime_init(&a, &m, 3, AIR_PLACE_PACKED);
	airtime_connect(&a, 0, 1000);
	airtime_connect(&a, 1, 40000);
	CHECK_INT(a.links[1].anchor, 1000 + 8352 + 3 * 15000);
	airtime_disconnect(&a, 0);
	airtime_disconnect(&a, 1);
	airtime_connect(&a, 2, 70000);
	CHECK_INT(a.links[2].anchor, 70000);
}

/* A link that leaves frees its slot for the next; with every slot taken, the least used is shared. */
static void test_placement_reuses_slots(void)
{
	LinkModel m;
	Airtime a;

	link_model_default(&m);
	m.interval_ms = 7.5; /* 5 slots of 1500 µs (5 exchanges of 1392 µs and guard time) */
	airtime_init(&a, &m, 7, AIR_PLACE_EVEN);
	for (size_t i = 0; i < 5; i++)
		airtime_connect(&a, i, 1000 + i);
	for (size_t i = 0; i < 5; i++)
		for (size_t j = 0; j < i; j++)
			CHECK((a.links[i].anchor - 1000) % 7500 != (a.links[j].anchor - 1000) % 7500);
	airtime_disconnect(&a, 3);
	airtime_connect(&a, 5, 100000);
	CHECK_INT((a.links[5].anchor - 1000) % 7500, (a.links[3].anchor - 1000) % 7500);
	airtime_connect(&a, 6, 200000);
	CHECK_INT((a.links[6].anchor - 1000) % 7500, 0); /* every slot taken: the lowest of the least used */
}

int main(void)
{
	static const TapTest tests[] = {
		TAP_TEST(test_one_link_unchanged),
		TAP_TEST(test_two_links_at_7_5_ms_share),
		TAP_TEST(test_events_never_overlap),
		TAP_TEST(test_aggregate_saturates),
		TAP_TEST(test_ceiling),
		TAP_TEST(test_placement),
		TAP_TEST(test_placement_reuses_slots),
		TAP_TEST(test_even_placement_is_fair),
	};
	return tap_run(tests, ARRAY_SIZE(tests));
}
