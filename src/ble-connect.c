/* SPDX-License-Identifier: MIT */
/*
 * The ble: transport's CONNECTING and RESOLVING steps: Device1.Connect, retried with a growing pause on
 * radio trouble (BLUEZ.md §3, §9), one LE connect per adapter at a time (a lock file), then the wait for
 * ServicesResolved; and at the end, Disconnect and the wait for BlueZ to drop the link.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "ble-transport-internal.h"
#include "fiber.h"
#include "log.h"
#include "util.h"

#define _fallthrough_ __attribute__((fallthrough))
#define BLE_CONNECT_TIMEOUT_USEC (35 * USEC_PER_SEC) /* kernel LE connect gives up after 20 s, + discovery */
#define BLE_LOCK_POLL_USEC (100 * USEC_PER_MSEC)
#define BLE_DISCONNECT_WAIT_USEC (4 * USEC_PER_SEC) /* DISCONNECT_TIMER (2 s) and a margin */
#define BLE_BACKOFF_FIRST_USEC (250 * USEC_PER_MSEC)
#define BLE_BACKOFF_MAX_USEC (2 * USEC_PER_SEC)
#define BLE_BOND_LOST_BLIPS 3 /* link up then dropped before ATT, on a paired device: the key is refused */

static int on_resolved_get(sd_bus_message *m, void *userdata, sd_bus_error *e);

/* ------------------------------------------------------------------------------------------------ */
/* Connecting, bounded retries                                                                       */

static int on_retry_connect(sd_event_source *src, uint64_t usec, void *userdata)
{
	Transport *t = userdata;
	BleState *s = t->state;

	(void)src, (void)usec;
	s->retry = sd_event_source_disable_unref(s->retry);
	return ble_connect(t);
}

/* Radio trouble is worth another Connect, after a pause that doubles from BLE_BACKOFF_FIRST_USEC up to
 * BLE_BACKOFF_MAX_USEC (a controller busy with another connection, a device still rebooting), within the
 * open budget and BLE_CONNECT_TRIES. */
int ble_retry_connect_later(Transport *t, const char *why)
{
	BleState *s = t->state;
	uint64_t pause = BLE_BACKOFF_FIRST_USEC << MIN(s->connect_tries ? s->connect_tries - 1 : 0, 4u);

	pause = MIN(pause, BLE_BACKOFF_MAX_USEC);
	log_debug("ble: connecting to %s failed (%s): try %u of %u in %llu ms", ble_who(s), why,
		  s->connect_tries + 1, BLE_CONNECT_TRIES, (unsigned long long)(pause / 1000));
	s->step = BLE_CONNECT_WAIT;
	s->retry = sd_event_source_disable_unref(s->retry);
	return sd_event_add_time_relative(t->event, &s->retry, CLOCK_MONOTONIC, pause, 0, on_retry_connect, t);
}

/* Connect failed: radio trouble is retried after Connected=false (or a second), as bleak does
 * (BLUEZ.md §3, §9); a vanished device object is searched again. */
