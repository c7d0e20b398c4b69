/* SPDX-License-Identifier: MIT */
/*
 * Settings group (3) commands: settings read, write, delete, commit, load, save. What settings_mgmt reads
 * and writes is the running application's value (settings_runtime_get/set through its handler); save
 * stores every handler's values, load reads them back, delete removes one from storage only
 * (settings_delete()), commit runs the handlers' commit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "settings-value.h"
#include "smp.h"
#include "util.h"

#define _cleanup_device_ _cleanup_(device_freep)

/* --type, hex when absent (raw bytes: every value reads back as it is). */
static int settings_cli_type(Cli *cli, SettingsType *type)
{
	*type = SETTINGS_TYPE_HEX;
	if (cli->value_type && settings_type_parse(cli->value_type, type) < 0)
		return cli_fail(cli, EXIT_USAGE, "--type takes hex, string, int or uint, not '%s'", cli->value_type);
	return 0;
}

/* Empty names are settings_mgmt's rc 3; longer ones than MGMT_SETTINGS_NAME_MAX no device takes. */
static int settings_cli_name(Cli *cli, const char *name)
{
	if (!name[0] || strlen(name) >= MGMT_SETTINGS_NAME_MAX)
		return cli_fail(cli, EXIT_USAGE, "a settings name has 1 to %d bytes, such as 'bt/name'",
				MGMT_SETTINGS_NAME_MAX - 1);
	return 0;
}

static void settings_read_json(Cli *cli, const char *name, SettingsType type, const char *text,
			       const MgmtSettingsValue *v, bool maybe_cut)
{
	JsonWriter *j = &cli->json_out;

	json_begin_object(j);
	json_key(j, "name"); json_string(j, name);
	json_key(j, "type"); json_string(j, settings_type_name(type));
	json_key(j, "value"); json_string(j, text);
	json_key(j, "hex"); json_hex(j, v->val, v->len);
	json_key(j, "len"); json_uint(j, v->len);
	if (v->has_max_size) {
		json_key(j, "max_size");
		json_uint(j, v->max_size);
	}
	json_key(j, "maybe_cut"); json_bool(j, maybe_cut);
	json_end_object(j);
	json_end_line(j);
}

int cmd_settings_read(Cli *cli)
{
	_cleanup_device_ Device *d = NULL;
	_cleanup_free_ MgmtSettingsValue *v = malloc(sizeof(*v));
	_cleanup_free_ char *text = malloc(4 * MGMT_SETTINGS_VALUE_MAX + 1);
	const char *name = cli->args[0];
	SettingsType type;
	bool maybe_cut;
	int r;

	if (!v || !text)
		return cli_fail(cli, EXIT_FAILURE_GENERIC, "out of memory");
	r = settings_cli_type(cli, &type);
	if (!r)
		r = settings_cli_name(cli, name);
	if (!r)
		r = cli_open_device(cli, &d);
	if (r)
		return r;
	r = device_settings_read(d, name, v);
	if (r)
		return cli_device_fail(cli, d, r);
	if (settings_value_format(type, v->val, v->len, text, 4 * MGMT_SETTINGS_VALUE_MAX + 1) < 0)
		return cli_fail(cli, EXIT_FAILURE_GENERIC, "%s holds %zu bytes, not an integer of 1, 2, 4 or 8: "
				"read it with --type hex", name, v->len);
	/* settings_mgmt_read() reads at most its CONFIG_MCUMGR_GRP_SETTINGS_VALUE_LEN and says so only
	 * through "max_size": a value that fills it may be longer on the device. */
	maybe_cut = v->has_max_size && v->len >= v->max_size;
	if (maybe_cut)
		fprintf(stderr, "smpctl: warning: the device reads at most %u bytes of a value "
			"(CONFIG_MCUMGR_GRP_SETTINGS_VALUE_LEN): %s may be longer\n", v->max_size, name);
	if (cli->json)
		settings_read_json(cli, name, type, text, v, maybe_cut);
	else
		printf("%s\n", text);
	return EXIT_OK;
}

static int settings_parse_value(Cli *cli, SettingsType type, const char *text, uint8_t *val, size_t *len)
{
	unsigned width = cli->value_width ? cli->value_width : 4;
	int r = settings_value_parse(type, width, text, val, MGMT_SETTINGS_VALUE_MAX, len);

	switch (r) {
	case 0:
		return 0;
	case -ERANGE:
		return cli_fail(cli, EXIT_USAGE, "%s does not fit a %s of %u bytes (--width)", text,
				settings_type_name(type), width);
	case -EMSGSIZE:
		return cli_fail(cli, EXIT_USAGE, "the value is longer than %d bytes", MGMT_SETTINGS_VALUE_MAX);
	default:
		if (type == SETTINGS_TYPE_HEX)
			return cli_fail(cli, EXIT_USAGE, "'%s' is not hex bytes (such as 0a1b2c or 0a:1b:2c); "
					"--type string writes text", text);
		return cli_fail(cli, EXIT_USAGE, "'%s' is not a%s integer (a negative one goes after --: "
				"settings write NAME -- -5)", text, type == SETTINGS_TYPE_UINT ? "n unsigned" : "");
	}
}

