/* SPDX-License-Identifier: MIT */
/*
 * Management requests and responses: builders write a request body, decoders read a response body.
 * Pure codecs over smp-cbor (no I/O). Field names follow Zephyr's smp_groups documentation
 * (doc/services/device_mgmt/smp_groups/smp_group_0.rst, _1.rst, _63.rst).
 *
 * Builders return the body length, or -EMSGSIZE when it does not fit out_size.
 * Decoders return 0, or -EBADMSG when a required field is missing or has the wrong type; unknown keys
 * are ignored. Decoders are given the body of a successful response (status already checked).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cbor.h>

#define MGMT_HASH_MAX 64     /* SHA-512 hash TLV; never assume 32 (REFERENCE.md §5) */
#define MGMT_MAX_IMAGES 8    /* image list entries smpctl handles: Zephyr 4.1 lists 2 slots for each of at
                                * most 3 images (CONFIG_UPDATEABLE_IMAGE_NUMBER, range 1..3) */
#define MGMT_VERSION_TEXT 48

/* OS group */
int mgmt_build_empty(uint8_t *out, size_t out_size); /* {} for params, image list, storage erase… */
int mgmt_build_echo(uint8_t *out, size_t out_size, const char *text);
int mgmt_build_reset(uint8_t *out, size_t out_size, bool force);
int mgmt_build_os_info(uint8_t *out, size_t out_size, const char *format); /* format NULL → {} */
int mgmt_build_bootloader_info(uint8_t *out, size_t out_size, const char *query); /* query NULL → {} */
int mgmt_build_datetime_set(uint8_t *out, size_t out_size, const char *iso8601);

int mgmt_decode_echo(const cbor_item_t *body, char *out, size_t out_size); /* "r" */
int mgmt_decode_os_info(const cbor_item_t *body, char *out, size_t out_size); /* "output" */
int mgmt_decode_datetime(const cbor_item_t *body, char *out, size_t out_size); /* "datetime" */

typedef struct MgmtParams {
	uint32_t buf_size;
	uint32_t buf_count;
} MgmtParams;
int mgmt_decode_params(const cbor_item_t *body, MgmtParams *out);

typedef struct MgmtBootloaderInfo {
	char bootloader[32];  /* "bootloader" (query absent), e.g. "MCUboot" */
	bool has_mode;
	int64_t mode;         /* MCUboot mode: -1 unknown … see smp_group_0.rst */
	bool has_no_downgrade;
	bool no_downgrade;
} MgmtBootloaderInfo;
int mgmt_decode_bootloader_info(const cbor_item_t *body, MgmtBootloaderInfo *out);
/* MCUboot mode number → "swap-using-move" etc., or "unknown". */
const char *mgmt_bootloader_mode_name(int64_t mode);

/* A slot's version as smpctl shows it, major.minor.revision+build (ISSUE-NOTES 8): Zephyr writes
 * "1.2.3" and appends ".build" only when the build number is not 0 (img_mgmt_ver_str). Text in any
 * other form is copied as it is. */
void mgmt_version_text(const char *device_version, char *out, size_t out_size);
/* Compares two versions, each as the device writes it ("1.2.3", "1.2.3.4") or as smpctl shows it
 * ("1.2.3+4"): major, minor, revision, then build number (0 when absent), as MCUboot orders them
 * (bootutil_public.c boot_version_cmp). *cmp gets <0, 0 or >0. Returns 0, or -EINVAL for other text. */
int mgmt_version_compare(const char *a, const char *b, int *cmp);

/* Image group: state */
typedef struct MgmtImageSlot {
	uint32_t image;     /* 0 when absent */
	uint32_t slot;
	char version[MGMT_VERSION_TEXT];
	uint8_t hash[MGMT_HASH_MAX];
	size_t hash_len;
	bool bootable, pending, confirmed, active, permanent; /* absent = false (Zephyr omits false flags) */
} MgmtImageSlot;

typedef struct MgmtImageList {
	MgmtImageSlot slots[MGMT_MAX_IMAGES];
	size_t count;
	bool has_split_status;
	int64_t split_status;
	uint64_t reported;  /* entries the device listed: over MGMT_MAX_IMAGES, decoding fails with -E2BIG */
} MgmtImageList;
int mgmt_decode_image_list(const cbor_item_t *body, MgmtImageList *out);
/* The entry of image's slot (0 primary, 1 secondary: img_mgmt_state_encode_slot() sends "image" as
 * slot >> 1 and "slot" as slot % 2 on multi-image devices, no "image" on single-image ones), or NULL. */
