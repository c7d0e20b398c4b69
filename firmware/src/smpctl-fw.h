/* SPDX-License-Identifier: MIT */
/* Interfaces between the parts of smpctl's firmware. */
#pragma once

#if defined(CONFIG_BT)
/* Enables Bluetooth, loads identity and bonds from settings, starts advertising the SMP service.
 * Returns 0 or a negative errno from the Bluetooth stack. */
int smpctl_fw_bluetooth_start(void);
#else
static inline int smpctl_fw_bluetooth_start(void)
{
	return 0;
}
#endif

#if defined(CONFIG_SMPCTL_FW_IDLE_ERASE_SECONDARY)
/* Starts the idle erase of slot 1 (idle-erase.c): after a confirmed boot, or when img_mgmt confirms. */
void smpctl_fw_idle_erase_start(void);
#else
static inline void smpctl_fw_idle_erase_start(void)
{
}
#endif
