/* SPDX-License-Identifier: MIT */
/*
 * What a device said went wrong, and its name in plain words.
 *
 * SMP v1 and SMP-level errors come as a top-level "rc" (REFERENCE.md §3); SMP v2 group errors as
 * "err": {"group": G, "rc": R}. SMP-level errors still come as top-level rc even to a v2 request, and
 * err.group need not equal the request's group (Zephyr reports stat errors under group 63, §11).
 * An "rc": 0 (legacy servers) and an absent rc both mean success.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cbor.h>

/* SMP-level codes (MGMT_ERR_*, zephyr/mgmt/mcumgr/mgmt/mgmt_defines.h). */
enum SmpRc {
	SMP_RC_OK = 0,
	SMP_RC_EUNKNOWN = 1,
	SMP_RC_ENOMEM = 2,
	SMP_RC_EINVAL = 3,
	SMP_RC_ETIMEOUT = 4,
	SMP_RC_ENOENT = 5,
	SMP_RC_EBADSTATE = 6,
	SMP_RC_EMSGSIZE = 7,
	SMP_RC_ENOTSUP = 8,
	SMP_RC_ECORRUPT = 9,
	SMP_RC_EBUSY = 10,
	SMP_RC_EACCESSDENIED = 11,
	SMP_RC_UNSUPPORTED_TOO_OLD = 12,
	SMP_RC_UNSUPPORTED_TOO_NEW = 13,
};

/* Image group codes (IMG_MGMT_ERR_*, zephyr/mgmt/mcumgr/grp/img_mgmt/img_mgmt.h). */
enum SmpImageRc {
	SMP_IMG_OK = 0,
	SMP_IMG_UNKNOWN = 1,
	SMP_IMG_FLASH_CONFIG_QUERY_FAIL = 2,
	SMP_IMG_NO_IMAGE = 3,
	SMP_IMG_NO_TLVS = 4,
	SMP_IMG_INVALID_TLV = 5,
	SMP_IMG_TLV_MULTIPLE_HASHES_FOUND = 6,
	SMP_IMG_TLV_INVALID_SIZE = 7,
	SMP_IMG_HASH_NOT_FOUND = 8,
	SMP_IMG_NO_FREE_SLOT = 9,
	SMP_IMG_FLASH_OPEN_FAILED = 10,
	SMP_IMG_FLASH_READ_FAILED = 11,
	SMP_IMG_FLASH_WRITE_FAILED = 12,
	SMP_IMG_FLASH_ERASE_FAILED = 13,
	SMP_IMG_INVALID_SLOT = 14,
	SMP_IMG_NO_FREE_MEMORY = 15,
	SMP_IMG_FLASH_CONTEXT_ALREADY_SET = 16,
	SMP_IMG_FLASH_CONTEXT_NOT_SET = 17,
	SMP_IMG_FLASH_AREA_DEVICE_NULL = 18,
	SMP_IMG_INVALID_PAGE_OFFSET = 19,
	SMP_IMG_INVALID_OFFSET = 20,
	SMP_IMG_INVALID_LENGTH = 21,
	SMP_IMG_INVALID_IMAGE_HEADER = 22,
	SMP_IMG_INVALID_IMAGE_HEADER_MAGIC = 23,
	SMP_IMG_INVALID_HASH = 24,
	SMP_IMG_INVALID_FLASH_ADDRESS = 25,
	SMP_IMG_VERSION_GET_FAILED = 26,
	SMP_IMG_CURRENT_VERSION_IS_NEWER = 27,
	SMP_IMG_IMAGE_ALREADY_PENDING = 28,
	SMP_IMG_INVALID_IMAGE_VECTOR_TABLE = 29,
	SMP_IMG_INVALID_IMAGE_TOO_LARGE = 30,
	SMP_IMG_INVALID_IMAGE_DATA_OVERRUN = 31,
	SMP_IMG_IMAGE_CONFIRMATION_DENIED = 32,
	SMP_IMG_IMAGE_SETTING_TEST_TO_ACTIVE_DENIED = 33,
	SMP_IMG_ACTIVE_SLOT_NOT_KNOWN = 34,
};

