/* SPDX-License-Identifier: MIT */
/*
 * One adapter's radio shared by its LE links, as pure arithmetic on simulated time (µs), unit-tested in
 * tests/test-airtime.c. A controller has one radio: connection events of the links it is central of never
 * overlap, so N links share its air time instead of each getting a radio of its own.
 *
 * What is modelled, after Zephyr's LE controller (subsys/bluetooth/controller, ticker.c and ull_sched.c):
 * - Anchor points stay on each link's grid: the central must transmit at the anchor (Core Vol 6 Part B
 *   4.5.1), so an event is never started late. A new link's first anchor is placed right after the event
 *   length of the link connected before it (ull_sched_after_cen_slot_get: a new central connection goes
 *   after the existing central slots; Nordic's SoftDevice schedules central links back to back likewise).
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

typedef struct Airtime {
	const LinkModel *m;
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

void airtime_init(Airtime *a, const LinkModel *m, size_t n_links);
/* Link i connects at `now`: its first anchor is `now` on an idle adapter, else the first point after
 * `now` that follows the last-connected link's event. */
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
/* Value bytes per second one adapter can carry in one direction with max_links links: the radio busy
 * all the time with full exchanges of MTU-sized PDUs, or max_links single-link ceilings if lower. */
double airtime_ceiling(const LinkModel *m, unsigned max_links);
