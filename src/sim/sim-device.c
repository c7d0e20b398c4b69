/* SPDX-License-Identifier: MIT */
/* The simulated device: SMP framing and dispatch as Zephyr 4.1's smp.c does it (REFERENCE.md §1, §3, §11). */
#include <errno.h>
#include <stdlib.h>
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
		.progressive_erase = false, /* erase-ahead issue: a blank slot is written without erasing */
		.image_check = true,
		.storage_erase = true,
		.bootloader_info = true,
		.verbose_errors = true,
		.slot_info = true,
		.stat = true,
		.slot_size = SIM_SLOT_SIZE,
		.update_footer = SIM_UPDATE_FOOTER,
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
	if (dev->cfg.images == 0 || dev->cfg.images > SIM_IMAGES_MAX)
		dev->cfg.images = 1;
	if (dev->cfg.slot_size == 0 || dev->cfg.slot_size > SIM_SLOT_SIZE)
		dev->cfg.slot_size = SIM_SLOT_SIZE;
	if (dev->cfg.update_footer >= dev->cfg.slot_size)
		dev->cfg.update_footer = 0;
	/* Direct-xip: one image, nothing that swaps or erases the other slot (SimConfig.direct_xip). */
	if (dev->cfg.direct_xip) {
		dev->cfg.images = 1;
		dev->cfg.new_image_crashes = dev->cfg.power_loss_in_swap = false;
		dev->cfg.idle_erase_ms = 0;
	}
	if (dev->cfg.buf_size < SMP_HEADER_SIZE + 2)
		dev->cfg.buf_size = SMP_HEADER_SIZE + 2;
	sim_slots_init(dev);
	if (sim_settings_new(dev) < 0) {
		sim_device_free(dev);
		return -ENOMEM;
	}
	sim_settings_boot(dev);
	sim_idle_erase_booted(dev);
	*out = dev;
	return 0;
}

void sim_device_free(SimDevice *dev)
{
	if (dev) {
		sim_fs_free(dev);
		sim_settings_free(dev);
	}
	free(dev);
}

/* img_mgmt_translate_error_code() (img_mgmt.c). */
static int32_t translate_image(int32_t rc)
{
	switch (rc) {
	case SMP_IMG_NO_IMAGE: case SMP_IMG_NO_TLVS:
		return SMP_RC_ENOENT;
	case SMP_IMG_NO_FREE_SLOT: case SMP_IMG_CURRENT_VERSION_IS_NEWER: case SMP_IMG_IMAGE_ALREADY_PENDING:
		return SMP_RC_EBADSTATE;
	case SMP_IMG_NO_FREE_MEMORY:
		return SMP_RC_ENOMEM;
	case SMP_IMG_INVALID_SLOT: case SMP_IMG_INVALID_PAGE_OFFSET: case SMP_IMG_INVALID_OFFSET:
	case SMP_IMG_INVALID_LENGTH: case SMP_IMG_INVALID_IMAGE_HEADER: case SMP_IMG_INVALID_HASH:
	case SMP_IMG_INVALID_FLASH_ADDRESS:
		return SMP_RC_EINVAL;
	default: /* magic, too large, overrun, hash not found… all EUNKNOWN (§11: {"rc":1,"rsn":"magic mismatch"}) */
		return SMP_RC_EUNKNOWN;
	}
}

