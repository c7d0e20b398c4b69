/* SPDX-License-Identifier: MIT */
/*
 * The nRF Connect SDK's update package, dfu_application.zip: a zip of signed images and a manifest.json
 * naming each one. The format is what NCS writes (nrfconnect/sdk-nrf, scripts/bootloader/generate_zip.py
 * at 848a47522b0c742e0d1b3a657df0c75e2a83b6d0 and the parameters cmake/sysbuild/zip.cmake at
 * 7a54fdde6791762b5199630560b671308d5f6248 passes it):
 *
 *   {"format-version": 1, "time": N, "name": "...", "files": [{"load_address": N, "image_index": "0",
 *    "slot_index_primary": "1", "slot_index_secondary": "2", "version_MCUBOOT": "1.2.3+4",
 *    "type": "application", "board": "...", "soc": "...", "size": N, "file": "app.bin", "modtime": N}]}
 *
 * generate_zip.py keeps a key=value as a string unless it starts with 0x (then an integer): image_index and
 * the slot indices are strings, load_address an integer, size and modtime integers it adds itself. The
 * network core's entry carries "version" (a B0 firmware version, a plain integer), not version_MCUBOOT;
 * MCUboot direct-xip builds list two variants of image 0 with "slot" 0 and 1 and "version_MCUBOOT+XIP".
 * Python's ZipFile(..., 'w') stores the members (ZIP_STORED): this reader takes stored members only.
 *
 * Everything here is a pure function of the bytes (STYLE.md §4): the package is untrusted input, every
 * length is bounded, and tests/fuzz/fuzz-dfu-package.c feeds it garbage.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DFU_PACKAGE_FILE_MAX (64u * 1024 * 1024) /* the whole zip: a few images of at most 16 MiB */
#define DFU_PACKAGE_MEMBERS_MAX 32
#define DFU_PACKAGE_IMAGES_MAX 8
#define DFU_PACKAGE_MANIFEST_MAX (64u * 1024)
#define DFU_PACKAGE_NAME_MAX 128

/* One member of a zip archive, its bytes borrowed from the archive. */
typedef struct ZipMember {
	char name[DFU_PACKAGE_NAME_MAX];
	const uint8_t *data;
	size_t size;
} ZipMember;

typedef struct ZipArchive {
	ZipMember members[DFU_PACKAGE_MEMBERS_MAX];
	size_t count;
} ZipArchive;

/* Reads the central directory of a zip in buf: stored members only (method 0), CRC-32 checked, names
 * without "..", absolute paths, backslashes or duplicates, no zip64, no encryption. Returns 0, or
 * -EBADMSG with one line in why. */
int zip_archive_parse(const uint8_t *buf, size_t len, ZipArchive *out, char *why, size_t why_size);
const ZipMember *zip_archive_find(const ZipArchive *zip, const char *name);

/* One entry of manifest.json's "files". Absent numbers are -1; absent strings "". */
typedef struct DfuPackageFile {
	char file[DFU_PACKAGE_NAME_MAX];
	int64_t size;
	int64_t image_index;
	int64_t slot_index_primary;
	int64_t slot_index_secondary;
	int64_t slot;                /* direct-xip: the variant's slot */
	int64_t load_address;
	char version_mcuboot[40];    /* version_MCUBOOT, or version_MCUBOOT+XIP */
	char board[64];
	char soc[64];
	char type[32];
	const uint8_t *data;         /* the member's bytes, once matched (dfu_package_parse) */
	size_t data_len;
} DfuPackageFile;

typedef struct DfuPackage {
	char name[DFU_PACKAGE_NAME_MAX];
	int64_t format_version;
	DfuPackageFile files[DFU_PACKAGE_IMAGES_MAX];
	size_t count;
	bool direct_xip;             /* some entry names a "slot": direct-xip variants */
} DfuPackage;

/* Parses manifest.json's text (bounded nesting and length; unknown keys ignored). Returns 0, or -EBADMSG
 * with one line in why. */
int dfu_manifest_parse(const char *text, size_t len, DfuPackage *out, char *why, size_t why_size);

/* Reads the zip, its manifest, and checks that they agree: every listed file is in the zip with the listed
 * size, parses as an MCUboot image whose hash TLV checks (an encrypted one cannot be checked: allowed),
 * carries version_MCUBOOT when the manifest gives one, and the image_index values are distinct (direct-xip
 * variants of one image excepted: distinct "slot"s, both of the image, one version, not the same image,
 * not linked for one address). Returns 0, or -EBADMSG with one line in why. */
int dfu_package_parse(const uint8_t *buf, size_t len, DfuPackage *out, char *why, size_t why_size);

/* "PK\3\4" at the start: a zip, not an image. */
bool dfu_package_is_zip(const uint8_t *buf, size_t len);
