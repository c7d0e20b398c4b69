/* SPDX-License-Identifier: MIT */
/*
 * The settings group (3) of the simulated device: Zephyr 4.1's settings_mgmt.c over the settings
 * subsystem (settings_runtime.c, settings_store.c, the NVS backend settings_nvs.c), with the
 * application's handler that the interop fixture smp-svr-b2475-settings also has
 * (tests/interop/zephyr-module/src/settings-fixture.c), the "prov" tree:
 *   prov/serial at most 32 bytes, prov/key at most 64, prov/count exactly 4, prov/model read-only,
 *   prov/commits read-only (4 bytes: how often the handler's commit ran).
 * Quirks kept: a read gives at most CONFIG_MCUMGR_GRP_SETTINGS_VALUE_LEN (32) bytes, cut without an
 * error, and reports that limit ("max_size") only when asked for more; a handler's -EINVAL (a value of
 * the wrong length, an unknown root) is ROOT_KEY_NOT_FOUND; write changes the application's RAM only,
 * save stores, delete removes from storage only and succeeds for a name never stored; load ends with a
 * commit, as settings_load() does; the application loads its settings once at boot.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim-internal.h"
#include "smp-error.h"
#include "util.h"

enum {
	SETTINGS_ERR_KEY_TOO_LONG = 2,        /* SETTINGS_MGMT_ERR_* (settings_mgmt.h) */
	SETTINGS_ERR_KEY_NOT_FOUND = 3,
	SETTINGS_ERR_READ_NOT_SUPPORTED = 4,
	SETTINGS_ERR_ROOT_KEY_NOT_FOUND = 5,
	SETTINGS_ERR_WRITE_NOT_SUPPORTED = 6,
	SETTINGS_ERR_UNKNOWN = 1,
	SETTINGS_NAME_LEN = 32,               /* CONFIG_MCUMGR_GRP_SETTINGS_NAME_LEN's default */
	SETTINGS_VALUE_LEN = 32,              /* CONFIG_MCUMGR_GRP_SETTINGS_VALUE_LEN's default */
	PROV_SERIAL_MAX = 32,
	PROV_KEY_MAX = 64,
	STORE_ENTRIES = 16,
};

#define PROV_MODEL "smp-svr-fixture"

/* A value kept in the storage partition (NVS: name and value records). */
typedef struct SimStored {
	char name[SETTINGS_NAME_LEN + 32];
	uint8_t val[PROV_KEY_MAX];
	size_t len;
} SimStored;

struct SimSettings {
	/* the application's variables (RAM) */
	uint8_t serial[PROV_SERIAL_MAX];
	size_t serial_len;
	uint8_t key[PROV_KEY_MAX];
	size_t key_len;
	uint8_t count[4];
	uint32_t commits;
	/* storage (flash: survives resets, gone with a storage erase) */
	SimStored stored[STORE_ENTRIES];
	size_t stored_count;
};

int sim_settings_new(SimDevice *dev)
{
	dev->settings = calloc(1, sizeof(*dev->settings));
	return dev->settings ? 0 : -ENOMEM;
}

void sim_settings_free(SimDevice *dev)
{
	free(dev->settings);
	dev->settings = NULL;
}

/* settings_parse_and_lookup(): the handler whose tree starts the name; *key is what follows its '/'
 * (NULL for the root itself). Only "prov" is registered. */
static bool prov_lookup(const char *name, const char **key)
{
	if (strncmp(name, "prov", 4) != 0 || (name[4] != '\0' && name[4] != '/' && name[4] != '='))
		return false;
	*key = name[4] == '/' ? name + 5 : NULL;
	return true;
}

static int prov_copy(uint8_t *out, size_t max, const void *src, size_t len)
{
	size_t n = MIN(len, max);

	memcpy(out, src, n);
	return (int)n;
}

/* The fixture's h_get: bytes copied (at most max), or -ENOENT. */
static int prov_get(const struct SimSettings *s, const char *key, uint8_t *out, size_t max)
{
	uint8_t commits[4];

	if (!key)
		return -ENOENT;
	if (strcmp(key, "serial") == 0)
		return prov_copy(out, max, s->serial, s->serial_len);
	if (strcmp(key, "key") == 0)
		return prov_copy(out, max, s->key, s->key_len);
	if (strcmp(key, "count") == 0)
		return prov_copy(out, max, s->count, sizeof(s->count));
	if (strcmp(key, "model") == 0)
		return prov_copy(out, max, PROV_MODEL, strlen(PROV_MODEL));
	if (strcmp(key, "commits") == 0) {
		for (size_t i = 0; i < 4; i++)
			commits[i] = (uint8_t)(s->commits >> (8 * i));
		return prov_copy(out, max, commits, sizeof(commits));
	}
	return -ENOENT;
}

