/* SPDX-License-Identifier: MIT */
/* OS group (0) and Zephyr basic group (63) of the simulated device (Zephyr os_mgmt.c, zephyr_basic_grp). */
#include <string.h>

#include "sim-internal.h"
#include "smp-error.h"
#include "util.h"

enum {
	OS_ERR_INVALID_FORMAT = 2,      /* OS_MGMT_ERR_INVALID_FORMAT */
	OS_ERR_QUERY_NO_ANSWER = 3,     /* OS_MGMT_ERR_QUERY_YIELDS_NO_ANSWER */
	MCUBOOT_MODE_SWAP_USING_MOVE = 3, /* "swap without scratch" in smp_group_0.rst */
};

static SimStatus os_echo(const SimRequest *req, SmpCborWriter *w)
{
	const cbor_item_t *d = smp_cbor_map_get(req->body, "d");
	char text[4096];

	if (!d || smp_cbor_item_text(d, text, sizeof(text)) < 0)
		return SIM_RC(SMP_RC_EINVAL);
	smp_cbor_put_text(w, "r");
	smp_cbor_put_text(w, text);
	return SIM_OK;
}

static SimStatus os_params(SimDevice *dev, SmpCborWriter *w)
{
	if (!dev->cfg.params)
		return SIM_RC(SMP_RC_ENOTSUP);
	smp_cbor_put_text(w, "buf_size");
	smp_cbor_put_uint(w, dev->cfg.buf_size);
	smp_cbor_put_text(w, "buf_count");
	smp_cbor_put_uint(w, dev->cfg.buf_count);
	return SIM_OK;
}

/* os_mgmt_info: the fields appear in a fixed order whatever the order of the letters (smp_group_0.rst). */
static SimStatus os_info(SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	const char *fields[9] = { "Zephyr", dev->cfg.hostname, "4.1.0", "v4.1.0", "Nov 24 2026 12:00:00", "arm",
				  "cortex-m4", "nrf52833dk/nrf52833", "Zephyr" };
	static const char letters[] = "snrvbmpio";
	char format[16] = "s", out[256] = "";
	bool want[9] = { false };

	if (smp_cbor_map_get(req->body, "format") &&
	    smp_cbor_get_text(req->body, "format", format, sizeof(format)) < 0)
		return SIM_GROUP_ERR(SMP_GROUP_OS, OS_ERR_INVALID_FORMAT, "format");
	for (const char *c = format; *c; c++) {
		const char *at = strchr(letters, *c);

		if (*c == 'a')
			memset(want, true, sizeof(want));
		else if (at)
			want[at - letters] = true;
		else
			return SIM_GROUP_ERR(SMP_GROUP_OS, OS_ERR_INVALID_FORMAT, "format");
	}
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		if (want[i]) {
			if (out[0])
				strncat(out, " ", sizeof(out) - strlen(out) - 1);
			strncat(out, fields[i], sizeof(out) - strlen(out) - 1);
		}
	smp_cbor_put_text(w, "output");
	smp_cbor_put_text(w, out);
	return SIM_OK;
}

static SimStatus os_bootloader_info(const SimRequest *req, SmpCborWriter *w)
{
	char query[32] = "";

	if (smp_cbor_map_get(req->body, "query") && smp_cbor_get_text(req->body, "query", query, sizeof(query)) < 0)
		return SIM_RC(SMP_RC_EINVAL);
	if (!query[0]) {
		smp_cbor_put_text(w, "bootloader");
		smp_cbor_put_text(w, "MCUboot");
		return SIM_OK;
	}
	if (strcmp(query, "mode") != 0)
		return SIM_GROUP_ERR(SMP_GROUP_OS, OS_ERR_QUERY_NO_ANSWER, "query");
	smp_cbor_put_text(w, "mode");
	smp_cbor_put_int(w, MCUBOOT_MODE_SWAP_USING_MOVE);
	smp_cbor_put_text(w, "no-downgrade");
	smp_cbor_put_bool(w, false);
	return SIM_OK;
}

static SimStatus os_datetime(SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	/* The nRF52833 DK has no RTC: without one Zephyr has no date-time command (ISSUE-NOTES 23). */
	if (!dev->cfg.datetime)
		return SIM_RC(SMP_RC_ENOTSUP);
	if (req->header->op == SMP_OP_READ) {
		smp_cbor_put_text(w, "datetime");
		smp_cbor_put_text(w, "2026-11-24T12:00:00");
	}
	return SIM_OK;
}

SimStatus sim_os_handle(SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	bool write = req->header->op == SMP_OP_WRITE;

	switch (req->header->id) {
	case SMP_OS_ECHO:
		return write ? os_echo(req, w) : SIM_RC(SMP_RC_ENOTSUP);
	case SMP_OS_RESET:
		if (!write)
			return SIM_RC(SMP_RC_ENOTSUP);
		dev->reset_requested = true;
		return SIM_OK;
	case SMP_OS_PARAMS:
		return write ? SIM_RC(SMP_RC_ENOTSUP) : os_params(dev, w);
	case SMP_OS_INFO:
		return write ? SIM_RC(SMP_RC_ENOTSUP) : os_info(dev, req, w);
	case SMP_OS_BOOTLOADER_INFO:
		return write ? SIM_RC(SMP_RC_ENOTSUP) : os_bootloader_info(req, w);
	case SMP_OS_DATETIME:
		return os_datetime(dev, req, w);
	default:
		return SIM_RC(SMP_RC_ENOTSUP);
	}
}

/* Zephyr basic: erase the storage partition (settings and Bluetooth bonds), 24 KiB = 6 pages. */
SimStatus sim_zbasic_handle(SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	(void)w;
	if (req->header->id != SMP_ZBASIC_ERASE_STORAGE || req->header->op != SMP_OP_WRITE || !dev->cfg.storage_erase)
		return SIM_RC(SMP_RC_ENOTSUP);
	dev->flash_usec += sim_flash_erase_usec(SIM_STORAGE_SIZE / SIM_PAGE_SIZE);
	return SIM_OK;
}
