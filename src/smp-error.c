/* SPDX-License-Identifier: MIT */
/*
 * Device errors by name and in plain words. The code lists are Zephyr's: mgmt_defines.h (MGMT_ERR_*)
 * and each group's header under include/zephyr/mgmt/mcumgr/grp/ (*_MGMT_ERR_*).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "smp-cbor.h"
#include "smp-error.h"
#include "smp.h"
#include "util.h"

typedef struct ErrorName {
	const char *name;
	const char *meaning;
} ErrorName;

static const ErrorName smp_rc_names[] = {
	[0] = { "EOK", "success" },
	[1] = { "EUNKNOWN", "unknown error" },
	[2] = { "ENOMEM", "the device ran out of memory" },
	[3] = { "EINVAL", "the device rejected a value in the request" },
	[4] = { "ETIMEOUT", "the operation timed out on the device" },
	[5] = { "ENOENT", "no such entry" },
	[6] = { "EBADSTATE", "the device's current state does not allow this" },
	[7] = { "EMSGSIZE", "the answer would not fit the device's buffer" },
	[8] = { "ENOTSUP", "the command is not supported by this firmware" },
	[9] = { "ECORRUPT", "the request arrived corrupt or too large for the device's buffer" },
	[10] = { "EBUSY", "the device is busy with another command" },
	[11] = { "EACCESSDENIED", "access denied" },
	[12] = { "UNSUPPORTED_TOO_OLD", "the device does not accept this (older) SMP version" },
	[13] = { "UNSUPPORTED_TOO_NEW", "the device does not understand this (newer) SMP version" },
};

static const ErrorName os_names[] = {
	[0] = { "OK", "success" },
	[1] = { "UNKNOWN", "unknown error" },
	[2] = { "INVALID_FORMAT", "the info format is not valid" },
	[3] = { "QUERY_YIELDS_NO_ANSWER", "the query was not recognised" },
	[4] = { "RTC_NOT_SET", "the device's clock is not set" },
	[5] = { "RTC_COMMAND_FAILED", "the clock command failed" },
	[6] = { "QUERY_RESPONSE_VALUE_NOT_VALID", "the query has no valid answer" },
};

static const ErrorName image_names[] = {
	[0] = { "OK", "success" },
	[1] = { "UNKNOWN", "unknown error" },
	[2] = { "FLASH_CONFIG_QUERY_FAIL", "the device could not query its flash configuration" },
	[3] = { "NO_IMAGE", "there is no image in the slot" },
	[4] = { "NO_TLVS", "the image in the slot has no TLVs" },
	[5] = { "INVALID_TLV", "the image in the slot has an invalid TLV" },
	[6] = { "TLV_MULTIPLE_HASHES_FOUND", "the image in the slot has several hash TLVs" },
	[7] = { "TLV_INVALID_SIZE", "the image in the slot has a TLV of invalid size" },
	[8] = { "HASH_NOT_FOUND", "no image with that hash (or the image has no hash TLV)" },
	[9] = { "NO_FREE_SLOT", "no free slot" },
	[10] = { "FLASH_OPEN_FAILED", "the device could not open its flash" },
	[11] = { "FLASH_READ_FAILED", "reading the flash failed" },
	[12] = { "FLASH_WRITE_FAILED", "writing the flash failed" },
	[13] = { "FLASH_ERASE_FAILED", "erasing the flash failed" },
	[14] = { "INVALID_SLOT", "that slot is not valid" },
	[15] = { "NO_FREE_MEMORY", "the device ran out of memory" },
	[16] = { "FLASH_CONTEXT_ALREADY_SET", "the flash context is already set" },
	[17] = { "FLASH_CONTEXT_NOT_SET", "the flash context is not set" },
	[18] = { "FLASH_AREA_DEVICE_NULL", "the flash area has no device" },
	[19] = { "INVALID_PAGE_OFFSET", "invalid page offset" },
	[20] = { "INVALID_OFFSET", "the upload offset is missing or invalid" },
	[21] = { "INVALID_LENGTH", "the upload length is missing or invalid" },
	[22] = { "INVALID_IMAGE_HEADER", "the image is smaller than an image header" },
	[23] = { "INVALID_IMAGE_HEADER_MAGIC", "the data does not start with an MCUboot image header" },
	[24] = { "INVALID_HASH", "the hash in the request is not valid" },
	[25] = { "INVALID_FLASH_ADDRESS", "the image's load address does not match the slot" },
	[26] = { "VERSION_GET_FAILED", "the device could not read the running version" },
	[27] = { "CURRENT_VERSION_IS_NEWER", "the running version is newer than the image" },
	[28] = { "IMAGE_ALREADY_PENDING", "another image is already marked for the next boot" },
	[29] = { "INVALID_IMAGE_VECTOR_TABLE", "the image's vector table is invalid" },
	[30] = { "INVALID_IMAGE_TOO_LARGE", "the image is larger than the slot" },
	[31] = { "INVALID_IMAGE_DATA_OVERRUN", "more data was sent than the image length" },
	[32] = { "IMAGE_CONFIRMATION_DENIED", "the device refused to confirm the image" },
	[33] = { "IMAGE_SETTING_TEST_TO_ACTIVE_DENIED", "the running image cannot be marked for test" },
	[34] = { "ACTIVE_SLOT_NOT_KNOWN", "the device cannot tell which slot is active" },
};

static const ErrorName stat_names[] = {
	[0] = { "OK", "success" },
	[1] = { "UNKNOWN", "unknown error" },
	[2] = { "INVALID_GROUP", "no such statistics group" },
	[3] = { "INVALID_STAT_NAME", "no such statistic" },
	[4] = { "INVALID_STAT_SIZE", "the statistic's size cannot be handled" },
	[5] = { "WALK_ABORTED", "walking the statistics was aborted" },
};

static const ErrorName settings_names[] = {
	[0] = { "OK", "success" },
	[1] = { "UNKNOWN", "unknown error" },
	[2] = { "KEY_TOO_LONG", "the key name is too long" },
	[3] = { "KEY_NOT_FOUND", "no such key" },
	[4] = { "READ_NOT_SUPPORTED", "the key cannot be read" },
	[5] = { "ROOT_KEY_NOT_FOUND", "no such root key" },
	[6] = { "WRITE_NOT_SUPPORTED", "the key cannot be written" },
	[7] = { "DELETE_NOT_SUPPORTED", "the key cannot be deleted" },
	[8] = { "SAVE_NOT_SUPPORTED", "the key cannot be saved" }, /* after Zephyr 4.1, whose list ends at 7 */
};

