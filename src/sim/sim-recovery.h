/* SPDX-License-Identifier: MIT */
/*
 * MCUboot's serial recovery as the simulated device's other personality (smpctl-sim --serial …
 * --recovery LIST): what boot/boot_serial/src/boot_serial.c answers in MCUboot as shipped with Zephyr
 * 4.1 (bootloader/mcuboot of the Zephyr 4.1.0 workspace), one build at a time:
 * - image list (group 1, command 0 read): the slots whose image validates, {slot, version}; "hash"
 *   only with MCUBOOT_SERIAL_IMG_GRP_HASH, "bootable"/"active"/"confirmed"/"pending"/"permanent" only
 *   with MCUBOOT_SERIAL_IMG_GRP_IMAGE_STATE; writing the state (test/confirm) also needs the latter
 *   (and is answered with the list, the slots' marks not modelled);
 * - upload (group 1, command 1) to the primary slot (no MCUBOOT_SERIAL_DIRECT_IMAGE_UPLOAD): "len" on
 *   the first chunk, the slot erased whole then, a chunk at another offset answered with the expected
 *   one, answers {"rc": 0, "off": n}; "sha" is not read and there is no "match";
 * - slot info (group 1, command 6) only with MCUBOOT_SERIAL_IMG_GRP_SLOT_INFO;
 * - echo (group 0, command 0) only with MCUBOOT_BOOT_MGMT_ECHO; console echo control (group 0,
 *   command 1) answers {"rc": 0}, which Zephyr's os_mgmt never does; reset (command 5) {"rc": 0};
 * - anything else {"rc": 8}. Errors are always plain "rc", the answer's header copies the request's
 *   version, and maps are indefinite-length (zcbor).
 * After a reset the device comes back in recovery (the button is still held): the simulated device
 * never boots the application in this mode.
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
	uint32_t slot_size;
	const char *app_version; /* of the image in the primary slot */
} SimRecoveryConfig;

/* "none" or a comma list of echo, hash, state, slot-info: 0 or -EINVAL. */
int sim_recovery_parse(const char *list, SimRecoveryConfig *cfg);

typedef struct SimRecovery SimRecovery;
int sim_recovery_new(const SimRecoveryConfig *cfg, SimRecovery **out);
void sim_recovery_free(SimRecovery *r);
/* One request frame; the answer into out. Returns its length, 0 when none (not a request). */
size_t sim_recovery_process(SimRecovery *r, const uint8_t *frame, size_t len, uint8_t *out, size_t out_size);
