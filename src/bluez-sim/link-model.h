/* SPDX-License-Identifier: MIT */
/*
 * The BLE link as REFERENCE.md §14 models it, as pure arithmetic (unit-tested in tests/test-link-model.c).
 * Each connection event carries at most packets_per_event exchanges, one LL packet each way (writes up,
 * notifications down at the same time); an ATT PDU of n value bytes is n + 7 bytes on the link (4 of L2CAP,
 * 3 of ATT header) and needs ceil((n + 7) / data_length) packets; a PDU may span events. The PHY adds the
 * one thing §14 leaves out: an event must fit in the interval, so at 1M (or at 7.5 ms) fewer exchanges fit.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINK_L2CAP_ATT_OVERHEAD 7u /* L2CAP header 4 + ATT opcode and handle 3 */
#define LINK_T_IFS_USEC 150u       /* inter-frame space, Core Vol 6 Part B 4.1.1 */

typedef enum LinkPhy {
	LINK_PHY_1M,
	LINK_PHY_2M,
} LinkPhy;

typedef struct LinkModel {
	double interval_ms;         /* connection interval: 7.5 ms steps of 1.25 ms up to 4 s */
	unsigned packets_per_event; /* exchanges per connection event (6) */
	unsigned data_length;       /* LL payload: 251 (data length extension) or 27 */
	unsigned mtu;               /* ATT MTU, 23..517 */
	LinkPhy phy;
} LinkModel;

/* 15 ms, 6 exchanges, data length 251, MTU 498, 2M: the nRF52833 setup of REFERENCE.md §14. */
void link_model_default(LinkModel *m);
/* 0, or -EINVAL naming nothing: callers print their own message. */
int link_model_validate(const LinkModel *m);
int link_phy_parse(const char *s, LinkPhy *out);

uint64_t link_interval_usec(const LinkModel *m);
/* Largest value of one Write Command or notification: MTU - 3 (BLUEZ.md §5). */
size_t link_value_max(const LinkModel *m);
/* LL packets one ATT PDU carrying n value bytes needs. */
unsigned link_packets(const LinkModel *m, size_t value_bytes);
/* Air time of one LL packet with `payload` bytes (preamble, access address, header, payload, CRC). */
uint32_t link_packet_usec(const LinkModel *m, size_t payload);
/* Air time of one exchange: `up` payload bytes up, `down` down, T_IFS after each packet. */
uint32_t link_exchange_usec(const LinkModel *m, size_t up, size_t down);
/* Exchanges that fit in one event when every one carries `up` payload bytes up and `down` down. */
unsigned link_exchanges_per_event(const LinkModel *m, size_t up, size_t down);
/* The model's one-direction ceiling in value bytes per second (REFERENCE.md §14: full packets of
 * data_length - 7 value bytes, as many exchanges as fit in an event). */
double link_ceiling(const LinkModel *m);

/* One connection event over two queues of ATT PDUs, each given as the link bytes (value + 7) it still
 * has to send, head first. Moves packets in place (a PDU is done when its entry reaches 0) and reports
 * how many PDUs completed in each direction. An exchange happens while either side has data, at most
 * packets_per_event of them, and never more than fit in the interval (the first one always does). */
typedef struct LinkEvent {
	unsigned exchanges;
	size_t up_done, down_done;  /* PDUs completed, from the head */
	uint64_t air_usec;          /* time the event took */
} LinkEvent;

void link_event_run(const LinkModel *m, size_t *up, size_t n_up, size_t *down, size_t n_down, LinkEvent *out);
/* The same within budget_usec instead of the interval: the event closes before another link's anchor
 * (airtime.h). The first exchange still goes: it is the event's reserved slot. */
void link_event_run_within(const LinkModel *m, uint64_t budget_usec, size_t *up, size_t n_up, size_t *down,
			   size_t n_down, LinkEvent *out);
