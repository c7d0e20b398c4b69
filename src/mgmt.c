/* SPDX-License-Identifier: MIT */
/* Request bodies and response decoders of the OS, image, stat, shell, enumeration and Zephyr-basic groups
 * and the settings group (smp_group_0.rst, _1.rst, _2.rst, _3.rst, _9.rst, _10.rst, _63.rst). */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt.h"
#include "smp-cbor.h"
#include "smp.h"
#include "util.h"

int mgmt_build_empty(uint8_t *out, size_t out_size)
{
	SmpCborWriter w;

	smp_cbor_writer_init(&w, out, out_size);
	smp_cbor_put_map(&w, 0);
	return smp_cbor_writer_done(&w);
}

/* A body of one text field, or {} when the text is NULL. */
static int build_one_text(uint8_t *out, size_t out_size, const char *key, const char *text)
{
	SmpCborWriter w;

	smp_cbor_writer_init(&w, out, out_size);
	smp_cbor_put_map(&w, text ? 1 : 0);
	if (text) {
		smp_cbor_put_text(&w, key);
		smp_cbor_put_text(&w, text);
	}
	return smp_cbor_writer_done(&w);
}

int mgmt_build_echo(uint8_t *out, size_t out_size, const char *text)
{
	return build_one_text(out, out_size, "d", text);
}

int mgmt_build_reset(uint8_t *out, size_t out_size, bool force)
{
	SmpCborWriter w;

	smp_cbor_writer_init(&w, out, out_size);
	smp_cbor_put_map(&w, force ? 1 : 0);
	if (force) {
		/* os_mgmt reset: "force" asks the application's reset hook to allow the reset. smp_group_0.rst
		 * calls it an int, but Zephyr 4.1's os_mgmt_reset() reads it with zcbor_bool_decode() and
		 * drops a map it cannot decode (force stays false): only a bool gets through. */
		smp_cbor_put_text(&w, "force");
		smp_cbor_put_bool(&w, true);
	}
	return smp_cbor_writer_done(&w);
}

int mgmt_build_os_info(uint8_t *out, size_t out_size, const char *format)
{
	return build_one_text(out, out_size, "format", format);
}

int mgmt_build_bootloader_info(uint8_t *out, size_t out_size, const char *query)
{
	return build_one_text(out, out_size, "query", query);
}

int mgmt_build_datetime_set(uint8_t *out, size_t out_size, const char *iso8601)
{
	return build_one_text(out, out_size, "datetime", iso8601);
}

static int decode_required_text(const cbor_item_t *body, const char *key, char *out, size_t out_size)
{
	int r = smp_cbor_get_text(body, key, out, out_size);

	return r == -EMSGSIZE ? 0 : r < 0 ? -EBADMSG : 0; /* a too long text is cut, not an error */
}

int mgmt_decode_echo(const cbor_item_t *body, char *out, size_t out_size)
{
	return decode_required_text(body, "r", out, out_size);
}

int mgmt_decode_os_info(const cbor_item_t *body, char *out, size_t out_size)
{
	return decode_required_text(body, "output", out, out_size);
}

int mgmt_decode_datetime(const cbor_item_t *body, char *out, size_t out_size)
{
	return decode_required_text(body, "datetime", out, out_size);
}

int mgmt_decode_params(const cbor_item_t *body, MgmtParams *out)
{
	uint64_t size, count;

	if (smp_cbor_get_uint(body, "buf_size", &size) < 0 || smp_cbor_get_uint(body, "buf_count", &count) < 0)
		return -EBADMSG;
	if (size > UINT32_MAX || count > UINT32_MAX)
		return -EBADMSG;
	out->buf_size = (uint32_t)size;
	out->buf_count = (uint32_t)count;
	return 0;
}

int mgmt_decode_bootloader_info(const cbor_item_t *body, MgmtBootloaderInfo *out)
{
	int r;

	*out = (MgmtBootloaderInfo){ 0 };
	r = smp_cbor_get_text(body, "bootloader", out->bootloader, sizeof(out->bootloader));
	if (r < 0 && r != -ENOENT && r != -EMSGSIZE)
		return -EBADMSG;
	r = smp_cbor_get_int(body, "mode", &out->mode);
	if (r < 0 && r != -ENOENT)
		return -EBADMSG;
	out->has_mode = r == 0;
	r = smp_cbor_get_bool(body, "no-downgrade", &out->no_downgrade);
	if (r < 0 && r != -ENOENT)
		return -EBADMSG;
	out->has_no_downgrade = r == 0;
	return 0;
}