static int prov_set_bytes(uint8_t *dst, size_t max, size_t *dst_len, const uint8_t *val, size_t len)
{
	if (len > max)
		return -EINVAL;
	memcpy(dst, val, len);
	*dst_len = len;
	return 0;
}

/* The fixture's h_set. */
static int prov_set(struct SimSettings *s, const char *key, const uint8_t *val, size_t len)
{
	size_t n;

	if (!key)
		return -ENOENT;
	if (strcmp(key, "serial") == 0)
		return prov_set_bytes(s->serial, sizeof(s->serial), &s->serial_len, val, len);
	if (strcmp(key, "key") == 0)
		return prov_set_bytes(s->key, sizeof(s->key), &s->key_len, val, len);
	if (strcmp(key, "count") == 0)
		return len == sizeof(s->count) ? prov_set_bytes(s->count, sizeof(s->count), &n, val, len) : -EINVAL;
	if (strcmp(key, "model") == 0 || strcmp(key, "commits") == 0)
		return -ENOTSUP;
	return -ENOENT;
}

/* settings_runtime_set(): no handler for the name is -EINVAL. */
static int runtime_set(struct SimSettings *s, const char *name, const uint8_t *val, size_t len)
{
	const char *key;

	return prov_lookup(name, &key) ? prov_set(s, key, val, len) : -EINVAL;
}

/* settings_nvs_save(): an empty value is a delete; deleting what is not stored is no error. */
static void store_save(struct SimSettings *s, const char *name, const uint8_t *val, size_t len)
{
	size_t i;

	for (i = 0; i < s->stored_count && strcmp(s->stored[i].name, name) != 0; i++)
		;
	if (len == 0) {
		if (i < s->stored_count)
			s->stored[i] = s->stored[--s->stored_count];
		return;
	}
	if (i == s->stored_count) {
		if (s->stored_count == STORE_ENTRIES)
			return;
		s->stored_count++;
	}
	snprintf(s->stored[i].name, sizeof(s->stored[i].name), "%s", name);
	s->stored[i].len = MIN(len, sizeof(s->stored[i].val));
	memcpy(s->stored[i].val, val, s->stored[i].len);
}

/* settings_load(): every stored value to its handler's h_set, then settings_commit(). */
static void settings_load_all(struct SimSettings *s)
{
	for (size_t i = 0; i < s->stored_count; i++)
		runtime_set(s, s->stored[i].name, s->stored[i].val, s->stored[i].len);
	s->commits++;
}

/* The fixture's h_export, through settings_save(). */
static void settings_save_all(struct SimSettings *s)
{
	if (s->serial_len)
		store_save(s, "prov/serial", s->serial, s->serial_len);
	if (s->key_len)
		store_save(s, "prov/key", s->key, s->key_len);
	store_save(s, "prov/count", s->count, sizeof(s->count));
}

/* A restart: RAM is lost, the application loads what is stored (as the fixture does at boot). */
void sim_settings_boot(SimDevice *dev)
{
	struct SimSettings *s = dev->settings;

	memset(s, 0, offsetof(struct SimSettings, stored));
	settings_load_all(s);
}

/* Zephyr basic's storage erase wipes the partition the values are stored in. */
void sim_settings_erase_storage(SimDevice *dev)
{
	dev->settings->stored_count = 0;
}

/* zcbor_map_decode_bulk() of {"name": tstr, <extra>}: a missing or empty name, or a field of the wrong
 * type, is rc 3; a name of CONFIG_MCUMGR_GRP_SETTINGS_NAME_LEN bytes or more is KEY_TOO_LONG. */
static SimStatus request_name(const SimRequest *req, char *name, size_t size)
{
	const cbor_item_t *v = req->body ? smp_cbor_map_get(req->body, "name") : NULL;

	if (!v || !cbor_isa_string(v) || !cbor_string_is_definite(v) || cbor_string_length(v) == 0)
		return SIM_RC(SMP_RC_EINVAL);
	if (cbor_string_length(v) >= SETTINGS_NAME_LEN || cbor_string_length(v) >= size)
		return SIM_GROUP_ERR(SMP_GROUP_SETTINGS, SETTINGS_ERR_KEY_TOO_LONG);
	memcpy(name, cbor_string_handle(v), cbor_string_length(v));
	name[cbor_string_length(v)] = '\0';
	return SIM_OK;
}

