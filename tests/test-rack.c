/* SPDX-License-Identifier: MIT */
/* Fibers on one loop (fiber.h) and the rack above them (rack.h): jobs that wait on timers. */
#include <errno.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "fiber.h"
#include "rack.h"
#include "tap.h"
#include "util.h"

/* A job's work: wait `usec` on a timer of the shared loop, the way a device call waits for an answer. */
typedef struct Work {
	uint64_t usec;
	volatile bool cancel;
	bool fired;
	int order;              /* when it finished, among all */
	size_t running_seen;    /* jobs running when it started */
} Work;

static sd_event *loop;
static size_t running_now, running_max;
static int finished_count;

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)s;
	(void)usec;
	((Work *)userdata)->fired = true;
	return 0;
}

static int run_work(RackJob *job)
{
	Work *w = job->userdata;
	sd_event_source *timer = NULL;
	char big[16384]; /* a deep-ish frame on the fiber's own stack */
	int r = 0;

	memset(big, 0x5a, sizeof(big));
	running_now++;
	running_max = MAX(running_max, running_now);
	w->running_seen = running_now;
	if (sd_event_add_time_relative(loop, &timer, CLOCK_MONOTONIC, w->usec, 0, on_timer, w) < 0)
		return -EIO;
	while (!w->fired && !w->cancel && r >= 0)
		r = loop_turn(loop);
	sd_event_source_disable_unref(timer);
	running_now--;
	w->order = finished_count++;
	return w->cancel ? -ECANCELED : big[sizeof(big) - 1] == 0x5a ? (int)(w->usec / 1000) : -EFAULT;
}

static void setup(RackJob *jobs, Work *work, size_t n, const uint64_t *msec)
{
	running_now = running_max = 0;
	finished_count = 0;
	for (size_t i = 0; i < n; i++) {
		work[i] = (Work){ .usec = msec[i] * 1000 };
		jobs[i] = (RackJob){ .userdata = &work[i], .cancel = &work[i].cancel };
	}
}

/* Four jobs of 40 ms, two at a time: never more than two run, and all finish. */
static void test_parallel_bound(void)
{
	const uint64_t msec[] = { 40, 40, 40, 40 };
	RackOptions o = { .parallel = 2, .run = run_work };
	RackJob jobs[4];
	Work work[4];

	setup(jobs, work, 4, msec);
	CHECK_INT(rack_run(loop, jobs, 4, &o), 0);
	CHECK_INT(running_max, 2);
	for (size_t i = 0; i < 4; i++) {
		CHECK_INT(jobs[i].state, RACK_JOB_DONE);
		CHECK_INT(jobs[i].result, 40);
	}
	/* the first two overlapped; the third waited for a free place */
	CHECK(jobs[1].started_usec < jobs[0].finished_usec);
	CHECK(jobs[2].started_usec >= MIN(jobs[0].finished_usec, jobs[1].finished_usec));
}

/* All at once by default: the short job finishes first though it was listed last. */
static void test_all_at_once(void)
{
	const uint64_t msec[] = { 60, 60, 5 };
	RackOptions o = { .run = run_work };
	RackJob jobs[3];
	Work work[3];

	setup(jobs, work, 3, msec);
	CHECK_INT(rack_run(loop, jobs, 3, &o), 0);
	CHECK_INT(running_max, 3);
	CHECK_INT(work[2].order, 0);
}

/* Two groups (adapters) with one link each: jobs of one group never overlap, the groups do. */
static void test_per_group(void)
{
	const uint64_t msec[] = { 20, 20, 20, 20 };
	const char *groups[] = { "hci0", "hci0", "hci1", "hci1" };
	RackOptions o = { .per_group = 1, .run = run_work };
	RackJob jobs[4];
	Work work[4];

	setup(jobs, work, 4, msec);
	for (size_t i = 0; i < 4; i++)
		jobs[i].group = groups[i];
	CHECK_INT(rack_run(loop, jobs, 4, &o), 0);
	CHECK_INT(running_max, 2);
	/* the second of each group started after the first of its group finished */
	CHECK(jobs[1].started_usec >= jobs[0].finished_usec);
	CHECK(jobs[3].started_usec >= jobs[2].finished_usec);
	CHECK(jobs[2].started_usec < jobs[0].finished_usec);
}

/* A deadline stops only the job that overran it. */
static void test_deadline(void)
{
	const uint64_t msec[] = { 5000, 10 };
	RackOptions o = { .deadline_usec = 50 * 1000, .run = run_work };
	RackJob jobs[2];
	Work work[2];
	uint64_t start;

	setup(jobs, work, 2, msec);
	start = now_usec();
	CHECK_INT(rack_run(loop, jobs, 2, &o), 0);
	CHECK(now_usec() - start < 2000 * 1000);
	CHECK(jobs[0].deadline_passed);
	CHECK_INT(jobs[0].result, -ECANCELED);
	CHECK(!jobs[1].deadline_passed);
	CHECK_INT(jobs[1].result, 10);
}

static volatile bool stop_all;

static int on_stop(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)s;
	(void)usec;
	(void)userdata;
	stop_all = true;
	return 0;
}

/* A stop (SIGINT) reaches the running jobs; those not started never start. */
static void test_stop(void)
{
	const uint64_t msec[] = { 5000, 5000, 5000 };
	RackOptions o = { .parallel = 2, .cancel = &stop_all, .run = run_work };
	sd_event_source *timer = NULL;
	RackJob jobs[3];
	Work work[3];

	setup(jobs, work, 3, msec);
	stop_all = false;
	CHECK(sd_event_add_time_relative(loop, &timer, CLOCK_MONOTONIC, 30 * 1000, 0, on_stop, NULL) >= 0);
	CHECK_INT(rack_run(loop, jobs, 3, &o), 0);
	CHECK_INT(jobs[0].result, -ECANCELED);
	CHECK_INT(jobs[1].result, -ECANCELED);
	CHECK_INT(jobs[0].state, RACK_JOB_DONE);
	CHECK_INT(jobs[2].state, RACK_JOB_NOT_STARTED);
	CHECK(!jobs[0].deadline_passed);
	sd_event_source_disable_unref(timer);
}

/* Outside any fiber, loop_turn is one sd_event_run. */
static void test_loop_turn_outside(void)
{
	Work w = { .usec = 1000 };
	sd_event_source *timer = NULL;

	CHECK(!fiber_current());
	CHECK(sd_event_add_time_relative(loop, &timer, CLOCK_MONOTONIC, w.usec, 0, on_timer, &w) >= 0);
	while (!w.fired)
		CHECK_INT(loop_turn(loop), 0);
	sd_event_source_disable_unref(timer);
}

int main(void)
{
	static const TapTest tests[] = {
		TAP_TEST(test_parallel_bound),
		TAP_TEST(test_all_at_once),
		TAP_TEST(test_per_group),
		TAP_TEST(test_deadline),
		TAP_TEST(test_stop),
		TAP_TEST(test_loop_turn_outside),
	};
	int r;

	if (sd_event_new(&loop) < 0)
		return 1;
	r = tap_run(tests, ARRAY_SIZE(tests));
	sd_event_unref(loop);
	return r;
}