/* MCUboot's enum mcuboot_mode (bootutil/boot_status.h), which os_mgmt reports as "mode"
 * (smp_group_0.rst, bootloader information; -1 is unknown). */
const char *mgmt_bootloader_mode_name(int64_t mode)
{
	static const char *const names[] = {
		"single-application", "swap-using-scratch", "overwrite-only", "swap-using-move", "direct-xip",
		"direct-xip-with-revert", "ram-load", "firmware-loader", "single-slot-ram-load", "swap-using-offset",
	};

	if (mode >= 0 && (size_t)mode < ARRAY_SIZE(names))
		return names[mode];
	return "unknown";
}

/* Flags Zephyr leaves out when false (img_mgmt_state.c only encodes true flags). */
static int decode_flag(const cbor_item_t *entry, const char *key, bool *out)
{
	int r = smp_cbor_get_bool(entry, key, out);

	if (r == -ENOENT) {
		*out = false;
		return 0;
	}
	return r;
}

static int decode_slot(const cbor_item_t *entry, MgmtImageSlot *s)
{
	uint64_t v;
	int r;

	*s = (MgmtImageSlot){ 0 };
	if (!cbor_isa_map(entry))
		return -EBADMSG;
	r = smp_cbor_get_uint(entry, "image", &v);
	if (r == 0 && v <= UINT32_MAX)
		s->image = (uint32_t)v;
	else if (r != -ENOENT)
		return -EBADMSG;
	if (smp_cbor_get_uint(entry, "slot", &v) < 0 || v > UINT32_MAX)
		return -EBADMSG;
	s->slot = (uint32_t)v;
	r = smp_cbor_get_text(entry, "version", s->version, sizeof(s->version));
	if (r < 0 && r != -ENOENT)
		return -EBADMSG;
	r = smp_cbor_get_bytes(entry, "hash", s->hash, sizeof(s->hash), &s->hash_len);
	if (r < 0 && r != -ENOENT)
		return -EBADMSG;
	if (decode_flag(entry, "bootable", &s->bootable) < 0 || decode_flag(entry, "pending", &s->pending) < 0 ||
	    decode_flag(entry, "confirmed", &s->confirmed) < 0 || decode_flag(entry, "active", &s->active) < 0 ||
	    decode_flag(entry, "permanent", &s->permanent) < 0)
		return -EBADMSG;
	return 0;
}

int mgmt_decode_image_list(const cbor_item_t *body, MgmtImageList *out)
{
	const cbor_item_t *images = smp_cbor_map_get(body, "images");
	int r;

	*out = (MgmtImageList){ 0 };
	if (!images || !cbor_isa_array(images))
		return -EBADMSG;
	/* Keeping the first entries of a longer list would hide slots that matter (a pending one). */
	out->reported = cbor_array_size(images);
	if (out->reported > MGMT_MAX_IMAGES)
		return -E2BIG;
	for (size_t i = 0; i < cbor_array_size(images); i++) {
		r = decode_slot(cbor_array_handle(images)[i], &out->slots[out->count]);
		if (r < 0)
			return r;
		out->count++;
	}
	r = smp_cbor_get_int(body, "splitStatus", &out->split_status);
	if (r < 0 && r != -ENOENT)
		return -EBADMSG;
	out->has_split_status = r == 0;
	return 0;
}

const MgmtImageSlot *mgmt_image_list_entry(const MgmtImageList *list, uint32_t image, uint32_t slot)
{
	for (size_t i = 0; i < list->count; i++)
		if (list->slots[i].image == image && list->slots[i].slot == slot)
			return &list->slots[i];
	return NULL;
}

const MgmtImageSlot *mgmt_image_list_slot(const MgmtImageList *list, uint32_t slot)
{
	return mgmt_image_list_entry(list, 0, slot);
}

const MgmtImageSlot *mgmt_image_list_find_hash(const MgmtImageList *list, const uint8_t *hash, size_t hash_len)
{
	for (size_t i = 0; i < list->count; i++)
		if (hash_len && list->slots[i].hash_len == hash_len && memcmp(list->slots[i].hash, hash, hash_len) == 0)
			return &list->slots[i];
	return NULL;
}

/* A uint field that may be absent: 1 found, 0 absent, -EBADMSG wrong type or above max. */
static int optional_uint(const cbor_item_t *map, const char *key, uint64_t max, uint64_t *out)
{
	int r = smp_cbor_get_uint(map, key, out);

	if (r == -ENOENT)
		return 0;
	if (r < 0 || *out > max)
		return -EBADMSG;
	return 1;
}

