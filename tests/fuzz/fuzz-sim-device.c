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
	static SimDevice *dev;
	SimConfig cfg;
	uint64_t offline;

	if (!dev) {
		sim_config_default(&cfg);
		/* Every optional handler on, so that all of them read the hostile bytes. */
		cfg.stat_sample = cfg.taskstat = cfg.shell = cfg.enumeration = cfg.enum_details = cfg.datetime = true;
		cfg.fs = cfg.fs_sha256 = true;
		if (sim_device_new(&cfg, &dev) < 0)
			return 0;
	}
	sim_device_process(dev, data, size, ignore, NULL);
	if (sim_device_take_reset(dev, &offline))
		sim_device_reboot(dev);
	return 0;
}