const MgmtImageSlot *mgmt_image_list_entry(const MgmtImageList *list, uint32_t image, uint32_t slot);
/* Find the slot entry (image 0) or NULL. */
const MgmtImageSlot *mgmt_image_list_slot(const MgmtImageList *list, uint32_t slot);
/* The entry whose hash equals hash, or NULL. */
const MgmtImageSlot *mgmt_image_list_find_hash(const MgmtImageList *list, const uint8_t *hash, size_t hash_len);

/* Image group: slot info (command 6, CONFIG_MCUMGR_GRP_IMG_SLOT_INFO; smp_group_1.rst). Zephyr's
 * img_mgmt_slot_info() lists every image with its slots; a slot the device could not open carries
 * "rc" instead of "size"; "upload_image_id" marks the slot that takes uploads (its image number);
 * "max_image_size" is only there when the firmware knows MCUboot's overhead (TOO_LARGE_SYSBUILD or
 * TOO_LARGE_BOOTLOADER_INFO). Entries beyond the arrays' room are ignored. */
#define MGMT_SLOT_INFO_IMAGES 4
#define MGMT_SLOT_INFO_SLOTS 4

typedef struct MgmtSlotInfoSlot {
	uint32_t slot;
	bool has_size;
	uint64_t size;
	bool has_upload_image_id;
	uint32_t upload_image_id;
	bool has_rc;
	int64_t rc;             /* flash_area_open() failed for this slot */
} MgmtSlotInfoSlot;

typedef struct MgmtSlotInfoImage {
	uint32_t image;
	MgmtSlotInfoSlot slots[MGMT_SLOT_INFO_SLOTS];
	size_t slot_count;
	bool has_max_image_size;
	uint64_t max_image_size;
} MgmtSlotInfoImage;

typedef struct MgmtSlotInfo {
	MgmtSlotInfoImage images[MGMT_SLOT_INFO_IMAGES];
	size_t count;
} MgmtSlotInfo;
int mgmt_decode_slot_info(const cbor_item_t *body, MgmtSlotInfo *out);

/* {"hash": h, "confirm": c}; hash NULL → {"confirm": true} (confirm the running image). */
int mgmt_build_image_state_write(uint8_t *out, size_t out_size, const uint8_t *hash, size_t hash_len, bool confirm);
/* {"slot": n}, or {} when slot < 0. */
int mgmt_build_image_erase(uint8_t *out, size_t out_size, int slot);

/* Image group: upload (REFERENCE.md §4) */
typedef struct MgmtUploadChunk {
	uint32_t image;         /* sent only when non-zero, on the first chunk */
	uint64_t off;
	bool first;             /* first chunk: adds len and, if sha_len, sha */
	uint64_t len;           /* whole image length */
	const uint8_t *sha;     /* SHA-256 of the whole file */
	size_t sha_len;
	bool upgrade;           /* sent only when true, on the first chunk */
	const uint8_t *data;
	size_t data_len;
} MgmtUploadChunk;
int mgmt_build_upload_chunk(uint8_t *out, size_t out_size, const MgmtUploadChunk *chunk);
/* Exact body size of the chunk with data_len = 0 but counting data's CBOR head for data_len bytes:
 * so body size = mgmt_upload_chunk_overhead(c) + c->data_len. */
size_t mgmt_upload_chunk_overhead(const MgmtUploadChunk *chunk);
/* Largest data_len such that the whole frame (8-byte header + body) fits frame_size; 0 if none.
 * Frames are taken as at most 8 + 65535 bytes (the header's length field is 16 bits). */
size_t mgmt_upload_chunk_fit(const MgmtUploadChunk *chunk, size_t frame_size);

typedef struct MgmtUploadRsp {
	uint64_t off;
	bool has_match;
	bool match;
} MgmtUploadRsp;
int mgmt_decode_upload_rsp(const cbor_item_t *body, MgmtUploadRsp *out);

/*
 * Statistics (group 2), shell (9), enumeration (10), task and memory pool statistics (OS 2, 3), read
 * from Zephyr 4.1's subsys/mgmt/mcumgr/grp/ (stat_mgmt.c, shell_mgmt.c, enum_mgmt.c, os_mgmt.c) and
 * doc/services/device_mgmt/smp_groups/smp_group_{0,2,9,10}.rst.
 * Lists keep the first entries that fit their arrays and set `truncated` for the rest.
 */
#define MGMT_NAME_MAX 64          /* stat and thread names (CONFIG_MCUMGR_GRP_STAT_MAX_NAME_LEN is 32) */
#define MGMT_STAT_GROUPS 64
#define MGMT_STAT_FIELDS 128
#define MGMT_TASKS 64
#define MGMT_GROUPS 64

