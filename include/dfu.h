/* SPDX-License-Identifier: MIT */
/*
 * The whole update in one call (REFERENCE.md §5, §10, §13; ISSUE-NOTES 13): look at what the device
 * holds, upload unless it is already there, verify, optionally erase settings, mark for test or confirm,
 * reset, wait for the device to come back, check that the new image runs, confirm, check it is
 * confirmed. Every state change is read back and checked; dfu_mark() is the one place that writes image
 * state and it refuses unless the slot's hash equals the image's hash TLV and nothing disproved the
 * upload. Modes follow Nordic's vocabulary. The core never prints: steps and warnings go to a callback.
 * A device in MCUboot's serial recovery gets its own flow (dfu-recovery.c): upload into the primary
 * slot, verify, reset, and check that the application comes up running the image.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "upload.h"

typedef enum DfuMode {
	DFU_TEST_AND_CONFIRM, /* upload, test, reset, check it runs, confirm, check (default) */
	DFU_CONFIRM_ONLY,     /* upload, confirm (permanent), reset, check: for images that cannot revert */
	DFU_TEST_ONLY,        /* upload, test, reset, check it runs; left unconfirmed: reverts at next reset */
	DFU_UPLOAD_ONLY,      /* upload and verify; nothing marked */
} DfuMode;

/* Returns the mode for its name ("test-and-confirm", …) or -EINVAL. */
int dfu_mode_from_name(const char *name);
const char *dfu_mode_name(DfuMode mode);

enum {
	/* positive outcomes beside DEVICE_STATUS_ERROR and UPLOAD_* */
	DFU_REVERTED = 10,          /* after the reset the device runs another image */
	DFU_STATE_NOT_APPLIED = 11, /* a state write was accepted but the read-back shows otherwise */
	DFU_SLOT_BUSY = 12,         /* another image waits in slot 1 for the next boot */
	DFU_NOT_VERIFIED = 13,      /* the device does not hold the image after the upload */
	DFU_SETTINGS_NOT_ERASED = 14, /* --require-erase-settings and the firmware cannot */
	DFU_NOT_BACK = 15,          /* the device did not come back after the reset in time */
	DFU_NOT_SWAPPED = 16,       /* it came back still running the old image, the new one still pending */
	DFU_DOWNGRADE = 17,         /* the image is not newer than the one running (allow_downgrade) */
	DFU_XIP_MODE = 19,          /* direct-xip variants for a device whose MCUboot is not in direct-xip mode */
	DFU_RECOVERY_NO_TEST = 18,  /* asked of MCUboot's serial recovery what it cannot do: test-only (it cannot
				     * revert), or several images (dfu_run_multi) */
};

typedef struct DfuImage {
	const uint8_t *data;
	size_t size;
	const uint8_t *hash;  /* the image's hash TLV: what the device lists for it */
	size_t hash_len;
	const char *version;
	uint32_t image;       /* the image number it goes to: dfu_run takes image 0, dfu_run_multi any */
	bool xip;             /* an MCUboot direct-xip variant, linked to run from xip_slot of its image */
	uint32_t xip_slot;    /* 0 or 1: dfu_run_multi sends the variant for the slot that does not run */
} DfuImage;

typedef enum DfuEventKind {
	DFU_EVENT_STATE,
	DFU_EVENT_WARNING,
} DfuEventKind;

typedef struct DfuEvent {
	DfuEventKind kind;
	const char *step;   /* "inspect", "upload", "verify", "erase-settings", "test", "confirm", "reset",
			     * "wait", "check", "done", "erase-ahead" */
	char message[320];
} DfuEvent;

typedef struct DfuOptions {
	DfuMode mode;
	bool force;                   /* upload even if a slot already holds the image */
	bool erase_settings;
	bool require_erase_settings;
	bool erase_ahead;             /* once confirmed, erase slot 1 (the old image) for the next update */
	bool allow_downgrade;         /* install an image older than, or as old as, the running one */
	uint64_t reset_timeout_usec;  /* how long the device may be away after a reset (swap ≈ 20 s) */
	UploadOptions upload;
	void (*event)(void *userdata, const DfuEvent *e);
	void *userdata;
} DfuOptions;

