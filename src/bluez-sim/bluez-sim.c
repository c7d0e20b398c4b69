/* SPDX-License-Identifier: MIT */
/*
 * smpctl-bluez-sim: owns org.bluez on a private bus (DBUS_SYSTEM_BUS_ADDRESS, never the real system bus)
 * and behaves as bluetoothd 5.66 does for a GATT client (BLUEZ.md §10), with simulated nRF52833s behind
 * the SMP characteristic. Everything runs on one sd-event loop; every time model is scaled by
 * --time-scale (ISSUE-NOTES 17).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>

#include "bluez-sim.h"
#include "util.h"

void stand_log(const Stand *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->verbose)
		return;
	va_start(ap, fmt);
	fputs("smpctl-bluez-sim: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

uint64_t stand_scaled(const Stand *s, double usec)
{
	return (uint64_t)(usec * s->time_scale);
}

/* A one-shot timer in *slot (replacing one that is armed there). */
int stand_timer(Stand *s, sd_event_source **slot, uint64_t usec, sd_event_time_handler_t cb, void *userdata)
{
	if (slot)
		*slot = sd_event_source_disable_unref(*slot);
	return sd_event_add_time_relative(s->event, slot, CLOCK_MONOTONIC, usec, 1, cb, userdata);
}

char *stand_strdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		abort(); /* a stand-in out of memory has nothing sensible left to simulate */
	return d;
}

void stand_free_owner(char **owner)
{
	free(*owner);
	*owner = NULL;
}

/* Discovery sessions, agents and notify sessions end when their client leaves the bus
 * (adapter.c:2474-2540, gatt-client.c:1353-1366 of bluez@5.66). */
static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Stand *s = userdata;
	const char *name, *old_owner, *new_owner;

	(void)error;
	if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || name[0] != ':' || new_owner[0])
		return 0;
	for (size_t i = 0; i < s->n_adapters; i++) {
		adapter_sender_gone(&s->adapters[i], name);
		for (size_t j = 0; j < s->n_radios; j++)
			gatt_sender_gone(&s->adapters[i].peers[j], name);
	}
	agents_sender_gone(s, name);
	return 0;
}

/* SIGUSR1: the faults are over (a campaign's rerun meets a healthy link); the devices keep their state,
 * the link its counters. */
static int on_faults_off(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata)
{
	Stand *s = userdata;

	(void)src;
	(void)si;
	s->faults = (Faults){ .connect_failures_run = s->faults.connect_failures_run,
			      .notifications = s->faults.notifications, .disconnect_fired = true };
	for (size_t i = 0; i < s->n_radios; i++) {
		s->radios[i].disconnect_at = 0;
		sim_device_faults_off(s->radios[i].dev);
	}
	stand_log(s, "faults off (SIGUSR1)");
	return 0;
}

static int write_ready(const char *path)
{
	char tmp[4096];
	FILE *f;

	if (!path)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "ready\n");
	if (fclose(f) != 0)
		return -errno;
	return rename(tmp, path) < 0 ? -errno : 0;
}

static int setup(Stand *s)
{
	int r = sd_event_default(&s->event); /* first: a device switched on later (on-after=) arms a timer */

	for (unsigned i = 0; r >= 0 && i < s->n_radios; i++)
		r = radio_init(&s->radios[i], s, i);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < s->n_adapters; i++)
		adapter_init(&s->adapters[i], s, i);
	r = sd_bus_open_system(&s->bus);
	if (r >= 0)
		r = sd_bus_attach_event(s->bus, s->event, SD_EVENT_PRIORITY_NORMAL);
	if (r >= 0)
		r = objects_register(s);
	if (r >= 0)
		r = sd_bus_match_signal(s->bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus",
					"org.freedesktop.DBus", "NameOwnerChanged", on_name_owner_changed, s);
	if (r >= 0)
		r = sd_bus_request_name(s->bus, "org.bluez", 0);
	return r;
}

static void teardown(Stand *s)
{
	for (size_t i = 0; i < s->n_adapters; i++)
		radio_air_free(&s->adapters[i]);
	for (size_t i = 0; i < s->n_radios; i++)
		radio_free(&s->radios[i]);
	sd_bus_flush_close_unref(s->bus);
	sd_event_unref(s->event);
}

int main(int argc, char **argv)
{
	static Stand s;
	sigset_t mask;
	int r;

	r = options_parse(&s, argc, argv);
	if (r)
		return r > 0 ? 0 : 2;
	if (!getenv("DBUS_SYSTEM_BUS_ADDRESS")) {
		fprintf(stderr, "smpctl-bluez-sim: DBUS_SYSTEM_BUS_ADDRESS is not set: it runs on a private bus only, "
				"never on the real system bus (see tests/integration/with-bluez-sim)\n");
		return 2;
	}
	r = setup(&s);
	if (r < 0) {
		fprintf(stderr, "smpctl-bluez-sim: cannot serve org.bluez on %s: %s\n", getenv("DBUS_SYSTEM_BUS_ADDRESS"),
			strerror(-r));
		teardown(&s);
		return 1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sd_event_add_signal(s.event, NULL, SIGINT, NULL, NULL);
	sd_event_add_signal(s.event, NULL, SIGTERM, NULL, NULL);
	sd_event_add_signal(s.event, NULL, SIGUSR1, on_faults_off, &s);
	r = write_ready(s.ready_file);
	if (r < 0) {
		fprintf(stderr, "smpctl-bluez-sim: cannot write %s: %s\n", s.ready_file, strerror(-r));
		teardown(&s);
		return 1;
	}
	stand_log(&s, "org.bluez on %s: %zu adapter(s), %zu device(s)", getenv("DBUS_SYSTEM_BUS_ADDRESS"), s.n_adapters,
		  s.n_radios);
	r = sd_event_loop(s.event);
	if (s.stats_file) {
		int w = stats_write(&s, s.stats_file);

		if (w < 0) {
			fprintf(stderr, "smpctl-bluez-sim: cannot write %s: %s\n", s.stats_file, strerror(-w));
			r = w;
		}
	}
	teardown(&s);
	return r < 0 ? 1 : 0;
}
