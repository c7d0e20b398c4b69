/* SPDX-License-Identifier: MIT */
/* The simulated device's inside, shared by its group handlers. Not for hosts: they use sim-device.h. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <cbor.h>

#include "image.h"
#include "sim-device.h"
#include "smp-cbor.h"
#include "smp.h"

#define SIM_PAGES (SIM_SLOT_SIZE / SIM_PAGE_SIZE)
#define SIM_POWER_OFF_USEC (500u * 1000) /* --power-loss-in-swap: how long the power stays off */

/* MCUboot's view of the next boot (bootutil swap types, as img_mgmt_swap_type() reports them). */
typedef enum SimSwap {
	SIM_SWAP_NONE,
	SIM_SWAP_TEST,   /* slot 1 marked for a test boot */
	SIM_SWAP_PERM,   /* slot 1 marked permanent */
	SIM_SWAP_REVERT, /* slot 0 runs a tested image that is not confirmed: the next boot reverts */
} SimSwap;

/* g_img_mgmt_state of img_mgmt.c: the upload session, in RAM. */
typedef struct SimUpload {
	bool active;      /* area_id != -1 */
	unsigned image;   /* the first chunk's "image": its secondary slot takes the data */
	uint64_t off;
	uint64_t len;
	uint8_t sha[32];  /* zero-padded as Zephyr keeps it */
	size_t sha_len;
} SimUpload;

/* The firmware's idle erase of slot 1 (sim-idle-erase.c). */
typedef enum SimIdleState {
	SIM_IDLE_OFF,
	SIM_IDLE_WAITING, /* the delayable work is scheduled */
	SIM_IDLE_ERASING, /* erasing page by page */
} SimIdleState;

typedef struct SimIdleErase {
	SimIdleState state;
	bool replanned;     /* a new delay started, which the host has not taken yet */
	bool upload_seen;   /* an upload has begun since boot: no more idle erase until the next one */
	size_t page;        /* next page of slot 1 to look at */
	unsigned pages_erased; /* since boot */
} SimIdleErase;

typedef struct SimFs SimFs;
struct SimSettings;

struct SimDevice {
	SimConfig cfg;
	SimFs *fs;                      /* the file system group's files and open file (sim-fs-group.c) */
	struct SimSettings *settings;   /* the application's settings and their storage (sim-settings-group.c) */
	/* flash contents, 0xff where erased: image i has slots 2i (primary) and 2i + 1 (secondary), counted
	 * as img_mgmt counts them */
	uint8_t slot[2 * SIM_IMAGES_MAX][SIM_SLOT_SIZE];
	bool erased_this_upload[SIM_PAGES]; /* progressive erase: pages of slot 1 erased by this upload */
	SimSwap swap[SIM_IMAGES_MAX];   /* per image: MCUboot swaps each pair on its own */
	unsigned active[SIM_IMAGES_MAX]; /* the slot (0 or 1) each image runs from: 1 only in direct-xip */
	SimUpload upload;
	SimIdleErase idle;
	bool reset_requested;
	bool power_lost;                /* --power-loss-in-swap happened already (once per device) */
	uint64_t stall_usec;            /* real time the frame being handled adds (slow_erase_ms) */
	bool rtc_set;
	char rtc[32];                   /* date-time last written (the model keeps no clock) */
	uint64_t flash_usec;            /* device time spent by the frame being handled */
	uint8_t reply[65536];           /* the response being built */
};

/* The outcome of a handler. rc: an SMP-level code the handler returned (error frame {"rc": N}).
 * group/group_rc: a group error added with smp_add_cmd_err() (v2 "err", v1 translated). rsn: the reason
 * Zephyr sets in the streamer context (only image upload checks set one). */
typedef struct SimStatus {
	int32_t rc;
	uint16_t group;
	int32_t group_rc;
	const char *rsn;
	const char *extra_key;  /* a field the handler adds beside a v2 group error (fs upload's "len") */
	uint64_t extra_value;
} SimStatus;

