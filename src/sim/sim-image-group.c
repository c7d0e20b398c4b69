/* SPDX-License-Identifier: MIT */
/*
 * Image group (1) of the simulated device: Zephyr 4.1's img_mgmt.c, img_mgmt_state.c and
 * zephyr_img_mgmt.c (REFERENCE.md §4, §5, §11) over the two slots of the nRF52833 DK layout (§12).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "sim-internal.h"
#include "smp-error.h"
#include "util.h"

#define IMAGE_F_NON_BOOTABLE 0x10u

/* CONFIG_MCUMGR_GRP_IMG_VERBOSE_ERR reasons (img_mgmt.c), sent as "rsn" over v1. */
#define RSN_HDR_MALFORMED "header malformed"
#define RSN_MAGIC_MISMATCH "magic mismatch"
#define RSN_NO_SLOT "no slot"
#define RSN_TOO_LARGE "img too large"
#define RSN_DOWNGRADE "downgrade"
#define RSN_DATA_OVERRUN "data overrun"
#define RSN_FA_OPEN_FAIL "fa open fail"

static SimStatus image_error(int32_t rc)
{
	return SIM_GROUP_ERR(SMP_GROUP_IMAGE, rc);
}

static SimStatus upload_error(int32_t rc, const char *rsn)
{
	return SIM_GROUP_ERR_RSN(SMP_GROUP_IMAGE, rc, rsn);
}

/* img_mgmt_vercmp() without the build number (CONFIG_MCUMGR_GRP_IMG_VERSION_CMP_USE_BUILD_NUMBER off). */
static int version_cmp3(const ImageVersion *a, const ImageVersion *b)
{
	uint64_t ka = (uint64_t)a->major << 24 | (uint64_t)a->minor << 16 | a->revision;
	uint64_t kb = (uint64_t)b->major << 24 | (uint64_t)b->minor << 16 | b->revision;

	return ka < kb ? -1 : ka > kb;
}

/* Direct-xip, img_mgmt_state_read() with img_mgmt_get_next_boot_slot() of Zephyr 4.1's plain DIRECT_XIP: the
 * running slot is active and confirmed; the other is pending and permanent when its version is higher (MCUboot
 * will boot it), else it has no flags. */
static void xip_slot_flags(const SimDevice *dev, unsigned slot, SimSlotState *st)
{
	unsigned running_slot = sim_active_slot(dev, slot / 2);
	Image mine, running;

	st->active = st->confirmed = slot == running_slot;
	st->pending = st->permanent = slot != running_slot && sim_slot_image(dev, slot, &mine) &&
				      sim_slot_image(dev, running_slot, &running) &&
				      version_cmp3(&running.version, &mine.version) < 0;
}

/* The flags img_mgmt_state_read() reports for the swap MCUboot will do next for the slot's image (next
 * boot slot and type); slots are counted over all images (image i: 2i, 2i + 1). */
static void slot_flags(const SimDevice *dev, unsigned slot, SimSlotState *st)
{
	bool active = slot % 2 == 0;

	if (dev->cfg.direct_xip) {
		xip_slot_flags(dev, slot, st);
		return;
	}

	st->active = active;
	st->pending = st->confirmed = st->permanent = false;
	switch (dev->swap[slot / 2]) {
	case SIM_SWAP_NONE: st->confirmed = active; break;
	case SIM_SWAP_TEST: st->confirmed = active; st->pending = !active; break;
	case SIM_SWAP_PERM: st->confirmed = active; st->pending = st->permanent = !active; break;
	/* After a test swap the old image, in slot 1, shows as confirmed: it is what a revert restores. */
	case SIM_SWAP_REVERT: st->confirmed = !active; break;
	}
}

/* img_mgmt_ver_str(): "major.minor.revision", ".build" appended when not 0. */
static void version_text(const ImageVersion *v, char *out, size_t size)
{
	if (v->build)
		snprintf(out, size, "%u.%u.%u.%u", v->major, v->minor, v->revision, v->build);
	else
		snprintf(out, size, "%u.%u.%u", v->major, v->minor, v->revision);
}

