/* SPDX-License-Identifier: MIT */
/*
 * CONFIG_SMPCTL_FW_IDLE_ERASE_SECONDARY: once the running image is confirmed, erase image 0's secondary
 * slot while the board is idle, so that the next upload finds it blank and only writes (with
 * CONFIG_IMG_ERASE_PROGRESSIVELY=n img_mgmt skips the erase of a blank slot: zephyr_img_mgmt.c,
 * img_mgmt_upload_inspect, action->erase). It is what `smpctl dfu --erase-ahead` does from the host,
 * done by the board itself, and it removes the same thing: the old image that slot 1 holds after a
 * swap-using-move update, the rollback path (`image test` of the old hash).
 *
 * When: SMPCTL_FW_IDLE_ERASE_DELAY_S after a boot whose image is already confirmed, or after img_mgmt
 * confirms the running image (MGMT_EVT_OP_IMG_MGMT_DFU_CONFIRMED). Only if MCUboot has no swap planned
 * (mcuboot_swap_type() BOOT_SWAP_TYPE_NONE: nothing marked for test or permanent, no revert pending)
 * and img_mgmt does not hold slot 1 for anything (img_mgmt_slot_in_use(1) == 0), the same rule
 * `image erase` applies.
 *
 * Never racing an upload: the erase runs page by page on a work queue of the lowest application
 * priority, each page under erase_lock. The first upload chunk reaches MGMT_EVT_OP_IMG_MGMT_DFU_CHUNK
 * (CONFIG_MCUMGR_GRP_IMG_UPLOAD_CHECK_HOOK) before img_mgmt erases or writes anything; the hook takes
 * erase_lock (waiting at most for the page being erased, 89.7 ms on the nRF52833), marks the idle
 * erase aborted and lets the upload proceed. No page is erased after that, until the next boot. img_mgmt
 * then sees a slot that is not blank if the erase was cut short, and erases what the upload needs
 * itself, as without this option.
 */
#include <zephyr/dfu/mcuboot.h>
#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/mgmt/mcumgr/grp/img_mgmt/img_mgmt.h>
#include <zephyr/mgmt/mcumgr/grp/img_mgmt/img_mgmt_callbacks.h>
#include <zephyr/mgmt/mcumgr/mgmt/callbacks.h>
#include <zephyr/storage/flash_map.h>

#include "smpctl-fw.h"

LOG_MODULE_REGISTER(smpctl_idle_erase, LOG_LEVEL_INF);

#define PAGE_SIZE 4096
#define SECONDARY_ID FIXED_PARTITION_ID(slot1_partition)

static K_THREAD_STACK_DEFINE(idle_stack, 1024);
static struct k_work_q idle_queue;
static struct k_work_delayable idle_work;
static K_MUTEX_DEFINE(erase_lock);
/* An upload has begun since boot (under erase_lock): no page is erased until the next boot, so an image
 * uploaded and not yet marked for test is never erased by a later confirm either. */
static bool aborted;

static bool page_is_blank(const struct flash_area *fa, off_t off)
{
	uint8_t buf[128];
	uint8_t erased = flash_area_erased_val(fa);

	for (off_t at = off; at < off + PAGE_SIZE; at += sizeof(buf)) {
		if (flash_area_read(fa, at, buf, sizeof(buf)))
			return false;
		for (size_t i = 0; i < sizeof(buf); i++)
			if (buf[i] != erased)
				return false;
	}
	return true;
}

/* Erases one page unless an upload has begun; false once it has, or on a flash error. */
static bool erase_page(const struct flash_area *fa, off_t off, unsigned *erased)
{
	bool go;
	int rc = 0;

	k_mutex_lock(&erase_lock, K_FOREVER);
	go = !aborted;
	if (go && !page_is_blank(fa, off)) {
		rc = flash_area_erase(fa, off, PAGE_SIZE);
		if (rc == 0)
			(*erased)++;
	}
	k_mutex_unlock(&erase_lock);
	if (rc)
		LOG_ERR("idle erase: page at 0x%lx failed (%d)", (long)off, rc);
	return go && rc == 0;
}

static bool may_erase(void)
{
	return boot_is_img_confirmed() && mcuboot_swap_type() == BOOT_SWAP_TYPE_NONE &&
	       img_mgmt_active_slot(0) == 0 && !img_mgmt_slot_in_use(1);
}

static void idle_erase(struct k_work *work)
{
	const struct flash_area *fa;
	unsigned erased = 0;
	off_t off, size;

	ARG_UNUSED(work);
	if (!may_erase()) {
		LOG_INF("idle erase: slot 1 is in use or the image is not confirmed; kept");
		return;
	}
	if (flash_area_open(SECONDARY_ID, &fa))
		return;
	size = (off_t)fa->fa_size;
	/* From the header page up: a half-erased slot never looks like an image. */
	for (off = 0; off < size; off += PAGE_SIZE)
		if (!erase_page(fa, off, &erased))
			break;
	flash_area_close(fa);
	LOG_INF("idle erase: %u pages of slot 1 erased%s", erased, off < size ? ", stopped" : "");
}

static void schedule(void)
{
	k_work_reschedule_for_queue(&idle_queue, &idle_work, K_SECONDS(CONFIG_SMPCTL_FW_IDLE_ERASE_DELAY_S));
}

/* img_mgmt's upload check (DFU_CHUNK, every chunk, before it erases or writes) and confirm events. */
static enum mgmt_cb_return on_img_event(uint32_t event, enum mgmt_cb_return prev_status, int32_t *rc,
					uint16_t *group, bool *abort_more, void *data, size_t data_size)
{
	ARG_UNUSED(prev_status);
	ARG_UNUSED(rc);
	ARG_UNUSED(group);
	ARG_UNUSED(abort_more);
	ARG_UNUSED(data_size);
	if (event == MGMT_EVT_OP_IMG_MGMT_DFU_CHUNK) {
		k_work_cancel_delayable(&idle_work);
		k_mutex_lock(&erase_lock, K_FOREVER);
		aborted = true;
		k_mutex_unlock(&erase_lock);
	} else if (event == MGMT_EVT_OP_IMG_MGMT_DFU_CONFIRMED &&
		   ((const struct img_mgmt_image_confirmed *)data)->image == 0) {
		schedule();
	}
	return MGMT_CB_OK;
}

static struct mgmt_callback img_events = {
	.callback = on_img_event,
	.event_id = MGMT_EVT_OP_IMG_MGMT_DFU_CHUNK | MGMT_EVT_OP_IMG_MGMT_DFU_CONFIRMED,
};

void smpctl_fw_idle_erase_start(void)
{
	const struct k_work_queue_config cfg = { .name = "idle_erase", .no_yield = false };

	k_work_queue_start(&idle_queue, idle_stack, K_THREAD_STACK_SIZEOF(idle_stack),
			   K_LOWEST_APPLICATION_THREAD_PRIO, &cfg);
	k_work_init_delayable(&idle_work, idle_erase);
	mgmt_callback_register(&img_events);
	if (boot_is_img_confirmed())
		schedule();
}