/* Over SMP v1, group errors become SMP-level codes: the groups' mg_translate_error functions. */
static int32_t translate_v1(uint16_t group, int32_t rc)
{
	switch (group) {
	case SMP_GROUP_IMAGE:
		return translate_image(rc);
	case SMP_GROUP_OS: /* os_mgmt_translate_error_code(): INVALID_FORMAT, QUERY_YIELDS_NO_ANSWER/RTC_NOT_SET */
		return rc == 2 ? SMP_RC_EINVAL : rc == 3 || rc == 4 ? SMP_RC_ENOENT : SMP_RC_EUNKNOWN;
	case SMP_GROUP_FS: /* fs_mgmt_translate_error_code() */
		return rc == 2 || rc == 13 ? SMP_RC_EINVAL : rc == 3 || rc == 14 ? SMP_RC_ENOENT : SMP_RC_EUNKNOWN;
	case SMP_GROUP_SETTINGS: /* settings_mgmt_translate_error_code(): KEY_TOO_LONG; KEY_NOT_FOUND, READ_NOT_SUPPORTED */
		return rc == 2 ? SMP_RC_EINVAL : rc == 3 || rc == 4 ? SMP_RC_ENOENT : SMP_RC_EUNKNOWN;
	case SMP_GROUP_SHELL: /* shell_mgmt_translate_error_code(): COMMAND_TOO_LONG, EMPTY_COMMAND */
	case SMP_GROUP_ENUM:  /* enum_mgmt_translate_error_code(): TOO_MANY_GROUP_ENTRIES */
		return rc == 2 || (group == SMP_GROUP_SHELL && rc == 3) ? SMP_RC_EINVAL : SMP_RC_EUNKNOWN;
	case SMP_GROUP_ZEPHYR_BASIC:
		/* Zephyr's quirk (REFERENCE.md §3): a failed erase translates to 0. */
		if (rc == SMP_ZBASIC_FLASH_OPEN_FAILED)
			return SMP_RC_ENOENT;
		return rc == SMP_ZBASIC_FLASH_CONFIG_QUERY_FAIL || rc == SMP_ZBASIC_FLASH_ERASE_FAILED ? 0 : SMP_RC_EUNKNOWN;
	default:
		return SMP_RC_EUNKNOWN;
	}
}

/* smp_rsp_op(): read → read response, anything else → write response. */
static uint8_t response_op(uint8_t op)
{
	return op == SMP_OP_READ ? SMP_OP_READ_RSP : SMP_OP_WRITE_RSP;
}

/* smp_make_rsp_hdr(): the version is min(request, v2); a pre-v2 server always answers version 0. */
static uint8_t response_version(const SimDevice *dev, uint8_t version)
{
	return dev->cfg.smp_v2 ? MIN(version, (uint8_t)SMP_VERSION_2) : SMP_VERSION_1;
}

static size_t finish_frame(SimDevice *dev, const SmpHeader *req, size_t body_len)
{
	SmpHeader h = {
		.op = response_op(req->op),
		.version = response_version(dev, req->version),
		.len = (uint16_t)body_len,
		.group = req->group,
		.seq = req->seq,
		.id = req->id,
	};

	smp_header_encode(&h, dev->reply);
	return SMP_HEADER_SIZE + body_len;
}

/* smp_build_err_rsp(): {"rc": N, "rsn"?} in a fresh buffer. It always fits: buf_size ≥ 10 bytes, and
 * the model's reply buffer is larger still when a reason makes it longer. */
static size_t error_frame(SimDevice *dev, const SmpHeader *req, int32_t rc, const char *rsn)
{
	SmpCborWriter w;

	smp_cbor_writer_init(&w, dev->reply + SMP_HEADER_SIZE, sizeof(dev->reply) - SMP_HEADER_SIZE);
	smp_cbor_put_indef_map(&w);
	smp_cbor_put_text(&w, "rc");
	smp_cbor_put_int(&w, rc);
	if (rsn && dev->cfg.verbose_errors) {
		smp_cbor_put_text(&w, "rsn");
		smp_cbor_put_text(&w, rsn);
	}
	smp_cbor_put_break(&w);
	return finish_frame(dev, req, w.len);
}

