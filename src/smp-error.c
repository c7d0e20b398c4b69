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
	[8] = { "ENOTSUP", "this firmware does not support the command" },
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
	[8] = { "HASH_NOT_FOUND", "no image with that hash" },
	[9] = { "NO_FREE_SLOT", "there is no free slot for an image" },
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
	[8] = { "SAVE_NOT_SUPPORTED", "the key cannot be saved" },
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
	{ SMP_GROUP_ZEPHYR_BASIC, zbasic_names, ARRAY_SIZE(zbasic_names) },
};

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

const char *smp_rc_describe(int32_t rc)
{
	const ErrorName *e = lookup(smp_rc_names, ARRAY_SIZE(smp_rc_names), rc);

	return e ? e->meaning : rc >= 256 ? "an application-defined error" : "an error this tool does not know";
}

const char *smp_group_rc_name(uint16_t group, int32_t rc)
{
	const ErrorName *e = group_lookup(group, rc);

	return e ? e->name : NULL;
}

const char *smp_group_rc_describe(uint16_t group, int32_t rc)
{
	const ErrorName *e = group_lookup(group, rc);

	return e ? e->meaning : "an error this tool does not know";
}

int smp_status_decode(const cbor_item_t *body, SmpStatus *out)
{
	const cbor_item_t *err;
	int64_t rc = 0, group = 0;
	int r;

	*out = (SmpStatus){ .kind = SMP_STATUS_OK };
	if (!body || !cbor_isa_map(body))
		return -EBADMSG;
	r = smp_cbor_get_text(body, "rsn", out->reason, sizeof(out->reason));
	if (r == -EMSGSIZE)
		out->reason[sizeof(out->reason) - 1] = '\0';
	else if (r < 0)
		out->reason[0] = '\0';
	/* SMP v2 (smp_protocol.rst, "Minimal response"): {"err": {"group": G, "rc": R}}. */
	err = smp_cbor_map_get(body, "err");
	if (err) {
		if (smp_cbor_get_int(err, "group", &group) < 0 || smp_cbor_get_int(err, "rc", &rc) < 0 ||
		    group < 0 || group > UINT16_MAX || rc < INT32_MIN || rc > INT32_MAX)
			return -EBADMSG;
		if (rc != 0)
			*out = (SmpStatus){ .kind = SMP_STATUS_GROUP, .group = (uint16_t)group, .rc = (int32_t)rc };
		return 0;
	}
	/* SMP v1 and SMP-level errors: a top-level "rc"; 0 or absent is success. */
	r = smp_cbor_get_int(body, "rc", &rc);
	if (r == -ENOENT)
		return 0;
	if (r < 0 || rc < INT32_MIN || rc > INT32_MAX)
		return -EBADMSG;
	if (rc != 0) {
		out->kind = SMP_STATUS_RC;
		out->rc = (int32_t)rc;
	}
	return 0;
}

void smp_status_format(const SmpStatus *st, char *out, size_t out_size)
{
	const char *group = smp_group_name(st->group);
	const char *name;
	int n;

	switch (st->kind) {
	case SMP_STATUS_OK:
		snprintf(out, out_size, "success");
		return;
	case SMP_STATUS_RC:
		name = smp_rc_name(st->rc);
		n = snprintf(out, out_size, "device error rc %d (%s%s%s)", st->rc, name ? name : "", name ? ": " : "",
			     smp_rc_describe(st->rc));
		break;
	default:
		name = smp_group_rc_name(st->group, st->rc);
		n = snprintf(out, out_size, "device error %s%s%u rc %d (%s%s%s)", group ? group : "group ",
			     group ? " group " : "", st->group, st->rc, name ? name : "", name ? ": " : "",
			     smp_group_rc_describe(st->group, st->rc));
		break;
	}
	if (st->reason[0] && n > 0 && (size_t)n < out_size)
		snprintf(out + n, out_size - (size_t)n, ", device says: %s", st->reason);
}

typedef struct Hint {
	SmpStatusKind kind;
	uint16_t group;     /* SMP_STATUS_GROUP: err.group; SMP_STATUS_RC: the request's group, or ANY */
	int32_t rc;
	int16_t req_id;     /* the request's command id, or ANY */
	const char *text;
} Hint;

#define ANY_GROUP 0xffff
#define ANY_ID (-1)

