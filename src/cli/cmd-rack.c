/* SPDX-License-Identifier: MIT */
/*
 * A command on many devices (--device more than once, --devices FILE): each device gets a copy of the
 * command line's context and runs the ordinary command in a rack job (rack.h), so that one device's
 * output is exactly what a single run prints, tagged with the device. At the end: a summary table on
 * stderr, a summary JSON line with --json, and the exit code of the worst failure (smpctl(1) RACKS).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ble.h"
#include "cli.h"
#include "rack.h"
#include "util.h"

/* Bluetooth controllers hold a few LE links at a time (Core spec leaves the number to the controller;
 * common ones: 7 to 20); beyond it a Connect fails. Devices of one adapter wait for a free link. The
 * default suits most built-in controllers; --links-per-adapter raises it for one built for more (Zephyr's
 * hci_uart with CONFIG_BT_MAX_CONN=16, say). */
#define RACK_LINKS_PER_ADAPTER 7
#define RACK_MAX_DEVICES 1024

typedef struct RackSlot {
	Cli cli;
	CliOutcome outcome;
	char *args[1];         /* the device's own image, when its line names one */
	char *words;           /* its line's words after the address (provision reads them) */
	char group[40];        /* "ble:hci0": the adapter it goes through */
	int (*run)(Cli *cli);
	int exit_code;
} RackSlot;

/* The worst first: what most needs a person, then what most likely repeats (smpctl(1) RACKS). */
static const int exit_severity[] = {
	EXIT_INTERRUPTED, EXIT_VERIFY, EXIT_REVERTED, EXIT_DEVICE, EXIT_PROTOCOL, EXIT_DOWNGRADE, EXIT_IMAGE,
	EXIT_TIMEOUT, EXIT_TRANSPORT, EXIT_LOCKED, EXIT_IO, EXIT_USAGE, EXIT_FAILURE_GENERIC,
};

static size_t severity_rank(int code)
{
	for (size_t i = 0; i < ARRAY_SIZE(exit_severity); i++)
		if (exit_severity[i] == code)
			return i;
	return ARRAY_SIZE(exit_severity);
}

static int worse_exit(int a, int b)
{
	if (a == EXIT_OK)
		return b;
	if (b == EXIT_OK)
		return a;
	return severity_rank(b) < severity_rank(a) ? b : a;
}

/* --- devices file ------------------------------------------------------------------------------- */

int cli_add_device(Cli *cli, const char *address)
{
	const char **devices;

	if (cli->ndevices >= RACK_MAX_DEVICES)
		return -E2BIG;
	devices = reallocarray(cli->devices, cli->ndevices + 1, sizeof(*devices));
	if (!devices)
		return -ENOMEM;
	devices[cli->ndevices++] = address;
	cli->devices = devices;
	return 0;
}

/* One line: ADDRESS [image=PATH] [key=PATH] [mode=MODE] [adapter=HCI] [passkey=N] [label=TEXT]. Kept as one string
 * "ADDRESS\tkey=value\t…" per device: the words are split again when the device's job starts. */
static int parse_devices_line(Cli *cli, char *line, const char *dir, unsigned number)
{
	char entry[PATH_MAX * 2 + 256] = "";
	size_t used = 0;
	char *save = NULL;

	for (char *w = strtok_r(line, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save)) {
		const char *value = strchr(w, '=');
		bool path = strncmp(w, "image=", 6) == 0 || strncmp(w, "key=", 4) == 0;

		if (used == 0 && value && !strchr(w, ':'))
			return cli_fail(cli, EXIT_USAGE, "--devices line %u: starts with '%s', not a device address", number, w);
		bool step = strncmp(w, "set:", 4) == 0 || strncmp(w, "file:", 5) == 0; /* provision's (cmd-provision.c) */

		if (used > 0 && (!value || (!path && !step && strncmp(w, "mode=", 5) != 0 &&
					    strncmp(w, "adapter=", 8) != 0 && strncmp(w, "passkey=", 8) != 0 &&
					    strncmp(w, "label=", 6) != 0)))
			return cli_fail(cli, EXIT_USAGE, "--devices line %u: '%s' is not image=, key=, mode=, adapter=, "
						 "passkey=, label=, set:NAME=VALUE or file:REMOTE=LOCAL", number, w);
		uint32_t passkey;

		if (strncmp(w, "passkey=", 8) == 0 && ble_passkey_parse(value + 1, &passkey) < 0)
			return cli_fail(cli, EXIT_USAGE, "--devices line %u: passkey= takes the 6 digits the device shows, "
						 "not '%s'", number, value + 1);
		if (strncmp(w, "file:", 5) == 0 && value[1] != '/' && dir)
			used += (size_t)snprintf(entry + used, sizeof(entry) - used, "\t%.*s%s/%s", (int)(value - w + 1), w,
						 dir, value + 1);
		else if (path && value[1] != '/' && dir)
			used += (size_t)snprintf(entry + used, sizeof(entry) - used, "\t%.*s%s/%s", (int)(value - w + 1), w,
						 dir, value + 1);
		else
			used += (size_t)snprintf(entry + used, sizeof(entry) - used, "%s%s", used ? "\t" : "", w);
		if (used >= sizeof(entry))
			return cli_fail(cli, EXIT_USAGE, "--devices line %u is too long", number);
	}
	if (used == 0)
		return 0;
	char *copy = strdup(entry);

	if (!copy || cli_add_device(cli, copy) < 0) {
		free(copy);
		return cli_fail(cli, EXIT_USAGE, "--devices: more than %d devices", RACK_MAX_DEVICES);
	}
	return 0;
}

