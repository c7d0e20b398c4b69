/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "fiber.h"
#include "log.h"
#include "smp-cbor.h"
#include "smp-client.h"
#include "util.h"

#define SMP_MAX_FRAME (SMP_HEADER_SIZE + UINT16_MAX)

typedef struct SmpPending {
	bool used;
	bool expired; /* timed out; its header is kept so a late answer can still be recognised */
	SmpHeader header;
	SmpResponseFn cb;
	void *userdata;
	sd_event_source *timer;
	SmpClient *client;
} SmpPending;

struct SmpClient {
	sd_event *event;
	Transport *transport;
	bool open;
	bool opening;
	int open_result;
	uint8_t next_seq;
	uint8_t version;
	bool version_forced;
	size_t in_flight;
	SmpPending pending[256]; /* indexed by sequence number */
	SmpClientEvents events;
	void *userdata;
	const volatile bool *cancel;
	SmpLateFn late;
	void *late_userdata;
	uint8_t frame[SMP_MAX_FRAME];
};

void smp_response_clear(SmpResponse *rsp)
{
	if (rsp->body)
		cbor_decref(&rsp->body);
	*rsp = (SmpResponse){ 0 };
}

static void pending_finish(SmpClient *c, SmpPending *p, int err, SmpResponse *rsp)
{
	SmpResponseFn cb = p->cb;
	void *userdata = p->userdata;

	p->timer = sd_event_source_disable_unref(p->timer);
	p->used = false;
	c->in_flight--;
	if (cb)
		cb(userdata, err, rsp);
}

static void client_fail_all(SmpClient *c, int err)
{
	bool failing[ARRAY_SIZE(c->pending)];

	/* Only what is pending now: a callback may submit anew, and that request is not ours to fail. */
	for (size_t i = 0; i < ARRAY_SIZE(c->pending); i++)
		failing[i] = c->pending[i].used;
	for (size_t i = 0; i < ARRAY_SIZE(c->pending); i++)
		if (failing[i] && c->pending[i].used)
			pending_finish(c, &c->pending[i], err, NULL);
}

/* A legacy server answers a v2 request with a v1 header (it does not know the field): speak v1 to it. */
static void client_learn_version(SmpClient *c, const SmpHeader *req, const SmpHeader *rsp)
{
	if (c->version_forced || req->version != SMP_VERSION_2 || rsp->version != SMP_VERSION_1)
		return;
	if (c->version == SMP_VERSION_2)
		log_debug("device answered SMP v2 with v1: using SMP v1 from now on");
	c->version = SMP_VERSION_1;
}

static int client_decode(const SmpHeader *h, const uint8_t *frame, size_t len, SmpResponse *rsp)
{
	int r;

	if (len < SMP_HEADER_SIZE + (size_t)h->len)
		return -EBADMSG;
	rsp->header = *h;
	r = smp_cbor_decode(frame + SMP_HEADER_SIZE, h->len, &rsp->body);
	if (r == -E2BIG) {
		/* Too large to decode, not malformed: say how large, when the body tells (a long list). */
		if (smp_cbor_peek_array_count(frame + SMP_HEADER_SIZE, h->len, &rsp->oversized_entries) < 0)
			rsp->oversized_entries = 0;
		return r;
	}
	if (r < 0)
		return -EBADMSG;
	r = smp_status_decode(rsp->body, &rsp->status);
	if (r < 0) {
		smp_response_clear(rsp);
		return -EBADMSG;
	}
	return 0;
}

static void client_deliver_late(SmpClient *c, SmpPending *p, const SmpHeader *h, const uint8_t *frame, size_t len)
{
	SmpResponse rsp = { 0 };

	p->expired = false;
	if (!c->late || client_decode(h, frame, len, &rsp) < 0)
		return;
	c->late(c->late_userdata, h->seq, &rsp);
	smp_response_clear(&rsp);
}

void smp_client_set_late_handler(SmpClient *c, SmpLateFn fn, void *userdata)
{
	c->late = fn;
	c->late_userdata = userdata;
}

/* One SMP frame from the transport; a datagram may carry several, back to back (smp.c processes
 * every frame in a buffer). */