/* stat_mgmt_list(): {"stat_list": [name, …]} */
typedef struct MgmtStatList {
	char names[MGMT_STAT_GROUPS][MGMT_NAME_MAX];
	size_t count;
	bool truncated;
} MgmtStatList;
int mgmt_decode_stat_list(const cbor_item_t *body, MgmtStatList *out);

/* stat_mgmt_show(): request {"name": group}; response {"name": group, "fields": {field: uint, …}} */
int mgmt_build_stat_show(uint8_t *out, size_t out_size, const char *name);
typedef struct MgmtStatField {
	char name[MGMT_NAME_MAX];
	uint64_t value;
} MgmtStatField;
typedef struct MgmtStatGroup {
	char name[MGMT_NAME_MAX];
	MgmtStatField fields[MGMT_STAT_FIELDS];
	size_t count;
	bool truncated;
} MgmtStatGroup;
int mgmt_decode_stat_show(const cbor_item_t *body, MgmtStatGroup *out);

/* shell_mgmt_exec(): request {"argv": [word, …]} (the words are joined with spaces on the device);
 * response {"o": output, "ret": the command's return code} ("rc" instead of "ret" with
 * CONFIG_MCUMGR_GRP_SHELL_LEGACY_RC_RETURN_CODE, which smp-error reads as a device error). */
int mgmt_build_shell_exec(uint8_t *out, size_t out_size, char *const *argv, size_t argc);
typedef struct MgmtShellResult {
	char *output;       /* caller's buffer, NUL-terminated, cut at output_size */
	size_t output_size;
	bool output_cut;
	int64_t ret;
} MgmtShellResult;
int mgmt_decode_shell_exec(const cbor_item_t *body, MgmtShellResult *out);

/* os_mgmt_taskstat_read(): {"tasks": {name: {"prio", "tid", "state", "stksiz"?, "stkuse"?, "runtime"?,
 * "cswcnt"?, "last_checkin"?, "next_checkin"?}, …}}. Without thread names the names are priorities
 * and repeat (REFERENCE.md §11): every entry is kept. */
typedef struct MgmtTask {
	char name[MGMT_NAME_MAX];
	int64_t prio;
	uint64_t tid, state;
	bool has_stksiz, has_stkuse, has_runtime, has_cswcnt;
	uint64_t stksiz, stkuse, runtime, cswcnt; /* stack sizes in 4-byte words */
} MgmtTask;
typedef struct MgmtTaskStats {
	MgmtTask tasks[MGMT_TASKS];
	size_t count;
	bool truncated;
} MgmtTaskStats;
int mgmt_decode_taskstat(const cbor_item_t *body, MgmtTaskStats *out);

/* Memory pool statistics, OS command 3: Zephyr 4.1's os_mgmt has no handler (rc 8); mcumgr's
 * original (Mynewt) answer was {"mpools": {name: {"blksiz", "nblks", "nfree", "min"}, …}}. */
typedef struct MgmtMemPool {
	char name[MGMT_NAME_MAX];
	uint64_t blksiz, nblks, nfree, min;
} MgmtMemPool;
typedef struct MgmtMemPools {
	MgmtMemPool pools[MGMT_TASKS];
	size_t count;
	bool truncated;
} MgmtMemPools;
int mgmt_decode_mpstat(const cbor_item_t *body, MgmtMemPools *out);

/* enum_mgmt_list(): {"groups": [id, …]}; enum_mgmt_details() (CONFIG_MCUMGR_GRP_ENUM_DETAILS):
 * {"groups": [{"group": id, "name"?: text, "handlers"?: uint}, …]}. One decoder reads both. */
typedef struct MgmtGroupInfo {
	uint16_t id;
	bool has_name;
	char name[MGMT_NAME_MAX];
	bool has_handlers;
	uint32_t handlers;
} MgmtGroupInfo;
typedef struct MgmtGroupList {
	MgmtGroupInfo groups[MGMT_GROUPS];
	size_t count;
	bool truncated;
} MgmtGroupList;
int mgmt_decode_enum_groups(const cbor_item_t *body, MgmtGroupList *out);
const MgmtGroupInfo *mgmt_group_list_find(const MgmtGroupList *list, uint16_t id);

/*
 * File system group (8), from Zephyr 4.1's subsys/mgmt/mcumgr/grp/fs_mgmt/src/fs_mgmt.c and
 * smp_group_8.rst. Upload chunk (write, command 0): {"off", "name", "data", "len" (with off 0)} →
 * {"off"}; a chunk at another offset than the file's length is FILE_OFFSET_NOT_VALID with "len": the
 * length. Download (read, command 0): {"off", "name"} → {"off", "data", "len" (with off 0)}. Status (1):
 * {"name"} → {"len"}. Hash (2): {"name", "type"?, "off"?, "len"?} → {"type", "off"?, "len", "output"}
 * (a byte string for sha256, a number for crc32). Supported types (3): {} → {"types": {name: {"format",
 * "size"}}}. Close (4): {} → {}.
 */
