/* SPDX-License-Identifier: MIT */
/*
 * smpctl [OPTIONS] COMMAND [ARGS]: parse the options (before or after the command, as busctl accepts
 * them), pick the command from the table, run it on one sd-event loop.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ble.h"
#include "cli.h"
#include "log.h"
#include "util.h"

#define SMPCTL_VERSION "0.1.0"

typedef struct Verb {
	const char *name;     /* "image upload" */
	int min_args, max_args;
	int (*run)(Cli *cli);
	const char *usage;
	bool changes_device;  /* holds the device's lock (lock.c) */
	bool rack;            /* runs on every device of a rack (cmd-rack.c) */
	bool no_device;       /* talks to no device: its JSON lines name none */
} Verb;

static const Verb verbs[] = {
	{ "echo", 1, 1, cmd_echo, "echo TEXT", false, true },
	{ "reset", 0, 0, cmd_reset, "reset [--force]", true, true },
	{ "params", 0, 0, cmd_params, "params" },
	{ "info", 0, 0, cmd_info, "info [--format LETTERS]" },
	{ "datetime", 0, 0, cmd_datetime, "datetime" },
	{ "datetime set", 0, 1, cmd_datetime_set, "datetime set [now|TIME]", true },
	{ "taskstat", 0, 0, cmd_taskstat, "taskstat" },
	{ "mpstat", 0, 0, cmd_mpstat, "mpstat" },
	{ "bootloader info", 0, 0, cmd_bootloader_info, "bootloader info" },
	{ "stat list", 0, 0, cmd_stat_list, "stat list" },
	{ "stat show", 1, 1, cmd_stat_show, "stat show NAME" },
	{ "shell exec", 1, 64, cmd_shell_exec, "shell exec -- COMMAND [ARGS...]", true },
	{ "groups", 0, 0, cmd_groups, "groups" },
	{ "fs upload", 2, 2, cmd_fs_upload, "fs upload LOCAL REMOTE [--force] [--window N] [--frame-size N]", true },
	{ "fs download", 2, 2, cmd_fs_download, "fs download REMOTE LOCAL [--window N]" },
	{ "fs stat", 1, 1, cmd_fs_stat, "fs stat REMOTE" },
	{ "fs hash", 1, 2, cmd_fs_hash, "fs hash REMOTE [sha256|crc32]" },
	{ "fs types", 0, 0, cmd_fs_types, "fs types" },
	{ "fs close", 0, 0, cmd_fs_close, "fs close" },
	{ "settings erase", 0, 0, cmd_settings_erase, "settings erase", true },
	{ "settings read", 1, 1, cmd_settings_read, "settings read NAME [--type hex|string|int|uint]" },
	{ "settings write", 2, 2, cmd_settings_write,
	  "settings write NAME VALUE [--type hex|string|int|uint] [--width 1|2|4|8]", true },
	{ "settings delete", 1, 1, cmd_settings_delete, "settings delete NAME", true },
	{ "settings commit", 0, 0, cmd_settings_commit, "settings commit", true },
	{ "settings load", 0, 0, cmd_settings_load, "settings load", true },
	{ "settings save", 0, 0, cmd_settings_save, "settings save", true },
	{ "image list", 0, 0, cmd_image_list, "image list [--image N]", false, true },
	{ "image slots", 0, 0, cmd_image_slots, "image slots [--image N]" },
	{ "image info", 1, 1, cmd_image_info, "image info FILE [--key PUB.pem]", false, false, true },
	/* ISSUE-NOTES 30: the verb the product is known by on a workstation, the same as "image upload". */
	{ "upload", 1, 1, cmd_image_upload,
	  "upload FILE [--image N] [--key PUB.pem] [--window N] [--frame-size N] [--force] [--upgrade]", true, true },
	{ "image upload", 1, 1, cmd_image_upload,
	  "image upload FILE [--image N] [--key PUB.pem] [--window N] [--frame-size N] [--force] [--upgrade]", true, true },
	{ "image test", 0, 1, cmd_image_test, "image test [HASH] [--image N]", true },
	{ "image confirm", 0, 1, cmd_image_confirm, "image confirm [HASH] [--image N]", true },
	{ "image erase", 0, 1, cmd_image_erase, "image erase [--slot S] [--image N]", true },
	{ "scan", 0, 0, cmd_scan, "scan [--timeout S] [--adapter HCI]", false, false, true },
	{ "doctor", 0, 0, cmd_doctor, "doctor [--device ADDR] [--adapter HCI]" },
	{ "complete", 1, 1, cmd_complete, "complete devices|hashes|stats|commands", false, false, true },
	{ "dfu", 1, 1, cmd_dfu,
	  "dfu FILE [--mode test-and-confirm|confirm-only|test-only|upload-only] [--key PUB.pem] [--erase-settings]"
	  " [--erase-ahead] [--allow-downgrade]", true, true },
	{ "provision", 0, 1, cmd_provision, "provision [FILE] --devices DEVICES (image, settings, files per device)",
	  true, true },
};

