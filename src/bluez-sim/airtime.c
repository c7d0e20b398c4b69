/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "airtime.h"

void airtime_init(Airtime *a, const LinkModel *m, size_t n_links)
{
	*a = (Airtime){ .m = m, .n_links = n_links < AIRTIME_LINKS_MAX ? n_links : AIRTIME_LINKS_MAX };
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

void airtime_connect(Airtime *a, size_t i, uint64_t now)
{
	AirLink *l = &a->links[i];
	const AirLink *prev = placed_before(a, i);

	l->anchor = prev ? grid_at_or_after(prev->anchor + event_length(a->m), link_interval_usec(a->m), now) : now;
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
double airtime_ceiling(const LinkModel *m, unsigned max_links)
{
	size_t value = link_value_max(m), link_bytes = value + LINK_L2CAP_ATT_OVERHEAD;
	unsigned packets = link_packets(m, value);
	uint64_t air = (uint64_t)(packets - 1) * airtime_reserve_usec(m) +
		       link_exchange_usec(m, link_bytes - (size_t)(packets - 1) * m->data_length, 0);
	double radio = (double)value * 1e6 / (double)air, links = max_links * link_ceiling(m);

	return links < radio ? links : radio;
}
