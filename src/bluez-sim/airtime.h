/* SPDX-License-Identifier: MIT */
/*
 * One adapter's radio shared by its LE links, as pure arithmetic on simulated time (µs), unit-tested in
 * tests/test-airtime.c. A controller has one radio: connection events of the links it is central of never
 * overlap, so N links share its air time instead of each getting a radio of its own.
 *
 * What is modelled, after Zephyr's LE controller (subsys/bluetooth/controller, ticker.c and ull_sched.c):
 * - Anchor points stay on each link's grid: the central must transmit at the anchor (Core Vol 6 Part B
 *   4.5.1), so an event is never started late. The central picks a new link's first anchor (the transmit
 *   window offset of CONNECT_IND, Core Vol 6 Part B 2.3.3.1) in one of two ways (--anchor-placement):
 *   - even (the default): the interval is cut into as many equal slots as whole exchanges fit in it (the
 *     rest shared out as guard time for replies that carry data), from the first link's anchor; a new
 *     link takes the middle of the longest run of free slots, so the links split the interval evenly
 *     and no stretch too short for an exchange is left between two events. This is what Silicon Labs'
 *     controller calls even anchor selection, meant for one central with many peripherals at the same
 *     interval. With more links than slots (6 at 1M and 15 ms) a new link shares the least used slot,
 *     and the links on one slot collide every interval, taking turns.
 *   - packed: right after the event length of the link connected before it (Nordic's SoftDevice offsets
 *     central links by their event length; Zephyr's ull_sched_after_cen_slot_get places a new central
 *     connection after the existing central slots).
 * - An event reserves one exchange at its anchor and then goes on while it has data, up to its packets per
 *   event and its interval (link-model.h), but it closes before the next anchor of another link with data
 *   (the central may end an event at any time, Core Vol 6 Part B 4.5.6; Zephyr's LLL aborts the running
 *   event when the next ticker's prepare comes).
 * - An anchor that falls inside another link's event is skipped: that link waits for its next anchor.
 *   When the reserved first exchanges of two links would overlap, the one skipped more often goes first
 *   (ticker_resolve_collision: the node that waited longer wins), so no link starves.
 * Idle links are not charged: their empty-packet events are left out, as the single-link model always did.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link-model.h"

#define AIRTIME_LINKS_MAX 32

typedef struct AirLink {
	bool connected;
	bool waiting;          /* has data queued: it wants its next event */
	uint64_t anchor;       /* an anchor point of its grid */
	uint64_t next;         /* its next event, on the grid */
	unsigned skipped;      /* events lost in a row to another link's event */
	/* statistics */
	uint64_t air_usec, events, skips;
	uint64_t bytes_up, bytes_down;   /* ATT value bytes carried */
} AirLink;

typedef enum AirPlacement { AIR_PLACE_EVEN, AIR_PLACE_PACKED } AirPlacement;

typedef struct Airtime {
	const LinkModel *m;
	AirPlacement placement;
	uint64_t origin;       /* the exchange grid's origin (even placement): the first link's first anchor */
	AirLink links[AIRTIME_LINKS_MAX];
	size_t n_links;
	uint64_t busy_until;   /* end of the last event */
	size_t last_placed;    /* the link connected last, for the next one's anchor */
	bool any_placed;
	uint64_t air_usec;     /* sum of the events' air time */
	uint64_t first_event, last_end;
	bool any_event;
} Airtime;

/* The next event the radio runs: link `link` at `start`, for at most `budget_usec` of air. */
typedef struct AirPick {
	size_t link;
	uint64_t start;
	uint64_t budget_usec;
} AirPick;

void airtime_init(Airtime *a, const LinkModel *m, size_t n_links, AirPlacement placement);
/* Link i connects at `now`: its first anchor is `now` on an idle adapter, else the first point after
 * `now` on the slot the placement picks. */
void airtime_connect(Airtime *a, size_t i, uint64_t now);
void airtime_disconnect(Airtime *a, size_t i);
/* Link i has data at `now`: its next event is the first anchor after `now` (or its first anchor). */
void airtime_wake(Airtime *a, size_t i, uint64_t now);
/* Which event comes next; false when no link has data. Skips the anchors the radio is busy for. */
bool airtime_next(Airtime *a, AirPick *out);
/* The picked event took `ev`; `more` says whether the link still has data. */
void airtime_done(Airtime *a, const AirPick *pick, const LinkEvent *ev, size_t bytes_up, size_t bytes_down,
		  bool more);
/* Air time one exchange reserves: a full packet one way, an empty one back, T_IFS after each. */
uint32_t airtime_reserve_usec(const LinkModel *m);
/* Value bytes per second of MTU-sized PDUs in one direction with the radio busy all the time. */
double airtime_radio_ceiling(const LinkModel *m);
/* What one adapter can carry with max_links links: under even placement the radio ceiling over the whole
 * exchanges that fit in one interval (airtime.c says why and when), else the radio ceiling; or max_links
 * single-link ceilings if lower. */
double airtime_ceiling(const LinkModel *m, unsigned max_links, AirPlacement placement);