enum {
	OPT_VERSION = 0x100,
	OPT_ADAPTER,
	OPT_SMP_VERSION,
	OPT_RESET_TIMEOUT,
	OPT_WINDOW,
	OPT_FRAME_SIZE,
	OPT_FORCE,
	OPT_UPGRADE,
	OPT_IMAGE,
	OPT_KEY,
	OPT_MODE,
	OPT_FORMAT,
	OPT_ERASE_SETTINGS,
	OPT_REQUIRE_ERASE_SETTINGS,
	OPT_ERASE_AHEAD,
	OPT_PASSKEY,
	OPT_DEFAULT_AGENT,
	OPT_TRIES,
	OPT_SCAN_TIMEOUT,
	OPT_DEVICES,
	OPT_PARALLEL,
	OPT_LINKS_PER_ADAPTER,
	OPT_DEADLINE,
	OPT_ALLOW_DOWNGRADE,
	OPT_TYPE,
	OPT_WIDTH,
	OPT_SLOT,
};

#define SHORT_OPTIONS "d:jt:vqh"

static const struct option options[] = {
	{ "device", required_argument, NULL, 'd' },
	{ "devices", required_argument, NULL, OPT_DEVICES },
	{ "parallel", required_argument, NULL, OPT_PARALLEL },
	{ "links-per-adapter", required_argument, NULL, OPT_LINKS_PER_ADAPTER },
	{ "deadline", required_argument, NULL, OPT_DEADLINE },
	{ "json", no_argument, NULL, 'j' },
	{ "timeout", required_argument, NULL, 't' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "adapter", required_argument, NULL, OPT_ADAPTER },
	{ "smp-version", required_argument, NULL, OPT_SMP_VERSION },
	{ "reset-timeout", required_argument, NULL, OPT_RESET_TIMEOUT },
	{ "tries", required_argument, NULL, OPT_TRIES },
	{ "scan-timeout", required_argument, NULL, OPT_SCAN_TIMEOUT },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ "frame-size", required_argument, NULL, OPT_FRAME_SIZE },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "upgrade", no_argument, NULL, OPT_UPGRADE },
	{ "image", required_argument, NULL, OPT_IMAGE },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "erase-settings", no_argument, NULL, OPT_ERASE_SETTINGS },
	{ "require-erase-settings", no_argument, NULL, OPT_REQUIRE_ERASE_SETTINGS },
	{ "erase-ahead", no_argument, NULL, OPT_ERASE_AHEAD },
	{ "allow-downgrade", no_argument, NULL, OPT_ALLOW_DOWNGRADE },
	{ "passkey", required_argument, NULL, OPT_PASSKEY },
	{ "default-agent", no_argument, NULL, OPT_DEFAULT_AGENT },
	{ "type", required_argument, NULL, OPT_TYPE },
	{ "width", required_argument, NULL, OPT_WIDTH },
	{ "slot", required_argument, NULL, OPT_SLOT },
	{}
};

void cli_print_verbs(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		printf("%s\n", verbs[i].name);
}