void sim_device_slot_state(const SimDevice *dev, unsigned slot, SimSlotState *out)
{
	Image img;

	*out = (SimSlotState){ 0 };
	if (slot >= 2 * dev->cfg.images || !sim_slot_image(dev, slot, &img))
		return;
	out->present = true;
	version_text(&img.version, out->version, sizeof(out->version));
	memcpy(out->hash, img.hash, img.hash_len);
	out->hash_len = img.hash_len;
	slot_flags(dev, slot, out);
}

/* ZCBOR_ENCODE_FLAG: every flag by default, only true ones with CONFIG_MCUMGR_GRP_IMG_FRUGAL_LIST. */
static void put_flag(const SimDevice *dev, SmpCborWriter *w, const char *key, bool v)
{
	if (!v && dev->cfg.frugal_list)
		return;
	smp_cbor_put_text(w, key);
	smp_cbor_put_bool(w, v);
}

static void put_slot(const SimDevice *dev, SmpCborWriter *w, unsigned slot)
{
	SimSlotState st;
	Image img;

	sim_device_slot_state(dev, slot, &st);
	if (!st.present || !sim_slot_image(dev, slot, &img))
		return; /* img_mgmt_read_info() fails: the slot is left out */
	smp_cbor_put_indef_map(w);
	/* img_mgmt_state_encode_slot(): "image" only with more than one updatable image */
	if (dev->cfg.images > 1) {
		smp_cbor_put_text(w, "image");
		smp_cbor_put_uint(w, slot >> 1);
	}
	smp_cbor_put_text(w, "slot");
	smp_cbor_put_uint(w, slot % 2);
	smp_cbor_put_text(w, "version");
	smp_cbor_put_text(w, st.version);
	smp_cbor_put_text(w, "hash");
	smp_cbor_put_bytes(w, st.hash, st.hash_len);
	put_flag(dev, w, "bootable", !(img.flags & IMAGE_F_NON_BOOTABLE));
	put_flag(dev, w, "pending", st.pending);
	put_flag(dev, w, "confirmed", st.confirmed);
	put_flag(dev, w, "active", st.active);
	put_flag(dev, w, "permanent", st.permanent);
	smp_cbor_put_break(w);
}

static void put_image_list(const SimDevice *dev, SmpCborWriter *w)
{
	smp_cbor_put_text(w, "images");
	smp_cbor_put_indef_array(w);
	for (unsigned slot = 0; slot < 2 * dev->cfg.images; slot++)
		put_slot(dev, w, slot);
	smp_cbor_put_break(w);
	if (!dev->cfg.frugal_list) {
		smp_cbor_put_text(w, "splitStatus");
		smp_cbor_put_int(w, 0);
	}
}

/* img_mgmt_slot_in_use(): the running slot, and slot 1 while MCUboot will use it at the next boot
 * (test, permanent, or holding the image a revert restores). Direct-xip skips the next-boot check: only
 * the running slot is in use, so a newer image waiting in the other one is overwritten by an upload. */
static bool slot_in_use(const SimDevice *dev, unsigned slot)
{
	if (dev->cfg.direct_xip)
		return slot == sim_active_slot(dev, slot / 2);
	return slot % 2 == 0 || dev->swap[slot / 2] != SIM_SWAP_NONE;
}

/* img_mgmt_set_next_boot_slot() for one image: which requests change nothing, which are refused. */
/* img_mgmt notifies MGMT_EVT_OP_IMG_MGMT_DFU_CONFIRMED for a confirm of an active slot; the firmware's
 * idle erase listens for image 0's. */
static void confirmed_running(SimDevice *dev, unsigned abs_slot)
{
	if (abs_slot / 2 == 0)
		sim_idle_erase_confirmed(dev);
}

