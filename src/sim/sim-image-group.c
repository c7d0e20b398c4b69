/* SPDX-License-Identifier: MIT */
/*
 * Image group (1) of the simulated device and the MCUboot it boots through: Zephyr's img_mgmt.c and
 * img_mgmt_state.c behaviour (REFERENCE.md §4, §5, §11) over two slots of the nRF52833 DK layout (§12),
 * swap-using-move on reboot (§13).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "image.h"
#include "log.h"
#include "sim-internal.h"
#include "smp-error.h"
#include "util.h"

#define FACTORY_PAYLOAD (120u * 1024)

static bool slot_image(const SimDevice *dev, unsigned slot, Image *img)
{
	return image_parse(dev->slot[slot], dev->cfg.slot_size, img, NULL, 0) == 0;
}

static void slot_erase_all(SimDevice *dev, unsigned slot)
{
	memset(dev->slot[slot], 0xff, SIM_SLOT_SIZE);
	memset(dev->page_erased[slot], true, sizeof(dev->page_erased[slot]));
}

void sim_slots_init(SimDevice *dev)
{
	slot_erase_all(dev, 0);
	slot_erase_all(dev, 1);
	sim_make_image(dev->slot[0], dev->cfg.slot_size, FACTORY_PAYLOAD, dev->cfg.app_version, 1);
	memset(dev->page_erased[0], false, sizeof(dev->page_erased[0]));
	memset(dev->page_erased[1], false, sizeof(dev->page_erased[1]));
	dev->swap = SIM_SWAP_NONE;
}

/* img_mgmt_state_flags(): which flags a slot shows for the swap MCUboot will do next. */
static void slot_flags(const SimDevice *dev, unsigned slot, SimSlotState *st)
{
	bool active = slot == 0;

	st->active = active;
	st->pending = st->confirmed = st->permanent = false;
	switch (dev->swap) {
	case SIM_SWAP_NONE: st->confirmed = active; break;
	case SIM_SWAP_TEST: st->confirmed = active; st->pending = !active; break;
	case SIM_SWAP_PERM: st->confirmed = active; st->pending = st->permanent = !active; break;
	/* After a test swap the old image, in slot 1, shows as confirmed: it is what a revert restores. */
	case SIM_SWAP_REVERT: st->confirmed = !active; break;
	}
}

void sim_device_slot_state(const SimDevice *dev, unsigned slot, SimSlotState *out)
{
	Image img;

	*out = (SimSlotState){ 0 };
	if (slot > 1 || !slot_image(dev, slot, &img))
		return;
	out->present = true;
	/* img_mgmt_ver_str(): "major.minor.revision", ".build" appended when not 0 */
	if (img.version.build)
		snprintf(out->version, sizeof(out->version), "%u.%u.%u.%u", img.version.major, img.version.minor,
			 img.version.revision, img.version.build);
	else
		snprintf(out->version, sizeof(out->version), "%u.%u.%u", img.version.major, img.version.minor,
			 img.version.revision);
	memcpy(out->hash, img.hash, img.hash_len);
	out->hash_len = img.hash_len;
	slot_flags(dev, slot, out);
}

static void put_flag(SmpCborWriter *w, const char *key, bool v)
{
	if (!v)
		return; /* Zephyr omits false flags */
	smp_cbor_put_text(w, key);
	smp_cbor_put_bool(w, true);
}

static void put_image_list(SimDevice *dev, SmpCborWriter *w)
{
	smp_cbor_put_text(w, "images");
	smp_cbor_put_indef_array(w);
	for (unsigned slot = 0; slot < 2; slot++) {
		SimSlotState st;

		sim_device_slot_state(dev, slot, &st);
		if (!st.present)
			continue;
		smp_cbor_put_indef_map(w);
		smp_cbor_put_text(w, "slot");
		smp_cbor_put_uint(w, slot);
		smp_cbor_put_text(w, "version");
		smp_cbor_put_text(w, st.version);
		smp_cbor_put_text(w, "hash");
		smp_cbor_put_bytes(w, st.hash, st.hash_len);
		put_flag(w, "bootable", true);
		put_flag(w, "pending", st.pending);
		put_flag(w, "confirmed", st.confirmed);
		put_flag(w, "active", st.active);
		put_flag(w, "permanent", st.permanent);
		smp_cbor_put_break(w);
	}
	smp_cbor_put_break(w);
	smp_cbor_put_text(w, "splitStatus");
	smp_cbor_put_uint(w, 0);
}

