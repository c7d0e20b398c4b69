/* SPDX-License-Identifier: MIT */
/*
 * smpctl's firmware: Zephyr's SMP server (OS, image, stat and Zephyr basic groups, which register
 * themselves from Kconfig) that smpctl updates over Bluetooth LE on the nRF52833, or over UDP in the
 * native_sim build (whose transport starts by itself, MCUMGR_TRANSPORT_UDP_AUTOMATIC_INIT).
 *
 * Confirmation policy (ISSUE-NOTES 24): by default the image never confirms itself. After an update
 * MCUboot boots it once for test; smpctl's test-and-confirm sees it running and confirms it, and if
 * nobody does, MCUboot swaps the previous image back at the next reset. CONFIG_SMPCTL_FW_SELF_CONFIRM
 * makes the image confirm itself once its transport is up. CONFIG_SMPCTL_FW_IDLE_ERASE_SECONDARY erases
 * slot 1 when idle after a confirmed boot (idle-erase.c).
 */
#include <zephyr/dfu/mcuboot.h>
#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>

#include "smpctl-fw.h"

LOG_MODULE_REGISTER(smpctl_fw, LOG_LEVEL_INF);

static void self_confirm(void)
{
	int rc;

	if (boot_is_img_confirmed())
		return;
	rc = boot_write_img_confirmed();
	if (rc)
		LOG_ERR("self-confirm failed (%d): MCUboot reverts this image at the next reset", rc);
	else
		LOG_INF("self-confirm: image confirmed");
}

int main(void)
{
	int rc = smpctl_fw_bluetooth_start();

	if (rc)
		LOG_ERR("Bluetooth did not start (%d): no SMP over Bluetooth", rc);
	else if (IS_ENABLED(CONFIG_SMPCTL_FW_SELF_CONFIRM))
		self_confirm();
	smpctl_fw_idle_erase_start();
	LOG_INF("smpctl firmware running; image %s",
		boot_is_img_confirmed() ? "confirmed" : "not confirmed (test boot)");
	return 0;
}
