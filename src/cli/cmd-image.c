/* SPDX-License-Identifier: MIT */
/* Image group commands: list, slots, test, confirm, erase (upload lives in cmd-upload.c). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "firmware-kind.h"
#include "smp-error.h"
#include "util.h"

#define _cleanup_device_ _cleanup_(device_freep)

static void slot_flags_text(const MgmtImageSlot *s, char *out, size_t size)
{
	snprintf(out, size, "%s%s%s%s%s", s->active ? "active " : "", s->confirmed ? "confirmed " : "",
		 s->pending ? "pending " : "", s->permanent ? "permanent " : "", s->bootable ? "bootable" : "");
	if (size && out[0] && out[strlen(out) - 1] == ' ')
		out[strlen(out) - 1] = '\0';
}

void cli_json_image_list(JsonWriter *j, const MgmtImageList *list)
{
	json_begin_array(j);
	for (size_t i = 0; i < list->count; i++) {
		const MgmtImageSlot *s = &list->slots[i];
		char version[MGMT_VERSION_TEXT + 8];

		mgmt_version_text(s->version, version, sizeof(version));
		json_begin_object(j);
		json_key(j, "image"); json_uint(j, s->image);
		json_key(j, "slot"); json_uint(j, s->slot);
		json_key(j, "version"); json_string(j, version);
		json_key(j, "hash"); json_hex(j, s->hash, s->hash_len);
		json_key(j, "bootable"); json_bool(j, s->bootable);
		json_key(j, "pending"); json_bool(j, s->pending);
		json_key(j, "confirmed"); json_bool(j, s->confirmed);
		json_key(j, "active"); json_bool(j, s->active);
		json_key(j, "permanent"); json_bool(j, s->permanent);
		json_end_object(j);
	}
	json_end_array(j);
}

void cli_print_image_list(Cli *cli, const MgmtImageList *list)
{
	if (cli->json) {
		json_begin_object(&cli->json_out);
		json_key(&cli->json_out, "images");
		cli_json_image_list(&cli->json_out, list);
		if (list->has_split_status) {
			json_key(&cli->json_out, "split_status");
			json_int(&cli->json_out, list->split_status);
		}
		json_end_object(&cli->json_out);
		json_end_line(&cli->json_out);
		return;
	}
	if (list->count == 0) {
		printf("No images reported.\n");
		return;
	}
	printf("%-5s %-4s %-14s %-34s %s\n", "IMAGE", "SLOT", "VERSION", "FLAGS", "HASH");
	for (size_t i = 0; i < list->count; i++) {
		const MgmtImageSlot *s = &list->slots[i];
		char flags[80], version[MGMT_VERSION_TEXT + 8], hash[2 * MGMT_HASH_MAX + 1];

		slot_flags_text(s, flags, sizeof(flags));
		mgmt_version_text(s->version, version, sizeof(version));
		printf("%-5u %-4u %-14s %-34s %s\n", s->image, s->slot, version, flags[0] ? flags : "-",
		       hex_encode(s->hash, s->hash_len, hash));
	}
}

/* --image N: only image N's entries (a single-image device lists everything as image 0). */
static void image_list_keep(MgmtImageList *list, uint32_t image)
{
	size_t kept = 0;

	for (size_t i = 0; i < list->count; i++)
		if (list->slots[i].image == image)
			list->slots[kept++] = list->slots[i];
	list->count = kept;
}

int cmd_image_list(Cli *cli)
{
	_cleanup_device_ Device *d = NULL;
	MgmtImageList list;
	int r = cli_open_device(cli, &d);

	if (r)
		return r;
	r = device_image_list(d, &list);
	if (r)
		return cli_device_fail(cli, d, r);
	if (cli->image_given)
		image_list_keep(&list, cli->image);
	cli_print_image_list(cli, &list);
	return EXIT_OK;
}

