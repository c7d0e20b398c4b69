/* SPDX-License-Identifier: MIT */
/*
 * smpctl's firmware: an SMP server (OS, image, stat, Zephyr basic groups) that smpctl updates. The
 * groups and transports register themselves from Kconfig; main() starts Bluetooth advertising and,
 * only when built with CONFIG_SMPCTL_FW_SELF_CONFIRM, confirms the running image. By default the
 * image stays unconfirmed so that smpctl's test-and-confirm flow confirms it after checking it runs,
 * and MCUboot reverts it at the next reset otherwise.
 */
#include <zephyr/dfu/mcuboot.h>
#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#if defined(CONFIG_MCUMGR_TRANSPORT_UDP)
#include <zephyr/mgmt/mcumgr/transport/smp_udp.h>
#endif

LOG_MODULE_REGISTER(smpctl_fw, LOG_LEVEL_INF);

void smpctl_fw_bluetooth_start(void);

int main(void)
{
	if (IS_ENABLED(CONFIG_SMPCTL_FW_SELF_CONFIRM) && !boot_is_img_confirmed()) {
		int rc = boot_write_img_confirmed();

		LOG_INF("self-confirm: %s", rc == 0 ? "image confirmed" : "failed");
	}
	if (IS_ENABLED(CONFIG_SMPCTL_FW_BLUETOOTH))
		smpctl_fw_bluetooth_start();
#if defined(CONFIG_MCUMGR_TRANSPORT_UDP)
	/* native_sim: SMP over UDP, port CONFIG_MCUMGR_TRANSPORT_UDP_PORT (1337). */
	smp_udp_open();
#endif
	LOG_INF("smpctl firmware running; %s", boot_is_img_confirmed() ? "confirmed" : "NOT confirmed (test boot)");
	return 0;
}
