/* SPDX-License-Identifier: MIT */
/* OS group commands beyond the basics: taskstat, mpstat, bootloader info, datetime set. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "util.h"

#define _cleanup_device_ _cleanup_(device_freep)

/* Zephyr's thread_state bits (kernel_structs.h, _THREAD_*), as taskstat sends them. */
static void thread_state_text(uint64_t state, char *out, size_t size)
{
	static const char *const bits[] = { "dummy", "pending", "prestart", "dead", "suspended", "aborting",
					    "suspending", "queued" };
	size_t used = 0;

	out[0] = '\0';
	if (state == 0)
		snprintf(out, size, "ready");
	for (size_t i = 0; i < ARRAY_SIZE(bits); i++)
		if (state & (1u << i))
			used += (size_t)snprintf(out + used, used < size ? size - used : 0, "%s%s", used ? "," : "",
						 bits[i]);
}

static void task_json(JsonWriter *j, const MgmtTask *t)
{
	char state[96];

	thread_state_text(t->state, state, sizeof(state));
	json_begin_object(j);
	json_key(j, "name"); json_string(j, t->name);
	json_key(j, "prio"); json_int(j, t->prio);
	json_key(j, "tid"); json_uint(j, t->tid);
	json_key(j, "state"); json_uint(j, t->state);
	json_key(j, "state_names"); json_string(j, state);
	if (t->has_stksiz) { json_key(j, "stksiz"); json_uint(j, t->stksiz); }
	if (t->has_stkuse) { json_key(j, "stkuse"); json_uint(j, t->stkuse); }
	if (t->has_runtime) { json_key(j, "runtime"); json_uint(j, t->runtime); }
	if (t->has_cswcnt) { json_key(j, "cswcnt"); json_uint(j, t->cswcnt); }
	json_end_object(j);
}

static void taskstat_text(const MgmtTaskStats *ts)
{
	printf("%-20s %5s %4s %-18s %15s %12s\n", "NAME", "PRIO", "TID", "STATE", "STACK USED/SIZE", "RUNTIME");
	for (size_t i = 0; i < ts->count; i++) {
		const MgmtTask *t = &ts->tasks[i];
		char state[96], stack[40] = "-", runtime[24] = "-";

		thread_state_text(t->state, state, sizeof(state));
		/* Zephyr sends stack figures in 4-byte words (os_mgmt_taskstat_encode_stack_info()). */
		if (t->has_stksiz)
			snprintf(stack, sizeof(stack), "%" PRIu64 "/%" PRIu64 " B", t->has_stkuse ? t->stkuse * 4 : 0,
				 t->stksiz * 4);
		if (t->has_runtime)
			snprintf(runtime, sizeof(runtime), "%" PRIu64, t->runtime);
		printf("%-20s %5" PRId64 " %4" PRIu64 " %-18s %15s %12s\n", t->name, t->prio, t->tid, state, stack,
		       runtime);
	}
}

int cmd_taskstat(Cli *cli)
{
	_cleanup_device_ Device *d = NULL;
	_cleanup_free_ MgmtTaskStats *ts = malloc(sizeof(*ts));
	int r;

	if (!ts)
		return cli_fail(cli, EXIT_FAILURE_GENERIC, "out of memory");
	r = cli_open_device(cli, &d);
	if (r)
		return r;
	r = device_taskstat(d, ts);
	if (r)
		return cli_device_fail(cli, d, r);
	if (!cli->json) {
		taskstat_text(ts);
		return EXIT_OK;
	}
	json_begin_object(&cli->json_out);
	json_key(&cli->json_out, "tasks");
	json_begin_array(&cli->json_out);
	for (size_t i = 0; i < ts->count; i++)
		task_json(&cli->json_out, &ts->tasks[i]);
	json_end_array(&cli->json_out);
	json_end_object(&cli->json_out);
	json_end_line(&cli->json_out);
	return EXIT_OK;
}

static void pool_json(JsonWriter *j, const MgmtMemPool *p)
{
	json_begin_object(j);
	json_key(j, "name"); json_string(j, p->name);
	json_key(j, "blksiz"); json_uint(j, p->blksiz);
	json_key(j, "nblks"); json_uint(j, p->nblks);
	json_key(j, "nfree"); json_uint(j, p->nfree);
	json_key(j, "min"); json_uint(j, p->min);
	json_end_object(j);
}

/* Zephyr 4.1 answers rc 8 (no handler in os_mgmt.c): smp-error's hint says so. Servers that have the
 * command (mcumgr's original) answer with pools. */
int cmd_mpstat(Cli *cli)
{
	_cleanup_device_ Device *d = NULL;
	_cleanup_free_ MgmtMemPools *mp = malloc(sizeof(*mp));
	int r;

	if (!mp)
		return cli_fail(cli, EXIT_FAILURE_GENERIC, "out of memory");
	r = cli_open_device(cli, &d);
	if (r)
		return r;
	r = device_mpstat(d, mp);
	if (r)
		return cli_device_fail(cli, d, r);
	if (!cli->json) {
		printf("%-20s %8s %8s %8s %8s\n", "NAME", "BLKSIZ", "NBLKS", "NFREE", "MIN");
		for (size_t i = 0; i < mp->count; i++)
			printf("%-20s %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 "\n", mp->pools[i].name,
			       mp->pools[i].blksiz, mp->pools[i].nblks, mp->pools[i].nfree, mp->pools[i].min);
		return EXIT_OK;
	}
	json_begin_object(&cli->json_out);
	json_key(&cli->json_out, "pools");
	json_begin_array(&cli->json_out);
	for (size_t i = 0; i < mp->count; i++)
		pool_json(&cli->json_out, &mp->pools[i]);
	json_end_array(&cli->json_out);
	json_end_object(&cli->json_out);
	json_end_line(&cli->json_out);
	return EXIT_OK;
}