static void client_on_frame(void *userdata, const uint8_t *frame, size_t len)
{
	SmpClient *c = userdata;

	while (len >= SMP_HEADER_SIZE) {
		SmpHeader h;
		SmpPending *p;
		size_t frame_len;

		smp_header_decode(frame, len, &h);
		frame_len = MIN(len, SMP_HEADER_SIZE + (size_t)h.len);
		p = &c->pending[h.seq];
		if (!p->used && p->expired && smp_header_answers(&p->header, &h)) {
			client_deliver_late(c, p, &h, frame, len);
		} else if (!p->used || !smp_header_answers(&p->header, &h)) {
			log_debug("dropping stale or unexpected frame: group %u id %u seq %u op %u", h.group, h.id, h.seq,
				  h.op);
		} else {
			SmpResponse rsp = { 0 };
			int r = client_decode(&h, frame, len, &rsp);

			client_learn_version(c, &p->header, &h);
			pending_finish(c, p, r, r < 0 && r != -E2BIG ? NULL : &rsp);
			smp_response_clear(&rsp);
		}
		frame += frame_len;
		len -= frame_len;
	}
}

static void client_on_opened(void *userdata, int err)
{
	SmpClient *c = userdata;

	c->opening = false;
	c->open = err == 0;
	c->open_result = err;
}

static void client_on_lost(void *userdata, int err)
{
	SmpClient *c = userdata;

	log_debug("link lost: %s", strerror(-err));
	c->open = false;
	if (c->opening) {
		c->opening = false;
		c->open_result = err;
	}
	client_fail_all(c, -ECONNRESET);
	if (c->events.lost)
		c->events.lost(c->userdata, err);
}

int smp_client_new(sd_event *event, const char *address, const TransportOptions *options, SmpClient **out,
		   char *err, size_t err_size)
{
	static const TransportEvents events = {
		.opened = client_on_opened,
		.frame = client_on_frame,
		.lost = client_on_lost,
	};
	SmpClient *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->event = sd_event_ref(event);
	c->version = SMP_VERSION_2;
	/* Start anywhere: a stale answer to an earlier process's request must not match ours. */
	c->next_seq = (uint8_t)(now_usec() ^ (uint64_t)getpid());
	r = transport_new(event, address, options, &events, c, &c->transport, err, err_size);
	if (r < 0) {
		smp_client_free(c);
		return r;
	}
	*out = c;
	return 0;
}

void smp_client_free(SmpClient *c)
{
	if (!c)
		return;
	client_fail_all(c, -ECANCELED);
	transport_free(c->transport);
	sd_event_unref(c->event);
	free(c);
}

void smp_client_freep(SmpClient **c)
{
	smp_client_free(*c);
}

void smp_client_set_events(SmpClient *c, const SmpClientEvents *events, void *userdata)
{
	c->events = *events;
	c->userdata = userdata;
}

Transport *smp_client_transport(SmpClient *c)
{
	return c->transport;
}

sd_event *smp_client_event(SmpClient *c)
{
	return c->event;
}

bool smp_client_is_open(const SmpClient *c)
{
	return c->open;
}

uint8_t smp_client_version(const SmpClient *c)
{
	return c->version;
}

void smp_client_force_version(SmpClient *c, uint8_t version)
{
	c->version = version;
	c->version_forced = true;
}

void smp_client_set_cancel_flag(SmpClient *c, const volatile bool *cancel)
{
	c->cancel = cancel;
}

static int client_on_deadline(sd_event_source *src, uint64_t usec, void *userdata)
{
	SmpPending *p = userdata;

	(void)src;
	(void)usec;
	log_debug("request group %u id %u seq %u timed out", p->header.group, p->header.id, p->header.seq);
	p->expired = true; /* before the callback, which may submit and reuse numbers */
	pending_finish(p->client, p, -ETIMEDOUT, NULL);
	return 0;
}

static int client_loop_once(SmpClient *c)
{
	int r;

	if (c->cancel && *c->cancel)
		return -ECANCELED;
	r = loop_turn(c->event); /* in a rack, the other devices' turn too (fiber.h) */
	if (r < 0)
		return r;
	if (c->cancel && *c->cancel)
		return -ECANCELED;
	return 0;
}

typedef struct OpenWait {
	bool expired;
} OpenWait;

static int client_on_open_deadline(sd_event_source *src, uint64_t usec, void *userdata)
{
	OpenWait *w = userdata;

	(void)src;
	(void)usec;
	w->expired = true;
	return 0;
}

int smp_client_open(SmpClient *c, uint64_t timeout_usec)
{
	_cleanup_(sd_event_source_disable_unrefp) sd_event_source *timer = NULL;
	OpenWait wait = { 0 };
	int r;

	if (c->open)
		return 0;
	c->opening = true;
	c->open_result = 0;
	r = transport_open(c->transport);
	if (r < 0) {
		c->opening = false;
		return r;
	}
	r = sd_event_add_time_relative(c->event, &timer, CLOCK_MONOTONIC, timeout_usec, 0, client_on_open_deadline,
				       &wait);
	if (r < 0)
		return r;
	while (c->opening && !wait.expired) {
		r = client_loop_once(c);
		if (r < 0)
			break;
	}
	if (c->opening) {
		c->opening = false;
		transport_close(c->transport);
		return r < 0 ? r : -ETIMEDOUT;
	}
	if (c->open_result < 0)
		transport_close(c->transport);
	return c->open_result;
}

