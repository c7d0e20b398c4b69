/* SPDX-License-Identifier: MIT */
/*
 * dfu against MCUboot's serial recovery. What recovery does comes from boot/boot_serial/src/boot_serial.c
 * (MCUboot 346f7374ff4467e40b5594658f8ac67a5e9813c9, the revision Zephyr 4.1.0's west.yml names):
 * - bs_upload() writes image 0's PRIMARY slot (with MCUBOOT_SERIAL_DIRECT_IMAGE_UPLOAD, image 0 or 1 is
 *   the primary slot too: flash_area_id_from_direct_image()), erasing the slot and its trailer first.
 *   At the next boot MCUboot finds no swap pending for it (swap type none) and boots it as it is:
 *   nothing to swap, nothing to revert, and Zephyr's img_mgmt then lists it active and confirmed
 *   (img_mgmt_state_flags(): swap type none, active slot).
 * - bs_set() (test/confirm, only with MCUBOOT_SERIAL_IMG_GRP_IMAGE_STATE, else rc 8) marks the SECONDARY
 *   slot, whatever was uploaded (boot_set_pending_multi() opens FLASH_AREA_IMAGE_SECONDARY; with
 *   MCUBOOT_SERIAL_IMG_GRP_HASH the hash is looked for in slot 1 only). Marking after a primary-slot
 *   upload would at best fail and at worst swap an older image over the new one: this flow never marks
 *   in recovery. What the image-state build gives it is the slot flags in the list: an image waiting
 *   in slot 1 marked for the next boot would be swapped over the upload, and is refused up front.
 * - bs_list() lists a slot only when its image validates (bootutil_img_validate: hash TLV, signature),
 *   with "hash" only with MCUBOOT_SERIAL_IMG_GRP_HASH; bs_upload() never reports "match".
 * Each of these is read from an answer (the list's keys, rc 8), never assumed from a build.
 */
#include <errno.h>
#include <string.h>

#include "dfu-internal.h"
#include "firmware-kind.h"
#include "smp-error.h"
#include "util.h"

/* MCUboot's bs_reset() waits 250 ms before it reboots; MCUBOOT_SERIAL_WAIT_FOR_DFU builds then listen
 * 500 ms (BOOT_SERIAL_WAIT_FOR_DFU_TIMEOUT) and stay in recovery for any request they get: ask nothing
 * before both have passed. */
#define RECOVERY_RESET_GRACE_USEC (1500ull * 1000)
#define RECOVERY_POLL_USEC (500ull * 1000)

static int recovery_refuse_pending(Dfu *f, const MgmtImageSlot *s1)
{
	char version[MGMT_VERSION_TEXT + 8];

	mgmt_version_text(s1->version, version, sizeof(version));
	return dfu_outcome(f, DFU_SLOT_BUSY, "slot 1 holds version %s marked for the next boot: MCUboot would swap it "
			   "over the image uploaded to slot 0; reset the device to boot it, then update again", version);
}

static bool same_version(const MgmtImageSlot *s, const DfuImage *img)
{
	int cmp;

	return mgmt_version_compare(img->version, s->version, &cmp) == 0 && cmp == 0;
}

/* After the upload: the primary slot must list the image. With hashes, by its hash; without, all that
 * can be checked is that the slot now validates (MCUboot lists nothing else) with the image's version. */
static int recovery_verify(Dfu *f)
{
	const MgmtImageSlot *s0;
	int r = dfu_read_list(f);

	if (r)
		return r;
	s0 = dfu_slot(f, 0);
	if (!s0)
		return dfu_outcome(f, DFU_NOT_VERIFIED, "after the upload MCUboot lists no image in slot 0: the image does "
				   "not validate there (hash, or not signed with the bootloader's key); nothing else was changed");
	if (s0->hash_len ? !dfu_slot_holds(s0, f->img) : !same_version(s0, f->img))
		return dfu_outcome(f, DFU_NOT_VERIFIED, "after the upload slot 0 holds another image (version %s): the "
				   "image did not land; nothing else was changed", s0->version);
	f->verified = true;
	if (s0->hash_len) {
		dfu_emit(f, DFU_EVENT_STATE, "verify", "Verified: slot 0 holds the image (the recovery lists its hash)");
		return 0;
	}
	dfu_emit(f, DFU_EVENT_WARNING, "verify", "This recovery build lists no hashes (MCUBOOT_SERIAL_IMG_GRP_HASH off): "
		 "the device could not confirm the image's hash. Checked: it took all %zu bytes, and slot 0 now "
		 "validates (MCUboot lists only images whose hash TLV matches) with version %s", f->img->size,
		 f->img->version);
	return 0;
}

static int recovery_upload(Dfu *f)
{
	UploadOptions o = f->o->upload;
	int r;

	o.image = 0; /* the primary slot, with or without direct upload */
	dfu_emit(f, DFU_EVENT_STATE, "upload", "Uploading version %s (%zu bytes) into the primary slot",
		 f->img->version, f->img->size);
	r = upload_run(f->d, f->img->data, f->img->size, &o, &f->res->upload);
	if (r)
		return r;
	f->res->uploaded = true;
	return recovery_verify(f);
}

