/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "image.h"
#include "sim-loop.h"
#include "smp.h"
#include "util.h"

#define LOOP_QUEUE 64
#define LOOP_FRAME_MAX 8192

typedef struct Loop {
	SimDevice *dev;
	Transport *t;
	bool open;
	bool reboot_after_delivery;
	sd_event_source *deliver;
	sd_event_source *opened;
	uint8_t queue[LOOP_QUEUE][LOOP_FRAME_MAX];
	size_t queue_len[LOOP_QUEUE];
	size_t queued;
	size_t outstanding;
	SimLoopFaults faults;
	SimLoopStats stats;
} Loop;

static Loop loop;

SimDevice *sim_loop_sim(void) { return loop.dev; }
SimLoopFaults *sim_loop_faults(void) { return &loop.faults; }
const SimLoopStats *sim_loop_stats(void) { return &loop.stats; }

static int loop_init(Transport *t, const char *rest, char *err, size_t err_size)
{
	(void)rest;
	(void)err;
	(void)err_size;
	loop.t = t;
	return 0;
}

static int loop_report_opened(sd_event_source *s, void *userdata)
{
	Transport *t = userdata;
	bool ok = loop.faults.refuse_opens == 0;

	(void)s;
	loop.opened = sd_event_source_disable_unref(loop.opened);
	if (!ok)
		loop.faults.refuse_opens--;
	loop.open = ok;
	t->events.opened(t->userdata, ok ? 0 : -EHOSTUNREACH);
	return 0;
}

static int loop_open(Transport *t)
{
	loop.stats.opens++;
	loop.queued = 0;
	loop.outstanding = 0;
	return sd_event_add_defer(t->event, &loop.opened, loop_report_opened, t);
}

static bool nth(unsigned n, unsigned at)
{
	return at && n == at;
}

static bool every(unsigned n, unsigned k)
{
	return k && n % k == 0;
}

static void loop_collect(void *userdata, const uint8_t *frame, size_t len)
{
	(void)userdata;
	if (loop.queued == LOOP_QUEUE || len > LOOP_FRAME_MAX)
		return;
	memcpy(loop.queue[loop.queued], frame, len);
	loop.queue_len[loop.queued++] = len;
}

static void reverse_queue(size_t count)
{
	static uint8_t tmp[LOOP_FRAME_MAX];

	for (size_t i = 0, j = count - 1; i < j && count; i++, j--) {
		size_t len = loop.queue_len[i];

		memcpy(tmp, loop.queue[i], LOOP_FRAME_MAX);
		memcpy(loop.queue[i], loop.queue[j], LOOP_FRAME_MAX);
		memcpy(loop.queue[j], tmp, LOOP_FRAME_MAX);
		loop.queue_len[i] = loop.queue_len[j];
		loop.queue_len[j] = len;
	}
}

static int loop_deliver(sd_event_source *s, void *userdata)
{
	Transport *t = userdata;

	size_t count = loop.queued;

	(void)s;
	loop.deliver = sd_event_source_disable_unref(loop.deliver);
	/* Answers queued by requests sent from these callbacks wait for the next round. */
	if (loop.faults.reverse_answers)
		reverse_queue(count);
	for (size_t i = 0; i < count && loop.open; i++) {
		unsigned n = ++loop.stats.answers;

		if (nth(n, loop.faults.garble_answer_at) && loop.queue_len[i] > SMP_HEADER_SIZE)
			memset(loop.queue[i] + SMP_HEADER_SIZE, 0xff, loop.queue_len[i] - SMP_HEADER_SIZE);
		if (loop.outstanding)
			loop.outstanding--;
		t->events.frame(t->userdata, loop.queue[i], loop.queue_len[i]);
		if (every(n, loop.faults.duplicate_every) && loop.open)
			t->events.frame(t->userdata, loop.queue[i], loop.queue_len[i]);
	}
	if (!loop.open)
		count = loop.queued;
	memmove(loop.queue, loop.queue + count, (loop.queued - count) * sizeof(loop.queue[0]));
	memmove(loop.queue_len, loop.queue_len + count, (loop.queued - count) * sizeof(loop.queue_len[0]));
	loop.queued -= count;
	if (loop.reboot_after_delivery) {
		/* The reset was answered; the device goes away and comes back at once (time scale 0). */
		loop.reboot_after_delivery = false;
		sim_device_reboot(loop.dev);
	}
	return 0;
}

