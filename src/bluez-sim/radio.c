/* SPDX-License-Identifier: MIT */
/*
 * The radio link and the device behind it. Write Commands wait in bluetoothd's unbounded queue and go up,
 * notifications come down, packet by packet in connection events (link-model.h). The device side is
 * Zephyr's smp_bt.c: with CONFIG_MCUMGR_TRANSPORT_BT_REASSEMBLY the first write of a frame holds the
 * header and takes a buffer, a frame larger than the buffer is dropped; without it every write is a frame.
 * buf_count buffers are shared by requests and responses: a frame that finds none free is dropped, as
 * Zephyr does. One frame is handled at a time, for the device time sim_device_process reports, and the
 * SMP work queue stays busy until its response has gone out (smp_bt_tx_pkt waits for every notification).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bluez-sim.h"
#include "smp.h"
#include "util.h"

#define RESET_DROP_USEC 250000u  /* the device answers reset, then goes away (sim-device.h) */
#define DELAY_QUEUE 256

static Stand *radio_stand(const Radio *r)
{
	return r->stand;
}

static bool queue_push(PduQueue *q, const uint8_t *data, size_t len, bool last)
{
	Pdu *pdu;

	if (q->count == PDU_QUEUE || len > ATT_VALUE_MAX)
		return false;
	pdu = &q->items[(q->head + q->count++) % PDU_QUEUE];
	pdu->len = (uint16_t)len;
	pdu->link_left = len + LINK_L2CAP_ATT_OVERHEAD;
	pdu->last = last;
	memcpy(pdu->data, data, len);
	return true;
}

static Pdu *queue_at(PduQueue *q, size_t i)
{
	return &q->items[(q->head + i) % PDU_QUEUE];
}

static void queue_pop(PduQueue *q)
{
	q->head = (q->head + 1) % PDU_QUEUE;
	q->count--;
}

static void frame_free(Frame *f)
{
	free(f->data);
	*f = (Frame){ 0 };
}

/* Buffers held: the frame being reassembled, the frames waiting (the one being handled stays first in
 * the queue until its work is done), and the response's own buffer. Once the work is done the request
 * leaves the queue but keeps its buffer until the response has gone out (smp_process_request_packet
 * frees the request after smp_tx_rsp). */
static unsigned buffers_used(const Radio *r)
{
	unsigned handling = !r->busy ? 0u : (r->work ? 1u : 2u) - (r->no_rsp_buffer ? 1u : 0u);

	return (unsigned)r->rx_active + (unsigned)r->queued + handling;
}

static void device_next(Radio *r);

/* A complete frame joins the SMP work queue in the buffer it already holds. */
static void device_enqueue(Radio *r, const uint8_t *data, size_t len)
{
	Frame *f;

	if (r->queued == ARRAY_SIZE(r->queue))
		return;
	f = &r->queue[r->queued++];
	f->data = malloc(len);
	if (!f->data) {
		r->queued--;
		return;
	}
	memcpy(f->data, data, len);
	f->len = len;
	f->conn_id = r->conn_id;
	device_next(r);
}

static bool buffer_free(Radio *r)
{
	if (buffers_used(r) < radio_stand(r)->cfg.buf_count)
		return true;
	stand_log(radio_stand(r), "%s: no free SMP buffer: frame dropped", r->address);
	return false;
}

/* smp_reassembly_collect(): the first write holds the header and says how long the frame is; more bytes
 * than announced drop the frame; a frame over buf_size is dropped (-EOSIZE). */
static void device_reassemble(Radio *r, const uint8_t *data, size_t len)
{
	if (!r->rx_active) {
		SmpHeader h;

		if (smp_header_decode(data, len, &h) < 0 || !buffer_free(r))
			return;
		r->rx_expected = SMP_HEADER_SIZE + (size_t)h.len;
		if (r->rx_expected > radio_stand(r)->cfg.buf_size) {
			stand_log(radio_stand(r), "%s: frame of %zu bytes > buf_size: dropped", r->address, r->rx_expected);
			return;
		}
		r->rx_active = true;
		r->rx_len = 0;
	}
	if (len > r->rx_expected - r->rx_len) {
		r->rx_active = false;
		return;
	}
	memcpy(r->rx + r->rx_len, data, len);
	r->rx_len += len;
	if (r->rx_len < r->rx_expected)
		return;
	r->rx_active = false;
	device_enqueue(r, r->rx, r->rx_len);
}

