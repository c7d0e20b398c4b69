/* SPDX-License-Identifier: MIT */
/*
 * dfu_run_multi (dfu.h): several images updated together, as an nRF Connect SDK package asks (the
 * application in image 0, the network core in image 1). Zephyr's img_mgmt lists image N's slots as
 * "image" N, "slot" 0/1 (img_mgmt_state_encode_slot), takes an upload for image N by the first chunk's
 * "image" field, and marks by hash whichever slot holds it; MCUboot swaps each image's pair at the one
 * reset. The guarantees of dfu_run hold per image: nothing is marked unless every image is verifiably on
 * the device, and every state change is read back.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dfu-internal.h"
#include "firmware-kind.h"
#include "log.h"
#include "util.h"

/* As dfu.c: the device answers the reset about 250 ms before it goes (REFERENCE.md §11). */
#define MULTI_RESET_GRACE_USEC (1000ull * 1000)

/* MCUboot's enum mcuboot_mode (bootutil/boot_status.h), as bootloader info reports it. */
enum {
	BOOT_MODE_UNKNOWN = -1,      /* no bootloader info (CONFIG_MCUMGR_GRP_OS_BOOTLOADER_INFO off), or no mode */
	BOOT_MODE_DIRECT_XIP = 4,
	BOOT_MODE_DIRECT_XIP_REVERT = 5,
};

typedef struct Multi {
	Device *d;
	const DfuImage *input;        /* the caller's images: direct-xip pairs give two for one image */
	size_t input_count;
	DfuImage imgs[DFU_MULTI_MAX]; /* one per image: the one to send (multi_choose) */
	const DfuImage *twin[DFU_MULTI_MAX]; /* direct-xip: the other variant, for the slot that runs now */
	uint32_t run_slot[DFU_MULTI_MAX];    /* the slot of image i that runs now (1 only in direct-xip) */
	uint32_t target[DFU_MULTI_MAX];      /* the slot that takes image i: the secondary, or the one not running */
	size_t count;
	const DfuOptions *o;
	int boot_mode;                /* BOOT_MODE_*, asked only when some image is a direct-xip variant */
	DfuMultiResult *res;
	MgmtImageList list;
	bool verified[DFU_MULTI_MAX]; /* image i's hash is listed in its target slot, or it runs */
	bool pending[DFU_MULTI_MAX];  /* image i is marked for the next boot */
} Multi;

static int multi_outcome(Multi *m, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int multi_outcome(Multi *m, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->res->message, sizeof(m->res->message), fmt, ap);
	va_end(ap);
	return code;
}

static const MgmtImageSlot *multi_slot(const Multi *m, size_t i, uint32_t slot)
{
	return mgmt_image_list_entry(&m->list, m->imgs[i].image, slot);
}

/* The image runs from s: the new image, or (direct-xip) its twin linked for that slot. */
static bool multi_runs(const Multi *m, size_t i, const MgmtImageSlot *s)
{
	return s && s->active && (dfu_slot_holds(s, &m->imgs[i]) || (m->twin[i] && dfu_slot_holds(s, m->twin[i])));
}

static int multi_read_list(Multi *m)
{
	int r = device_image_list(m->d, &m->list);

	if (r == 0)
		m->res->final_list = m->list;
	return r;
}