static const ErrorName fs_names[] = {
	[0] = { "OK", "success" },
	[1] = { "UNKNOWN", "unknown error" },
	[2] = { "FILE_INVALID_NAME", "the file name is not valid" },
	[3] = { "FILE_NOT_FOUND", "no such file" },
	[4] = { "FILE_IS_DIRECTORY", "that is a directory" },
	[5] = { "FILE_OPEN_FAILED", "opening the file failed" },
	[6] = { "FILE_SEEK_FAILED", "seeking in the file failed" },
	[7] = { "FILE_READ_FAILED", "reading the file failed" },
	[8] = { "FILE_TRUNCATE_FAILED", "truncating the file failed" },
	[9] = { "FILE_DELETE_FAILED", "deleting the file failed" },
	[10] = { "FILE_WRITE_FAILED", "writing the file failed" },
	[11] = { "FILE_OFFSET_NOT_VALID", "the offset does not match the file on the device" },
	[12] = { "FILE_OFFSET_LARGER_THAN_FILE", "the offset is past the end of the file" },
	[13] = { "CHECKSUM_HASH_NOT_FOUND", "that hash or checksum type is not supported" },
	[14] = { "MOUNT_POINT_NOT_FOUND", "no such mount point" },
	[15] = { "READ_ONLY_FILESYSTEM", "the file system is read-only" },
	[16] = { "FILE_EMPTY", "the file is empty" },
};

static const ErrorName shell_names[] = {
	[0] = { "OK", "success" },
	[1] = { "UNKNOWN", "unknown error" },
	[2] = { "COMMAND_TOO_LONG", "the command is too long" },
	[3] = { "EMPTY_COMMAND", "no command given" },
};

static const ErrorName zbasic_names[] = {
	[0] = { "OK", "success" },
	[1] = { "UNKNOWN", "unknown error" },
	[2] = { "FLASH_OPEN_FAILED", "the device could not open its settings partition" },
	[3] = { "FLASH_CONFIG_QUERY_FAIL", "the device could not query its settings partition" },
	[4] = { "FLASH_ERASE_FAILED", "erasing the settings partition failed" },
};

/* Enumeration group (ENUM_MGMT_ERR_*, grp/enum_mgmt/enum_mgmt.h). */
static const ErrorName enum_names[] = {
	[0] = { "OK", "success" },
	[1] = { "UNKNOWN", "unknown error" },
	[2] = { "TOO_MANY_GROUP_ENTRIES", "too many group entries" },
	[3] = { "INSUFFICIENT_HEAP_FOR_ENTRIES", "the device ran out of memory for the group list" },
	[4] = { "INDEX_TOO_LARGE", "there is no group with that index" },
};