int cli_read_devices_file(Cli *cli)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_free_ char *line = NULL;
	size_t size = 0;
	unsigned number = 0;
	FILE *f;
	int r = 0;

	if (!cli->devices_file)
		return 0;
	cli->devices_owned_from = cli->ndevices;
	f = strcmp(cli->devices_file, "-") == 0 ? stdin : fopen(cli->devices_file, "re");
	if (!f)
		return cli_fail(cli, EXIT_USAGE, "cannot read --devices %s: %s", cli->devices_file, strerror(errno));
	/* Paths in the file are relative to the file, so that a rack's directory can move as a whole. */
	if (f != stdin) {
		const char *slash = strrchr(cli->devices_file, '/');

		dir = slash ? strndup(cli->devices_file, (size_t)(slash - cli->devices_file)) : NULL;
	}
	while (r == 0 && getline(&line, &size, f) >= 0) {
		number++;
		line[strcspn(line, "#")] = '\0';
		r = parse_devices_line(cli, line, dir, number);
	}
	if (f != stdin)
		fclose(f);
	if (r == 0 && cli->ndevices == 0)
		return cli_fail(cli, EXIT_USAGE, "--devices %s lists no device", cli->devices_file);
	return r;
}

void cli_free_devices(Cli *cli)
{
	if (cli->devices_file)
		for (size_t i = cli->devices_owned_from; i < cli->ndevices; i++)
			free((char *)cli->devices[i]);
	free(cli->devices);
	cli->devices = NULL;
	cli->ndevices = 0;
}

/* --- one device ---------------------------------------------------------------------------------- */

/* Applies the words after the address ("image=…", …) to the device's own context. */
static void slot_apply_words(RackSlot *s, char *words)
{
	char *save = NULL;

	for (char *w = strtok_r(words, "\t", &save); w; w = strtok_r(NULL, "\t", &save)) {
		const char *v = strchr(w, '=') + 1;

		if (strncmp(w, "image=", 6) == 0) {
			s->args[0] = (char *)v;
			s->cli.args = s->args;
			s->cli.nargs = 1;
		} else if (strncmp(w, "key=", 4) == 0) {
			s->cli.key = v;
		} else if (strncmp(w, "mode=", 5) == 0) {
			s->cli.mode = v;
		} else if (strncmp(w, "adapter=", 8) == 0) {
			s->cli.transport.adapter = v;
		} else if (strncmp(w, "passkey=", 8) == 0) {
			s->cli.transport.passkey = v; /* the one this device shows, over --passkey */
		} else if (strncmp(w, "label=", 6) == 0) {
			s->cli.label = v;
		}
	}
}

static void slot_init(RackSlot *s, const Cli *cli, char *entry)
{
	char *tab = strchr(entry, '\t');

	s->cli = *cli;
	if (tab)
		*tab = '\0';
	s->cli.device = entry;
	s->cli.label = entry;
	s->cli.ndevices = 0;
	s->cli.devices = NULL;
	s->cli.rack_words = NULL;
	s->cli.interrupted = false;
	s->cli.lock_fd = -1;
	s->cli.progress_tty = false; /* several devices share the terminal: lines, not a redrawn bar */
	s->cli.outcome = &s->outcome;
	s->cli.json_out = (JsonWriter){ .out = stdout };
	if (tab) {
		s->words = strdup(tab + 1);
		s->cli.rack_words = s->words;
		slot_apply_words(s, tab + 1);
	}
	s->cli.json_out.device = s->cli.device;
	/* BLE devices of one adapter share its controller's links: the rack bounds them per adapter. */
	if (strncmp(s->cli.device, "ble:", 4) == 0) {
		const char *slash = strchr(s->cli.device + 4, '/');

		if (slash && slash - s->cli.device - 4 < 16)
			snprintf(s->group, sizeof(s->group), "ble:%.*s", (int)(slash - s->cli.device - 4), s->cli.device + 4);
		else
			snprintf(s->group, sizeof(s->group), "ble:%s", s->cli.transport.adapter ? s->cli.transport.adapter
												  : "default");
	}
}

