/* SPDX-License-Identifier: MIT */
/* Debug logging for the core. The core never prints on its own (STYLE.md §2): a front end that wants
 * the debug lines (smpctl -v, the simulators) installs a sink. */
#pragma once

typedef void (*LogSink)(const char *line);

void log_set_sink(LogSink sink);
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
