/* SPDX-License-Identifier: MIT */
/* The simulated device: SMP framing and dispatch as Zephyr's smp.c does it (REFERENCE.md §1, §3, §11). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "sim-internal.h"
#include "smp-error.h"
#include "util.h"

void sim_config_default(SimConfig *cfg)
{
	/* Keep in line with firmware/ (prj.conf, partitions): they must move together. */
	*cfg = (SimConfig){
		.buf_size = 2475,
		.buf_count = 4,
		.params = true,
		.smp_v2 = true,
		.progressive_erase = true,
		.image_check = true,
		.storage_erase = true,
		.verbose_errors = true,
		.slot_size = SIM_SLOT_SIZE,
		.app_version = "1.0.0",
		.hostname = "smpctl-sim",
	};
}

int sim_device_new(const SimConfig *cfg, SimDevice **out)
{
	SimDevice *dev = calloc(1, sizeof(*dev));

	if (!dev)
		return -ENOMEM;
	dev->cfg = *cfg;
	if (dev->cfg.slot_size == 0 || dev->cfg.slot_size > SIM_SLOT_SIZE)
		dev->cfg.slot_size = SIM_SLOT_SIZE;
	sim_slots_init(dev);
	*out = dev;
	return 0;
}

void sim_device_free(SimDevice *dev)
{
	free(dev);
}

/* Over SMP v1, group errors become SMP-level codes (img_mgmt_translate_error_code() and its siblings). */
static int32_t translate_v1(uint16_t group, int32_t rc)
{
	if (group == SMP_GROUP_IMAGE) {
		switch (rc) {
		case SMP_IMG_NO_IMAGE: case SMP_IMG_NO_TLVS: return SMP_RC_ENOENT;
		case SMP_IMG_NO_FREE_SLOT: case SMP_IMG_CURRENT_VERSION_IS_NEWER: case SMP_IMG_IMAGE_ALREADY_PENDING:
			return SMP_RC_EBADSTATE;
		case SMP_IMG_NO_FREE_MEMORY: return SMP_RC_ENOMEM;
		case SMP_IMG_INVALID_SLOT: case SMP_IMG_INVALID_PAGE_OFFSET: case SMP_IMG_INVALID_OFFSET:
		case SMP_IMG_INVALID_LENGTH: case SMP_IMG_INVALID_IMAGE_HEADER: case SMP_IMG_INVALID_HASH:
		case SMP_IMG_INVALID_FLASH_ADDRESS:
			return SMP_RC_EINVAL;
		default: return SMP_RC_EUNKNOWN;
		}
	}
	if (group == SMP_GROUP_ZEPHYR_BASIC)
		/* Zephyr's quirk (REFERENCE.md §3): a failed erase looks like success over v1. */
		return rc == SMP_ZBASIC_FLASH_OPEN_FAILED ? SMP_RC_ENOENT : rc == SMP_ZBASIC_UNKNOWN ? SMP_RC_EUNKNOWN : 0;
	if (group == SMP_GROUP_OS && rc == 2)
		return SMP_RC_EINVAL;
	return SMP_RC_EUNKNOWN;
}

static void put_status(SimDevice *dev, SmpCborWriter *w, const SmpHeader *h, SimStatus st)
{
	int32_t rc = st.rc;

	if (!rc && st.group_rc && h->version >= SMP_VERSION_2 && dev->cfg.smp_v2) {
		/* SMP v2: {"err": {"group": G, "rc": R}} */
		smp_cbor_put_text(w, "err");
		smp_cbor_put_indef_map(w);
		smp_cbor_put_text(w, "group");
		smp_cbor_put_uint(w, st.group);
		smp_cbor_put_text(w, "rc");
		smp_cbor_put_int(w, st.group_rc);
		smp_cbor_put_break(w);
		return;
	}
	if (!rc && st.group_rc)
		rc = translate_v1(st.group, st.group_rc);
	if (rc || dev->cfg.legacy_rc) {
		smp_cbor_put_text(w, "rc");
		smp_cbor_put_int(w, rc);
	}
	if (rc && st.rsn && dev->cfg.verbose_errors) {
		smp_cbor_put_text(w, "rsn");
		smp_cbor_put_text(w, st.rsn);
	}
}

static SimStatus dispatch(SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	switch (req->header->group) {
	case SMP_GROUP_OS: return sim_os_handle(dev, req, w);
	case SMP_GROUP_IMAGE: return sim_image_handle(dev, req, w);
	case SMP_GROUP_ZEPHYR_BASIC: return sim_zbasic_handle(dev, req, w);
	default: return SIM_RC(SMP_RC_ENOTSUP);
	}
}