static void print_help(void)
{
	printf("Usage: smpctl [OPTIONS] COMMAND [ARGS]\n\n"
	       "Manage and update Zephyr/MCUboot devices over MCUmgr's SMP protocol.\n\nCommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		printf("  %s\n", verbs[i].usage);
	printf("\nOptions:\n"
	       "  -d, --device ADDR      ble:AA:BB:CC:DD:EE:FF, ble:name=NAME, udp:HOST[:PORT] (port 1337),\n"
	       "                         udp:[IPV6]:PORT (default $SMPCTL_DEVICE); more than once for a rack\n"
	       "      --devices FILE     a rack: one device per line, ADDR [image=F] [key=F] [mode=M] [adapter=HCI]\n"
	       "                         [passkey=N] [label=TEXT]\n"
	       "      --parallel K       a rack: at most K devices at once (default: all; 7 per Bluetooth adapter)\n"
	       "      --links-per-adapter N  a rack: at most N links through one Bluetooth adapter (default 7)\n"
	       "      --deadline S       bound each device's whole command to S seconds (exit 4 when passed)\n"
	       "  -j, --json             JSON on stdout (JSON lines for upload and dfu)\n"
	       "  -t, --timeout S        seconds to wait for each answer (default 5)\n"
	       "      --tries N          send a read whose answer is lost up to N times (default 3)\n"
	       "      --reset-timeout S  seconds to wait for a device to come back after a reset (default 90)\n"
	       "      --scan-timeout S   seconds to look for a Bluetooth device BlueZ does not know yet\n"
	       "                         (default 30)\n"
	       "      --adapter HCI      Bluetooth adapter to use (default: the first powered one)\n"
	       "      --passkey N        the 6-digit passkey the device shows, for pairing (asked for when\n"
	       "                         standard input is a terminal)\n"
	       "      --default-agent    make smpctl's pairing agent BlueZ's default while it runs\n"
	       "      --smp-version 1|2  force the SMP header version (default: v2, v1 when the device is legacy)\n"
	       "  -v, --verbose          debug lines on stderr\n"
	       "  -q, --quiet            image upload and dfu: errors only, no progress or summary\n"
	       "  -h, --help             this help\n"
	       "      --version          print the version\n"
	       "\nSee smpctl(1) for every command's options, the JSON schema and the exit codes.\n");
}

static int parse_seconds(const char *text, uint64_t *out)
{
	char *end;
	double s;

	errno = 0;
	s = strtod(text, &end);
	if (errno || end == text || *end || !(s > 0) || s > 86400)
		return -EINVAL;
	*out = (uint64_t)(s * 1e6);
	return 0;
}

static int parse_uint(const char *text, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 0);
	if (errno || end == text || *end || text[0] == '-' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Keeps the first usage error; cli_run() reports it once the whole command line is read, so that
 * --json counts wherever it stands. */
static int usage_error(Cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(Cli *cli, const char *fmt, ...)
{
	va_list ap;

	if (cli->usage_error[0])
		return -EXIT_USAGE;
	va_start(ap, fmt);
	vsnprintf(cli->usage_error, sizeof(cli->usage_error), fmt, ap);
	va_end(ap);
	return -EXIT_USAGE;
}

/* The long options whose names start with name (up to '=' or its end). */
static size_t long_options_matching(const char *name, const struct option **exact, char *list, size_t size)
{
	size_t len = strcspn(name, "="), count = 0, used = 0;

	*exact = NULL;
	for (const struct option *o = options; o->name; o++) {
		if (strncmp(o->name, name, len) != 0)
			continue;
		if (strlen(o->name) == len)
			*exact = o;
		count++;
		used += (size_t)snprintf(list + used, used < size ? size - used : 0, "%s--%s", count > 1 ? ", " : "",
					 o->name);
	}
	return count;
}

/* What getopt found wrong with arg, the word it stopped at (its own messages would name argv[0]). */
static int option_error(Cli *cli, int c, const char *arg)
{
	const struct option *exact;
	char list[256] = "";

	if (c == ':')
		return usage_error(cli, "option '%.*s' needs a value (run 'smpctl --help')", (int)strcspn(arg, "="), arg);
	/* An unknown letter may stand first in a cluster ("-xj"): then arg is still the word before. */
	if (strncmp(arg, "--", 2) != 0 || (optopt > 0 && optopt < 0x100 && !strchr(SHORT_OPTIONS, optopt)))
		return usage_error(cli, "unrecognized option '-%c' (run 'smpctl --help')", optopt);
	if (long_options_matching(arg + 2, &exact, list, sizeof(list)) > 1 && !exact)
		return usage_error(cli, "option '%.*s' is ambiguous: %s", (int)strcspn(arg, "="), arg, list);
	if (exact && exact->has_arg == no_argument && strchr(arg, '='))
		return usage_error(cli, "option '--%s' takes no value", exact->name);
	return usage_error(cli, "unrecognized option '%.*s' (run 'smpctl --help')", (int)strcspn(arg, "="), arg);
}

static int parse_command_option(Cli *cli, int c, const char *arg)
{
	unsigned long v;

	switch (c) {
	case OPT_WINDOW:
		if (parse_uint(arg, 32, &v) < 0 || v == 0)
			return usage_error(cli, "--window takes a number from 1 to 32, not '%s'", arg);
		cli->window = v;
		return 0;
	case OPT_FRAME_SIZE:
		if (parse_uint(arg, 65535, &v) < 0 || v < 128)
			return usage_error(cli, "--frame-size takes a byte count from 128 to 65535, not '%s'", arg);
		cli->frame_size = v;
		return 0;
	case OPT_IMAGE:
		if (parse_uint(arg, 255, &v) < 0)
			return usage_error(cli, "--image takes an image number, not '%s'", arg);
		cli->image = (uint32_t)v;
		cli->image_given = true;
		return 0;
	case OPT_SLOT:
		if (parse_uint(arg, 15, &v) < 0)
			return usage_error(cli, "--slot takes a slot number (0 to 15), not '%s'", arg);
		cli->slot = (uint32_t)v;
		cli->slot_given = true;
		return 0;
	case OPT_FORCE: cli->force = true; return 0;
	case OPT_UPGRADE: cli->upgrade = true; return 0;
	case OPT_KEY: cli->key = arg; return 0;
	case OPT_MODE: cli->mode = arg; return 0;
	case OPT_FORMAT: cli->format = arg; return 0;
	case OPT_ERASE_SETTINGS: cli->erase_settings = true; return 0;
	case OPT_REQUIRE_ERASE_SETTINGS: cli->erase_settings = cli->require_erase_settings = true; return 0;
	case OPT_ERASE_AHEAD: cli->erase_ahead = true; return 0;
	case OPT_ALLOW_DOWNGRADE: cli->allow_downgrade = true; return 0;
	case OPT_TYPE: cli->value_type = arg; return 0;
	case OPT_WIDTH:
		if (parse_uint(arg, 8, &v) < 0 || (v != 1 && v != 2 && v != 4 && v != 8))
			return usage_error(cli, "--width takes 1, 2, 4 or 8 bytes, not '%s'", arg);
		cli->value_width = (unsigned)v;
		return 0;
	default:
		return usage_error(cli, "unknown option");
	}
}

static int parse_option(Cli *cli, int c, const char *arg, const char *word)
{
	switch (c) {
	case 'd':
		cli->device = arg;
		if (cli_add_device(cli, arg) < 0)
			return usage_error(cli, "too many --device options");
		return 0;
	case OPT_DEVICES: cli->devices_file = arg; return 0;
	case OPT_PARALLEL: {
		unsigned long v;

		if (parse_uint(arg, 1024, &v) < 0 || v == 0)
			return usage_error(cli, "--parallel takes a number from 1 to 1024, not '%s'", arg);
		cli->parallel = v;
		return 0;
	}
	case OPT_LINKS_PER_ADAPTER: {
		unsigned long v;

		if (parse_uint(arg, 64, &v) < 0 || v == 0)
			return usage_error(cli, "--links-per-adapter takes a number from 1 to 64, not '%s'", arg);
		cli->links_per_adapter = v;
		return 0;
	}
	case OPT_DEADLINE:
		if (parse_seconds(arg, &cli->deadline_usec) < 0)
			return usage_error(cli, "--deadline takes seconds (e.g. 300), not '%s'", arg);
		return 0;
	case 'j': cli->json = true; return 0;
	case 'v': cli->verbose = true; return 0;
	case 'q': cli->only_errors = true; return 0;
	case 't':
		if (parse_seconds(arg, &cli->timeout_usec) < 0)
			return usage_error(cli, "--timeout takes seconds (e.g. 5 or 0.5), not '%s'", arg);
		return 0;
	case OPT_RESET_TIMEOUT:
		if (parse_seconds(arg, &cli->reset_timeout_usec) < 0)
			return usage_error(cli, "--reset-timeout takes seconds, not '%s'", arg);
		return 0;
	case OPT_SCAN_TIMEOUT:
		if (parse_seconds(arg, &cli->transport.scan_timeout_usec) < 0)
			return usage_error(cli, "--scan-timeout takes seconds, not '%s'", arg);
		return 0;
	case OPT_TRIES: {
		unsigned long v;

		if (parse_uint(arg, 100, &v) < 0 || v == 0)
			return usage_error(cli, "--tries takes a number from 1 to 100, not '%s'", arg);
		cli->tries = (unsigned)v;
		return 0;
	}
	case OPT_ADAPTER: cli->transport.adapter = arg; return 0;
	case OPT_PASSKEY: {
		uint32_t passkey;

		if (ble_passkey_parse(arg, &passkey) < 0)
			return usage_error(cli, "--passkey takes the 6 digits the device shows, not '%s'", arg);
		cli->transport.passkey = arg;
		return 0;
	}
	case OPT_DEFAULT_AGENT: cli->transport.default_agent = true; return 0;
	case OPT_SMP_VERSION:
		if (strcmp(arg, "1") != 0 && strcmp(arg, "2") != 0)
			return usage_error(cli, "--smp-version takes 1 or 2, not '%s'", arg);
		cli->smp_version = arg[0] == '1' ? 0 : 1;
		return 0;
	case 'h': print_help(); return 1;
	case OPT_VERSION: printf("smpctl %s\n", SMPCTL_VERSION); return 1;
	case '?': case ':': return option_error(cli, c, word);
	default: return parse_command_option(cli, c, arg);
	}
}

/* Longest verb whose words start the positional arguments. */
static const Verb *find_verb(char **words, int count, int *used)
{
	const Verb *best = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++) {
		char name[64];
		int n = 0;
		bool match = true;

		snprintf(name, sizeof(name), "%s", verbs[i].name);
		for (char *save = NULL, *w = strtok_r(name, " ", &save); w; w = strtok_r(NULL, " ", &save), n++)
			if (n >= count || strcmp(w, words[n]) != 0) {
				match = false;
				break;
			}
		if (match && (!best || n > *used)) {
			best = &verbs[i];
			*used = n;
		}
	}
	return best;
}

static void cli_log_sink(const char *line)
{
	cli_status_clear();
	fprintf(stderr, "smpctl: debug: %s\n", line);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	Cli *cli = userdata;

	(void)s;
	(void)si;
	cli->interrupted = true;
	return 0;
}

static int cli_setup_loop(Cli *cli)
{
	sigset_t mask;
	int r;

	r = sd_event_new(&cli->event);
	if (r < 0)
		return r;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r = sd_event_add_signal(cli->event, NULL, SIGINT, on_signal, cli);
	if (r >= 0)
		r = sd_event_add_signal(cli->event, NULL, SIGTERM, on_signal, cli);
	return r;
}

static int cli_parse(Cli *cli, int argc, char **argv)
{
	int c, r = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":" SHORT_OPTIONS, options, NULL)) >= 0) {
		/* After a usage error only --json still matters: it shapes the report. */
		if (r < 0) {
			cli->json |= c == 'j';
			continue;
		}
		r = parse_option(cli, c, optarg, argv[optind - 1]);
		if (r > 0)
			return r;
	}
	return r;
}

