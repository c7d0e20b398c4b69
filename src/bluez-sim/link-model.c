/* SPDX-License-Identifier: MIT */
#include "link-model.h"

void link_model_default(LinkModel *m)
{
	*m = (LinkModel){ .interval_ms = 15, .packets_per_event = 6, .data_length = 251, .mtu = 498 };
}

unsigned link_packets(const LinkModel *m, size_t value_bytes)
{
	return (unsigned)((value_bytes + 7 + m->data_length - 1) / m->data_length);
}

/* REFERENCE.md §14: every packet of an event full of ATT payload, data_length - 7 bytes each. */
double link_ceiling(const LinkModel *m)
{
	return (double)m->packets_per_event * (m->data_length - 7) * 1000.0 / m->interval_ms;
}
