/* SPDX-License-Identifier: MIT */
/* MCUboot serial recovery, as boot_serial.c answers (see sim-recovery.h for what and where from). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "sim-device.h"
#include "sim-internal.h"
#include "sim-recovery.h"
#include "smp-cbor.h"
#include "smp.h"
#include "util.h"

#define RC_OK 0
#define RC_EINVAL 3   /* MGMT_ERR_EINVAL */
#define RC_ENOENT 5   /* MGMT_ERR_ENOENT */
#define RC_ENOTSUP 8  /* MGMT_ERR_ENOTSUP */
#define FLASH_ALIGN 4 /* nRF52 flash write alignment: boot_serial.c writes aligned and asks for the rest */

struct SimRecovery {
	SimRecoveryConfig cfg;
	SimDevice *dev;
	unsigned upload_slot;
	size_t img_size, curr_off; /* the upload in progress (bs_upload's statics) */
};

bool sim_recovery_reboot(SimRecovery *r)
{
	r->img_size = r->curr_off = 0; /* bs_upload's statics start over */
	return r->cfg.held;
}

int sim_recovery_parse(const char *list, SimRecoveryConfig *cfg)
{
	_cleanup_free_ char *copy = strdup(list);
	char *save = NULL;

	if (!copy)
		return -ENOMEM;
	*cfg = (SimRecoveryConfig){ 0 };
	if (strcmp(list, "none") == 0)
		return 0;
	for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (strcmp(w, "echo") == 0)
			cfg->echo = true;
		else if (strcmp(w, "hash") == 0)
			cfg->hash = true;
		else if (strcmp(w, "state") == 0)
			cfg->state = true;
		else if (strcmp(w, "slot-info") == 0)
			cfg->slot_info = true;
		else if (strcmp(w, "direct") == 0)
			cfg->direct = true;
		else if (strcmp(w, "held") == 0)
			cfg->held = true;
		else
			return -EINVAL;
	}
	return 0;
}

int sim_recovery_new(const SimRecoveryConfig *cfg, SimDevice *dev, SimRecovery **out)
{
	SimRecovery *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->cfg = *cfg;
	r->dev = dev;
	*out = r;
	return 0;
}

void sim_recovery_free(SimRecovery *r)
{
	free(r);
}

static void put_rc(SmpCborWriter *w, int32_t rc)
{
	smp_cbor_put_indef_map(w);
	smp_cbor_put_text(w, "rc");
	smp_cbor_put_int(w, rc);
	smp_cbor_put_break(w);
}

/* bs_list_img_ver(): "major.minor.revision", ".build" only when it is not 0. */
static void recovery_version(const ImageVersion *v, char *out, size_t size)
{
	int n = snprintf(out, size, "%u.%u.%u", v->major, v->minor, v->revision);

	if (v->build && n > 0 && (size_t)n < size)
		snprintf(out + n, size - (size_t)n, ".%u", v->build);
}

/* A slot is listed only when its image validates (bootutil_img_validate: the hash TLV matches). */
static bool slot_valid(const SimRecovery *r, unsigned slot, Image *img)
{
	ImageVerdict v;

	return image_parse(r->dev->slot[slot], r->dev->cfg.slot_size, img, NULL, 0) == 0 &&
	       image_verify(img, NULL, &v) == 0 && v.hash_ok;
}

static void put_flag(SmpCborWriter *w, const char *name, bool on)
{
	if (!on)
		return;
	smp_cbor_put_text(w, name);
	smp_cbor_put_bool(w, true);
}

/* bs_list() with MCUBOOT_SERIAL_IMG_GRP_IMAGE_STATE: the flags from boot_swap_type_multi(). */
static void recovery_put_state(const SimRecovery *r, unsigned slot, SmpCborWriter *w)
{
	SimSwap swap = r->dev->swap[0];
	bool primary = slot == 0;

	put_flag(w, "bootable", true);
	put_flag(w, "confirmed", (primary && swap != SIM_SWAP_REVERT) || (!primary && swap == SIM_SWAP_REVERT));
	put_flag(w, "active", primary && (swap == SIM_SWAP_NONE || swap == SIM_SWAP_REVERT));
	put_flag(w, "pending", !primary && (swap == SIM_SWAP_TEST || swap == SIM_SWAP_PERM));
	put_flag(w, "permanent", !primary && swap == SIM_SWAP_PERM);
}