/* Before anything is sent: where each image stands, and whether it may go on. */
static int multi_inspect_one(Multi *m, size_t i)
{
	const DfuImage *img = &m->imgs[i];
	DfuImageResult *ir = &m->res->images[i];
	const MgmtImageSlot *s0 = multi_slot(m, i, m->run_slot[i]), *s1 = multi_slot(m, i, m->target[i]);
	char hash[2 * MGMT_HASH_MAX + 1], version[MGMT_VERSION_TEXT + 8];
	int cmp;

	if (s0 && s0->active)
		mgmt_version_text(s0->version, ir->old_version, sizeof(ir->old_version));
	if (multi_runs(m, i, s0) && !m->o->force) {
		ir->slot = m->run_slot[i];
		if (!dfu_slot_holds(s0, img))
			ir->input = (size_t)(m->twin[i] - m->input); /* its direct-xip twin runs */
		ir->running = m->verified[i] = true;
		ir->confirmed = ir->already_running = s0->confirmed;
		dfu_options_emit(m->o, DFU_EVENT_STATE, "inspect", "Image %u: version %s already runs%s", img->image,
				 img->version, s0->confirmed ? " and is confirmed" : ", not confirmed");
		return 0;
	}
	/* dfu.c dfu_check_version, against this image's own running version. */
	if (s0 && s0->active && !m->o->allow_downgrade && mgmt_version_compare(img->version, s0->version, &cmp) == 0 &&
	    cmp <= 0)
		return multi_outcome(m, DFU_DOWNGRADE, "image %u: version %s is %s the running %s: nothing was sent "
				     "(--allow-downgrade installs it anyway)", img->image, img->version,
				     cmp == 0 ? "the same as" : "older than", ir->old_version);
	if (dfu_slot_holds(s1, img) && !m->o->force) {
		ir->upload_skipped = m->verified[i] = true;
		m->pending[i] = s1->pending;
		dfu_options_emit(m->o, DFU_EVENT_STATE, "inspect", "Image %u: its slot %u already holds version "
				 "%s%s: skipping the upload", img->image, m->target[i], img->version,
				 s1->pending ? ", marked for the next boot" : "");
		return 0;
	}
	/* Plain direct-xip only: img_mgmt_slot_in_use() skips the next-boot checks, so uploads go over a newer
	 * image waiting in the slot that does not run; with revert (and in swap modes) they are refused
	 * (Zephyr 4.1 img_mgmt_state.c). A device that does not say its mode gets the check. */
	if (s1 && !s1->active && (s1->pending || s1->permanent) && !(img->xip && m->boot_mode == BOOT_MODE_DIRECT_XIP)) {
		mgmt_version_text(s1->version, version, sizeof(version));
		return multi_outcome(m, DFU_SLOT_BUSY, "image %u's secondary slot holds another image (version %s, hash "
				     "%s) marked for the next boot, so the device refuses uploads: reset the device to "
				     "boot it, then run this update again", img->image, version,
				     hex_encode(s1->hash, s1->hash_len, hash));
	}
	return 0;
}

static int multi_upload_one(Multi *m, size_t i)
{
	const DfuImage *img = &m->imgs[i];
	DfuImageResult *ir = &m->res->images[i];
	const MgmtImageSlot *s;
	UploadOptions u = m->o->upload;
	int r;

	dfu_options_emit(m->o, DFU_EVENT_STATE, "upload", "Uploading image %u: version %s (%zu bytes)", img->image,
			 img->version, img->size);
	u.image = img->image;
	r = upload_run(m->d, img->data, img->size, &u, &ir->upload);
	if (r)
		return r;
	ir->uploaded = true;
	r = multi_read_list(m);
	if (r)
		return r;
	s = multi_slot(m, i, m->target[i]);
	if (!dfu_slot_holds(s, img))
		return multi_outcome(m, DFU_NOT_VERIFIED, "after the upload image %u's slot %u does not list the "
				     "image's hash: it did not land intact; nothing was marked", img->image, m->target[i]);
	m->verified[i] = true;
	/* Direct-xip without revert: listed pending (and permanent) as soon as it is the newer one. */
	m->pending[i] = s->pending;
	dfu_options_emit(m->o, DFU_EVENT_STATE, "verify", "Verified: image %u's slot %u holds the image%s",
			 img->image, m->target[i], ir->upload.has_match ? " and the device's hash of the data matches" : "");
	return 0;
}

