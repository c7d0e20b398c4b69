/* SPDX-License-Identifier: MIT */
/* Errors in one plain line, their exit codes, and opening the device named on the command line. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "cli-lock.h"
#include "smp-error.h"
#include "upload.h"
#include "util.h"

int cli_exit_code(int err)
{
	switch (err) {
	case 0: return EXIT_OK;
	case DEVICE_STATUS_ERROR: return EXIT_DEVICE;
	case UPLOAD_MATCH_FAILED: case UPLOAD_MATCH_FAILED_KEPT: return EXIT_VERIFY;
	case UPLOAD_GAVE_UP: return EXIT_TRANSPORT;
	case -ETIMEDOUT: return EXIT_TIMEOUT;
	case -EBADMSG: case -E2BIG: return EXIT_PROTOCOL;
	case -ECANCELED: return EXIT_INTERRUPTED;
	case -ECONNRESET: case -ECONNREFUSED: case -ENOTCONN: case -EHOSTUNREACH: case -ENETUNREACH:
	case -ENODEV: case -ENXIO: case -EPIPE: case -ENOENT: case -EACCES: case -EPERM: case -EIO:
		return EXIT_TRANSPORT;
	default: return EXIT_FAILURE_GENERIC;
	}
}

/* A pipe or socket whose reader has gone reports POLLERR (or POLLHUP) on the writing end. */
static bool output_reader_gone(void)
{
	struct pollfd p = { .fd = STDOUT_FILENO };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP));
}

int cli_close_output(Cli *cli, int exit_code)
{
	int err = cli->json_out.write_errno;
	bool failed = err || ferror(stdout);

	if (fflush(stdout) != 0 && !err)
		err = errno;
	if (fclose(stdout) != 0 && !err)
		err = errno;
	if (!failed && !err)
		return exit_code;
	/* stdio may have dropped a buffer whose write failed, leaving only ferror(): ask the descriptor. */
	if (!err)
		err = output_reader_gone() ? EPIPE : EIO;
	/* A failed command has said why already; a reader that went away (| head -1) needs no words. */
	if (exit_code != EXIT_OK)
		return exit_code;
	if (err != EPIPE && !cli->quiet)
		fprintf(stderr, "smpctl: cannot write the output: %s\n", strerror(err));
	return EXIT_IO;
}

static void json_error(Cli *cli, int exit_code, const char *message, const SmpStatus *st, uint16_t req_group)
{
	JsonWriter *j = &cli->json_out;

	json_begin_object(j);
	json_key(j, "type");
	json_string(j, "result");
	json_key(j, "ok");
	json_bool(j, false);
	json_key(j, "exit_code");
	json_int(j, exit_code);
	json_key(j, "error");
	json_string(j, message);
	if (st && st->kind != SMP_STATUS_OK) {
		/* Named from the list the code belongs to: Zephyr answers stat requests with group 63. */
		const char *name = st->kind == SMP_STATUS_GROUP
					   ? smp_group_rc_name(smp_status_code_group(st, req_group), st->rc)
					   : smp_rc_name(st->rc);

		json_key(j, "device_error");
		json_begin_object(j);
		if (st->kind == SMP_STATUS_GROUP) {
			json_key(j, "group");
			json_uint(j, st->group);
		}
		json_key(j, "rc");
		json_int(j, st->rc);
		json_key(j, "name");
		if (name)
			json_string(j, name);
		else
			json_null(j);
		if (st->reason[0]) {
			json_key(j, "rsn");
			json_string(j, st->reason);
		}
		json_end_object(j);
	}
	json_end_object(j);
	json_end_line(j);
}