static int decode_slot_info_slot(const cbor_item_t *entry, MgmtSlotInfoSlot *s)
{
	uint64_t v = 0;
	int r;

	*s = (MgmtSlotInfoSlot){ 0 };
	if (!cbor_isa_map(entry) || smp_cbor_get_uint(entry, "slot", &v) < 0 || v > UINT32_MAX)
		return -EBADMSG;
	s->slot = (uint32_t)v;
	r = optional_uint(entry, "size", UINT64_MAX, &s->size);
	if (r < 0)
		return r;
	s->has_size = r;
	r = optional_uint(entry, "upload_image_id", UINT32_MAX, &v);
	if (r < 0)
		return r;
	s->has_upload_image_id = r;
	s->upload_image_id = (uint32_t)v;
	r = smp_cbor_get_int(entry, "rc", &s->rc);
	if (r < 0 && r != -ENOENT)
		return -EBADMSG;
	s->has_rc = r == 0;
	return 0;
}

static int decode_slot_info_image(const cbor_item_t *entry, MgmtSlotInfoImage *img)
{
	const cbor_item_t *slots;
	uint64_t v;
	int r;

	*img = (MgmtSlotInfoImage){ 0 };
	if (!cbor_isa_map(entry) || smp_cbor_get_uint(entry, "image", &v) < 0 || v > UINT32_MAX)
		return -EBADMSG;
	img->image = (uint32_t)v;
	slots = smp_cbor_map_get(entry, "slots");
	if (!slots || !cbor_isa_array(slots))
		return -EBADMSG;
	for (size_t i = 0; i < cbor_array_size(slots) && img->slot_count < MGMT_SLOT_INFO_SLOTS; i++) {
		r = decode_slot_info_slot(cbor_array_handle(slots)[i], &img->slots[img->slot_count]);
		if (r < 0)
			return r;
		img->slot_count++;
	}
	r = optional_uint(entry, "max_image_size", UINT64_MAX, &img->max_image_size);
	if (r < 0)
		return r;
	img->has_max_image_size = r;
	return 0;
}

int mgmt_decode_slot_info(const cbor_item_t *body, MgmtSlotInfo *out)
{
	const cbor_item_t *images = smp_cbor_map_get(body, "images");
	int r;

	*out = (MgmtSlotInfo){ 0 };
	if (!images || !cbor_isa_array(images))
		return -EBADMSG;
	for (size_t i = 0; i < cbor_array_size(images) && out->count < MGMT_SLOT_INFO_IMAGES; i++) {
		r = decode_slot_info_image(cbor_array_handle(images)[i], &out->images[out->count]);
		if (r < 0)
			return r;
		out->count++;
	}
	return 0;
}

int mgmt_build_image_state_write(uint8_t *out, size_t out_size, const uint8_t *hash, size_t hash_len, bool confirm)
{
	SmpCborWriter w;

	smp_cbor_writer_init(&w, out, out_size);
	smp_cbor_put_map(&w, hash ? 2 : 1);
	if (hash) {
		smp_cbor_put_text(&w, "hash");
		smp_cbor_put_bytes(&w, hash, hash_len);
	}
	smp_cbor_put_text(&w, "confirm");
	smp_cbor_put_bool(&w, confirm);
	return smp_cbor_writer_done(&w);
}

int mgmt_build_image_erase(uint8_t *out, size_t out_size, int slot)
{
	SmpCborWriter w;

	smp_cbor_writer_init(&w, out, out_size);
	smp_cbor_put_map(&w, slot >= 0 ? 1 : 0);
	if (slot >= 0) {
		smp_cbor_put_text(&w, "slot");
		smp_cbor_put_uint(&w, (uint64_t)slot);
	}
	return smp_cbor_writer_done(&w);
}

/* SMP image upload request, smp_group_1.rst: {image?, len?, off, sha?, data, upgrade?}. The key order
 * does not matter to Zephyr; "data" goes last so the writer can size it. "image" goes with the first chunk
 * only: img_mgmt_upload_inspect() takes the image number when off is 0 and keeps it for the upload. */
static bool upload_names_image(const MgmtUploadChunk *c)
{
	return c->first && c->image;
}

static size_t upload_pairs(const MgmtUploadChunk *c)
{
	size_t n = 2; /* off, data */

	if (upload_names_image(c))
		n++;
	if (c->first)
		n += 1 + (c->sha_len > 0 ? 1u : 0u) + (c->upgrade ? 1u : 0u);
	return n;
}