static int rack_job_run(RackJob *job)
{
	RackSlot *s = job->userdata;
	int code = s->run(&s->cli);

	if (s->cli.lock_fd >= 0)
		close(TAKE_FD(s->cli.lock_fd)); /* the device is free for others as soon as its job ends */
	return code;
}

/* --- the end: table, summary line, exit code ------------------------------------------------------ */

static void slot_finish(RackSlot *s, const RackJob *job)
{
	if (job->state == RACK_JOB_DONE) {
		s->exit_code = job->result;
		return;
	}
	s->exit_code = EXIT_INTERRUPTED;
	snprintf(s->outcome.message, sizeof(s->outcome.message), "not started: the rack was interrupted");
}

static double job_seconds(const RackJob *job)
{
	return job->state == RACK_JOB_DONE ? (double)(job->finished_usec - job->started_usec) / 1e6 : 0;
}

static void json_version(JsonWriter *j, const char *key, const char *version)
{
	json_key(j, key);
	version[0] ? json_string(j, version) : json_null(j);
}

/* "images": each image of a package (or --image N) with its versions; one image's own otherwise. */
static void summary_json_images(JsonWriter *j, const RackSlot *s)
{
	const CliOutcome *o = &s->outcome;

	json_key(j, "images");
	json_begin_array(j);
	for (size_t k = 0; k < o->nimages; k++) {
		json_begin_object(j);
		json_key(j, "image"); json_uint(j, o->images[k].image);
		json_version(j, "old_version", o->images[k].old_version);
		json_version(j, "new_version", o->images[k].new_version);
		json_end_object(j);
	}
	if (o->nimages == 0 && (o->old_version[0] || o->new_version[0])) {
		json_begin_object(j);
		json_key(j, "image"); json_uint(j, s->cli.image);
		json_version(j, "old_version", o->old_version);
		json_version(j, "new_version", o->new_version);
		json_end_object(j);
	}
	json_end_array(j);
}

static void summary_json(Cli *cli, const RackSlot *slots, const RackJob *jobs, size_t n, int worst)
{
	JsonWriter *j = &cli->json_out;

	j->device = NULL; /* the line is about every device */
	json_begin_object(j);
	json_key(j, "type"); json_string(j, "summary");
	json_key(j, "ok"); json_bool(j, worst == EXIT_OK);
	json_key(j, "exit_code"); json_int(j, worst);
	json_key(j, "devices");
	json_begin_array(j);
	for (size_t i = 0; i < n; i++) {
		const CliOutcome *o = &slots[i].outcome;

		json_begin_object(j);
		json_key(j, "device"); json_string(j, slots[i].cli.device);
		json_key(j, "ok"); json_bool(j, slots[i].exit_code == EXIT_OK);
		json_key(j, "exit_code"); json_int(j, slots[i].exit_code);
		json_key(j, "started"); json_bool(j, jobs[i].state == RACK_JOB_DONE);
		json_key(j, "deadline_passed"); json_bool(j, jobs[i].deadline_passed);
		json_key(j, "seconds"); json_double(j, job_seconds(&jobs[i]));
		json_version(j, "old_version", o->old_version);
		json_version(j, "new_version", o->new_version);
		summary_json_images(j, &slots[i]);
		json_key(j, "bytes"); json_uint(j, o->bytes);
		json_key(j, "rate"); json_double(j, o->rate);
		json_key(j, "error"); slots[i].exit_code ? json_string(j, o->message) : json_null(j);
		json_end_object(j);
	}
	json_end_array(j);
	json_end_object(j);
	json_end_line(j);
}

/* A package's images under its device's row (which shows image 0's, or the first image's, versions): one
 * row each, "  image N" in the device column. */
static void summary_table_images(const CliOutcome *o, int width)
{
	for (size_t k = 0; o->nimages > 1 && k < o->nimages; k++) {
		char label[32];

		snprintf(label, sizeof(label), "  image %u", o->images[k].image);
		fprintf(stderr, "%-*s  %-12s  %s\n", width, label,
			o->images[k].old_version[0] ? o->images[k].old_version : "-",
			o->images[k].new_version[0] ? o->images[k].new_version : "-");
	}
}

