/* SPDX-License-Identifier: MIT */
/* OS group and Zephyr-basic commands: echo, reset, params, info, datetime, settings erase. */
#include <string.h>

#include "cli.h"
#include "firmware-kind.h"
#include "util.h"

#define _cleanup_device_ _cleanup_(device_freep)

int cmd_echo(Cli *cli)
{
	_cleanup_device_ Device *d = NULL;
	char back[600];
	int r;

	if (strlen(cli->args[0]) > 512)
		return cli_fail(cli, EXIT_USAGE, "echo text is longer than 512 bytes");
	r = cli_open_device(cli, &d);
	if (r)
		return r;
	r = device_echo(d, cli->args[0], back, sizeof(back));
	if (r)
		return cli_device_fail(cli, d, r);
	if (cli->json) {
		json_line_string(&cli->json_out, "echo", back);
	} else {
		printf("%s\n", back);
	}
	return EXIT_OK;
}

int cmd_reset(Cli *cli)
{
	_cleanup_device_ Device *d = NULL;
	int r = cli_open_device(cli, &d);

	if (r)
		return r;
	r = device_reset(d, cli->force);
	if (r)
		return cli_device_fail(cli, d, r);
	if (cli->json) {
		json_begin_object(&cli->json_out);
		json_key(&cli->json_out, "reset");
		json_bool(&cli->json_out, true);
		json_key(&cli->json_out, "answer_lost");
		json_bool(&cli->json_out, d->reset_answer_lost);
		json_end_object(&cli->json_out);
		json_end_line(&cli->json_out);
	} else {
		printf("Reset requested: the device restarts now%s.\n",
		       d->reset_answer_lost ? " (its answer was lost as it went)" : "");
	}
	return EXIT_OK;
}

int cmd_params(Cli *cli)
{
	_cleanup_device_ Device *d = NULL;
	MgmtParams p;
	int r = cli_open_device(cli, &d);

	if (r)
		return r;
	r = device_params(d, &p);
	if (r)
		return cli_device_fail(cli, d, r);
	if (cli->json) {
		json_begin_object(&cli->json_out);
		json_key(&cli->json_out, "buf_size");
		json_uint(&cli->json_out, p.buf_size);
		json_key(&cli->json_out, "buf_count");
		json_uint(&cli->json_out, p.buf_count);
		json_end_object(&cli->json_out);
		json_end_line(&cli->json_out);
	} else {
		printf("buf_size:  %u bytes\nbuf_count: %u\n", p.buf_size, p.buf_count);
	}
	return EXIT_OK;
}

static void info_json(Cli *cli, const char *os, int boot_r, const MgmtBootloaderInfo *b)
{
	JsonWriter *j = &cli->json_out;

	json_begin_object(j);
	json_key(j, "os");
	json_string(j, os);
	json_key(j, "bootloader");
	if (boot_r != 0) {
		json_null(j);
	} else {
		json_begin_object(j);
		json_key(j, "name");
		json_string(j, b->bootloader);
		if (b->has_mode) {
			json_key(j, "mode");
			json_int(j, b->mode);
			json_key(j, "mode_name");
			json_string(j, mgmt_bootloader_mode_name(b->mode));
		}
		if (b->has_no_downgrade) {
			json_key(j, "no_downgrade");
			json_bool(j, b->no_downgrade);
		}
		json_end_object(j);
	}
	/* MCUboot's serial recovery has no OS info: whoever answers it is the application */
	json_key(j, "firmware");
	json_string(j, "application");
	json_end_object(j);
	json_end_line(j);
}

/* No OS info (rc 8): an application built without it, or MCUboot's serial recovery? Ask around. */
static int info_firmware_kind(Cli *cli, Device *d)
{
	FirmwareProbe probe;
	FirmwareKind kind;
	char why[512];
	int r = firmware_probe(d, &probe);

	if (r < 0)
		return cli_device_fail(cli, d, r);
	kind = firmware_kind(&probe, why, sizeof(why));
	if (cli->json) {
		JsonWriter *j = &cli->json_out;

		json_begin_object(j);
		json_key(j, "os");
		json_null(j);
		json_key(j, "firmware");
		json_string(j, firmware_kind_name(kind));
		json_key(j, "evidence");
		json_string(j, why);
		json_end_object(j);
		json_end_line(j);
		return EXIT_OK;
	}
	printf("OS:         not reported by this firmware\n");
	printf("Firmware:   %s: %s\n", firmware_kind_name(kind), why);
	return EXIT_OK;
}

int cmd_info(Cli *cli)
{
	_cleanup_device_ Device *d = NULL;
	MgmtBootloaderInfo boot = { 0 };
	char os[512];
	int r, boot_r;

	r = cli_open_device(cli, &d);
	if (r)
		return r;
	r = device_os_info(d, cli->format ? cli->format : "a", os, sizeof(os));
	if (r == DEVICE_STATUS_ERROR && d->status.kind == SMP_STATUS_RC && d->status.rc == SMP_RC_ENOTSUP && !cli->format)
		return info_firmware_kind(cli, d);
	if (r)
		return cli_device_fail(cli, d, r);
	boot_r = device_bootloader_info(d, &boot);
	if (boot_r < 0)
		return cli_device_fail(cli, d, boot_r);
	if (cli->json) {
		info_json(cli, os, boot_r, &boot);
		return EXIT_OK;
	}
	printf("OS:         %s\n", os);
	if (boot_r != 0)
		printf("Bootloader: not reported by this firmware\n");
	else if (boot.has_mode)
		printf("Bootloader: %s (%s%s)\n", boot.bootloader, mgmt_bootloader_mode_name(boot.mode),
		       boot.has_no_downgrade && boot.no_downgrade ? ", no downgrade" : "");
	else
		printf("Bootloader: %s\n", boot.bootloader);
	printf("Firmware:   application (it answers OS info, which MCUboot's serial recovery does not have)\n");
	return EXIT_OK;
}

int cmd_datetime(Cli *cli)
{
	_cleanup_device_ Device *d = NULL;
	char when[64];
	int r = cli_open_device(cli, &d);

	if (r)
		return r;
	r = device_datetime_get(d, when, sizeof(when));
	if (r)
		return cli_device_fail(cli, d, r);
	if (cli->json) {
		json_line_string(&cli->json_out, "datetime", when);
	} else {
		printf("%s\n", when);
	}
	return EXIT_OK;
}

int cmd_settings_erase(Cli *cli)
{
	_cleanup_device_ Device *d = NULL;
	int r = cli_open_device(cli, &d);

	if (r)
		return r;
	r = device_storage_erase(d);
	if (r)
		return cli_device_fail(cli, d, r);
	if (cli->json) {
		json_begin_object(&cli->json_out);
		json_key(&cli->json_out, "settings_erased");
		json_bool(&cli->json_out, true);
		json_end_object(&cli->json_out);
		json_end_line(&cli->json_out);
	} else {
		printf("Settings erased (Bluetooth bonds included): the device forgets them at its next reset.\n");
	}
	return EXIT_OK;
}
