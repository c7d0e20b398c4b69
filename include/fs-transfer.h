/* SPDX-License-Identifier: MIT */
/*
 * File transfers with the file system group (8): uploads and downloads that keep up to the device's
 * window of requests in flight (Device.window, as the image upload engine does), filling each upload
 * frame to the device's buffer. Zephyr's fs_mgmt.c keeps one open file: every chunk must land at the
 * file's current length, and one that does not is refused with FILE_OFFSET_NOT_VALID and the length,
 * after which the transfer goes on from there. An upload may start at an offset: the device then
 * appends to the file it has (a resume). A lost link is reconnected (up to 5 times, 60 s each) and the
 * transfer resumes from the device's offset. Returns 0, DEVICE_STATUS_ERROR (the device's error is in
 * Device.status), FS_FILE_CHANGED or a negative errno, as the device calls do.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "device.h"

enum {
	FS_FILE_CHANGED = 2,   /* download: an answer did not fit the length the first one told */
};

typedef void (*FsProgressFn)(void *userdata, uint64_t done, uint64_t total);

typedef struct FsTransferResult {
	uint64_t bytes;        /* the file's length */
	uint64_t sent;         /* bytes that went over the link (resends included) */
	unsigned resends;      /* times the transfer went back to the device's offset */
	unsigned reconnects;   /* times the link was lost and the transfer resumed after reconnecting */
	uint64_t usec;
} FsTransferResult;

/* Writes data[start_off..len) to remote; start_off 0 (re)creates the file, more appends to a file of
 * exactly start_off bytes. */
int fs_upload_run(Device *d, const char *remote, const uint8_t *data, size_t len, uint64_t start_off,
		  FsProgressFn progress, void *userdata, FsTransferResult *res);

/* Reads remote whole into *out (malloc'd, the caller frees), at most max_len bytes (-EFBIG beyond),
 * keeping up to the window of requests for successive chunks in flight; answers may come in any order.
 * FS_FILE_CHANGED: the file was written during the download. */
int fs_download_run(Device *d, const char *remote, size_t max_len, uint8_t **out, size_t *out_len,
		    FsProgressFn progress, void *userdata, FsTransferResult *res);

/* The IEEE 802.3 CRC-32 (zlib's crc32(), Zephyr's crc32_ieee()) that fs_mgmt's "crc32" computes. */
uint32_t fs_crc32(const uint8_t *data, size_t len);
