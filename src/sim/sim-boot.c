/* SPDX-License-Identifier: MIT */
/*
 * MCUboot (swap-using-move, or direct-xip) of the simulated device: the factory image, and what happens at boot with the
 * state the application left (REFERENCE.md §8, §12, §13; MCUboot docs/design.md, loader.c).
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "sim-internal.h"
#include "util.h"

#define FACTORY_PAYLOAD (120u * 1024)
#define WATCHDOG_USEC (2u * 1000 * 1000)   /* a crashing test image: until the watchdog resets */
#define BOOT_USEC (300u * 1000)

bool sim_slot_image(const SimDevice *dev, unsigned slot, Image *img)
{
	return image_parse(dev->slot[slot], dev->cfg.slot_size, img, NULL, 0) == 0;
}

void sim_slots_init(SimDevice *dev)
{
	memset(dev->slot, 0xff, sizeof(dev->slot));
	for (unsigned i = 0; i < dev->cfg.images; i++) {
		sim_make_image(dev->slot[2 * i], dev->cfg.slot_size, FACTORY_PAYLOAD, dev->cfg.app_version, (uint8_t)(1 + i));
		dev->swap[i] = SIM_SWAP_NONE;
		dev->active[i] = 0;
	}
}

static int version_cmp(const ImageVersion *a, const ImageVersion *b)
{
	uint64_t ka = (uint64_t)a->major << 56 | (uint64_t)a->minor << 48 | (uint64_t)a->revision << 32 | a->build;
	uint64_t kb = (uint64_t)b->major << 56 | (uint64_t)b->minor << 48 | (uint64_t)b->revision << 32 | b->build;

	return ka < kb ? -1 : ka > kb;
}

/* bootutil_img_validate(): the image ends before the sector that holds the slot's trailer, the hash TLV
 * matches (signatures are not modelled), and with downgrade prevention the version is not older than
 * the running one. The end check is MCUboot 2.1's image_validate.c: TLV end > bootutil_max_image_size(),
 * which for swap-using-move is the offset of the trailer's sector, one page before the slot's end. So an
 * image that fits the slot, and uploads with "match", is still erased at boot if it reaches that page
 * (and swap_fits() asks for one page more). */
static bool image_validates(const SimDevice *dev, unsigned slot, const Image *img)
{
	uint8_t digest[32];

	if (img->size > dev->cfg.slot_size - SIM_PAGE_SIZE)
		return false;
	if (img->hash_type != IMAGE_TLV_SHA256)
		return true; /* the model checks SHA-256 images only; larger hashes are taken as valid */
	image_sha256(dev->slot[slot], (size_t)img->hdr_size + img->img_size + img->protect_tlv_size, digest);
	return memcmp(digest, img->hash, 32) == 0;
}

static bool slot1_bootable(const SimDevice *dev, unsigned image)
{
	Image img, running;

	if (!sim_slot_image(dev, 2 * image + 1, &img))
		return false;
	if (dev->cfg.no_downgrade && sim_slot_image(dev, 2 * image, &running) &&
	    version_cmp(&img.version, &running.version) < 0)
		return false;
	return image_validates(dev, 2 * image + 1, &img);
}

/* boot_rom_address_check(): an image signed with imgtool --rom-fixed runs only from the slot at its address. */
static bool xip_address_fits(unsigned slot, const Image *img)
{
	return !(img->flags & IMAGE_F_ROM_FIXED) || img->load_addr == (slot % 2 ? SIM_SLOT1_OFFSET : SIM_SLOT0_OFFSET);
}

/* Direct-xip (MCUboot 346f7374 loader.c boot_load_and_validate_images, find_slot_with_highest_version;
 * docs/design.md "Equal slots (direct-xip)"): the slot with the highest version is tried first (on a tie
 * the lower slot); one linked for the other slot's address is passed over, one that does not validate
 * is erased; then the other slot. Nothing moves, and without MCUBOOT_DIRECT_XIP_REVERT nothing reverts. */
static void xip_boot(SimDevice *dev)
{
	bool available[2] = { true, true };

	for (;;) {
		Image img, best_img;
		int best = -1;

		for (unsigned s = 0; s < 2; s++)
			if (available[s] && sim_slot_image(dev, s, &img) &&
			    (best < 0 || version_cmp(&img.version, &best_img.version) > 0)) {
				best = (int)s;
				best_img = img;
			}
		if (best < 0) {
			log_debug("sim: direct-xip: no slot to load; the device stays as it was");
			return;
		}
		available[best] = false;
		if (!xip_address_fits((unsigned)best, &best_img)) {
			log_debug("sim: direct-xip: the image in slot %d is built for another slot, skipping", best);
			continue;
		}
		if (!image_validates(dev, (unsigned)best, &best_img)) {
			log_debug("sim: direct-xip: the image in slot %d does not validate; MCUboot erases it", best);
			memset(dev->slot[best], 0xff, SIM_SLOT_SIZE);
			continue;
		}
		dev->active[0] = (unsigned)best;
		return;
	}
}

/* swap_run() in MCUboot 2.1's swap_move.c, when a swap starts: the larger of the two images, in whole
 * pages, must end before the trailer's first page (first_trailer_idx; the trailer fits one 4 KiB page
 * here), because the move shifts slot 0 up by one page. With equal slots that leaves two pages: an
 * image up to slot - 2 pages swaps. Otherwise MCUboot logs "Not enough free space to run swap upgrade",
 * boots the running image and leaves slot 1 as it is, still marked, to fail the same way next time. */
static bool swap_fits(const SimDevice *dev, unsigned image)
{
	size_t pages = dev->cfg.slot_size / SIM_PAGE_SIZE, largest = 0;
	Image img;

	for (unsigned slot = 2 * image; slot < 2 * image + 2; slot++)
		if (sim_slot_image(dev, slot, &img))
			largest = MAX(largest, img.size);
	return (largest + SIM_PAGE_SIZE - 1) / SIM_PAGE_SIZE < pages - 1;
}

