/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dfu-internal.h"
#include "firmware-kind.h"
#include "log.h"
#include "smp-error.h"
#include "util.h"

/* The device drops off about 250 ms after it answers a reset (REFERENCE.md §11): do not mistake the
 * answer of a device that has not gone yet for one that came back. */
#define DFU_RESET_GRACE_USEC (1000ull * 1000)
#define DFU_POLL_USEC (1000ull * 1000)
/* Zephyr resets MCUMGR_GRP_OS_RESET_MS (250 ms by default) after it answers the reset, and MCUboot
 * answers nothing while it swaps. A device that still lists the new image as pending this long after
 * the reset answer has restarted, and MCUboot declined the swap. */
#define DFU_NOT_SWAPPED_USEC (10ull * 1000 * 1000)

static const char *const mode_names[] = {
	[DFU_TEST_AND_CONFIRM] = "test-and-confirm",
	[DFU_CONFIRM_ONLY] = "confirm-only",
	[DFU_TEST_ONLY] = "test-only",
	[DFU_UPLOAD_ONLY] = "upload-only",
};

int dfu_mode_from_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(mode_names); i++)
		if (strcmp(name, mode_names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

const char *dfu_mode_name(DfuMode mode)
{
	return (size_t)mode < ARRAY_SIZE(mode_names) ? mode_names[mode] : "?";
}

static void dfu_options_emitv(const DfuOptions *o, DfuEventKind kind, const char *step, const char *fmt,
			      va_list ap) __attribute__((format(printf, 4, 0)));
static void dfu_options_emitv(const DfuOptions *o, DfuEventKind kind, const char *step, const char *fmt,
			      va_list ap)
{
	DfuEvent e = { .kind = kind, .step = step };

	vsnprintf(e.message, sizeof(e.message), fmt, ap);
	log_debug("dfu %s: %s", step, e.message);
	if (o->event)
		o->event(o->userdata, &e);
}

void dfu_options_emit(const DfuOptions *o, DfuEventKind kind, const char *step, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dfu_options_emitv(o, kind, step, fmt, ap);
	va_end(ap);
}

void dfu_emit(Dfu *f, DfuEventKind kind, const char *step, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dfu_options_emitv(f->o, kind, step, fmt, ap);
	va_end(ap);
}

int dfu_outcome(Dfu *f, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->res->message, sizeof(f->res->message), fmt, ap);
	va_end(ap);
	return code;
}

bool dfu_slot_holds(const MgmtImageSlot *s, const DfuImage *img)
{
	return s && s->hash_len == img->hash_len && memcmp(s->hash, img->hash, img->hash_len) == 0;
}

const MgmtImageSlot *dfu_slot(Dfu *f, uint32_t slot)
{
	return mgmt_image_list_slot(&f->list, slot);
}

int dfu_read_list(Dfu *f)
{
	int r = device_image_list(f->d, &f->list);

	if (r == 0)
		f->res->final_list = f->list;
	return r;
}

int dfu_state_write(Device *d, const DfuImage *img, bool confirm, MgmtImageList *list)
{
	unsigned tries = d->options.tries ? d->options.tries : DEVICE_DEFAULT_TRIES;

	for (unsigned sent = 1;; sent++) {
		const MgmtImageSlot *s;
		int r = device_image_state_write(d, img->hash, img->hash_len, confirm, list);

		if (r != -ETIMEDOUT)
			return r;
		/* The answer was lost, perhaps the request: what the device now lists decides. A request the
		 * device took is never sent again; one that did not arrive (the state unchanged) is, up to
		 * --tries, as a read would be: the same state write twice in a row changes nothing more. */
		log_debug("dfu: no answer to the %s request: reading the image state back", confirm ? "confirm" : "test");
		r = device_image_list(d, list);
		if (r)
			return r;
		s = mgmt_image_list_find_hash(list, img->hash, img->hash_len);
		if (!s || dfu_state_applied(s, confirm) || sent >= tries)
			return 0;
		log_debug("dfu: the %s request did not arrive: sending it again", confirm ? "confirm" : "test");
	}
}

/* Read back (REFERENCE.md §5): re-marking can be a silent no-op. */
bool dfu_state_applied(const MgmtImageSlot *s, bool confirm)
{
	return s->active ? s->confirmed || !confirm : s->pending && (s->permanent || !confirm);
}

/* The only place that writes image state: test (confirm false) or permanent / confirm (true). */
static int dfu_mark(Dfu *f, bool confirm)
{
	const MgmtImageSlot *s;
	int r;

	if (!f->verified || !mgmt_image_list_find_hash(&f->list, f->img->hash, f->img->hash_len))
		return dfu_outcome(f, DFU_NOT_VERIFIED, "refusing to mark an image the device does not verifiably hold");
	r = dfu_state_write(f->d, f->img, confirm, &f->list);
	if (r)
		return r;
	f->res->final_list = f->list;
	s = mgmt_image_list_find_hash(&f->list, f->img->hash, f->img->hash_len);
	if (!s)
		return dfu_outcome(f, DFU_STATE_NOT_APPLIED, "after marking, the device no longer lists the image");
	if (!dfu_state_applied(s, confirm))
		return dfu_outcome(f, DFU_STATE_NOT_APPLIED,
				   "after the %s request slot %u is not %s: the device did not change its state",
				   confirm ? "confirm" : "test", s->slot,
				   s->active ? "confirmed" : confirm ? "pending and permanent" : "pending");
	f->res->marked = true;
	return 0;
}

static int dfu_upload(Dfu *f)
{
	int r;

	dfu_emit(f, DFU_EVENT_STATE, "upload", "Uploading version %s (%zu bytes)", f->img->version, f->img->size);
	r = upload_run(f->d, f->img->data, f->img->size, &f->o->upload, &f->res->upload);
	if (r)
		return r;
	f->res->uploaded = true;
	r = dfu_read_list(f);
	if (r)
		return r;
	if (!mgmt_image_list_find_hash(&f->list, f->img->hash, f->img->hash_len))
		return dfu_outcome(f, DFU_NOT_VERIFIED, "after the upload no slot lists the image's hash: it did not "
							"land intact; nothing was marked");
	f->verified = true;
	dfu_emit(f, DFU_EVENT_STATE, "verify", "Verified: slot 1 holds the image%s",
		 f->res->upload.has_match ? " and the device's hash of the data matches" : "");
	return 0;
}

int dfu_settings_erase(Device *d, const DfuOptions *o, bool *erased, char *message, size_t message_size)
{
	int r;

	*erased = false;
	if (!o->erase_settings)
		return 0;
	dfu_options_emit(o, DFU_EVENT_STATE, "erase-settings", "Erasing the settings partition (Bluetooth bonds included)");
	r = device_storage_erase(d);
	if (r == 0) {
		*erased = true;
		return 0;
	}
	if (r != DEVICE_STATUS_ERROR || d->status.kind != SMP_STATUS_RC || d->status.rc != SMP_RC_ENOTSUP)
		return r;
	if (o->require_erase_settings) {
		snprintf(message, message_size, "this firmware cannot erase settings (rc 8, ENOTSUP): enable "
			 "CONFIG_MCUMGR_GRP_ZBASIC and CONFIG_MCUMGR_GRP_ZBASIC_STORAGE_ERASE, with a storage partition; "
			 "nothing was marked");
		return DFU_SETTINGS_NOT_ERASED;
	}
	dfu_options_emit(o, DFU_EVENT_WARNING, "erase-settings",
			 "this firmware cannot erase settings (rc 8, ENOTSUP: enable CONFIG_MCUMGR_GRP_ZBASIC and "
			 "CONFIG_MCUMGR_GRP_ZBASIC_STORAGE_ERASE, with a storage partition); continuing the update");
	return 0;
}

static int dfu_erase_settings(Dfu *f)
{
	return dfu_settings_erase(f->d, f->o, &f->res->settings_erased, f->res->message, sizeof(f->res->message));
}

/* Why an image stayed pending, as far as the device tells: no bootloader at all (bootloader info
 * answers rc 8, as on a native_sim build: nothing ever swaps there), or, with swap-using-move and
 * slots of equal size, room: the move needs one free sector and the trailer another (swap_run():
 * "Not enough free space to run swap upgrade"). Room is named only when the image could lack it:
 * a slot size that is not known, or an image over half the slot. Returns whether it found such a cause. */
bool dfu_not_swapped_reason(Device *d, uint32_t image, size_t size, char *out, size_t out_size)
{
	MgmtBootloaderInfo boot;
	MgmtSlotInfo info;
	uint64_t slot = 0;
	char slot_text[64] = "";

	if (device_bootloader_info(d, &boot) == DEVICE_STATUS_ERROR && d->status.kind == SMP_STATUS_RC &&
	    d->status.rc == SMP_RC_ENOTSUP) {
		snprintf(out, out_size, " The device reports no bootloader (bootloader info answers rc 8): without "
			 "MCUboot (a native_sim build, for one) nothing swaps it in");
		return true;
	}
	if (device_slot_info(d, &info) == 0)
		for (size_t i = 0; i < info.count; i++)
			if (info.images[i].image == image && info.images[i].slot_count > 1 &&
			    info.images[i].slots[1].has_size) {
				slot = info.images[i].slots[1].size;
				snprintf(slot_text, sizeof(slot_text), ", the slot %" PRIu64 " bytes", slot);
			}
	if (slot && size <= slot / 2) {
		snprintf(out, out_size, " Is MCUboot built with the key that signed it, and for this slot layout?");
		return false;
	}
	snprintf(out, out_size, " With swap-using-move an image must be two flash sectors smaller than the slot "
		 "(this one is %zu bytes%s): build a smaller image, and 'smpctl image erase' clears slot 1",
		 size, slot_text);
	return true;
}

/* MCUboot keeps an image it will not swap marked in slot 1 and boots the old one, at every reset. */
static int dfu_not_swapped(Dfu *f)
{
	char reason[320];

	/* No answer to the reset, only a silence taken for it (device.c): over a lossy link the request
	 * itself may have been lost, and a device that never restarted lists the same slots (campaign seed
	 * 925). With no cause for MCUboot to refuse in sight, that is the likelier story; the reset is never
	 * sent twice, so the next run does it. */
	if (!dfu_not_swapped_reason(f->d, 0, f->img->size, reason, sizeof(reason)) && f->d->reset_answer_lost)
		return dfu_outcome(f, DFU_NOT_BACK, "the device never answered the reset and still lists the new "
				   "image marked for the next boot: the reset may not have reached it (a lossy link?); "
				   "run the same command again: it resets the device without uploading again");
	return dfu_outcome(f, DFU_NOT_SWAPPED, "the device restarted but did not swap in the new image: it "
			   "still waits in slot 1, marked for the next boot.%s", reason);
}

int dfu_wait_swapped_list(Device *d, MgmtImageList *list, uint64_t reset_at, uint64_t deadline,
			  bool (*pending)(void *userdata, const MgmtImageList *list), void *userdata)
{
	for (;;) {
		uint64_t now = now_usec();
		int r;

		if (now >= deadline)
			return DFU_NOT_BACK;
		r = device_wait_back(d, deadline - now);
		if (r == -ETIMEDOUT)
			continue;
		if (r == 0)
			r = device_image_list(d, list);
		if (r == -ETIMEDOUT || r == -ECONNRESET)
			continue;
		if (r)
			return r;
		if (!pending(userdata, list))
			return 0;
		if (now_usec() >= reset_at + DFU_NOT_SWAPPED_USEC)
			return DFU_NOT_SWAPPED;
		r = device_sleep(d, DFU_POLL_USEC);
		if (r < 0)
			return r;
	}
}

static bool dfu_still_pending(void *userdata, const MgmtImageList *list)
{
	Dfu *f = userdata;
	const MgmtImageSlot *s1 = mgmt_image_list_slot(list, 1);

	f->res->final_list = *list;
	return dfu_slot_holds(s1, f->img) && s1->pending;
}

/* After a reset: is the device back, and has it swapped yet? A device that still lists our image as
 * pending in slot 1 has not restarted yet, or, DFU_NOT_SWAPPED_USEC after the reset, never will swap. */
static int dfu_wait_swapped(Dfu *f, uint64_t reset_at, uint64_t deadline)
{
	int r = dfu_wait_swapped_list(f->d, &f->list, reset_at, deadline, dfu_still_pending, f);

	if (r == DFU_NOT_BACK)
		return dfu_outcome(f, DFU_NOT_BACK, "the device did not come back within the reset timeout: "
						    "it may still be swapping; check with 'smpctl image list' "
						    "(raise --reset-timeout)");
	if (r == DFU_NOT_SWAPPED)
		return dfu_not_swapped(f);
	return r;
}

/* The reset's answer was lost and the device answered every probe after it: it never got the request,
 * or it restarted and swapped between two probes, faster than they could see (device.c's probes are
 * 250 ms apart). Only the slots tell: our image no longer pending in slot 1 means MCUboot ran. */
static bool dfu_restarted_unseen(Dfu *f)
{
	const MgmtImageSlot *s1;

	if (!f->d->reset_still_answering || dfu_read_list(f) != 0)
		return false;
	s1 = dfu_slot(f, 1);
	return !(dfu_slot_holds(s1, f->img) && s1->pending);
}

static int dfu_reset_and_check(Dfu *f)
{
	uint64_t reset_at;
	int r;

	dfu_emit(f, DFU_EVENT_STATE, "reset", "Resetting the device: MCUboot swaps the images before it starts");
	r = device_reset(f->d, false);
	if (r == -ETIMEDOUT && dfu_restarted_unseen(f))
		r = 0;
	if (r)
		return r;
	reset_at = now_usec();
	f->res->reset = true;
	r = device_sleep(f->d, DFU_RESET_GRACE_USEC);
	if (r < 0)
		return r;
	dfu_emit(f, DFU_EVENT_STATE, "wait", "Waiting up to %llu s for the device to come back",
		 (unsigned long long)(f->o->reset_timeout_usec / 1000000));
	r = dfu_wait_swapped(f, reset_at, now_usec() + f->o->reset_timeout_usec);
	if (r)
		return r;
	return dfu_check_running(f, "after the reset the device", "MCUboot did not boot it or reverted");
}

int dfu_check_running(Dfu *f, const char *who, const char *why_not)
{
	const MgmtImageSlot *s0 = dfu_slot(f, 0);
	char hash[2 * MGMT_HASH_MAX + 1], version[MGMT_VERSION_TEXT + 8];

	if (s0)
		mgmt_version_text(s0->version, version, sizeof(version));
	if (!dfu_slot_holds(s0, f->img) || !s0->active)
		return dfu_outcome(f, DFU_REVERTED,
				   "%s runs %s%s (hash %s), not the new image: %s (is it signed with the bootloader's "
				   "key, and built for this board?)",
				   who, s0 ? "version " : "no listed image", s0 ? version : "",
				   s0 ? hex_encode(s0->hash, s0->hash_len, hash) : "-", why_not);
	f->res->running = true;
	f->res->confirmed = s0->confirmed;
	dfu_emit(f, DFU_EVENT_STATE, "check", "The device runs the new image (version %s)", version);
	return 0;
}

int dfu_confirm_running(Dfu *f)
{
	int r;

	dfu_emit(f, DFU_EVENT_STATE, "confirm", "Confirming the new image so that it stays");
	r = dfu_mark(f, true);
	if (r)
		return r;
	f->res->confirmed = true;
	dfu_emit(f, DFU_EVENT_STATE, "done", "Update complete: version %s runs and is confirmed", f->img->version);
	return 0;
}

/* Marks for the mode, resets, checks and (test-and-confirm) confirms. */
static int dfu_apply_mode(Dfu *f, bool already_pending)
{
	DfuMode mode = f->o->mode;
	int r;

	if (mode == DFU_UPLOAD_ONLY) {
		dfu_emit(f, DFU_EVENT_STATE, "done", "Upload-only: the image waits in slot 1, not marked%s",
			 already_pending ? " (it was already marked for the next boot)" : "");
		return 0;
	}
	r = dfu_erase_settings(f);
	if (r)
		return r;
	if (!already_pending) {
		bool permanent = mode == DFU_CONFIRM_ONLY;

		dfu_emit(f, DFU_EVENT_STATE, permanent ? "confirm" : "test", "Marking the image %s",
			 permanent ? "permanent (confirm-only: no revert possible)" : "for test (it reverts unless confirmed)");
		r = dfu_mark(f, permanent);
		if (r)
			return r;
	} else {
		dfu_emit(f, DFU_EVENT_STATE, "test", "Slot 1 already holds the image marked for the next boot: not marking again");
	}
	r = dfu_reset_and_check(f);
	if (r)
		return r;
	if (mode == DFU_TEST_ONLY || f->res->confirmed) {
		if (!f->res->confirmed)
			dfu_emit(f, DFU_EVENT_WARNING, "done", "Test-only: version %s runs unconfirmed and reverts at the next "
							       "reset unless you run 'smpctl image confirm'", f->img->version);
		else
			dfu_emit(f, DFU_EVENT_STATE, "done", "Update complete: version %s runs and is confirmed",
				 f->img->version);
		return 0;
	}
	return dfu_confirm_running(f);
}

/* Already there (ISSUE-NOTES 13): what the device holds decides where the update starts. */
static int dfu_from_slot0(Dfu *f, const MgmtImageSlot *s0)
{
	if (s0->confirmed) {
		f->res->already_running = f->res->running = f->res->confirmed = true;
		dfu_emit(f, DFU_EVENT_STATE, "done", "Version %s is already running and confirmed: nothing to do",
			 f->img->version);
		return 0;
	}
	f->res->running = true;
	f->verified = true;
	if (f->o->mode == DFU_TEST_ONLY || f->o->mode == DFU_UPLOAD_ONLY) {
		dfu_emit(f, DFU_EVENT_STATE, "done", "Version %s is already running, not confirmed (%s: left so)",
			 f->img->version, dfu_mode_name(f->o->mode));
		return 0;
	}
	dfu_emit(f, DFU_EVENT_STATE, "inspect", "Version %s already runs but is not confirmed", f->img->version);
	return dfu_confirm_running(f);
}

static int dfu_slot1_busy(Dfu *f, const MgmtImageSlot *s1)
{
	char hash[2 * MGMT_HASH_MAX + 1], version[MGMT_VERSION_TEXT + 8];

	mgmt_version_text(s1->version, version, sizeof(version));
	return dfu_outcome(f, DFU_SLOT_BUSY,
			   "slot 1 holds another image (version %s, hash %s) marked for the next boot, so the device "
			   "refuses uploads: 'smpctl reset' boots it, then run this update again",
			   version, hex_encode(s1->hash, s1->hash_len, hash));
}

/*
 * --erase-ahead: once the new image runs confirmed, slot 1 holds the old one, the way back (image test
 * of its hash). Erasing it now means the next upload meets a blank slot, which a firmware without
 * progressive erase writes without erasing first (zephyr_img_mgmt.c img_mgmt_upload_inspect: the erase
 * happens only when img_mgmt_flash_check_empty finds data): the next update is bound by the link, not
 * by 89.7 ms page erases. The device's own rules on what may be erased apply; a refusal is a warning,
 * as the update itself is done.
 */
bool dfu_slot_erase_ahead(Device *d, const DfuOptions *o, MgmtImageList *list, uint32_t image, uint32_t slot)
{
	const MgmtImageSlot *s;
	int r = device_image_list(d, list);

	s = r ? NULL : mgmt_image_list_entry(list, image, slot % 2);
	if (!r && s && (s->pending || s->active || s->permanent)) {
		dfu_options_emit(o, DFU_EVENT_WARNING, "erase-ahead", "Slot %u is in use (pending or active): not erased "
				 "ahead", slot);
		return false;
	}
	if (!r) {
		dfu_options_emit(o, DFU_EVENT_STATE, "erase-ahead", "Erasing slot %u (%s) so that the next upload only "
				 "writes", slot, s ? "the previous image, the way back" : "it lists no image but may hold data");
		r = device_image_erase(d, (int)slot);
	}
	if (r) {
		dfu_options_emit(o, DFU_EVENT_WARNING, "erase-ahead", "Slot %u was not erased ahead: %s (the update itself "
				 "is done)", slot, device_describe_error(d, r));
		return false;
	}
	(void)device_image_list(d, list); /* the final list shows the blank slot */
	return true;
}

static void dfu_erase_ahead(Dfu *f)
{
	/* Only after this run swapped: then slot 1 holds the image it replaced. On a device that already ran
	 * the image, slot 1 may hold something staged with upload-only. */
	if (!f->o->erase_ahead || !f->res->running || !f->res->confirmed || !f->res->reset)
		return;
	f->res->erased_ahead = dfu_slot_erase_ahead(f->d, f->o, &f->list, 0, 1);
	f->res->final_list = f->list;
}

/*
 * A rack must not roll boards back by accident (a stale file in a devices list): an image that is not
 * newer than the running one is refused unless asked for. The same image (same hash) already running
 * is not a downgrade but a rerun: dfu_from_slot0 finishes it. A version the device writes in a form
 * smpctl cannot read is let through with a warning: the device's own rules (MCUboot's downgrade
 * prevention) still apply.
 */
int dfu_check_version(Dfu *f, const MgmtImageSlot *s0)
{
	int cmp;

	if (!s0)
		return 0;
	if (f->o->allow_downgrade || dfu_slot_holds(s0, f->img))
		return 0;
	if (mgmt_version_compare(f->img->version, s0->version, &cmp) < 0) {
		dfu_emit(f, DFU_EVENT_WARNING, "inspect", "Cannot compare version %s with the running %s: not checked "
			 "for a downgrade", f->img->version, f->res->old_version);
		return 0;
	}
	if (cmp > 0)
		return 0;
	return dfu_outcome(f, DFU_DOWNGRADE, "the image's version %s is %s the running %s: nothing was sent "
			   "(--allow-downgrade installs it anyway)", f->img->version,
			   cmp == 0 ? "the same as" : "older than", f->res->old_version);
}

static int dfu_run_steps(Dfu *f)
{
	const DfuImage *img = f->img;
	const DfuOptions *o = f->o;
	const MgmtImageSlot *s0, *s1;
	int r;

	dfu_emit(f, DFU_EVENT_STATE, "inspect", "Reading the device's image slots");
	r = dfu_read_list(f);
	if (r)
		return r;
	s0 = dfu_slot(f, 0);
	s1 = dfu_slot(f, 1);
	if (s0 && s0->active)
		mgmt_version_text(s0->version, f->res->old_version, sizeof(f->res->old_version));
	if (dfu_slot_holds(s0, img) && s0->active && !o->force)
		return dfu_from_slot0(f, s0);
	r = dfu_check_version(f, s0 && s0->active ? s0 : NULL);
	if (r)
		return r;
	if (dfu_slot_holds(s1, img) && !o->force) {
		f->verified = true; /* the device lists the image's hash TLV in slot 1 */
		f->res->upload_skipped = true;
		dfu_emit(f, DFU_EVENT_STATE, "inspect", "Slot 1 already holds version %s%s: skipping the upload",
			 img->version, s1->pending ? ", marked for the next boot" : "");
		return dfu_apply_mode(f, s1->pending);
	}
	if (s1 && !s1->active && (s1->pending || s1->permanent))
		return dfu_slot1_busy(f, s1);
	r = dfu_upload(f);
	if (r)
		return r;
	return dfu_apply_mode(f, false);
}

int dfu_run(Device *d, const DfuImage *img, const DfuOptions *o, DfuResult *res)
{
	Dfu f = { .d = d, .img = img, .o = o, .res = res };
	int r;

	*res = (DfuResult){ 0 };
	r = firmware_is_recovery(d);
	if (r < 0)
		return r;
	if (r > 0)
		return dfu_recovery_run(&f);
	r = dfu_run_steps(&f);
	if (r == 0)
		dfu_erase_ahead(&f);
	return r;
}
