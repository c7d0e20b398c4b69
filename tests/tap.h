/* SPDX-License-Identifier: MIT */
/* A very small TAP producer: each test_*() function is one TAP line; CHECK() records failures. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct TapTest {
	const char *name;
	void (*fn)(void);
} TapTest;

#define TAP_TEST(fn) { #fn, fn }

void tap_check(bool ok, const char *file, int line, const char *expr);
void tap_checkf(bool ok, const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int tap_run(const TapTest *tests, size_t count);

#define CHECK(expr) tap_check(!!(expr), __FILE__, __LINE__, #expr)
#define CHECK_INT(a, b) do { long long _a = (long long)(a), _b = (long long)(b); \
	tap_checkf(_a == _b, __FILE__, __LINE__, "%s == %s (%lld != %lld)", #a, #b, _a, _b); } while (0)
#define CHECK_STR(a, b) do { const char *_a = (a), *_b = (b); \
	tap_checkf(_a && _b && strcmp(_a, _b) == 0, __FILE__, __LINE__, "%s == %s (\"%s\" != \"%s\")", #a, #b, \
		   _a ? _a : "(null)", _b ? _b : "(null)"); } while (0)
#define CHECK_MEM(a, b, n) tap_checkf(memcmp((a), (b), (n)) == 0, __FILE__, __LINE__, "%s == %s (%zu bytes)", #a, #b, (size_t)(n))
