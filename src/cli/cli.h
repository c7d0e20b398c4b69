/* SPDX-License-Identifier: MIT */
/* The command line: shared context, output helpers and the documented exit codes (smpctl(1)). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <systemd/sd-event.h>

#include "device.h"
#include "transport.h"

/* Exit codes, documented in man/smpctl.1 EXIT STATUS. Scripts rely on them: never renumber. */
enum {
	EXIT_OK = 0,
	EXIT_FAILURE_GENERIC = 1, /* anything not listed below */
	EXIT_USAGE = 2,           /* bad command line */
	EXIT_TRANSPORT = 3,       /* cannot reach the device, or the link was lost */
	EXIT_TIMEOUT = 4,         /* the device did not answer in time */
	EXIT_DEVICE = 5,          /* the device answered with an error (rc / err) */
	EXIT_PROTOCOL = 6,        /* the device's answer was malformed */
	EXIT_VERIFY = 7,          /* an image did not verify (hash, signature, match, read-back) */
	EXIT_IMAGE = 8,           /* the image file cannot be read or is not an MCUboot image */
	EXIT_REVERTED = 9,        /* dfu: the device did not run, or reverted from, the new image */
	EXIT_DOWNGRADE = 10,      /* dfu: the image is not newer than the running one (--allow-downgrade) */
	EXIT_IO = 74,             /* EX_IOERR: the output could not be written (full disk, closed pipe) */
	EXIT_LOCKED = 75,         /* EX_TEMPFAIL: another smpctl is changing the device (lock.c) */
	EXIT_INTERRUPTED = 130,   /* SIGINT / SIGTERM */
};

/* The JSON output's schema (man/smpctl.1 JSON OUTPUT): raised on any change a reader could notice. */
#define CLI_JSON_SCHEMA_VERSION 1

typedef struct JsonWriter {
	FILE *out;
	const char *device;  /* put in every line: the device it is about */
	int depth;
	bool need_comma[16];
	bool pending_key;
	int write_errno;     /* the first failed flush: kept for the exit check, which comes later */
} JsonWriter;

void json_begin_object(JsonWriter *j);
void json_end_object(JsonWriter *j);
void json_begin_array(JsonWriter *j);
void json_end_array(JsonWriter *j);
void json_key(JsonWriter *j, const char *key);
void json_string(JsonWriter *j, const char *s);
void json_uint(JsonWriter *j, uint64_t v);
void json_int(JsonWriter *j, int64_t v);
void json_double(JsonWriter *j, double v);
void json_bool(JsonWriter *j, bool v);
void json_null(JsonWriter *j);
void json_hex(JsonWriter *j, const uint8_t *data, size_t len);
/* Ends a top-level value with a newline and flushes (one JSON document or one JSON line). */
void json_end_line(JsonWriter *j);
/* One line holding {"key": "value"}. */
void json_line_string(JsonWriter *j, const char *key, const char *value);

typedef struct Cli {
	/* global options */
	const char *device;
	bool json;
	bool verbose;
	uint64_t timeout_usec;
	uint64_t reset_timeout_usec;
	unsigned tries;
	int smp_version;
	TransportOptions transport;
	/* command options */
	bool force;
	bool upgrade;
	bool erase_settings;
	bool require_erase_settings;
	bool erase_ahead;
	bool allow_downgrade;
	size_t window;
	size_t frame_size;
	uint32_t image;
	bool image_given;        /* --image N on the command line */
	uint32_t slot;           /* image erase --slot S */
	bool slot_given;
	const char *key;
	const char *mode;
	const char *format;
	/* a rack: several --device, or --devices FILE (cmd-rack.c) */
	const char **devices;
	size_t ndevices;
	size_t devices_owned_from; /* entries from here on were read from the file (cli_free_devices) */
	const char *devices_file;
	size_t parallel;
	size_t links_per_adapter;    /* --links-per-adapter; 0: RACK_LINKS_PER_ADAPTER */
	uint64_t deadline_usec;
	const char *value_type;  /* settings: --type */
	unsigned value_width;    /* settings write: --width (0: 4 bytes) */
	/* positional arguments after the command words */
	char **args;
	int nargs;
	/* runtime */
	sd_event *event;
	volatile bool interrupted;
	bool quiet;           /* print no errors (shell completion) */
	bool only_errors;     /* --quiet: image upload and dfu print errors only */
	char usage_error[256]; /* the first thing wrong with the command line, reported after parsing */
	bool progress_tty;    /* stderr is a terminal: draw a progress line */
	bool lock_device;     /* the command changes the device: cli_open_device() takes its lock */
	int lock_fd;          /* the lock, held until exit; -1 */
	JsonWriter json_out;
	/* one device of a rack: its lines on stderr start with "[label] ", and what the table shows */
	const char *label;
	Device *kept;                /* with keep_device: the open session cli_open_device hands out again */
	bool keep_device;            /* provision: one link for its steps */
	const char *rack_words;      /* the words after the address on its --devices line, tab-separated */
	struct CliOutcome *outcome;
	const bool *deadline_passed; /* the rack stopped this device at --deadline (reported as a timeout) */
} Cli;

