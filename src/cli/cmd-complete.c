/* SPDX-License-Identifier: MIT */
/* complete devices|hashes|stats|commands: candidates for the shell completions, one per line, quiet on
 * failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

static int complete_hashes(Cli *cli)
{
	_cleanup_(device_freep) Device *d = NULL;
	MgmtImageList list;
	int r;

	/* Completion must not print errors into the user's command line. */
	cli->quiet = true;
	cli->json = false;
	r = cli_open_device(cli, &d);
	if (r == 0 && device_image_list(d, &list) == 0)
		for (size_t i = 0; i < list.count; i++) {
			char hash[2 * MGMT_HASH_MAX + 1];

			printf("%s\n", hex_encode(list.slots[i].hash, list.slots[i].hash_len, hash));
		}
	return EXIT_OK;
}

/* The device's statistics groups, for 'stat show'. */
static int complete_stats(Cli *cli)
{
	_cleanup_(device_freep) Device *d = NULL;
	_cleanup_free_ MgmtStatList *list = malloc(sizeof(*list));

	cli->quiet = true;
	cli->json = false;
	if (list && cli_open_device(cli, &d) == 0 && device_stat_list(d, list) == 0)
		for (size_t i = 0; i < list->count; i++)
			printf("%s\n", list->names[i]);
	return EXIT_OK;
}

int cmd_complete(Cli *cli)
{
	const char *what = cli->args[0];

	if (strcmp(what, "commands") == 0) {
		cli_print_verbs();
		return EXIT_OK;
	}
	if (strcmp(what, "hashes") == 0)
		return complete_hashes(cli);
	if (strcmp(what, "devices") == 0)
		return cmd_complete_devices(cli);
	if (strcmp(what, "stats") == 0)
		return complete_stats(cli);
	return cli_fail(cli, EXIT_USAGE, "complete takes devices, hashes, stats or commands, not '%s'", what);
}
