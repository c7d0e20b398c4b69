/* SPDX-License-Identifier: MIT */
/*
 * A rack: the same job (an update, a listing, an echo) on many devices from one process and one
 * sd-event loop. Each job runs in a fiber of its own (fiber.h) with the ordinary
 * blocking code; the rack admits at most `parallel` of them at once and at most `per_group` per group
 * (a Bluetooth adapter: its controller holds a limited number of links), bounds each with a deadline,
 * and stops them all when asked. A failing job never stops the others. The rack knows nothing of what
 * a job does or prints: the CLI (cmd-rack.c) gives it the work and reads the results.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

typedef enum RackJobState {
	RACK_JOB_WAITING,
	RACK_JOB_RUNNING,
	RACK_JOB_DONE,
	RACK_JOB_NOT_STARTED, /* the rack was stopped before its turn came */
} RackJobState;

typedef struct RackJob {
	/* given by the caller */
	void *userdata;
	const char *group;        /* jobs sharing a group count against per_group (NULL: none) */
	volatile bool *cancel;    /* the job's own stop flag, the one its device watches; set by the rack */
	/* results */
	RackJobState state;
	int result;               /* what run() returned */
	bool deadline_passed;     /* the rack stopped it at its deadline */
	uint64_t started_usec, finished_usec;
	/* the rack's own */
	struct Rack *rack;
	sd_event_source *deadline;
} RackJob;

typedef struct RackOptions {
	size_t parallel;          /* jobs at once; 0: all */
	size_t per_group;         /* jobs at once in one group; 0: no bound */
	uint64_t deadline_usec;   /* each job's bound from its start; 0: none */
	const volatile bool *cancel; /* stops every job (SIGINT); jobs not yet started never start */
	int (*run)(RackJob *job);
	void *userdata;
} RackOptions;

/* Runs every job; returns once all are done or not started. Returns 0 or the loop's -errno. */
int rack_run(sd_event *event, RackJob *jobs, size_t count, const RackOptions *options);
