/* SPDX-License-Identifier: MIT */
/*
 * AgentManager1 and pairing (ISSUE-NOTES 19, BLUEZ.md §3). Pair() uses the caller's agent, else the
 * default agent, else none (NoInputNoOutput, device.c:2828-2832); the security raise of a refused CCC
 * write uses the default agent. The method follows from both IO capabilities as LE Secure Connections
 * chooses it (Core Vol 3 Part H 2.3.5.1): Just Works, passkey entry on the host (Agent1.RequestPasskey,
 * checked against the device's --passkey), passkey shown by the host (DisplayPasskey) or numeric
 * comparison (RequestConfirmation). Only passkey and comparison give an authenticated bond.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bluez-sim.h"
#include "util.h"

#define AGENT_TIMEOUT_USEC 60000000ull  /* REQUEST_TIMEOUT of src/agent.c, a BlueZ timer: not scaled */
#define PAIRING_INTERVALS 6.0           /* the SMP pairing PDUs take a few connection events */
#define TYPING_USEC 1e6                 /* the user types the shown passkey on the device */

#define ERR_AUTH_FAILED "org.bluez.Error.AuthenticationFailed"
#define ERR_AUTH_CANCELED "org.bluez.Error.AuthenticationCanceled"
#define ERR_AUTH_TIMEOUT "org.bluez.Error.AuthenticationTimeout"

enum { PAIR_JUST_WORKS, PAIR_HOST_ENTERS, PAIR_HOST_DISPLAYS, PAIR_COMPARE };

static const char *const cap_names[] = { "DisplayOnly", "DisplayYesNo", "KeyboardOnly", "NoInputNoOutput",
					 "KeyboardDisplay" };

/* Table 2.8 with LE Secure Connections: [device (responder)][host (initiator)]. */
static const int methods[5][5] = {
	[IO_DISPLAY_ONLY] = { PAIR_JUST_WORKS, PAIR_JUST_WORKS, PAIR_HOST_ENTERS, PAIR_JUST_WORKS, PAIR_HOST_ENTERS },
	[IO_DISPLAY_YES_NO] = { PAIR_JUST_WORKS, PAIR_COMPARE, PAIR_HOST_ENTERS, PAIR_JUST_WORKS, PAIR_COMPARE },
	[IO_KEYBOARD_ONLY] = { PAIR_HOST_DISPLAYS, PAIR_HOST_DISPLAYS, PAIR_HOST_ENTERS, PAIR_JUST_WORKS,
			       PAIR_HOST_DISPLAYS },
	[IO_NO_IO] = { PAIR_JUST_WORKS, PAIR_JUST_WORKS, PAIR_JUST_WORKS, PAIR_JUST_WORKS, PAIR_JUST_WORKS },
	[IO_KEYBOARD_DISPLAY] = { PAIR_HOST_DISPLAYS, PAIR_COMPARE, PAIR_HOST_ENTERS, PAIR_JUST_WORKS, PAIR_COMPARE },
};

static Stand *peer_stand(const Peer *p)
{
	return p->adapter->stand;
}

/* The passkey the device shows: its own (passkey= of --device), else --passkey. */
static uint32_t peer_passkey(const Peer *p)
{
	return p->radio->has_passkey ? p->radio->passkey : peer_stand(p)->passkey;
}

static Agent *agent_of(Stand *s, const char *owner)
{
	for (size_t i = 0; i < MAX_AGENTS; i++)
		if (s->agents[i].owner && (!owner || !strcmp(s->agents[i].owner, owner)))
			return &s->agents[i];
	return NULL;
}

static void pairing_end(Peer *p, const char *error, const char *message)
{
	void (*done)(Peer *, const char *, const char *) = p->pair_done;

	p->agent_call = sd_bus_slot_unref(p->agent_call);
	p->pair_timer = sd_event_source_disable_unref(p->pair_timer);
	stand_free_owner(&p->pair_owner);
	stand_free_owner(&p->pair_path);
	p->pairing = p->pairing_started = false;
	p->pair_done = NULL;
	if (error)
		stand_log(peer_stand(p), "%s: pairing failed: %s", p->radio->address, message);
	if (done)
		done(p, error, message);
}

/* A bond on both sides; authenticated only when the user took part (passkey or comparison). */
static void pairing_success(Peer *p)
{
	Radio *r = p->radio;
	bool authenticated = p->pair_method != PAIR_JUST_WORKS;

	r->bonded = true;
	r->bond_authenticated = authenticated;
	r->link_security = authenticated ? SEC_AUTHEN : SEC_ENCRYPT;
	p->temporary = false;
	stand_log(peer_stand(p), "%s: paired (%s)", r->address, authenticated ? "authenticated" : "Just Works");
	if (!p->paired) {
		p->paired = true;
		peer_emit(p, IFACE_DEVICE, "Paired");
	}
	if (!p->bonded) {
		p->bonded = true;
		peer_emit(p, IFACE_DEVICE, "Bonded");
	}
	pairing_end(p, NULL, NULL);
}