#define MGMT_FS_NAME_MAX 256      /* CONFIG_MCUMGR_GRP_FS_PATH_LEN is 64 by default */
#define MGMT_FS_HASH_MAX 64
#define MGMT_FS_HASH_TYPES 8

typedef struct MgmtFsChunk {
	const char *name;
	uint64_t off;
	uint64_t len;           /* whole file length, sent with off 0 */
	const uint8_t *data;
	size_t data_len;
} MgmtFsChunk;
int mgmt_build_fs_upload(uint8_t *out, size_t out_size, const MgmtFsChunk *c);
/* Largest data_len whose frame (8-byte header + body) fits frame_size; 0 if none. */
size_t mgmt_fs_upload_fit(const MgmtFsChunk *c, size_t frame_size);
int mgmt_build_fs_download(uint8_t *out, size_t out_size, const char *name, uint64_t off);
int mgmt_build_fs_name(uint8_t *out, size_t out_size, const char *name); /* {"name"}: status */
/* type NULL: the device's default; len 0: to the end. */
int mgmt_build_fs_hash(uint8_t *out, size_t out_size, const char *name, const char *type, uint64_t off,
		       uint64_t len);

/* An upload answer: {"off"}. The FILE_OFFSET_NOT_VALID error's "len" is read by mgmt_decode_fs_len(). */
int mgmt_decode_fs_off(const cbor_item_t *body, uint64_t *off);
int mgmt_decode_fs_len(const cbor_item_t *body, uint64_t *len); /* {"len"}: status, offset errors */

typedef struct MgmtFsData {
	uint64_t off;
	uint8_t *data;          /* caller's buffer */
	size_t data_size;
	size_t data_len;
	bool has_len;
	uint64_t len;
} MgmtFsData;
int mgmt_decode_fs_download(const cbor_item_t *body, MgmtFsData *out);

typedef struct MgmtFsHash {
	char type[16];
	bool has_off;
	uint64_t off;
	uint64_t len;
	uint8_t output[MGMT_FS_HASH_MAX]; /* a number is kept big-endian in its size: crc32 in 4 bytes */
	size_t output_len;
	bool numeric;
} MgmtFsHash;
int mgmt_decode_fs_hash(const cbor_item_t *body, MgmtFsHash *out);

typedef struct MgmtFsHashType {
	char name[16];
	bool byte_string;       /* "format" 1: bytes; 0: a number */
	uint32_t size;
} MgmtFsHashType;
typedef struct MgmtFsHashTypes {
	MgmtFsHashType types[MGMT_FS_HASH_TYPES];
	size_t count;
	bool truncated;
} MgmtFsHashTypes;
int mgmt_decode_fs_hash_types(const cbor_item_t *body, MgmtFsHashTypes *out);

/*
 * Settings group (3), from Zephyr 4.1's subsys/mgmt/mcumgr/grp/settings_mgmt/src/settings_mgmt.c and
 * smp_group_3.rst. Read (command 0): {"name", "max_size"?} → {"val": bytes, "max_size"?}: the device
 * reads at most min(max_size, CONFIG_MCUMGR_GRP_SETTINGS_VALUE_LEN) bytes and adds "max_size" (its own
 * limit) only when the request asked for more. Write (0): {"name", "val"} → {}. Delete (1): {"name"}.
 * Commit (2), load (3, read) and save (3, write): {} → {}. Names of CONFIG_MCUMGR_GRP_SETTINGS_NAME_LEN
 * bytes or more are the group's KEY_TOO_LONG.
 */
#define MGMT_SETTINGS_NAME_MAX 256
#define MGMT_SETTINGS_VALUE_MAX 4096

int mgmt_build_settings_read(uint8_t *out, size_t out_size, const char *name, uint32_t max_size);
int mgmt_build_settings_write(uint8_t *out, size_t out_size, const char *name, const uint8_t *val, size_t val_len);
int mgmt_build_settings_delete(uint8_t *out, size_t out_size, const char *name);

typedef struct MgmtSettingsValue {
	uint8_t val[MGMT_SETTINGS_VALUE_MAX];
	size_t len;
	bool has_max_size;      /* the device's value limit, sent when the request asked for more */
	uint32_t max_size;
} MgmtSettingsValue;
int mgmt_decode_settings_read(const cbor_item_t *body, MgmtSettingsValue *out);
