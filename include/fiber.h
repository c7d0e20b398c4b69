/* SPDX-License-Identifier: MIT */
/*
 * Cooperative fibers on one sd-event loop, so that one process can drive many devices with the same
 * plain, blocking code that drives one (device calls, the upload engine, dfu_run).
 *
 * Every wait in the core goes through loop_turn(). Outside a fiber it is sd_event_run(): nothing
 * changes for a single device. Inside a fiber it hands control back to the scheduler, which runs the
 * loop once for everyone and then resumes each fiber to look at its own condition again. Fibers switch
 * only there, so no locks are needed: code between two waits runs alone (a JSON line is never split).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

typedef struct FiberSet FiberSet;

/* after_turn (may be NULL) runs in the scheduler after every turn of the loop. */
int fiber_set_new(sd_event *event, void (*after_turn)(void *userdata), void *userdata, FiberSet **out);
void fiber_set_free(FiberSet *s);

/* Starts fn(arg) on a stack of its own at the next turn. Returns 0 or -errno (-ENOMEM). */
int fiber_spawn(FiberSet *s, void (*fn)(void *arg), void *arg);

/* Runs the loop until every fiber has returned. Returns 0, or the loop's error. */
int fiber_set_run(FiberSet *s);

/* One turn of the loop on behalf of the caller: waits until something happened (see above).
 * Returns 0 or the loop's -errno. */
int loop_turn(sd_event *event);

/* The caller runs in a fiber (a rack's device) rather than on the main stack. */
bool fiber_current(void);