static void device_receive(Radio *r, const uint8_t *data, size_t len)
{
	if (!radio_security_ok(r)) {
		/* A Write Command on a link below the characteristic's permission is dropped without a word. */
		stand_log(radio_stand(r), "%s: write on an unencrypted link: dropped", r->address);
		return;
	}
	if (radio_stand(r)->reassembly)
		device_reassemble(r, data, len);
	else if (buffer_free(r))
		device_enqueue(r, data, len);
}

static void link_schedule(Radio *r);

/* smp_bt_tx_pkt(): notifications of at most MTU - 3 bytes, only to the connection the request came from
 * and only while it is subscribed (bt_gatt_notify fails otherwise). */
static size_t response_send(Radio *r, const Frame *rsp, unsigned conn_id)
{
	size_t chunk = link_value_max(&radio_stand(r)->link), n = 0;

	if (!r->conn || conn_id != r->conn_id || !gatt_subscribed(r->conn))
		return 0;
	for (size_t off = 0; off < rsp->len; off += chunk)
		n += queue_push(&r->down, rsp->data + off, MIN(chunk, rsp->len - off), off + chunk >= rsp->len);
	link_schedule(r);
	return n;
}

/* The firmware's idle erase (--idle-erase), after the device handled a frame or booted. The first plan,
 * the factory boot's, is taken with the first frame: slot 1 starts blank, so it has nothing to erase. */
static void idle_update(Radio *r)
{
	Stand *s = radio_stand(r);

	r->idle.event = s->event;
	r->idle.dev = r->dev;
	r->idle.time_scale = s->time_scale;
	sim_idle_host_update(&r->idle);
}

static int on_reset_back(sd_event_source *src, uint64_t usec, void *userdata)
{
	Radio *r = userdata;
	Stand *s = radio_stand(r);

	(void)src, (void)usec;
	r->reset_timer = sd_event_source_disable_unref(r->reset_timer);
	sim_device_reboot(r->dev);
	idle_update(r);
	r->offline = false;
	stand_log(s, "%s: back, advertising", r->address);
	for (size_t i = 0; i < s->n_adapters; i++) {
		peer_radio_back(&s->adapters[i].peers[r->index]);
		adapter_advertise_now(&s->adapters[i]);
	}
	return 0;
}

/* The device drops off: the link is lost, MCUboot swaps, then it advertises again (REFERENCE.md §13). */
static int on_reset_drop(sd_event_source *src, uint64_t usec, void *userdata)
{
	Radio *r = userdata;
	Stand *s = radio_stand(r);
	uint64_t rest = r->offline_usec > RESET_DROP_USEC ? r->offline_usec - RESET_DROP_USEC : 0;

	(void)src, (void)usec;
	stand_log(s, "%s: reset: offline for %.1f s of device time", r->address, (double)rest / 1e6);
	r->offline = true;
	sim_idle_host_stop(&r->idle);
	if (r->bond_erased) {
		stand_log(s, "%s: restarted without the erased bond", r->address);
		r->bonded = r->bond_erased = false;
	}
	if (r->conn)
		peer_link_lost(r->conn);
	r->work = sd_event_source_disable_unref(r->work);
	for (size_t i = 0; i < r->queued; i++)
		frame_free(&r->queue[i]);
	r->queued = 0;
	r->busy = r->rx_active = false;
	stand_timer(s, &r->reset_timer, stand_scaled(s, (double)rest), on_reset_back, r);
	return 0;
}

static void device_done(Radio *r)
{
	Stand *s = radio_stand(r);

	r->busy = false;
	for (size_t i = 0; i < r->n_responses; i++)
		frame_free(&r->responses[i]);
	r->n_responses = 0;
	idle_update(r); /* a confirm starts the idle delay anew */
	if (sim_device_take_reset(r->dev, &r->offline_usec))
		stand_timer(s, &r->reset_timer, stand_scaled(s, RESET_DROP_USEC), on_reset_drop, r);
	device_next(r);
}