/* Slot 1 cannot take an upload or an erase while MCUboot will use it at the next boot. */
static bool slot1_busy(const SimDevice *dev)
{
	return dev->swap != SIM_SWAP_NONE;
}

static SimStatus state_confirm_running(SimDevice *dev)
{
	if (dev->swap == SIM_SWAP_TEST || dev->swap == SIM_SWAP_PERM)
		return SIM_GROUP_ERR(SMP_GROUP_IMAGE, SMP_IMG_IMAGE_ALREADY_PENDING, "pending");
	if (dev->swap == SIM_SWAP_REVERT)
		dev->swap = SIM_SWAP_NONE; /* boot_write_img_confirmed() */
	return SIM_OK;
}

static SimStatus state_write(SimDevice *dev, const SimRequest *req)
{
	uint8_t hash[IMAGE_HASH_MAX];
	size_t hash_len = 0;
	bool confirm = false;
	SimSlotState s0, s1;
	int r = smp_cbor_get_bytes(req->body, "hash", hash, sizeof(hash), &hash_len);

	if (r < 0 && r != -ENOENT)
		return SIM_GROUP_ERR(SMP_GROUP_IMAGE, SMP_IMG_INVALID_HASH, "hash");
	if (smp_cbor_get_bool(req->body, "confirm", &confirm) == -EBADMSG)
		return SIM_RC(SMP_RC_EINVAL);
	if (r == -ENOENT) {
		if (!confirm)
			return SIM_RC(SMP_RC_EINVAL);
		return state_confirm_running(dev);
	}
	sim_device_slot_state(dev, 0, &s0);
	sim_device_slot_state(dev, 1, &s1);
	if (s0.present && s0.hash_len == hash_len && memcmp(s0.hash, hash, hash_len) == 0) {
		if (!confirm)
			return SIM_GROUP_ERR(SMP_GROUP_IMAGE, SMP_IMG_IMAGE_SETTING_TEST_TO_ACTIVE_DENIED, "active");
		return state_confirm_running(dev);
	}
	if (!s1.present || s1.hash_len != hash_len || memcmp(s1.hash, hash, hash_len) != 0)
		return SIM_GROUP_ERR(SMP_GROUP_IMAGE, SMP_IMG_HASH_NOT_FOUND, "hash not found");
	if (dev->swap == SIM_SWAP_REVERT)
		return SIM_GROUP_ERR(SMP_GROUP_IMAGE, SMP_IMG_IMAGE_ALREADY_PENDING, "revert pending");
	/* Marking slot 1 for test again is fine; a confirm while it is pending is refused (§11: rc 28). */
	if (dev->swap == SIM_SWAP_TEST && confirm)
		return SIM_GROUP_ERR(SMP_GROUP_IMAGE, SMP_IMG_IMAGE_ALREADY_PENDING, "pending");
	if (dev->swap != SIM_SWAP_PERM)
		dev->swap = confirm ? SIM_SWAP_PERM : SIM_SWAP_TEST;
	return SIM_OK;
}

static SimStatus image_erase(SimDevice *dev, const SimRequest *req)
{
	uint64_t slot = 1;

	if (smp_cbor_get_uint(req->body, "slot", &slot) == -EBADMSG || slot > 1)
		return SIM_GROUP_ERR(SMP_GROUP_IMAGE, SMP_IMG_INVALID_SLOT, "slot");
	if (slot == 0 || slot1_busy(dev))
		return SIM_GROUP_ERR(SMP_GROUP_IMAGE, SMP_IMG_NO_FREE_SLOT, "busy");
	slot_erase_all(dev, 1);
	dev->upload = (SimUpload){ 0 };
	dev->flash_usec += sim_flash_erase_usec(dev->cfg.slot_size / SIM_PAGE_SIZE);
	return SIM_OK;
}

