/* SPDX-License-Identifier: MIT */
/* OS group (0) and Zephyr basic group (63) of the simulated device (Zephyr 4.1 os_mgmt.c, basic_mgmt.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim-internal.h"
#include "smp-error.h"
#include "util.h"

enum {
	OS_ERR_INVALID_FORMAT = 2,        /* OS_MGMT_ERR_INVALID_FORMAT */
	OS_ERR_QUERY_YIELDS_NO_ANSWER = 3,
	OS_ERR_RTC_NOT_SET = 4,
	MCUBOOT_MODE_SWAP_USING_MOVE = 3, /* bootutil/boot_status.h: CONFIG_MCUBOOT_BOOTLOADER_MODE_SWAP_WITHOUT_SCRATCH */
	MCUBOOT_MODE_DIRECT_XIP = 4,      /* CONFIG_MCUBOOT_BOOTLOADER_MODE_DIRECT_XIP */
	ECHO_MAX = 65536,
};

/* os_mgmt_echo() (read and write alike): "d" → "r"; no "d" echoes "". */
static SimStatus os_echo(const SimRequest *req, SmpCborWriter *w)
{
	static char text[ECHO_MAX];
	const cbor_item_t *d;

	if (!req->body)
		return SIM_RC(SMP_RC_EINVAL);
	d = smp_cbor_map_get(req->body, "d");
	if (d && !cbor_isa_string(d))
		return SIM_RC(SMP_RC_EINVAL);
	smp_cbor_put_text(w, "r");
	if (d && cbor_string_is_definite(d)) {
		/* Byte for byte, NULs included, as zcbor_tstr_encode() does. */
		smp_cbor_put_text_n(w, (const char *)cbor_string_handle(d), cbor_string_length(d));
		return SIM_OK;
	}
	text[0] = '\0';
	if (d && smp_cbor_item_text(d, text, sizeof(text)) < 0)
		return SIM_RC(SMP_RC_EINVAL);
	smp_cbor_put_text(w, text);
	return SIM_OK;
}

static SimStatus os_params(const SimDevice *dev, SmpCborWriter *w)
{
	if (!dev->cfg.params)
		return SIM_RC(SMP_RC_ENOTSUP);
	smp_cbor_put_text(w, "buf_size");
	smp_cbor_put_uint(w, dev->cfg.buf_size);
	smp_cbor_put_text(w, "buf_count");
	smp_cbor_put_uint(w, dev->cfg.buf_count);
	return SIM_OK;
}

/* The letters of os_mgmt_info() in output order, and what each prints on the nRF52833 DK. */
typedef struct InfoField {
	char letter;
	const char *text;
} InfoField;

/* os_mgmt_info(): every letter must be known (else INVALID_FORMAT), "a" = all, nothing = "s"; the
 * fields come in a fixed order whatever the order of the letters. "b" exists only with
 * CONFIG_MCUMGR_GRP_OS_INFO_BUILD_DATE_TIME. */
static SimStatus os_info(const SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	const InfoField fields[] = {
		{ 's', "Zephyr" }, { 'n', dev->cfg.hostname }, { 'r', "v4.1.0" }, { 'v', "4.1.0" },
		{ 'b', "2025-03-07T12:00:00+0000" }, { 'm', "arm" }, { 'p', "cortex-m4" },
		{ 'i', "nrf52833dk" }, { 'o', "Zephyr" },
	};
	bool want[ARRAY_SIZE(fields)] = { false }, any = false;
	char format[1024] = "", out[512] = "";
	int r;

	if (!req->body)
		return SIM_RC(SMP_RC_EINVAL);
	r = smp_cbor_get_text(req->body, "format", format, sizeof(format));
	if (r == -EBADMSG)
		return SIM_RC(SMP_RC_EINVAL);
	if (r == -EMSGSIZE)
		return SIM_GROUP_ERR(SMP_GROUP_OS, OS_ERR_INVALID_FORMAT);
	for (const char *c = format; *c; c++) {
		bool known = false;

		for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
			bool present = fields[i].letter != 'b' || dev->cfg.info_build_date;

			if (present && (*c == fields[i].letter || *c == 'a')) {
				want[i] = any = known = true;
			}
		}
		if (!known)
			return SIM_GROUP_ERR(SMP_GROUP_OS, OS_ERR_INVALID_FORMAT);
	}
	want[0] = want[0] || !any;
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (want[i])
			snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", out[0] ? " " : "", fields[i].text);
	smp_cbor_put_text(w, "output");
	smp_cbor_put_text(w, out);
	return SIM_OK;
}

/* os_mgmt_bootloader_info(). An unknown query returns OS_MGMT_ERR_QUERY_YIELDS_NO_ANSWER as the
 * handler's result, so it reaches the client as a top-level {"rc": 3}, not as a group error (Zephyr). */