static int ble_connect_failed(Transport *t, sd_bus_message *m)
{
	BleState *s = t->state;
	const sd_bus_error *err = sd_bus_message_get_error(m);

	snprintf(s->last_connect_error, sizeof(s->last_connect_error), "%s", err->message ? err->message : err->name);
	log_debug("ble: Connect failed: %s (%s), try %u", err->message ? err->message : "", err->name, s->connect_tries);
	switch (ble_error_kind(err->name, err->message)) {
	case BLE_ERROR_IN_PROGRESS:
		/* Someone's Connect is under way, often our own from a run that was interrupted while it waited
		 * for a device to come back (BlueZ does not cancel it when its caller leaves): wait for that
		 * attempt, however many seconds it takes, within the open budget. Connected=true ends the wait. */
		s->connect_tries--;
		s->step = BLE_CONNECT_WAIT;
		if (t->options.status)
			t->options.status("waiting for a connection attempt already under way…");
		return sd_event_add_time_relative(t->event, &s->retry, CLOCK_MONOTONIC, BLE_RETRY_USEC, 0,
						  on_retry_connect, t);
	case BLE_ERROR_OTHER:
		if (strcmp(err->name, "org.bluez.Error.Failed"))
			break;
		_fallthrough_;
	case BLE_ERROR_LINK:
		/* A paired device that drops every link right after it came up refuses our key: it forgot
		 * the bond (a settings erase, ISSUE-NOTES 20). */
		s->blip_failures = s->blip ? s->blip_failures + 1 : 0;
		if (s->dev_paired && s->blip_failures >= BLE_BOND_LOST_BLIPS)
			return ble_remove_bond(t);
		if (s->connect_tries >= BLE_CONNECT_TRIES)
			break;
		return ble_retry_connect_later(t, s->last_connect_error);
	case BLE_ERROR_GONE:
		s->device[0] = '\0';
		return ble_scan_for_device(t);
	case BLE_ERROR_NEEDS_PAIRING:
	case BLE_ERROR_PAIRING_FAILED:
		if (s->dev_paired && !s->bond_removed)
			return ble_remove_bond(t);
		break;
	default:
		break;
	}
	if (s->connect_tries >= BLE_CONNECT_TRIES)
		ble_fail(t, -EHOSTDOWN, "could not connect to %s: %s (%u tries)", ble_who(s), s->last_connect_error,
			 s->connect_tries);
	else
		ble_fail_call(t, m, "connecting");
	return 0;
}

static int on_connected(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;

	(void)e;
	ble_connect_lock_release(s);
	if (ble_reply_error(m))
		return ble_connect_failed(t, m);
	s->we_connected = !s->was_connected;
	s->step = BLE_RESOLVING;
	s->resolve_tries = 0;
	/* Connect replies before the services are resolved (BLUEZ.md §3): ask, and watch the signal. */
	return ble_call(s->bus, &s->call, s->device, DBUS_PROPERTIES, "Get", 0, on_resolved_get, t, "ss", BLUEZ_DEVICE,
			"ServicesResolved");
}

/*
 * The controller makes one LE connection at a time and the kernel refuses a second attempt (EBUSY,
 * which bluetoothd reports as le-connection-abort-by-local): smpctl processes on one adapter take turns
 * through a lock file per adapter (and per bus, so that test stand-ins on private buses stay apart),
 * held from Connect until its answer. flock(2) ends with the process, however it ends.
 */
static int ble_connect_lock_take(Transport *t)
{
	BleState *s = t->state;
	const char *bus = getenv("DBUS_SYSTEM_BUS_ADDRESS");
	const char *adapter = strrchr(s->adapter, '/');
	char dir[256], path[384];
	int fd;

	if (s->connect_lock_fd >= 0)
		return 1;
	if (runtime_dir(dir, sizeof(dir)) < 0)
		return 1; /* no place for the lock: go without, BlueZ's own refusal is retried anyway */
	snprintf(path, sizeof(path), "%s/le-connect-%s-%08x.lock", dir, adapter ? adapter + 1 : "hci",
		 bus ? fnv1a32(bus) : 0u);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return 1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		if (!s->lock_waited)
			log_debug("ble: another connection attempt on %s is under way: waiting for its turn", s->adapter);
		s->lock_waited = true;
		return 0;
	}
	s->connect_lock_fd = fd;
	return 1;
}

void ble_connect_lock_release(BleState *s)
{
	if (s->connect_lock_fd >= 0)
		close(TAKE_FD(s->connect_lock_fd));
}

int ble_connect(Transport *t)
{
	BleState *s = t->state;

	s->retry = sd_event_source_disable_unref(s->retry);
	if (!ble_connect_lock_take(t)) {
		s->step = BLE_CONNECT_WAIT;
		return sd_event_add_time_relative(t->event, &s->retry, CLOCK_MONOTONIC, BLE_LOCK_POLL_USEC, 0,
						  on_retry_connect, t);
	}
	s->scan_timer = sd_event_source_disable_unref(s->scan_timer);
	ble_discovery_leave(s->shared, &s->scan); /* found: the session stops when the last one is found */
	if (s->agent)
		ble_agent_set_device(s->agent, s->device);
	s->step = BLE_CONNECTING;
	s->connect_tries++;
	s->blip = false;
	s->was_connected = s->dev_connected;
	log_debug("ble: connecting to %s", s->device);
	return ble_call_step(t, s->device, BLUEZ_DEVICE, "Connect", ble_budget(s, BLE_CONNECT_TIMEOUT_USEC),
			     on_connected);
}

