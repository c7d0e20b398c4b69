/* SPDX-License-Identifier: MIT */
/*
 * smpctl's own org.bluez.Agent1 (bluez@5.66 doc/agent-api.txt; ISSUE-NOTES 19): registered with
 * capability KeyboardDisplay on our bus connection, so BlueZ asks it, not a desktop agent, when our
 * Pair() needs a passkey or a confirmation. BlueZ takes one agent per sender (src/adapter.c/agent.c
 * RegisterAgent: AlreadyExists for a second), and the transports of a rack share the connection
 * (ble-bus.c): the one agent object (BleAgentHost) serves them all, and hands each call to the
 * transport's share (BleAgent) told about the device the call names; it answers for no other device. Zephyr >= 4.0
 * protects the SMP characteristic with authenticated pairing by default (REFERENCE.md §6): a board with
 * a display shows a passkey that the user passes as --passkey or types at the front end's prompt;
 * numeric comparison is accepted when the shown number equals that passkey or the user confirms it.
 * Refusals use org.bluez.Error.Rejected (Canceled when no passkey came) and leave a line for the user.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ble-bluez.h"
#include "log.h"

#define AGENT_PATH "/org/smpctl/agent"
#define AGENT_CAPABILITY "KeyboardDisplay"
#define ERROR_REJECTED "org.bluez.Error.Rejected"
#define ERROR_CANCELED "org.bluez.Error.Canceled"

struct BleAgent {
	BleAgent *next;
	BleAgentHost *host;
	BleAgentOptions options;
	char device[128];
	char who[32];
	bool asked;       /* a method other than Just Works was used since ble_agent_set_device() */
	char problem[256];
};

struct BleAgentHost {
	BleAgentHost **home;  /* in the BleBus */
	sd_bus *bus;
	sd_bus_slot *object, *call;
	BleAgent *shares;
	BleAgent *turn;       /* pairing now: BlueZ's one request at a time is for its device */
	BleAgent *last;       /* the last share a call went to */
	bool registered, default_asked;
};

/* The share pairing the device the call names (every Agent1 method with a device has it first). */
static BleAgent *agent_for(BleAgentHost *h, sd_bus_message *m)
{
	const char *path = NULL;

	if (sd_bus_message_read(m, "o", &path) < 0)
		return NULL;
	for (BleAgent *a = h->shares; a; a = a->next)
		if (a->device[0] && !strcmp(path, a->device))
			return h->last = a;
	log_debug("ble: agent: a call for %s, which no transport is opening", path);
	return NULL;
}

static int agent_reject(sd_bus_message *m, sd_bus_error *error, const char *why)
{
	(void)m;
	return sd_bus_error_set(error, ERROR_REJECTED, why);
}

static int on_release(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(void)userdata, (void)error;
	log_debug("ble: agent released by BlueZ");
	return sd_bus_reply_method_return(m, NULL);
}

/* "AA:BB:CC:DD:EE:FF" from BlueZ's ".../dev_AA_BB_CC_DD_EE_FF", for the user. */
static const char *agent_who(BleAgent *a)
{
	const char *dev = strrchr(a->device, '/');

	if (!dev || strncmp(dev, "/dev_", 5) != 0 || strlen(dev + 5) != 17)
		return a->device;
	snprintf(a->who, sizeof(a->who), "%s", dev + 5);
	for (char *c = a->who; *c; c++)
		if (*c == '_')
			*c = ':';
	return a->who;
}

/* The passkey the device displays: from --passkey, else from the user at the terminal. */
static int agent_passkey(BleAgent *a, uint32_t *passkey)
{
	a->asked = true;
	if (a->options.has_passkey) {
		*passkey = a->options.passkey;
		return 0;
	}
	if (a->options.ask_passkey && a->options.ask_passkey(agent_who(a), passkey) == 0)
		return 0;
	snprintf(a->problem, sizeof(a->problem), a->options.ask_passkey
		 ? "no passkey entered: pairing canceled"
		 : "pairing needs the passkey the device shows: run again with --passkey NNNNNN");
	return -ECANCELED;
}

static int on_request_passkey(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	BleAgent *a = agent_for(userdata, m);
	uint32_t passkey;

	if (!a)
		return agent_reject(m, error, "not a device smpctl is pairing with");
	if (agent_passkey(a, &passkey) < 0)
		return sd_bus_error_set(error, ERROR_CANCELED, "no passkey");
	log_debug("ble: agent: answering the passkey request");
	return sd_bus_reply_method_return(m, "u", passkey);
}

