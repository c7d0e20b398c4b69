/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

static LogSink log_sink;

void log_set_sink(LogSink sink)
{
	log_sink = sink;
}

void log_debug(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!log_sink)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_sink(line);
}