/* A word that starts multi-word verbs ("image"): their next words, "list, slots, …", into out. */
static bool verb_group(const char *word, char *out, size_t size)
{
	size_t len = strlen(word), used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++) {
		const char *name = verbs[i].name;

		if (strncmp(name, word, len) == 0 && name[len] == ' ')
			used += (size_t)snprintf(out + used, used < size ? size - used : 0, "%s%s", used ? ", " : "",
						 name + len + 1);
	}
	return used > 0;
}

static int verb_not_found(Cli *cli, char **words, int count)
{
	char subcommands[256];

	if (!verb_group(words[0], subcommands, sizeof(subcommands)))
		return cli_fail(cli, EXIT_USAGE, "unknown command '%s' (run 'smpctl --help' for the commands)", words[0]);
	if (count == 1)
		return cli_fail(cli, EXIT_USAGE, "'smpctl %s' needs a subcommand: %s", words[0], subcommands);
	return cli_fail(cli, EXIT_USAGE, "unknown %s subcommand '%s': smpctl %s takes %s", words[0], words[1],
				words[0], subcommands);
}

static int cli_run(Cli *cli, int argc, char **argv)
{
	const Verb *verb;
	int used = 0, r;
	bool rack;

	r = cli_parse(cli, argc, argv);
	if (r > 0)
		return EXIT_OK;
	if (r < 0)
		return cli_fail(cli, EXIT_USAGE, "%s", cli->usage_error);
	if (optind >= argc)
		return cli_fail(cli, EXIT_USAGE, "no command given (run 'smpctl --help' for the commands)");
	verb = find_verb(argv + optind, argc - optind, &used);
	if (!verb)
		return verb_not_found(cli, argv + optind, argc - optind);
	cli->lock_device = verb->changes_device;
	cli->args = argv + optind + used;
	cli->nargs = argc - optind - used;
	if (!verb->no_device)
		cli->json_out.device = cli->device;
	r = cli_read_devices_file(cli);
	if (r)
		return r;
	rack = cli->ndevices > 1 || cli->devices_file || cli->deadline_usec;
	if (rack && !verb->rack)
		return cli_fail(cli, EXIT_USAGE, "'%s' runs on one device: several devices (--device twice, --devices) and "
				"--deadline go with dfu, provision, upload, image upload, image list, echo and reset", verb->name);
	/* A devices file may name each device's image: FILE is then optional. */
	if ((cli->nargs < verb->min_args && !(cli->devices_file && cli->nargs == 0)) || cli->nargs > verb->max_args)
		return cli_fail(cli, EXIT_USAGE, "usage: smpctl %s", verb->usage);
	if (cli->verbose)
		log_set_sink(cli_log_sink);
	cli_setup_pairing(cli);
	if (cli_setup_loop(cli) < 0)
		return cli_fail(cli, EXIT_FAILURE_GENERIC, "cannot set up the event loop");
	if (rack) {
		if (cli->ndevices == 0 && cli->device && cli_add_device(cli, cli->device) < 0)
			return cli_fail(cli, EXIT_FAILURE_GENERIC, "out of memory");
		if (cli->ndevices == 0)
			return cli_open_device(cli, NULL); /* says that no device was given */
		return cli_rack_run(cli, verb->run, verb->min_args > 0);
	}
	return verb->run(cli);
}

int main(int argc, char **argv)
{
	Cli cli = {
		.device = getenv("SMPCTL_DEVICE"),
		.timeout_usec = 5ull * 1000 * 1000,
		.reset_timeout_usec = 90ull * 1000 * 1000,
		.tries = DEVICE_DEFAULT_TRIES,
		.transport = { .scan_timeout_usec = 30ull * 1000 * 1000 },
		.smp_version = -1,
		.progress_tty = isatty(STDERR_FILENO),
		.json_out = { .out = stdout },
		.lock_fd = -1,
	};
	int r;

	/* A closed pipe is an output error like any other (EPIPE, EXIT_IO), not a silent death. */
	signal(SIGPIPE, SIG_IGN);
	r = cli_run(&cli, argc, argv);
	sd_event_unref(cli.event);
	if (cli.lock_fd >= 0)
		close(cli.lock_fd);
	cli_status_clear();
	cli_free_devices(&cli);
	return cli_close_output(&cli, r);
}
