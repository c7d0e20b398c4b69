/* SPDX-License-Identifier: MIT */
/* Settings values between text and bytes: hex, string, integers little-endian in their width. */
#include <errno.h>
#include <string.h>

#include "settings-value.h"
#include "tap.h"
#include "util.h"

typedef struct ParseCase {
	SettingsType type;
	unsigned width;
	const char *text;
	int want;
	const char *hex; /* the bytes, when want is 0 */
} ParseCase;

static void test_parse_table(void)
{
	static const ParseCase cases[] = {
		{ SETTINGS_TYPE_HEX, 0, "0a1B2c", 0, "0a1b2c" },
		{ SETTINGS_TYPE_HEX, 0, "0x0a:1b 2c", 0, "0a1b2c" },
		{ SETTINGS_TYPE_HEX, 0, "", 0, "" },
		{ SETTINGS_TYPE_HEX, 0, "abc", -EINVAL, NULL },
		{ SETTINGS_TYPE_HEX, 0, "zz", -EINVAL, NULL },
		{ SETTINGS_TYPE_STRING, 0, "SN-1", 0, "534e2d31" },
		{ SETTINGS_TYPE_UINT, 4, "258", 0, "02010000" },
		{ SETTINGS_TYPE_UINT, 2, "0xffff", 0, "ffff" },
		{ SETTINGS_TYPE_UINT, 2, "65536", -ERANGE, NULL },
		{ SETTINGS_TYPE_UINT, 1, "-1", -ERANGE, NULL },
		{ SETTINGS_TYPE_UINT, 8, "18446744073709551615", 0, "ffffffffffffffff" },
		{ SETTINGS_TYPE_INT, 1, "-128", 0, "80" },
		{ SETTINGS_TYPE_INT, 1, "128", -ERANGE, NULL },
		{ SETTINGS_TYPE_INT, 1, "-129", -ERANGE, NULL },
		{ SETTINGS_TYPE_INT, 4, "-2", 0, "feffffff" },
		{ SETTINGS_TYPE_INT, 8, "-9223372036854775808", 0, "0000000000000080" },
		{ SETTINGS_TYPE_INT, 4, "12x", -EINVAL, NULL },
		{ SETTINGS_TYPE_INT, 3, "1", -EINVAL, NULL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t out[16];
		char hex[33];
		size_t len = 0;
		int r = settings_value_parse(cases[i].type, cases[i].width, cases[i].text, out, sizeof(out), &len);

		hex_encode(out, r == 0 ? len : 0, hex);
		tap_checkf(r == cases[i].want && (r < 0 || strcmp(hex, cases[i].hex) == 0), __FILE__, __LINE__,
			   "%s '%s' width %u: %d %s", settings_type_name(cases[i].type), cases[i].text, cases[i].width, r,
			   r == 0 ? hex : "");
	}
}

/* More bytes than the buffer: refused, not cut. */
static void test_parse_too_long(void)
{
	uint8_t out[2];
	size_t len;

	tap_check(settings_value_parse(SETTINGS_TYPE_HEX, 0, "010203", out, sizeof(out), &len) == -EMSGSIZE,
		  __FILE__, __LINE__, "hex longer than the buffer");
	tap_check(settings_value_parse(SETTINGS_TYPE_STRING, 0, "abc", out, sizeof(out), &len) == -EMSGSIZE,
		  __FILE__, __LINE__, "string longer than the buffer");
	tap_check(settings_value_parse(SETTINGS_TYPE_UINT, 4, "1", out, sizeof(out), &len) == -EMSGSIZE,
		  __FILE__, __LINE__, "integer wider than the buffer");
}

static void test_format(void)
{
	static const uint8_t neg[4] = { 0xfe, 0xff, 0xff, 0xff }, text[5] = { 'S', 'N', '\n', '\\', 0 };
	char out[64];

	tap_check(settings_value_format(SETTINGS_TYPE_INT, neg, 4, out, sizeof(out)) == 0 && strcmp(out, "-2") == 0,
		  __FILE__, __LINE__, "int32 -2");
	tap_check(settings_value_format(SETTINGS_TYPE_UINT, neg, 4, out, sizeof(out)) == 0 &&
		  strcmp(out, "4294967294") == 0, __FILE__, __LINE__, "uint32");
	tap_check(settings_value_format(SETTINGS_TYPE_INT, neg, 1, out, sizeof(out)) == 0 && strcmp(out, "-2") == 0,
		  __FILE__, __LINE__, "int8 -2");
	tap_check(settings_value_format(SETTINGS_TYPE_INT, neg, 3, out, sizeof(out)) == -EINVAL, __FILE__, __LINE__,
		  "3 bytes are no integer");
	tap_check(settings_value_format(SETTINGS_TYPE_STRING, text, 5, out, sizeof(out)) == 0 &&
		  strcmp(out, "SN\\x0a\\x5c") == 0, __FILE__, __LINE__, "string: escapes, the trailing NUL dropped");
	tap_check(settings_value_format(SETTINGS_TYPE_HEX, text, 5, out, sizeof(out)) == 0 &&
		  strcmp(out, "534e0a5c00") == 0, __FILE__, __LINE__, "hex");
	tap_check(settings_value_format(SETTINGS_TYPE_HEX, text, 5, out, 10) == -EMSGSIZE, __FILE__, __LINE__,
		  "hex without room");
	tap_check(settings_value_format(SETTINGS_TYPE_STRING, text, 5, out, 4) == -EMSGSIZE, __FILE__, __LINE__,
		  "string without room");
}

static void test_type_names(void)
{
	SettingsType t;

	tap_check(settings_type_parse("uint", &t) == 0 && t == SETTINGS_TYPE_UINT, __FILE__, __LINE__, "uint");
	tap_check(settings_type_parse("float", &t) == -EINVAL, __FILE__, __LINE__, "float");
	tap_check(strcmp(settings_type_name(SETTINGS_TYPE_STRING), "string") == 0, __FILE__, __LINE__, "name");
}

int main(void)
{
	static const TapTest tests[] = {
		TAP_TEST(test_parse_table),
		TAP_TEST(test_parse_too_long),
		TAP_TEST(test_format),
		TAP_TEST(test_type_names),
	};
	return tap_run(tests, ARRAY_SIZE(tests));
}
