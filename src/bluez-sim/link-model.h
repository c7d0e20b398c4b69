/* SPDX-License-Identifier: MIT */
/*
 * The BLE link as REFERENCE.md §14 models it: each connection event carries at most N packet exchanges,
 * one LL packet each way; an ATT PDU of n value bytes needs ceil((n + 7) / data_length) packets (4 bytes
 * of L2CAP header, 3 of ATT header) and may span events. Pure arithmetic, unit-tested.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct LinkModel {
	double interval_ms;         /* connection interval */
	unsigned packets_per_event; /* exchanges per connection event (6) */
	unsigned data_length;       /* LL payload: 251 (DLE) or 27 */
	unsigned mtu;               /* ATT MTU */
} LinkModel;

void link_model_default(LinkModel *m);
/* LL packets one ATT PDU carrying n value bytes needs. */
unsigned link_packets(const LinkModel *m, size_t value_bytes);
/* The model's one-direction ceiling in value bytes per second (REFERENCE.md §14). */
double link_ceiling(const LinkModel *m);