#define SIM_OK ((SimStatus){ 0 })
#define SIM_RC(n) ((SimStatus){ .rc = (n) })
#define SIM_GROUP_ERR(g, n) ((SimStatus){ .group = (g), .group_rc = (n) })
#define SIM_GROUP_ERR_RSN(g, n, why) ((SimStatus){ .group = (g), .group_rc = (n), .rsn = (why) })

static inline bool sim_status_failed(SimStatus st)
{
	return st.rc != 0 || st.group_rc != 0;
}

/* body is NULL when the request's CBOR does not decode: handlers that read fields answer rc 3 then,
 * those that ignore the body (params, state read, reset) answer as usual, as with zcbor. */
typedef struct SimRequest {
	const SmpHeader *header;
	const cbor_item_t *body;
} SimRequest;

SimStatus sim_os_handle(SimDevice *dev, const SimRequest *req, SmpCborWriter *w);
SimStatus sim_image_handle(SimDevice *dev, const SimRequest *req, SmpCborWriter *w);
/* Slot info's entry for image 0 (both slots' sizes, and which image id takes uploads into each: slot 0's
 * only when slot0_upload_id >= 0), shared by the application's img_mgmt and MCUboot's serial recovery. */
void sim_put_image0_slots(SmpCborWriter *w, uint32_t slot_size, int slot0_upload_id, unsigned slot1_upload_id);
SimStatus sim_zbasic_handle(SimDevice *dev, const SimRequest *req, SmpCborWriter *w);
SimStatus sim_stat_handle(SimDevice *dev, const SimRequest *req, SmpCborWriter *w);
SimStatus sim_shell_handle(SimDevice *dev, const SimRequest *req, SmpCborWriter *w);
SimStatus sim_enum_handle(SimDevice *dev, const SimRequest *req, SmpCborWriter *w);
SimStatus sim_os_taskstat(SimDevice *dev, const SimRequest *req, SmpCborWriter *w);
SimStatus sim_fs_handle(SimDevice *dev, const SimRequest *req, SmpCborWriter *w);
void sim_fs_free(SimDevice *dev);
SimStatus sim_settings_handle(SimDevice *dev, const SimRequest *req, SmpCborWriter *w);
int sim_settings_new(SimDevice *dev);
void sim_settings_free(SimDevice *dev);
void sim_settings_boot(SimDevice *dev);          /* a restart: RAM lost, stored values loaded */
void sim_settings_erase_storage(SimDevice *dev); /* Zephyr basic's storage erase */

/* Flash of the two slots (sim-flash.c): contents and the time each operation costs. */
void sim_flash_erase_pages(SimDevice *dev, unsigned slot, size_t first, size_t count);
bool sim_flash_is_empty(const SimDevice *dev, unsigned slot);
void sim_flash_write(SimDevice *dev, unsigned slot, uint64_t off, const uint8_t *data, size_t n);

/* Image slots and MCUboot (sim-boot.c). */
void sim_slots_init(SimDevice *dev);
bool sim_slot_image(const SimDevice *dev, unsigned slot, Image *img);
/* Slots counted over all images: the one image's running slot, and the other that takes uploads. */
static inline unsigned sim_active_slot(const SimDevice *dev, unsigned image)
{
	return 2 * image + dev->active[image];
}

static inline unsigned sim_other_slot(const SimDevice *dev, unsigned image)
{
	return 2 * image + 1 - dev->active[image];
}
uint64_t sim_boot_usec(const SimDevice *dev);
void sim_boot(SimDevice *dev);

/* The idle erase's events (sim-idle-erase.c): a boot, a confirm of the running image, an upload chunk. */
void sim_idle_erase_booted(SimDevice *dev);
void sim_idle_erase_confirmed(SimDevice *dev);
void sim_idle_erase_upload_seen(SimDevice *dev);
