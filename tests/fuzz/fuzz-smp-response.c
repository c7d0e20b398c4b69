/* SPDX-License-Identifier: MIT */
/* libFuzzer: an SMP response frame from a hostile device, through everything the client reads it with. */
#include <stddef.h>
#include <stdint.h>

#include "mgmt.h"
#include "smp-cbor.h"
#include "smp-error.h"
#include "smp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cbor_item_t *body = NULL;
	SmpHeader h;
	SmpStatus st;
	MgmtParams p;
	MgmtImageList list;
	MgmtUploadRsp up;
	MgmtBootloaderInfo boot;
	char text[256];

	if (smp_header_decode(data, size, &h) < 0 || smp_cbor_decode(data + SMP_HEADER_SIZE, size - SMP_HEADER_SIZE,
								      &body) < 0)
		return 0;
	if (smp_status_decode(body, &st) == 0) {
		smp_status_format(&st, text, sizeof(text));
		smp_status_hint(&st, h.group, h.id);
	}
	mgmt_decode_params(body, &p);
	mgmt_decode_image_list(body, &list);
	mgmt_image_list_slot(&list, 1);
	mgmt_decode_upload_rsp(body, &up);
	mgmt_decode_bootloader_info(body, &boot);
	mgmt_decode_echo(body, text, sizeof(text));
	mgmt_decode_os_info(body, text, sizeof(text));
	cbor_decref(&body);
	return 0;
}
