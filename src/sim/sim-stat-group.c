/* SPDX-License-Identifier: MIT */
/* Statistics of the simulated device: the stat group (2) as Zephyr 4.1's stat_mgmt.c answers it, and the
 * OS group's task statistics (os_mgmt.c os_mgmt_taskstat_read()). */
#include <errno.h>
#include <string.h>

#include "sim-internal.h"
#include "smp-error.h"
#include "util.h"

enum {
	STAT_ERR_INVALID_STAT_NAME = 3, /* STAT_MGMT_ERR_INVALID_STAT_NAME */
	STAT_MAX_NAME_LEN = 32,         /* CONFIG_MCUMGR_GRP_STAT_MAX_NAME_LEN */
};

/* The firmware registers no statistics of its own; smp_svr registers "smp_svr_stats" with one 32-bit
 * counter, "ticks" (samples/subsys/mgmt/mcumgr/smp_svr/src/main.c), counting seconds in its main loop.
 * The model keeps no clock: it stays 0, as a freshly started server shows it. */
static const char *const sample_group = "smp_svr_stats";

/* stat_mgmt_list(): {"stat_list": [names]} */
static SimStatus stat_list(const SimDevice *dev, SmpCborWriter *w)
{
	smp_cbor_put_text(w, "stat_list");
	smp_cbor_put_indef_array(w);
	if (dev->cfg.stat_sample)
		smp_cbor_put_text(w, sample_group);
	smp_cbor_put_break(w);
	return SIM_OK;
}

/* stat_mgmt_show(): "name" must be a non-empty text shorter than STAT_MAX_NAME_LEN (else rc 3). An
 * unknown group is reported under group 63, not 2: Zephyr's smp_add_cmd_err(ZEPHYR_MGMT_GRP_BASIC, …)
 * (REFERENCE.md §11). */
static SimStatus stat_show(const SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	char name[STAT_MAX_NAME_LEN];

	if (!req->body || smp_cbor_get_text(req->body, "name", name, sizeof(name)) < 0 || !name[0])
		return SIM_RC(SMP_RC_EINVAL);
	if (!dev->cfg.stat_sample || strcmp(name, sample_group) != 0)
		return SIM_GROUP_ERR(SMP_GROUP_ZEPHYR_BASIC, STAT_ERR_INVALID_STAT_NAME);
	smp_cbor_put_text(w, "name");
	smp_cbor_put_text(w, name);
	smp_cbor_put_text(w, "fields");
	smp_cbor_put_indef_map(w);
	smp_cbor_put_text(w, "ticks");
	smp_cbor_put_uint(w, 0);
	smp_cbor_put_break(w);
	return SIM_OK;
}

/* Both commands have only a read handler (stat_mgmt_handlers[]): a write is rc 8. */
SimStatus sim_stat_handle(SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	if (!dev->cfg.stat || req->header->op != SMP_OP_READ)
		return SIM_RC(SMP_RC_ENOTSUP);
	switch (req->header->id) {
	case SMP_STAT_SHOW: return stat_show(dev, req, w);
	case SMP_STAT_LIST: return stat_list(dev, w);
	default: return SIM_RC(SMP_RC_ENOTSUP);
	}
}

/*
 * Task statistics of the firmware's threads. Without CONFIG_THREAD_NAME the names are the priorities
 * (CONFIG_MCUMGR_GRP_OS_TASKSTAT_USE_THREAD_PRIO_FOR_NAME, the default then), so keys repeat; with
 * CONFIG_MCUMGR_GRP_OS_TASKSTAT_ONLY_SUPPORTED_STATS (default y) and no stack info, each entry is
 * {prio, tid, state}. States are Zephyr's _THREAD_* bits: 0 ready, 2 pending, 128 queued (running the
 * request, as "mcumgr smp" does on the fixture).
 */
static const struct {
	int prio;
	unsigned state;
} sim_threads[] = {
	{ 3, 128 },  /* mcumgr smp work queue */
	{ -8, 2 },   /* BT RX */
	{ -1, 2 },   /* system work queue */
	{ -1, 2 },   /* BT long work queue */
	{ 14, 2 },   /* logging */
	{ 15, 0 },   /* idle */
};

SimStatus sim_os_taskstat(SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	(void)req;
	if (!dev->cfg.taskstat)
		return SIM_RC(SMP_RC_ENOTSUP);
	smp_cbor_put_text(w, "tasks");
	smp_cbor_put_indef_map(w);
	for (size_t i = 0; i < ARRAY_SIZE(sim_threads); i++) {
		char name[8];

		snprintf(name, sizeof(name), "%d", sim_threads[i].prio);
		smp_cbor_put_text(w, name);
		smp_cbor_put_indef_map(w);
		smp_cbor_put_text(w, "prio");
		smp_cbor_put_int(w, sim_threads[i].prio);
		smp_cbor_put_text(w, "tid");
		smp_cbor_put_uint(w, i);
		smp_cbor_put_text(w, "state");
		smp_cbor_put_uint(w, sim_threads[i].state);
		smp_cbor_put_break(w);
	}
	smp_cbor_put_break(w);
	return SIM_OK;
}
