/* SPDX-License-Identifier: MIT */
/* libFuzzer: an SMP response frame from a hostile device, through everything the client reads it with:
 * the header, the bounded CBOR decoder, the status (names, line, advice) and every management decoder,
 * those of the statistics, shell and enumeration groups included. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "mgmt.h"
#include "smp-cbor.h"
#include "smp-error.h"
#include "smp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_status(const cbor_item_t *body, const SmpHeader *h)
{
	static const uint16_t groups[] = { SMP_GROUP_OS, SMP_GROUP_IMAGE, SMP_GROUP_STAT, SMP_GROUP_FS,
					   SMP_GROUP_SHELL, SMP_GROUP_ENUM, SMP_GROUP_ZEPHYR_BASIC, SMP_STATUS_ANY_REQUEST };
	char line[256];
	SmpStatus st;

	if (smp_status_decode(body, &st) < 0)
		return;
	smp_status_format(&st, line, sizeof(line));
	smp_status_format(&st, line, 8);
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		smp_status_format_for(&st, groups[i], line, sizeof(line));
		smp_status_hint(&st, groups[i], h->id);
	}
	smp_rc_name(st.rc);
	smp_group_rc_name(st.group, st.rc);
}

/* The file system group's answers. */
static void fuzz_fs_decoders(const cbor_item_t *body)
{
	uint8_t data[64];
	MgmtFsData chunk = { .data = data, .data_size = sizeof(data) };
	MgmtFsHashTypes types;
	MgmtFsHash hash;
	uint64_t v;

	mgmt_decode_fs_off(body, &v);
	mgmt_decode_fs_len(body, &v);
	mgmt_decode_fs_download(body, &chunk);
	mgmt_decode_fs_hash(body, &hash);
	mgmt_decode_fs_hash_types(body, &types);
}

/* Statistics, shell, task stats, memory pools, enumeration: large results, so on the heap. */
static void fuzz_group_decoders(const cbor_item_t *body)
{
	MgmtStatList *stat_list = malloc(sizeof(*stat_list));
	MgmtStatGroup *stat = malloc(sizeof(*stat));
	MgmtTaskStats *tasks = malloc(sizeof(*tasks));
	MgmtMemPools *pools = malloc(sizeof(*pools));
	MgmtGroupList *groups = malloc(sizeof(*groups));
	char output[32];
	MgmtShellResult shell = { .output = output, .output_size = sizeof(output) };

	if (stat_list && stat && tasks && pools && groups) {
		mgmt_decode_stat_list(body, stat_list);
		mgmt_decode_stat_show(body, stat);
		mgmt_decode_taskstat(body, tasks);
		mgmt_decode_mpstat(body, pools);
		if (mgmt_decode_enum_groups(body, groups) == 0)
			mgmt_group_list_find(groups, SMP_GROUP_FS);
		mgmt_decode_shell_exec(body, &shell);
		fuzz_fs_decoders(body);
	}
	free(stat_list);
	free(stat);
	free(tasks);
	free(pools);
	free(groups);
}

static void fuzz_decoders(const cbor_item_t *body)
{
	MgmtParams p;
	MgmtImageList list;
	MgmtUploadRsp up;
	MgmtBootloaderInfo boot;
	MgmtSlotInfo slots;
	char text[64];

	mgmt_decode_params(body, &p);
	if (mgmt_decode_image_list(body, &list) == 0) {
		mgmt_image_list_slot(&list, 1);
		for (size_t i = 0; i < list.count; i++)
			mgmt_image_list_find_hash(&list, list.slots[i].hash, list.slots[i].hash_len);
	}
	mgmt_decode_upload_rsp(body, &up);
	mgmt_decode_slot_info(body, &slots);
	if (mgmt_decode_bootloader_info(body, &boot) == 0 && boot.has_mode)
		mgmt_bootloader_mode_name(boot.mode);
	mgmt_decode_echo(body, text, sizeof(text));
	mgmt_decode_os_info(body, text, 3);
	mgmt_decode_datetime(body, text, sizeof(text));
	fuzz_group_decoders(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cbor_item_t *body = NULL;
	size_t body_len;
	SmpHeader h;

	if (smp_header_decode(data, size, &h) < 0)
		return 0;
	/* As the client reads it: the header's length when the bytes are there, else all that came. */
	body_len = size - SMP_HEADER_SIZE >= h.len ? h.len : size - SMP_HEADER_SIZE;
	if (smp_cbor_decode(data + SMP_HEADER_SIZE, body_len, &body) < 0)
		return 0;
	fuzz_status(body, &h);
	fuzz_decoders(body);
	smp_cbor_freep(&body);
	return 0;
}