static SimStatus set_next_boot(SimDevice *dev, unsigned abs_slot, bool confirm)
{
	SimSwap *swap = &dev->swap[abs_slot / 2];
	unsigned slot = abs_slot % 2;

	if (!confirm && slot == 0)
		return image_error(SMP_IMG_IMAGE_SETTING_TEST_TO_ACTIVE_DENIED);
	switch (*swap) {
	case SIM_SWAP_TEST:
		/* Testing slot 1 again is a no-op; anything else while a test is pending is refused. */
		return !confirm && slot == 1 ? SIM_OK : image_error(SMP_IMG_IMAGE_ALREADY_PENDING);
	case SIM_SWAP_NONE:
		if (confirm && slot == 0) {
			confirmed_running(dev, abs_slot);
			return SIM_OK;
		}
		*swap = confirm ? SIM_SWAP_PERM : SIM_SWAP_TEST;
		return SIM_OK;
	case SIM_SWAP_PERM:
		if (confirm && slot == 1)
			return SIM_OK;
		return image_error(SMP_IMG_IMAGE_ALREADY_PENDING);
	case SIM_SWAP_REVERT:
		/* The old image in slot 1 is the confirmed next boot already; confirming slot 0 keeps the new one. */
		if (!confirm)
			return image_error(SMP_IMG_IMAGE_ALREADY_PENDING);
		if (slot == 0) {
			*swap = SIM_SWAP_NONE; /* boot_set_next(active, confirm): image_ok written */
			confirmed_running(dev, abs_slot);
		}
		return SIM_OK;
	}
	return SIM_OK;
}

/* img_mgmt_find_by_hash(): exact 32-byte compare against each slot's hash TLV. */
static int find_by_hash(const SimDevice *dev, const uint8_t *hash, size_t len)
{
	for (unsigned slot = 0; slot < 2 * dev->cfg.images; slot++) {
		SimSlotState st;

		sim_device_slot_state(dev, slot, &st);
		if (st.present && st.hash_len == len && memcmp(st.hash, hash, len) == 0)
			return (int)slot;
	}
	return -1;
}

/* img_mgmt_state_write(): {hash?, confirm?}; answers with the image list. */
static SimStatus state_write(SimDevice *dev, const SimRequest *req)
{
	uint8_t hash[IMAGE_HASH_MAX];
	size_t hash_len = 0;
	bool confirm = false;
	int r, slot;

	if (!req->body)
		return SIM_RC(SMP_RC_EINVAL);
	r = smp_cbor_get_bytes(req->body, "hash", hash, sizeof(hash), &hash_len);
	if (r == -EBADMSG || smp_cbor_get_bool(req->body, "confirm", &confirm) == -EBADMSG)
		return SIM_RC(SMP_RC_EINVAL);
	if (r == -EMSGSIZE)
		return image_error(SMP_IMG_INVALID_HASH);
	if (hash_len == 0) {
		if (!confirm)
			return image_error(SMP_IMG_INVALID_HASH); /* a test without a hash */
		slot = 0;
	} else if (hash_len != 32) {
		return image_error(SMP_IMG_INVALID_HASH);
	} else {
		slot = find_by_hash(dev, hash, hash_len);
		if (slot < 0)
			return image_error(SMP_IMG_HASH_NOT_FOUND);
	}
	return set_next_boot(dev, (unsigned)slot, confirm);
}

/* img_mgmt_erase(): the slot opposite the running one by default (slot 1 unless direct-xip runs slot 1);
 * a slot with a valid image that is in use is refused. Erasing flash that reads erased costs nothing
 * (img_mgmt_erase_slot checks first). The session is dropped. */
static SimStatus image_erase(SimDevice *dev, const SimRequest *req)
{
	uint64_t slot = sim_other_slot(dev, 0);
	Image img;

	if (!req->body || smp_cbor_get_uint(req->body, "slot", &slot) == -EBADMSG || slot > UINT32_MAX)
		return SIM_RC(SMP_RC_EINVAL);
	if (slot < 2 * dev->cfg.images && sim_slot_image(dev, (unsigned)slot, &img) && slot_in_use(dev, (unsigned)slot))
		return image_error(SMP_IMG_NO_FREE_SLOT);
	dev->upload = (SimUpload){ 0 };
	/* img_mgmt_flash_area_id() keeps the area id in a uint8_t: an unknown slot's -1 becomes 255, passes
	 * img_mgmt_erase_slot()'s "area_id < 0" check, and flash_area_open() fails (seen on Zephyr 4.1). */
	if (slot >= 2 * dev->cfg.images)
		return image_error(SMP_IMG_FLASH_OPEN_FAILED);
	if (!sim_flash_is_empty(dev, (unsigned)slot))
		sim_flash_erase_pages(dev, (unsigned)slot, 0, dev->cfg.slot_size / SIM_PAGE_SIZE);
	return SIM_OK;
}

