/* SPDX-License-Identifier: MIT */
/* Statistics (group 2), shell (group 9) and enumeration (group 10) commands: stat list, stat show,
 * shell exec, groups. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "smp-error.h"
#include "smp.h"
#include "util.h"

#define _cleanup_device_ _cleanup_(device_freep)

static void warn_truncated(bool truncated, const char *what)
{
	if (truncated)
		fprintf(stderr, "smpctl: warning: the device listed more %s than smpctl keeps; the rest is left out\n",
			what);
}

int cmd_stat_list(Cli *cli)
{
	_cleanup_device_ Device *d = NULL;
	_cleanup_free_ MgmtStatList *list = malloc(sizeof(*list));
	int r;

	if (!list)
		return cli_fail(cli, EXIT_FAILURE_GENERIC, "out of memory");
	r = cli_open_device(cli, &d);
	if (r)
		return r;
	r = device_stat_list(d, list);
	if (r)
		return cli_device_fail(cli, d, r);
	warn_truncated(list->truncated, "statistics groups");
	if (cli->json) {
		json_begin_object(&cli->json_out);
		json_key(&cli->json_out, "groups");
		json_begin_array(&cli->json_out);
		for (size_t i = 0; i < list->count; i++)
			json_string(&cli->json_out, list->names[i]);
		json_end_array(&cli->json_out);
		json_end_object(&cli->json_out);
		json_end_line(&cli->json_out);
		return EXIT_OK;
	}
	for (size_t i = 0; i < list->count; i++)
		printf("%s\n", list->names[i]);
	return EXIT_OK;
}

static void stat_show_json(JsonWriter *j, const MgmtStatGroup *g)
{
	json_begin_object(j);
	json_key(j, "name");
	json_string(j, g->name);
	json_key(j, "fields");
	json_begin_object(j);
	for (size_t i = 0; i < g->count; i++) {
		json_key(j, g->fields[i].name);
		json_uint(j, g->fields[i].value);
	}
	json_end_object(j);
	json_end_object(j);
	json_end_line(j);
}

int cmd_stat_show(Cli *cli)
{
	_cleanup_device_ Device *d = NULL;
	_cleanup_free_ MgmtStatGroup *g = malloc(sizeof(*g));
	int width = 0, r;

	if (!g)
		return cli_fail(cli, EXIT_FAILURE_GENERIC, "out of memory");
	if (!cli->args[0][0] || strlen(cli->args[0]) >= MGMT_NAME_MAX)
		return cli_fail(cli, EXIT_USAGE, "a statistics group name has 1 to %d bytes", MGMT_NAME_MAX - 1);
	r = cli_open_device(cli, &d);
	if (r)
		return r;
	r = device_stat_show(d, cli->args[0], g);
	if (r)
		return cli_device_fail(cli, d, r);
	warn_truncated(g->truncated, "statistics");
	if (cli->json) {
		stat_show_json(&cli->json_out, g);
		return EXIT_OK;
	}
	for (size_t i = 0; i < g->count; i++)
		width = MAX(width, (int)strlen(g->fields[i].name));
	for (size_t i = 0; i < g->count; i++)
		printf("%-*s  %" PRIu64 "\n", width + 1, g->fields[i].name, g->fields[i].value);
	return EXIT_OK;
}

/* Zephyr's dummy shell backend writes "\r\n" before the output and ends lines with "\r\n"; errors come
 * in ANSI colour (VT100 escapes). On a terminal the colours stay (unless NO_COLOR); elsewhere they go. */
static void print_shell_output(const char *o, bool colour)
{
	if (strncmp(o, "\r\n", 2) == 0)
		o += 2;
	for (; *o; o++) {
		if (o[0] == '\r' && o[1] == '\n')
			continue;
		if (o[0] == '\033' && o[1] == '[' && !colour) {
			size_t n = strspn(o + 2, "0123456789;");

			if (o[2 + n]) {
				o += 2 + n;
				continue;
			}
		}
		putchar(*o);
	}
}

/* The command's return code as smpctl's exit status, as a process returning it would have it
 * (ret & 0xff: Zephyr's -ENOEXEC, "command not found", is 248), never 0 for a failure. */
static int shell_exit_code(int64_t ret)
{
	int code = (int)((uint64_t)ret & 0xff);

	return ret == 0 ? EXIT_OK : code ? code : EXIT_FAILURE_GENERIC;
}

#define SHELL_OUTPUT_MAX 65536

int cmd_shell_exec(Cli *cli)
{
	_cleanup_device_ Device *d = NULL;
	_cleanup_free_ char *output = malloc(SHELL_OUTPUT_MAX);
	MgmtShellResult res = { .output = output, .output_size = SHELL_OUTPUT_MAX };
	const char *no_colour = getenv("NO_COLOR");
	int r;

	if (!output)
		return cli_fail(cli, EXIT_FAILURE_GENERIC, "out of memory");
	r = cli_open_device(cli, &d);
	if (r)
		return r;
	r = device_shell_exec(d, cli->args, (size_t)cli->nargs, &res);
	if (r)
		return cli_device_fail(cli, d, r);
	if (cli->json) {
		json_begin_object(&cli->json_out);
		json_key(&cli->json_out, "output");
		json_string(&cli->json_out, output);
		json_key(&cli->json_out, "ret");
		json_int(&cli->json_out, res.ret);
		json_end_object(&cli->json_out);
		json_end_line(&cli->json_out);
	} else {
		print_shell_output(output, isatty(STDOUT_FILENO) && !(no_colour && no_colour[0]));
	}
	return shell_exit_code(res.ret);
}

