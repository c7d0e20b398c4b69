/* SPDX-License-Identifier: MIT */
/*
 * MCUboot's serial recovery as the simulated device's other personality (smpctl-sim --serial …
 * --recovery LIST): what boot/boot_serial/src/boot_serial.c answers in MCUboot as shipped with Zephyr
 * 4.1 (bootloader/mcuboot at 346f7374ff4467e40b5594658f8ac67a5e9813c9, the revision west.yml of the
 * Zephyr 4.1.0 workspace names), one build at a time, on the same flash the application then boots:
 * - image list (group 1, command 0 read, bs_list()): the slots whose image validates, {slot, version};
 *   "hash" only with MCUBOOT_SERIAL_IMG_GRP_HASH; "bootable", and "active"/"confirmed"/"pending"/
 *   "permanent" from the swap type (a test swap pending lists slot 0 confirmed but not active) only
 *   with MCUBOOT_SERIAL_IMG_GRP_IMAGE_STATE;
 * - image state write (bs_set()): rc 8 without IMAGE_STATE; with it, boot_set_pending_multi() always
 *   marks the SECONDARY slot for a test (or permanent) swap; with IMG_GRP_HASH a given hash must be the
 *   one of the image in slot 1 (else rc 5, ENOENT), without it the hash is not even read. Marking a slot
 *   already marked changes nothing (boot_set_next(): magic already good). Answered with the list;
 * - upload (group 1, command 1, bs_upload()): "image" read on the first chunk only; without
 *   MCUBOOT_SERIAL_DIRECT_IMAGE_UPLOAD always into the primary slot of that image (only image 0 here:
 *   another is rc 3), with it image 0 or 1 is the primary slot, 2 the secondary
 *   (flash_area_id_from_direct_image()), others rc 3. The slot is erased whole on the first chunk, its
 *   trailer with it (so no swap or revert is pending for it afterwards); a chunk at another offset is
 *   answered with the expected one; answers {"rc": 0, "off": n}; "sha" is not read, no "match";
 * - slot info (group 1, command 6) only with MCUBOOT_SERIAL_IMG_GRP_SLOT_INFO: upload_image_id for
 *   slot 1 without direct upload, for each slot with it;
 * - echo (group 0, command 0) only with MCUBOOT_BOOT_MGMT_ECHO; console echo control (group 0,
 *   command 1) answers {"rc": 0}, which Zephyr's os_mgmt never does; reset (command 5) {"rc": 0}, and
 *   250 ms later the device restarts;
 * - anything else {"rc": 8}. Errors are always plain "rc", the answer's header copies the request's
 *   version, and maps are indefinite-length (zcbor).
 * After a reset MCUboot boots (swapping if slot 1 was marked) and the application runs: the recovery
 * button or pin is no longer held. The host (sim-serial-host.c) plays that part.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct SimRecoveryConfig {
	bool echo;        /* MCUBOOT_BOOT_MGMT_ECHO */
	bool hash;        /* MCUBOOT_SERIAL_IMG_GRP_HASH */
	bool state;       /* MCUBOOT_SERIAL_IMG_GRP_IMAGE_STATE */
	bool slot_info;   /* MCUBOOT_SERIAL_IMG_GRP_SLOT_INFO */
	bool direct;      /* MCUBOOT_SERIAL_DIRECT_IMAGE_UPLOAD */
	bool held;        /* not a build option: the recovery button or pin stays held, so every boot
			   * enters recovery again (before any swap, as boot/zephyr/main.c checks it first) */
} SimRecoveryConfig;

/* "none" or a comma list of echo, hash, state, slot-info, direct, held: 0 or -EINVAL. */
int sim_recovery_parse(const char *list, SimRecoveryConfig *cfg);

typedef struct SimRecovery SimRecovery;
typedef struct SimDevice SimDevice;
/* MCUboot in recovery on dev's flash (the device keeps its slots and swap state across the personalities). */
int sim_recovery_new(const SimRecoveryConfig *cfg, SimDevice *dev, SimRecovery **out);
void sim_recovery_free(SimRecovery *r);
/* One request frame; the answer into out. Returns its length, 0 when none (not a request). */
size_t sim_recovery_process(SimRecovery *r, const uint8_t *frame, size_t len, uint8_t *out, size_t out_size);
/* MCUboot restarts after a reset: the upload in RAM is lost. True when it enters recovery again (held). */
bool sim_recovery_reboot(SimRecovery *r);
/* A reset answered sets the device's reset request: the host takes it with sim_device_take_reset(). */