/* The only writes of image state here: each by its hash, each read back (REFERENCE.md §5). */
static int multi_mark_one(Multi *m, size_t i, bool confirm)
{
	const DfuImage *img = &m->imgs[i];
	const MgmtImageSlot *s;
	int r;

	if (!m->verified[i])
		return multi_outcome(m, DFU_NOT_VERIFIED, "refusing to mark image %u: the device does not verifiably "
				     "hold it", img->image);
	r = dfu_state_write(m->d, img, confirm, &m->list);
	if (r)
		return r;
	m->res->final_list = m->list;
	s = mgmt_image_list_find_hash(&m->list, img->hash, img->hash_len);
	if (!s)
		return multi_outcome(m, DFU_STATE_NOT_APPLIED, "after marking, the device no longer lists image %u",
				     img->image);
	if (!dfu_state_applied(s, confirm))
		return multi_outcome(m, DFU_STATE_NOT_APPLIED, "the device accepted the %s request for image %u but its "
				     "slot is not %s: its state did not change", confirm ? "confirm" : "test",
				     img->image, s->active ? "confirmed" : confirm ? "pending and permanent" : "pending");
	m->res->images[i].marked = true;
	return 0;
}

/* Zephyr 4.1's img_mgmt for plain direct-xip has no state write: the newer image is the next boot already,
 * for good (MCUboot boots the highest version; no revert without MCUBOOT_DIRECT_XIP_REVERT). */
static void multi_xip_unmarked(Multi *m, size_t i, bool permanent)
{
	dfu_options_emit(m->o, DFU_EVENT_STATE, permanent ? "confirm" : "test", "Image %u: the device lists it for the "
			 "next boot already (MCUboot direct-xip boots the newest image): nothing to mark",
			 m->imgs[i].image);
	if (m->o->mode == DFU_TEST_ONLY)
		dfu_options_emit(m->o, DFU_EVENT_WARNING, "test", "Image %u: MCUboot direct-xip without revert cannot "
				 "test an image: once it boots it stays, confirmed or not", m->imgs[i].image);
}

static int multi_mark_all(Multi *m, bool *any)
{
	bool permanent = m->o->mode == DFU_CONFIRM_ONLY;
	int r;

	*any = false;
	for (size_t i = 0; i < m->count; i++)
		if (!m->verified[i])
			return multi_outcome(m, DFU_NOT_VERIFIED, "refusing to mark anything: image %u is not verified",
					     m->imgs[i].image);
	for (size_t i = 0; i < m->count; i++) {
		if (m->res->images[i].running)
			continue;
		*any = true;
		if (m->pending[i]) {
			if (m->imgs[i].xip)
				multi_xip_unmarked(m, i, permanent);
			continue;
		}
		dfu_options_emit(m->o, DFU_EVENT_STATE, permanent ? "confirm" : "test", "Marking image %u %s",
				 m->imgs[i].image, permanent ? "permanent (confirm-only: no revert possible)"
				 : "for test (it reverts unless confirmed)");
		r = multi_mark_one(m, i, permanent);
		if (r)
			return r;
	}
	return 0;
}

static bool multi_waits(const Multi *m, size_t i, const MgmtImageList *list)
{
	const MgmtImageSlot *s1 = mgmt_image_list_entry(list, m->imgs[i].image, m->target[i]);

	return !m->res->images[i].running && !m->imgs[i].xip && dfu_slot_holds(s1, &m->imgs[i]) && s1->pending;
}

/* Still waiting: one of the new images is listed pending in its secondary slot. A direct-xip image is
 * listed pending while it is the newer one, before the reset and after a boot that passed it over alike;
 * nothing moves, so the first answer after the reset's grace tells (multi_check_running). */
static bool multi_some_pending(void *userdata, const MgmtImageList *list)
{
	Multi *m = userdata;

	m->res->final_list = *list;
	for (size_t i = 0; i < m->count; i++)
		if (multi_waits(m, i, list))
			return true;
	return false;
}

/* dfu.c dfu_not_swapped, for the first image still waiting: a reset whose answer was lost may never have
 * reached the device (campaign seed 925); the reset is never sent twice, so the next run does it. */