/* The first row that matches wins: specific rows before general ones. */
static const Hint hints[] = {
	{ SMP_STATUS_RC, SMP_GROUP_ZEPHYR_BASIC, SMP_RC_ENOTSUP, SMP_ZBASIC_ERASE_STORAGE,
	  "this firmware cannot erase settings (enable CONFIG_MCUMGR_GRP_ZBASIC and "
	  "CONFIG_MCUMGR_GRP_ZBASIC_STORAGE_ERASE, with a storage partition)" },
	{ SMP_STATUS_RC, SMP_GROUP_OS, SMP_RC_ENOTSUP, SMP_OS_PARAMS,
	  "this firmware does not report its SMP buffers (CONFIG_MCUMGR_GRP_OS_MCUMGR_PARAMS)" },
	{ SMP_STATUS_RC, SMP_GROUP_OS, SMP_RC_ENOTSUP, SMP_OS_DATETIME,
	  "this firmware has no date-time command (CONFIG_MCUMGR_GRP_OS_DATETIME, which needs an RTC)" },
	{ SMP_STATUS_RC, SMP_GROUP_OS, SMP_RC_ENOTSUP, SMP_OS_BOOTLOADER_INFO,
	  "this firmware does not report bootloader info (CONFIG_MCUMGR_GRP_OS_BOOTLOADER_INFO)" },
	{ SMP_STATUS_RC, ANY_GROUP, SMP_RC_ENOTSUP, ANY_ID,
	  "the command is not built into this firmware: enable its MCUmgr group in the firmware's configuration" },
	{ SMP_STATUS_RC, ANY_GROUP, SMP_RC_ECORRUPT, ANY_ID,
	  "the request was larger than the device's buffer or arrived broken: try a smaller --frame-size" },
	{ SMP_STATUS_RC, ANY_GROUP, SMP_RC_EMSGSIZE, ANY_ID,
	  "the answer would not fit the device's SMP buffer: make the request smaller" },
	{ SMP_STATUS_RC, SMP_GROUP_IMAGE, SMP_RC_EBADSTATE, ANY_ID,
	  "slot 1 may hold an image marked for the next boot, or the image is not newer than the running one: "
	  "check 'smpctl image list'; a reset applies a pending image" },
	{ SMP_STATUS_RC, SMP_GROUP_IMAGE, SMP_RC_ENOENT, SMP_IMAGE_STATE,
	  "no image with that hash: 'smpctl image list' shows the hashes the device holds" },
	{ SMP_STATUS_RC, ANY_GROUP, SMP_RC_EBUSY, ANY_ID, "the device is busy: try again in a moment" },
	{ SMP_STATUS_RC, ANY_GROUP, SMP_RC_UNSUPPORTED_TOO_OLD, ANY_ID, "try --smp-version 2" },
	{ SMP_STATUS_RC, ANY_GROUP, SMP_RC_UNSUPPORTED_TOO_NEW, ANY_ID, "try --smp-version 1" },
	{ SMP_STATUS_GROUP, SMP_GROUP_IMAGE, SMP_IMG_HASH_NOT_FOUND, ANY_ID,
	  "'smpctl image list' shows the hashes the device holds" },
	{ SMP_STATUS_GROUP, SMP_GROUP_IMAGE, SMP_IMG_NO_FREE_SLOT, SMP_IMAGE_ERASE,
	  "that slot is running, or marked for the next boot: reset the device first" },
	{ SMP_STATUS_GROUP, SMP_GROUP_IMAGE, SMP_IMG_NO_FREE_SLOT, ANY_ID,
	  "slot 1 holds an image marked for the next boot: reset the device to apply it, then try again" },
	{ SMP_STATUS_GROUP, SMP_GROUP_IMAGE, SMP_IMG_IMAGE_ALREADY_PENDING, ANY_ID,
	  "another image is marked for the next boot: reset the device to apply it first" },
	{ SMP_STATUS_GROUP, SMP_GROUP_IMAGE, SMP_IMG_INVALID_IMAGE_HEADER_MAGIC, ANY_ID,
	  "the file is not a signed MCUboot image: sign it with imgtool (or build with sysbuild)" },
	{ SMP_STATUS_GROUP, SMP_GROUP_IMAGE, SMP_IMG_CURRENT_VERSION_IS_NEWER, ANY_ID,
	  "the device runs a newer version: drop --upgrade to allow a downgrade" },
	{ SMP_STATUS_GROUP, SMP_GROUP_IMAGE, SMP_IMG_INVALID_IMAGE_TOO_LARGE, ANY_ID,
	  "the image does not fit the device's slot: build a smaller image" },
	{ SMP_STATUS_GROUP, SMP_GROUP_IMAGE, SMP_IMG_INVALID_IMAGE_DATA_OVERRUN, ANY_ID,
	  "the device reset its upload: run the upload again" },
	{ SMP_STATUS_GROUP, SMP_GROUP_IMAGE, SMP_IMG_INVALID_HASH, ANY_ID,
	  "give the full hash as 'smpctl image list' shows it" },
	{ SMP_STATUS_GROUP, SMP_GROUP_IMAGE, SMP_IMG_IMAGE_CONFIRMATION_DENIED, ANY_ID,
	  "the device refused the confirmation: check that the image runs ('smpctl image list')" },
	{ SMP_STATUS_GROUP, SMP_GROUP_IMAGE, SMP_IMG_FLASH_ERASE_FAILED, ANY_ID,
	  "the device's flash failed: reset the device and try again" },
	{ SMP_STATUS_GROUP, SMP_GROUP_IMAGE, SMP_IMG_FLASH_WRITE_FAILED, ANY_ID,
	  "the device's flash failed: reset the device and try again" },
	{ SMP_STATUS_GROUP, SMP_GROUP_ZEPHYR_BASIC, SMP_ZBASIC_FLASH_OPEN_FAILED, ANY_ID,
	  "the firmware has no usable storage partition: check its devicetree (storage_partition)" },
	{ SMP_STATUS_GROUP, SMP_GROUP_ZEPHYR_BASIC, SMP_ZBASIC_FLASH_ERASE_FAILED, ANY_ID,
	  "erasing the settings partition failed: reset the device and try again" },
};

const char *smp_status_hint(const SmpStatus *st, uint16_t req_group, uint8_t req_id)
{
	for (size_t i = 0; i < ARRAY_SIZE(hints); i++) {
		const Hint *h = &hints[i];
		uint16_t group = st->kind == SMP_STATUS_GROUP ? st->group : req_group;

		if (h->kind != st->kind || h->rc != st->rc)
			continue;
		if (h->group != ANY_GROUP && h->group != group)
			continue;
		if (h->req_id != ANY_ID && h->req_id != req_id)
			continue;
		return h->text;
	}
	return NULL;
}