/* Settings live in the application's storage partition; recovery has no group that erases them. */
static int recovery_erase_settings(Dfu *f)
{
	if (!f->o->erase_settings)
		return 0;
	if (f->o->require_erase_settings)
		return dfu_outcome(f, DFU_SETTINGS_NOT_ERASED, "MCUboot's serial recovery cannot erase settings: update "
				   "from the application to erase them; nothing was uploaded");
	dfu_emit(f, DFU_EVENT_WARNING, "erase-settings", "MCUboot's serial recovery cannot erase settings: not erased; "
		 "continuing the update");
	return 0;
}

/* 1: the application answers, 0: not yet, 2: recovery answered again, or -errno. */
static int recovery_probe_back(Dfu *f, uint64_t deadline)
{
	int r = device_wait_back(f->d, deadline - now_usec());

	if (r == -ETIMEDOUT || r == -ECONNRESET)
		return 0;
	if (r)
		return r;
	r = firmware_is_recovery(f->d);
	if (r == -ETIMEDOUT || r == -ECONNRESET)
		return 0;
	return r < 0 ? r : r ? 2 : 1;
}

static int recovery_wait_application(Dfu *f)
{
	uint64_t deadline = now_usec() + f->o->reset_timeout_usec;
	int r;

	dfu_emit(f, DFU_EVENT_STATE, "wait", "Waiting up to %llu s for the application to come up",
		 (unsigned long long)(f->o->reset_timeout_usec / 1000000));
	while (now_usec() < deadline) {
		r = recovery_probe_back(f, deadline);
		if (r < 0)
			return r;
		if (r == 1)
			return dfu_read_list(f);
		if (r == 2)
			return dfu_outcome(f, DFU_NOT_BACK, "after the reset the device is in serial recovery again, not "
					   "the application: is the recovery button or pin still held? (slot 0 holds "
					   "version %s)", f->img->version);
		r = device_sleep(f->d, RECOVERY_POLL_USEC);
		if (r < 0)
			return r;
	}
	return dfu_outcome(f, DFU_NOT_BACK, "the application did not come up within the reset timeout: check with "
			   "'smpctl info' (raise --reset-timeout)");
}

static int recovery_reset_and_check(Dfu *f)
{
	int r;

	dfu_emit(f, DFU_EVENT_STATE, "reset", "Resetting the device: MCUboot boots the primary slot as it is, no swap");
	r = device_reset(f->d, false);
	if (r)
		return r;
	f->res->reset = true;
	r = device_sleep(f->d, RECOVERY_RESET_GRACE_USEC);
	if (r < 0)
		return r;
	r = recovery_wait_application(f);
	if (r)
		return r;
	r = dfu_check_running(f, "the application came up but", "MCUboot did not boot it");
	if (r)
		return r;
	if (f->res->confirmed) {
		dfu_emit(f, DFU_EVENT_STATE, "done", "Update complete: version %s runs and is confirmed", f->img->version);
		return 0;
	}
	return dfu_confirm_running(f);
}

/* What the device holds decides where the update starts; what is in the way stops it before anything is sent. */
static int recovery_inspect(Dfu *f, bool *have_it)
{
	const MgmtImageSlot *s0, *s1;
	int r;

	dfu_emit(f, DFU_EVENT_STATE, "inspect", "The device is in MCUboot's serial recovery: the image goes into the "
		 "primary slot and boots without a swap");
	if (f->o->mode == DFU_TEST_ONLY)
		return dfu_outcome(f, DFU_RECOVERY_NO_TEST, "serial recovery writes the primary slot, which MCUboot boots "
				   "as it is: the image cannot be tested and reverted; use --mode test-and-confirm or "
				   "confirm-only, or update from the application");
	r = dfu_read_list(f);
	if (r)
		return r;
	s0 = dfu_slot(f, 0);
	s1 = dfu_slot(f, 1);
	if (s0)
		mgmt_version_text(s0->version, f->res->old_version, sizeof(f->res->old_version));
	if (s1 && s1->pending)
		return recovery_refuse_pending(f, s1);
	*have_it = s0 && s0->hash_len && dfu_slot_holds(s0, f->img) && !f->o->force;
	return *have_it ? 0 : dfu_check_version(f, s0);
}

int dfu_recovery_run(Dfu *f)
{
	bool have_it = false;
	int r;

	f->res->recovery = true;
	r = recovery_inspect(f, &have_it);
	if (r)
		return r;
	if (have_it) {
		f->verified = true;
		f->res->upload_skipped = true;
		dfu_emit(f, DFU_EVENT_STATE, "inspect", "Slot 0 already holds version %s: skipping the upload", f->img->version);
	}
	r = f->o->mode == DFU_UPLOAD_ONLY ? 0 : recovery_erase_settings(f);
	if (!r && !have_it)
		r = recovery_upload(f);
	if (r)
		return r;
	if (f->o->mode == DFU_UPLOAD_ONLY) {
		dfu_emit(f, DFU_EVENT_STATE, "done", "Upload-only: the image is in the primary slot and boots at the next reset");
		return 0;
	}
	return recovery_reset_and_check(f);
}
