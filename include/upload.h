/* SPDX-License-Identifier: MIT */
/*
 * The image upload engine (REFERENCE.md §4): windowed, pipelined chunks that fill the device's buffer
 * exactly, the device's "off" authoritative, resend from the offset a response reports, late
 * acknowledgements accepted, the window halved on loss and grown back, and resume after a lost link
 * (the first chunk's "sha" lets the device continue its unfinished upload). It never prints; progress
 * goes to a callback.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"

enum {
	/* positive outcomes beside DEVICE_STATUS_ERROR (device.h) */
	UPLOAD_MATCH_FAILED = 2,   /* the device reported match: false; the damaged copy was erased */
	UPLOAD_GAVE_UP = 3,        /* the link kept failing past max_reconnects */
	UPLOAD_MATCH_FAILED_KEPT = 4, /* match: false, and erasing the damaged copy failed: it may still be there */
};

typedef struct UploadProgress {
	uint64_t acked;        /* bytes the device has confirmed */
	uint64_t total;
	uint64_t elapsed_usec; /* since the first chunk was answered (erase time excluded from the rate) */
	double rate;           /* bytes per second over the recent past */
	size_t window;
	unsigned resends;
	unsigned reconnects;
	bool reconnecting;     /* the link was lost and is being re-established */
} UploadProgress;

typedef struct UploadOptions {
	uint32_t image;             /* image number (multi-image devices), 0 by default */
	size_t window;              /* 0: from the device (buf_count - 1) */
	size_t frame_size;          /* 0: from the device (buf_size, or the transport's limit) */
	uint64_t first_timeout_usec;/* first chunk: the device may erase the slot first (Nordic: 40 s) */
	uint64_t chunk_timeout_usec;
	uint64_t reconnect_timeout_usec;
	unsigned max_reconnects;
	bool upgrade;               /* ask the device to refuse an image not newer than the running one */
	void (*progress)(void *userdata, const UploadProgress *p);
	void *userdata;
} UploadOptions;

typedef struct UploadResult {
	bool has_match;
	bool match;
	bool resumed;          /* the device continued an earlier upload of the same file */
	uint64_t resumed_from;
	uint64_t bytes;
	uint64_t usec;         /* wall time of the whole upload */
	size_t frame_size;
	size_t window;
	unsigned resends;
	unsigned reconnects;
	unsigned chunks;
} UploadResult;

void upload_options_default(UploadOptions *o);
/* Bytes per second this run moved: what the device already held (resumed_from) is not counted. */
double upload_rate(const UploadResult *res);

/* Uploads data (a whole MCUboot image file) to the device, which must be connected with limits learned.
 * Returns 0, DEVICE_STATUS_ERROR (d->status), UPLOAD_MATCH_FAILED(_KEPT), UPLOAD_GAVE_UP, or -errno. */
int upload_run(Device *d, const uint8_t *data, size_t len, const UploadOptions *opt, UploadResult *res);