static SimStatus os_bootloader_info(const SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	char query[32] = "";
	int r;

	if (!req->body)
		return SIM_RC(SMP_RC_EINVAL);
	r = smp_cbor_get_text(req->body, "query", query, sizeof(query));
	if (r == -EBADMSG)
		return SIM_RC(SMP_RC_EINVAL);
	if (r == -ENOENT) {
		smp_cbor_put_text(w, "bootloader");
		smp_cbor_put_text(w, "MCUboot");
		return SIM_OK;
	}
	if (r < 0 || strcmp(query, "mode") != 0)
		return SIM_RC(OS_ERR_QUERY_YIELDS_NO_ANSWER);
	smp_cbor_put_text(w, "mode");
	smp_cbor_put_int(w, dev->cfg.direct_xip ? MCUBOOT_MODE_DIRECT_XIP : MCUBOOT_MODE_SWAP_USING_MOVE);
	if (dev->cfg.no_downgrade) {
		smp_cbor_put_text(w, "no-downgrade");
		smp_cbor_put_bool(w, true);
	}
	return SIM_OK;
}

/* os_mgmt_datetime_write(): "yyyy-mm-ddThh:mm:ss", each field within bounds, else rc 3. */
static bool datetime_valid(const char *s)
{
	static const int lo[] = { 1900, 1, 1, 0, 0, 0 }, hi[] = { 11899, 12, 31, 23, 59, 59 };
	const char *end = s + strlen(s);
	const char *pos = s;

	if (strlen(s) < 19 || strlen(s) >= 26)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(lo); i++) {
		char *next;
		long v;

		if (pos >= end)
			return false;
		v = strtol(pos, &next, 10);
		if (next == pos || v < lo[i] || v > hi[i])
			return false;
		pos = next + 1;
	}
	return true;
}

/* Date-time needs an RTC, which the nRF52833 DK lacks (ISSUE-NOTES 23): without one there is no
 * handler (rc 8). With one, it reads as not set until a client writes it (the model keeps no clock). */
static SimStatus os_datetime(SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	char text[32];

	if (!dev->cfg.datetime)
		return SIM_RC(SMP_RC_ENOTSUP);
	if (req->header->op == SMP_OP_READ) {
		if (!dev->rtc_set)
			return SIM_GROUP_ERR(SMP_GROUP_OS, OS_ERR_RTC_NOT_SET);
		smp_cbor_put_text(w, "datetime");
		smp_cbor_put_text(w, dev->rtc);
		return SIM_OK;
	}
	if (!req->body || smp_cbor_get_text(req->body, "datetime", text, sizeof(text)) < 0 || !datetime_valid(text))
		return SIM_RC(SMP_RC_EINVAL);
	snprintf(dev->rtc, sizeof(dev->rtc), "%.19s", text);
	dev->rtc_set = true;
	return SIM_OK;
}

/* os_mgmt_reset() with CONFIG_MCUMGR_GRP_OS_RESET_HOOK: "force" through zcbor_bool_decode(); a map that
 * does not decode (force as a number, as smp_group_0.rst describes it) leaves force false. */
static bool reset_forced(const SimRequest *req)
{
	bool force = false;

	return req->body && smp_cbor_get_bool(req->body, "force", &force) == 0 && force;
}

SimStatus sim_os_handle(SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	bool write = req->header->op == SMP_OP_WRITE;

	switch (req->header->id) {
	case SMP_OS_ECHO:
		return os_echo(req, w);
	case SMP_OS_RESET:
		if (!write)
			return SIM_RC(SMP_RC_ENOTSUP);
		if (dev->cfg.reset_veto && !reset_forced(req))
			return SIM_RC(SMP_RC_EBUSY);
		dev->reset_requested = true;
		return SIM_OK;
	case SMP_OS_PARAMS:
		return write ? SIM_RC(SMP_RC_ENOTSUP) : os_params(dev, w);
	case SMP_OS_INFO:
		return write ? SIM_RC(SMP_RC_ENOTSUP) : os_info(dev, req, w);
	case SMP_OS_BOOTLOADER_INFO:
		if (write || !dev->cfg.bootloader_info)
			return SIM_RC(SMP_RC_ENOTSUP);
		return os_bootloader_info(dev, req, w);
	case SMP_OS_DATETIME:
		return os_datetime(dev, req, w);
	case SMP_OS_TASK_STATS:
		return write ? SIM_RC(SMP_RC_ENOTSUP) : sim_os_taskstat(dev, req, w);
	default:
		return SIM_RC(SMP_RC_ENOTSUP);
	}
}

/* Zephyr basic: erase the storage partition (settings and Bluetooth bonds), 24 KiB = 6 pages. The
 * body is not read. Without CONFIG_MCUMGR_GRP_ZBASIC_STORAGE_ERASE there is no handler: rc 8. */
SimStatus sim_zbasic_handle(SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	(void)w;
	if (req->header->id != SMP_ZBASIC_ERASE_STORAGE || req->header->op != SMP_OP_WRITE || !dev->cfg.storage_erase)
		return SIM_RC(SMP_RC_ENOTSUP);
	dev->flash_usec += sim_flash_erase_usec(SIM_STORAGE_SIZE / SIM_PAGE_SIZE);
	sim_settings_erase_storage(dev);
	return SIM_OK;
}