static int on_pair_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	(void)src, (void)usec;
	pairing_success(userdata);
	return 0;
}

static void pairing_later(Peer *p, double usec)
{
	stand_timer(peer_stand(p), &p->pair_timer, stand_scaled(peer_stand(p), usec), on_pair_timer, p);
}

static int on_agent_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	Peer *p = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);
	uint32_t passkey = 0;

	(void)ret_error;
	p->agent_call = sd_bus_slot_unref(p->agent_call);
	if (e) {
		bool timeout = !strcmp(e->name, SD_BUS_ERROR_NO_REPLY) || !strcmp(e->name, SD_BUS_ERROR_TIMEOUT);

		pairing_end(p, timeout ? ERR_AUTH_TIMEOUT : ERR_AUTH_FAILED,
			    timeout ? "Authentication Timeout" : "Authentication Failed");
		return 0;
	}
	if (p->pair_method == PAIR_HOST_ENTERS) {
		if (sd_bus_message_read(m, "u", &passkey) < 0 || passkey != peer_passkey(p)) {
			/* SMP Confirm Value Failed: the kernel reports MGMT_STATUS_AUTH_FAILED */
			pairing_end(p, ERR_AUTH_FAILED, "Authentication Failed");
			return 0;
		}
		pairing_later(p, PAIRING_INTERVALS * (double)link_interval_usec(&peer_stand(p)->link));
	} else if (p->pair_method == PAIR_COMPARE) {
		pairing_later(p, PAIRING_INTERVALS * (double)link_interval_usec(&peer_stand(p)->link));
	}
	return 0;
}

static int agent_call(Peer *p, const char *method, const char *types, ...)
{
	Stand *s = peer_stand(p);
	sd_bus_message *m = NULL;
	va_list ap;
	int r = sd_bus_message_new_method_call(s->bus, &m, p->pair_owner, p->pair_path, IFACE_AGENT, method);

	va_start(ap, types);
	if (r >= 0)
		r = sd_bus_message_appendv(m, types, ap);
	va_end(ap);
	if (r >= 0)
		r = sd_bus_call_async(s->bus, &p->agent_call, m, on_agent_reply, p, AGENT_TIMEOUT_USEC);
	sd_bus_message_unref(m);
	return r;
}

/* An agent has one request at a time: agent_request_passkey(), agent_request_confirmation() and their kin
 * open with "if (agent->request) return -EBUSY" (bluez@5.66 src/agent.c), and the pairing then fails
 * (device_request_passkey() < 0: a negative reply, AuthenticationFailed). DisplayPasskey is sent without
 * a request (agent_display_passkey()). */
static bool agent_busy(const Peer *p)
{
	const Stand *s = peer_stand(p);

	for (size_t i = 0; i < s->n_adapters; i++)
		for (size_t j = 0; j < s->n_radios; j++) {
			const Peer *q = &s->adapters[i].peers[j];

			if (q != p && q->agent_call && q->pair_owner && p->pair_owner && !strcmp(q->pair_owner, p->pair_owner) &&
			    (q->pair_method == PAIR_HOST_ENTERS || q->pair_method == PAIR_COMPARE))
				return true;
		}
	return false;
}

static void pairing_run(Peer *p)
{
	Stand *s = peer_stand(p);
	double pdus = PAIRING_INTERVALS * (double)link_interval_usec(&s->link);
	int r = 0;

	p->pairing_started = true;
	p->pair_method = methods[s->device_io][p->pair_cap];
	if ((p->pair_method == PAIR_HOST_ENTERS || p->pair_method == PAIR_COMPARE) && agent_busy(p)) {
		stand_log(s, "%s: the agent of %s has a request pending (EBUSY)", p->radio->address, p->pair_owner);
		pairing_end(p, ERR_AUTH_FAILED, "Authentication Failed");
		return;
	}
	switch (p->pair_method) {
	case PAIR_JUST_WORKS:
		pairing_later(p, pdus);
		return;
	case PAIR_HOST_ENTERS:
		r = agent_call(p, "RequestPasskey", "o", p->path);
		break;
	case PAIR_COMPARE:
		r = agent_call(p, "RequestConfirmation", "ou", p->path, peer_passkey(p));
		break;
	case PAIR_HOST_DISPLAYS:
		/* The host shows a passkey and the user types it on the device. */
		r = agent_call(p, "DisplayPasskey", "ouq", p->path, peer_passkey(p), (uint16_t)0);
		pairing_later(p, pdus + TYPING_USEC);
		break;
	}
	if (r < 0)
		pairing_end(p, ERR_AUTH_FAILED, "Authentication Failed");
}

/* Starts pairing for the agent of owner (NULL: the default agent); connects first if needed. */
int pairing_start(Peer *p, const char *owner, void (*done)(Peer *, const char *, const char *))
{
	Stand *s = peer_stand(p);
	Agent *a = owner ? agent_of(s, owner) : NULL;

	if (p->pairing)
		return -EBUSY;
	if (!a)
		a = s->default_agent;
	p->pairing = true;
	p->pair_done = done;
	p->pair_cap = a ? a->cap : IO_NO_IO;
	p->pair_owner = a ? stand_strdup(a->owner) : NULL;
	p->pair_path = a ? stand_strdup(a->path) : NULL;
	stand_log(s, "%s: pairing, agent %s (%s)", p->radio->address, a ? a->path : "none", cap_names[p->pair_cap]);
	if (p->connected && p->radio->conn == p)
		pairing_run(p);
	else
		peer_connect_start(p);
	return 0;
}