static void put_upload_fields(SmpCborWriter *w, const MgmtUploadChunk *c)
{
	smp_cbor_put_map(w, upload_pairs(c));
	if (upload_names_image(c)) {
		smp_cbor_put_text(w, "image");
		smp_cbor_put_uint(w, c->image);
	}
	if (c->first) {
		smp_cbor_put_text(w, "len");
		smp_cbor_put_uint(w, c->len);
		if (c->sha_len) {
			smp_cbor_put_text(w, "sha");
			smp_cbor_put_bytes(w, c->sha, c->sha_len);
		}
		if (c->upgrade) {
			smp_cbor_put_text(w, "upgrade");
			smp_cbor_put_bool(w, true);
		}
	}
	smp_cbor_put_text(w, "off");
	smp_cbor_put_uint(w, c->off);
}

int mgmt_build_upload_chunk(uint8_t *out, size_t out_size, const MgmtUploadChunk *chunk)
{
	SmpCborWriter w;

	smp_cbor_writer_init(&w, out, out_size);
	put_upload_fields(&w, chunk);
	smp_cbor_put_text(&w, "data");
	smp_cbor_put_bytes(&w, chunk->data, chunk->data_len);
	return smp_cbor_writer_done(&w);
}

/* The most bytes a byte string whose head and bytes take at most room can carry: the head grows with
 * the length (1, 2, 3 or 5 bytes here), so give up bytes until both fit. */
static size_t bytes_fitting(size_t room)
{
	size_t n = room ? room - 1 : 0;

	while (n > 0 && smp_cbor_head_size(n) + n > room)
		n--;
	return n;
}

/* Encoded size of a text key: head and bytes. */
static size_t key_size(const char *key)
{
	size_t n = strlen(key);

	return smp_cbor_head_size(n) + n;
}

/* Size of everything but the data bytes, computed field by field as put_upload_fields() writes them,
 * so the engine can fill frames to the byte (REFERENCE.md §4). */
size_t mgmt_upload_chunk_overhead(const MgmtUploadChunk *c)
{
	size_t n = smp_cbor_head_size(upload_pairs(c));

	if (upload_names_image(c))
		n += key_size("image") + smp_cbor_head_size(c->image);
	if (c->first) {
		n += key_size("len") + smp_cbor_head_size(c->len);
		if (c->sha_len)
			n += key_size("sha") + smp_cbor_head_size(c->sha_len) + c->sha_len;
		if (c->upgrade)
			n += key_size("upgrade") + 1;
	}
	n += key_size("off") + smp_cbor_head_size(c->off);
	return n + key_size("data") + smp_cbor_head_size(c->data_len);
}

size_t mgmt_upload_chunk_fit(const MgmtUploadChunk *chunk, size_t frame_size)
{
	MgmtUploadChunk c = *chunk;
	size_t fixed, room;

	/* The header's length field is 16 bits (REFERENCE.md §1): no body may exceed 65535 bytes. */
	frame_size = MIN(frame_size, (size_t)SMP_HEADER_SIZE + UINT16_MAX);
	c.data_len = 0;
	fixed = SMP_HEADER_SIZE + mgmt_upload_chunk_overhead(&c) - smp_cbor_head_size(0);
	if (frame_size <= fixed + 1)
		return 0;
	room = frame_size - fixed; /* for data's head and its bytes */
	return bytes_fitting(room);
}

int mgmt_decode_upload_rsp(const cbor_item_t *body, MgmtUploadRsp *out)
{
	int r;

	*out = (MgmtUploadRsp){ 0 };
	if (smp_cbor_get_uint(body, "off", &out->off) < 0)
		return -EBADMSG;
	r = smp_cbor_get_bool(body, "match", &out->match);
	if (r < 0 && r != -ENOENT)
		return -EBADMSG;
	out->has_match = r == 0;
	return 0;
}

void mgmt_version_text(const char *device_version, char *out, size_t out_size)
{
	unsigned a, b, c, build;
	char rest;
	int n = sscanf(device_version, "%u.%u.%u.%u%c", &a, &b, &c, &build, &rest);

	if (n == 4)
		snprintf(out, out_size, "%u.%u.%u+%u", a, b, c, build);
	else if (n == 3)
		snprintf(out, out_size, "%u.%u.%u+0", a, b, c);
	else
		snprintf(out, out_size, "%s", device_version);
}

/* "1.2.3", "1.2.3.4" or "1.2.3+4" into its four numbers (build 0 when absent). */
static int version_parse(const char *text, unsigned long out[4])
{
	const char *p = text;

	out[3] = 0;
	for (int i = 0; i < 4; i++) {
		char *end;

		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		errno = 0;
		out[i] = strtoul(p, &end, 10);
		if (errno || out[i] > UINT32_MAX)
			return -EINVAL;
		p = end;
		if (i == 2 && !*p)
			return 0; /* no build number */
		if (i == 3 ? *p != '\0' : *p != '.' && !(i == 2 && *p == '+'))
			return -EINVAL;
		p++;
	}
	return 0;
}