/* Legacy PIN pairing does not exist on LE; answer with the passkey's digits if we have one. */
static int on_request_pin_code(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	BleAgent *a = agent_for(userdata, m);
	uint32_t passkey;
	char pin[8];

	if (!a)
		return agent_reject(m, error, "not a device smpctl is pairing with");
	if (agent_passkey(a, &passkey) < 0)
		return sd_bus_error_set(error, ERROR_CANCELED, "no PIN code");
	snprintf(pin, sizeof(pin), "%06u", passkey);
	return sd_bus_reply_method_return(m, "s", pin);
}

static void agent_tell(BleAgent *a, const char *line)
{
	log_debug("ble: agent: %s", line);
	if (a->options.notice)
		a->options.notice(line);
}

/* The device has a keyboard: the user types the number BlueZ chose. BlueZ calls again as digits are
 * typed (entered counts them); the user needs to be told once. */
static int on_display_passkey(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	BleAgent *a = agent_for(userdata, m);
	uint32_t passkey;
	uint16_t entered;
	char line[160];

	(void)error;
	if (a && sd_bus_message_read(m, "uq", &passkey, &entered) >= 0) {
		a->asked = true;
		snprintf(a->problem, sizeof(a->problem), "pairing expected passkey %06u to be typed on the device",
			 passkey);
		if (entered == 0) {
			snprintf(line, sizeof(line), "pairing: type %06u on %s", passkey, agent_who(a));
			agent_tell(a, line);
		}
	}
	return sd_bus_reply_method_return(m, NULL);
}

static int on_display_pin_code(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	BleAgent *a = agent_for(userdata, m);
	const char *pin;
	char line[160];

	(void)error;
	if (a && sd_bus_message_read(m, "s", &pin) >= 0) {
		a->asked = true;
		snprintf(a->problem, sizeof(a->problem), "pairing expected PIN %s to be typed on the device", pin);
		snprintf(line, sizeof(line), "pairing: type PIN %s on %s", pin, agent_who(a));
		agent_tell(a, line);
	}
	return sd_bus_reply_method_return(m, NULL);
}

/* Numeric comparison: both sides show a number; it must be the one the user saw on the device, given as
 * --passkey or confirmed at the terminal. */
static int on_request_confirmation(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	BleAgent *a = agent_for(userdata, m);
	uint32_t passkey = 0;

	if (!a || sd_bus_message_read(m, "u", &passkey) < 0)
		return agent_reject(m, error, "not a device smpctl is pairing with");
	a->asked = true;
	if (a->options.has_passkey) {
		if (passkey == a->options.passkey) {
			log_debug("ble: agent: confirming %06u", passkey);
			return sd_bus_reply_method_return(m, NULL);
		}
		snprintf(a->problem, sizeof(a->problem),
			 "the pairing number %06u is not the --passkey given (%06u): pairing refused", passkey,
			 a->options.passkey);
		return agent_reject(m, error, "passkey mismatch");
	}
	if (a->options.confirm_number) {
		if (a->options.confirm_number(agent_who(a), passkey) == 1)
			return sd_bus_reply_method_return(m, NULL);
		snprintf(a->problem, sizeof(a->problem), "the pairing number %06u was not confirmed: pairing refused",
			 passkey);
		return agent_reject(m, error, "not confirmed");
	}
	snprintf(a->problem, sizeof(a->problem),
		 "pairing asks to confirm the number %06u: if the device shows it, run again with --passkey %06u",
		 passkey, passkey);
	return agent_reject(m, error, "no passkey given to compare with");
}

/* Just Works on a pairing we asked for, and services of that device: allowed. */
static int on_request_authorization(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	if (!agent_for(userdata, m))
		return agent_reject(m, error, "not a device smpctl is pairing with");
	return sd_bus_reply_method_return(m, NULL);
}

static int on_authorize_service(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	if (!agent_for(userdata, m))
		return agent_reject(m, error, "not a device smpctl is pairing with");
	return sd_bus_reply_method_return(m, NULL);
}

/* Cancel names no device: it ends BlueZ's one request, which is for the pairing that has the turn. */
static int on_cancel(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	BleAgentHost *h = userdata;
	BleAgent *a = h->turn ? h->turn : h->last;

	(void)error;
	log_debug("ble: agent: BlueZ canceled the request");
	if (a && !a->problem[0])
		snprintf(a->problem, sizeof(a->problem), "pairing was canceled (timed out, or refused on the device)");
	return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable agent_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("Release", "", "", on_release, 0),
	SD_BUS_METHOD("RequestPinCode", "o", "s", on_request_pin_code, 0),
	SD_BUS_METHOD("DisplayPinCode", "os", "", on_display_pin_code, 0),
	SD_BUS_METHOD("RequestPasskey", "o", "u", on_request_passkey, 0),
	SD_BUS_METHOD("DisplayPasskey", "ouq", "", on_display_passkey, 0),
	SD_BUS_METHOD("RequestConfirmation", "ou", "", on_request_confirmation, 0),
	SD_BUS_METHOD("RequestAuthorization", "o", "", on_request_authorization, 0),
	SD_BUS_METHOD("AuthorizeService", "os", "", on_authorize_service, 0),
	SD_BUS_METHOD("Cancel", "", "", on_cancel, 0),
	SD_BUS_VTABLE_END
};