/* Zephyr basic storage erase (group 63, command 0) that succeeded wipes the bonds with the settings
 * (REFERENCE.md §6): success is an answer without an "rc" other than 0 and without "err". The keys in
 * RAM keep working until the device restarts: Zephyr loads bonds from settings at boot only. */
static bool erased_settings(const Frame *req, const Frame *rsp)
{
	SmpHeader h;
	const uint8_t *body = rsp->data + SMP_HEADER_SIZE;
	size_t n = rsp->len - SMP_HEADER_SIZE;

	if (smp_header_decode(req->data, req->len, &h) < 0 || h.group != 63 || h.id != 0 || h.op != SMP_OP_WRITE)
		return false;
	for (size_t i = 0; i + 2 < n; i++)
		if ((body[i] == 0x62 && body[i + 1] == 'r' && body[i + 2] == 'c' && i + 3 < n && body[i + 3] != 0) ||
		    (body[i] == 0x63 && i + 3 < n && !memcmp(body + i + 1, "err", 3)))
			return false;
	return true;
}

static int on_work_done(sd_event_source *src, uint64_t usec, void *userdata)
{
	Radio *r = userdata;
	Frame req = r->queue[0];

	(void)src, (void)usec;
	r->work = sd_event_source_disable_unref(r->work);
	memmove(r->queue, r->queue + 1, (r->queued - 1) * sizeof(r->queue[0]));
	r->queued--;
	r->response_pdus = 0;
	if (radio_stand(r)->faults.lose_reset_answer && sim_device_reset_requested(r->dev)) {
		stand_log(radio_stand(r), "%s: the answer to the reset is lost (fault knob)", r->address);
		for (size_t i = 0; i < r->n_responses; i++)
			frame_free(&r->responses[i]);
		r->n_responses = 0;
	}
	for (size_t i = 0; i < r->n_responses; i++) {
		if (r->responses[i].len > SMP_HEADER_SIZE && erased_settings(&req, &r->responses[i])) {
			stand_log(radio_stand(r), "%s: settings erased: the bond goes at the next reset", r->address);
			r->bond_erased = true;
		}
		r->response_pdus += response_send(r, &r->responses[i], req.conn_id);
	}
	frame_free(&req);
	if (!radio_stand(r)->tx_wait)
		r->response_pdus = 0; /* queued is enough: move on (REFERENCE.md §14) */
	if (r->response_pdus == 0)
		device_done(r);
	return 0;
}

static void collect_response(void *userdata, const uint8_t *frame, size_t len)
{
	Radio *r = userdata;
	Frame *f;

	if (r->n_responses == RESPONSES_MAX)
		return;
	f = &r->responses[r->n_responses];
	f->data = malloc(len);
	if (!f->data)
		return;
	memcpy(f->data, frame, len);
	f->len = len;
	r->n_responses++;
}

/* The work queue takes the next frame; its response needs a buffer of its own (smp_alloc_rsp). Without
 * one the request is not handled and its own buffer carries {"rc": 2} back (smp_on_err). */
static void device_next(Radio *r)
{
	Stand *s = radio_stand(r);
	uint64_t device_usec = 0;

	if (r->busy || r->queued == 0 || r->offline)
		return;
	r->no_rsp_buffer = buffers_used(r) + 1 > s->cfg.buf_count;
	r->busy = true;
	r->n_responses = 0;
	if (r->no_rsp_buffer) {
		stand_log(s, "%s: no buffer for the response: answered rc 2 (ENOMEM)", r->address);
		sim_device_answer_no_buffer(r->dev, r->queue[0].data, r->queue[0].len, collect_response, r);
	} else {
		device_usec = sim_device_process(r->dev, r->queue[0].data, r->queue[0].len, collect_response, r);
	}
	/* A page of the idle erase in progress is finished first. */
	stand_timer(s, &r->work, sim_idle_host_wait_usec(&r->idle) + stand_scaled(s, (double)device_usec) +
				     sim_device_take_stall_usec(r->dev), on_work_done, r);
}

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* --disconnect-after-bytes / --disconnect-random, and --disconnect-after-notified for the device's side:
 * the link is lost once (a supervision timeout). */
