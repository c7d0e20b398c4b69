/* SPDX-License-Identifier: MIT */
/*
 * The host's side of the simulated device's idle erase (sim_device_idle_erase_plan/step in
 * sim-device.h), shared by smpctl-sim and the BlueZ stand-in: one sd-event timer for the idle delay and
 * then each page, in device time × time scale, and the rest of the page being erased, which a request
 * arriving meanwhile waits out (the firmware's upload hook takes the lock the erase holds per page).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "sim-device.h"

typedef struct SimIdleHost {
	sd_event *event;
	SimDevice *dev;
	double time_scale;
	sd_event_source *timer;
	uint64_t busy_until; /* CLOCK_MONOTONIC µs: the page being erased is done then */
} SimIdleHost;

/* After the device was created, handled a request or rebooted: (re)arms the timer when it planned anew. */
void sim_idle_host_update(SimIdleHost *h);
/* The device goes away (reset): nothing more until it is back and sim_idle_host_update runs. */
void sim_idle_host_stop(SimIdleHost *h);
/* Wall µs a request arriving now waits before the device starts on it: the rest of the page. */
uint64_t sim_idle_host_wait_usec(const SimIdleHost *h);