/*
 * Without an enumeration group, ask each group one harmless question: rc 8 means it is not there
 * (mgmt_find_handler()), any other answer that it is. The Zephyr basic group has nothing harmless to
 * ask (its one command erases the settings partition): it is not probed.
 */
typedef struct Probe {
	uint16_t group;
	uint8_t op, id;
} Probe;

static const Probe probes[] = {
	{ SMP_GROUP_OS, SMP_OP_READ, SMP_OS_ECHO },          /* echo of nothing */
	{ SMP_GROUP_IMAGE, SMP_OP_READ, SMP_IMAGE_STATE },   /* image list */
	{ SMP_GROUP_STAT, SMP_OP_READ, SMP_STAT_LIST },
	{ SMP_GROUP_SETTINGS, SMP_OP_READ, 0 },              /* read without a name: rc 3 */
	{ SMP_GROUP_FS, SMP_OP_READ, 0 },                    /* download without a name: rc 3 */
	{ SMP_GROUP_SHELL, SMP_OP_WRITE, SMP_SHELL_EXEC },   /* {"argv": []}: EMPTY_COMMAND, runs nothing */
};

static int probe_group(Device *d, const Probe *p, bool *present)
{
	uint8_t body[16];
	int n = p->group == SMP_GROUP_SHELL ? mgmt_build_shell_exec(body, sizeof(body), NULL, 0)
					    : mgmt_build_empty(body, sizeof(body));
	SmpResponse rsp = { 0 };
	int r;

	if (n < 0)
		return n;
	r = device_request(d, p->op, p->group, p->id, body, (size_t)n, &rsp);
	smp_response_clear(&rsp);
	if (r < 0)
		return r;
	*present = !(r == DEVICE_STATUS_ERROR && d->status.kind == SMP_STATUS_RC && d->status.rc == SMP_RC_ENOTSUP);
	return 0;
}

static int probe_groups(Device *d, MgmtGroupList *list)
{
	*list = (MgmtGroupList){ 0 };
	for (size_t i = 0; i < ARRAY_SIZE(probes); i++) {
		bool present;
		int r = probe_group(d, &probes[i], &present);

		if (r < 0)
			return r;
		if (present)
			list->groups[list->count++].id = probes[i].group;
	}
	return 0;
}

static void groups_json(JsonWriter *j, const MgmtGroupList *list, const char *source)
{
	json_begin_object(j);
	json_key(j, "source");
	json_string(j, source);
	json_key(j, "groups");
	json_begin_array(j);
	for (size_t i = 0; i < list->count; i++) {
		const MgmtGroupInfo *g = &list->groups[i];

		json_begin_object(j);
		json_key(j, "id");
		json_uint(j, g->id);
		json_key(j, "name");
		smp_group_name(g->id) ? json_string(j, smp_group_name(g->id)) : json_null(j);
		json_key(j, "title");
		smp_group_title(g->id) ? json_string(j, smp_group_title(g->id)) : json_null(j);
		if (g->has_name) {
			json_key(j, "device_name");
			json_string(j, g->name);
		}
		if (g->has_handlers) {
			json_key(j, "handlers");
			json_uint(j, g->handlers);
		}
		json_end_object(j);
	}
	json_end_array(j);
	json_end_object(j);
	json_end_line(j);
}

static void groups_text(const MgmtGroupList *list, bool probed)
{
	for (size_t i = 0; i < list->count; i++) {
		const MgmtGroupInfo *g = &list->groups[i];
		const char *name = smp_group_name(g->id), *title = smp_group_title(g->id);

		printf("%5u  %-13s %s", g->id, name ? name : "?", title ? title : "(a group smpctl does not know)");
		if (g->has_name)
			printf(" (device: \"%s\"%s", g->name, g->has_handlers ? "" : ")");
		if (g->has_handlers)
			printf("%s%u command%s)", g->has_name ? ", " : " (", g->handlers, g->handlers == 1 ? "" : "s");
		printf("\n");
	}
	if (probed)
		printf("(the device has no enumeration group: groups found by asking each one; the Zephyr basic group "
		       "cannot be asked without erasing)\n");
}

int cmd_groups(Cli *cli)
{
	_cleanup_device_ Device *d = NULL;
	_cleanup_free_ MgmtGroupList *list = malloc(sizeof(*list));
	MgmtGroupList *details = NULL;
	bool probed = false;
	int r;

	if (!list)
		return cli_fail(cli, EXIT_FAILURE_GENERIC, "out of memory");
	r = cli_open_device(cli, &d);
	if (r)
		return r;
	r = device_enum_list(d, list);
	if (r == DEVICE_STATUS_ERROR && d->status.kind == SMP_STATUS_RC && d->status.rc == SMP_RC_ENOTSUP) {
		probed = true;
		r = probe_groups(d, list);
	} else if (r == 0) {
		/* Names and command counts when the firmware has CONFIG_MCUMGR_GRP_ENUM_DETAILS. */
		details = malloc(sizeof(*details));
		if (details && device_enum_details(d, details) == 0 && details->count)
			*list = *details;
		free(details);
	}
	if (r)
		return cli_device_fail(cli, d, r);
	warn_truncated(list->truncated, "groups");
	if (cli->json)
		groups_json(&cli->json_out, list, probed ? "probe" : "enumeration");
	else
		groups_text(list, probed);
	return EXIT_OK;
}
