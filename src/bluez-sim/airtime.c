/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <string.h>

#include "airtime.h"

void airtime_init(Airtime *a, const LinkModel *m, size_t n_links, AirPlacement placement)
{
	*a = (Airtime){ .m = m, .n_links = n_links < AIRTIME_LINKS_MAX ? n_links : AIRTIME_LINKS_MAX,
			.placement = placement };
}

uint32_t airtime_reserve_usec(const LinkModel *m)
{
	return link_exchange_usec(m, m->data_length, 0);
}

/* How long a link's event lasts at full load: what the central leaves it before placing the next link. */
static uint64_t event_length(const LinkModel *m)
{
	return (uint64_t)link_exchanges_per_event(m, m->data_length, 0) * airtime_reserve_usec(m);
}

/* The link the next one is placed after: the last connected, else any still connected. */
static const AirLink *placed_before(const Airtime *a, size_t i)
{
	if (a->any_placed && a->last_placed != i && a->links[a->last_placed].connected)
		return &a->links[a->last_placed];
	for (size_t j = 0; j < a->n_links; j++)
		if (j != i && a->links[j].connected)
			return &a->links[j];
	return NULL;
}

/* The first point at or after `now` on the grid through `phase`. */
static uint64_t grid_at_or_after(uint64_t phase, uint64_t interval, uint64_t now)
{
	if (phase >= now)
		return phase - (phase - now) / interval * interval;
	return phase + (now - phase + interval - 1) / interval * interval;
}

/* Whole exchanges one interval holds back to back: the slots of the exchange grid. */
static uint64_t grid_slots(const LinkModel *m)
{
	uint64_t n = link_interval_usec(m) / airtime_reserve_usec(m);

	return n ? n : 1;
}

/* The grid's slots share the interval out evenly: what is left after the whole exchanges becomes guard
 * time in every slot, room for a peripheral's reply that carries data (a notification makes the exchange
 * longer than the empty reply reserved), so such an exchange does not run over the next link's anchor. */
static uint64_t slot_usec(const LinkModel *m)
{
	return link_interval_usec(m) / grid_slots(m);
}

/* The slot of the exchange grid through a->origin that link l's anchors fall on. */
static uint64_t slot_of(const Airtime *a, const AirLink *l)
{
	uint64_t interval = link_interval_usec(a->m);
	uint64_t offset = l->anchor >= a->origin ? (l->anchor - a->origin) % interval
						 : (interval - (a->origin - l->anchor) % interval) % interval;
	uint64_t k = offset / slot_usec(a->m);

	return k < grid_slots(a->m) ? k : grid_slots(a->m) - 1;
}

/* The slot fewest other connected links sit on, the lowest on a tie: every slot is taken. */
static uint64_t least_used_slot(const Airtime *a, size_t self, uint64_t slots)
{
	uint64_t best = 0;
	size_t best_count = SIZE_MAX;

	for (uint64_t k = 0; k < slots && best_count > 0; k++) {
		size_t count = 0;

		for (size_t j = 0; j < a->n_links; j++)
			count += j != self && a->links[j].connected && slot_of(a, &a->links[j]) == k;
		if (count < best_count)
			best = k, best_count = count;
	}
	return best;
}

/* Even anchor selection: the middle of the longest run of slots between the other links' anchors, so the
 * links split the interval evenly, in whole exchanges. */
static uint64_t even_slot(const Airtime *a, size_t self)
{
	uint64_t slots = grid_slots(a->m), taken[AIRTIME_LINKS_MAX], best_from = 0, best_len = 0;
	size_t n = 0;

	for (size_t j = 0; j < a->n_links; j++) {
		uint64_t k;
		size_t at = 0;

		if (j == self || !a->links[j].connected)
			continue;
		k = slot_of(a, &a->links[j]);
		while (at < n && taken[at] < k)
			at++;
		if (at < n && taken[at] == k)
			continue;
		memmove(taken + at + 1, taken + at, (n - at) * sizeof(taken[0]));
		taken[at] = k;
		n++;
	}
	if (n >= slots)
		return least_used_slot(a, self, slots);
	for (size_t i = 0; i < n; i++) {
		uint64_t len = (i + 1 < n ? taken[i + 1] : taken[0] + slots) - taken[i];

		if (len > best_len)
			best_from = taken[i], best_len = len;
	}
	return (best_from + best_len / 2) % slots;
}

void airtime_connect(Airtime *a, size_t i, uint64_t now)
{
	AirLink *l = &a->links[i];
	const AirLink *prev = placed_before(a, i);
	uint64_t interval = link_interval_usec(a->m);

	if (!prev) {
		a->origin = now; /* no other link: the grid starts at this link's first anchor */
		l->anchor = now;
	} else if (a->placement == AIR_PLACE_PACKED) {
		l->anchor = grid_at_or_after(prev->anchor + event_length(a->m), interval, now);
	} else {
		l->anchor = grid_at_or_after(a->origin + even_slot(a, i) * slot_usec(a->m), interval, now);
	}
	l->next = l->anchor;
	l->connected = true;
	l->waiting = false;
	l->skipped = 0;
	a->last_placed = i;
	a->any_placed = true;
}