void pairing_link_up(Peer *p)
{
	if (p->pairing && !p->pairing_started)
		pairing_run(p);
}

void pairing_abort(Peer *p)
{
	if (p->pairing)
		pairing_end(p, ERR_AUTH_CANCELED, "Authentication Canceled");
}

static void pair_replied(Peer *p, const char *error, const char *message)
{
	sd_bus_message *m = TAKE_PTR(p->pair_msg);

	if (!m)
		return;
	if (error)
		reply_error(m, error, message);
	else
		sd_bus_reply_method_return(m, NULL);
	sd_bus_message_unref(m);
}

int device_pair(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;

	(void)error;
	if (p->pairing)
		return reply_error(m, ERR_IN_PROGRESS, "In Progress");
	if (p->bonded)
		return reply_error(m, ERR_ALREADY_EXISTS, "Already Exists");
	p->pair_msg = sd_bus_message_ref(m);
	if (pairing_start(p, sd_bus_message_get_sender(m), pair_replied) < 0)
		pair_replied(p, ERR_FAILED, "Pairing failed");
	return 1;
}

int device_cancel_pairing(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;

	(void)error;
	if (!p->pairing)
		return reply_error(m, ERR_DOES_NOT_EXIST, "Does Not Exist");
	if (p->agent_call && p->pair_owner)
		sd_bus_call_method_async(peer_stand(p)->bus, NULL, p->pair_owner, p->pair_path, IFACE_AGENT, "Cancel", NULL,
					 NULL, NULL);
	pairing_end(p, ERR_AUTH_CANCELED, "Authentication Canceled");
	return sd_bus_reply_method_return(m, NULL);
}

static int parse_cap(const char *name, IoCap *out)
{
	if (!name[0]) {
		*out = IO_KEYBOARD_DISPLAY; /* agent.c: an empty capability means KeyboardDisplay */
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
		if (!strcmp(name, cap_names[i])) {
			*out = (IoCap)i;
			return 0;
		}
	return -EINVAL;
}

static int register_agent(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Stand *s = userdata;
	const char *path, *cap, *sender = sd_bus_message_get_sender(m);
	IoCap io;
	int r = sd_bus_message_read(m, "os", &path, &cap);

	(void)error;
	stats_client_call(s, m, "/org/bluez");
	if (r < 0)
		return r;
	if (agent_of(s, sender))
		return reply_error(m, ERR_ALREADY_EXISTS, "Already Exists");
	if (parse_cap(cap, &io) < 0)
		return reply_error(m, ERR_INVALID_ARGS, MSG_INVALID_ARGS);
	for (size_t i = 0; i < MAX_AGENTS; i++)
		if (!s->agents[i].owner) {
			s->agents[i] = (Agent){ .owner = stand_strdup(sender), .path = stand_strdup(path), .cap = io };
			stand_log(s, "agent %s %s registered (%s)", sender, path, cap_names[io]);
			return sd_bus_reply_method_return(m, NULL);
		}
	return reply_error(m, ERR_FAILED, "Too many agents");
}

static void agent_free(Stand *s, Agent *a)
{
	if (s->default_agent == a)
		s->default_agent = NULL;
	stand_free_owner(&a->owner);
	stand_free_owner(&a->path);
}

static Agent *agent_at(Stand *s, sd_bus_message *m)
{
	const char *path;
	Agent *a;

	if (sd_bus_message_read(m, "o", &path) < 0)
		return NULL;
	a = agent_of(s, sd_bus_message_get_sender(m));
	return a && !strcmp(a->path, path) ? a : NULL;
}

static int unregister_agent(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Stand *s = userdata;
	Agent *a = agent_at(s, m);

	(void)error;
	if (!a)
		return reply_error(m, ERR_DOES_NOT_EXIST, "No such agent");
	agent_free(s, a);
	return sd_bus_reply_method_return(m, NULL);
}

static int request_default_agent(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Stand *s = userdata;
	Agent *a = agent_at(s, m);

	(void)error;
	if (!a)
		return reply_error(m, ERR_DOES_NOT_EXIST, "No such agent");
	s->default_agent = a;
	return sd_bus_reply_method_return(m, NULL);
}

void agents_sender_gone(Stand *s, const char *owner)
{
	for (size_t i = 0; i < MAX_AGENTS; i++)
		if (s->agents[i].owner && !strcmp(s->agents[i].owner, owner))
			agent_free(s, &s->agents[i]);
}

const sd_bus_vtable agent_manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("RegisterAgent", "os", "", register_agent, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("UnregisterAgent", "o", "", unregister_agent, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("RequestDefaultAgent", "o", "", request_default_agent, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END
};
