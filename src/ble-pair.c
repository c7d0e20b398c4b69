/* SPDX-License-Identifier: MIT */
/*
 * The ble: transport's PAIRING and REMOVING steps: Device1.Pair with smpctl's own agent when the SMP
 * characteristic needs an encrypted or authenticated link, and Adapter1.RemoveDevice of a bond the
 * device refuses or that is not good enough, before a fresh scan and pairing (BLUEZ.md §3,
 * ISSUE-NOTES 19, 20).
 */
#include <errno.h>
#include <stdio.h>

#include "ble-transport-internal.h"
#include "log.h"

#define BLE_PAIR_TIMEOUT_USEC (60 * USEC_PER_SEC)
#define BLE_PAIR_TURN_POLL_USEC (100 * USEC_PER_MSEC)

static int on_paired(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;
	const sd_bus_error *err = ble_reply_error(m);
	const char *problem = ble_agent_problem(s->agent);

	(void)e;
	ble_agent_turn_end(s->agent);
	if (!err || ble_error_kind(err->name, err->message) == BLE_ERROR_ALREADY_PAIRED) {
		log_debug("ble: %s with %s", err ? "already paired" : "paired", s->device);
		s->dev_paired = true;
		s->we_paired = !err;
		return ble_notify_start(t);
	}
	if (problem)
		ble_fail(t, -EACCES, "pairing with %s failed: %s", ble_who(s), problem);
	else if (ble_error_kind(err->name, err->message) == BLE_ERROR_PAIRING_FAILED)
		ble_fail(t, -EACCES, "pairing with %s failed (%s): check the passkey (--passkey NNNNNN, as the device "
				     "shows it)", ble_who(s), err->message ? err->message : err->name);
	else
		ble_fail_call(t, m, "pairing");
	return 0;
}

static int on_pair_turn(sd_event_source *src, uint64_t usec, void *userdata)
{
	Transport *t = userdata;
	BleState *s = t->state;

	(void)src, (void)usec;
	s->retry = sd_event_source_disable_unref(s->retry);
	return ble_pair(t);
}

/* The characteristic needs an encrypted or authenticated link (Zephyr's
 * CONFIG_MCUMGR_TRANSPORT_BT_PERM_RW_ENCRYPT/_AUTHEN). Not paired: pair with our agent. Paired, but not
 * by us in this open: the bond is not good enough (a Just Works bond that bluetoothd's own security
 * elevation made, BLUEZ.md §3) or the device forgot it (ISSUE-NOTES 20); either way it is removed and
 * the device paired again with our agent, before the notification setup can elevate on its own. */
int ble_pair(Transport *t)
{
	BleState *s = t->state;

	if (s->we_paired) {
		/* Paired, yet still refused. With no passkey or number exchanged, the pairing was Just Works:
		 * the device has no display or keyboard to authenticate with, and no flag of ours changes that. */
		if (!ble_agent_was_asked(s->agent))
			ble_fail(t, -EACCES, "%s requires an authenticated pairing but has no display or keyboard for a "
					     "passkey (Just Works only): build it with CONFIG_MCUMGR_TRANSPORT_BT_PERM_RW_ENCRYPT, "
					     "or give it passkey callbacks (bt_conn_auth_cb)", ble_who(s));
		else
			ble_fail(t, -EACCES, "%s still refuses the SMP characteristic after pairing with a passkey: "
					     "check the device's security settings", ble_who(s));
		return 0;
	}
	if (s->dev_paired)
		return ble_remove_bond(t);
	if (!ble_agent_turn_take(s->agent)) {
		if (s->step != BLE_PAIRING)
			log_debug("ble: %s needs pairing: waiting while another device of this process pairs", s->device);
		s->step = BLE_PAIRING;
		s->retry = sd_event_source_disable_unref(s->retry);
		return sd_event_add_time_relative(t->event, &s->retry, CLOCK_MONOTONIC, BLE_PAIR_TURN_POLL_USEC, 0,
						  on_pair_turn, t);
	}
	s->step = BLE_PAIRING;
	if (s->agent)
		ble_agent_set_device(s->agent, s->device);
	log_debug("ble: pairing with %s: Device1.Pair()", s->device);
	return ble_call_step(t, s->device, BLUEZ_DEVICE, "Pair", ble_budget(s, BLE_PAIR_TIMEOUT_USEC), on_paired);
}

static int on_removed(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;
	char line[256];

	(void)e;
	if (ble_reply_error(m)) {
		ble_fail_call(t, m, "removing the refused bond (RemoveDevice)");
		return 0;
	}
	if (s->paired_before) {
		snprintf(line, sizeof(line), "%s refused the bond BlueZ held (did a settings erase make it forget?): "
			 "removed it, pairing again", ble_who(s));
		ble_notice(t, line);
	} else {
		log_debug("ble: the Just Works bond of BlueZ's own security elevation is not enough for %s: removed "
			  "it, pairing with our agent", ble_who(s));
	}
	s->device[0] = s->chr[0] = '\0';
	s->dev_connected = s->dev_paired = s->paired_before = s->we_connected = false;
	s->start_notify = s->notify_started = false;
	s->pair_first = true;
	s->connect_tries = s->blip_failures = 0;
	return ble_scan_for_device(t);
}

int ble_remove_bond(Transport *t)
{
	BleState *s = t->state;

	if (s->bond_removed) {
		ble_fail(t, -EACCES, "%s refuses the link even after its bond was renewed", ble_who(s));
		return 0;
	}
	s->bond_removed = true;
	s->step = BLE_REMOVING;
	return ble_call(s->bus, &s->call, s->adapter, BLUEZ_ADAPTER, "RemoveDevice", 0, on_removed, t, "o", s->device);
}