/* The request must fit the device's SMP buffer (MCUmgr params): settings_mgmt has no other limit on a
 * written value, the application's handler refuses what it cannot hold. Beside the name and the value
 * the body takes at most 16 bytes: the map head, the keys "name" and "val" (5 + 4) and two heads of up
 * to 3 bytes (lengths below 65536). */
static int settings_check_fits(Cli *cli, Device *d, const char *name, size_t len)
{
	size_t need = SMP_HEADER_SIZE + 16 + strlen(name) + len;
	int r = device_learn_limits(d);

	if (r)
		return cli_device_fail(cli, d, r);
	if (need > d->frame_size)
		return cli_fail(cli, EXIT_USAGE, "a %zu-byte value does not fit the device's SMP buffer of %zu bytes",
				len, d->frame_size);
	return 0;
}

int cmd_settings_write(Cli *cli)
{
	_cleanup_device_ Device *d = NULL;
	_cleanup_free_ uint8_t *val = malloc(MGMT_SETTINGS_VALUE_MAX);
	const char *name = cli->args[0];
	SettingsType type;
	size_t len = 0;
	int r;

	if (!val)
		return cli_fail(cli, EXIT_FAILURE_GENERIC, "out of memory");
	r = settings_cli_type(cli, &type);
	if (!r)
		r = settings_cli_name(cli, name);
	if (!r)
		r = settings_parse_value(cli, type, cli->args[1], val, &len);
	if (!r)
		r = cli_open_device(cli, &d);
	if (!r)
		r = settings_check_fits(cli, d, name, len);
	if (r)
		return r;
	r = device_settings_write(d, name, val, len);
	if (r)
		return cli_device_fail(cli, d, r);
	if (cli->json) {
		json_begin_object(&cli->json_out);
		json_key(&cli->json_out, "name"); json_string(&cli->json_out, name);
		json_key(&cli->json_out, "written"); json_uint(&cli->json_out, len);
		json_end_object(&cli->json_out);
		json_end_line(&cli->json_out);
	} else {
		printf("%s: %zu bytes written to the running application ('smpctl settings save' stores them)\n",
		       name, len);
	}
	return EXIT_OK;
}

int cmd_settings_delete(Cli *cli)
{
	_cleanup_device_ Device *d = NULL;
	const char *name = cli->args[0];
	int r = settings_cli_name(cli, name);

	if (!r)
		r = cli_open_device(cli, &d);
	if (r)
		return r;
	r = device_settings_delete(d, name);
	if (r)
		return cli_device_fail(cli, d, r);
	if (cli->json) {
		json_begin_object(&cli->json_out);
		json_key(&cli->json_out, "name"); json_string(&cli->json_out, name);
		json_key(&cli->json_out, "deleted"); json_bool(&cli->json_out, true);
		json_end_object(&cli->json_out);
		json_end_line(&cli->json_out);
	} else {
		/* settings_delete() removes the stored value (nothing stored is no error); the handler's copy
		 * in RAM stays until the application restarts. */
		printf("%s: deleted from storage (the running application keeps its value until it restarts)\n", name);
	}
	return EXIT_OK;
}

typedef struct SettingsAction {
	int (*call)(Device *d);
	const char *json_key;
	const char *done;
} SettingsAction;

static int settings_run(Cli *cli, const SettingsAction *a)
{
	_cleanup_device_ Device *d = NULL;
	int r = cli_open_device(cli, &d);

	if (r)
		return r;
	r = a->call(d);
	if (r)
		return cli_device_fail(cli, d, r);
	if (cli->json) {
		json_begin_object(&cli->json_out);
		json_key(&cli->json_out, a->json_key);
		json_bool(&cli->json_out, true);
		json_end_object(&cli->json_out);
		json_end_line(&cli->json_out);
	} else {
		printf("%s\n", a->done);
	}
	return EXIT_OK;
}

int cmd_settings_commit(Cli *cli)
{
	return settings_run(cli, &(SettingsAction){ device_settings_commit, "committed",
		"Committed: the application's settings handlers applied their values" });
}

int cmd_settings_load(Cli *cli)
{
	return settings_run(cli, &(SettingsAction){ device_settings_load, "loaded",
		"Loaded: the stored values were handed to the application, then committed" });
}

int cmd_settings_save(Cli *cli)
{
	return settings_run(cli, &(SettingsAction){ device_settings_save, "saved",
		"Saved: the application's values are in storage" });
}
