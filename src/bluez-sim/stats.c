/* SPDX-License-Identifier: MIT */
/*
 * --stats-file: what each adapter's radio carried, in simulated time (so the figures do not depend on the
 * machine's load), next to the ceiling one adapter can carry. One record a line, space-separated
 * key=value fields after the record type, for a benchmark to read:
 *   adapter hci0 ceiling=B/s radio_ceiling=B/s link_ceiling=B/s max_links=N elapsed_usec= air_usec= active_usec= busy_share=
 *           bytes_up= bytes_down= up_bytes_per_s=
 *   link hci0 ADDRESS bytes_up= bytes_down= air_usec= events= skipped=
 * active_usec runs from the adapter's first event to the end of its last; busy_share and up_bytes_per_s
 * are over that span.
 *   clients N NAME…   the distinct D-Bus senders that called Device1.Connect, Start/StopDiscovery,
 *                     SetDiscoveryFilter or RegisterAgent: BlueZ keys its sessions by sender
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bluez-sim.h"

static void write_adapter(FILE *f, Adapter *a)
{
	const Stand *s = a->stand;
	const Airtime *air = &a->air;
	uint64_t up = 0, down = 0, active = air->any_event ? air->last_end - air->first_event : 0;

	for (size_t i = 0; i < air->n_links; i++) {
		up += air->links[i].bytes_up;
		down += air->links[i].bytes_down;
	}
	fprintf(f, "adapter hci%u ceiling=%.0f radio_ceiling=%.0f link_ceiling=%.0f max_links=%u elapsed_usec=%llu "
		   "air_usec=%llu active_usec=%llu busy_share=%.4f bytes_up=%llu bytes_down=%llu up_bytes_per_s=%.0f\n",
		a->index, airtime_ceiling(&s->link, s->max_links, s->anchor_placement), airtime_radio_ceiling(&s->link),
		link_ceiling(&s->link), s->max_links,
		(unsigned long long)radio_air_now(a), (unsigned long long)air->air_usec, (unsigned long long)active,
		active ? (double)air->air_usec / (double)active : 0.0, (unsigned long long)up,
		(unsigned long long)down, active ? (double)up * 1e6 / (double)active : 0.0);
	for (size_t i = 0; i < air->n_links; i++) {
		const AirLink *l = &air->links[i];

		if (l->events)
			fprintf(f, "link hci%u %s bytes_up=%llu bytes_down=%llu air_usec=%llu events=%llu skipped=%llu\n",
				a->index, s->radios[i].address, (unsigned long long)l->bytes_up,
				(unsigned long long)l->bytes_down, (unsigned long long)l->air_usec,
				(unsigned long long)l->events, (unsigned long long)l->skips);
	}
}

void stats_client_call(Stand *s, sd_bus_message *m, const char *object)
{
	const char *sender = sd_bus_message_get_sender(m);
	size_t i;

	if (!sender)
		return;
	stand_log(s, "%s: %s from %s", object, sd_bus_message_get_member(m), sender);
	for (i = 0; i < s->n_seen_clients; i++)
		if (!strcmp(s->seen_clients[i], sender))
			return;
	if (i < MAX_SEEN_CLIENTS)
		s->seen_clients[s->n_seen_clients++] = stand_strdup(sender);
}

int stats_write(Stand *s, const char *path)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "# smpctl-bluez-sim air time: interval %.2f ms, MTU %u, data length %u, %s PHY, %u packets per event\n",
		s->link.interval_ms, s->link.mtu, s->link.data_length, s->link.phy == LINK_PHY_2M ? "2M" : "1M",
		s->link.packets_per_event);
	for (size_t i = 0; i < s->n_adapters; i++)
		write_adapter(f, &s->adapters[i]);
	fprintf(f, "clients %zu", s->n_seen_clients);
	for (size_t i = 0; i < s->n_seen_clients; i++)
		fprintf(f, " %s", s->seen_clients[i]);
	fputc('\n', f);
	if (fclose(f) != 0)
		return -errno;
	return rename(tmp, path) < 0 ? -errno : 0;
}