/* Writes a whole response frame for status-only answers (rc 7, 9, 13…). */
static size_t status_frame(SimDevice *dev, const SmpHeader *req, SimStatus st, uint8_t *out, size_t out_size)
{
	SmpHeader h = *req;
	SmpCborWriter w;

	smp_cbor_writer_init(&w, out + SMP_HEADER_SIZE, out_size - SMP_HEADER_SIZE);
	smp_cbor_put_indef_map(&w);
	put_status(dev, &w, req, st);
	smp_cbor_put_break(&w);
	h.op = (uint8_t)(req->op | 1);
	h.version = dev->cfg.smp_v2 ? MIN(req->version, (uint8_t)SMP_VERSION_2) : SMP_VERSION_1;
	h.len = (uint16_t)w.len;
	smp_header_encode(&h, out);
	return SMP_HEADER_SIZE + w.len;
}

static size_t handle_frame(SimDevice *dev, const SmpHeader *h, const uint8_t *body, uint8_t *out, size_t out_size)
{
	_cleanup_(smp_cbor_freep) cbor_item_t *item = NULL;
	SmpHeader rh = *h;
	SmpCborWriter w;
	SimStatus st;

	if (h->version > SMP_VERSION_2 && dev->cfg.smp_v2)
		return status_frame(dev, h, SIM_RC(SMP_RC_UNSUPPORTED_TOO_NEW), out, out_size);
	if (h->op != SMP_OP_READ && h->op != SMP_OP_WRITE)
		return status_frame(dev, h, SIM_RC(SMP_RC_ENOTSUP), out, out_size);
	if (smp_cbor_decode(body, h->len, &item) < 0 || !cbor_isa_map(item))
		return status_frame(dev, h, SIM_RC(SMP_RC_EINVAL), out, out_size);
	rh.version = dev->cfg.smp_v2 ? MIN(h->version, (uint8_t)SMP_VERSION_2) : SMP_VERSION_1;
	smp_cbor_writer_init(&w, out + SMP_HEADER_SIZE, out_size - SMP_HEADER_SIZE);
	smp_cbor_put_indef_map(&w);
	st = dispatch(dev, &(SimRequest){ .header = &rh, .body = item }, &w);
	if (st.rc || st.group_rc) {
		/* Errors carry only the status: start the body again. */
		smp_cbor_writer_init(&w, out + SMP_HEADER_SIZE, out_size - SMP_HEADER_SIZE);
		smp_cbor_put_indef_map(&w);
	}
	put_status(dev, &w, &rh, st);
	smp_cbor_put_break(&w);
	/* The answer must fit the device's buffer too (REFERENCE.md §11: rc 7). */
	if (w.overflow || SMP_HEADER_SIZE + w.len > dev->cfg.buf_size)
		return status_frame(dev, h, SIM_RC(SMP_RC_EMSGSIZE), out, out_size);
	rh.op = (uint8_t)(h->op + 1);
	rh.len = (uint16_t)w.len;
	smp_header_encode(&rh, out);
	return SMP_HEADER_SIZE + w.len;
}

uint64_t sim_device_process(SimDevice *dev, const uint8_t *buf, size_t len, SimEmitFn emit, void *userdata)
{
	uint8_t *out = dev->reply;
	const size_t out_size = sizeof(dev->reply);
	uint64_t spent = 0;

	while (len >= SMP_HEADER_SIZE) {
		SmpHeader h;
		size_t frame_len, n;

		smp_header_decode(buf, len, &h);
		frame_len = SMP_HEADER_SIZE + (size_t)h.len;
		if (frame_len > len || frame_len > dev->cfg.buf_size) {
			/* Oversized or truncated frame (smp.c): rc 9, and the rest of the buffer is dropped. */
			n = status_frame(dev, &h, SIM_RC(SMP_RC_ECORRUPT), out, out_size);
			emit(userdata, out, n);
			break;
		}
		dev->flash_usec = 0;
		n = handle_frame(dev, &h, buf + SMP_HEADER_SIZE, out, out_size);
		spent += dev->flash_usec;
		emit(userdata, out, n);
		buf += frame_len;
		len -= frame_len;
	}
	return spent;
}

bool sim_device_take_reset(SimDevice *dev, uint64_t *offline_usec)
{
	if (!dev->reset_requested)
		return false;
	dev->reset_requested = false;
	/* ~250 ms until the device drops off (§11), MCUboot's swap or revert (§13), then the boot. */
	*offline_usec = 250 * 1000 + sim_swap_usec(sim_swap_image_bytes(dev)) + 300 * 1000;
	return true;
}

void sim_device_reboot(SimDevice *dev)
{
	dev->upload = (SimUpload){ 0 }; /* upload sessions live in RAM */
	sim_boot(dev);
}

uint64_t sim_device_upload_offset(const SimDevice *dev)
{
	return dev->upload.active ? dev->upload.off : 0;
}