/* settings_mgmt_read()/write()/delete(): the errno → group error mapping, with the operation's own
 * NOT_SUPPORTED code for -ENOTSUP. */
static SimStatus settings_error(int err, int32_t not_supported)
{
	int32_t rc = err == -EINVAL ? SETTINGS_ERR_ROOT_KEY_NOT_FOUND
		   : err == -ENOENT ? SETTINGS_ERR_KEY_NOT_FOUND
		   : err == -ENOTSUP ? not_supported : SETTINGS_ERR_UNKNOWN;

	return SIM_GROUP_ERR(SMP_GROUP_SETTINGS, rc);
}

static SimStatus settings_read(SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	uint8_t val[SETTINGS_VALUE_LEN];
	char name[SETTINGS_NAME_LEN];
	uint64_t max_size = SETTINGS_VALUE_LEN;
	const char *key;
	bool limited = false;
	SimStatus st = request_name(req, name, sizeof(name));
	int n;

	if (req->body && smp_cbor_get_uint(req->body, "max_size", &max_size) == -EBADMSG)
		return SIM_RC(SMP_RC_EINVAL);
	if (sim_status_failed(st))
		return st;
	if (max_size > SETTINGS_VALUE_LEN) {
		max_size = SETTINGS_VALUE_LEN;
		limited = true;
	}
	if (!prov_lookup(name, &key))
		return settings_error(-EINVAL, SETTINGS_ERR_READ_NOT_SUPPORTED);
	n = prov_get(dev->settings, key, val, (size_t)max_size);
	if (n < 0)
		return settings_error(n, SETTINGS_ERR_READ_NOT_SUPPORTED);
	smp_cbor_put_text(w, "val");
	smp_cbor_put_bytes(w, val, (size_t)n);
	if (limited) {
		smp_cbor_put_text(w, "max_size");
		smp_cbor_put_uint(w, SETTINGS_VALUE_LEN);
	}
	return SIM_OK;
}

static SimStatus settings_write(SimDevice *dev, const SimRequest *req)
{
	const cbor_item_t *v = req->body ? smp_cbor_map_get(req->body, "val") : NULL;
	char name[SETTINGS_NAME_LEN];
	SimStatus st;
	int r;

	if (v && (!cbor_isa_bytestring(v) || !cbor_bytestring_is_definite(v)))
		return SIM_RC(SMP_RC_EINVAL);
	st = request_name(req, name, sizeof(name));
	if (sim_status_failed(st))
		return st;
	/* No "val" leaves zcbor's string empty: a zero-length write. */
	r = runtime_set(dev->settings, name, v ? cbor_bytestring_handle(v) : NULL, v ? cbor_bytestring_length(v) : 0);
	return r < 0 ? settings_error(r, SETTINGS_ERR_WRITE_NOT_SUPPORTED) : SIM_OK;
}

static SimStatus settings_delete(SimDevice *dev, const SimRequest *req)
{
	char name[SETTINGS_NAME_LEN];
	SimStatus st = request_name(req, name, sizeof(name));

	if (sim_status_failed(st))
		return st;
	store_save(dev->settings, name, NULL, 0);
	return SIM_OK;
}

/* settings_mgmt_handlers[]: read/write value, delete (write only), commit (write only), load/save. */
SimStatus sim_settings_handle(SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	bool write = req->header->op == SMP_OP_WRITE;

	if (!dev->cfg.settings)
		return SIM_RC(SMP_RC_ENOTSUP);
	switch (req->header->id) {
	case SMP_SETTINGS_VALUE:
		return write ? settings_write(dev, req) : settings_read(dev, req, w);
	case SMP_SETTINGS_DELETE:
		return write ? settings_delete(dev, req) : SIM_RC(SMP_RC_ENOTSUP);
	case SMP_SETTINGS_COMMIT:
		if (!write)
			return SIM_RC(SMP_RC_ENOTSUP);
		dev->settings->commits++;
		return SIM_OK;
	case SMP_SETTINGS_LOAD_SAVE:
		if (write)
			settings_save_all(dev->settings);
		else
			settings_load_all(dev->settings);
		return SIM_OK;
	default:
		return SIM_RC(SMP_RC_ENOTSUP);
	}
}
