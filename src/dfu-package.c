/* SPDX-License-Identifier: MIT */
/* dfu_application.zip (dfu-package.h): a bounded zip reader, a bounded manifest.json reader, and the check
 * that the two agree, before anything connects. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfu-package.h"
#include "fs-transfer.h"
#include "image.h"
#include "mgmt.h"
#include "util.h"

/* PKWARE APPNOTE.TXT 6.3: signatures and fixed header sizes. */
#define ZIP_LOCAL_SIG 0x04034b50u
#define ZIP_CENTRAL_SIG 0x02014b50u
#define ZIP_END_SIG 0x06054b50u
#define ZIP_LOCAL_SIZE 30u
#define ZIP_CENTRAL_SIZE 46u
#define ZIP_END_SIZE 22u
#define ZIP_COMMENT_MAX 0xffffu
#define ZIP_FLAG_ENCRYPTED 0x0001u

#define JSON_DEPTH_MAX 8
#define JSON_TEXT_MAX 256

static int fail(char *why, size_t why_size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t why_size, const char *fmt, ...)
{
	va_list ap;

	if (why && why_size) {
		va_start(ap, fmt);
		vsnprintf(why, why_size, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

bool dfu_package_is_zip(const uint8_t *buf, size_t len)
{
	return len >= 4 && le32(buf) == ZIP_LOCAL_SIG;
}

/* The end of central directory record: the last one, within the largest comment from the end. */
static int zip_find_end(const uint8_t *buf, size_t len, size_t *at)
{
	size_t lowest = len > ZIP_END_SIZE + ZIP_COMMENT_MAX ? len - ZIP_END_SIZE - ZIP_COMMENT_MAX : 0;

	if (len < ZIP_END_SIZE)
		return -EBADMSG;
	for (size_t i = len - ZIP_END_SIZE + 1; i-- > lowest;)
		if (le32(buf + i) == ZIP_END_SIG && i + ZIP_END_SIZE + le16(buf + i + 20) == len) {
			*at = i;
			return 0;
		}
	return -EBADMSG;
}

/* A member name to extract: relative, no "..", no backslash (a Windows separator), printable. */
static bool zip_name_safe(const char *name)
{
	const char *p = name;

	if (!*name || *name == '/')
		return false;
	for (const char *c = name; *c; c++)
		if (*c == '\\' || (unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	while (p) {
		if (strncmp(p, "..", 2) == 0 && (p[2] == '/' || p[2] == '\0'))
			return false;
		p = strchr(p, '/');
		if (p)
			p++;
	}
	return true;
}

/* The member's bytes behind its local header, which must agree with the central one on the name. */
static int zip_member_data(const uint8_t *buf, size_t end, uint32_t offset, const char *name, size_t size,
			   const uint8_t **data, char *why, size_t why_size)
{
	size_t name_len = strlen(name), start;

	if (offset > end || end - offset < ZIP_LOCAL_SIZE || le32(buf + offset) != ZIP_LOCAL_SIG)
		return fail(why, why_size, "member %s: no local header at offset %" PRIu32, name, offset);
	if (le16(buf + offset + 26) != name_len || end - offset - ZIP_LOCAL_SIZE < name_len ||
	    memcmp(buf + offset + ZIP_LOCAL_SIZE, name, name_len) != 0)
		return fail(why, why_size, "member %s: the local header names another file", name);
	start = (size_t)offset + ZIP_LOCAL_SIZE + name_len + le16(buf + offset + 28);
	if (start > end || end - start < size)
		return fail(why, why_size, "member %s: its %zu bytes run past the central directory", name, size);
	*data = buf + start;
	return 0;
}

static int zip_member_parse(const uint8_t *buf, size_t cd_end, size_t *pos, size_t data_end, ZipMember *m,
			    char *why, size_t why_size)
{
	const uint8_t *h = buf + *pos;
	uint16_t method, flags, name_len;
	uint32_t crc, csize, usize;

	if (cd_end - *pos < ZIP_CENTRAL_SIZE || le32(h) != ZIP_CENTRAL_SIG)
		return fail(why, why_size, "the central directory is truncated or malformed");
	flags = le16(h + 8);
	method = le16(h + 10);
	crc = le32(h + 16);
	csize = le32(h + 20);
	usize = le32(h + 24);
	name_len = le16(h + 28);
	if (cd_end - *pos - ZIP_CENTRAL_SIZE < (size_t)name_len + le16(h + 30) + le16(h + 32))
		return fail(why, why_size, "the central directory is truncated");
	if (name_len == 0 || name_len >= sizeof(m->name))
		return fail(why, why_size, "a member name of %u bytes (at most %zu)", name_len, sizeof(m->name) - 1);
	memcpy(m->name, h + ZIP_CENTRAL_SIZE, name_len);
	m->name[name_len] = '\0';
	*pos += ZIP_CENTRAL_SIZE + (size_t)name_len + le16(h + 30) + le16(h + 32);
	if (strlen(m->name) != name_len || !zip_name_safe(m->name))
		return fail(why, why_size, "member name '%s' is absolute, climbs out with '..' or is not printable",
			    m->name);
	if (flags & ZIP_FLAG_ENCRYPTED)
		return fail(why, why_size, "member %s is encrypted", m->name);
	if (csize == 0xffffffffu || usize == 0xffffffffu)
		return fail(why, why_size, "member %s is in zip64 form: not an NCS package", m->name);
	/* generate_zip.py's ZipFile(..., 'w') stores; a repacked zip may deflate. */
	if (method != 0)
		return fail(why, why_size, "member %s is compressed (method %u): NCS stores its members; repack with "
			    "'zip -0'", m->name, method);
	if (csize != usize)
		return fail(why, why_size, "member %s: stored with two sizes (%" PRIu32 " and %" PRIu32 ")", m->name,
			    csize, usize);
	m->size = usize;
	if (zip_member_data(buf, data_end, le32(h + 42), m->name, m->size, &m->data, why, why_size))
		return -EBADMSG;
	if (fs_crc32(m->data, m->size) != crc)
		return fail(why, why_size, "member %s: its CRC-32 does not match: the zip is damaged", m->name);
	return 0;
}

int zip_archive_parse(const uint8_t *buf, size_t len, ZipArchive *out, char *why, size_t why_size)
{
	size_t end, pos, cd_end;
	uint32_t cd_size, cd_offset;
	uint16_t entries;

	*out = (ZipArchive){ 0 };
	if (zip_find_end(buf, len, &end))
		return fail(why, why_size, "not a zip archive (no end of central directory)");
	entries = le16(buf + end + 10);
	cd_size = le32(buf + end + 12);
	cd_offset = le32(buf + end + 16);
	if (le16(buf + end + 4) != 0 || le16(buf + end + 6) != 0 || le16(buf + end + 8) != entries)
		return fail(why, why_size, "a zip split over several disks");
	if (cd_offset > end || end - cd_offset < cd_size)
		return fail(why, why_size, "the central directory lies outside the file");
	if (entries > DFU_PACKAGE_MEMBERS_MAX)
		return fail(why, why_size, "%u members (at most %u)", entries, DFU_PACKAGE_MEMBERS_MAX);
	pos = cd_offset;
	cd_end = (size_t)cd_offset + cd_size;
	for (uint16_t i = 0; i < entries; i++) {
		ZipMember *m = &out->members[i];

		if (zip_member_parse(buf, cd_end, &pos, cd_offset, m, why, why_size))
			return -EBADMSG;
		if (zip_archive_find(out, m->name))
			return fail(why, why_size, "member %s is there twice", m->name);
		out->count++;
	}
	return 0;
}

const ZipMember *zip_archive_find(const ZipArchive *zip, const char *name)
{
	for (size_t i = 0; i < zip->count; i++)
		if (strcmp(zip->members[i].name, name) == 0)
			return &zip->members[i];
	return NULL;
}

/* JSON (RFC 8259), as much as manifest.json needs: objects, arrays, strings, numbers, literals. */
typedef struct Json {
	const char *p, *end;
	char *why;
	size_t why_size;
} Json;

static void json_ws(Json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool json_eat(Json *j, char c)
{
	json_ws(j);
	if (j->p < j->end && *j->p == c) {
		j->p++;
		return true;
	}
	return false;
}

static int json_hex4(Json *j, unsigned *out)
{
	*out = 0;
	if (j->end - j->p < 4)
		return -EBADMSG;
	for (int i = 0; i < 4; i++) {
		char c = *j->p++;
		unsigned v = c >= '0' && c <= '9' ? (unsigned)(c - '0') : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
			   : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16;

		if (v == 16)
			return -EBADMSG;
		*out = *out << 4 | v;
	}
	return 0;
}

/* A string into out (NUL-terminated; out NULL skips it). Over out_size, or other than ASCII escapes: an
 * error, as no value the manifest needs is long or non-ASCII. */
static int json_string(Json *j, char *out, size_t out_size)
{
	size_t n = 0;

	if (!json_eat(j, '"'))
		return fail(j->why, j->why_size, "manifest.json: a string expected");
	while (j->p < j->end && *j->p != '"') {
		char c = *j->p++;
		unsigned u;

		if ((unsigned char)c < 0x20)
			return fail(j->why, j->why_size, "manifest.json: a control character in a string");
		if (c == '\\') {
			if (j->p >= j->end)
				break;
			c = *j->p++;
			switch (c) {
			case '"': case '\\': case '/': break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u':
				if (json_hex4(j, &u))
					return fail(j->why, j->why_size, "manifest.json: a bad \\u escape");
				c = u < 0x80 ? (char)u : '?';
				break;
			default:
				return fail(j->why, j->why_size, "manifest.json: a bad escape \\%c", c);
			}
		}
		if (out && n + 1 >= out_size)
			return fail(j->why, j->why_size, "manifest.json: a string over %zu bytes", out_size - 1);
		if (out)
			out[n] = c;
		n++;
	}
	if (j->p >= j->end)
		return fail(j->why, j->why_size, "manifest.json: an unterminated string");
	j->p++;
	if (out)
		out[n] = '\0';
	return 0;
}

/* A number or literal as its text (the characters that can make one up). */
static int json_bare(Json *j, char *out, size_t out_size)
{
	size_t n = 0;

	json_ws(j);
	while (j->p < j->end && *j->p && strchr("+-.0123456789eEtruefalsn", *j->p)) {
		if (n + 1 >= out_size)
			return fail(j->why, j->why_size, "manifest.json: a number over %zu characters", out_size - 1);
		out[n++] = *j->p++;
	}
	out[n] = '\0';
	if (n == 0)
		return fail(j->why, j->why_size, "manifest.json: a value expected");
	return 0;
}

static int json_skip(Json *j, int depth);

static int json_skip_members(Json *j, int depth, char close)
{
	if (json_eat(j, close))
		return 0;
	do {
		if (close == '}' && (json_string(j, NULL, 0) || !json_eat(j, ':')))
			return fail(j->why, j->why_size, "manifest.json: an object member expected");
		if (json_skip(j, depth + 1))
			return -EBADMSG;
	} while (json_eat(j, ','));
	return json_eat(j, close) ? 0 : fail(j->why, j->why_size, "manifest.json: '%c' expected", close);
}

/* Any value, not kept: the manifest's other keys ("firmware", future ones). */
static int json_skip(Json *j, int depth)
{
	char text[JSON_TEXT_MAX];

	if (depth > JSON_DEPTH_MAX)
		return fail(j->why, j->why_size, "manifest.json: nested deeper than %d", JSON_DEPTH_MAX);
	json_ws(j);
	if (j->p < j->end && *j->p == '"')
		return json_string(j, NULL, 0);
	if (json_eat(j, '{'))
		return json_skip_members(j, depth, '}');
	if (json_eat(j, '['))
		return json_skip_members(j, depth, ']');
	return json_bare(j, text, sizeof(text));
}

/* A string or a number as text: generate_zip.py writes image_index "0" but load_address 0x… as 4096. */
static int json_scalar(Json *j, char *out, size_t out_size, bool *is_string)
{
	json_ws(j);
	*is_string = j->p < j->end && *j->p == '"';
	return *is_string ? json_string(j, out, out_size) : json_bare(j, out, out_size);
}

static int manifest_int(Json *j, const char *key, const char *text, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 0);
	if (errno || end == text || *end || v < 0)
		return fail(j->why, j->why_size, "manifest.json: \"%s\" is \"%s\", not a non-negative integer", key, text);
	*out = v;
	return 0;
}

static int manifest_text(Json *j, const char *key, const char *text, char *out, size_t out_size)
{
	if (strlen(text) >= out_size)
		return fail(j->why, j->why_size, "manifest.json: \"%s\" is over %zu characters", key, out_size - 1);
	snprintf(out, out_size, "%s", text);
	return 0;
}

static int manifest_file_key(Json *j, const char *key, const char *text, DfuPackageFile *f)
{
	static const struct { const char *key; size_t offset; } ints[] = {
		{ "size", offsetof(DfuPackageFile, size) },
		{ "image_index", offsetof(DfuPackageFile, image_index) },
		{ "slot_index_primary", offsetof(DfuPackageFile, slot_index_primary) },
		{ "slot_index_secondary", offsetof(DfuPackageFile, slot_index_secondary) },
		{ "slot", offsetof(DfuPackageFile, slot) },
		{ "load_address", offsetof(DfuPackageFile, load_address) },
	};

	for (size_t i = 0; i < ARRAY_SIZE(ints); i++)
		if (strcmp(key, ints[i].key) == 0)
			return manifest_int(j, key, text, (int64_t *)(void *)((char *)f + ints[i].offset));
	if (strcmp(key, "file") == 0)
		return manifest_text(j, key, text, f->file, sizeof(f->file));
	if (strcmp(key, "version_MCUBOOT") == 0 || strcmp(key, "version_MCUBOOT+XIP") == 0)
		return manifest_text(j, key, text, f->version_mcuboot, sizeof(f->version_mcuboot));
	if (strcmp(key, "board") == 0)
		return manifest_text(j, key, text, f->board, sizeof(f->board));
	if (strcmp(key, "soc") == 0)
		return manifest_text(j, key, text, f->soc, sizeof(f->soc));
	if (strcmp(key, "type") == 0)
		return manifest_text(j, key, text, f->type, sizeof(f->type));
	return 0; /* modtime, version, and keys a later NCS adds */
}

static int manifest_file(Json *j, DfuPackageFile *f)
{
	char key[64], text[JSON_TEXT_MAX];
	bool is_string;

	*f = (DfuPackageFile){ .size = -1, .image_index = -1, .slot_index_primary = -1, .slot_index_secondary = -1,
			       .slot = -1, .load_address = -1 };
	if (!json_eat(j, '{'))
		return fail(j->why, j->why_size, "manifest.json: each of \"files\" must be an object");
	if (json_eat(j, '}'))
		return 0;
	do {
		if (json_string(j, key, sizeof(key)) || !json_eat(j, ':'))
			return fail(j->why, j->why_size, "manifest.json: a key expected in a \"files\" entry");
		json_ws(j);
		if (j->p < j->end && (*j->p == '{' || *j->p == '[')) {
			if (json_skip(j, 3))
				return -EBADMSG;
			continue;
		}
		if (json_scalar(j, text, sizeof(text), &is_string) || manifest_file_key(j, key, text, f))
			return -EBADMSG;
	} while (json_eat(j, ','));
	return json_eat(j, '}') ? 0 : fail(j->why, j->why_size, "manifest.json: '}' expected after a \"files\" entry");
}

static int manifest_files(Json *j, DfuPackage *out)
{
	if (!json_eat(j, '['))
		return fail(j->why, j->why_size, "manifest.json: \"files\" must be an array");
	if (json_eat(j, ']'))
		return 0;
	do {
		if (out->count == DFU_PACKAGE_IMAGES_MAX)
			return fail(j->why, j->why_size, "manifest.json lists over %d files", DFU_PACKAGE_IMAGES_MAX);
		if (manifest_file(j, &out->files[out->count]))
			return -EBADMSG;
		out->count++;
	} while (json_eat(j, ','));
	return json_eat(j, ']') ? 0 : fail(j->why, j->why_size, "manifest.json: ']' expected after \"files\"");
}

static int manifest_member(Json *j, DfuPackage *out, bool *has_files)
{
	char key[64], text[JSON_TEXT_MAX];
	bool is_string;

	if (json_string(j, key, sizeof(key)) || !json_eat(j, ':'))
		return fail(j->why, j->why_size, "manifest.json: a key expected");
	if (strcmp(key, "files") == 0) {
		*has_files = true;
		return manifest_files(j, out);
	}
	if (strcmp(key, "name") == 0)
		return json_string(j, out->name, sizeof(out->name));
	if (strcmp(key, "format-version") == 0)
		return json_scalar(j, text, sizeof(text), &is_string) ||
		       manifest_int(j, key, text, &out->format_version) ? -EBADMSG : 0;
	return json_skip(j, 1);
}

int dfu_manifest_parse(const char *text, size_t len, DfuPackage *out, char *why, size_t why_size)
{
	Json j = { .p = text, .end = text + len, .why = why, .why_size = why_size };
	bool has_files = false;

	*out = (DfuPackage){ .format_version = -1 };
	if (len > DFU_PACKAGE_MANIFEST_MAX)
		return fail(why, why_size, "manifest.json is over %u bytes", DFU_PACKAGE_MANIFEST_MAX);
	if (!json_eat(&j, '{'))
		return fail(why, why_size, "manifest.json is not a JSON object");
	if (!json_eat(&j, '}')) {
		do {
			if (manifest_member(&j, out, &has_files))
				return -EBADMSG;
		} while (json_eat(&j, ','));
		if (!json_eat(&j, '}'))
			return fail(why, why_size, "manifest.json: '}' expected");
	}
	json_ws(&j);
	if (j.p != j.end)
		return fail(why, why_size, "manifest.json: text after the object");
	if (!has_files || out->count == 0)
		return fail(why, why_size, "manifest.json lists no \"files\"");
	for (size_t i = 0; i < out->count; i++)
		if (out->files[i].slot >= 0)
			out->direct_xip = true;
	return 0;
}

/* The member is the image the entry describes: there, of the listed size, intact, of the listed version. */
static int package_check_file(const ZipArchive *zip, DfuPackageFile *f, char *why, size_t why_size)
{
	const ZipMember *m;
	ImageVerdict v;
	Image img;
	char version[40], reason[200];
	int cmp;

	if (!f->file[0])
		return fail(why, why_size, "manifest.json lists an entry without \"file\"");
	m = zip_archive_find(zip, f->file);
	if (!m)
		return fail(why, why_size, "manifest.json lists %s, which the zip does not hold", f->file);
	if (f->size < 0 || (uint64_t)f->size != m->size)
		return fail(why, why_size, "%s is %zu bytes but manifest.json says %" PRId64, f->file, m->size, f->size);
	if (f->image_index < 0 || f->image_index >= MGMT_MAX_IMAGES / 2)
		return fail(why, why_size, "manifest.json gives %s no usable \"image_index\"", f->file);
	if (image_parse(m->data, m->size, &img, reason, sizeof(reason)))
		return fail(why, why_size, "%s is not an MCUboot image: %s", f->file, reason);
	if (image_verify(&img, NULL, &v) == 0 && !v.hash_ok && !v.encrypted)
		return fail(why, why_size, "%s: %s", f->file, v.why);
	image_version_format(&img.version, false, version, sizeof(version));
	if (f->version_mcuboot[0] &&
	    (mgmt_version_compare(f->version_mcuboot, version, &cmp) < 0 || cmp != 0))
		return fail(why, why_size, "%s is version %s but manifest.json says %s", f->file, version,
			    f->version_mcuboot);
	f->data = m->data;
	f->data_len = m->size;
	return 0;
}

static int package_check_indices(const DfuPackage *p, char *why, size_t why_size)
{
	for (size_t i = 0; i < p->count; i++)
		for (size_t k = 0; k < i; k++) {
			const DfuPackageFile *a = &p->files[k], *b = &p->files[i];

			/* Direct-xip: one image built for each slot, the device takes the one for its free slot. */
			if (a->image_index == b->image_index && !(a->slot >= 0 && b->slot >= 0 && a->slot != b->slot))
				return fail(why, why_size, "manifest.json gives %s and %s the same image_index %" PRId64,
					    a->file, b->file, a->image_index);
		}
	return 0;
}

/* Both variants of a direct-xip image, and that they agree: NCS numbers a variant's "slot" as MCUboot
 * does, image * 2 for the primary and + 1 for the secondary (sdk-nrf cmake/sysbuild/zip.cmake at
 * 07a7d3bfded66451ccff3afa1a8c630fa0b9af97, mcuboot_image_number_to_slot); both are one version; signed with
 * imgtool --rom-fixed they carry different addresses. The device may run either slot, so either may be
 * the one to send: a package without both cannot update every device. */
static int package_check_pair(const DfuPackageFile *a, const DfuPackageFile *b, char *why, size_t why_size)
{
	Image ia, ib;

	if (image_parse(a->data, a->data_len, &ia, NULL, 0) || image_parse(b->data, b->data_len, &ib, NULL, 0))
		return fail(why, why_size, "%s or %s is not an MCUboot image", a->file, b->file);
	if (memcmp(&ia.version, &ib.version, sizeof(ia.version)) != 0)
		return fail(why, why_size, "the direct-xip variants %s and %s are of different versions", a->file, b->file);
	if (ia.hash_len == ib.hash_len && memcmp(ia.hash, ib.hash, ia.hash_len) == 0)
		return fail(why, why_size, "the direct-xip variants %s and %s are the same image: one build cannot run "
			    "from both slots", a->file, b->file);
	if ((ia.flags & IMAGE_F_ROM_FIXED) && (ib.flags & IMAGE_F_ROM_FIXED) && ia.load_addr == ib.load_addr)
		return fail(why, why_size, "the direct-xip variants %s and %s are both linked for address 0x%x",
			    a->file, b->file, ia.load_addr);
	return 0;
}

static int package_check_variants(const DfuPackage *p, char *why, size_t why_size)
{
	for (size_t i = 0; i < p->count; i++) {
		const DfuPackageFile *f = &p->files[i], *twin = NULL;

		if (f->slot < 0)
			continue;
		if (f->slot / 2 != f->image_index)
			return fail(why, why_size, "manifest.json gives %s \"slot\" %" PRId64 ", which is not one of image "
				    "%" PRId64 "'s (%" PRId64 " or %" PRId64 ")", f->file, f->slot, f->image_index,
				    2 * f->image_index, 2 * f->image_index + 1);
		for (size_t k = 0; k < p->count; k++)
			if (k != i && p->files[k].image_index == f->image_index)
				twin = &p->files[k];
		if (!twin)
			return fail(why, why_size, "%s is a direct-xip variant for slot %" PRId64 " only: the package needs "
				    "the variant for the other slot too, as the device may run either", f->file, f->slot);
		if (f < twin && package_check_pair(f, twin, why, why_size))
			return -EBADMSG;
	}
	return 0;
}

int dfu_package_parse(const uint8_t *buf, size_t len, DfuPackage *out, char *why, size_t why_size)
{
	ZipArchive *zip = calloc(1, sizeof(*zip));
	const ZipMember *manifest;
	int r;

	*out = (DfuPackage){ 0 };
	if (!zip)
		return -ENOMEM;
	r = zip_archive_parse(buf, len, zip, why, why_size);
	if (r == 0 && !(manifest = zip_archive_find(zip, "manifest.json")))
		r = fail(why, why_size, "the zip holds no manifest.json: not an nRF Connect SDK update package");
	if (r == 0)
		r = dfu_manifest_parse((const char *)manifest->data, manifest->size, out, why, why_size);
	for (size_t i = 0; r == 0 && i < out->count; i++)
		r = package_check_file(zip, &out->files[i], why, why_size);
	if (r == 0)
		r = package_check_indices(out, why, why_size);
	if (r == 0)
		r = package_check_variants(out, why, why_size);
	free(zip);
	return r;
}