int mgmt_version_compare(const char *a, const char *b, int *cmp)
{
	unsigned long va[4], vb[4];

	if (version_parse(a, va) < 0 || version_parse(b, vb) < 0)
		return -EINVAL;
	*cmp = 0;
	for (int i = 0; i < 4 && !*cmp; i++)
		*cmp = va[i] < vb[i] ? -1 : va[i] > vb[i];
	return 0;
}

/* A name (map key or array element) as text: a cut name is kept, anything but text is refused. */
static int decode_name(const cbor_item_t *item, char *out, size_t out_size)
{
	int r = smp_cbor_item_text(item, out, out_size);

	return r == -EMSGSIZE ? 0 : r < 0 ? -EBADMSG : 0;
}

/* The entries of a map keyed by name (stat fields, tasks, memory pools) into an array of max entries of
 * entry_size bytes: the first ones that fit are kept, *truncated says whether any was left out. */
typedef int (*NamedEntryDecoder)(const cbor_item_t *key, const cbor_item_t *value, void *entry);

static int decode_named_entries(const cbor_item_t *map, void *entries, size_t entry_size, size_t max, size_t *count,
				bool *truncated, NamedEntryDecoder decode)
{
	struct cbor_pair *pairs;

	if (!map || !cbor_isa_map(map))
		return -EBADMSG;
	pairs = cbor_map_handle(map);
	for (size_t i = 0; i < cbor_map_size(map); i++) {
		if (*count == max) {
			*truncated = true;
			break;
		}
		if (decode(pairs[i].key, pairs[i].value, (uint8_t *)entries + *count * entry_size) < 0)
			return -EBADMSG;
		(*count)++;
	}
	return 0;
}

/* stat_mgmt.c stat_mgmt_list() */
int mgmt_decode_stat_list(const cbor_item_t *body, MgmtStatList *out)
{
	const cbor_item_t *list = smp_cbor_map_get(body, "stat_list");

	*out = (MgmtStatList){ 0 };
	if (!list || !cbor_isa_array(list))
		return -EBADMSG;
	for (size_t i = 0; i < cbor_array_size(list); i++) {
		if (out->count == MGMT_STAT_GROUPS) {
			out->truncated = true;
			break;
		}
		if (decode_name(cbor_array_handle(list)[i], out->names[out->count], MGMT_NAME_MAX) < 0)
			return -EBADMSG;
		out->count++;
	}
	return 0;
}

int mgmt_build_stat_show(uint8_t *out, size_t out_size, const char *name)
{
	return build_one_text(out, out_size, "name", name);
}

static int decode_stat_field(const cbor_item_t *key, const cbor_item_t *value, void *entry)
{
	MgmtStatField *f = entry;

	if (decode_name(key, f->name, sizeof(f->name)) < 0 || smp_cbor_item_uint(value, &f->value) < 0)
		return -EBADMSG;
	return 0;
}

/* stat_mgmt.c stat_mgmt_show(): values are zcbor_uint32_put() of a 16, 32 or 64-bit counter. */
int mgmt_decode_stat_show(const cbor_item_t *body, MgmtStatGroup *out)
{
	int r;

	*out = (MgmtStatGroup){ 0 };
	r = smp_cbor_get_text(body, "name", out->name, sizeof(out->name));
	if (r < 0 && r != -ENOENT && r != -EMSGSIZE)
		return -EBADMSG;
	return decode_named_entries(smp_cbor_map_get(body, "fields"), out->fields, sizeof(out->fields[0]),
				    MGMT_STAT_FIELDS, &out->count, &out->truncated, decode_stat_field);
}

/* shell_mgmt.c shell_mgmt_exec(): "argv" is an array of text strings. */
int mgmt_build_shell_exec(uint8_t *out, size_t out_size, char *const *argv, size_t argc)
{
	SmpCborWriter w;

	smp_cbor_writer_init(&w, out, out_size);
	smp_cbor_put_map(&w, 1);
	smp_cbor_put_text(&w, "argv");
	smp_cbor_put_array(&w, argc);
	for (size_t i = 0; i < argc; i++)
		smp_cbor_put_text(&w, argv[i]);
	return smp_cbor_writer_done(&w);
}

