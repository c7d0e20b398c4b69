/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>

#include "tap.h"

static unsigned tap_failures;

void tap_check(bool ok, const char *file, int line, const char *expr)
{
	if (ok)
		return;
	tap_failures++;
	printf("# %s:%d: check failed: %s\n", file, line, expr);
}

void tap_checkf(bool ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return;
	tap_failures++;
	printf("# %s:%d: check failed: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

int tap_run(const TapTest *tests, size_t count)
{
	unsigned failed = 0;

	printf("1..%zu\n", count);
	for (size_t i = 0; i < count; i++) {
		unsigned before = tap_failures;

		tests[i].fn();
		if (tap_failures != before)
			failed++;
		printf("%s %zu - %s\n", tap_failures != before ? "not ok" : "ok", i + 1, tests[i].name);
		fflush(stdout);
	}
	return failed ? 1 : 0;
}