/* upload_image_id: on the slot that takes uploads (slot 1, or slot 0 too in a direct-upload recovery, or
 * only slot 0 while direct-xip runs slot 1); -1: none */
static void put_image_slots(SmpCborWriter *w, unsigned image, uint32_t slot_size, int slot0_upload_id,
			    int slot1_upload_id)
{
	smp_cbor_put_text(w, "image");
	smp_cbor_put_uint(w, image);
	smp_cbor_put_text(w, "slots");
	smp_cbor_put_indef_array(w);
	for (unsigned slot = 0; slot < 2; slot++) {
		smp_cbor_put_indef_map(w);
		smp_cbor_put_text(w, "slot");
		smp_cbor_put_uint(w, slot);
		smp_cbor_put_text(w, "size");
		smp_cbor_put_uint(w, slot_size);
		if ((slot == 1 ? slot1_upload_id : slot0_upload_id) >= 0) {
			smp_cbor_put_text(w, "upload_image_id");
			smp_cbor_put_uint(w, (unsigned)(slot == 1 ? slot1_upload_id : slot0_upload_id));
		}
		smp_cbor_put_break(w);
	}
	smp_cbor_put_break(w);
}

void sim_put_image0_slots(SmpCborWriter *w, uint32_t slot_size, int slot0_upload_id, unsigned slot1_upload_id)
{
	put_image_slots(w, 0, slot_size, slot0_upload_id, (int)slot1_upload_id);
}

/* img_mgmt_slot_info() (CONFIG_MCUMGR_GRP_IMG_SLOT_INFO): sizes, and which slot takes uploads; with
 * CONFIG_MCUMGR_GRP_IMG_TOO_LARGE_SYSBUILD also the largest image, slot 0 minus the footer (the slots
 * are of equal size, so the footer always covers their difference). */
static SimStatus slot_info(const SimDevice *dev, SmpCborWriter *w)
{
	if (!dev->cfg.slot_info)
		return SIM_RC(SMP_RC_ENOTSUP);
	smp_cbor_put_text(w, "images");
	smp_cbor_put_indef_array(w);
	for (unsigned i = 0; i < dev->cfg.images; i++) {
		smp_cbor_put_indef_map(w);
		/* upload_image_id: the image number, on the slot that is not the image's active one */
		put_image_slots(w, i, dev->cfg.slot_size, dev->active[i] == 1 ? (int)i : -1,
				dev->active[i] == 1 ? -1 : (int)i);
		if (dev->cfg.update_footer) {
			smp_cbor_put_text(w, "max_image_size");
			smp_cbor_put_uint(w, dev->cfg.slot_size - dev->cfg.update_footer);
		}
		smp_cbor_put_break(w);
	}
	smp_cbor_put_break(w);
	return SIM_OK;
}

/* --- Upload (img_mgmt_upload, img_mgmt_upload_inspect) --- */

typedef struct UploadReq {
	bool has_off, has_len, upgrade;
	uint64_t off, len, image;
	uint8_t sha[64];
	size_t sha_len;
	const uint8_t *data;
	size_t data_len;
} UploadReq;