/* ------------------------------------------------------------------------------------------------ */
/* Services resolved                                                                                 */

int ble_resolved(Transport *t)
{
	BleState *s = t->state;

	s->chr[0] = '\0';
	return ble_get_objects(t);
}

static int on_resolved_get(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	int resolved = 0;

	(void)e;
	if (!ble_reply_error(m) && sd_bus_message_read(m, "v", "b", &resolved) >= 0 && resolved)
		return ble_resolved(t);
	return 0; /* not yet: PropertiesChanged(ServicesResolved) will say */
}

/* ------------------------------------------------------------------------------------------------ */
/* Disconnecting                                                                                     */

typedef struct DisconnectWait {
	bool done;
} DisconnectWait;

static int on_disconnect_reply(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	DisconnectWait *w = userdata;

	(void)e;
	if (sd_bus_message_is_method_error(m, NULL))
		log_debug("ble: Disconnect: %s", sd_bus_message_get_error(m)->message);
	w->done = true;
	return 0;
}

static int on_disconnect_timeout(sd_event_source *src, uint64_t usec, void *userdata)
{
	(void)src;
	(void)usec;
	((DisconnectWait *)userdata)->done = true;
	return 0;
}

/* In a rack (a fiber) the other devices go on while this one waits: the answer comes through the loop.
 * The transport is closing, so nothing of it may run meanwhile: its sources go first (ble_quiesce). */
static void ble_disconnect_in_turn(Transport *t)
{
	BleState *s = t->state;
	_cleanup_(sd_event_source_disable_unrefp) sd_event_source *timer = NULL;
	sd_bus_slot *slot = NULL;
	DisconnectWait w = { 0 };
	int r;

	r = sd_bus_call_method_async(s->bus, &slot, BLUEZ_SERVICE, s->device, BLUEZ_DEVICE, "Disconnect",
				     on_disconnect_reply, &w, NULL);
	s->we_connected = false; /* asked: ble_quiesce must not ask again */
	ble_quiesce(t);
	if (r >= 0)
		r = sd_event_add_time_relative(t->event, &timer, CLOCK_MONOTONIC, BLE_DISCONNECT_WAIT_USEC, 0,
					       on_disconnect_timeout, &w);
	while (r >= 0 && !w.done)
		r = loop_turn(t->event);
	sd_bus_slot_unref(slot);
	log_debug("ble: disconnected from %s%s", ble_who(s), w.done ? "" : " (no answer)");
}

/* BlueZ answers Disconnect once its 2 s DISCONNECT_TIMER has dropped the link (BLUEZ.md §3). A program
 * that leaves before that hands the next one a link that is still up, then goes down under it: wait for
 * the answer (bounded), so that back-to-back runs each find the device idle. Outside any callback. */
void ble_disconnect_and_wait(Transport *t)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	sd_bus_error error = SD_BUS_ERROR_NULL;
	BleState *s = t->state;
	int r;

	if (!s->bus || !s->we_connected || !s->dev_connected || !s->device[0])
		return;
	if (fiber_current()) {
		ble_disconnect_in_turn(t);
		return;
	}
	r = sd_bus_message_new_method_call(s->bus, &m, BLUEZ_SERVICE, s->device, BLUEZ_DEVICE, "Disconnect");
	if (r >= 0)
		r = sd_bus_call(s->bus, m, BLE_DISCONNECT_WAIT_USEC, &error, NULL);
	if (r < 0)
		log_debug("ble: Disconnect: %s", error.message ? error.message : strerror(-r));
	else
		log_debug("ble: disconnected from %s", ble_who(s));
	sd_bus_error_free(&error);
	s->we_connected = false; /* done: ble_close need not ask again */
}