typedef struct GroupTable {
	uint16_t group;
	const ErrorName *names;
	size_t count;
} GroupTable;

static const GroupTable group_tables[] = {
	{ SMP_GROUP_OS, os_names, ARRAY_SIZE(os_names) },
	{ SMP_GROUP_IMAGE, image_names, ARRAY_SIZE(image_names) },
	{ SMP_GROUP_STAT, stat_names, ARRAY_SIZE(stat_names) },
	{ SMP_GROUP_SETTINGS, settings_names, ARRAY_SIZE(settings_names) },
	{ SMP_GROUP_FS, fs_names, ARRAY_SIZE(fs_names) },
	{ SMP_GROUP_SHELL, shell_names, ARRAY_SIZE(shell_names) },
	{ SMP_GROUP_ENUM, enum_names, ARRAY_SIZE(enum_names) },
	{ SMP_GROUP_ZEPHYR_BASIC, zbasic_names, ARRAY_SIZE(zbasic_names) },
};

#define UNKNOWN_MEANING "an error this tool does not know"

static const ErrorName *lookup(const ErrorName *names, size_t count, int32_t rc)
{
	return rc >= 0 && (size_t)rc < count && names[rc].name ? &names[rc] : NULL;
}

static const ErrorName *group_lookup(uint16_t group, int32_t rc)
{
	for (size_t i = 0; i < ARRAY_SIZE(group_tables); i++)
		if (group_tables[i].group == group)
			return lookup(group_tables[i].names, group_tables[i].count, rc);
	return NULL;
}

const char *smp_rc_name(int32_t rc)
{
	const ErrorName *e = lookup(smp_rc_names, ARRAY_SIZE(smp_rc_names), rc);

	return e ? e->name : NULL;
}

/* MGMT_ERR_EPERUSER (mgmt_defines.h): codes from 256 on belong to the application. */
const char *smp_rc_describe(int32_t rc)
{
	const ErrorName *e = lookup(smp_rc_names, ARRAY_SIZE(smp_rc_names), rc);

	return e ? e->meaning : rc >= 256 ? "an error defined by the application" : UNKNOWN_MEANING;
}

const char *smp_group_rc_name(uint16_t group, int32_t rc)
{
	const ErrorName *e = group_lookup(group, rc);

	return e ? e->name : NULL;
}

const char *smp_group_rc_describe(uint16_t group, int32_t rc)
{
	const ErrorName *e = group_lookup(group, rc);

	return e ? e->meaning : UNKNOWN_MEANING;
}

uint16_t smp_status_code_group(const SmpStatus *st, uint16_t req_group)
{
	if (st->group == SMP_GROUP_ZEPHYR_BASIC && req_group == SMP_GROUP_STAT)
		return SMP_GROUP_STAT;
	return st->group;
}

/* "rsn" is optional decoration (CONFIG_MCUMGR_SMP_VERBOSE_ERR_RESPONSE): a wrong type is ignored, a long
 * one cut. */
static void status_decode_reason(const cbor_item_t *body, SmpStatus *out)
{
	int r = smp_cbor_get_text(body, "rsn", out->reason, sizeof(out->reason));

	if (r < 0 && r != -EMSGSIZE)
		out->reason[0] = '\0';
}