/* Zephyr basic group codes (ZEPHYRBASIC_MGMT_ERR_*). */
enum SmpZephyrBasicRc {
	SMP_ZBASIC_OK = 0,
	SMP_ZBASIC_UNKNOWN = 1,
	SMP_ZBASIC_FLASH_OPEN_FAILED = 2,
	SMP_ZBASIC_FLASH_CONFIG_QUERY_FAIL = 3,
	SMP_ZBASIC_FLASH_ERASE_FAILED = 4,
};

typedef enum SmpStatusKind {
	SMP_STATUS_OK = 0,
	SMP_STATUS_RC,    /* SMP-level or v1 "rc" */
	SMP_STATUS_GROUP, /* v2 "err": {group, rc} */
} SmpStatusKind;

typedef struct SmpStatus {
	SmpStatusKind kind;
	uint16_t group; /* for SMP_STATUS_GROUP: err.group as sent */
	int32_t rc;
	char reason[128]; /* "rsn" when the device sent one, else "" */
} SmpStatus;

/* Reads rc / err / rsn from a response body. Returns 0 (status filled, OK included) or -EBADMSG when
 * the body is not a map or rc/err have the wrong types. */
int smp_status_decode(const cbor_item_t *body, SmpStatus *out);

/* Request group to pass when the request is not known: codes are then read in err.group's list. */
#define SMP_STATUS_ANY_REQUEST 0xffff

/* The group whose code list st->rc belongs to, for an answer to a request of req_group: err.group,
 * except that Zephyr reports stat-group errors under group 63 (REFERENCE.md §11), so a group-63 error
 * answering a stat request is a stat code. Meaningful for SMP_STATUS_GROUP only. */
uint16_t smp_status_code_group(const SmpStatus *st, uint16_t req_group);

/* Symbolic names: "ENOTSUP", "NO_FREE_SLOT". NULL when unknown. */
const char *smp_rc_name(int32_t rc);
const char *smp_group_rc_name(uint16_t group, int32_t rc);

/* A group by what it does ("file system", "statistics") and the Kconfig symbol that builds it into Zephyr
 * ("CONFIG_MCUMGR_GRP_FS"); NULL when unknown. */
const char *smp_group_title(uint16_t group);
const char *smp_group_kconfig(uint16_t group);
/* True when every build of the group has command id: an rc 8 to it means the group itself is missing. */
bool smp_command_implies_group(uint16_t group, uint8_t id);

/* One-phrase meaning in plain words: "not supported by this device", "no free slot". Never NULL. */
const char *smp_rc_describe(int32_t rc);
const char *smp_group_rc_describe(uint16_t group, int32_t rc);

/* Writes one line naming the status, e.g. "device error: rc 8 (ENOTSUP: the command is not supported by
 * this firmware)" or "device error: image error 9 (NO_FREE_SLOT: no free slot)" plus ": <rsn>" when
 * present. Codes are read in err.group's list (the request is not known here). */
void smp_status_format(const SmpStatus *st, char *out, size_t out_size);
/* The same for the answer to a request of req_group (see smp_status_code_group()). */
void smp_status_format_for(const SmpStatus *st, uint16_t req_group, char *out, size_t out_size);

/* What to do about it, in the context of the request (group, command), or NULL when nothing useful can
 * be said. Group errors are read in smp_status_code_group()'s list; SMP v1 image answers are recognised by
 * Zephyr's verbose reasons ("no slot", "magic mismatch", "downgrade"…) as the image codes behind them.
 * E.g. image upload + NO_FREE_SLOT → "slot 1 holds a pending or confirmed image: reset the device or run
 * 'smpctl image erase' first". */
const char *smp_status_hint(const SmpStatus *st, uint16_t req_group, uint8_t req_id);
