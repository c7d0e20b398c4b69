/* SPDX-License-Identifier: MIT */
/*
 * The firmware's optional idle erase of slot 1 (CONFIG_SMPCTL_FW_IDLE_ERASE_SECONDARY,
 * firmware/src/idle-erase.c): once the running image is confirmed, at boot or when img_mgmt confirms it,
 * wait the idle delay, then erase slot 1 page by page from the header up, while MCUboot has no swap
 * planned. An upload's first accepted chunk (img_mgmt's upload check hook, before it erases or writes)
 * stops it for good until the next boot; the chunk waits at most for the page being erased.
 *
 * The device keeps no clock (sim-device.h): its host drives the delay and the pages with its own timer.
 */
#include "sim-internal.h"

/* Nothing may be erased once MCUboot has a swap planned: a test or permanent swap of slot 1, or the
 * revert of an image that is not confirmed (mcuboot_swap_type() != BOOT_SWAP_TYPE_NONE), which is also
 * img_mgmt_slot_in_use(1). */
static bool may_erase(const SimDevice *dev)
{
	return dev->swap[0] == SIM_SWAP_NONE && !dev->idle.upload_seen;
}

static void plan(SimDevice *dev)
{
	if (dev->cfg.idle_erase_ms == 0 || !may_erase(dev))
		return;
	dev->idle.state = SIM_IDLE_WAITING; /* k_work_reschedule: the delay starts again */
	dev->idle.replanned = true;
}

void sim_idle_erase_booted(SimDevice *dev)
{
	dev->idle = (SimIdleErase){ 0 };
	plan(dev);
}

/* MGMT_EVT_OP_IMG_MGMT_DFU_CONFIRMED: image 0's running slot confirmed (also when it was already). */
void sim_idle_erase_confirmed(SimDevice *dev)
{
	plan(dev);
}

/* MGMT_EVT_OP_IMG_MGMT_DFU_CHUNK: an upload to any image has begun. */
void sim_idle_erase_upload_seen(SimDevice *dev)
{
	dev->idle.upload_seen = true;
	dev->idle.state = SIM_IDLE_OFF;
}

bool sim_device_idle_erase_plan(SimDevice *dev, uint64_t *after_usec)
{
	if (!dev->idle.replanned)
		return false;
	dev->idle.replanned = false;
	*after_usec = (uint64_t)dev->cfg.idle_erase_ms * 1000;
	return true;
}

static bool page_blank(const SimDevice *dev, size_t page)
{
	const uint8_t *p = dev->slot[1] + page * SIM_PAGE_SIZE;

	for (size_t i = 0; i < SIM_PAGE_SIZE; i++)
		if (p[i] != 0xff)
			return false;
	return true;
}

uint64_t sim_device_idle_erase_step(SimDevice *dev)
{
	size_t pages = dev->cfg.slot_size / SIM_PAGE_SIZE;

	if (dev->idle.state == SIM_IDLE_WAITING) {
		if (!may_erase(dev)) {
			dev->idle.state = SIM_IDLE_OFF;
			return 0;
		}
		dev->idle.state = SIM_IDLE_ERASING;
		dev->idle.page = 0;
	}
	if (dev->idle.state != SIM_IDLE_ERASING)
		return 0;
	/* Reading a blank page costs next to nothing beside an erase: only pages holding data are timed. */
	while (dev->idle.page < pages && page_blank(dev, dev->idle.page))
		dev->idle.page++;
	if (dev->idle.page == pages) {
		dev->idle.state = SIM_IDLE_OFF;
		return 0;
	}
	dev->flash_usec = 0;
	sim_flash_erase_pages(dev, 1, dev->idle.page++, 1);
	dev->idle.pages_erased++;
	return dev->flash_usec;
}

unsigned sim_device_idle_erased_pages(const SimDevice *dev)
{
	return dev->idle.pages_erased;
}