/* zcbor_map_decode_bulk() of {image, data, len, off, sha, upgrade}: a field of the wrong type → rc 3. */
static SimStatus upload_decode(const SimRequest *req, UploadReq *u)
{
	const cbor_item_t *data;
	int r;

	*u = (UploadReq){ 0 };
	if (!req->body)
		return SIM_RC(SMP_RC_EINVAL);
	data = smp_cbor_map_get(req->body, "data");
	if (data) {
		if (!cbor_isa_bytestring(data) || !cbor_bytestring_is_definite(data))
			return SIM_RC(SMP_RC_EINVAL);
		u->data = cbor_bytestring_handle(data);
		u->data_len = cbor_bytestring_length(data);
	}
	r = smp_cbor_get_uint(req->body, "off", &u->off);
	u->has_off = r == 0;
	if (r == -EBADMSG)
		return SIM_RC(SMP_RC_EINVAL);
	r = smp_cbor_get_uint(req->body, "len", &u->len);
	u->has_len = r == 0;
	if (r == -EBADMSG || smp_cbor_get_uint(req->body, "image", &u->image) == -EBADMSG ||
	    smp_cbor_get_bool(req->body, "upgrade", &u->upgrade) == -EBADMSG)
		return SIM_RC(SMP_RC_EINVAL);
	r = smp_cbor_get_bytes(req->body, "sha", u->sha, sizeof(u->sha), &u->sha_len);
	if (r == -EBADMSG)
		return SIM_RC(SMP_RC_EINVAL);
	if (r == -EMSGSIZE)
		u->sha_len = sizeof(u->sha); /* longer than any hash: refused as INVALID_HASH below */
	return SIM_OK;
}

/* img_mgmt_vercmp() without the build number (CONFIG_MCUMGR_GRP_IMG_VERSION_CMP_USE_BUILD_NUMBER off). */
static bool version_newer(const uint8_t *hdr, const ImageVersion *cur)
{
	uint32_t a = (uint32_t)hdr[20] << 24 | (uint32_t)hdr[21] << 16 | (uint32_t)(hdr[22] | hdr[23] << 8);
	uint32_t b = (uint32_t)cur->major << 24 | (uint32_t)cur->minor << 16 | cur->revision;

	return a > b;
}

static bool header_magic(const uint8_t *p)
{
	return p[0] == 0x3d && p[1] == 0xb8 && p[2] == 0xf3 && p[3] == 0x96;
}

/* The image a first chunk goes to: with one updatable image img_mgmt_get_unused_slot_area_id() ignores
 * "image" (slot 1 takes any upload); with more, image N's secondary slot, 2N + 1. */
static unsigned upload_image(const SimDevice *dev, const UploadReq *u)
{
	return dev->cfg.images > 1 && u->image < UINT32_MAX ? (unsigned)u->image : 0;
}

/* First chunk checks of img_mgmt_upload_inspect(), in Zephyr's order. *proceed false = resume: answer
 * with the session's offset and keep it. */
static SimStatus inspect_first(const SimDevice *dev, const UploadReq *u, bool *proceed)
{
	unsigned image = upload_image(dev, u);
	Image running;

	if (u->data_len < IMAGE_HEADER_SIZE)
		return upload_error(SMP_IMG_INVALID_IMAGE_HEADER, RSN_HDR_MALFORMED);
	if (!u->has_len)
		return upload_error(SMP_IMG_INVALID_LENGTH, RSN_HDR_MALFORMED);
	if (!header_magic(u->data))
		return upload_error(SMP_IMG_INVALID_IMAGE_HEADER_MAGIC, RSN_MAGIC_MISMATCH);
	if (u->sha_len > 32)
		return image_error(SMP_IMG_INVALID_HASH);
	if (u->sha_len > 0 && dev->upload.active && dev->upload.sha_len == u->sha_len &&
	    memcmp(dev->upload.sha, u->sha, u->sha_len) == 0) {
		*proceed = false;
		return SIM_OK;
	}
	/* An image the device does not have: slot 2N + 1's area id is 255 (uint8_t -1), which does not open. */
	if (image >= dev->cfg.images)
		return upload_error(SMP_IMG_FLASH_OPEN_FAILED, RSN_FA_OPEN_FAIL);
	if (slot_in_use(dev, sim_other_slot(dev, image)))
		return upload_error(SMP_IMG_NO_FREE_SLOT, RSN_NO_SLOT);
	if (u->len > dev->cfg.slot_size)
		return upload_error(SMP_IMG_INVALID_IMAGE_TOO_LARGE, RSN_TOO_LARGE);
	/* CONFIG_MCUMGR_GRP_IMG_TOO_LARGE_SYSBUILD, slots of equal size: what MCUboot can swap. --upgrade
	 * compares with img_mgmt_my_version(), the running image 0's, whichever image is uploaded. */
	if (dev->cfg.update_footer && u->len > dev->cfg.slot_size - dev->cfg.update_footer)
		return upload_error(SMP_IMG_INVALID_IMAGE_TOO_LARGE, RSN_TOO_LARGE);
	if (u->upgrade && sim_slot_image(dev, sim_active_slot(dev, 0), &running) && !version_newer(u->data, &running.version))
		return upload_error(SMP_IMG_CURRENT_VERSION_IS_NEWER, RSN_DOWNGRADE);
	return SIM_OK;
}

