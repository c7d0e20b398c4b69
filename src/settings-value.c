/* SPDX-License-Identifier: MIT */
/* Settings values between the user's text and the device's bytes (settings-value.h). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings-value.h"
#include "util.h"

static const char *const type_names[] = {
	[SETTINGS_TYPE_HEX] = "hex",
	[SETTINGS_TYPE_STRING] = "string",
	[SETTINGS_TYPE_INT] = "int",
	[SETTINGS_TYPE_UINT] = "uint",
};

int settings_type_parse(const char *text, SettingsType *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(type_names); i++)
		if (strcmp(text, type_names[i]) == 0) {
			*out = (SettingsType)i;
			return 0;
		}
	return -EINVAL;
}

const char *settings_type_name(SettingsType type)
{
	return (size_t)type < ARRAY_SIZE(type_names) ? type_names[type] : "?";
}

static bool width_valid(unsigned width)
{
	return width == 1 || width == 2 || width == 4 || width == 8;
}

static int parse_hex(const char *text, uint8_t *out, size_t out_size, size_t *out_len)
{
	size_t n = 0;

	if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
		text += 2;
	while (*text) {
		int hi, lo;

		if (*text == ':' || *text == ' ') {
			text++;
			continue;
		}
		hi = hex_digit(text[0]);
		lo = hi < 0 ? -1 : hex_digit(text[1]);
		if (lo < 0)
			return -EINVAL;
		if (n == out_size)
			return -EMSGSIZE;
		out[n++] = (uint8_t)(hi << 4 | lo);
		text += 2;
	}
	*out_len = n;
	return 0;
}

static void put_le(uint64_t v, unsigned width, uint8_t *out)
{
	for (unsigned i = 0; i < width; i++)
		out[i] = (uint8_t)(v >> (8 * i));
}

/* A signed number in width bytes: two's complement, range-checked. */
static int parse_int(const char *text, unsigned width, uint64_t *out)
{
	int64_t max = width == 8 ? INT64_MAX : (int64_t)((UINT64_C(1) << (8 * width - 1)) - 1);
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 0);
	if (end == text || *end)
		return -EINVAL;
	if (errno == ERANGE || v > max || v < -max - 1)
		return -ERANGE;
	*out = (uint64_t)v;
	return 0;
}

static int parse_uint(const char *text, unsigned width, uint64_t *out)
{
	uint64_t max = width == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * width)) - 1;
	char *end;
	unsigned long long v;

	/* strtoull() takes "-1" as its negation: a minus sign is refused here. */
	if (strchr(text, '-'))
		return -ERANGE;
	errno = 0;
	v = strtoull(text, &end, 0);
	if (end == text || *end || isspace((unsigned char)text[0]))
		return -EINVAL;
	if (errno == ERANGE || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int settings_value_parse(SettingsType type, unsigned width, const char *text, uint8_t *out, size_t out_size,
			 size_t *out_len)
{
	uint64_t v;
	int r;

	switch (type) {
	case SETTINGS_TYPE_HEX:
		return parse_hex(text, out, out_size, out_len);
	case SETTINGS_TYPE_STRING:
		if (strlen(text) > out_size)
			return -EMSGSIZE;
		*out_len = strlen(text);
		memcpy(out, text, *out_len);
		return 0;
	case SETTINGS_TYPE_INT:
	case SETTINGS_TYPE_UINT:
		if (!width_valid(width))
			return -EINVAL;
		if (width > out_size)
			return -EMSGSIZE;
		r = type == SETTINGS_TYPE_INT ? parse_int(text, width, &v) : parse_uint(text, width, &v);
		if (r < 0)
			return r;
		put_le(v, width, out);
		*out_len = width;
		return 0;
	}
	return -EINVAL;
}

static uint64_t get_le(const uint8_t *val, size_t len)
{
	uint64_t v = 0;

	for (size_t i = len; i-- > 0;)
		v = v << 8 | val[i];
	return v;
}

static int format_number(bool is_signed, const uint8_t *val, size_t len, char *out, size_t out_size)
{
	uint64_t v;
	int n;

	if (!width_valid((unsigned)len))
		return -EINVAL;
	v = get_le(val, len);
	if (is_signed && len < 8 && (v >> (8 * len - 1)) & 1)
		v |= ~UINT64_C(0) << (8 * len); /* sign-extend */
	n = is_signed ? snprintf(out, out_size, "%" PRId64, (int64_t)v) : snprintf(out, out_size, "%" PRIu64, v);
	return n < 0 || (size_t)n >= out_size ? -EMSGSIZE : 0;
}

static int format_string(const uint8_t *val, size_t len, char *out, size_t out_size)
{
	size_t used = 0;

	/* Applications often store C strings with their terminator. */
	if (len > 0 && val[len - 1] == '\0')
		len--;
	for (size_t i = 0; i < len; i++) {
		bool plain = val[i] >= 0x20 && val[i] < 0x7f && val[i] != '\\';
		int n = plain ? snprintf(out + used, out_size - used, "%c", val[i])
			      : snprintf(out + used, out_size - used, "\\x%02x", val[i]);

		if (n < 0 || (size_t)n >= out_size - used)
			return -EMSGSIZE;
		used += (size_t)n;
	}
	if (used >= out_size)
		return -EMSGSIZE;
	out[used] = '\0';
	return 0;
}

static int format_hex(const uint8_t *val, size_t len, char *out, size_t out_size)
{
	if (out_size < 2 * len + 1)
		return -EMSGSIZE;
	hex_encode(val, len, out);
	return 0;
}

int settings_value_format(SettingsType type, const uint8_t *val, size_t len, char *out, size_t out_size)
{
	if (out_size == 0)
		return -EMSGSIZE;
	switch (type) {
	case SETTINGS_TYPE_HEX: return format_hex(val, len, out, out_size);
	case SETTINGS_TYPE_STRING: return format_string(val, len, out, out_size);
	case SETTINGS_TYPE_INT: return format_number(true, val, len, out, out_size);
	case SETTINGS_TYPE_UINT: return format_number(false, val, len, out, out_size);
	}
	return -EINVAL;
}
