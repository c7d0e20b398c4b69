/* SPDX-License-Identifier: MIT */
/* Progress of long commands: a redrawn line on a terminal's stderr, JSON lines with --json. */
#include <stdarg.h>
#include <string.h>

#include "cli-progress.h"
#include "util.h"

#define PROGRESS_INTERVAL_USEC 200000u

/* TransportOptions.status carries no userdata: the one status line of the process is this file's. */
static bool status_shown;

void cli_status_show(const char *line)
{
	fprintf(stderr, "\r\033[K%s", line);
	fflush(stderr);
	status_shown = true;
}

void cli_status_clear(void)
{
	if (!status_shown)
		return;
	fputs("\r\033[K", stderr);
	status_shown = false;
}

static void progress_line(const UploadProgress *p)
{
	double pct = p->total ? 100.0 * (double)p->acked / (double)p->total : 0;
	double eta = p->rate > 0 ? (double)(p->total - p->acked) / p->rate : -1;

	status_shown = false; /* erased by this line */
	fprintf(stderr, "\r\033[K%s %5.1f%%  %7.1f / %.1f KiB", p->reconnecting ? "Reconnecting" : "Uploading",
		pct, (double)p->acked / 1024, (double)p->total / 1024);
	if (p->rate > 0)
		fprintf(stderr, "  %6.1f kB/s", p->rate / 1000);
	if (eta >= 0)
		fprintf(stderr, "  ETA %d:%02d", (int)eta / 60, (int)eta % 60);
	if (p->resends)
		fprintf(stderr, "  resent %u", p->resends);
	fflush(stderr);
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

	if (!last && !p->reconnecting && now - cp->last_usec < PROGRESS_INTERVAL_USEC)
		return;
	cp->last_usec = now;
	if (cp->cli->json)
		progress_json(cp->cli, p);
	else if (cp->cli->progress_tty)
		progress_line(p);
	if (last && !cp->cli->json && cp->cli->progress_tty)
		fputc('\n', stderr);
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
	cli_status_clear();
	if (cli->progress_tty)
		fputs("\r\033[K", stderr);
	fprintf(stderr, "%s%s\n", strcmp(type, "warning") == 0 ? "warning: " : "", text);
}