static int multi_not_swapped(Multi *m)
{
	char reason[320];
	size_t i = 0;

	while (i + 1 < m->count && !multi_waits(m, i, &m->list))
		i++;
	if (!dfu_not_swapped_reason(m->d, m->imgs[i].image, m->imgs[i].size, reason, sizeof(reason)) &&
	    m->d->reset_answer_lost)
		return multi_outcome(m, DFU_NOT_BACK, "the device never answered the reset and still lists image %u "
				     "marked for the next boot: the reset may not have reached it (a lossy link?); "
				     "run the same command again: it resets the device without uploading again",
				     m->imgs[i].image);
	return multi_outcome(m, DFU_NOT_SWAPPED, "the device restarted but did not swap in every new image: "
			     "image %u still waits in its secondary slot, marked for the next boot.%s", m->imgs[i].image,
			     reason);
}

static int multi_wait_swapped(Multi *m, uint64_t reset_at, uint64_t deadline)
{
	int r = dfu_wait_swapped_list(m->d, &m->list, reset_at, deadline, multi_some_pending, m);

	if (r == DFU_NOT_BACK)
		return multi_outcome(m, DFU_NOT_BACK, "the device did not come back within the reset timeout: it may "
				     "still be swapping; check with 'smpctl image list' (raise --reset-timeout)");
	if (r == DFU_NOT_SWAPPED)
		return multi_not_swapped(m);
	return r;
}

static int multi_check_running(Multi *m)
{
	char hash[2 * MGMT_HASH_MAX + 1], version[MGMT_VERSION_TEXT + 8];

	for (size_t i = 0; i < m->count; i++) {
		DfuImageResult *ir = &m->res->images[i];
		const MgmtImageSlot *s0 = multi_slot(m, i, ir->slot);

		if (ir->running)
			continue;
		if (s0)
			mgmt_version_text(s0->version, version, sizeof(version));
		if (m->imgs[i].xip && (!dfu_slot_holds(s0, &m->imgs[i]) || !s0->active))
			return multi_outcome(m, DFU_REVERTED, "after the reset image %u does not run the new image from "
					     "slot %u: MCUboot direct-xip passed it over (is it linked for slot %u and "
					     "signed with the bootloader's key?)", m->imgs[i].image, ir->slot, ir->slot);
		if (!dfu_slot_holds(s0, &m->imgs[i]) || !s0->active)
			return multi_outcome(m, DFU_REVERTED, "after the reset image %u runs %s%s (hash %s), not the new "
					     "image: MCUboot did not boot it or reverted (is it signed with the "
					     "bootloader's key, and built for this core?)", m->imgs[i].image,
					     s0 ? "version " : "no listed image", s0 ? version : "",
					     s0 ? hex_encode(s0->hash, s0->hash_len, hash) : "-");
		ir->running = true;
		ir->confirmed = s0->confirmed;
		dfu_options_emit(m->o, DFU_EVENT_STATE, "check", "Image %u runs the new image (version %s)",
				 m->imgs[i].image, version);
	}
	return 0;
}

static bool multi_any_xip(const Multi *m)
{
	for (size_t i = 0; i < m->count; i++)
		if (m->imgs[i].xip)
			return true;
	return false;
}

/* dfu.c dfu_restarted_unseen (campaign seed 925, README "Reliability"): the reset's answer was lost and the
 * device answered every probe after it, so it never got the request or restarted between two probes. Only
 * the slots tell: it restarted when no new image waits any longer (a direct-xip one: its slot runs). */
static bool multi_restarted_unseen(Multi *m)
{
	if (!m->d->reset_still_answering || multi_read_list(m) != 0)
		return false;
	for (size_t i = 0; i < m->count; i++) {
		const MgmtImageSlot *s = multi_slot(m, i, m->target[i]);
		bool holds = dfu_slot_holds(s, &m->imgs[i]);

		if (m->res->images[i].running)
			continue;
		if (m->imgs[i].xip ? !(holds && s->active) : holds && s->pending)
			return false;
	}
	return true;
}