static bool fault_disconnect_at(Radio *r, uint64_t *count, uint64_t at, size_t len)
{
	Faults *f = &radio_stand(r)->faults;

	*count += len;
	if (!at || *count < at || f->disconnect_fired)
		return false;
	f->disconnect_fired = true;
	stand_log(radio_stand(r), "%s: link lost after %llu bytes (fault knob)", r->address, (unsigned long long)*count);
	peer_link_lost(r->conn);
	return true;
}

static bool fault_disconnect(Radio *r, size_t len)
{
	return fault_disconnect_at(r, &r->bytes_up, r->disconnect_at, len);
}

static int on_delayed(sd_event_source *src, uint64_t usec, void *userdata);

static void delay_arm(Radio *r)
{
	if (r->delayed_count)
		sd_event_add_time(r->stand->event, &r->delay_timer, CLOCK_MONOTONIC, r->delayed_at[r->delayed_head], 1,
				  on_delayed, r);
}

static int on_delayed(sd_event_source *src, uint64_t usec, void *userdata)
{
	Radio *r = userdata;
	Pdu *pdu = &r->delayed[r->delayed_head];

	(void)src, (void)usec;
	r->delay_timer = sd_event_source_disable_unref(r->delay_timer);
	if (r->conn)
		gatt_notify(r->conn, pdu->data, pdu->len);
	r->delayed_head = (r->delayed_head + 1) % DELAY_QUEUE;
	r->delayed_count--;
	delay_arm(r);
	return 0;
}

/* A notification reaches bluetoothd, perhaps lost or late (fault knobs). */
static void notification_arrives(Radio *r, const Pdu *pdu)
{
	Faults *f = &radio_stand(r)->faults;
	uint64_t now;

	if (f->drop_notify && ++f->notifications % f->drop_notify == 0) {
		stand_log(radio_stand(r), "%s: notification lost (fault knob)", r->address);
		return;
	}
	if (!f->delay_notify_ms) {
		/* --flood-notify: the same notification again and again, as a misbehaving device may send it */
		for (unsigned i = 0; i <= f->flood_notify && r->conn; i++)
			gatt_notify(r->conn, pdu->data, pdu->len);
		return;
	}
	if (r->delayed_count == DELAY_QUEUE)
		return;
	sd_event_now(r->stand->event, CLOCK_MONOTONIC, &now);
	r->delayed[(r->delayed_head + r->delayed_count) % DELAY_QUEUE] = *pdu;
	r->delayed_at[(r->delayed_head + r->delayed_count) % DELAY_QUEUE] = now + f->delay_notify_ms * 1000ull;
	if (r->delayed_count++ == 0)
		delay_arm(r);
}

static void deliver_down(Radio *r, size_t done)
{
	for (size_t i = 0; i < done && r->conn; i++) {
		Pdu pdu = *queue_at(&r->down, 0);

		queue_pop(&r->down);
		if (fault_disconnect_at(r, &r->bytes_down, radio_stand(r)->faults.disconnect_after_notified, pdu.len))
			return;
		notification_arrives(r, &pdu);
		if (r->response_pdus && --r->response_pdus == 0)
			device_done(r);
	}
}

static void deliver_up(Radio *r, size_t done)
{
	for (size_t i = 0; i < done && r->conn; i++) {
		Pdu pdu = *queue_at(&r->up, 0);

		queue_pop(&r->up);
		if (fault_disconnect(r, pdu.len))
			return;
		device_receive(r, pdu.data, pdu.len);
	}
}

/* Simulated time on adapter a: wall time divided by --time-scale; at 0 the time of its last event. */
uint64_t radio_air_now(Adapter *a)
{
	Stand *s = a->stand;
	uint64_t now, sim;

	if (s->time_scale <= 0)
		return a->clock;
	sd_event_now(s->event, CLOCK_MONOTONIC, &now);
	if (!a->origin_set) {
		a->origin = now;
		a->origin_set = true;
	}
	sim = now > a->origin ? (uint64_t)((double)(now - a->origin) / s->time_scale) : 0;
	return sim > a->clock ? sim : a->clock;
}

static int on_air_event(sd_event_source *src, uint64_t usec, void *userdata);

/* One timer per adapter for the earliest event of all its links: events run in simulated-time order at
 * every --time-scale, 0 included. */