static void json_slot_info(JsonWriter *j, const MgmtSlotInfo *info)
{
	json_begin_object(j);
	json_key(j, "images");
	json_begin_array(j);
	for (size_t i = 0; i < info->count; i++) {
		const MgmtSlotInfoImage *img = &info->images[i];

		json_begin_object(j);
		json_key(j, "image"); json_uint(j, img->image);
		json_key(j, "slots");
		json_begin_array(j);
		for (size_t k = 0; k < img->slot_count; k++) {
			const MgmtSlotInfoSlot *s = &img->slots[k];

			json_begin_object(j);
			json_key(j, "slot"); json_uint(j, s->slot);
			if (s->has_size) {
				json_key(j, "size"); json_uint(j, s->size);
			}
			if (s->has_upload_image_id) {
				json_key(j, "upload_image_id"); json_uint(j, s->upload_image_id);
			}
			if (s->has_rc) {
				json_key(j, "rc"); json_int(j, s->rc);
			}
			json_end_object(j);
		}
		json_end_array(j);
		if (img->has_max_image_size) {
			json_key(j, "max_image_size"); json_uint(j, img->max_image_size);
		}
		json_end_object(j);
	}
	json_end_array(j);
	json_end_object(j);
	json_end_line(j);
}

static void print_slot_info(const MgmtSlotInfo *info)
{
	if (info->count == 0) {
		printf("No images reported.\n");
		return;
	}
	printf("%-5s %-4s %-24s %s\n", "IMAGE", "SLOT", "SIZE", "USE");
	for (size_t i = 0; i < info->count; i++) {
		const MgmtSlotInfoImage *img = &info->images[i];

		for (size_t k = 0; k < img->slot_count; k++) {
			const MgmtSlotInfoSlot *s = &img->slots[k];
			char size[64] = "-", use[48] = "-";

			if (s->has_size)
				snprintf(size, sizeof(size), "%" PRIu64 " (%.1f KiB)", s->size, (double)s->size / 1024);
			if (s->has_rc)
				snprintf(use, sizeof(use), "unreadable (flash error %" PRId64 ")", s->rc);
			else if (s->has_upload_image_id)
				snprintf(use, sizeof(use), "takes uploads (--image %" PRIu32 ")", s->upload_image_id);
			printf("%-5" PRIu32 " %-4" PRIu32 " %-24s %s\n", img->image, s->slot, size, use);
		}
		if (img->has_max_image_size)
			printf("Image %" PRIu32 ": the device accepts images of at most %" PRIu64 " bytes (%.1f KiB).\n",
			       img->image, img->max_image_size, (double)img->max_image_size / 1024);
	}
}

static void slot_info_keep(MgmtSlotInfo *info, uint32_t image)
{
	size_t kept = 0;

	for (size_t i = 0; i < info->count; i++)
		if (info->images[i].image == image)
			info->images[kept++] = info->images[i];
	info->count = kept;
}

int cmd_image_slots(Cli *cli)
{
	_cleanup_device_ Device *d = NULL;
	MgmtSlotInfo info;
	int r = cli_open_device(cli, &d);

	if (r)
		return r;
	r = device_slot_info(d, &info);
	if (r)
		return cli_device_fail(cli, d, r);
	if (cli->image_given)
		slot_info_keep(&info, cli->image);
	if (cli->json)
		json_slot_info(&cli->json_out, &info);
	else
		print_slot_info(&info);
	return EXIT_OK;
}

static int parse_hash_arg(Cli *cli, const char *text, uint8_t *hash, size_t *len)
{
	int n = hex_decode(text, hash, MGMT_HASH_MAX);

	if (n != 32 && n != 48 && n != 64)
		return cli_fail(cli, EXIT_USAGE,
				"'%s' is not an image hash: give the 64, 96 or 128 hex digits that "
				"'smpctl image list' shows", text);
	*len = (size_t)n;
	return 0;
}

/* After a state write, the device's answer must show the change (REFERENCE.md §5: re-marking can be a
 * silent no-op on some versions, so never trust the request alone). */
static int check_marked(Cli *cli, const MgmtImageList *list, const uint8_t *hash, size_t len, bool confirm)
{
	const MgmtImageSlot *s = hash ? mgmt_image_list_find_hash(list, hash, len) : mgmt_image_list_slot(list, 0);

	if (!s && !hash)
		return cli_fail(cli, EXIT_DEVICE, "the device accepted the confirm but lists no running image in slot 0 "
						  "(a device without MCUboot, such as native_sim, runs code that is not in "
						  "its slots): run 'smpctl image list' to see what it holds");
	if (!s)
		return cli_fail(cli, EXIT_DEVICE, "the device accepted the request but no longer lists that image: "
						  "run 'smpctl image list' and check the slot");
	if (confirm && !(s->confirmed || s->permanent))
		return cli_fail(cli, EXIT_DEVICE, "the device accepted the confirm but slot %u is neither confirmed nor "
						  "permanent: run 'smpctl image list' and reset the device to apply it", s->slot);
	if (!confirm && !s->pending && !s->active)
		return cli_fail(cli, EXIT_DEVICE, "the device accepted the test request but slot %u is not pending",
				s->slot);
	return 0;
}