static void recovery_list(SimRecovery *r, SmpCborWriter *w)
{
	smp_cbor_put_indef_map(w);
	smp_cbor_put_text(w, "images");
	smp_cbor_put_indef_array(w);
	for (unsigned slot = 0; slot < 2; slot++) {
		Image img;
		char version[48];

		if (!slot_valid(r, slot, &img))
			continue;
		recovery_version(&img.version, version, sizeof(version));
		smp_cbor_put_indef_map(w);
		if (r->cfg.state)
			recovery_put_state(r, slot, w);
		smp_cbor_put_text(w, "slot");
		smp_cbor_put_uint(w, slot);
		if (r->cfg.hash) {
			smp_cbor_put_text(w, "hash");
			smp_cbor_put_bytes(w, img.hash, img.hash_len);
		}
		smp_cbor_put_text(w, "version");
		smp_cbor_put_text(w, version);
		smp_cbor_put_break(w);
	}
	smp_cbor_put_break(w);
	smp_cbor_put_break(w);
}

/* bs_set(): whatever the hash, the secondary slot is what boot_set_pending_multi() marks. */
static void recovery_set(SimRecovery *r, const cbor_item_t *body, SmpCborWriter *w)
{
	uint8_t hash[64];
	size_t hash_len = 0;
	bool confirm = false;
	Image img;

	if (!body || !cbor_isa_map(body)) {
		put_rc(w, RC_EINVAL);
		return;
	}
	smp_cbor_get_bool(body, "confirm", &confirm);
	if (r->cfg.hash && smp_cbor_map_get(body, "hash")) {
		/* IMAGE_HASH_SIZE: 32 in a SHA-256 build */
		if (smp_cbor_get_bytes(body, "hash", hash, sizeof(hash), &hash_len) < 0 || hash_len != 32) {
			put_rc(w, RC_EINVAL);
			return;
		}
		if (!slot_valid(r, 1, &img) || memcmp(img.hash, hash, 32) != 0) {
			put_rc(w, RC_ENOENT); /* "Did not find image with specified hash" */
			return;
		}
	}
	/* boot_set_next(): an unset trailer gets magic (and image_ok when permanent); one already set is
	 * left as it is */
	if (r->dev->swap[0] == SIM_SWAP_NONE)
		r->dev->swap[0] = confirm ? SIM_SWAP_PERM : SIM_SWAP_TEST;
	recovery_list(r, w);
}

/* bs_upload()'s target: flash_area_id_from_multi_image_slot(img_num, 0), or with direct upload
 * flash_area_id_from_direct_image(img_num). -1 when that area does not exist. */
static int upload_target(const SimRecovery *r, uint64_t image)
{
	if (!r->cfg.direct)
		return image == 0 ? 0 : -1;
	return image <= 1 ? 0 : image == 2 ? 1 : -1;
}

/* The first chunk: the target slot is erased whole, its trailer with it. */
static int upload_start(SimRecovery *r, const cbor_item_t *body)
{
	uint64_t len = UINT64_MAX, image = 0;
	int slot;

	smp_cbor_get_uint(body, "image", &image);
	slot = upload_target(r, image);
	smp_cbor_get_uint(body, "len", &len);
	if (slot < 0 || len > r->dev->cfg.slot_size)
		return -1; /* also a first chunk without "len" */
	r->upload_slot = (unsigned)slot;
	r->curr_off = 0;
	r->img_size = (size_t)len;
	memset(r->dev->slot[slot], 0xff, SIM_SLOT_SIZE);
	/* an erased trailer: nothing pending for slot 1, nothing to revert for slot 0 */
	if ((slot == 1 && (r->dev->swap[0] == SIM_SWAP_TEST || r->dev->swap[0] == SIM_SWAP_PERM)) ||
	    (slot == 0 && r->dev->swap[0] == SIM_SWAP_REVERT))
		r->dev->swap[0] = SIM_SWAP_NONE;
	return 0;
}

static void recovery_upload(SimRecovery *r, const cbor_item_t *body, SmpCborWriter *w)
{
	uint64_t off;
	const cbor_item_t *data = smp_cbor_map_get(body, "data");
	size_t n;

	if (smp_cbor_get_uint(body, "off", &off) < 0 || !data || !cbor_isa_bytestring(data) ||
	    !cbor_bytestring_is_definite(data)) {
		put_rc(w, RC_EINVAL);
		return;
	}
	n = cbor_bytestring_length(data);
	if (off == 0 && upload_start(r, body) < 0) {
		put_rc(w, RC_EINVAL);
		return;
	} else if (off != 0 && off != r->curr_off) {
		goto answer; /* "pretend success" with the expected offset */
	}
	if (r->curr_off + n > r->img_size) {
		put_rc(w, RC_EINVAL);
		return;
	}
	/* written aligned; the tail comes again with the next chunk, except at the very end */
	if (r->curr_off + n < r->img_size)
		n -= n % FLASH_ALIGN;
	memcpy(r->dev->slot[r->upload_slot] + r->curr_off, cbor_bytestring_handle(data), n);
	r->curr_off += n;
answer:
	smp_cbor_put_indef_map(w);
	smp_cbor_put_text(w, "rc");
	smp_cbor_put_int(w, RC_OK);
	smp_cbor_put_text(w, "off");
	smp_cbor_put_uint(w, r->curr_off);
	smp_cbor_put_break(w);
}