static void loop_lose_link(Transport *t)
{
	loop.open = false;
	loop.queued = 0;
	t->events.lost(t->userdata, -ECONNRESET);
}

static int loop_send(Transport *t, const uint8_t *frame, size_t len)
{
	uint8_t copy[LOOP_FRAME_MAX];
	uint64_t offline;
	unsigned n;

	if (!loop.open)
		return -ENOTCONN;
	if (len > sizeof(copy))
		return -EMSGSIZE;
	n = ++loop.stats.requests;
	loop.stats.largest_frame = MAX(loop.stats.largest_frame, len);
	if (nth(n, loop.faults.lose_link_at)) {
		loop_lose_link(t);
		return -ECONNRESET;
	}
	if (nth(n, loop.faults.reboot_at))
		sim_device_reboot(loop.dev);
	if (loop.faults.before_request)
		loop.faults.before_request(n, loop.faults.before_request_userdata);
	if (nth(n, loop.faults.drop_request) || every(n, loop.faults.drop_every)) {
		loop.stats.max_outstanding_after_drop = 0;
		return 0;
	}
	if (loop.faults.hold_max && loop.outstanding >= loop.faults.hold_max) {
		loop.stats.dropped_busy++;
		return 0;
	}
	memcpy(copy, frame, len);
	if (nth(n, loop.faults.corrupt_data_at))
		copy[len - 1] ^= 0x01;
	loop.outstanding++;
	loop.stats.max_outstanding = MAX(loop.stats.max_outstanding, loop.outstanding);
	loop.stats.max_outstanding_after_drop = MAX(loop.stats.max_outstanding_after_drop, loop.outstanding);
	sim_device_process(loop.dev, copy, len, loop_collect, NULL);
	if (sim_device_take_reset(loop.dev, &offline))
		loop.reboot_after_delivery = true;
	if (!loop.deliver)
		return sd_event_add_defer(t->event, &loop.deliver, loop_deliver, t);
	return 0;
}

static void loop_close(Transport *t)
{
	(void)t;
	loop.open = false;
	loop.deliver = sd_event_source_disable_unref(loop.deliver);
	loop.opened = sd_event_source_disable_unref(loop.opened);
}

static void loop_free(Transport *t)
{
	(void)t;
}

static size_t loop_max_frame(Transport *t)
{
	(void)t;
	return LOOP_FRAME_MAX;
}

static const TransportOps loop_ops = {
	.scheme = "loop",
	.usage = "loop:",
	.init = loop_init,
	.open = loop_open,
	.send = loop_send,
	.close = loop_close,
	.free = loop_free,
	.max_frame = loop_max_frame,
};

int sim_loop_device(sd_event *event, const SimConfig *cfg, Device **out)
{
	DeviceOptions o = { .address = "loop:sim", .timeout_usec = 300 * 1000, .smp_version = -1,
			    .transport = { .ops = &loop_ops } };
	SimConfig defaults;
	char err[256];
	int r;

	if (loop.dev)
		sim_device_free(loop.dev);
	memset(&loop, 0, sizeof(loop));
	if (!cfg) {
		sim_config_default(&defaults);
		cfg = &defaults;
	}
	r = sim_device_new(cfg, &loop.dev);
	if (r < 0)
		return r;
	r = device_new(event, &o, out, err, sizeof(err));
	if (r < 0)
		return r;
	r = device_connect(*out, 1000 * 1000);
	if (r < 0)
		return r;
	return device_learn_limits(*out);
}

size_t sim_loop_make_image(uint8_t *buf, size_t buf_size, size_t payload_size, uint8_t major, uint8_t minor,
			   uint8_t seed)
{
	char version[16];

	snprintf(version, sizeof(version), "%u.%u.0", major, minor);
	return sim_make_image(buf, buf_size, payload_size, version, seed);
}