static int multi_reset_and_check(Multi *m)
{
	uint64_t reset_at;
	int r;

	dfu_options_emit(m->o, DFU_EVENT_STATE, "reset", "%s", multi_any_xip(m) ?
			 "Resetting the device: MCUboot direct-xip starts the newest image where it lies" :
			 "Resetting the device: MCUboot swaps the images before it starts");
	r = device_reset(m->d, false);
	if (r == -ETIMEDOUT && multi_restarted_unseen(m))
		r = 0;
	if (r)
		return r;
	reset_at = now_usec();
	m->res->reset = true;
	r = device_sleep(m->d, MULTI_RESET_GRACE_USEC);
	if (r < 0)
		return r;
	dfu_options_emit(m->o, DFU_EVENT_STATE, "wait", "Waiting up to %llu s for the device to come back",
			 (unsigned long long)(m->o->reset_timeout_usec / 1000000));
	r = multi_wait_swapped(m, reset_at, now_usec() + m->o->reset_timeout_usec);
	return r ? r : multi_check_running(m);
}

static int multi_confirm_all(Multi *m)
{
	for (size_t i = 0; i < m->count; i++) {
		DfuImageResult *ir = &m->res->images[i];
		int r;

		if (ir->confirmed)
			continue;
		dfu_options_emit(m->o, DFU_EVENT_STATE, "confirm", "Confirming image %u so that it stays",
				 m->imgs[i].image);
		r = multi_mark_one(m, i, true);
		if (r)
			return r;
		ir->confirmed = true;
	}
	return 0;
}

/* The end: the device's own list, read again, shows every image running (and confirmed, per mode). */
static int multi_read_back(Multi *m)
{
	bool want_confirmed = m->o->mode == DFU_TEST_AND_CONFIRM || m->o->mode == DFU_CONFIRM_ONLY;
	int r = multi_read_list(m);

	if (r)
		return r;
	for (size_t i = 0; i < m->count; i++) {
		const MgmtImageSlot *s0 = multi_slot(m, i, m->res->images[i].slot);

		if (!multi_runs(m, i, s0) || (want_confirmed && !s0->confirmed))
			return multi_outcome(m, DFU_STATE_NOT_APPLIED, "reading back, image %u is not %s", m->imgs[i].image,
					     want_confirmed ? "running confirmed" : "running");
		m->res->images[i].confirmed = s0->confirmed;
	}
	return 0;
}

/* The last line says what the read-back shows: test-only leaves an image unconfirmed, but MCUboot direct-xip
 * without revert lists it confirmed once it runs (img_mgmt_state_read: no revert, so the running slot is
 * confirmed), and it stays. */
static void multi_done(Multi *m)
{
	size_t confirmed = 0;

	for (size_t i = 0; i < m->count; i++)
		confirmed += m->res->images[i].confirmed;
	if (confirmed == m->count)
		dfu_options_emit(m->o, DFU_EVENT_STATE, "done", "Update complete: %zu image%s run%s, confirmed%s", m->count,
				 m->count == 1 ? "" : "s", m->count == 1 ? "s" : "", m->o->mode == DFU_TEST_ONLY ?
				 " (test-only, but MCUboot direct-xip without revert keeps it for good)" : "");
	else if (confirmed == 0)
		dfu_options_emit(m->o, DFU_EVENT_STATE, "done", "Update complete: %zu image%s run%s, unconfirmed (test-only)",
				 m->count, m->count == 1 ? "" : "s", m->count == 1 ? "s" : "");
	else
		dfu_options_emit(m->o, DFU_EVENT_STATE, "done", "Update complete: %zu images run, %zu of them confirmed "
				 "for good (test-only: MCUboot direct-xip without revert keeps those), the others "
				 "unconfirmed", m->count, confirmed);
}

/* dfu.c dfu_erase_ahead, per image this run updated: the slot it left holds the way back. */
static void multi_erase_ahead(Multi *m)
{
	if (!m->o->erase_ahead || !m->res->reset)
		return;
	for (size_t i = 0; i < m->count; i++) {
		DfuImageResult *ir = &m->res->images[i];

		if (ir->already_running || !ir->running || !ir->confirmed)
			continue;
		ir->erased_ahead = dfu_slot_erase_ahead(m->d, m->o, &m->list, ir->image, 2 * ir->image + 1 - ir->slot);
		m->res->final_list = m->list;
	}
}

static bool multi_all_done(const Multi *m)
{
	for (size_t i = 0; i < m->count; i++)
		if (!m->res->images[i].already_running)
			return false;
	return true;
}

