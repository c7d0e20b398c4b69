/* SPDX-License-Identifier: MIT */
/* Progress of long commands: a redrawn line on a terminal's stderr, JSON lines with --json. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli-progress.h"
#include "util.h"

#define PROGRESS_INTERVAL_USEC 200000u

/* TransportOptions.status carries no userdata: the one status line of the process is this file's. */
static bool status_shown;
/* Columns of the redrawn line on screen: a terminal that cannot erase (TERM=dumb) gets them blanked. */
static size_t drawn;

/* TERM=dumb (Emacs shells, some serial consoles) or none (as systemd reads it): no escape sequences,
 * carriage returns only. */
static bool terminal_is_dumb(void)
{
	const char *term = getenv("TERM");

	return !term || !term[0] || !strcmp(term, "dumb");
}

size_t cli_terminal_columns(void)
{
	struct winsize w;
	const char *env = getenv("COLUMNS");
	long n = env ? strtol(env, NULL, 10) : 0;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_col > 0)
		return w.ws_col;
	return n > 0 && n < 1000 ? (size_t)n : 80;
}

void cli_line_erase(void)
{
	if (terminal_is_dumb()) {
		if (drawn)
			fprintf(stderr, "\r%*s\r", (int)drawn, "");
	} else {
		fputs("\r\033[K", stderr);
	}
	drawn = 0;
}

/* Replaces the redrawn line with text, cut to the terminal's width less one column (writing the last
 * one wraps on some terminals, and a wrapped line can no longer be redrawn). */
static void line_draw(const char *text)
{
	size_t width = cli_terminal_columns() - 1, len = strlen(text);

	cli_line_erase();
	len = MIN(len, width);
	fprintf(stderr, "%.*s", (int)len, text);
	fflush(stderr);
	drawn = len;
}

void cli_status_show(const char *line)
{
	line_draw(line);
	status_shown = true;
}

void cli_status_clear(void)
{
	if (!status_shown)
		return;
	cli_line_erase();
	status_shown = false;
}

/* Appends a field when the line keeps within width; the fields come most useful first. */
static void append_field(char *line, size_t size, size_t width, const char *field)
{
	size_t len = strlen(line);

	if (len + strlen(field) <= width)
		snprintf(line + len, size - len, "%s", field);
}

static void progress_line(const UploadProgress *p)
{
	double pct = p->total ? 100.0 * (double)p->acked / (double)p->total : 0;
	double eta = p->rate > 0 ? (double)(p->total - p->acked) / p->rate : -1;
	bool done = p->acked >= p->total && !p->reconnecting;
	size_t width = cli_terminal_columns() - 1;
	char line[256], field[64];

	snprintf(line, sizeof(line), "%s %5.1f%%", p->reconnecting ? "Reconnecting" : done ? "Uploaded " : "Uploading",
		 pct);
	snprintf(field, sizeof(field), "  %7.1f / %.1f KiB", (double)p->acked / 1024, (double)p->total / 1024);
	append_field(line, sizeof(line), width, field);
	if (p->rate > 0) {
		snprintf(field, sizeof(field), "  %6.1f kB/s", p->rate / 1000);
		append_field(line, sizeof(line), width, field);
	}
	if (eta >= 0 && !done) {
		snprintf(field, sizeof(field), "  ETA %d:%02d", (int)eta / 60, (int)eta % 60);
		append_field(line, sizeof(line), width, field);
	}
	if (p->resends) {
		snprintf(field, sizeof(field), "  resent %u", p->resends);
		append_field(line, sizeof(line), width, field);
	}
	status_shown = false; /* erased by this line */
	line_draw(line);
}

static void progress_json(Cli *cli, const UploadProgress *p)
{
	JsonWriter *j = &cli->json_out;

	json_begin_object(j);
	json_key(j, "type");
	json_string(j, "progress");
	json_key(j, "bytes");
	json_uint(j, p->acked);
	json_key(j, "total");
	json_uint(j, p->total);
	json_key(j, "rate");
	json_double(j, p->rate);
	json_key(j, "window");
	json_uint(j, p->window);
	json_key(j, "resends");
	json_uint(j, p->resends);
	json_key(j, "reconnects");
	json_uint(j, p->reconnects);
	json_end_object(j);
	json_end_line(j);
}

void cli_progress_upload(void *userdata, const UploadProgress *p)
{
	CliProgress *cp = userdata;
	uint64_t now = now_usec();
	bool last = p->acked >= p->total;

	if (cp->cli->only_errors && !cp->cli->json)
		return;
	if (!last && !p->reconnecting && now - cp->last_usec < PROGRESS_INTERVAL_USEC)
		return;
	cp->last_usec = now;
	if (cp->cli->json)
		progress_json(cp->cli, p);
	else if (cp->cli->progress_tty)
		progress_line(p);
	if (last && !cp->cli->json && cp->cli->progress_tty) {
		fputc('\n', stderr);
		drawn = 0;
	}
}

/* A line on stderr; on a terminal, one longer than the width (less `used`, already written) breaks
 * after its last "; " or ", " that fits, or its first one when none does (a long file name). */
static void print_wrapped(Cli *cli, const char *text, size_t used)
{
	size_t width = cli_terminal_columns() - 1, len = strlen(text);

	width = width > used + 20 ? width - used : 20;
	while (cli->progress_tty && len > width) {
		size_t cut = 0;

		for (size_t i = 0; i + 1 < len && (i + 2 <= width || !cut); i++)
			if ((text[i] == ';' || text[i] == ',') && text[i + 1] == ' ')
				cut = i + 1;
		if (!cut)
			break;
		fprintf(stderr, "%.*s\n", (int)cut, text);
		text += cut + 1;
		len = strlen(text);
		fputs("  ", stderr); /* the rest indented under the first line */
		width = width > 22 ? width - 2 : 20;
	}
	fprintf(stderr, "%s\n", text);
}

void cli_event(Cli *cli, const char *type, const char *step, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (cli->json) {
		json_begin_object(&cli->json_out);
		json_key(&cli->json_out, "type");
		json_string(&cli->json_out, type);
		json_key(&cli->json_out, "step");
		json_string(&cli->json_out, step);
		json_key(&cli->json_out, "message");
		json_string(&cli->json_out, text);
		json_end_object(&cli->json_out);
		json_end_line(&cli->json_out);
		return;
	}
	if (cli->only_errors)
		return;
	cli_status_clear();
	if (cli->progress_tty)
		cli_line_erase();
	if (cli->label)
		fprintf(stderr, "%s: ", cli->label);
	if (strcmp(type, "warning") == 0)
		fputs("warning: ", stderr);
	print_wrapped(cli, text, strcmp(type, "warning") == 0 ? strlen("warning: ") : 0);
}

void cli_summary(Cli *cli, const char *text)
{
	if (cli->only_errors)
		return;
	if (cli->label)
		fprintf(stderr, "%s: ", cli->label);
	print_wrapped(cli, text, 0);
}