/* Progressive erase (CONFIG_IMG_ERASE_PROGRESSIVELY): each page is erased just before its first write. */
static void slot1_write(SimDevice *dev, uint64_t off, const uint8_t *data, size_t n)
{
	for (uint64_t page = off / SIM_PAGE_SIZE; page * SIM_PAGE_SIZE < off + n; page++)
		if (!dev->page_erased[1][page]) {
			memset(dev->slot[1] + page * SIM_PAGE_SIZE, 0xff, SIM_PAGE_SIZE);
			dev->page_erased[1][page] = true;
			dev->flash_usec += sim_flash_erase_usec(1);
		}
	memcpy(dev->slot[1] + off, data, n);
	dev->flash_usec += sim_flash_write_usec(n);
}

/* Without progressive erase the first chunk erases len bytes up front (the stock smp_svr sample). */
static void slot1_begin(SimDevice *dev, uint64_t len)
{
	size_t pages = (size_t)((len + SIM_PAGE_SIZE - 1) / SIM_PAGE_SIZE);

	memset(dev->page_erased[1], false, sizeof(dev->page_erased[1]));
	if (dev->cfg.progressive_erase)
		return;
	memset(dev->slot[1], 0xff, pages * SIM_PAGE_SIZE);
	memset(dev->page_erased[1], true, pages);
	dev->flash_usec += sim_flash_erase_usec(pages);
}

typedef struct UploadReq {
	bool has_off, has_len, upgrade;
	uint64_t off, len;
	uint8_t sha[64];
	size_t sha_len;
	const cbor_item_t *data;
} UploadReq;

static SimStatus upload_decode(const SimRequest *req, UploadReq *u)
{
	int r;

	*u = (UploadReq){ 0 };
	u->data = smp_cbor_map_get(req->body, "data");
	if (u->data && !cbor_isa_bytestring(u->data))
		return SIM_RC(SMP_RC_EINVAL);
	r = smp_cbor_get_uint(req->body, "off", &u->off);
	if (r == -EBADMSG)
		return SIM_RC(SMP_RC_EINVAL);
	u->has_off = r == 0;
	r = smp_cbor_get_uint(req->body, "len", &u->len);
	if (r == -EBADMSG)
		return SIM_RC(SMP_RC_EINVAL);
	u->has_len = r == 0;
	r = smp_cbor_get_bytes(req->body, "sha", u->sha, sizeof(u->sha), &u->sha_len);
	if (r == -EBADMSG)
		return SIM_RC(SMP_RC_EINVAL);
	if (r == -EMSGSIZE || u->sha_len > 32)
		return SIM_GROUP_ERR(SMP_GROUP_IMAGE, SMP_IMG_INVALID_HASH, "sha");
	if (smp_cbor_get_bool(req->body, "upgrade", &u->upgrade) == -EBADMSG)
		return SIM_RC(SMP_RC_EINVAL);
	if (!u->has_off)
		return SIM_GROUP_ERR(SMP_GROUP_IMAGE, SMP_IMG_INVALID_OFFSET, "off");
	return SIM_OK;
}

static uint64_t version_key(const ImageVersion *v)
{
	return (uint64_t)v->major << 56 | (uint64_t)v->minor << 48 | (uint64_t)v->revision << 32 | v->build;
}

/* The first chunk (off 0): Zephyr checks len, the header magic, the size and the slot, then starts a
 * session — or resumes the unfinished one that has the same sha (REFERENCE.md §4, §11). */