/* st: the device's answer when the failure is one (its request's group names the code), else NULL. */
static int cli_report(Cli *cli, int exit_code, const char *message, const SmpStatus *st, uint16_t req_group)
{
	char reworded[512];

	/* A rack's deadline stops a device the way Ctrl-C would: say which it was (smpctl(1) --deadline). */
	if (exit_code == EXIT_INTERRUPTED && cli->deadline_passed && *cli->deadline_passed) {
		snprintf(reworded, sizeof(reworded), "gave up at --deadline %.0f s: %.460s",
			 (double)cli->deadline_usec / 1e6, message);
		message = reworded;
		exit_code = EXIT_TIMEOUT;
	}
	if (cli->outcome)
		snprintf(cli->outcome->message, sizeof(cli->outcome->message), "%s", message);
	if (cli->quiet)
		return exit_code;
	cli_status_clear();
	if (cli->progress_tty && !cli->json)
		cli_line_erase(); /* clear a progress line */
	fprintf(stderr, "smpctl: %s%s%s\n", cli->label ? cli->label : "", cli->label ? ": " : "", message);
	if (cli->json)
		json_error(cli, exit_code, message, st, req_group);
	return exit_code;
}

int cli_fail(Cli *cli, int exit_code, const char *fmt, ...)
{
	char message[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	return cli_report(cli, exit_code, message, NULL, SMP_STATUS_ANY_REQUEST);
}

int cli_device_fail(Cli *cli, Device *d, int err)
{
	const char *message = device_describe_error(d, err);

	return cli_report(cli, cli_exit_code(err), message, err == DEVICE_STATUS_ERROR ? &d->status : NULL,
			  d->status_group);
}

/* Connecting waits at least 30 s (or --timeout); a scan of --scan-timeout still leaves the connection
 * that follows it 10 s (or --timeout), so that an expired scan, not the budget, ends a search. */
static uint64_t open_budget(const Cli *cli)
{
	uint64_t connect = MAX(cli->timeout_usec, 30ull * 1000 * 1000);
	uint64_t after_scan = MAX(cli->timeout_usec, 10ull * 1000 * 1000);

	return MAX(connect, cli->transport.scan_timeout_usec + after_scan);
}

int cli_open_device(Cli *cli, Device **out)
{
	DeviceOptions opts = {
		.address = cli->device,
		.transport = cli->transport,
		.timeout_usec = cli->timeout_usec,
		.smp_version = cli->smp_version,
		.tries = cli->tries,
		.cancel = &cli->interrupted,
	};
	char err[512] = "";
	Device *d;
	int r;

	if (cli->kept) {
		*out = device_ref(cli->kept);
		return 0;
	}
	if (!cli->device || !cli->device[0])
		return cli_fail(cli, EXIT_USAGE, "no device given: use --device ADDR (e.g. udp:127.0.0.1 or "
						 "ble:name=NAME) or set SMPCTL_DEVICE");
	opts.transport.verbose = cli->verbose;
	if (cli->progress_tty && !cli->json && !cli->quiet && !cli->only_errors)
		opts.transport.status = cli_status_show;
	if (!opts.transport.open_timeout_usec)
		opts.transport.open_timeout_usec = open_budget(cli);
	r = device_new(cli->event, &opts, &d, err, sizeof(err));
	if (r < 0)
		return cli_fail(cli, EXIT_USAGE, "%s", err[0] ? err : strerror(-r));
	r = cli->lock_device && cli->lock_fd < 0 ? cli_lock_device(cli) : 0;
	if (r) {
		device_free(d);
		return r;
	}
	r = device_connect(d, opts.transport.open_timeout_usec);
	cli_status_clear();
	if (r < 0) {
		int code = r == -ECANCELED ? EXIT_INTERRUPTED : r == -ETIMEDOUT ? EXIT_TIMEOUT : EXIT_TRANSPORT;
		const char *detail = transport_error_text(smp_client_transport(d->client));

		if (r == -ECANCELED)
			cli_fail(cli, code, "interrupted while connecting to %s", cli->device);
		else
			cli_fail(cli, code, "cannot connect to %s: %s", cli->device, detail ? detail : strerror(-r));
		device_free(d);
		return code;
	}
	if (cli->keep_device)
		cli->kept = device_ref(d);
	*out = d;
	return 0;
}
