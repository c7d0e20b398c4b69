/* SPDX-License-Identifier: MIT */
/* Drives the simulated device's idle erase on an sd-event loop (sim-idle-host.h). */
#include "log.h"
#include "sim-idle-host.h"

static uint64_t scaled(const SimIdleHost *h, uint64_t device_usec)
{
	return (uint64_t)((double)device_usec * h->time_scale);
}

static void arm(SimIdleHost *h, uint64_t device_usec);

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	SimIdleHost *h = userdata;
	uint64_t page_usec = sim_device_idle_erase_step(h->dev);

	(void)s;
	if (page_usec == 0) {
		h->timer = sd_event_source_disable_unref(h->timer);
		log_debug("sim: idle erase: %u pages of slot 1 erased since boot", sim_device_idle_erased_pages(h->dev));
		return 0;
	}
	h->busy_until = usec + scaled(h, page_usec);
	arm(h, page_usec);
	return 0;
}

/* One timer at a time: a new plan replaces the old one (k_work_reschedule). */
static void arm(SimIdleHost *h, uint64_t device_usec)
{
	h->timer = sd_event_source_disable_unref(h->timer);
	sd_event_add_time_relative(h->event, &h->timer, CLOCK_MONOTONIC, scaled(h, device_usec), 1, on_timer, h);
}

void sim_idle_host_update(SimIdleHost *h)
{
	uint64_t after;

	if (sim_device_idle_erase_plan(h->dev, &after)) {
		log_debug("sim: idle erase of slot 1 planned in %.1f s of device time", (double)after / 1e6);
		arm(h, after);
	}
}

void sim_idle_host_stop(SimIdleHost *h)
{
	h->timer = sd_event_source_disable_unref(h->timer);
	h->busy_until = 0;
}

uint64_t sim_idle_host_wait_usec(const SimIdleHost *h)
{
	uint64_t now = 0;

	if (h->busy_until == 0 || sd_event_now(h->event, CLOCK_MONOTONIC, &now) < 0 || now >= h->busy_until)
		return 0;
	return h->busy_until - now;
}