static SimStatus upload_first(SimDevice *dev, const UploadReq *u, const uint8_t *data, size_t n)
{
	Image running;

	if (!u->has_len)
		return SIM_GROUP_ERR(SMP_GROUP_IMAGE, SMP_IMG_INVALID_LENGTH, "len");
	if (dev->upload.active && u->sha_len && u->sha_len == dev->upload.sha_len &&
	    memcmp(u->sha, dev->upload.sha, u->sha_len) == 0 && u->len == dev->upload.len)
		return SIM_OK; /* resume: answered with the session's offset */
	if (n < IMAGE_HEADER_SIZE || !(data[0] == 0x3d && data[1] == 0xb8 && data[2] == 0xf3 && data[3] == 0x96))
		return SIM_GROUP_ERR(SMP_GROUP_IMAGE, SMP_IMG_INVALID_IMAGE_HEADER_MAGIC, "magic mismatch");
	if (u->len > dev->cfg.slot_size)
		return SIM_GROUP_ERR(SMP_GROUP_IMAGE, SMP_IMG_INVALID_IMAGE_TOO_LARGE, "too large");
	if (u->upgrade && slot_image(dev, 0, &running)) {
		ImageVersion v = { data[20], data[21], (uint16_t)(data[22] | data[23] << 8),
				   (uint32_t)data[24] | (uint32_t)data[25] << 8 | (uint32_t)data[26] << 16 |
					   (uint32_t)data[27] << 24 };

		if (version_key(&v) <= version_key(&running.version))
			return SIM_GROUP_ERR(SMP_GROUP_IMAGE, SMP_IMG_CURRENT_VERSION_IS_NEWER, "downgrade");
	}
	if (slot1_busy(dev))
		return SIM_GROUP_ERR(SMP_GROUP_IMAGE, SMP_IMG_NO_FREE_SLOT, "no free slot");
	dev->upload = (SimUpload){ .active = true, .len = u->len, .sha_len = u->sha_len };
	memcpy(dev->upload.sha, u->sha, u->sha_len);
	slot1_begin(dev, u->len);
	return SIM_OK;
}

/* CONFIG_IMG_ENABLE_IMAGE_CHECK: the slot's data hashes to the first chunk's sha, which must be a whole
 * SHA-256 (else match is false even for a good image, §11). */
static bool upload_matches(const SimDevice *dev)
{
	uint8_t digest[32];

	if (dev->upload.sha_len != 32)
		return false;
	image_sha256(dev->slot[1], (size_t)dev->upload.len, digest);
	return memcmp(digest, dev->upload.sha, 32) == 0;
}

static SimStatus image_upload(SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	const uint8_t *data = NULL;
	size_t n = 0;
	UploadReq u;
	SimStatus st = upload_decode(req, &u);

	if (st.rc || st.group_rc)
		return st;
	if (u.data) {
		if (!cbor_bytestring_is_definite(u.data))
			return SIM_RC(SMP_RC_EINVAL);
		data = cbor_bytestring_handle(u.data);
		n = cbor_bytestring_length(u.data);
	}
	if (u.off == 0) {
		st = upload_first(dev, &u, data, n);
		if (st.rc || st.group_rc)
			return st;
		if (dev->upload.off > 0)
			n = 0; /* resumed: the device keeps what it has and says where it stands */
	}
	if (dev->upload.active && u.off == dev->upload.off && n > 0) {
		if (u.off + n > dev->upload.len) {
			dev->upload = (SimUpload){ 0 }; /* §11: the state is reset, the next chunk gets off 0 */
			return SIM_GROUP_ERR(SMP_GROUP_IMAGE, SMP_IMG_INVALID_IMAGE_DATA_OVERRUN, "overrun");
		}
		slot1_write(dev, u.off, data, n);
		dev->upload.off += n;
	}
	/* Data at any other offset is dropped and the answer says which offset is expected (§4). */
	smp_cbor_put_text(w, "off");
	smp_cbor_put_uint(w, dev->upload.active ? dev->upload.off : 0);
	if (dev->upload.active && dev->upload.off == dev->upload.len && dev->cfg.image_check) {
		smp_cbor_put_text(w, "match");
		smp_cbor_put_bool(w, upload_matches(dev));
	}
	return SIM_OK;
}

SimStatus sim_image_handle(SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	bool write = req->header->op == SMP_OP_WRITE;
	SimStatus st;

	switch (req->header->id) {
	case SMP_IMAGE_STATE:
		st = write ? state_write(dev, req) : SIM_OK;
		if (!st.rc && !st.group_rc)
			put_image_list(dev, w);
		return st;
	case SMP_IMAGE_UPLOAD:
		return write ? image_upload(dev, req, w) : SIM_RC(SMP_RC_ENOTSUP);
	case SMP_IMAGE_ERASE:
		return write ? image_erase(dev, req) : SIM_RC(SMP_RC_ENOTSUP);
	default:
		return SIM_RC(SMP_RC_ENOTSUP);
	}
}

