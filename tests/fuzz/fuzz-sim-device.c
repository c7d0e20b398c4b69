/* SPDX-License-Identifier: MIT */
/* libFuzzer: the simulated device against arbitrary request buffers (it parses untrusted bytes too). */
#include <stddef.h>
#include <stdint.h>

#include "sim-device.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ignore(void *userdata, const uint8_t *frame, size_t len)
{
	(void)userdata;
	(void)frame;
	(void)len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static SimDevice *devs[2]; /* swap-using-move, and MCUboot direct-xip (its own slot rules) */
	SimConfig cfg;
	uint64_t offline;

	for (size_t i = 0; i < 2; i++) {
		if (!devs[i]) {
			sim_config_default(&cfg);
			/* Every optional handler on, so that all of them read the hostile bytes. */
			cfg.stat_sample = cfg.taskstat = cfg.shell = cfg.enumeration = cfg.enum_details = true;
			cfg.datetime = cfg.fs = cfg.fs_sha256 = true;
			cfg.direct_xip = i == 1;
			if (sim_device_new(&cfg, &devs[i]) < 0)
				return 0;
		}
		sim_device_process(devs[i], data, size, ignore, NULL);
		if (sim_device_take_reset(devs[i], &offline))
			sim_device_reboot(devs[i]);
	}
	return 0;
}