/* smp_add_cmd_err(): {"err": {"group": G, "rc": R}} as the whole body of a successful answer. */
static void put_group_error(SmpCborWriter *w, SimStatus st)
{
	smp_cbor_put_text(w, "err");
	smp_cbor_put_indef_map(w);
	smp_cbor_put_text(w, "group");
	smp_cbor_put_uint(w, st.group);
	smp_cbor_put_text(w, "rc");
	smp_cbor_put_uint(w, (uint64_t)st.group_rc);
	smp_cbor_put_break(w);
}

static SimStatus dispatch(SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	switch (req->header->group) {
	case SMP_GROUP_OS: return sim_os_handle(dev, req, w);
	case SMP_GROUP_IMAGE: return sim_image_handle(dev, req, w);
	case SMP_GROUP_ZEPHYR_BASIC: return sim_zbasic_handle(dev, req, w);
	case SMP_GROUP_STAT: return sim_stat_handle(dev, req, w);
	case SMP_GROUP_SHELL: return sim_shell_handle(dev, req, w);
	case SMP_GROUP_ENUM: return sim_enum_handle(dev, req, w);
	case SMP_GROUP_FS: return sim_fs_handle(dev, req, w);
	case SMP_GROUP_SETTINGS: return sim_settings_handle(dev, req, w);
	default: return SIM_RC(SMP_RC_ENOTSUP);
	}
}

/* A v2 group error is a successful answer; over v1 (or from a pre-v2 server) it becomes an error
 * answer with the translated rc (smp_handle_single_req). */
static bool group_error_as_rc(const SimDevice *dev, const SmpHeader *h)
{
	return !dev->cfg.smp_v2 || h->version == SMP_VERSION_1;
}

/* smp_handle_single_req(): one read/write request. Returns the answer's length in dev->reply and
 * whether it is an error answer, which ends the buffer. */
static size_t handle_request(SimDevice *dev, const SmpHeader *h, const uint8_t *body, bool *failed)
{
	_cleanup_(smp_cbor_freep) cbor_item_t *item = NULL;
	const size_t cap = dev->cfg.buf_size - SMP_HEADER_SIZE;
	SmpCborWriter w;
	SimStatus st;

	*failed = true;
	if (dev->cfg.smp_v2 && h->version > SMP_VERSION_2)
		return error_frame(dev, h, SMP_RC_UNSUPPORTED_TOO_NEW, NULL);
	if (smp_cbor_decode(body, h->len, &item) == 0 && !cbor_isa_map(item))
		smp_cbor_freep(&item);
	smp_cbor_writer_init(&w, dev->reply + SMP_HEADER_SIZE, cap);
	smp_cbor_put_indef_map(&w);
	st = dispatch(dev, &(SimRequest){ .header = h, .body = item }, &w);
	if (st.rc)
		return error_frame(dev, h, st.rc, st.rsn);
	if (st.group_rc && group_error_as_rc(dev, h))
		return error_frame(dev, h, translate_v1(st.group, st.group_rc), st.rsn);
	if (st.group_rc) {
		smp_cbor_writer_init(&w, dev->reply + SMP_HEADER_SIZE, cap);
		smp_cbor_put_indef_map(&w);
		put_group_error(&w, st);
		if (st.extra_key) {
			smp_cbor_put_text(&w, st.extra_key);
			smp_cbor_put_uint(&w, st.extra_value);
		}
	} else if (dev->cfg.legacy_rc) {
		smp_cbor_put_text(&w, "rc");
		smp_cbor_put_int(&w, 0);
	}
	smp_cbor_put_break(&w);
	/* The answer is built in a buf_size net_buf: one that does not fit is EMSGSIZE (§11: rc 7). */
	if (w.overflow)
		return error_frame(dev, h, SMP_RC_EMSGSIZE, NULL);
	*failed = false;
	return finish_frame(dev, h, w.len);
}

