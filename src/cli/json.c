/* SPDX-License-Identifier: MIT */
/* A small streaming JSON writer for --json output (RFC 8259 escaping). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>

#include "cli.h"
#include "util.h"

static void json_separator(JsonWriter *j)
{
	if (j->pending_key) {
		j->pending_key = false;
		return;
	}
	if (j->depth > 0 && j->need_comma[j->depth])
		fputc(',', j->out);
	if (j->depth > 0)
		j->need_comma[j->depth] = true;
}

static void json_open(JsonWriter *j, char c)
{
	json_separator(j);
	fputc(c, j->out);
	if (j->depth + 1 < (int)ARRAY_SIZE(j->need_comma))
		j->depth++;
	j->need_comma[j->depth] = false;
}

static void json_close(JsonWriter *j, char c)
{
	fputc(c, j->out);
	if (j->depth > 0)
		j->depth--;
}

/* Every top-level object is a line a rack's reader may meet alone: it says which schema it follows and
 * which device it is about (null when none: image info, the rack's summary). */
void json_begin_object(JsonWriter *j)
{
	bool line = j->depth == 0 && !j->pending_key;

	json_open(j, '{');
	if (!line)
		return;
	json_key(j, "schema_version");
	json_uint(j, CLI_JSON_SCHEMA_VERSION);
	json_key(j, "device");
	if (j->device)
		json_string(j, j->device);
	else
		json_null(j);
}

void json_end_object(JsonWriter *j) { json_close(j, '}'); }
void json_begin_array(JsonWriter *j) { json_open(j, '['); }
void json_end_array(JsonWriter *j) { json_close(j, ']'); }

static void json_raw_string(JsonWriter *j, const char *s)
{
	fputc('"', j->out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", j->out); break;
		case '\\': fputs("\\\\", j->out); break;
		case '\n': fputs("\\n", j->out); break;
		case '\r': fputs("\\r", j->out); break;
		case '\t': fputs("\\t", j->out); break;
		default:
			if (*p < 0x20)
				fprintf(j->out, "\\u%04x", *p);
			else
				fputc(*p, j->out);
		}
	}
	fputc('"', j->out);
}

void json_key(JsonWriter *j, const char *key)
{
	json_separator(j);
	json_raw_string(j, key);
	fputc(':', j->out);
	j->pending_key = true;
}

void json_string(JsonWriter *j, const char *s)
{
	json_separator(j);
	json_raw_string(j, s);
}

void json_uint(JsonWriter *j, uint64_t v)
{
	json_separator(j);
	fprintf(j->out, "%" PRIu64, v);
}

void json_int(JsonWriter *j, int64_t v)
{
	json_separator(j);
	fprintf(j->out, "%" PRId64, v);
}

void json_double(JsonWriter *j, double v)
{
	json_separator(j);
	if (isfinite(v))
		fprintf(j->out, "%.3f", v);
	else
		fputs("null", j->out);
}

void json_bool(JsonWriter *j, bool v)
{
	json_separator(j);
	fputs(v ? "true" : "false", j->out);
}

void json_null(JsonWriter *j)
{
	json_separator(j);
	fputs("null", j->out);
}

void json_hex(JsonWriter *j, const uint8_t *data, size_t len)
{
	json_separator(j);
	fputc('"', j->out);
	for (size_t i = 0; i < len; i++)
		fprintf(j->out, "%02x", data[i]);
	fputc('"', j->out);
}

void json_end_line(JsonWriter *j)
{
	fputc('\n', j->out);
	if (fflush(j->out) != 0 && !j->write_errno)
		j->write_errno = errno;
	j->depth = 0;
	j->need_comma[0] = false;
	j->pending_key = false;
}

void json_line_string(JsonWriter *j, const char *key, const char *value)
{
	json_begin_object(j);
	json_key(j, key);
	json_string(j, value);
	json_end_object(j);
	json_end_line(j);
}