static void air_arm(Adapter *a)
{
	Stand *s = a->stand;
	uint64_t at;

	a->air_timer = sd_event_source_disable_unref(a->air_timer);
	if (!airtime_next(&a->air, &a->pick))
		return;
	if (s->time_scale <= 0)
		sd_event_now(s->event, CLOCK_MONOTONIC, &at);
	else
		at = a->origin + (uint64_t)((double)a->pick.start * s->time_scale);
	sd_event_add_time(s->event, &a->air_timer, CLOCK_MONOTONIC, at, 1, on_air_event, a);
}

/* The link has data: it wants the next anchor its adapter's radio gives it. */
static void link_schedule(Radio *r)
{
	Adapter *a;

	if (!r->conn || (r->up.count == 0 && r->down.count == 0))
		return;
	a = r->conn->adapter;
	if (a->air.links[r->index].waiting)
		return;
	airtime_wake(&a->air, r->index, radio_air_now(a));
	air_arm(a);
}

static size_t load(PduQueue *q, size_t *bytes, size_t max)
{
	size_t n = MIN(q->count, max);

	for (size_t i = 0; i < n; i++)
		bytes[i] = queue_at(q, i)->link_left;
	return n;
}

static size_t store(PduQueue *q, const size_t *bytes, size_t n, size_t done)
{
	size_t value = 0;

	for (size_t i = 0; i < n; i++)
		queue_at(q, i)->link_left = bytes[i];
	for (size_t i = 0; i < done; i++)
		value += queue_at(q, i)->len;
	return value;
}

/* One connection event: at most packets_per_event exchanges, within what the adapter's radio leaves it. */
static void link_event(Adapter *a, Radio *r, const AirPick *pick)
{
	const LinkModel *m = &a->stand->link;
	size_t up[64], down[64], n_up, n_down, up_bytes, down_bytes;
	LinkEvent ev;

	n_up = load(&r->up, up, MIN(ARRAY_SIZE(up), m->packets_per_event));
	n_down = load(&r->down, down, MIN(ARRAY_SIZE(down), m->packets_per_event));
	link_event_run_within(m, pick->budget_usec, up, n_up, down, n_down, &ev);
	up_bytes = store(&r->up, up, n_up, ev.up_done);
	down_bytes = store(&r->down, down, n_down, ev.down_done);
	airtime_done(&a->air, pick, &ev, up_bytes, down_bytes, r->up.count > ev.up_done || r->down.count > ev.down_done);
	/* Notifications first: a response is out before the request the same event carries is handled. */
	deliver_down(r, ev.down_done);
	deliver_up(r, ev.up_done);
}

static int on_air_event(sd_event_source *src, uint64_t usec, void *userdata)
{
	Adapter *a = userdata;
	AirPick pick = a->pick;
	Radio *r = &a->stand->radios[pick.link];

	(void)src, (void)usec;
	a->air_timer = sd_event_source_disable_unref(a->air_timer);
	a->clock = pick.start;
	if (r->conn && r->conn->adapter == a && (r->up.count || r->down.count))
		link_event(a, r, &pick);
	else
		a->air.links[pick.link].waiting = false;
	link_schedule(r);
	air_arm(a);
	return 0;
}

void radio_client_write(Radio *r, const uint8_t *data, size_t len)
{
	Faults *f = &radio_stand(r)->faults;
	uint8_t flipped[ATT_VALUE_MAX];

	if (!r->conn)
		return;
	/* Counted once queued, as the device will receive it: a write dropped here is not the Nth. */
	if (f->corrupt_write && len && len <= sizeof(flipped) && r->up.count < PDU_QUEUE &&
	    ++f->writes == f->corrupt_write) {
		stand_log(radio_stand(r), "%s: write %u corrupted (fault knob)", r->address, f->writes);
		memcpy(flipped, data, len);
		flipped[len - 1] ^= 0xff;
		data = flipped;
	}
	if (!queue_push(&r->up, data, len, false))
		stand_log(radio_stand(r), "%s: bluetoothd's write queue is full: write dropped", r->address);
	link_schedule(r);
}

bool radio_security_ok(const Radio *r)
{
	return r->link_security >= radio_stand(r)->security;
}