static int on_default(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(void)userdata, (void)error;
	if (sd_bus_message_is_method_error(m, NULL))
		log_debug("ble: RequestDefaultAgent failed: %s", sd_bus_message_get_error(m)->message);
	return 0;
}

static int host_make_default(BleAgentHost *h)
{
	if (!h->registered || h->default_asked)
		return 0;
	for (BleAgent *a = h->shares; a; a = a->next)
		if (a->options.make_default) {
			h->default_asked = true;
			return ble_call(h->bus, &h->call, "/org/bluez", BLUEZ_AGENT_MANAGER, "RequestDefaultAgent", 0,
					on_default, h, "o", AGENT_PATH);
		}
	return 0;
}

/* Not fatal: without our agent BlueZ pairs with NoInputNoOutput (device.c:2828-2832), which is
 * enough for a device that allows Just Works. */
static int on_registered(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	BleAgentHost *h = userdata;

	(void)error;
	if (sd_bus_message_is_method_error(m, NULL)) {
		log_debug("ble: RegisterAgent failed: %s", sd_bus_message_get_error(m)->message);
		return 0;
	}
	h->registered = true;
	return host_make_default(h);
}

static void host_free(BleAgentHost *h)
{
	h->call = sd_bus_slot_unref(h->call);
	if (h->object)
		sd_bus_call_method_async(h->bus, NULL, BLUEZ_SERVICE, "/org/bluez", BLUEZ_AGENT_MANAGER, "UnregisterAgent",
					 NULL, NULL, "o", AGENT_PATH);
	sd_bus_slot_unref(h->object);
	sd_bus_unref(h->bus);
	*h->home = NULL;
	free(h);
}

/* The connection's agent: exported and registered by the first share. */
static int host_get(BleBus *bus, BleAgentHost **out)
{
	BleAgentHost **home = ble_bus_agent_host(bus);
	BleAgentHost *h = *home;
	int r;

	if (h) {
		*out = h;
		return 0;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->home = home;
	h->bus = sd_bus_ref(ble_bus_get(bus));
	*home = h;
	r = sd_bus_add_object_vtable(h->bus, &h->object, AGENT_PATH, "org.bluez.Agent1", agent_vtable, h);
	if (r >= 0)
		r = ble_call(h->bus, &h->call, "/org/bluez", BLUEZ_AGENT_MANAGER, "RegisterAgent", 0, on_registered, h,
			     "os", AGENT_PATH, AGENT_CAPABILITY);
	if (r < 0) {
		host_free(h);
		return r;
	}
	*out = h;
	return 0;
}

int ble_agent_new(BleBus *bus, const BleAgentOptions *options, BleAgent **out)
{
	BleAgent *a = calloc(1, sizeof(*a));
	BleAgentHost *h;
	int r;

	if (!a)
		return -ENOMEM;
	r = host_get(bus, &h);
	if (r < 0) {
		free(a);
		return r;
	}
	a->host = h;
	a->options = *options;
	a->next = h->shares;
	h->shares = a;
	host_make_default(h);
	*out = a;
	return 0;
}

void ble_agent_set_device(BleAgent *a, const char *device_path)
{
	snprintf(a->device, sizeof(a->device), "%s", device_path);
	a->problem[0] = '\0';
	a->asked = false;
}

bool ble_agent_was_asked(const BleAgent *a)
{
	return a && a->asked;
}

const char *ble_agent_problem(const BleAgent *a)
{
	return a && a->problem[0] ? a->problem : NULL;
}

bool ble_agent_turn_take(BleAgent *a)
{
	if (!a || a->host->turn == a)
		return true;
	if (a->host->turn)
		return false;
	a->host->turn = a;
	return true;
}

void ble_agent_turn_end(BleAgent *a)
{
	if (a && a->host->turn == a)
		a->host->turn = NULL;
}

void ble_agent_free(BleAgent *a)
{
	BleAgentHost *h;

	if (!a)
		return;
	h = a->host;
	ble_agent_turn_end(a);
	if (h->last == a)
		h->last = NULL;
	for (BleAgent **p = &h->shares; *p; p = &(*p)->next)
		if (*p == a) {
			*p = a->next;
			break;
		}
	free(a);
	if (!h->shares)
		host_free(h);
}