/* The slot of image n that runs: the listed active one (img_mgmt lists image n's running slot active). */
static uint32_t multi_running_slot(const Multi *m, uint32_t image)
{
	const MgmtImageSlot *s1 = mgmt_image_list_entry(&m->list, image, 1);

	return s1 && s1->active ? 1 : 0;
}

/* One image to send per image number: a plain one goes to the secondary slot and runs from slot 0 after
 * MCUboot's swap; of a direct-xip pair, the variant linked for the slot that does not run goes there and
 * runs there (MCUboot docs/design.md: "the image update client ... is responsible for loading the proper
 * images into the proper slot"). */
static void multi_choose(Multi *m)
{
	m->count = 0;
	for (size_t k = 0; k < m->input_count; k++) {
		const DfuImage *img = &m->input[k];
		uint32_t run = multi_running_slot(m, img->image);
		size_t i = m->count;

		if (img->xip && img->xip_slot == run)
			continue;
		m->imgs[i] = *img;
		m->twin[i] = NULL;
		for (size_t t = 0; img->xip && t < m->input_count; t++)
			if (t != k && m->input[t].image == img->image)
				m->twin[i] = &m->input[t];
		m->run_slot[i] = img->xip ? run : 0;
		m->target[i] = img->xip ? 1 - run : 1;
		m->res->images[i] = (DfuImageResult){ .image = img->image, .input = k, .slot = img->xip ? 1 - run : 0 };
		m->count++;
	}
	m->res->count = m->count;
}

/* Direct-xip variants on a device whose MCUboot says it swaps would run from the wrong address after the
 * swap: refused. A device that does not say (no bootloader info, Zephyr 4.1's default) must show direct-xip
 * in its image list before anything is marked (multi_check_xip_evidence). */
static int multi_check_xip_mode(Multi *m)
{
	MgmtBootloaderInfo bi = { 0 };
	bool xip = false;
	int r;

	m->boot_mode = BOOT_MODE_UNKNOWN;
	for (size_t k = 0; k < m->input_count; k++)
		xip = xip || m->input[k].xip;
	if (!xip)
		return 0;
	r = device_bootloader_info(m->d, &bi);
	if (r < 0)
		return r;
	if (r > 0 || !bi.has_mode) {
		dfu_options_emit(m->o, DFU_EVENT_WARNING, "inspect", "The device does not report MCUboot's mode: nothing "
				 "is marked unless its image list shows direct-xip");
		return 0;
	}
	if (bi.mode != BOOT_MODE_DIRECT_XIP && bi.mode != BOOT_MODE_DIRECT_XIP_REVERT)
		return multi_outcome(m, DFU_XIP_MODE, "the package holds MCUboot direct-xip variants but the device's "
				     "MCUboot runs in %s mode: nothing was sent; use the package built for this "
				     "bootloader", mgmt_bootloader_mode_name(bi.mode));
	m->boot_mode = (int)bi.mode;
	return 0;
}

/* What only direct-xip shows (Zephyr 4.1 img_mgmt_state_read): slot 1 listed active, or the variant just
 * put in the slot that does not run listed pending and permanent with no state write (plain direct-xip's
 * img_mgmt_get_next_boot_slot: the newer image boots next). A swapping MCUboot's img_mgmt lists its primary
 * slot active and the secondary pending only once a state write marks it. */
static bool multi_xip_evident(const Multi *m)
{
	for (size_t i = 0; i < m->count; i++) {
		const MgmtImageSlot *s = multi_slot(m, i, m->target[i]);

		if (!m->imgs[i].xip)
			continue;
		if (m->run_slot[i] == 1 || (dfu_slot_holds(s, &m->imgs[i]) && s->pending && s->permanent))
			return true;
	}
	return false;
}

/* A device that did not say its mode, after the uploads and before anything is marked: on a swapping MCUboot
 * the variant linked for slot 1 would be swapped into slot 0 and run from the wrong addresses (swap modes
 * check no load address: MCUBOOT_VERIFY_IMG_ADDRESS), for good once confirmed. */