typedef struct DfuResult {
	bool uploaded;
	bool upload_skipped;       /* a slot already held the image */
	bool settings_erased;
	bool marked;
	bool reset;
	bool running;              /* the new image is active */
	bool confirmed;
	bool already_running;
	bool erased_ahead;         /* slot 1 is blank for the next update (--erase-ahead) */
	bool recovery;             /* the device was in MCUboot's serial recovery: the image went into slot 0 */
	UploadResult upload;
	char old_version[MGMT_VERSION_TEXT + 8]; /* what ran before, as smpctl shows versions ("" unknown) */
	MgmtImageList final_list;
	char message[512];         /* one line on a failure (positive outcome codes) */
} DfuResult;

/* Returns 0, DEVICE_STATUS_ERROR (d->status), UPLOAD_*, DFU_*, or -errno; res->message explains DFU_*. */
int dfu_run(Device *d, const DfuImage *img, const DfuOptions *o, DfuResult *res);

/*
 * Several images at once (dfu-multi.c): an nRF Connect SDK package (application and network core), or one
 * image for image N. Every image is checked against the device first (downgrade against its own image's
 * running version, a busy secondary slot) before anything is sent; each is uploaded into its image's
 * secondary slot unless it is already there, and verified (its hash listed there); only when all are
 * verified is each marked (by its hash), then one reset, and every image must run its new hash; then each
 * is confirmed (per mode) and the final list read back. --erase-settings erases the application's settings
 * once, after every upload is verified and before anything is marked (not in upload-only); --erase-ahead,
 * once every image runs confirmed after this run's reset, erases each updated image's slot that holds the
 * old image (slot 1, or in direct-xip the slot that ran before).
 *
 * MCUboot direct-xip (docs/design.md "Equal slots (direct-xip)"): a package brings two variants of an image
 * (DfuImage.xip), each linked for one slot; the device's list says which slot runs, and the variant for the
 * other slot is uploaded there (img_mgmt puts it there). Zephyr 4.1 without revert lists it pending and
 * permanent as soon as it is newer and has no state write: nothing is marked then; the reset boots it where
 * it lies, and the check is that this slot now runs it. With revert, it is marked as in swap mode.
 */
#define DFU_MULTI_MAX 8

typedef struct DfuImageResult {
	uint32_t image;
	size_t input;              /* which of the caller's imgs was sent: for a direct-xip pair, the chosen variant */
	uint32_t slot;             /* the slot of its image that received it and runs it after the reset */
	bool uploaded;
	bool upload_skipped;
	bool marked;
	bool running;
	bool confirmed;
	bool already_running;
	bool erased_ahead;         /* --erase-ahead: the slot it left (the way back) is blank for the next update */
	UploadResult upload;
	char old_version[MGMT_VERSION_TEXT + 8];
} DfuImageResult;

typedef struct DfuMultiResult {
	DfuImageResult images[DFU_MULTI_MAX];
	size_t count;              /* images updated: a direct-xip pair counts once */
	bool reset;
	bool settings_erased;      /* --erase-settings: once, before anything is marked */
	MgmtImageList final_list;
	char message[512];
} DfuMultiResult;

/* Returns 0, DEVICE_STATUS_ERROR, UPLOAD_*, DFU_*, -EINVAL (no images, too many, an image number twice but
 * for a direct-xip pair), or -errno; res->message explains DFU_*. DFU_XIP_MODE: the device's MCUboot says
 * it is not in direct-xip mode but the images are direct-xip variants. */
int dfu_run_multi(Device *d, const DfuImage *imgs, size_t count, const DfuOptions *o, DfuMultiResult *res);
