/* SPDX-License-Identifier: MIT */
/* SMP frame header codec (REFERENCE.md §1, Zephyr doc/services/device_mgmt/smp_protocol.rst). Pure: no I/O. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMP_HEADER_SIZE 8

/* Byte 0, bits 2..0 */
enum SmpOp {
	SMP_OP_READ = 0,
	SMP_OP_READ_RSP = 1,
	SMP_OP_WRITE = 2,
	SMP_OP_WRITE_RSP = 3,
};

/* Byte 0, bits 4..3: the header's version field. */
enum SmpVersion {
	SMP_VERSION_1 = 0, /* legacy */
	SMP_VERSION_2 = 1, /* group errors as err{group, rc} */
};

/* Management groups (REFERENCE.md §2). */
enum SmpGroup {
	SMP_GROUP_OS = 0,
	SMP_GROUP_IMAGE = 1,
	SMP_GROUP_STAT = 2,
	SMP_GROUP_SETTINGS = 3,
	SMP_GROUP_LOG = 4,
	SMP_GROUP_CRASH = 5,
	SMP_GROUP_SPLIT = 6,
	SMP_GROUP_RUN = 7,
	SMP_GROUP_FS = 8,
	SMP_GROUP_SHELL = 9,
	SMP_GROUP_ENUM = 10,
	SMP_GROUP_ZEPHYR_BASIC = 63,
};

enum SmpOsCommand {
	SMP_OS_ECHO = 0,
	SMP_OS_TASK_STATS = 2,
	SMP_OS_MEMPOOL_STATS = 3,
	SMP_OS_DATETIME = 4,
	SMP_OS_RESET = 5,
	SMP_OS_PARAMS = 6,
	SMP_OS_INFO = 7,
	SMP_OS_BOOTLOADER_INFO = 8,
};

enum SmpImageCommand {
	SMP_IMAGE_STATE = 0,
	SMP_IMAGE_UPLOAD = 1,
	SMP_IMAGE_ERASE = 5,
	SMP_IMAGE_SLOT_INFO = 6,
};

/* stat_mgmt.h, shell_mgmt.h, enum_mgmt.h (Zephyr 4.1) */
enum SmpStatCommand {
	SMP_STAT_SHOW = 0,
	SMP_STAT_LIST = 1,
};

enum SmpShellCommand {
	SMP_SHELL_EXEC = 0,
};

enum SmpEnumCommand {
	SMP_ENUM_COUNT = 0,
	SMP_ENUM_LIST = 1,
	SMP_ENUM_SINGLE = 2,
	SMP_ENUM_DETAILS = 3,
};

/* fs_mgmt.h */
enum SmpFsCommand {
	SMP_FS_FILE = 0,        /* read: download, write: upload */
	SMP_FS_STATUS = 1,
	SMP_FS_HASH = 2,
	SMP_FS_HASH_TYPES = 3,
	SMP_FS_CLOSE = 4,
};

/* settings_mgmt.h */
enum SmpSettingsCommand {
	SMP_SETTINGS_VALUE = 0,     /* read: read a value, write: write one */
	SMP_SETTINGS_DELETE = 1,
	SMP_SETTINGS_COMMIT = 2,
	SMP_SETTINGS_LOAD_SAVE = 3, /* read: load, write: save */
};

enum SmpZephyrBasicCommand {
	SMP_ZBASIC_ERASE_STORAGE = 0,
};

typedef struct SmpHeader {
	uint8_t op;      /* enum SmpOp */
	uint8_t version; /* enum SmpVersion (0..3 on the wire) */
	uint8_t flags;
	uint16_t len;    /* CBOR body length, header excluded */
	uint16_t group;
	uint8_t seq;
	uint8_t id;      /* command id */
} SmpHeader;

/* Writes the 8-byte big-endian header. Fields out of range are masked to their wire width. */
void smp_header_encode(const SmpHeader *h, uint8_t out[SMP_HEADER_SIZE]);

/* Decodes the first 8 bytes of buf. Returns 0, or -EBADMSG when len < 8. Reserved bits are ignored. */
int smp_header_decode(const uint8_t *buf, size_t len, SmpHeader *out);

/* True when rsp answers req: same group, seq and id, op = request op + 1. */
bool smp_header_answers(const SmpHeader *req, const SmpHeader *rsp);

/* Human name of a group ("image", "os", …) or NULL when unknown. */
const char *smp_group_name(uint16_t group);