int mgmt_decode_shell_exec(const cbor_item_t *body, MgmtShellResult *out)
{
	int r = smp_cbor_get_text(body, "o", out->output, out->output_size);

	out->output_cut = r == -EMSGSIZE;
	if (r < 0 && r != -EMSGSIZE)
		return -EBADMSG;
	if (smp_cbor_get_int(body, "ret", &out->ret) < 0)
		return -EBADMSG;
	return 0;
}

/* An optional uint field of a task entry. */
static int task_field(const cbor_item_t *entry, const char *key, bool *has, uint64_t *out)
{
	int r = smp_cbor_get_uint(entry, key, out);

	*has = r == 0;
	return r == -ENOENT ? 0 : r;
}

static int decode_task(const cbor_item_t *key, const cbor_item_t *entry, void *out)
{
	MgmtTask *t = out;

	*t = (MgmtTask){ 0 };
	if (decode_name(key, t->name, sizeof(t->name)) < 0 || !cbor_isa_map(entry))
		return -EBADMSG;
	/* os_mgmt_taskstat_encode_priority(): signed by default, unsigned without
	 * CONFIG_MCUMGR_GRP_OS_TASKSTAT_SIGNED_PRIORITY. */
	if (smp_cbor_get_int(entry, "prio", &t->prio) < 0 || smp_cbor_get_uint(entry, "tid", &t->tid) < 0 ||
	    smp_cbor_get_uint(entry, "state", &t->state) < 0)
		return -EBADMSG;
	if (task_field(entry, "stksiz", &t->has_stksiz, &t->stksiz) < 0 ||
	    task_field(entry, "stkuse", &t->has_stkuse, &t->stkuse) < 0 ||
	    task_field(entry, "runtime", &t->has_runtime, &t->runtime) < 0 ||
	    task_field(entry, "cswcnt", &t->has_cswcnt, &t->cswcnt) < 0)
		return -EBADMSG;
	return 0;
}

int mgmt_decode_taskstat(const cbor_item_t *body, MgmtTaskStats *out)
{
	*out = (MgmtTaskStats){ 0 };
	return decode_named_entries(smp_cbor_map_get(body, "tasks"), out->tasks, sizeof(out->tasks[0]), MGMT_TASKS,
				    &out->count, &out->truncated, decode_task);
}

static int decode_pool(const cbor_item_t *key, const cbor_item_t *entry, void *out)
{
	MgmtMemPool *p = out;

	*p = (MgmtMemPool){ 0 };
	if (decode_name(key, p->name, sizeof(p->name)) < 0 || !cbor_isa_map(entry))
		return -EBADMSG;
	if (smp_cbor_get_uint(entry, "blksiz", &p->blksiz) < 0 || smp_cbor_get_uint(entry, "nblks", &p->nblks) < 0 ||
	    smp_cbor_get_uint(entry, "nfree", &p->nfree) < 0 || smp_cbor_get_uint(entry, "min", &p->min) < 0)
		return -EBADMSG;
	return 0;
}

int mgmt_decode_mpstat(const cbor_item_t *body, MgmtMemPools *out)
{
	*out = (MgmtMemPools){ 0 };
	return decode_named_entries(smp_cbor_map_get(body, "mpools"), out->pools, sizeof(out->pools[0]), MGMT_TASKS,
				    &out->count, &out->truncated, decode_pool);
}

/* One entry of enum list (a group id) or of enum details (a map with "group", "name"?, "handlers"?). */
static int decode_group_entry(const cbor_item_t *item, MgmtGroupInfo *g)
{
	uint64_t id = 0, handlers = 0;
	int r;

	*g = (MgmtGroupInfo){ 0 };
	if (!cbor_isa_map(item))
		r = smp_cbor_item_uint(item, &id);
	else
		r = smp_cbor_get_uint(item, "group", &id);
	if (r < 0 || id > UINT16_MAX)
		return -EBADMSG;
	g->id = (uint16_t)id;
	if (!cbor_isa_map(item))
		return 0;
	r = smp_cbor_get_text(item, "name", g->name, sizeof(g->name));
	if (r < 0 && r != -ENOENT && r != -EMSGSIZE)
		return -EBADMSG;
	g->has_name = r != -ENOENT;
	r = optional_uint(item, "handlers", UINT32_MAX, &handlers);
	if (r < 0)
		return r;
	g->has_handlers = r;
	g->handlers = (uint32_t)handlers;
	return 0;
}