void radio_connected(Radio *r, Peer *p)
{
	Stand *s = radio_stand(r);

	r->conn = p;
	r->conn_id++;
	r->up.count = r->down.count = 0;
	r->bytes_up = r->bytes_down = 0;
	r->rx_active = false;
	r->link_security = SEC_NONE;
	airtime_connect(&p->adapter->air, r->index, radio_air_now(p->adapter));
	r->disconnect_at = s->faults.disconnect_after_bytes;
	if (s->faults.random_seed) {
		uint64_t x = s->faults.random_seed * 0x9e3779b97f4a7c15ull;

		r->disconnect_at = 1 + xorshift(&x) % 100000;
	}
}

/* The link is gone: queued PDUs with it; frames already in the work queue are still handled (their
 * answers find no connection), and a partial frame is dropped (smp_bt_ccc_changed). */
void radio_disconnected(Radio *r)
{
	if (r->conn) {
		airtime_disconnect(&r->conn->adapter->air, r->index);
		air_arm(r->conn->adapter);
	}
	r->conn = NULL;
	r->up.count = r->down.count = 0;
	r->rx_active = false;
	r->delay_timer = sd_event_source_disable_unref(r->delay_timer);
	r->delayed_count = 0;
	if (r->busy && r->response_pdus) {
		r->response_pdus = 0;
		device_done(r);
	}
}

/* The client turned notifications off (BlueZ writes 0 to the CCC when its last session goes: StopNotify,
 * the acquired socket closed, the client gone from the bus). smp_bt_ccc_changed() drops a partial frame,
 * so a client killed half way through a frame leaves nothing that the next client's request would join
 * (zephyr subsys/mgmt/mcumgr/transport/src/smp_bt.c). */
void radio_ccc_disabled(Radio *r)
{
	if (r->rx_active)
		stand_log(radio_stand(r), "%s: notifications off: the partial frame is dropped", r->address);
	r->rx_active = false;
}

static int on_power_on(sd_event_source *src, uint64_t usec, void *userdata)
{
	Radio *r = userdata;
	Stand *s = radio_stand(r);

	(void)src, (void)usec;
	r->reset_timer = sd_event_source_disable_unref(r->reset_timer);
	r->offline = false;
	stand_log(s, "%s: powered on, advertising", r->address);
	for (size_t i = 0; i < s->n_adapters; i++)
		adapter_advertise_now(&s->adapters[i]);
	return 0;
}

int radio_init(Radio *r, Stand *s, unsigned index)
{
	r->stand = s;
	r->index = index;
	/* on-after=: a board switched on later, neither heard nor connectable until then */
	if (r->on_after_ms) {
		r->offline = true;
		if (sd_event_add_time_relative(s->event, &r->reset_timer, CLOCK_MONOTONIC, r->on_after_ms * 1000ull, 0,
					       on_power_on, r) < 0)
			return -ENOMEM;
	}
	r->up.items = calloc(PDU_QUEUE, sizeof(Pdu));
	r->down.items = calloc(PDU_QUEUE, sizeof(Pdu));
	r->rx = malloc(SMP_HEADER_SIZE + 65535);
	r->delayed = calloc(DELAY_QUEUE, sizeof(Pdu));
	r->delayed_at = calloc(DELAY_QUEUE, sizeof(uint64_t));
	if (!r->up.items || !r->down.items || !r->rx || !r->delayed || !r->delayed_at)
		return -ENOMEM;
	return sim_device_new(&s->cfg, &r->dev);
}

void radio_air_free(Adapter *a)
{
	a->air_timer = sd_event_source_disable_unref(a->air_timer);
}

void radio_free(Radio *r)
{
	sim_idle_host_stop(&r->idle);
	for (size_t i = 0; i < r->queued; i++)
		frame_free(&r->queue[i]);
	for (size_t i = 0; i < r->n_responses; i++)
		frame_free(&r->responses[i]);
	sd_event_source_disable_unref(r->work);
	sd_event_source_disable_unref(r->reset_timer);
	sd_event_source_disable_unref(r->delay_timer);
	free(r->up.items);
	free(r->down.items);
	free(r->rx);
	free(r->delayed);
	free(r->delayed_at);
	if (r->dev)
		sim_device_free(r->dev);
}