static int multi_check_xip_evidence(Multi *m)
{
	bool marks_xip = false;

	for (size_t i = 0; i < m->count; i++)
		marks_xip = marks_xip || (m->imgs[i].xip && !m->res->images[i].running);
	if (m->boot_mode != BOOT_MODE_UNKNOWN || !marks_xip || multi_xip_evident(m))
		return 0;
	return multi_outcome(m, DFU_XIP_MODE, "the device does not report MCUboot's mode and its image list shows no "
			     "direct-xip (slot 1 never ran, the new variant is not listed for the next boot), so it may "
			     "swap: nothing was marked; enable CONFIG_MCUMGR_GRP_OS_BOOTLOADER_INFO in the firmware, "
			     "or, if its MCUboot swaps, give 'smpctl dfu' the plain signed image for slot 0");
}

static int multi_steps(Multi *m)
{
	bool any;
	int r;

	r = multi_check_xip_mode(m);
	if (r)
		return r;
	dfu_options_emit(m->o, DFU_EVENT_STATE, "inspect", "Reading the device's image slots");
	r = multi_read_list(m);
	if (r == 0)
		multi_choose(m);
	for (size_t i = 0; r == 0 && i < m->count; i++)
		r = multi_inspect_one(m, i);
	if (r || multi_all_done(m)) {
		if (r == 0)
			dfu_options_emit(m->o, DFU_EVENT_STATE, "done", "Every image already runs, confirmed: nothing to do");
		return r;
	}
	for (size_t i = 0; r == 0 && i < m->count; i++)
		if (!m->verified[i])
			r = multi_upload_one(m, i);
	if (r == 0)
		r = multi_check_xip_evidence(m);
	if (r || m->o->mode == DFU_UPLOAD_ONLY) {
		if (r == 0)
			dfu_options_emit(m->o, DFU_EVENT_STATE, "done", "Upload-only: the images wait in their secondary "
					 "slots, not marked");
		return r;
	}
	r = dfu_settings_erase(m->d, m->o, &m->res->settings_erased, m->res->message, sizeof(m->res->message));
	if (r == 0)
		r = multi_mark_all(m, &any);
	if (r == 0 && any)
		r = multi_reset_and_check(m);
	if (r == 0 && m->o->mode == DFU_TEST_AND_CONFIRM)
		r = multi_confirm_all(m);
	if (r == 0)
		r = multi_read_back(m);
	if (r == 0)
		multi_done(m);
	if (r == 0)
		multi_erase_ahead(m);
	return r;
}

/* Each image number once, but for a direct-xip pair: two variants, one per slot. */
static bool multi_input_valid(const DfuImage *imgs, size_t count)
{
	if (count == 0 || count > DFU_MULTI_MAX)
		return false;
	for (size_t i = 0; i < count; i++) {
		size_t same = 0;

		if (imgs[i].xip && imgs[i].xip_slot > 1)
			return false;
		for (size_t k = 0; k < count; k++) {
			if (k == i || imgs[k].image != imgs[i].image)
				continue;
			if (!imgs[i].xip || !imgs[k].xip || imgs[k].xip_slot == imgs[i].xip_slot)
				return false;
			same++;
		}
		if (imgs[i].xip && same != 1)
			return false;
	}
	return true;
}

int dfu_run_multi(Device *d, const DfuImage *imgs, size_t count, const DfuOptions *o, DfuMultiResult *res)
{
	Multi m = { .d = d, .input = imgs, .input_count = count, .o = o, .res = res };
	int r;

	*res = (DfuMultiResult){ 0 };
	if (!multi_input_valid(imgs, count))
		return -EINVAL;
	/* MCUboot's serial recovery writes primary slots and marks nothing: dfu_run's own flow, image 0 only. */
	r = firmware_is_recovery(d);
	if (r < 0)
		return r;
	if (r > 0)
		return multi_outcome(&m, DFU_RECOVERY_NO_TEST, "the device is in MCUboot's serial recovery, which "
				     "takes one image at a time: give image 0's signed .bin to 'smpctl dfu', or boot "
				     "the application first");
	return multi_steps(&m);
}
