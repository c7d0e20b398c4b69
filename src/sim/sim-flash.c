/* SPDX-License-Identifier: MIT */
/* The nRF52833's flash in time (REFERENCE.md §9, §14; Zephyr's nRF52 flash driver constants):
 * a 4-byte word written in about 41 µs, a 4 KiB page erased in about 89.7 ms. */
#include "sim-device.h"

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

/* MCUboot swap-using-move: about three erase+write passes per sector (§13): the move down by one
 * sector, then the swap proper in both directions. */
uint64_t sim_swap_usec(size_t image_bytes)
{
	size_t sectors = (image_bytes + SIM_PAGE_SIZE - 1) / SIM_PAGE_SIZE;

	return 3 * (uint64_t)sectors * (sim_flash_erase_usec(1) + sim_flash_write_usec(SIM_PAGE_SIZE));
}