void airtime_disconnect(Airtime *a, size_t i)
{
	a->links[i].connected = a->links[i].waiting = false;
}

void airtime_wake(Airtime *a, size_t i, uint64_t now)
{
	AirLink *l = &a->links[i];
	uint64_t interval = link_interval_usec(a->m);

	if (!l->connected || l->waiting)
		return;
	l->waiting = true;
	/* Data that arrives at an anchor waits for the next one: the event at that anchor has begun. */
	l->next = now < l->anchor ? l->anchor : l->anchor + ((now - l->anchor) / interval + 1) * interval;
}

static void skip(Airtime *a, AirLink *l)
{
	l->next += link_interval_usec(a->m);
	l->skipped++;
	l->skips++;
}

/* The waiting link with the earliest anchor; on a tie the one skipped more, then the lower index. */
static AirLink *earliest(Airtime *a)
{
	AirLink *best = NULL;

	for (size_t i = 0; i < a->n_links; i++) {
		AirLink *l = &a->links[i];

		if (!l->waiting)
			continue;
		if (!best || l->next < best->next || (l->next == best->next && l->skipped > best->skipped))
			best = l;
	}
	return best;
}

/* Another waiting link whose anchor lies within p's reserved first exchange and that waited longer. */
static bool loses_collision(const Airtime *a, const AirLink *p)
{
	uint64_t reserve = airtime_reserve_usec(a->m);

	for (size_t i = 0; i < a->n_links; i++) {
		const AirLink *l = &a->links[i];

		if (l != p && l->waiting && l->next >= p->next && l->next < p->next + reserve && l->skipped > p->skipped)
			return true;
	}
	return false;
}

/* p's event closes before the next anchor of a waiting link that has waited at least as long; a link
 * that waited less is the one skipped if p's event runs over its anchor. */
static uint64_t budget(const Airtime *a, const AirLink *p)
{
	uint64_t b = link_interval_usec(a->m);

	for (size_t i = 0; i < a->n_links; i++) {
		const AirLink *l = &a->links[i];

		if (l != p && l->waiting && l->next > p->next && l->skipped >= p->skipped && l->next - p->next < b)
			b = l->next - p->next;
	}
	return b;
}

bool airtime_next(Airtime *a, AirPick *out)
{
	AirLink *p;

	for (size_t i = 0; i < a->n_links; i++)
		while (a->links[i].waiting && a->links[i].next < a->busy_until)
			skip(a, &a->links[i]);
	while ((p = earliest(a)) && loses_collision(a, p))
		skip(a, p);
	if (!p)
		return false;
	*out = (AirPick){ .link = (size_t)(p - a->links), .start = p->next, .budget_usec = budget(a, p) };
	return true;
}

void airtime_done(Airtime *a, const AirPick *pick, const LinkEvent *ev, size_t bytes_up, size_t bytes_down,
		  bool more)
{
	AirLink *l = &a->links[pick->link];

	l->air_usec += ev->air_usec;
	l->events++;
	l->bytes_up += bytes_up;
	l->bytes_down += bytes_down;
	if (ev->exchanges)
		l->skipped = 0;
	l->next = pick->start + link_interval_usec(a->m);
	l->waiting = more && l->connected;
	a->air_usec += ev->air_usec;
	if (!a->any_event)
		a->first_event = pick->start;
	a->any_event = true;
	a->busy_until = pick->start + ev->air_usec;
	if (a->busy_until > a->last_end)
		a->last_end = a->busy_until;
}

/* One PDU of MTU - 3 value bytes: its full packets, then the rest, each with an empty packet back. */
double airtime_radio_ceiling(const LinkModel *m)
{
	size_t value = link_value_max(m), link_bytes = value + LINK_L2CAP_ATT_OVERHEAD;
	unsigned packets = link_packets(m, value);
	uint64_t air = (uint64_t)(packets - 1) * airtime_reserve_usec(m) +
		       link_exchange_usec(m, link_bytes - (size_t)(packets - 1) * m->data_length, 0);

	return (double)value * 1e6 / (double)air;
}

/* Why whole exchanges bound the radio under even placement: every link has one event per interval, no
 * two links share a slot while there are slots to spare, an event closes before the next waiting link's
 * anchor, and an event is whole exchanges, so the events of one interval fit in it end to end: with
 * exchanges all alike (every packet of a PDU full), at most grid_slots() of them. Otherwise the last packet
 * of each PDU is shorter, and the continuous figure is the bound. Packed anchors can fall closer together
 * than one exchange; the links that collide there are skipped, and one that was skipped more may run its
 * event past the interval's end, so only the continuous figure bounds them. */
double airtime_ceiling(const LinkModel *m, unsigned max_links, AirPlacement placement)
{
	size_t link_bytes = link_value_max(m) + LINK_L2CAP_ATT_OVERHEAD;
	double radio = airtime_radio_ceiling(m), links = max_links * link_ceiling(m);

	if (placement == AIR_PLACE_EVEN && link_bytes % m->data_length == 0)
		radio *= (double)(grid_slots(m) * airtime_reserve_usec(m)) / (double)link_interval_usec(m);
	return links < radio ? links : radio;
}
