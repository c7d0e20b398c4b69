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
#define RC_ENOTSUP 8  /* MGMT_ERR_ENOTSUP */
#define FLASH_ALIGN 4 /* nRF52 flash write alignment: boot_serial.c writes aligned and asks for the rest */
#define FACTORY_PAYLOAD (120u * 1024)

struct SimRecovery {
	SimRecoveryConfig cfg;
	uint8_t *slot[2];
	size_t img_size, curr_off; /* the upload in progress (bs_upload's statics) */
};

int sim_recovery_parse(const char *list, SimRecoveryConfig *cfg)
{
	_cleanup_free_ char *copy = strdup(list);
	char *save = NULL;

	if (!copy)
		return -ENOMEM;
	cfg->echo = cfg->hash = cfg->state = cfg->slot_info = false;
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
		else
			return -EINVAL;
	}
	return 0;
}

int sim_recovery_new(const SimRecoveryConfig *cfg, SimRecovery **out)
{
	SimRecovery *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->cfg = *cfg;
	for (int s = 0; s < 2; s++) {
		r->slot[s] = malloc(cfg->slot_size);
		if (!r->slot[s]) {
			sim_recovery_free(r);
			return -ENOMEM;
		}
		memset(r->slot[s], 0xff, cfg->slot_size);
	}
	sim_make_image(r->slot[0], cfg->slot_size, FACTORY_PAYLOAD, cfg->app_version, 1);
	*out = r;
	return 0;
}

void sim_recovery_free(SimRecovery *r)
{
	if (!r)
		return;
	free(r->slot[0]);
	free(r->slot[1]);
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

	return image_parse(r->slot[slot], r->cfg.slot_size, img, NULL, 0) == 0 &&
	       image_verify(img, NULL, &v) == 0 && v.hash_ok;
}

/* bs_list(): no swap is ever pending here, so the primary slot is active and confirmed. */
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
		smp_cbor_put_text(w, "slot");
		smp_cbor_put_uint(w, slot);
		smp_cbor_put_text(w, "version");
		smp_cbor_put_text(w, version);
		if (r->cfg.hash) {
			smp_cbor_put_text(w, "hash");
			smp_cbor_put_bytes(w, img.hash, img.hash_len);
		}
		if (r->cfg.state) {
			smp_cbor_put_text(w, "bootable");
			smp_cbor_put_bool(w, true);
			if (slot == 0) {
				smp_cbor_put_text(w, "confirmed");
				smp_cbor_put_bool(w, true);
				smp_cbor_put_text(w, "active");
				smp_cbor_put_bool(w, true);
			}
		}
		smp_cbor_put_break(w);
	}
	smp_cbor_put_break(w);
	smp_cbor_put_break(w);
}

/* bs_upload() without progressive erase or direct upload: always into the primary slot. */
static void recovery_upload(SimRecovery *r, const cbor_item_t *body, SmpCborWriter *w)
{
	uint64_t off, len = UINT64_MAX;
	const cbor_item_t *data = smp_cbor_map_get(body, "data");
	size_t n;

	if (smp_cbor_get_uint(body, "off", &off) < 0 || !data || !cbor_isa_bytestring(data) ||
	    !cbor_bytestring_is_definite(data)) {
		put_rc(w, RC_EINVAL);
		return;
	}
	n = cbor_bytestring_length(data);
	if (off == 0) {
		smp_cbor_get_uint(body, "len", &len);
		if (len > r->cfg.slot_size) {
			put_rc(w, RC_EINVAL); /* also a first chunk without "len" */
			return;
		}
		r->curr_off = 0;
		r->img_size = (size_t)len;
		memset(r->slot[0], 0xff, r->cfg.slot_size);
	} else if (off != r->curr_off) {
		goto answer; /* "pretend success" with the expected offset */
	}
	if (r->curr_off + n > r->img_size) {
		put_rc(w, RC_EINVAL);
		return;
	}
	/* written aligned; the tail comes again with the next chunk, except at the very end */
	if (r->curr_off + n < r->img_size)
		n -= n % FLASH_ALIGN;
	memcpy(r->slot[0] + r->curr_off, cbor_bytestring_handle(data), n);
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

/* bs_slot_info(): each slot's size, and which image id uploads go to (slot 1 without direct upload). */
static void recovery_slot_info(SimRecovery *r, SmpCborWriter *w)
{
	smp_cbor_put_indef_map(w);
	smp_cbor_put_text(w, "images");
	smp_cbor_put_indef_array(w);
	smp_cbor_put_indef_map(w);
	sim_put_image0_slots(w, r->cfg.slot_size, 1);
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
		recovery_list(r, w); /* bs_set() answers the list; marking slots is not modelled */
	else if (h->group == SMP_GROUP_IMAGE && h->id == 0)
		put_rc(w, RC_ENOTSUP);
	else if (h->group == SMP_GROUP_IMAGE && h->id == 1 && body)
		recovery_upload(r, body, w);
	else if (h->group == SMP_GROUP_IMAGE && h->id == 6 && r->cfg.slot_info)
		recovery_slot_info(r, w);
	else if (h->group == SMP_GROUP_OS && h->id == 0 && r->cfg.echo && body)
		recovery_echo(body, w);
	else if (h->group == SMP_GROUP_OS && (h->id == 1 || h->id == 5))
		put_rc(w, RC_OK); /* console echo control; reset */
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