/* Swap-using-move moves every sector either image occupies. */
static uint64_t swap_usec(const SimDevice *dev, unsigned image)
{
	Image a, b;
	size_t n = 0;

	if (sim_slot_image(dev, 2 * image, &a))
		n = a.size;
	if (sim_slot_image(dev, 2 * image + 1, &b))
		n = MAX(n, b.size);
	return sim_swap_usec(n);
}

static uint64_t image_boot_usec(const SimDevice *dev, unsigned image)
{
	switch (dev->swap[image]) {
	case SIM_SWAP_TEST:
	case SIM_SWAP_PERM:
		if (!slot1_bootable(dev, image))
			return sim_flash_erase_usec(dev->cfg.slot_size / SIM_PAGE_SIZE);
		if (!swap_fits(dev, image))
			return 0;
		if (dev->swap[image] == SIM_SWAP_TEST && dev->cfg.new_image_crashes)
			return 2 * swap_usec(dev, image) + BOOT_USEC + WATCHDOG_USEC;
		return swap_usec(dev, image);
	case SIM_SWAP_REVERT:
		return swap_usec(dev, image);
	case SIM_SWAP_NONE:
	default:
		return 0;
	}
}

/* MCUboot's multi-image boot takes the images one after the other. */
uint64_t sim_boot_usec(const SimDevice *dev)
{
	uint64_t usec = 0;

	if (dev->cfg.direct_xip)
		return 0; /* nothing moves: validating the image is all */
	for (unsigned i = 0; i < dev->cfg.images; i++)
		usec += image_boot_usec(dev, i);
	return usec;
}

static void slots_swap(SimDevice *dev, unsigned image)
{
	static uint8_t tmp[SIM_SLOT_SIZE];

	memcpy(tmp, dev->slot[2 * image], SIM_SLOT_SIZE);
	memcpy(dev->slot[2 * image], dev->slot[2 * image + 1], SIM_SLOT_SIZE);
	memcpy(dev->slot[2 * image + 1], tmp, SIM_SLOT_SIZE);
}

/* What MCUboot does at boot (§13). A test swap leaves the new image running unconfirmed (the next boot
 * reverts unless it is confirmed); a permanent one leaves it confirmed. An image that does not validate
 * is erased from slot 1 and the running one stays (boot_validate_slot); one too large to move stays
 * marked in slot 1 and is not swapped (swap_fits). */
static void image_boot(SimDevice *dev, unsigned image)
{
	SimSwap *swap = &dev->swap[image];

	switch (*swap) {
	case SIM_SWAP_NONE:
		return;
	case SIM_SWAP_TEST:
	case SIM_SWAP_PERM:
		if (!slot1_bootable(dev, image)) {
			log_debug("sim: image %u's secondary slot does not validate; MCUboot erases it", image);
			memset(dev->slot[2 * image + 1], 0xff, SIM_SLOT_SIZE);
			*swap = SIM_SWAP_NONE;
			return;
		}
		if (!swap_fits(dev, image)) {
			log_debug("sim: not enough free space to run swap upgrade; image %u stays marked", image);
			return;
		}
		slots_swap(dev, image);
		*swap = *swap == SIM_SWAP_TEST ? SIM_SWAP_REVERT : SIM_SWAP_NONE;
		/* A tested image that crashes before it confirms: the watchdog resets, MCUboot reverts. */
		if (*swap == SIM_SWAP_REVERT && dev->cfg.new_image_crashes)
			image_boot(dev, image);
		return;
	case SIM_SWAP_REVERT:
		slots_swap(dev, image);
		*swap = SIM_SWAP_NONE;
		return;
	}
}

void sim_boot(SimDevice *dev)
{
	if (dev->cfg.direct_xip) {
		xip_boot(dev);
		return;
	}
	for (unsigned i = 0; i < dev->cfg.images; i++)
		image_boot(dev, i);
}

static void put_le(uint8_t *p, uint32_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* MCUboot layout (REFERENCE.md §8): 32-byte header padded to 0x200, payload, unprotected TLV area with a
 * SHA-256 hash TLV over header and payload. */
size_t sim_make_image(uint8_t *buf, size_t buf_size, size_t payload, const char *version, uint8_t seed)
{
	const size_t hdr = 0x200, tlv_total = 4 + 4 + 32;
	unsigned major = 0, minor = 0, revision = 0, build = 0;
	uint32_t x = 0x2545f491u ^ seed;
	uint8_t *p;

	if (payload > UINT32_MAX || buf_size < hdr + tlv_total || payload > buf_size - hdr - tlv_total)
		return 0;
	if (sscanf(version, "%u.%u.%u+%u", &major, &minor, &revision, &build) < 1)
		return 0;
	memset(buf, 0, hdr);
	put_le(buf, 0x96f3b83du, 4);
	put_le(buf + 8, (uint32_t)hdr, 2);
	put_le(buf + 12, (uint32_t)payload, 4);
	buf[20] = (uint8_t)major;
	buf[21] = (uint8_t)minor;
	put_le(buf + 22, revision, 2);
	put_le(buf + 24, build, 4);
	for (size_t i = 0; i < payload; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[hdr + i] = (uint8_t)x;
	}
	p = buf + hdr + payload;
	put_le(p, 0x6907, 2);
	put_le(p + 2, (uint32_t)tlv_total, 2);
	put_le(p + 4, 0x10, 2);
	put_le(p + 6, 32, 2);
	image_sha256(buf, hdr + payload, p + 8);
	return hdr + payload + tlv_total;
}