void smp_client_close(SmpClient *c)
{
	client_fail_all(c, -ECANCELED);
	transport_close(c->transport);
	c->open = false;
}

static int client_find_seq(SmpClient *c, uint8_t *seq)
{
	for (int i = 0; i < 256; i++) {
		uint8_t s = c->next_seq++;

		if (!c->pending[s].used && !c->pending[s].expired) {
			*seq = s;
			return 0;
		}
	}
	return -EBUSY;
}

int smp_client_submit(SmpClient *c, const SmpRequest *req, uint64_t timeout_usec, SmpResponseFn cb, void *userdata,
		      uint8_t *seq_out)
{
	SmpPending *p;
	uint8_t seq;
	int r;

	if (!c->open)
		return -ENOTCONN;
	if (req->body_len > UINT16_MAX)
		return -EMSGSIZE;
	r = client_find_seq(c, &seq);
	if (r < 0) {
		/* Every number is in flight or remembered as expired: reuse the oldest expired ones. */
		for (size_t i = 0; i < ARRAY_SIZE(c->pending); i++)
			c->pending[i].expired = false;
		r = client_find_seq(c, &seq);
		if (r < 0)
			return r;
	}
	p = &c->pending[seq];
	*p = (SmpPending){
		.header = { .op = req->op, .version = c->version, .len = (uint16_t)req->body_len, .group = req->group,
			    .seq = seq, .id = req->id },
		.cb = cb, .userdata = userdata, .client = c,
	};
	smp_header_encode(&p->header, c->frame);
	memcpy(c->frame + SMP_HEADER_SIZE, req->body, req->body_len);
	r = sd_event_add_time_relative(c->event, &p->timer, CLOCK_MONOTONIC, timeout_usec, 0, client_on_deadline, p);
	if (r < 0)
		return r;
	/* Pending before it is sent: a transport may deliver the answer, or the link loss, from send(). */
	p->used = true;
	c->in_flight++;
	if (seq_out)
		*seq_out = seq;
	r = transport_send(c->transport, c->frame, SMP_HEADER_SIZE + req->body_len);
	if (r < 0 && p->used) {
		p->cb = NULL;
		pending_finish(c, p, r, NULL);
	}
	return r < 0 ? r : 0;
}

int smp_client_rearm(SmpClient *c, uint8_t seq, uint64_t timeout_usec)
{
	SmpPending *p = &c->pending[seq];
	uint64_t now;
	int r;

	if (!p->used || !p->timer)
		return -ENOENT;
	r = sd_event_now(c->event, CLOCK_MONOTONIC, &now);
	if (r < 0)
		return r;
	return sd_event_source_set_time(p->timer, timeout_usec > UINT64_MAX - now ? UINT64_MAX : now + timeout_usec);
}

void smp_client_abandon(SmpClient *c, uint8_t seq)
{
	SmpPending *p = &c->pending[seq];

	if (!p->used)
		return;
	p->cb = NULL;
	pending_finish(c, p, -ECANCELED, NULL);
}

size_t smp_client_in_flight(const SmpClient *c)
{
	return c->in_flight;
}

typedef struct CallWait {
	bool done;
	int err;
	SmpResponse *rsp;
} CallWait;

static void call_on_response(void *userdata, int err, SmpResponse *rsp)
{
	CallWait *w = userdata;

	w->done = true;
	w->err = err;
	if (err == 0 || err == -E2BIG) {
		/* Keep the body beyond the callback: take the reference. */
		*w->rsp = *rsp;
		rsp->body = NULL;
	}
}

int smp_client_run_until(SmpClient *c, const bool *done)
{
	while (!*done) {
		int r = client_loop_once(c);

		if (r < 0)
			return r;
	}
	return 0;
}

int smp_client_call(SmpClient *c, const SmpRequest *req, uint64_t timeout_usec, SmpResponse *rsp)
{
	CallWait wait = { .rsp = rsp };
	uint8_t seq;
	int r;

	*rsp = (SmpResponse){ 0 };
	r = smp_client_submit(c, req, timeout_usec, call_on_response, &wait, &seq);
	if (r < 0)
		return r;
	r = smp_client_run_until(c, &wait.done);
	if (r < 0) {
		smp_client_abandon(c, seq);
		return r;
	}
	return wait.err;
}