/* What a command leaves for a rack's summary table (cmd-rack.c); all optional. */
#define CLI_OUTCOME_IMAGES 8

/* One image of a multi-image dfu (a package, or --image N), for a rack's summary. */
typedef struct CliOutcomeImage {
	uint32_t image;
	char old_version[64];
	char new_version[64];  /* "" when it already ran */
} CliOutcomeImage;

typedef struct CliOutcome {
	char old_version[64];
	char new_version[64];
	CliOutcomeImage images[CLI_OUTCOME_IMAGES]; /* dfu_run_multi's images; 0 for one image into image 0 */
	size_t nimages;
	char message[512];     /* the failure's one line */
	uint64_t bytes;
	double rate;           /* bytes per second of the upload */
	bool uploaded;
} CliOutcome;

/* Opens the session to --device (or $SMPCTL_DEVICE). On failure prints the error and returns the exit
 * code (> 0); 0 on success. */
int cli_open_device(Cli *cli, Device **out);
/* Prints one error line for err from a device call (and, with --json, an error object on stdout) and
 * returns the matching exit code. */
int cli_device_fail(Cli *cli, Device *d, int err);
/* Prints "smpctl: <message>" on stderr (and a JSON error object with --json); returns exit_code. */
int cli_fail(Cli *cli, int exit_code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Exit code for a device-call result (0, DEVICE_STATUS_ERROR, -errno). */
int cli_exit_code(int err);
/* Flushes and closes stdout, last thing before exit: a write that failed on the way or now turns a
 * success into EXIT_IO, with one line on stderr (none when the reader went away: EPIPE). */
int cli_close_output(Cli *cli, int exit_code);

/* Commands: each returns an exit code. */
int cmd_echo(Cli *cli);
int cmd_reset(Cli *cli);
int cmd_params(Cli *cli);
int cmd_info(Cli *cli);
int cmd_datetime(Cli *cli);
int cmd_settings_erase(Cli *cli);
int cmd_settings_read(Cli *cli);
int cmd_settings_write(Cli *cli);
int cmd_settings_delete(Cli *cli);
int cmd_settings_commit(Cli *cli);
int cmd_settings_load(Cli *cli);
int cmd_settings_save(Cli *cli);
int cmd_datetime_set(Cli *cli);
int cmd_taskstat(Cli *cli);
int cmd_mpstat(Cli *cli);
int cmd_bootloader_info(Cli *cli);
int cmd_stat_list(Cli *cli);
int cmd_stat_show(Cli *cli);
int cmd_shell_exec(Cli *cli);
int cmd_groups(Cli *cli);
int cmd_fs_upload(Cli *cli);
int cmd_fs_download(Cli *cli);
int cmd_fs_stat(Cli *cli);
int cmd_fs_hash(Cli *cli);
int cmd_fs_types(Cli *cli);
int cmd_fs_close(Cli *cli);
int cmd_image_list(Cli *cli);
int cmd_image_slots(Cli *cli);
int cmd_image_test(Cli *cli);
int cmd_image_confirm(Cli *cli);
int cmd_image_erase(Cli *cli);
int cmd_image_upload(Cli *cli);
int cmd_dfu(Cli *cli);
int cmd_provision(Cli *cli);
int cmd_complete(Cli *cli);
int cmd_complete_devices(Cli *cli);
int cmd_scan(Cli *cli);
int cmd_doctor(Cli *cli);
int cmd_image_info(Cli *cli);

/* The command run on every device of --device (repeated) / --devices FILE (cmd-rack.c). */
int cli_rack_run(Cli *cli, int (*run)(Cli *cli), bool needs_file);
/* The devices of the command line (repeated --device, then --devices FILE): cli->devices, ndevices. */
int cli_read_devices_file(Cli *cli);
int cli_add_device(Cli *cli, const char *address);
void cli_free_devices(Cli *cli);
/* One verb per line, for completion. */
void cli_print_verbs(void);

/* Image list rendering shared by image commands and dfu. */
void cli_json_image_list(JsonWriter *j, const MgmtImageList *list);
void cli_print_image_list(Cli *cli, const MgmtImageList *list);

/* The transient status line on a terminal's stderr (TransportOptions.status: "scanning for …"), and its
 * erasure, due before anything else is written to the terminal (progress.c). */
void cli_status_show(const char *line);
void cli_status_clear(void);
/* Erases the line being redrawn on the terminal (spaces over it where TERM=dumb has no erase). */
void cli_line_erase(void);
/* The width of the terminal on stderr (TIOCGWINSZ, else $COLUMNS, else 80). */
size_t cli_terminal_columns(void);

/* Pairing through smpctl's agent: notices on stderr, and prompts when stdin is a terminal (pairing.c). */
void cli_setup_pairing(Cli *cli);
