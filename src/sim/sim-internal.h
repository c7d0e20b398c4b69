/* SPDX-License-Identifier: MIT */
/* The simulated device's inside, shared by its group handlers. Not for hosts: they use sim-device.h. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <cbor.h>

#include "sim-device.h"
#include "smp-cbor.h"
#include "smp.h"

#define SIM_PAGES (SIM_SLOT_SIZE / SIM_PAGE_SIZE)

/* MCUboot's view of the next boot (bootutil swap types, as img_mgmt_swap_type() reports them). */
typedef enum SimSwap {
	SIM_SWAP_NONE,
	SIM_SWAP_TEST,   /* slot 1 marked for a test boot */
	SIM_SWAP_PERM,   /* slot 1 marked permanent */
	SIM_SWAP_REVERT, /* slot 0 runs a tested image that is not confirmed: the next boot reverts */
} SimSwap;

typedef struct SimUpload {
	bool active;
	uint64_t off;
	uint64_t len;
	uint8_t sha[32];
	size_t sha_len;
} SimUpload;

struct SimDevice {
	SimConfig cfg;
	uint8_t slot[2][SIM_SLOT_SIZE]; /* flash contents: 0xff where erased */
	bool page_erased[2][SIM_PAGES];
	SimSwap swap;
	SimUpload upload;
	bool reset_requested;
	uint64_t flash_usec;            /* device time spent by the frame being handled */
	uint8_t reply[65536];           /* the response being built */
};

/* A response under construction: the handler writes the body's fields between begin and end. */
typedef struct SimReply {
	SmpCborWriter w;
	bool error;       /* an error status was put: no legacy "rc": 0 */
} SimReply;

/* Group handlers: write the response body fields (without the enclosing map) and return 0, or return
 * a status: a positive SMP-level rc (SimStatus.group 0) or a group error. */
typedef struct SimStatus {
	int32_t rc;       /* SMP-level rc, 0 if none */
	uint16_t group;   /* with group_rc: a group error (v2 "err", translated for v1) */
	int32_t group_rc;
	const char *rsn;
} SimStatus;

#define SIM_OK ((SimStatus){ 0 })
#define SIM_RC(n) ((SimStatus){ .rc = (n) })
#define SIM_GROUP_ERR(g, n, why) ((SimStatus){ .group = (g), .group_rc = (n), .rsn = (why) })

typedef struct SimRequest {
	const SmpHeader *header;
	const cbor_item_t *body;
} SimRequest;

SimStatus sim_os_handle(SimDevice *dev, const SimRequest *req, SmpCborWriter *w);
SimStatus sim_image_handle(SimDevice *dev, const SimRequest *req, SmpCborWriter *w);
SimStatus sim_zbasic_handle(SimDevice *dev, const SimRequest *req, SmpCborWriter *w);

/* Image slots and MCUboot. */
void sim_slots_init(SimDevice *dev);
void sim_boot(SimDevice *dev);
uint64_t sim_swap_image_bytes(const SimDevice *dev);
