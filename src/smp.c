/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include <stdbool.h>

#include "smp.h"

/* SMP header, REFERENCE.md §1: byte 0 = res(3) | version(2) | op(3), flags, len BE16, group BE16, seq, id. */
void smp_header_encode(const SmpHeader *h, uint8_t out[SMP_HEADER_SIZE])
{
	out[0] = (uint8_t)((h->version & 0x03) << 3 | (h->op & 0x07));
	out[1] = h->flags;
	out[2] = (uint8_t)(h->len >> 8);
	out[3] = (uint8_t)h->len;
	out[4] = (uint8_t)(h->group >> 8);
	out[5] = (uint8_t)h->group;
	out[6] = h->seq;
	out[7] = h->id;
}

int smp_header_decode(const uint8_t *buf, size_t len, SmpHeader *out)
{
	if (len < SMP_HEADER_SIZE)
		return -EBADMSG;
	*out = (SmpHeader){
		.op = buf[0] & 0x07,
		.version = (buf[0] >> 3) & 0x03,
		.flags = buf[1],
		.len = (uint16_t)(buf[2] << 8 | buf[3]),
		.group = (uint16_t)(buf[4] << 8 | buf[5]),
		.seq = buf[6],
		.id = buf[7],
	};
	return 0;
}

bool smp_header_answers(const SmpHeader *req, const SmpHeader *rsp)
{
	return rsp->op == req->op + 1 && rsp->group == req->group && rsp->seq == req->seq && rsp->id == req->id;
}

const char *smp_group_name(uint16_t group)
{
	switch (group) {
	case SMP_GROUP_OS: return "os";
	case SMP_GROUP_IMAGE: return "image";
	case SMP_GROUP_STAT: return "stat";
	case SMP_GROUP_SETTINGS: return "settings";
	case SMP_GROUP_LOG: return "log";
	case SMP_GROUP_CRASH: return "crash";
	case SMP_GROUP_SPLIT: return "split";
	case SMP_GROUP_RUN: return "run";
	case SMP_GROUP_FS: return "fs";
	case SMP_GROUP_SHELL: return "shell";
	case SMP_GROUP_ENUM: return "enumeration";
	case SMP_GROUP_ZEPHYR_BASIC: return "zephyr-basic";
	default: return NULL;
	}
}
