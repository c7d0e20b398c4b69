/* SPDX-License-Identifier: MIT */
/* The update's state and the steps dfu.c shares with dfu-recovery.c (MCUboot serial recovery). */
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
/* Confirms the running image (the application's image state write) and reads it back. */
int dfu_confirm_running(Dfu *f);

/* The whole update against MCUboot's serial recovery (dfu-recovery.c). */
int dfu_recovery_run(Dfu *f);
