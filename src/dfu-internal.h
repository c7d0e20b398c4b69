/* SPDX-License-Identifier: MIT */
/* The update's state and the steps dfu.c shares with dfu-recovery.c (MCUboot serial recovery) and
 * dfu-multi.c (several images). */
#pragma once

#include "dfu.h"

typedef struct Dfu {
	Device *d;
	const DfuImage *img;
	const DfuOptions *o;
	DfuResult *res;
	MgmtImageList list;
	bool verified; /* the device lists the image's hash and nothing disproved the upload */
} Dfu;

void dfu_emit(Dfu *f, DfuEventKind kind, const char *step, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Sets res->message; returns code. */
int dfu_outcome(Dfu *f, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool dfu_slot_holds(const MgmtImageSlot *s, const DfuImage *img);
const MgmtImageSlot *dfu_slot(Dfu *f, uint32_t slot);
/* Reads the image list into f->list and res->final_list. */
int dfu_read_list(Dfu *f);
/* DFU_DOWNGRADE unless the image is newer than what s (the slot that boots) holds, or allowed. */
int dfu_check_version(Dfu *f, const MgmtImageSlot *s);
/* After the reset and the wait: slot 0 must hold the image and run it, else DFU_REVERTED with a message that
 * starts with who ("after the reset the device") and says why_not. Sets res->running and res->confirmed. */
int dfu_check_running(Dfu *f, const char *who, const char *why_not);
/* Confirms the running image (the application's image state write) and reads it back. */
int dfu_confirm_running(Dfu *f);

/* Steps dfu_run and dfu_run_multi (dfu-multi.c) share. A test or confirm request for img's hash; a lost answer is
 * followed by reading the list, which the caller checks with dfu_state_applied (REFERENCE.md §5). */
int dfu_state_write(Device *d, const DfuImage *img, bool confirm, MgmtImageList *list);
bool dfu_state_applied(const MgmtImageSlot *s, bool confirm);
/* After a reset: waits for the device and reads its list into list until pending() says no image is still
 * waiting to be swapped in. Returns 0, DFU_NOT_BACK at deadline, DFU_NOT_SWAPPED when it still waits some
 * time after reset_at (MCUboot declined the swap), or an error of the device. */
int dfu_wait_swapped_list(Device *d, MgmtImageList *list, uint64_t reset_at, uint64_t deadline,
			  bool (*pending)(void *userdata, const MgmtImageList *list), void *userdata);
/* --erase-settings, before anything is marked: 0 (erased, or a warning that the firmware cannot),
 * DFU_SETTINGS_NOT_ERASED with message (--require-erase-settings), or the device's error. */
int dfu_settings_erase(Device *d, const DfuOptions *o, bool *erased, char *message, size_t message_size);
/* --erase-ahead of image's slot (counted over all images), unless the device lists it in use; a failure is a
 * warning, as the update is done. Leaves the list read afterwards in list. Returns whether it was erased. */
bool dfu_slot_erase_ahead(Device *d, const DfuOptions *o, MgmtImageList *list, uint32_t image, uint32_t slot);
/* Why image's new image (size bytes) stayed marked after a restart, as far as the device tells, into out
 * (" ..."): no bootloader, or no room for swap-using-move. Returns whether it found such a cause. */
bool dfu_not_swapped_reason(Device *d, uint32_t image, size_t size, char *out, size_t out_size);
/* Hands an event to o->event (and the debug log). */
void dfu_options_emit(const DfuOptions *o, DfuEventKind kind, const char *step, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The whole update against MCUboot's serial recovery (dfu-recovery.c). */
int dfu_recovery_run(Dfu *f);