static void recovery_echo(const cbor_item_t *body, SmpCborWriter *w)
{
	char text[512];

	if (smp_cbor_get_text(body, "d", text, sizeof(text)) < 0) {
		put_rc(w, RC_EINVAL);
		return;
	}
	smp_cbor_put_indef_map(w);
	smp_cbor_put_text(w, "r");
	smp_cbor_put_text(w, text);
	smp_cbor_put_break(w);
}

/* bs_slot_info(): each slot's size, and upload_image_id: image_index * 2 + 1 on slot 1 without direct
 * upload (uploads still go to the primary slot), image_index * 2 + slot + 1 on each slot with it. */
static void recovery_slot_info(SimRecovery *r, SmpCborWriter *w)
{
	smp_cbor_put_indef_map(w);
	smp_cbor_put_text(w, "images");
	smp_cbor_put_indef_array(w);
	smp_cbor_put_indef_map(w);
	sim_put_image0_slots(w, r->dev->cfg.slot_size, r->cfg.direct ? 1 : -1, r->cfg.direct ? 2 : 1);
	smp_cbor_put_break(w);
	smp_cbor_put_break(w);
	smp_cbor_put_break(w);
}

/* boot_serial_input()'s dispatch. */
static void recovery_dispatch(SimRecovery *r, const SmpHeader *h, const cbor_item_t *body, SmpCborWriter *w)
{
	bool write = h->op == SMP_OP_WRITE;

	if (h->group == SMP_GROUP_IMAGE && h->id == 0 && !write)
		recovery_list(r, w);
	else if (h->group == SMP_GROUP_IMAGE && h->id == 0 && r->cfg.state)
		recovery_set(r, body, w);
	else if (h->group == SMP_GROUP_IMAGE && h->id == 0)
		put_rc(w, RC_ENOTSUP);
	else if (h->group == SMP_GROUP_IMAGE && h->id == 1 && body)
		recovery_upload(r, body, w);
	else if (h->group == SMP_GROUP_IMAGE && h->id == 6 && r->cfg.slot_info)
		recovery_slot_info(r, w);
	else if (h->group == SMP_GROUP_OS && h->id == 0 && r->cfg.echo && body)
		recovery_echo(body, w);
	else if (h->group == SMP_GROUP_OS && h->id == 1)
		put_rc(w, RC_OK); /* console echo control */
	else if (h->group == SMP_GROUP_OS && h->id == 5) {
		put_rc(w, RC_OK); /* bs_reset(): answers, then sys_reboot() 250 ms later */
		r->dev->reset_requested = true; /* the host takes it: sim_device_take_reset() */
	}
	else
		put_rc(w, RC_ENOTSUP);
}

size_t sim_recovery_process(SimRecovery *r, const uint8_t *frame, size_t len, uint8_t *out, size_t out_size)
{
	_cleanup_(smp_cbor_freep) cbor_item_t *body = NULL;
	SmpHeader h;
	SmpCborWriter w;
	int n;

	if (out_size < SMP_HEADER_SIZE || smp_header_decode(frame, len, &h) < 0 || (h.op != SMP_OP_READ && h.op != SMP_OP_WRITE) ||
	    h.len > len - SMP_HEADER_SIZE)
		return 0;
	if (h.len && smp_cbor_decode(frame + SMP_HEADER_SIZE, h.len, &body) < 0)
		body = NULL;
	smp_cbor_writer_init(&w, out + SMP_HEADER_SIZE, out_size - SMP_HEADER_SIZE);
	recovery_dispatch(r, &h, body, &w);
	n = smp_cbor_writer_done(&w);
	if (n < 0)
		return 0;
	h.op++; /* the request's header with op + 1 and flags 0 (boot_serial_output) */
	h.flags = 0;
	h.len = (uint16_t)n;
	smp_header_encode(&h, out);
	return SMP_HEADER_SIZE + (size_t)n;
}