/* img_mgmt_upload_inspect(): continuation chunks at the wrong offset are dropped (answered with the
 * expected one, even with no session: off 0); data past len is an overrun. */
static SimStatus inspect(const SimDevice *dev, const UploadReq *u, bool *proceed)
{
	*proceed = true;
	if (!u->has_off)
		return upload_error(SMP_IMG_INVALID_OFFSET, RSN_HDR_MALFORMED);
	if (u->off == 0)
		return inspect_first(dev, u, proceed);
	if (u->off != dev->upload.off) {
		*proceed = false;
		return SIM_OK;
	}
	if (u->data_len > dev->upload.len - u->off)
		return upload_error(SMP_IMG_INVALID_IMAGE_DATA_OVERRUN, RSN_DATA_OVERRUN);
	return SIM_OK;
}

/* The slot that takes the session's data: the one its image does not run from (img_mgmt_get_unused_slot_area_id:
 * the secondary, or in direct-xip whichever slot is not running). */
static unsigned upload_slot(const SimDevice *dev)
{
	return sim_other_slot(dev, dev->upload.image);
}

/* flash_img_check(): SHA-256 of the slot's first len bytes against the session's sha (zero-padded to
 * 32 bytes, so a shorter sha never matches, §11). */

static bool slot1_matches(const SimDevice *dev, uint64_t len)
{
	uint8_t digest[32];

	image_sha256(dev->slot[upload_slot(dev)], (size_t)len, digest);
	return memcmp(digest, dev->upload.sha, sizeof(digest)) == 0;
}

/* The slot's last page holds MCUboot's trailer (boot_get_trailer_status_offset). */
static size_t trailer_page(const SimDevice *dev)
{
	return dev->cfg.slot_size / SIM_PAGE_SIZE - 1;
}

/* A new upload: the session starts over (g_img_mgmt_state.off = 0, the new sha kept). */
static void upload_start(SimDevice *dev, const UploadReq *u)
{
	dev->upload = (SimUpload){ .active = true, .image = upload_image(dev, u), .len = u->len, .sha_len = u->sha_len };
	memcpy(dev->upload.sha, u->sha, u->sha_len);
	memset(dev->erased_this_upload, false, sizeof(dev->erased_this_upload));
}

/* Without progressive erase the slot is erased up front for len (rounded to pages) plus the trailer
 * page, unless it reads erased already (img_mgmt_flash_check_empty, img_mgmt_erase_image_data). */
static void upload_erase_up_front(SimDevice *dev)
{
	size_t pages = (size_t)((dev->upload.len + SIM_PAGE_SIZE - 1) / SIM_PAGE_SIZE);

	if (dev->cfg.progressive_erase || sim_flash_is_empty(dev, upload_slot(dev)))
		return;
	sim_flash_erase_pages(dev, upload_slot(dev), 0, pages);
	if (pages <= trailer_page(dev))
		sim_flash_erase_pages(dev, upload_slot(dev), trailer_page(dev), 1);
}