int mgmt_decode_enum_groups(const cbor_item_t *body, MgmtGroupList *out)
{
	const cbor_item_t *groups = smp_cbor_map_get(body, "groups");

	*out = (MgmtGroupList){ 0 };
	if (!groups || !cbor_isa_array(groups))
		return -EBADMSG;
	for (size_t i = 0; i < cbor_array_size(groups); i++) {
		if (out->count == MGMT_GROUPS) {
			out->truncated = true;
			break;
		}
		if (decode_group_entry(cbor_array_handle(groups)[i], &out->groups[out->count]) < 0)
			return -EBADMSG;
		out->count++;
	}
	return 0;
}

const MgmtGroupInfo *mgmt_group_list_find(const MgmtGroupList *list, uint16_t id)
{
	for (size_t i = 0; i < list->count; i++)
		if (list->groups[i].id == id)
			return &list->groups[i];
	return NULL;
}

/* fs_mgmt_file_upload(): "len" only with off 0, "data" last so that the writer can size it. */
static void put_fs_upload_fields(SmpCborWriter *w, const MgmtFsChunk *c)
{
	smp_cbor_put_map(w, c->off == 0 ? 4 : 3);
	smp_cbor_put_text(w, "name");
	smp_cbor_put_text(w, c->name);
	smp_cbor_put_text(w, "off");
	smp_cbor_put_uint(w, c->off);
	if (c->off == 0) {
		smp_cbor_put_text(w, "len");
		smp_cbor_put_uint(w, c->len);
	}
}

int mgmt_build_fs_upload(uint8_t *out, size_t out_size, const MgmtFsChunk *c)
{
	SmpCborWriter w;

	smp_cbor_writer_init(&w, out, out_size);
	put_fs_upload_fields(&w, c);
	smp_cbor_put_text(&w, "data");
	smp_cbor_put_bytes(&w, c->data, c->data_len);
	return smp_cbor_writer_done(&w);
}

size_t mgmt_fs_upload_fit(const MgmtFsChunk *c, size_t frame_size)
{
	uint8_t head[MGMT_FS_NAME_MAX + 64];
	SmpCborWriter w;
	size_t fixed, room;

	smp_cbor_writer_init(&w, head, sizeof(head));
	put_fs_upload_fields(&w, c);
	if (w.overflow)
		return 0;
	frame_size = MIN(frame_size, (size_t)SMP_HEADER_SIZE + UINT16_MAX);
	fixed = SMP_HEADER_SIZE + w.len + key_size("data");
	if (frame_size <= fixed + 1)
		return 0;
	room = frame_size - fixed;
	return bytes_fitting(room);
}

/* {"name": name, key: v}: a file download, a settings read. */
static int build_name_uint(uint8_t *out, size_t out_size, const char *name, const char *key, uint64_t v)
{
	SmpCborWriter w;

	smp_cbor_writer_init(&w, out, out_size);
	smp_cbor_put_map(&w, 2);
	smp_cbor_put_text(&w, "name");
	smp_cbor_put_text(&w, name);
	smp_cbor_put_text(&w, key);
	smp_cbor_put_uint(&w, v);
	return smp_cbor_writer_done(&w);
}

int mgmt_build_fs_download(uint8_t *out, size_t out_size, const char *name, uint64_t off)
{
	return build_name_uint(out, out_size, name, "off", off);
}

int mgmt_build_fs_name(uint8_t *out, size_t out_size, const char *name)
{
	return build_one_text(out, out_size, "name", name);
}

int mgmt_build_fs_hash(uint8_t *out, size_t out_size, const char *name, const char *type, uint64_t off,
		       uint64_t len)
{
	SmpCborWriter w;

	smp_cbor_writer_init(&w, out, out_size);
	smp_cbor_put_map(&w, 1 + (type ? 1u : 0u) + (off ? 1u : 0u) + (len ? 1u : 0u));
	smp_cbor_put_text(&w, "name");
	smp_cbor_put_text(&w, name);
	if (type) {
		smp_cbor_put_text(&w, "type");
		smp_cbor_put_text(&w, type);
	}
	if (off) {
		smp_cbor_put_text(&w, "off");
		smp_cbor_put_uint(&w, off);
	}
	if (len) {
		smp_cbor_put_text(&w, "len");
		smp_cbor_put_uint(&w, len);
	}
	return smp_cbor_writer_done(&w);
}

int mgmt_decode_fs_off(const cbor_item_t *body, uint64_t *off)
{
	return smp_cbor_get_uint(body, "off", off) < 0 ? -EBADMSG : 0;
}

int mgmt_decode_fs_len(const cbor_item_t *body, uint64_t *len)
{
	return smp_cbor_get_uint(body, "len", len) < 0 ? -EBADMSG : 0;
}