static void bootloader_json(JsonWriter *j, const MgmtBootloaderInfo *b)
{
	json_begin_object(j);
	json_key(j, "name");
	json_string(j, b->bootloader);
	json_key(j, "mode");
	b->has_mode ? json_int(j, b->mode) : json_null(j);
	json_key(j, "mode_name");
	b->has_mode ? json_string(j, mgmt_bootloader_mode_name(b->mode)) : json_null(j);
	json_key(j, "no_downgrade");
	json_bool(j, b->has_no_downgrade && b->no_downgrade);
	json_end_object(j);
	json_end_line(j);
}

int cmd_bootloader_info(Cli *cli)
{
	_cleanup_device_ Device *d = NULL;
	MgmtBootloaderInfo b = { 0 };
	int r = cli_open_device(cli, &d);

	if (r)
		return r;
	r = device_bootloader_info(d, &b);
	if (r)
		return cli_device_fail(cli, d, r);
	if (cli->json) {
		bootloader_json(&cli->json_out, &b);
		return EXIT_OK;
	}
	printf("Bootloader:   %s\n", b.bootloader[0] ? b.bootloader : "(not named)");
	if (b.has_mode)
		printf("Mode:         %s (%" PRId64 ")\n", mgmt_bootloader_mode_name(b.mode), b.mode);
	else
		printf("Mode:         not reported\n");
	printf("No downgrade: %s\n", b.has_no_downgrade && b.no_downgrade ? "yes (older images are refused)" : "no");
	return EXIT_OK;
}

/* "Z", "+hh:mm", "-hhmm" or nothing (UTC) after the seconds: the offset in seconds, or -1. */
static long parse_zone(const char *s)
{
	int h, m;
	char rest;

	if (!*s || strcmp(s, "Z") == 0)
		return 0;
	if ((s[0] != '+' && s[0] != '-') ||
	    (sscanf(s + 1, "%2d:%2d%c", &h, &m, &rest) != 2 && sscanf(s + 1, "%2d%2d%c", &h, &m, &rest) != 2) ||
	    h > 23 || m > 59)
		return -1;
	return (s[0] == '-' ? -1 : 1) * (h * 3600L + m * 60L);
}

/*
 * TIME as ISO 8601, "yyyy-mm-ddThh:mm:ss[.mmm][Z|±hh:mm]" (a space may stand for the T), to the UTC text
 * Zephyr's os_mgmt_datetime_write() takes: it keeps no time zone (it parses and ignores one), so smpctl
 * sends UTC. Milliseconds go along when given (CONFIG_MCUMGR_GRP_OS_DATETIME_MS reads them).
 */
static int datetime_text(const char *arg, char *out, size_t size)
{
	struct tm tm = { 0 };
	unsigned ms = 0;
	bool has_ms = false;
	int used = 0;
	long zone;
	time_t t;

	if (!arg || strcmp(arg, "now") == 0) {
		t = time(NULL);
	} else {
		if (sscanf(arg, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
			   &tm.tm_min, &tm.tm_sec, &used) != 6 || used != 19)
			return -EINVAL;
		if (arg[used] == '.') {
			int n = 0;

			if (sscanf(arg + used + 1, "%3u%n", &ms, &n) != 1 || n != 3)
				return -EINVAL;
			has_ms = true;
			used += 4;
		}
		zone = parse_zone(arg + used);
		if (zone == -1 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
		    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59)
			return -EINVAL;
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		t = timegm(&tm) - zone;
	}
	if (!gmtime_r(&t, &tm) || tm.tm_year < 0 || tm.tm_year > 11899 - 1900)
		return -EINVAL;
	used = snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (has_ms)
		snprintf(out + used, size - (size_t)used, ".%03u", ms);
	return 0;
}

int cmd_datetime_set(Cli *cli)
{
	_cleanup_device_ Device *d = NULL;
	char when[48];
	int r;

	if (datetime_text(cli->nargs ? cli->args[0] : NULL, when, sizeof(when)) < 0)
		return cli_fail(cli, EXIT_USAGE, "datetime set takes 'now' or yyyy-mm-ddThh:mm:ss[.mmm][Z|+hh:mm], "
						 "not '%s'", cli->args[0]);
	r = cli_open_device(cli, &d);
	if (r)
		return r;
	r = device_datetime_set(d, when);
	if (r)
		return cli_device_fail(cli, d, r);
	if (cli->json) {
		json_line_string(&cli->json_out, "datetime", when);
	} else {
		printf("Device clock set to %s (UTC).\n", when);
	}
	return EXIT_OK;
}
