/* SPDX-License-Identifier: MIT */
/*
 * An application's settings for the smp-svr-b2475-settings fixture: what settings_mgmt reads and writes
 * through settings_runtime_get()/settings_runtime_set() is whatever handlers the application registers,
 * and smp_svr registers none. This handler is the same "prov" tree as smpctl's simulated device
 * (src/sim/sim-settings-group.c), so the same tests run against both:
 *   prov/serial   text or bytes, at most 32 bytes
 *   prov/key      bytes, at most 64 (longer than CONFIG_MCUMGR_GRP_SETTINGS_VALUE_LEN: reads are cut)
 *   prov/count    exactly 4 bytes (a little-endian uint32)
 *   prov/model    read-only ("smp-svr-fixture"): writes are -ENOTSUP
 *   prov/commits  read-only, 4 bytes: how often the handler's commit ran (settings commit, settings load)
 * A wrong length is -EINVAL (settings_mgmt answers ROOT_KEY_NOT_FOUND for it), an unknown key -ENOENT.
 * Settings are loaded once at boot, as applications do.
 */
#include <errno.h>
#include <string.h>
#include <zephyr/init.h>
#include <zephyr/kernel.h>
#include <zephyr/settings/settings.h>

#define SERIAL_MAX 32
#define KEY_MAX 64
#define MODEL "smp-svr-fixture"

static uint8_t serial[SERIAL_MAX];
static size_t serial_len;
static uint8_t key[KEY_MAX];
static size_t key_len;
static uint32_t count;
static uint32_t commits;

static int get_copy(char *val, int max, const void *src, size_t len)
{
	size_t n = MIN(len, (size_t)max);

	memcpy(val, src, n);
	return (int)n;
}

static int prov_get(const char *name, char *val, int val_len_max)
{
	const char *next;

	if (!name)
		return -ENOENT;
	if (settings_name_steq(name, "serial", &next) && !next)
		return get_copy(val, val_len_max, serial, serial_len);
	if (settings_name_steq(name, "key", &next) && !next)
		return get_copy(val, val_len_max, key, key_len);
	if (settings_name_steq(name, "count", &next) && !next)
		return get_copy(val, val_len_max, &count, sizeof(count));
	if (settings_name_steq(name, "model", &next) && !next)
		return get_copy(val, val_len_max, MODEL, strlen(MODEL));
	if (settings_name_steq(name, "commits", &next) && !next)
		return get_copy(val, val_len_max, &commits, sizeof(commits));
	return -ENOENT;
}

static int set_bytes(size_t len, settings_read_cb read_cb, void *cb_arg, uint8_t *dst, size_t max,
		     size_t *dst_len)
{
	ssize_t n;

	if (len > max)
		return -EINVAL;
	n = read_cb(cb_arg, dst, len);
	if (n < 0)
		return (int)n;
	*dst_len = (size_t)n;
	return 0;
}

static int prov_set(const char *name, size_t len, settings_read_cb read_cb, void *cb_arg)
{
	const char *next;
	size_t n;

	if (!name)
		return -ENOENT;
	if (settings_name_steq(name, "serial", &next) && !next)
		return set_bytes(len, read_cb, cb_arg, serial, sizeof(serial), &serial_len);
	if (settings_name_steq(name, "key", &next) && !next)
		return set_bytes(len, read_cb, cb_arg, key, sizeof(key), &key_len);
	if (settings_name_steq(name, "count", &next) && !next) {
		if (len != sizeof(count))
			return -EINVAL;
		return set_bytes(len, read_cb, cb_arg, (uint8_t *)&count, sizeof(count), &n);
	}
	if ((settings_name_steq(name, "model", &next) || settings_name_steq(name, "commits", &next)) && !next)
		return -ENOTSUP;
	return -ENOENT;
}

static int prov_commit(void)
{
	commits++;
	return 0;
}

/* settings_save(): what is set goes to storage; an empty value would be a delete (settings_nvs_save). */
static int prov_export(int (*export_func)(const char *name, const void *val, size_t val_len))
{
	int rc = 0;

	if (serial_len)
		rc = export_func("prov/serial", serial, serial_len);
	if (!rc && key_len)
		rc = export_func("prov/key", key, key_len);
	if (!rc)
		rc = export_func("prov/count", &count, sizeof(count));
	return rc;
}

SETTINGS_STATIC_HANDLER_DEFINE(prov, "prov", prov_get, prov_set, prov_commit, prov_export);

static int prov_boot_load(void)
{
	int rc = settings_subsys_init();

	return rc ? rc : settings_load();
}

SYS_INIT(prov_boot_load, APPLICATION, 90);