static void summary_table(const RackSlot *slots, const RackJob *jobs, size_t n)
{
	int width = 6;

	for (size_t i = 0; i < n; i++)
		width = MAX(width, slots[i].outcome.nimages > 1 ? 9 : (int)strlen(slots[i].cli.label));
	for (size_t i = 0; i < n; i++)
		width = MAX(width, (int)strlen(slots[i].cli.label));
	fprintf(stderr, "\n%-*s  %-12s  %-12s  %7s  %7s  %s\n", width, "DEVICE", "OLD", "NEW", "TIME", "kB/s", "RESULT");
	for (size_t i = 0; i < n; i++) {
		const CliOutcome *o = &slots[i].outcome;
		char rate[16] = "-", result[120];

		if (o->uploaded)
			snprintf(rate, sizeof(rate), "%.1f", o->rate / 1000);
		if (slots[i].exit_code == EXIT_OK)
			snprintf(result, sizeof(result), "ok");
		else
			snprintf(result, sizeof(result), "exit %d: %.100s%s", slots[i].exit_code, o->message,
				 strlen(o->message) > 100 ? "..." : "");
		fprintf(stderr, "%-*s  %-12s  %-12s  %6.1fs  %7s  %s\n", width, slots[i].cli.label,
			o->old_version[0] ? o->old_version : "-", o->new_version[0] ? o->new_version : "-",
			job_seconds(&jobs[i]), rate, result);
		summary_table_images(o, width);
	}
}

static int rack_prepare(Cli *cli, RackSlot *slots, RackJob *jobs, int (*run)(Cli *cli), bool needs_file)
{
	for (size_t i = 0; i < cli->ndevices; i++) {
		RackSlot *s = &slots[i];

		slot_init(s, cli, (char *)cli->devices[i]);
		s->run = run;
		if (cli->ndevices == 1 && !cli->devices_file)
			s->cli.label = NULL; /* one device (--deadline alone): the output of a single run */
		if (needs_file && s->cli.nargs == 0)
			return cli_fail(cli, EXIT_USAGE, "device %s has no image: give FILE, or image=PATH on its --devices line",
					s->cli.device);
		jobs[i] = (RackJob){ .userdata = s, .group = s->group[0] ? s->group : NULL, .cancel = &s->cli.interrupted };
		s->cli.deadline_passed = &jobs[i].deadline_passed;
	}
	return 0;
}

int cli_rack_run(Cli *cli, int (*run)(Cli *cli), bool needs_file)
{
	_cleanup_free_ RackSlot *slots = calloc(cli->ndevices, sizeof(*slots));
	_cleanup_free_ RackJob *jobs = calloc(cli->ndevices, sizeof(*jobs));
	RackOptions o = {
		.parallel = cli->parallel,
		.per_group = cli->links_per_adapter ? cli->links_per_adapter : RACK_LINKS_PER_ADAPTER,
		.deadline_usec = cli->deadline_usec,
		.cancel = &cli->interrupted,
		.run = rack_job_run,
	};
	bool rack_output = cli->ndevices > 1 || cli->devices_file;
	int worst = EXIT_OK, r;

	if (!slots || !jobs)
		return cli_fail(cli, EXIT_FAILURE_GENERIC, "out of memory for %zu devices", cli->ndevices);
	r = rack_prepare(cli, slots, jobs, run, needs_file);
	if (r) {
		for (size_t i = 0; i < cli->ndevices; i++)
			free(slots[i].words);
		return r;
	}
	r = rack_run(cli->event, jobs, cli->ndevices, &o);
	if (r < 0)
		return cli_fail(cli, EXIT_FAILURE_GENERIC, "the event loop failed: %s", strerror(-r));
	for (size_t i = 0; i < cli->ndevices; i++) {
		free(TAKE_PTR(slots[i].words));
		slot_finish(&slots[i], &jobs[i]);
		worst = worse_exit(worst, slots[i].exit_code);
		if (slots[i].cli.json_out.write_errno && !cli->json_out.write_errno)
			cli->json_out.write_errno = slots[i].cli.json_out.write_errno;
	}
	if (!rack_output)
		return worst;
	if (cli->json)
		summary_json(cli, slots, jobs, cli->ndevices, worst);
	if (!cli->only_errors)
		summary_table(slots, jobs, cli->ndevices);
	return worst;
}
