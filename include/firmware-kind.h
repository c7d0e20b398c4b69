/* SPDX-License-Identifier: MIT */
/*
 * Application or MCUboot serial recovery? A device does not say; what it answers does. MCUboot's
 * boot_serial.c (MCUboot as in the Zephyr 4.1.0 workspace) answers OS command 1, console echo control,
 * with {"rc": 0}, and Zephyr 4.1's os_mgmt has no command 1 (rc 8): that tells them apart. The rest
 * of what boot_serial.c answers depends on its build, so each capability is read from the answers,
 * never assumed: echo (MCUBOOT_BOOT_MGMT_ECHO), hashes in the image list (..._IMG_GRP_HASH), slot
 * flags and test/confirm (..._IMG_GRP_IMAGE_STATE), slot info (..._IMG_GRP_SLOT_INFO).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "device.h"

typedef enum FirmwareKind {
	FIRMWARE_UNKNOWN,
	FIRMWARE_APPLICATION,
	FIRMWARE_SERIAL_RECOVERY,
} FirmwareKind;

typedef struct FirmwareProbe {
	bool os_info;         /* OS info (command 7) answered */
	int cons_echo_ctrl;   /* OS command 1: 1 answered rc 0, 0 refused (rc 8 or another), -1 no answer */
	bool bootloader_info; /* OS command 8 answered */
	bool params;          /* MCUmgr params answered */
	bool echo;
	bool image_list;      /* the image list answered */
	bool list_hashes;     /* … with hashes */
	bool list_flags;      /* … with slot flags (active, confirmed, bootable) */
	bool slot_info;
} FirmwareProbe;

/* Asks the device (read-only requests; console echo control changes nothing on either kind).
 * Returns 0 or a negative errno when the link failed. */
int firmware_probe(Device *d, FirmwareProbe *out);
/* 1 when MCUboot's serial recovery answers, 0 anything else, or a negative errno: one request (OS
 * info) for an application that has it, the whole probe otherwise. */
int firmware_is_recovery(Device *d);
/* The verdict, and one line of evidence in why ("answers console echo control (OS command 1) with rc 0,
 * as only MCUboot's boot_serial.c does; no OS info, bootloader info or MCUmgr params; …"). Pure. */
FirmwareKind firmware_kind(const FirmwareProbe *p, char *why, size_t why_size);
/* "application", "serial recovery", "unknown". */
const char *firmware_kind_name(FirmwareKind k);