/* MCUboot validates slot 1 before it swaps (bootutil_img_validate): a broken image is not booted. */
static bool slot1_valid(const SimDevice *dev)
{
	uint8_t digest[32];
	Image img;

	if (!slot_image(dev, 1, &img))
		return false;
	if (img.hash_type != IMAGE_TLV_SHA256)
		return true; /* the model checks SHA-256 images only; larger hashes are taken as valid */
	image_sha256(dev->slot[1], (size_t)img.hdr_size + img.img_size + img.protect_tlv_size, digest);
	return memcmp(digest, img.hash, 32) == 0;
}

static void slots_swap(SimDevice *dev)
{
	static uint8_t tmp[SIM_SLOT_SIZE];

	memcpy(tmp, dev->slot[0], SIM_SLOT_SIZE);
	memcpy(dev->slot[0], dev->slot[1], SIM_SLOT_SIZE);
	memcpy(dev->slot[1], tmp, SIM_SLOT_SIZE);
}

uint64_t sim_swap_image_bytes(const SimDevice *dev)
{
	Image a, b;
	size_t n = 0;

	if (dev->swap == SIM_SWAP_NONE)
		return 0;
	if (slot_image(dev, 0, &a))
		n = a.size;
	if (slot_image(dev, 1, &b))
		n = MAX(n, b.size);
	return n;
}

/* What MCUboot (swap-using-move) does at boot with the state the application left (§13). */
void sim_boot(SimDevice *dev)
{
	switch (dev->swap) {
	case SIM_SWAP_NONE:
		return;
	case SIM_SWAP_TEST:
	case SIM_SWAP_PERM:
		if (!slot1_valid(dev)) {
			log_debug("sim: slot 1 does not validate; MCUboot keeps the running image");
			dev->swap = SIM_SWAP_NONE;
			return;
		}
		slots_swap(dev);
		dev->swap = dev->swap == SIM_SWAP_TEST ? SIM_SWAP_REVERT : SIM_SWAP_NONE;
		/* A tested image that never confirms itself and crashes: the watchdog resets, MCUboot reverts. */
		if (dev->swap == SIM_SWAP_REVERT && dev->cfg.new_image_crashes)
			sim_boot(dev);
		return;
	case SIM_SWAP_REVERT:
		slots_swap(dev);
		dev->swap = SIM_SWAP_NONE;
		return;
	}
}

/* MCUboot layout (REFERENCE.md §8): 32-byte header padded to 0x200, payload, unprotected TLV area with a
 * SHA-256 hash TLV over header and payload. */
size_t sim_make_image(uint8_t *buf, size_t buf_size, size_t payload, const char *version, uint8_t seed)
{
	const size_t hdr = 0x200, tlv_total = 4 + 4 + 32;
	unsigned major = 0, minor = 0, revision = 0, build = 0;
	uint32_t x = 0x2545f491u ^ seed;
	uint8_t *p;

	if (hdr + payload + tlv_total > buf_size)
		return 0;
	sscanf(version, "%u.%u.%u+%u", &major, &minor, &revision, &build);
	memset(buf, 0, hdr);
	buf[0] = 0x3d; buf[1] = 0xb8; buf[2] = 0xf3; buf[3] = 0x96;
	buf[8] = (uint8_t)hdr; buf[9] = (uint8_t)(hdr >> 8);
	for (int i = 0; i < 4; i++) {
		buf[12 + i] = (uint8_t)(payload >> (8 * i));
		buf[24 + i] = (uint8_t)(build >> (8 * i));
	}
	buf[20] = (uint8_t)major; buf[21] = (uint8_t)minor;
	buf[22] = (uint8_t)revision; buf[23] = (uint8_t)(revision >> 8);
	for (size_t i = 0; i < payload; i++) {
		x ^= x << 13; x ^= x >> 17; x ^= x << 5;
		buf[hdr + i] = (uint8_t)x;
	}
	p = buf + hdr + payload;
	p[0] = 0x07; p[1] = 0x69; p[2] = (uint8_t)tlv_total; p[3] = 0;
	p[4] = 0x10; p[5] = 0; p[6] = 32; p[7] = 0;
	image_sha256(buf, hdr + payload, p + 8);
	return hdr + payload + tlv_total;
}