static bool int32_in_range(int64_t v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

/* SMP v2 (smp_protocol.rst, "Minimal response"): {"err": {"group": G, "rc": R}}. */
static int status_decode_err(const cbor_item_t *err, SmpStatus *out)
{
	int64_t group, rc;

	if (smp_cbor_get_int(err, "group", &group) < 0 || smp_cbor_get_int(err, "rc", &rc) < 0)
		return -EBADMSG;
	if (group < 0 || group > UINT16_MAX || !int32_in_range(rc))
		return -EBADMSG;
	if (rc != 0) {
		out->kind = SMP_STATUS_GROUP;
		out->group = (uint16_t)group;
		out->rc = (int32_t)rc;
	}
	return 0;
}

int smp_status_decode(const cbor_item_t *body, SmpStatus *out)
{
	const cbor_item_t *err;
	int64_t rc;
	int r;

	*out = (SmpStatus){ .kind = SMP_STATUS_OK };
	if (!body || !cbor_isa_map(body))
		return -EBADMSG;
	status_decode_reason(body, out);
	/* SMP v1 and SMP-level errors: a top-level "rc"; 0 or absent is success. */
	r = smp_cbor_get_int(body, "rc", &rc);
	if (r == -EBADMSG || (r == 0 && !int32_in_range(rc)))
		goto bad;
	if (r == 0 && rc != 0) {
		out->kind = SMP_STATUS_RC;
		out->rc = (int32_t)rc;
	}
	err = smp_cbor_map_get(body, "err");
	/* A group error says more than an SMP-level one; a device sends one or the other. */
	if (err && status_decode_err(err, out) < 0)
		goto bad;
	return 0;
bad:
	*out = (SmpStatus){ .kind = SMP_STATUS_OK };
	return -EBADMSG;
}

static void format_code(const SmpStatus *st, uint16_t req_group, char *out, size_t out_size)
{
	uint16_t group = smp_status_code_group(st, req_group);
	const char *gname = smp_group_name(group);
	const char *name = smp_group_rc_name(group, st->rc);
	const char *meaning = smp_group_rc_describe(group, st->rc);

	if (gname)
		snprintf(out, out_size, "device error: %s error %d (%s%s%s)", gname, st->rc, name ? name : "",
			 name ? ": " : "", meaning);
	else
		snprintf(out, out_size, "device error: group %u error %d (%s)", group, st->rc, meaning);
}

void smp_status_format_for(const SmpStatus *st, uint16_t req_group, char *out, size_t out_size)
{
	const char *name;
	size_t n;

	if (out_size == 0)
		return;
	switch (st->kind) {
	case SMP_STATUS_OK:
		snprintf(out, out_size, "success");
		return;
	case SMP_STATUS_RC:
		name = smp_rc_name(st->rc);
		snprintf(out, out_size, "device error: rc %d (%s%s%s)", st->rc, name ? name : "", name ? ": " : "",
			 smp_rc_describe(st->rc));
		break;
	default:
		format_code(st, req_group, out, out_size);
		break;
	}
	n = strlen(out);
	if (st->reason[0] && n < out_size)
		snprintf(out + n, out_size - n, ": %s", st->reason);
}

void smp_status_format(const SmpStatus *st, char *out, size_t out_size)
{
	smp_status_format_for(st, SMP_STATUS_ANY_REQUEST, out, out_size);
}

/* SMP v1 answers carry an image error as a translated SMP-level rc (img_mgmt_translate_error_code():
 * NO_FREE_SLOT, CURRENT_VERSION_IS_NEWER and IMAGE_ALREADY_PENDING all become EBADSTATE); the verbose
 * reason strings of img_mgmt.c (CONFIG_MCUMGR_GRP_IMG_VERBOSE_ERR) tell which it was. */
static const struct {
	const char *rsn;
	int32_t code;
} image_reasons[] = {
	{ "no slot", SMP_IMG_NO_FREE_SLOT },
	{ "magic mismatch", SMP_IMG_INVALID_IMAGE_HEADER_MAGIC },
	{ "downgrade", SMP_IMG_CURRENT_VERSION_IS_NEWER },
	{ "img too large", SMP_IMG_INVALID_IMAGE_TOO_LARGE },
	{ "data overrun", SMP_IMG_INVALID_IMAGE_DATA_OVERRUN },
	{ "img addr mismatch", SMP_IMG_INVALID_FLASH_ADDRESS },
	{ "fa erase fail", SMP_IMG_FLASH_ERASE_FAILED },
	{ "fa write fail", SMP_IMG_FLASH_WRITE_FAILED },
};

typedef struct Hint {
	SmpStatusKind kind;
	uint16_t group;     /* SMP_STATUS_GROUP: the code's group; SMP_STATUS_RC: the request's group, or ANY */
	int32_t rc;
	int16_t req_id;     /* the request's command id, or ANY */
	const char *text;
} Hint;

#define ANY_GROUP 0xffff
#define ANY_ID (-1)
#define RESET_TO_APPLY "'smpctl reset' boots it (a tested image reverts unless confirmed)"

/* The first row that matches wins: specific rows before general ones. */
static const Hint hints[] = {
	/* SMP-level codes (mgmt_defines.h) */
	{ SMP_STATUS_RC, SMP_GROUP_ZEPHYR_BASIC, SMP_RC_ENOTSUP, ANY_ID,
	  "this firmware cannot erase settings (enable CONFIG_MCUMGR_GRP_ZBASIC and "
	  "CONFIG_MCUMGR_GRP_ZBASIC_STORAGE_ERASE, with a storage partition)" },
	{ SMP_STATUS_RC, SMP_GROUP_OS, SMP_RC_ENOTSUP, SMP_OS_PARAMS,
	  "this firmware does not report its SMP buffers (CONFIG_MCUMGR_GRP_OS_MCUMGR_PARAMS): "
	  "smpctl falls back to small frames; --frame-size sets them" },
	{ SMP_STATUS_RC, SMP_GROUP_OS, SMP_RC_ENOTSUP, SMP_OS_DATETIME,
	  "this firmware has no date-time command (CONFIG_MCUMGR_GRP_OS_DATETIME, which needs an RTC)" },
	{ SMP_STATUS_RC, SMP_GROUP_OS, SMP_RC_ENOTSUP, SMP_OS_BOOTLOADER_INFO,
	  "this firmware does not report bootloader info (CONFIG_MCUMGR_GRP_OS_BOOTLOADER_INFO)" },
	{ SMP_STATUS_RC, SMP_GROUP_IMAGE, SMP_RC_ENOTSUP, SMP_IMAGE_SLOT_INFO,
	  "this firmware does not report its slots (CONFIG_MCUMGR_GRP_IMG_SLOT_INFO); "
	  "'smpctl image list' still shows what they hold" },
	{ SMP_STATUS_RC, SMP_GROUP_OS, SMP_RC_ENOTSUP, SMP_OS_INFO,
	  "this firmware has no info command (CONFIG_MCUMGR_GRP_OS_INFO)" },
	{ SMP_STATUS_RC, SMP_GROUP_OS, SMP_RC_ENOTSUP, SMP_OS_TASK_STATS,
	  "this firmware has no task statistics (CONFIG_MCUMGR_GRP_OS_TASKSTAT, which needs CONFIG_THREAD_MONITOR)" },
	/* os_mgmt.c (Zephyr 4.1) has no memory pool handler at all. */
	{ SMP_STATUS_RC, SMP_GROUP_OS, SMP_RC_ENOTSUP, SMP_OS_MEMPOOL_STATS,
	  "memory pool statistics are not supported by Zephyr: its os_mgmt has no handler for them" },
	{ SMP_STATUS_RC, SMP_GROUP_OS, SMP_RC_EINVAL, SMP_OS_DATETIME,
	  "the device takes a date-time from year 1900 to 11899 as yyyy-mm-ddThh:mm:ss[.mmm]" },
	{ SMP_STATUS_RC, SMP_GROUP_SETTINGS, SMP_RC_ENOTSUP, ANY_ID,
	  "this firmware has no settings group (CONFIG_MCUMGR_GRP_SETTINGS, with CONFIG_SETTINGS_RUNTIME)" },
	/* settings_mgmt_translate_error_code() over SMP v1: KEY_TOO_LONG → EINVAL, KEY_NOT_FOUND and
	 * READ_NOT_SUPPORTED → ENOENT; an empty name is EINVAL in any version. */
	{ SMP_STATUS_RC, SMP_GROUP_SETTINGS, SMP_RC_EINVAL, ANY_ID,
	  "the name is empty or longer than the device takes (CONFIG_MCUMGR_GRP_SETTINGS_NAME_LEN, 32 by default)" },
	{ SMP_STATUS_RC, SMP_GROUP_SETTINGS, SMP_RC_ENOENT, ANY_ID,
	  "the application has no such key, or cannot read it" },
	{ SMP_STATUS_RC, ANY_GROUP, SMP_RC_ENOTSUP, ANY_ID,
	  "the command is not built into this firmware: enable its MCUmgr group in the firmware's configuration" },
	/* smp.c answers ENOMEM when smp_alloc_rsp() finds every SMP buffer taken, the request's included. */
	{ SMP_STATUS_RC, ANY_GROUP, SMP_RC_ENOMEM, ANY_ID,
	  "the device had no free SMP buffer for its answer: it needs at least 2 "
	  "(CONFIG_MCUMGR_TRANSPORT_NETBUF_COUNT), and with fewer than 4 a smaller --window" },
	{ SMP_STATUS_RC, SMP_GROUP_IMAGE, SMP_RC_ECORRUPT, SMP_IMAGE_UPLOAD,
	  "the frame was larger than the device's SMP buffer or arrived broken: try a smaller --frame-size" },
	{ SMP_STATUS_RC, ANY_GROUP, SMP_RC_ECORRUPT, ANY_ID,
	  "the request was larger than the device's SMP buffer or arrived broken: try a smaller --frame-size" },
	/* img_mgmt builds the whole image list (state read and write) in one buffer: with 128-byte
	 * buffers one listed image already overflows it (seen with smp_svr at 128 bytes). */
	{ SMP_STATUS_RC, SMP_GROUP_IMAGE, SMP_RC_EMSGSIZE, SMP_IMAGE_STATE,
	  "the device's SMP buffer is too small for its image list (each listed image takes about 130 "
	  "bytes): build the firmware with CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE of 512 or more" },
	{ SMP_STATUS_RC, ANY_GROUP, SMP_RC_EMSGSIZE, ANY_ID,
	  "the answer would not fit the device's SMP buffer: make the request smaller" },
	{ SMP_STATUS_RC, SMP_GROUP_IMAGE, SMP_RC_EBADSTATE, SMP_IMAGE_ERASE,
	  "the slot is running, or holds an image marked for the next boot: " RESET_TO_APPLY ", then erase" },
	{ SMP_STATUS_RC, SMP_GROUP_IMAGE, SMP_RC_EBADSTATE, SMP_IMAGE_STATE,
	  "another image is already marked for the next boot: " RESET_TO_APPLY " first" },
	{ SMP_STATUS_RC, SMP_GROUP_IMAGE, SMP_RC_EBADSTATE, ANY_ID,
	  "slot 1 holds an image marked for the next boot, or --upgrade refused an image that is not newer: "
	  "'smpctl image list' shows the slots; a reset applies a pending image" },
	{ SMP_STATUS_RC, SMP_GROUP_IMAGE, SMP_RC_EUNKNOWN, SMP_IMAGE_STATE,
	  "a hash the device does not hold is answered this way: 'smpctl image list' shows the hashes" },
	{ SMP_STATUS_RC, SMP_GROUP_IMAGE, SMP_RC_ENOENT, ANY_ID, "that slot holds no image: 'smpctl image list'" },
	/* os_mgmt_reset(): an application's reset hook (CONFIG_MCUMGR_GRP_OS_RESET_HOOK) refuses with EBUSY;
	 * smp_group_0.rst: send "force" then. */
	{ SMP_STATUS_RC, SMP_GROUP_OS, SMP_RC_EBUSY, SMP_OS_RESET,
	  "the application refused the reset (busy): 'smpctl reset --force' asks it to reset anyway" },
	{ SMP_STATUS_RC, ANY_GROUP, SMP_RC_EBUSY, ANY_ID, "the device is busy: try again in a moment" },
	{ SMP_STATUS_RC, ANY_GROUP, SMP_RC_UNSUPPORTED_TOO_OLD, ANY_ID, "try --smp-version 2" },
	{ SMP_STATUS_RC, ANY_GROUP, SMP_RC_UNSUPPORTED_TOO_NEW, ANY_ID, "try --smp-version 1" },
	/* Image group (img_mgmt.h) */
	{ SMP_STATUS_GROUP, SMP_GROUP_IMAGE, SMP_IMG_HASH_NOT_FOUND, ANY_ID,
	  "the device holds no image with that hash: 'smpctl image list' shows the hashes" },
	{ SMP_STATUS_GROUP, SMP_GROUP_IMAGE, SMP_IMG_NO_FREE_SLOT, SMP_IMAGE_ERASE,
	  "that slot is running, or holds an image marked for the next boot: " RESET_TO_APPLY ", then erase" },
	{ SMP_STATUS_GROUP, SMP_GROUP_IMAGE, SMP_IMG_NO_FREE_SLOT, ANY_ID,
	  "slot 1 holds a pending or confirmed image: " RESET_TO_APPLY ", or run 'smpctl image erase', "
	  "then try again" },
	{ SMP_STATUS_GROUP, SMP_GROUP_IMAGE, SMP_IMG_IMAGE_ALREADY_PENDING, ANY_ID,
	  "another image is already marked for the next boot: " RESET_TO_APPLY " first" },
	{ SMP_STATUS_GROUP, SMP_GROUP_IMAGE, SMP_IMG_INVALID_IMAGE_HEADER_MAGIC, ANY_ID,
	  "the file is not an MCUboot image: sign it with imgtool (or build with sysbuild) and upload the signed "
	  "file" },
	{ SMP_STATUS_GROUP, SMP_GROUP_IMAGE, SMP_IMG_CURRENT_VERSION_IS_NEWER, ANY_ID,
	  "the device runs a newer version: drop --upgrade to allow an older image" },
	{ SMP_STATUS_GROUP, SMP_GROUP_IMAGE, SMP_IMG_INVALID_IMAGE_TOO_LARGE, ANY_ID,
	  "the image is larger than the device accepts ('smpctl image slots' shows the slot size and the largest "
	  "image): build a smaller image or check the partition layout" },
	{ SMP_STATUS_GROUP, SMP_GROUP_IMAGE, SMP_IMG_INVALID_IMAGE_DATA_OVERRUN, ANY_ID,
	  "the device dropped its upload state: run the upload again" },
	{ SMP_STATUS_GROUP, SMP_GROUP_IMAGE, SMP_IMG_INVALID_FLASH_ADDRESS, ANY_ID,
	  "the image was built for another load address: rebuild it for this device's slot" },
	{ SMP_STATUS_GROUP, SMP_GROUP_IMAGE, SMP_IMG_INVALID_HASH, ANY_ID,
	  "give the full hash as 'smpctl image list' shows it" },
	{ SMP_STATUS_GROUP, SMP_GROUP_IMAGE, SMP_IMG_IMAGE_CONFIRMATION_DENIED, ANY_ID,
	  "the firmware refused the confirmation: check that the new image runs ('smpctl image list')" },
	/* img_mgmt_erase() of a slot the device does not have: its area id 255 fails to open (Zephyr 4.1). */
	{ SMP_STATUS_GROUP, SMP_GROUP_IMAGE, SMP_IMG_FLASH_OPEN_FAILED, SMP_IMAGE_ERASE,
	  "the device has no such slot (image N has slots 2N and 2N + 1): 'smpctl image list' shows its images" },
	{ SMP_STATUS_GROUP, SMP_GROUP_IMAGE, SMP_IMG_FLASH_ERASE_FAILED, ANY_ID,
	  "the device's flash failed: reset the device and try again" },
	{ SMP_STATUS_GROUP, SMP_GROUP_IMAGE, SMP_IMG_FLASH_WRITE_FAILED, ANY_ID,
	  "the device's flash failed: reset the device and try again" },
	/* Zephyr basic group (zephyr_basic_mgmt.h) */
	{ SMP_STATUS_GROUP, SMP_GROUP_ZEPHYR_BASIC, SMP_ZBASIC_FLASH_OPEN_FAILED, ANY_ID,
	  "the firmware has no usable storage partition: check its devicetree (storage_partition)" },
	{ SMP_STATUS_GROUP, SMP_GROUP_ZEPHYR_BASIC, SMP_ZBASIC_FLASH_ERASE_FAILED, ANY_ID,
	  "erasing the settings partition failed: 'smpctl reset', then 'smpctl settings erase' again" },
	/* OS group (os_mgmt.h) */
	{ SMP_STATUS_GROUP, SMP_GROUP_OS, 4 /* RTC_NOT_SET */, ANY_ID,
	  "the device's clock is not set: set it with 'smpctl datetime set' first" },
	/* Statistics group (stat_mgmt.h); Zephyr sends these under group 63 (smp_status_code_group()). */
	{ SMP_STATUS_GROUP, SMP_GROUP_STAT, 3 /* INVALID_STAT_NAME */, ANY_ID,
	  "'smpctl stat list' shows the device's statistics groups" },
	/* Settings group (settings_mgmt.h): settings_mgmt.c maps the handler's -EINVAL to ROOT_KEY_NOT_FOUND,
	 * -ENOENT to KEY_NOT_FOUND, -ENOTSUP to READ/WRITE/DELETE_NOT_SUPPORTED. */
	{ SMP_STATUS_GROUP, SMP_GROUP_SETTINGS, 2 /* KEY_TOO_LONG */, ANY_ID,
	  "the device takes names shorter than CONFIG_MCUMGR_GRP_SETTINGS_NAME_LEN bytes (32 by default)" },
	{ SMP_STATUS_GROUP, SMP_GROUP_SETTINGS, 3 /* KEY_NOT_FOUND */, ANY_ID,
	  "the application's handler for that name's root has no such key" },
	{ SMP_STATUS_GROUP, SMP_GROUP_SETTINGS, 5 /* ROOT_KEY_NOT_FOUND */, SMP_SETTINGS_VALUE,
	  "no settings handler of the application takes that name, or its handler refused the value "
	  "(Zephyr reports a handler's -EINVAL, such as a value of the wrong length, this way)" },
	{ SMP_STATUS_GROUP, SMP_GROUP_SETTINGS, 6 /* WRITE_NOT_SUPPORTED */, ANY_ID,
	  "the application does not let that key be written" },
	{ SMP_STATUS_GROUP, SMP_GROUP_SETTINGS, 4 /* READ_NOT_SUPPORTED */, ANY_ID,
	  "the application's handler for that name cannot be read (it has no h_get)" },
	/* Shell group (shell_mgmt.h) */
	{ SMP_STATUS_GROUP, SMP_GROUP_SHELL, 2 /* COMMAND_TOO_LONG */, ANY_ID,
	  "the command line is longer than the device's shell buffer (CONFIG_SHELL_CMD_BUFF_SIZE)" },
	{ SMP_STATUS_GROUP, SMP_GROUP_SHELL, 3 /* EMPTY_COMMAND */, ANY_ID, "give the command after 'shell exec --'" },
};

/* Groups by what they do, and the Kconfig symbol that builds each into Zephyr (subsys/mgmt/mcumgr/grp/
 * Kconfig of each group). */
static const struct {
	uint16_t group;
	const char *title;
	const char *kconfig;
} group_titles[] = {
	{ SMP_GROUP_OS, "OS", "CONFIG_MCUMGR_GRP_OS" },
	{ SMP_GROUP_IMAGE, "image", "CONFIG_MCUMGR_GRP_IMG" },
	{ SMP_GROUP_STAT, "statistics", "CONFIG_MCUMGR_GRP_STAT" },
	{ SMP_GROUP_SETTINGS, "settings", "CONFIG_MCUMGR_GRP_SETTINGS" },
	{ SMP_GROUP_FS, "file system", "CONFIG_MCUMGR_GRP_FS" },
	{ SMP_GROUP_SHELL, "shell", "CONFIG_MCUMGR_GRP_SHELL" },
	{ SMP_GROUP_ENUM, "enumeration", "CONFIG_MCUMGR_GRP_ENUM" },
	{ SMP_GROUP_ZEPHYR_BASIC, "Zephyr basic", "CONFIG_MCUMGR_GRP_ZBASIC" },
};

const char *smp_group_title(uint16_t group)
{
	for (size_t i = 0; i < ARRAY_SIZE(group_titles); i++)
		if (group_titles[i].group == group)
			return group_titles[i].title;
	return NULL;
}

const char *smp_group_kconfig(uint16_t group)
{
	for (size_t i = 0; i < ARRAY_SIZE(group_titles); i++)
		if (group_titles[i].group == group)
			return group_titles[i].kconfig;
	return NULL;
}

/* Commands a group always has when it is built in: rc 8 to one of them means the group is missing
 * (stat_mgmt.c, shell_mgmt.c, enum_mgmt.c, settings_mgmt.c handler tables; fs_mgmt.c file upload/download). */
bool smp_command_implies_group(uint16_t group, uint8_t id)
{
	switch (group) {
	case SMP_GROUP_STAT: return id == SMP_STAT_SHOW || id == SMP_STAT_LIST;
	case SMP_GROUP_SHELL: return id == SMP_SHELL_EXEC;
	case SMP_GROUP_ENUM: return id <= SMP_ENUM_SINGLE;
	case SMP_GROUP_FS: return id == 0;
	case SMP_GROUP_SETTINGS: return id <= SMP_SETTINGS_LOAD_SAVE;
	default: return false;
	}
}

/* The (kind, group, rc) a hint is looked up by: the code's own group for group errors, and the image
 * code behind a v1 image answer when its reason names it. */
static SmpStatus hint_key(const SmpStatus *st, uint16_t req_group)
{
	SmpStatus k = *st;

	if (st->kind == SMP_STATUS_GROUP)
		k.group = smp_status_code_group(st, req_group);
	else
		k.group = req_group;
	if (st->kind != SMP_STATUS_RC || req_group != SMP_GROUP_IMAGE)
		return k;
	for (size_t i = 0; i < ARRAY_SIZE(image_reasons); i++)
		if (strcmp(st->reason, image_reasons[i].rsn) == 0) {
			k.kind = SMP_STATUS_GROUP;
			k.rc = image_reasons[i].code;
		}
	return k;
}

const char *smp_status_hint(const SmpStatus *st, uint16_t req_group, uint8_t req_id)
{
	SmpStatus k = hint_key(st, req_group);

	for (size_t i = 0; i < ARRAY_SIZE(hints); i++) {
		const Hint *h = &hints[i];

		if (h->kind != k.kind || h->rc != k.rc)
			continue;
		if (h->group != ANY_GROUP && h->group != k.group)
			continue;
		if (h->req_id != ANY_ID && h->req_id != req_id)
			continue;
		return h->text;
	}
	return NULL;
}
