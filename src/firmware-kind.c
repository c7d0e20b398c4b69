/* SPDX-License-Identifier: MIT */
/* Application or MCUboot serial recovery, from what the device answers (firmware-kind.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "firmware-kind.h"
#include "mgmt.h"
#include "smp.h"

static const uint8_t empty_map[] = { 0xa0 };

static int probe_cons_echo_ctrl(Device *d)
{
	SmpResponse rsp = { 0 };
	int r = device_request(d, SMP_OP_WRITE, SMP_GROUP_OS, 1, empty_map, sizeof(empty_map), &rsp);

	smp_response_clear(&rsp);
	return r == 0 ? 1 : r == DEVICE_STATUS_ERROR ? 0 : r;
}

static void probe_image_list(Device *d, FirmwareProbe *p)
{
	MgmtImageList list;

	p->image_list = device_image_list(d, &list) == 0;
	for (size_t i = 0; p->image_list && i < list.count; i++) {
		const MgmtImageSlot *s = &list.slots[i];

		p->list_hashes |= s->hash_len > 0;
		p->list_flags |= s->active || s->confirmed || s->bootable || s->pending;
	}
}

int firmware_probe(Device *d, FirmwareProbe *p)
{
	char text[64];
	MgmtBootloaderInfo boot;
	MgmtParams params;
	MgmtSlotInfo slots;
	int r;

	*p = (FirmwareProbe){ 0 };
	p->os_info = device_os_info(d, "s", text, sizeof(text)) == 0;
	r = probe_cons_echo_ctrl(d);
	if (r < 0 && r != -ETIMEDOUT)
		return r;
	p->cons_echo_ctrl = r < 0 ? -1 : r;
	p->bootloader_info = device_bootloader_info(d, &boot) == 0;
	p->params = device_params(d, &params) == 0;
	p->echo = device_echo(d, "?", text, sizeof(text)) == 0;
	probe_image_list(d, p);
	p->slot_info = device_slot_info(d, &slots) == 0;
	return 0;
}

int firmware_is_recovery(Device *d)
{
	FirmwareProbe p;
	char text[64], why[512];
	int r;

	/* An application with OS info says so in one request: recovery has none. */
	r = device_os_info(d, "s", text, sizeof(text));
	if (r != DEVICE_STATUS_ERROR)
		return r < 0 ? r : 0;
	r = firmware_probe(d, &p);
	if (r < 0)
		return r;
	return firmware_kind(&p, why, sizeof(why)) == FIRMWARE_SERIAL_RECOVERY;
}

static void add(char *why, size_t size, const char *text)
{
	size_t n = strlen(why);

	if (n < size)
		snprintf(why + n, size - n, "%s%s", n ? "; " : "", text);
}

/* What this recovery build can do, each from an answer. */
static void recovery_capabilities(const FirmwareProbe *p, char *why, size_t size)
{
	add(why, size, p->echo ? "echo: yes" : "echo: no (rc 8: MCUBOOT_BOOT_MGMT_ECHO off)");
	if (p->image_list) {
		add(why, size, p->list_hashes ? "hashes in the image list: yes"
					      : "hashes in the image list: no (MCUBOOT_SERIAL_IMG_GRP_HASH off)");
		add(why, size, p->list_flags ? "test/confirm: yes (slot flags listed)"
					     : "test/confirm: no (no slot flags: MCUBOOT_SERIAL_IMG_GRP_IMAGE_STATE off)");
	}
	add(why, size, p->slot_info ? "slot info: yes" : "slot info: no (rc 8)");
	add(why, size, "uploads go to the primary slot");
}

FirmwareKind firmware_kind(const FirmwareProbe *p, char *why, size_t size)
{
	why[0] = '\0';
	if (p->cons_echo_ctrl == 1 && !p->os_info) {
		add(why, size, "it answers console echo control (OS command 1) with rc 0, as only MCUboot's "
			       "boot_serial.c does, and has no OS info");
		recovery_capabilities(p, why, size);
		return FIRMWARE_SERIAL_RECOVERY;
	}
	if (p->os_info) {
		add(why, size, "it answers OS info, which MCUboot's serial recovery does not have");
		return FIRMWARE_APPLICATION;
	}
	if (p->cons_echo_ctrl == 0) {
		add(why, size, "it refuses console echo control (OS command 1) as Zephyr's os_mgmt does; "
			       "MCUboot's serial recovery accepts it");
		return FIRMWARE_APPLICATION;
	}
	add(why, size, "neither OS info nor console echo control answered");
	return FIRMWARE_UNKNOWN;
}

const char *firmware_kind_name(FirmwareKind k)
{
	switch (k) {
	case FIRMWARE_APPLICATION: return "application";
	case FIRMWARE_SERIAL_RECOVERY: return "serial recovery";
	default: return "unknown";
	}
}