/* The last write flushes the image; with progressive erase flash_img then erases the trailer page
 * when the upload did not reach it (flash_img_buffered_write, BOOT_TRAILER_IMG_STATUS_OFFS). */
static void upload_write(SimDevice *dev, const UploadReq *u, bool last)
{
	sim_flash_write(dev, upload_slot(dev), u->off, u->data, u->data_len);
	dev->upload.off += u->data_len;
	if (last && dev->cfg.progressive_erase && !dev->erased_this_upload[trailer_page(dev)]) {
		sim_flash_erase_pages(dev, upload_slot(dev), trailer_page(dev), 1);
		dev->erased_this_upload[trailer_page(dev)] = true;
	}
}

static void put_upload_answer(SmpCborWriter *w, uint64_t off, bool last, bool check, bool match)
{
	smp_cbor_put_text(w, "off");
	smp_cbor_put_uint(w, off);
	if (last && check) {
		smp_cbor_put_text(w, "match");
		smp_cbor_put_bool(w, match);
	}
}

/* img_mgmt_upload(). Any failed check drops the session (§11: after an overrun the next chunk gets off 0). */
static SimStatus image_upload(SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	bool proceed, last = false, match = false;
	UploadReq u;
	SimStatus st = upload_decode(req, &u);

	if (sim_status_failed(st))
		return st;
	st = inspect(dev, &u, &proceed);
	if (sim_status_failed(st)) {
		dev->upload = (SimUpload){ 0 };
		return st;
	}
	if (!proceed) {
		put_upload_answer(w, dev->upload.off, false, false, false);
		return SIM_OK;
	}
	/* The upload check hook runs here, before any erase or write: the firmware's idle erase stops. */
	sim_idle_erase_upload_seen(dev);
	if (u.off == 0) {
		upload_start(dev, &u);
		/* Slot 1 holds exactly this file already: done at once (CONFIG_IMG_ENABLE_IMAGE_CHECK). */
		if (dev->cfg.image_check && u.sha_len == 32 && slot1_matches(dev, u.len)) {
			put_upload_answer(w, u.len, true, true, true);
			dev->upload = (SimUpload){ 0 };
			return SIM_OK;
		}
		upload_erase_up_front(dev);
		/* The fault: img_mgmt_upload() answers the first chunk once the slot is erased, and this flash
		 * erases slowly (the client waits up to its first-chunk timeout, smpctl(1) --timeout). */
		dev->stall_usec += (uint64_t)dev->cfg.slow_erase_ms * 1000;
	}
	if (u.data_len > 0) {
		last = dev->upload.off + u.data_len == dev->upload.len;
		upload_write(dev, &u, last);
		if (dev->upload.off == dev->upload.len)
			match = slot1_matches(dev, dev->upload.len);
	}
	put_upload_answer(w, dev->upload.off, last, dev->cfg.image_check, match);
	if (dev->upload.off == dev->upload.len && u.data_len > 0)
		dev->upload = (SimUpload){ 0 };
	return SIM_OK;
}

SimStatus sim_image_handle(SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	bool write = req->header->op == SMP_OP_WRITE;
	SimStatus st;

	switch (req->header->id) {
	case SMP_IMAGE_STATE:
		/* img_mgmt.c: plain direct-xip registers no state write handler (mh_write NULL): rc 8. */
		if (write && dev->cfg.direct_xip)
			return SIM_RC(SMP_RC_ENOTSUP);
		st = write ? state_write(dev, req) : SIM_OK;
		if (!sim_status_failed(st))
			put_image_list(dev, w);
		return st;
	case SMP_IMAGE_UPLOAD:
		return write ? image_upload(dev, req, w) : SIM_RC(SMP_RC_ENOTSUP);
	case SMP_IMAGE_ERASE:
		return write ? image_erase(dev, req) : SIM_RC(SMP_RC_ENOTSUP);
	case SMP_IMAGE_SLOT_INFO:
		return write ? SIM_RC(SMP_RC_ENOTSUP) : slot_info(dev, w);
	default:
		return SIM_RC(SMP_RC_ENOTSUP);
	}
}