int mgmt_decode_fs_download(const cbor_item_t *body, MgmtFsData *out)
{
	int r;

	out->has_len = false;
	if (smp_cbor_get_uint(body, "off", &out->off) < 0 ||
	    smp_cbor_get_bytes(body, "data", out->data, out->data_size, &out->data_len) < 0)
		return -EBADMSG;
	r = smp_cbor_get_uint(body, "len", &out->len);
	if (r < 0 && r != -ENOENT)
		return -EBADMSG;
	out->has_len = r == 0;
	return 0;
}

/* fs_mgmt_file_hash_checksum(): "output" is a byte string (sha256) or a number (crc32, 4 bytes). */
int mgmt_decode_fs_hash(const cbor_item_t *body, MgmtFsHash *out)
{
	const cbor_item_t *output = smp_cbor_map_get(body, "output");
	uint64_t v;
	int r;

	*out = (MgmtFsHash){ 0 };
	r = smp_cbor_get_text(body, "type", out->type, sizeof(out->type));
	if ((r < 0 && r != -EMSGSIZE) || smp_cbor_get_uint(body, "len", &out->len) < 0 || !output)
		return -EBADMSG;
	r = smp_cbor_get_uint(body, "off", &out->off);
	if (r < 0 && r != -ENOENT)
		return -EBADMSG;
	out->has_off = r == 0;
	if (smp_cbor_item_uint(output, &v) == 0) {
		out->numeric = true;
		out->output_len = v > UINT32_MAX ? 8 : 4;
		for (size_t i = 0; i < out->output_len; i++)
			out->output[i] = (uint8_t)(v >> (8 * (out->output_len - 1 - i)));
		return 0;
	}
	return smp_cbor_item_bytes(output, out->output, sizeof(out->output), &out->output_len) < 0 ? -EBADMSG : 0;
}

static int decode_hash_type(const cbor_item_t *key, const cbor_item_t *value, void *entry)
{
	MgmtFsHashType *t = entry;
	uint64_t format, size;

	*t = (MgmtFsHashType){ 0 };
	if (decode_name(key, t->name, sizeof(t->name)) < 0 || !cbor_isa_map(value) ||
	    smp_cbor_get_uint(value, "format", &format) < 0 || smp_cbor_get_uint(value, "size", &size) < 0 ||
	    size > MGMT_FS_HASH_MAX)
		return -EBADMSG;
	t->byte_string = format != 0;
	t->size = (uint32_t)size;
	return 0;
}

int mgmt_decode_fs_hash_types(const cbor_item_t *body, MgmtFsHashTypes *out)
{
	*out = (MgmtFsHashTypes){ 0 };
	return decode_named_entries(smp_cbor_map_get(body, "types"), out->types, sizeof(out->types[0]),
				    MGMT_FS_HASH_TYPES, &out->count, &out->truncated, decode_hash_type);
}

/* settings_mgmt_read(): "max_size" is zcbor_uint32_decode()d; asking for more than the device's
 * CONFIG_MCUMGR_GRP_SETTINGS_VALUE_LEN makes it report that limit. */
int mgmt_build_settings_read(uint8_t *out, size_t out_size, const char *name, uint32_t max_size)
{
	return build_name_uint(out, out_size, name, "max_size", max_size);
}

/* settings_mgmt_write(): "val" is a byte string (zcbor_bstr_decode), stored as it is. */
int mgmt_build_settings_write(uint8_t *out, size_t out_size, const char *name, const uint8_t *val, size_t val_len)
{
	SmpCborWriter w;

	smp_cbor_writer_init(&w, out, out_size);
	smp_cbor_put_map(&w, 2);
	smp_cbor_put_text(&w, "name");
	smp_cbor_put_text(&w, name);
	smp_cbor_put_text(&w, "val");
	smp_cbor_put_bytes(&w, val, val_len);
	return smp_cbor_writer_done(&w);
}

int mgmt_build_settings_delete(uint8_t *out, size_t out_size, const char *name)
{
	return build_one_text(out, out_size, "name", name);
}

int mgmt_decode_settings_read(const cbor_item_t *body, MgmtSettingsValue *out)
{
	uint64_t max_size = 0;
	int r;

	memset(out, 0, sizeof(*out));
	/* More than the request's max_size (MGMT_SETTINGS_VALUE_MAX) is as malformed as a missing "val". */
	if (smp_cbor_get_bytes(body, "val", out->val, sizeof(out->val), &out->len) < 0)
		return -EBADMSG;
	r = optional_uint(body, "max_size", UINT32_MAX, &max_size);
	if (r < 0)
		return r;
	out->has_max_size = r > 0;
	out->max_size = (uint32_t)max_size;
	return 0;
}
