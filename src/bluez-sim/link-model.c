/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "link-model.h"

void link_model_default(LinkModel *m)
{
	*m = (LinkModel){ .interval_ms = 15, .packets_per_event = 6, .data_length = 251, .mtu = 498, .phy = LINK_PHY_2M };
}

int link_model_validate(const LinkModel *m)
{
	if (!(m->interval_ms >= 7.5 && m->interval_ms <= 4000))
		return -EINVAL;
	if (m->packets_per_event < 1 || m->packets_per_event > 64)
		return -EINVAL;
	if (m->data_length < 27 || m->data_length > 251)
		return -EINVAL;
	if (m->mtu < 23 || m->mtu > 517)
		return -EINVAL;
	return m->phy == LINK_PHY_1M || m->phy == LINK_PHY_2M ? 0 : -EINVAL;
}

int link_phy_parse(const char *s, LinkPhy *out)
{
	if (strcmp(s, "1m") == 0 || strcmp(s, "1M") == 0)
		*out = LINK_PHY_1M;
	else if (strcmp(s, "2m") == 0 || strcmp(s, "2M") == 0)
		*out = LINK_PHY_2M;
	else
		return -EINVAL;
	return 0;
}

uint64_t link_interval_usec(const LinkModel *m)
{
	return (uint64_t)(m->interval_ms * 1000.0 + 0.5);
}

size_t link_value_max(const LinkModel *m)
{
	return m->mtu - 3;
}

unsigned link_packets(const LinkModel *m, size_t value_bytes)
{
	return (unsigned)((value_bytes + LINK_L2CAP_ATT_OVERHEAD + m->data_length - 1) / m->data_length);
}

/* Core Vol 6 Part B 2.1: preamble (1 byte at 1M, 2 at 2M), access address 4, header 2, payload, CRC 3;
 * 8 µs per byte at 1M, 4 µs at 2M. No MIC: the model does not charge encryption. */
uint32_t link_packet_usec(const LinkModel *m, size_t payload)
{
	bool two = m->phy == LINK_PHY_2M;

	return (uint32_t)(((two ? 2u : 1u) + 4u + 2u + payload + 3u) * (two ? 4u : 8u));
}

uint32_t link_exchange_usec(const LinkModel *m, size_t up, size_t down)
{
	return link_packet_usec(m, up) + LINK_T_IFS_USEC + link_packet_usec(m, down) + LINK_T_IFS_USEC;
}

unsigned link_exchanges_per_event(const LinkModel *m, size_t up, size_t down)
{
	uint64_t fit = link_interval_usec(m) / link_exchange_usec(m, up, down);

	if (fit < 1)
		fit = 1;
	return fit < m->packets_per_event ? (unsigned)fit : m->packets_per_event;
}

double link_ceiling(const LinkModel *m)
{
	unsigned n = link_exchanges_per_event(m, m->data_length, 0);

	return (double)n * (m->data_length - LINK_L2CAP_ATT_OVERHEAD) * 1000.0 / m->interval_ms;
}

/* Bytes the head PDU puts in the next packet (0: an empty packet, the queue is drained). */
static size_t next_packet(const size_t *q, size_t n, size_t done, unsigned data_length)
{
	if (done >= n)
		return 0;
	return q[done] < data_length ? q[done] : data_length;
}

static void take(size_t *q, size_t *done, size_t bytes)
{
	if (bytes == 0)
		return;
	q[*done] -= bytes;
	if (q[*done] == 0)
		(*done)++;
}

void link_event_run(const LinkModel *m, size_t *up, size_t n_up, size_t *down, size_t n_down, LinkEvent *out)
{
	link_event_run_within(m, link_interval_usec(m), up, n_up, down, n_down, out);
}

void link_event_run_within(const LinkModel *m, uint64_t budget, size_t *up, size_t n_up, size_t *down,
			   size_t n_down, LinkEvent *out)
{
	*out = (LinkEvent){ 0 };
	while (out->exchanges < m->packets_per_event && (out->up_done < n_up || out->down_done < n_down)) {
		size_t up_bytes = next_packet(up, n_up, out->up_done, m->data_length);
		size_t down_bytes = next_packet(down, n_down, out->down_done, m->data_length);
		uint32_t t = link_exchange_usec(m, up_bytes, down_bytes);

		if (out->exchanges > 0 && out->air_usec + t > budget)
			break;
		take(up, &out->up_done, up_bytes);
		take(down, &out->down_done, down_bytes);
		out->air_usec += t;
		out->exchanges++;
	}
}