/* SMP selects the image to test or confirm by its hash (smp_group_1.rst): without one on the command
 * line, the hash of what image N's secondary slot holds, from the device's own list; for a confirm, the
 * primary's when it runs a tested image not yet confirmed (confirming the secondary then would make
 * MCUboot swap the old image back for good). */
static int image_n_hash(Cli *cli, Device *d, bool confirm, uint8_t *hash, size_t *len)
{
	MgmtImageList list;
	const MgmtImageSlot *s, *primary;
	int r = device_image_list(d, &list);

	if (r)
		return cli_device_fail(cli, d, r);
	primary = mgmt_image_list_entry(&list, cli->image, 0);
	s = mgmt_image_list_entry(&list, cli->image, 1);
	if (confirm && primary && primary->active && !primary->confirmed)
		s = primary;
	if (!s || !s->hash_len)
		return cli_fail(cli, EXIT_DEVICE, "image %u's secondary slot holds no image: upload one first "
				"('smpctl upload FILE --image %u'), or give the hash", cli->image, cli->image);
	memcpy(hash, s->hash, s->hash_len);
	*len = s->hash_len;
	return 0;
}

/*
 * MCUboot's serial recovery marks slot 1 whatever the request names (boot_serial.c bs_set(), MCUboot
 * 346f7374: boot_set_pending_multi() opens the secondary slot; a hash is looked for, in slot 1, only
 * with MCUBOOT_SERIAL_IMG_GRP_HASH), and its confirm makes slot 1 permanent instead of keeping what
 * runs. So in recovery a request is sent only when it can name slot 1's image, or when the build has
 * no image state at all (no slot flags in its list), which the device then says with rc 8.
 */
static int recovery_check_mark(Cli *cli, Device *d, const uint8_t *hash, size_t len)
{
	const MgmtImageSlot *s1;
	MgmtImageList list;
	bool flags = false, hashes = false;
	int r = device_image_list(d, &list);

	if (r)
		return cli_device_fail(cli, d, r);
	for (size_t i = 0; i < list.count; i++) {
		flags |= list.slots[i].bootable || list.slots[i].active || list.slots[i].confirmed;
		hashes |= list.slots[i].hash_len > 0;
	}
	if (!flags)
		return 0;
	if (!hash)
		return cli_fail(cli, EXIT_USAGE, "in MCUboot's serial recovery a confirm without a hash would make slot 1 "
				"permanent, not keep what runs: give the hash of the image in slot 1");
	if (!hashes)
		return cli_fail(cli, EXIT_DEVICE, "this recovery build lists no hashes (MCUBOOT_SERIAL_IMG_GRP_HASH off), "
				"so it would mark slot 1 whatever it holds: nothing was sent");
	s1 = mgmt_image_list_slot(&list, 1);
	if (!s1 || s1->hash_len != len || memcmp(s1->hash, hash, len) != 0)
		return cli_fail(cli, EXIT_DEVICE, "MCUboot's serial recovery marks only slot 1, which does not hold that "
				"image: nothing was sent");
	return 0;
}

/* rc 8 to a state write from recovery: a build without MCUBOOT_SERIAL_IMG_GRP_IMAGE_STATE. */
static int mark_failed(Cli *cli, Device *d, int r, bool recovery)
{
	if (recovery && r == DEVICE_STATUS_ERROR && d->status.kind == SMP_STATUS_RC && d->status.rc == SMP_RC_ENOTSUP)
		return cli_fail(cli, EXIT_DEVICE, "this recovery build cannot mark images (rc 8: MCUboot built without "
				"MCUBOOT_SERIAL_IMG_GRP_IMAGE_STATE): the image in slot 0 boots as it is");
	return cli_device_fail(cli, d, r);
}

