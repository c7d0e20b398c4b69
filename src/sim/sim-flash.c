/* SPDX-License-Identifier: MIT */
/* The nRF52833's flash, contents and time (REFERENCE.md §9, §14; Zephyr's nRF52 flash driver constants):
 * a 4-byte word written in about 41 µs, a 4 KiB page erased in about 89.7 ms. NOR semantics: a write can
 * only clear bits, so data written over unerased flash comes out corrupt, as on the part. */
#include <string.h>

#include "sim-internal.h"

#define WORD_WRITE_USEC 41u
#define PAGE_ERASE_USEC 89700u

uint64_t sim_flash_write_usec(size_t bytes)
{
	return (uint64_t)((bytes + 3) / 4) * WORD_WRITE_USEC;
}

uint64_t sim_flash_erase_usec(size_t pages)
{
	return (uint64_t)pages * PAGE_ERASE_USEC;
}

/* MCUboot swap-using-move: about three erase+write passes per sector (§13): the move up by one
 * sector, then the swap proper in both directions. */
uint64_t sim_swap_usec(size_t image_bytes)
{
	size_t sectors = (image_bytes + SIM_PAGE_SIZE - 1) / SIM_PAGE_SIZE;

	return 3 * (uint64_t)sectors * (sim_flash_erase_usec(1) + sim_flash_write_usec(SIM_PAGE_SIZE));
}

void sim_flash_erase_pages(SimDevice *dev, unsigned slot, size_t first, size_t count)
{
	if (first >= SIM_PAGES)
		return;
	count = count < SIM_PAGES - first ? count : SIM_PAGES - first;
	memset(dev->slot[slot] + first * SIM_PAGE_SIZE, 0xff, count * SIM_PAGE_SIZE);
	dev->flash_usec += sim_flash_erase_usec(count);
}

/* img_mgmt_flash_check_empty_inner(): every word reads as erased. */
bool sim_flash_is_empty(const SimDevice *dev, unsigned slot)
{
	for (size_t i = 0; i < dev->cfg.slot_size; i++)
		if (dev->slot[slot][i] != 0xff)
			return false;
	return true;
}

/* Writes n bytes at off; the caller has checked off + n against the slot. With progressive erase
 * (CONFIG_IMG_ERASE_PROGRESSIVELY, stream_flash) each page is erased when the upload first reaches it. */
void sim_flash_write(SimDevice *dev, unsigned slot, uint64_t off, const uint8_t *data, size_t n)
{
	uint8_t *at = dev->slot[slot] + off;

	if (n == 0)
		return;
	if (dev->cfg.progressive_erase && slot % 2 == 1) /* a secondary slot: the upload's */
		for (size_t page = (size_t)(off / SIM_PAGE_SIZE); page <= (size_t)((off + n - 1) / SIM_PAGE_SIZE); page++)
			if (!dev->erased_this_upload[page]) {
				sim_flash_erase_pages(dev, slot, page, 1);
				dev->erased_this_upload[page] = true;
			}
	for (size_t i = 0; i < n; i++)
		at[i] &= data[i];
	dev->flash_usec += sim_flash_write_usec(n);
}
