/* SPDX-License-Identifier: MIT */
/*
 * provision: what a factory line does to each board of a devices file (ISSUE-NOTES 31), idempotently:
 * the image (dfu: nothing is sent when it already runs confirmed), then the settings its line names
 * (each read first and written only when it differs, then saved once), then the files (fs upload, which
 * sends nothing when the device's hash already matches). A rerun changes nothing that is already right.
 * The steps share one link (Cli.keep_device): over Bluetooth every connection costs seconds.
 * Each step is a line on stderr, or a JSON line with the device and the step.
 *
 * Words of a devices-file line (smpctl(1) RACKS): set:NAME=[TYPE:]VALUE with TYPE string (the default),
 * hex, int8..int64 or uint8..uint64; file:REMOTE=LOCAL.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli-progress.h"
#include "cli.h"
#include "settings-value.h"
#include "util.h"

typedef struct ProvisionValue {
	char name[MGMT_SETTINGS_NAME_MAX];
	uint8_t val[MGMT_SETTINGS_VALUE_MAX];
	size_t len;
} ProvisionValue;

/* "uint16:5" → SETTINGS_TYPE_UINT, width 2, "5"; no known type before ':' → a string as it is. */
static const char *value_type(const char *text, SettingsType *type, unsigned *width)
{
	static const struct {
		const char *prefix;
		SettingsType type;
		unsigned width;
	} types[] = {
		{ "string:", SETTINGS_TYPE_STRING, 0 }, { "hex:", SETTINGS_TYPE_HEX, 0 },
		{ "int8:", SETTINGS_TYPE_INT, 1 }, { "int16:", SETTINGS_TYPE_INT, 2 }, { "int32:", SETTINGS_TYPE_INT, 4 },
		{ "int64:", SETTINGS_TYPE_INT, 8 }, { "uint8:", SETTINGS_TYPE_UINT, 1 }, { "uint16:", SETTINGS_TYPE_UINT, 2 },
		{ "uint32:", SETTINGS_TYPE_UINT, 4 }, { "uint64:", SETTINGS_TYPE_UINT, 8 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (strncmp(text, types[i].prefix, strlen(types[i].prefix)) == 0) {
			*type = types[i].type;
			*width = types[i].width;
			return text + strlen(types[i].prefix);
		}
	*type = SETTINGS_TYPE_STRING;
	*width = 0;
	return text;
}

/* "set:NAME=[TYPE:]VALUE" into v. */
static int parse_setting(Cli *cli, const char *word, ProvisionValue *v)
{
	const char *eq = strchr(word + 4, '=');
	SettingsType type;
	unsigned width;
	const char *text;
	size_t name_len = eq ? (size_t)(eq - word - 4) : 0;

	if (!eq || name_len == 0 || name_len >= sizeof(v->name))
		return cli_fail(cli, EXIT_USAGE, "'%s' is not set:NAME=[TYPE:]VALUE (such as set:prov/serial=SN-0001)", word);
	memcpy(v->name, word + 4, name_len);
	v->name[name_len] = '\0';
	text = value_type(eq + 1, &type, &width);
	if (settings_value_parse(type, width ? width : 4, text, v->val, sizeof(v->val), &v->len) < 0)
		return cli_fail(cli, EXIT_USAGE, "'%s': '%s' is not a %s value", word, text, settings_type_name(type));
	return 0;
}

/* The device already holds exactly these bytes under the name (a name it lacks reads as different). */
static int setting_differs(Cli *cli, Device *d, const ProvisionValue *v, bool *differs)
{
	_cleanup_free_ MgmtSettingsValue *now = malloc(sizeof(*now));
	int r;

	if (!now)
		return cli_fail(cli, EXIT_FAILURE_GENERIC, "out of memory");
	r = device_settings_read(d, v->name, now);
	if (r == DEVICE_STATUS_ERROR && d->status.kind == SMP_STATUS_GROUP && d->status.group == SMP_GROUP_SETTINGS) {
		*differs = true; /* not there yet (KEY_NOT_FOUND), or the handler cannot read it back */
		return 0;
	}
	if (r)
		return cli_device_fail(cli, d, r);
	*differs = now->len != v->len || memcmp(now->val, v->val, v->len) != 0;
	return 0;
}

static int provision_settings(Cli *cli, char **words, size_t count)
{
	_cleanup_(device_freep) Device *d = NULL;
	_cleanup_free_ ProvisionValue *v = malloc(sizeof(*v));
	unsigned written = 0;
	int r = 0;

	if (!v)
		return cli_fail(cli, EXIT_FAILURE_GENERIC, "out of memory");
	for (size_t i = 0; i < count && !r; i++) {
		bool differs = false;

		if (strncmp(words[i], "set:", 4) != 0)
			continue;
		r = parse_setting(cli, words[i], v);
		if (!r && !d)
			r = cli_open_device(cli, &d);
		if (!r)
			r = setting_differs(cli, d, v, &differs);
		if (r)
			break;
		if (!differs) {
			cli_event(cli, "state", "setting", "%s already holds the value: left as it is", v->name);
			continue;
		}
		r = device_settings_write(d, v->name, v->val, v->len);
		if (r)
			return cli_device_fail(cli, d, r);
		written++;
		cli_event(cli, "state", "setting", "%s written (%zu bytes)", v->name, v->len);
	}
	if (r || !written)
		return r;
	/* Written values live in RAM until saved: a reset before this would lose them. */
	r = device_settings_save(d);
	if (r)
		return cli_device_fail(cli, d, r);
	cli_event(cli, "state", "settings-save", "%u value%s saved to the device's settings storage", written,
		  written == 1 ? "" : "s");
	return 0;
}

/* file:REMOTE=LOCAL, each through fs upload (which checks the device's hash first). */
static int provision_files(Cli *cli, char **words, size_t count)
{
	char **args = cli->args;
	int nargs = cli->nargs, r = 0;

	for (size_t i = 0; i < count && !r; i++) {
		char *pair[2], *eq;

		if (strncmp(words[i], "file:", 5) != 0)
			continue;
		eq = strchr(words[i] + 5, '=');
		if (!eq || eq == words[i] + 5 || !eq[1])
			return cli_fail(cli, EXIT_USAGE, "'%s' is not file:REMOTE=LOCAL", words[i]);
		*eq = '\0';
		pair[0] = eq + 1;
		pair[1] = words[i] + 5;
		cli->args = pair;
		cli->nargs = 2;
		cli_event(cli, "state", "file", "%s from %s", pair[1], pair[0]);
		r = cmd_fs_upload(cli);
		*eq = '=';
	}
	cli->args = args;
	cli->nargs = nargs;
	return r;
}

int cmd_provision(Cli *cli)
{
	_cleanup_free_ char *copy = cli->rack_words ? strdup(cli->rack_words) : NULL;
	char *words[64], *save = NULL;
	size_t count = 0;
	int r;

	if (cli->rack_words && !copy)
		return cli_fail(cli, EXIT_FAILURE_GENERIC, "out of memory");
	if (!cli->rack_words && cli->nargs == 0)
		return cli_fail(cli, EXIT_USAGE, "provision takes its steps from a devices file: --devices FILE, one line "
				"per device with image=, set:NAME=VALUE and file:REMOTE=LOCAL (smpctl(1) RACKS)");
	for (char *w = copy ? strtok_r(copy, "\t", &save) : NULL; w && count < ARRAY_SIZE(words);
	     w = strtok_r(NULL, "\t", &save))
		words[count++] = w;
	/* One link for every step: the first that needs the device opens it, the others take it over. */
	cli->keep_device = true;
	r = cli->nargs > 0 ? cmd_dfu(cli) : 0;
	if (!r)
		r = provision_settings(cli, words, count);
	if (!r)
		r = provision_files(cli, words, count);
	if (!r)
		cli_event(cli, "state", "provisioned", "Provisioned: image, settings and files as the devices file says");
	cli->keep_device = false;
	device_free(cli->kept);
	cli->kept = NULL;
	return r;
}
