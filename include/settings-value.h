/* SPDX-License-Identifier: MIT */
/*
 * A settings value as the user types and reads it. Zephyr's settings store a value as raw bytes
 * (settings_runtime_set() hands them to the application's h_set as they came), so the type is only the
 * user's way of spelling them: hex digits, a string (its bytes, no NUL added), or a signed or unsigned
 * integer of 1, 2, 4 or 8 bytes, little-endian as the variable behind it sits in the memory of the
 * little-endian Cortex-M (and native_sim) devices Zephyr's settings handlers memcpy into. Pure, no I/O.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef enum SettingsType {
	SETTINGS_TYPE_HEX,
	SETTINGS_TYPE_STRING,
	SETTINGS_TYPE_INT,
	SETTINGS_TYPE_UINT,
} SettingsType;

/* "hex", "string", "int", "uint" → type; -EINVAL otherwise. */
int settings_type_parse(const char *text, SettingsType *out);
const char *settings_type_name(SettingsType type);

/* Text → bytes. hex: pairs of hex digits, optionally separated by ':' or ' ', an optional "0x" first;
 * int/uint: a decimal or 0x number in width bytes (1, 2, 4 or 8). Returns 0, -EINVAL (not a value of
 * that type, or a bad width), -ERANGE (the number does not fit width bytes) or -EMSGSIZE (more than
 * out_size bytes). */
int settings_value_parse(SettingsType type, unsigned width, const char *text, uint8_t *out, size_t out_size,
			 size_t *out_len);

/* Bytes → text, NUL-terminated. hex: two lowercase digits a byte; string: the bytes with one trailing NUL
 * dropped and bytes outside printable ASCII written \xNN; int/uint: the number, when len is 1, 2, 4 or 8
 * (-EINVAL otherwise). -EMSGSIZE when out_size is too small (4 × len + 1 always fits). */
int settings_value_format(SettingsType type, const uint8_t *val, size_t len, char *out, size_t out_size);
