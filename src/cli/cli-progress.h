/* SPDX-License-Identifier: MIT */
#pragma once

#include "cli.h"
#include "upload.h"

typedef struct CliProgress {
	Cli *cli;
	uint64_t last_usec;
} CliProgress;

/* UploadOptions.progress: draws or emits progress. userdata is a CliProgress. */
void cli_progress_upload(void *userdata, const UploadProgress *p);

/* A step or a warning of a long command: a line on stderr, or a JSON line {"type": type, "step": step,
 * "message": …} with --json. type is "state" or "warning". */
void cli_event(Cli *cli, const char *type, const char *step, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The closing line of image upload and dfu on stderr, also without a terminal (a rack's log reads it);
 * on a terminal, broken after a "; " or ", " to fit its width. Nothing with --quiet. */
void cli_summary(Cli *cli, const char *text);