/* smp_process_request_packet(): frames in order until the buffer ends or one fails. */
uint64_t sim_device_process(SimDevice *dev, const uint8_t *buf, size_t len, SimEmitFn emit, void *userdata)
{
	uint64_t spent = 0;

	len = MIN(len, (size_t)dev->cfg.buf_size);
	/* Fewer bytes than a header: ECORRUPT without a valid header, so nothing is sent. */
	while (len >= SMP_HEADER_SIZE) {
		SmpHeader h;
		bool failed = true;
		size_t n;

		smp_header_decode(buf, len, &h);
		buf += SMP_HEADER_SIZE;
		len -= SMP_HEADER_SIZE;
		dev->flash_usec = 0;
		if (h.len > len)
			n = error_frame(dev, &h, SMP_RC_ECORRUPT, NULL); /* truncated or over buf_size */
		else if (h.op != SMP_OP_READ && h.op != SMP_OP_WRITE)
			n = error_frame(dev, &h, SMP_RC_ENOTSUP, NULL); /* a response: no SMP client here */
		else
			n = handle_request(dev, &h, buf, &failed);
		spent += dev->flash_usec;
		emit(userdata, dev->reply, n);
		if (failed)
			break;
		buf += h.len;
		len -= h.len;
	}
	return spent;
}

void sim_device_answer_no_buffer(SimDevice *dev, const uint8_t *buf, size_t len, SimEmitFn emit, void *userdata)
{
	sim_device_refuse(dev, buf, len, SMP_RC_ENOMEM, emit, userdata);
}

void sim_device_refuse(SimDevice *dev, const uint8_t *buf, size_t len, int32_t rc, SimEmitFn emit, void *userdata)
{
	SmpHeader h;

	if (len < SMP_HEADER_SIZE)
		return;
	smp_header_decode(buf, len, &h);
	if (h.op != SMP_OP_READ && h.op != SMP_OP_WRITE) {
		sim_device_process(dev, buf, len, emit, userdata); /* no response buffer is asked for */
		return;
	}
	emit(userdata, dev->reply, error_frame(dev, &h, rc, NULL));
}

bool sim_device_reset_requested(const SimDevice *dev)
{
	return dev->reset_requested;
}

bool sim_device_take_reset(SimDevice *dev, uint64_t *offline_usec)
{
	if (!dev->reset_requested)
		return false;
	dev->reset_requested = false;
	/* CONFIG_MCUMGR_GRP_OS_RESET_MS (250 ms) until the device drops off (§11), MCUboot's swap or revert
	 * (§13), then the application's boot. */
	*offline_usec = 250 * 1000 + sim_boot_usec(dev) + 300 * 1000;
	/* Power lost half way through the swap: MCUboot's next boot reads the swap status from the trailer
	 * and resumes where it stopped (boot_swap_image(), swap_move.c), so the slots end as after an
	 * unbroken swap (sim_device_reboot swaps them whole: never a mixed image), later by the half done
	 * again at most, a second boot and the time without power. */
	if (dev->cfg.power_loss_in_swap && !dev->power_lost && sim_boot_usec(dev) > 0) {
		dev->power_lost = true;
		*offline_usec += sim_boot_usec(dev) / 2 + SIM_POWER_OFF_USEC + 300 * 1000;
	}
	return true;
}

void sim_device_faults_off(SimDevice *dev)
{
	dev->cfg.power_loss_in_swap = false;
	dev->cfg.slow_erase_ms = 0;
}

uint64_t sim_device_take_stall_usec(SimDevice *dev)
{
	uint64_t usec = dev->stall_usec;

	dev->stall_usec = 0;
	return usec;
}

void sim_device_reboot(SimDevice *dev)
{
	dev->upload = (SimUpload){ 0 }; /* upload sessions and the RTC live in RAM */
	dev->rtc_set = false;
	dev->reset_requested = false;
	sim_boot(dev);
	sim_settings_boot(dev);
	sim_idle_erase_booted(dev);
}

uint64_t sim_device_upload_offset(const SimDevice *dev)
{
	return dev->upload.active ? dev->upload.off : 0;
}
