/* SPDX-License-Identifier: MIT */
/* Many devices, one loop: admission in order, per-group bounds, deadlines and a common stop (rack.h). */
#include <errno.h>
#include <string.h>

#include "ble.h"
#include "fiber.h"
#include "log.h"
#include "rack.h"
#include "util.h"

typedef struct Rack {
	sd_event *event;
	RackJob *jobs;
	size_t count;
	const RackOptions *o;
	size_t running;
	bool stopping;
} Rack;

static bool same_group(const RackJob *a, const RackJob *b)
{
	return a->group && b->group && strcmp(a->group, b->group) == 0;
}

static bool rack_fits(const Rack *r, const RackJob *job)
{
	size_t in_group = 0;

	if (r->o->parallel && r->running >= r->o->parallel)
		return false;
	if (!r->o->per_group || !job->group)
		return true;
	for (size_t i = 0; i < r->count; i++)
		in_group += r->jobs[i].state == RACK_JOB_RUNNING && same_group(&r->jobs[i], job);
	return in_group < r->o->per_group;
}

/* First come, first served: a job starts when it fits and no job listed before it still waits to. */
static bool rack_admits(const Rack *r, const RackJob *job)
{
	if (!rack_fits(r, job))
		return false;
	for (const RackJob *j = r->jobs; j < job; j++)
		if (j->state == RACK_JOB_WAITING && rack_fits(r, j))
			return false;
	return true;
}

static int on_job_deadline(sd_event_source *src, uint64_t usec, void *userdata)
{
	RackJob *job = userdata;

	(void)src;
	(void)usec;
	job->deadline_passed = true;
	*job->cancel = true;
	return 0;
}

static void rack_job_fiber(void *arg)
{
	RackJob *job = arg;
	Rack *r = job->rack;

	while (!r->stopping && !rack_admits(r, job))
		if (loop_turn(r->event) < 0)
			r->stopping = true;
	if (r->stopping) {
		job->state = RACK_JOB_NOT_STARTED;
		job->result = -ECANCELED;
		return;
	}
	job->state = RACK_JOB_RUNNING;
	r->running++;
	job->started_usec = now_usec();
	if (r->o->deadline_usec &&
	    sd_event_add_time_relative(r->event, &job->deadline, CLOCK_MONOTONIC, r->o->deadline_usec, 0,
				       on_job_deadline, job) < 0)
		log_debug("rack: no deadline timer for a job: it runs unbounded");
	job->result = r->o->run(job);
	job->deadline = sd_event_source_disable_unref(job->deadline);
	job->finished_usec = now_usec();
	job->state = RACK_JOB_DONE;
	r->running--;
}

/* After every turn of the loop: a stop (SIGINT) reaches every running job through its own flag. */
static void rack_after_turn(void *userdata)
{
	Rack *r = userdata;

	if (!r->o->cancel || !*r->o->cancel || r->stopping)
		return;
	r->stopping = true;
	for (size_t i = 0; i < r->count; i++)
		if (r->jobs[i].state == RACK_JOB_RUNNING)
			*r->jobs[i].cancel = true;
}

int rack_run(sd_event *event, RackJob *jobs, size_t count, const RackOptions *options)
{
	Rack r = { .event = event, .jobs = jobs, .count = count, .o = options };
	FiberSet *fibers = NULL;
	int err;

	/* One BlueZ client for the whole rack, also while no device of it has a link (ble.h). */
	ble_connection_keep(true);
	err = fiber_set_new(event, rack_after_turn, &r, &fibers);
	for (size_t i = 0; err >= 0 && i < count; i++) {
		jobs[i].rack = (struct Rack *)&r;
		jobs[i].state = RACK_JOB_WAITING;
		err = fiber_spawn(fibers, rack_job_fiber, &jobs[i]);
	}
	if (err >= 0)
		err = fiber_set_run(fibers);
	fiber_set_free(fibers);
	ble_connection_keep(false);
	for (size_t i = 0; i < count; i++)
		jobs[i].rack = NULL;
	return err < 0 ? err : 0;
}
