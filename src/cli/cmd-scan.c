/* SPDX-License-Identifier: MIT */
/* scan: SMP-capable Bluetooth LE devices nearby, for --timeout seconds. */
#include <stdio.h>
#include <stdlib.h>

#include "ble.h"
#include "cli.h"
#include "util.h"

static int scan(Cli *cli, BleScanResult *found, size_t max, size_t *count)
{
	char err[320] = "";
	int r = ble_scan(cli->event, cli->transport.adapter, cli->timeout_usec, found, max, count, err, sizeof(err));

	if (r < 0)
		return cli_fail(cli, EXIT_TRANSPORT, "%s", err);
	return 0;
}

int cmd_scan(Cli *cli)
{
	BleScanResult found[64];
	size_t count = 0;
	int r = scan(cli, found, ARRAY_SIZE(found), &count);

	if (r)
		return r;
	if (cli->json) {
		json_begin_object(&cli->json_out);
		json_key(&cli->json_out, "devices");
		json_begin_array(&cli->json_out);
		for (size_t i = 0; i < count; i++) {
			json_begin_object(&cli->json_out);
			json_key(&cli->json_out, "address"); json_string(&cli->json_out, found[i].address);
			json_key(&cli->json_out, "name"); json_string(&cli->json_out, found[i].name);
			json_key(&cli->json_out, "rssi");
			if (found[i].has_rssi)
				json_int(&cli->json_out, found[i].rssi);
			else
				json_null(&cli->json_out);
			json_end_object(&cli->json_out);
		}
		json_end_array(&cli->json_out);
		json_end_object(&cli->json_out);
		json_end_line(&cli->json_out);
		return EXIT_OK;
	}
	if (count == 0) {
		fprintf(stderr, "No SMP devices found (is the device advertising the SMP service?)\n");
		return EXIT_OK;
	}
	printf("%-17s  %-5s  %s\n", "ADDRESS", "RSSI", "NAME");
	for (size_t i = 0; i < count; i++) {
		char rssi[8] = "-";

		if (found[i].has_rssi)
			snprintf(rssi, sizeof(rssi), "%d", found[i].rssi);
		printf("%-17s  %-5s  %s\n", found[i].address, rssi, found[i].name);
	}
	return EXIT_OK;
}

/* For --device completion: the devices a short scan finds, then the address prefixes. */
int cmd_complete_devices(Cli *cli)
{
	const char *const *schemes = transport_schemes();
	BleScanResult found[32];
	size_t count = 0;

	cli->quiet = true;
	if (getenv("SMPCTL_DEVICE"))
		printf("%s\n", getenv("SMPCTL_DEVICE"));
	if (scan(cli, found, ARRAY_SIZE(found), &count) == 0)
		for (size_t i = 0; i < count; i++)
			printf("ble:%s\n", found[i].address);
	for (size_t i = 0; schemes[i]; i++)
		printf("%s:\n", schemes[i]);
	return EXIT_OK;
}
