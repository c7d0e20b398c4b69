/* SPDX-License-Identifier: MIT */
/* The enumeration group (10) of the simulated device, as Zephyr 4.1's enum_mgmt.c answers it. */
#include <errno.h>
#include <string.h>

#include "sim-internal.h"
#include "smp-error.h"
#include "util.h"

enum {
	ENUM_ERR_INDEX_TOO_LARGE = 4, /* ENUM_MGMT_ERR_INDEX_TOO_LARGE */
	MAX_MCUMGR_GROUPS = 16,       /* enum_mgmt.c: an index above it is rc 3 */
};

typedef struct SimGroup {
	uint16_t id;
	const char *name;  /* mg_group_name */
	uint32_t handlers; /* mg_handlers_count: the handler array's length, gaps included */
} SimGroup;

/* Groups in the order mgmt_groups_foreach() visits them: registration order, which is the order of the
 * MCUMGR_HANDLER_DEFINE names in their sorted iterable section (enum_mgmt, fs_mgmt, img_mgmt, os_mgmt,
 * settings_mgmt, shell_mgmt, stat_mgmt, zephyr_basic_mgmt). Returns how many the device has. */
static size_t sim_groups(const SimDevice *dev, SimGroup *out)
{
	size_t n = 0;

	out[n++] = (SimGroup){ SMP_GROUP_ENUM, "enum mgmt", dev->cfg.enum_details ? 4 : 3 };
	if (dev->cfg.fs)
		out[n++] = (SimGroup){ SMP_GROUP_FS, "fs mgmt", SMP_FS_CLOSE + 1 };
	out[n++] = (SimGroup){ SMP_GROUP_IMAGE, "img mgmt", SMP_IMAGE_SLOT_INFO + 1 };
	out[n++] = (SimGroup){ SMP_GROUP_OS, "os mgmt", SMP_OS_BOOTLOADER_INFO + 1 };
	if (dev->cfg.settings)
		out[n++] = (SimGroup){ SMP_GROUP_SETTINGS, "settings mgmt", SMP_SETTINGS_LOAD_SAVE + 1 };
	if (dev->cfg.shell)
		out[n++] = (SimGroup){ SMP_GROUP_SHELL, "shell mgmt", 1 };
	if (dev->cfg.stat)
		out[n++] = (SimGroup){ SMP_GROUP_STAT, "stat mgmt", 2 };
	if (dev->cfg.storage_erase)
		out[n++] = (SimGroup){ SMP_GROUP_ZEPHYR_BASIC, "zephyr basic mgmt", 1 };
	return n;
}

#define SIM_GROUPS_MAX 8

static SimStatus enum_count(const SimDevice *dev, SmpCborWriter *w)
{
	SimGroup groups[SIM_GROUPS_MAX];

	smp_cbor_put_text(w, "count");
	smp_cbor_put_uint(w, sim_groups(dev, groups));
	return SIM_OK;
}

static SimStatus enum_list(const SimDevice *dev, SmpCborWriter *w)
{
	SimGroup groups[SIM_GROUPS_MAX];
	size_t n = sim_groups(dev, groups);

	smp_cbor_put_text(w, "groups");
	smp_cbor_put_indef_array(w);
	for (size_t i = 0; i < n; i++)
		smp_cbor_put_uint(w, groups[i].id);
	smp_cbor_put_break(w);
	return SIM_OK;
}

/* enum_mgmt_single(): {"index": n} (absent: 0) → {"group": id, "end": true on the last}. */
static SimStatus enum_single(const SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	SimGroup groups[SIM_GROUPS_MAX];
	size_t n = sim_groups(dev, groups);
	uint64_t index = 0;
	int r;

	if (!req->body)
		return SIM_RC(SMP_RC_EINVAL);
	r = smp_cbor_get_uint(req->body, "index", &index);
	if ((r < 0 && r != -ENOENT) || index > MAX_MCUMGR_GROUPS)
		return SIM_RC(SMP_RC_EINVAL);
	if (index >= n)
		return SIM_GROUP_ERR(SMP_GROUP_ENUM, ENUM_ERR_INDEX_TOO_LARGE);
	smp_cbor_put_text(w, "group");
	smp_cbor_put_uint(w, groups[index].id);
	if (index == n - 1) {
		smp_cbor_put_text(w, "end");
		smp_cbor_put_bool(w, true);
	}
	return SIM_OK;
}

/* Is id in the request's "groups" filter (none or an empty one: every group)? */
static bool details_wanted(const cbor_item_t *filter, uint16_t id)
{
	uint64_t v;

	if (!filter || cbor_array_size(filter) == 0)
		return true;
	for (size_t i = 0; i < cbor_array_size(filter); i++)
		if (smp_cbor_item_uint(cbor_array_handle(filter)[i], &v) == 0 && v == id)
			return true;
	return false;
}

/* enum_mgmt_details() with CONFIG_MCUMGR_GRP_ENUM_DETAILS_NAME and _HANDLERS. */
static SimStatus enum_details(const SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	SimGroup groups[SIM_GROUPS_MAX];
	size_t n = sim_groups(dev, groups);
	const cbor_item_t *filter;

	if (!dev->cfg.enum_details)
		return SIM_RC(SMP_RC_ENOTSUP);
	if (!req->body)
		return SIM_RC(SMP_RC_EINVAL);
	filter = smp_cbor_map_get(req->body, "groups");
	if (filter && !cbor_isa_array(filter))
		return SIM_RC(SMP_RC_EINVAL);
	smp_cbor_put_text(w, "groups");
	smp_cbor_put_indef_array(w);
	for (size_t i = 0; i < n; i++) {
		if (!details_wanted(filter, groups[i].id))
			continue;
		smp_cbor_put_indef_map(w);
		smp_cbor_put_text(w, "group");
		smp_cbor_put_uint(w, groups[i].id);
		smp_cbor_put_text(w, "name");
		smp_cbor_put_text(w, groups[i].name);
		smp_cbor_put_text(w, "handlers");
		smp_cbor_put_uint(w, groups[i].handlers);
		smp_cbor_put_break(w);
	}
	smp_cbor_put_break(w);
	return SIM_OK;
}

/* Read handlers only (enum_mgmt_group_handlers[]). */
SimStatus sim_enum_handle(SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	if (!dev->cfg.enumeration || req->header->op != SMP_OP_READ)
		return SIM_RC(SMP_RC_ENOTSUP);
	switch (req->header->id) {
	case SMP_ENUM_COUNT: return enum_count(dev, w);
	case SMP_ENUM_LIST: return enum_list(dev, w);
	case SMP_ENUM_SINGLE: return enum_single(dev, req, w);
	case SMP_ENUM_DETAILS: return enum_details(dev, req, w);
	default: return SIM_RC(SMP_RC_ENOTSUP);
	}
}