static int image_mark(Cli *cli, const char *hash_text, bool confirm)
{
	_cleanup_device_ Device *d = NULL;
	uint8_t hash[MGMT_HASH_MAX];
	size_t len = 0;
	MgmtImageList list;
	/* confirm without a hash or --image confirms the running image ({"confirm": true}) */
	bool by_hash = hash_text || !confirm || cli->image_given;
	const uint8_t *named;
	int r, recovery;

	if (hash_text) {
		r = parse_hash_arg(cli, hash_text, hash, &len);
		if (r)
			return r;
	}
	r = cli_open_device(cli, &d);
	if (r)
		return r;
	recovery = firmware_is_recovery(d);
	if (recovery < 0)
		return cli_device_fail(cli, d, recovery);
	/* In recovery a confirm names slot 1's image only when given (recovery_check_mark says why). */
	if (recovery && confirm && !hash_text)
		by_hash = false;
	if (!hash_text && by_hash) {
		r = image_n_hash(cli, d, confirm, hash, &len);
		if (r)
			return r;
	}
	named = by_hash ? hash : NULL;
	r = recovery ? recovery_check_mark(cli, d, named, len) : 0;
	if (r)
		return r;
	r = device_image_state_write(d, named, len, confirm, &list);
	if (r)
		return mark_failed(cli, d, r, recovery);
	r = check_marked(cli, &list, named, len, confirm);
	if (r)
		return r;
	cli_print_image_list(cli, &list);
	if (!cli->json && !confirm)
		fprintf(stderr, "Marked for test: the device runs it after its next reset ('smpctl reset') and "
				"reverts unless it is confirmed.\n");
	return EXIT_OK;
}

int cmd_image_test(Cli *cli)
{
	return image_mark(cli, cli->nargs ? cli->args[0] : NULL, false);
}

int cmd_image_confirm(Cli *cli)
{
	return image_mark(cli, cli->nargs ? cli->args[0] : NULL, true);
}

/* img_mgmt_erase(): "slot" counts every image's slots (image N has 2N and 2N + 1). --slot S, or the SLOT
 * argument of old; *given false: neither, erase_default_slot() picks it. */
static int erase_slot(Cli *cli, unsigned long *slot, bool *given)
{
	char *end;

	*given = true;
	if (cli->slot_given && cli->nargs)
		return cli_fail(cli, EXIT_USAGE, "give the slot once: --slot S");
	if (cli->slot_given) {
		*slot = cli->slot;
	} else if (cli->nargs) {
		*slot = strtoul(cli->args[0], &end, 10);
		if (*end || end == cli->args[0] || *slot > 15)
			return cli_fail(cli, EXIT_USAGE, "'%s' is not a slot number (0 or 1 on most devices)", cli->args[0]);
	} else {
		*given = false;
		return 0;
	}
	/* "--image 1 --slot 1" would erase image 0's secondary: say so rather than erase the wrong image. */
	if (cli->image_given && *slot / 2 != cli->image)
		return cli_fail(cli, EXIT_USAGE, "slot %lu belongs to image %lu, not image %u: image %u has slots %u and %u "
				"(--slot counts every image's slots)", *slot, *slot / 2, cli->image, cli->image,
				2 * cli->image, 2 * cli->image + 1);
	return 0;
}

/* Zephyr 4.1 img_mgmt_erase() without "slot" erases the slot opposite the running one (slot 0 while
 * direct-xip runs slot 1), not always slot 1: the image list tells which runs, and the slot is then sent by
 * number, so that the slot reported is the one the device erased. */
static int erase_default_slot(Device *d, uint32_t image, unsigned long *slot)
{
	MgmtImageList list;
	const MgmtImageSlot *s1;
	int r = device_image_list(d, &list);

	if (r)
		return r;
	s1 = mgmt_image_list_entry(&list, image, 1);
	*slot = 2ul * image + (s1 && s1->active ? 0 : 1);
	return 0;
}

int cmd_image_erase(Cli *cli)
{
	_cleanup_device_ Device *d = NULL;
	unsigned long slot = 1;
	bool given = false;
	int r = erase_slot(cli, &slot, &given);

	if (!r)
		r = cli_open_device(cli, &d);
	if (r)
		return r;
	r = given ? 0 : erase_default_slot(d, cli->image_given ? cli->image : 0, &slot);
	if (!r)
		r = device_image_erase(d, (int)slot);
	if (r)
		return cli_device_fail(cli, d, r);
	if (cli->json) {
		json_begin_object(&cli->json_out);
		json_key(&cli->json_out, "erased_slot");
		json_uint(&cli->json_out, slot);
		json_end_object(&cli->json_out);
		json_end_line(&cli->json_out);
	} else {
		printf("Slot %lu erased.\n", slot);
	}
	return EXIT_OK;
}
