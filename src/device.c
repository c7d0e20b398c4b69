/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "device.h"
#include "log.h"
#include "smp-cbor.h"
#include "smp-error.h"
#include "util.h"

#define DEVICE_BODY_MAX 512u

int device_new(sd_event *event, const DeviceOptions *options, Device **out, char *err, size_t err_size)
{
	Device *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return -ENOMEM;
	d->options = *options;
	snprintf(d->address, sizeof(d->address), "%s", options->address);
	d->options.address = d->address;
	r = smp_client_new(event, d->address, &d->options.transport, &d->client, err, err_size);
	if (r < 0) {
		free(d);
		return r;
	}
	if (options->smp_version >= 0)
		smp_client_force_version(d->client, (uint8_t)options->smp_version);
	smp_client_set_cancel_flag(d->client, options->cancel);
	d->frame_size = DEVICE_DEFAULT_BUF_SIZE;
	d->window = 1;
	d->refs = 1;
	*out = d;
	return 0;
}

Device *device_ref(Device *d)
{
	d->refs++;
	return d;
}

void device_free(Device *d)
{
	if (!d || --d->refs > 0)
		return;
	smp_client_free(d->client);
	free(d);
}

void device_freep(Device **d)
{
	device_free(*d);
}

int device_connect(Device *d, uint64_t timeout_usec)
{
	return smp_client_open(d->client, timeout_usec);
}

void device_disconnect(Device *d)
{
	smp_client_close(d->client);
}

bool device_is_connected(const Device *d)
{
	return smp_client_is_open(d->client);
}

int device_request(Device *d, uint8_t op, uint16_t group, uint8_t id, const uint8_t *body, size_t body_len,
		   SmpResponse *rsp)
{
	SmpRequest req = { .op = op, .group = group, .id = id, .body = body, .body_len = body_len };
	int r;

	if (!smp_client_is_open(d->client))
		return -ENOTCONN;
	r = smp_client_call(d->client, &req, d->options.timeout_usec, rsp);
	if (r < 0)
		return r;
	d->answered = true;
	if (rsp->status.kind != SMP_STATUS_OK) {
		d->status = rsp->status;
		d->status_group = group;
		d->status_id = id;
		return DEVICE_STATUS_ERROR;
	}
	return 0;
}

/* Sends a request whose body the builder already wrote, and hands the successful body to decode. */
typedef int (*BodyDecoder)(const cbor_item_t *body, void *out);

/* Asking again changes nothing on the device: reads, and echo. A reset or an upload chunk is never
 * sent twice by this layer (a second reset can make MCUboot revert a test image, REFERENCE.md §11). */
static bool request_is_idempotent(uint8_t op, uint16_t group, uint8_t id)
{
	return op == SMP_OP_READ || (group == SMP_GROUP_OS && id == SMP_OS_ECHO);
}

static unsigned device_tries_for(const Device *d, uint8_t op, uint16_t group, uint8_t id)
{
	if (!request_is_idempotent(op, group, id))
		return 1;
	return d->options.tries ? d->options.tries : DEVICE_DEFAULT_TRIES;
}

static int device_exchange(Device *d, uint8_t op, uint16_t group, uint8_t id, const uint8_t *body, int body_len,
			   BodyDecoder decode, void *out)
{
	unsigned tries = device_tries_for(d, op, group, id);
	SmpResponse rsp = { 0 };
	int r;

	if (body_len < 0)
		return body_len;
	d->sent_times = 0;
	d->reset_still_answering = false;
	d->oversized_entries = 0;
	d->oversized_images = false;
	do {
		d->sent_times++;
		smp_response_clear(&rsp);
		r = device_request(d, op, group, id, body, (size_t)body_len, &rsp);
		/* Asking again helps with a lost answer, not when the transport knows nothing is there
		 * (UDP: an ICMP port unreachable says nothing listens). A serial line that carried log text
		 * instead of an answer (a device still booting) is worth asking again. */
		if (r == -ETIMEDOUT && transport_peer_absent(smp_client_transport(d->client)))
			break;
		if (r == -ETIMEDOUT && d->sent_times < tries)
			log_debug("%s: no answer to a %s request: asking again (%u of %u)", d->address,
				  smp_group_name(group), d->sent_times + 1, tries);
		/* A link that went down under the request (a Disconnect another client left behind, a
		 * supervision timeout): for a question that can be asked again, connect again and ask. */
		if ((r == -ECONNRESET || r == -ENOTCONN) && d->sent_times < tries) {
			log_debug("%s: the link went down during a %s request: connecting again (%u of %u)", d->address,
				  smp_group_name(group), d->sent_times + 1, tries);
			device_disconnect(d);
			r = device_connect(d, d->options.transport.open_timeout_usec);
			if (r < 0)
				break;
			r = -ECONNRESET;
		}
	} while ((r == -ETIMEDOUT || r == -ECONNRESET || r == -ENOTCONN) && d->sent_times < tries);
	if (r == -E2BIG)
		d->oversized_entries = rsp.oversized_entries;
	if (r == 0 && decode) {
		r = decode(rsp.body, out);
		if (r < 0 && r != -E2BIG)
			r = -EBADMSG;
	}
	smp_response_clear(&rsp);
	return r;
}

typedef struct TextOut {
	char *buf;
	size_t size;
	int (*decode)(const cbor_item_t *body, char *out, size_t out_size);
} TextOut;

static int decode_text(const cbor_item_t *body, void *out)
{
	TextOut *t = out;

	return t->decode(body, t->buf, t->size);
}

int device_echo(Device *d, const char *text, char *out, size_t out_size)
{
	uint8_t body[DEVICE_BODY_MAX + 64];
	TextOut t = { out, out_size, mgmt_decode_echo };

	if (strlen(text) > DEVICE_BODY_MAX)
		return -EMSGSIZE;
	return device_exchange(d, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_ECHO, body,
			       mgmt_build_echo(body, sizeof(body), text), decode_text, &t);
}

typedef struct ResetWait {
	bool done;  /* the reset's answer (or its failure) came */
	bool wake;  /* ... or the next probe is due */
	int err;
	SmpStatus status;
} ResetWait;

static void on_reset_answer(void *userdata, int err, SmpResponse *rsp)
{
	ResetWait *w = userdata;

	w->done = w->wake = true;
	w->err = err;
	if (err == 0)
		w->status = rsp->status;
}

static int on_reset_probe_due(sd_event_source *src, uint64_t usec, void *userdata)
{
	ResetWait *w = userdata;

	(void)src, (void)usec;
	w->wake = true;
	return 0;
}

/* Runs the loop until the reset's answer comes or usec pass. */
static int device_wait_reset_answer(Device *d, ResetWait *w, uint64_t usec)
{
	_cleanup_(sd_event_source_disable_unrefp) sd_event_source *timer = NULL;
	int r;

	w->wake = w->done;
	r = sd_event_add_time_relative(smp_client_event(d->client), &timer, CLOCK_MONOTONIC, usec, 0,
				       on_reset_probe_due, w);
	if (r < 0)
		return r;
	return smp_client_run_until(d->client, &w->wake);
}

/* One "still there?" echo: 0 answered (whatever it said), -ETIMEDOUT / -ECONNRESET / -ENOTCONN gone. */
static int device_probe_once(Device *d)
{
	uint64_t saved_timeout = d->options.timeout_usec;
	unsigned saved_tries = d->options.tries;
	char back[8];
	int r;

	d->options.timeout_usec = DEVICE_RESET_PROBE_USEC;
	d->options.tries = 1;
	r = device_echo(d, "up?", back, sizeof(back));
	d->options.timeout_usec = saved_timeout;
	d->options.tries = saved_tries;
	return r == DEVICE_STATUS_ERROR ? 0 : r;
}

/*
 * Zephyr answers the reset request, then restarts CONFIG_MCUMGR_GRP_OS_RESET_MS (250 ms) later; on a real
 * radio the answer can still be lost with the link. While we wait for the answer we ask "still there?"
 * every RESET_MS: a link that drops after the request went out, or a device that stops answering within
 * RESET_MS + 5 s, is the reset we asked for (d->reset_answer_lost). A device that keeps answering never
 * got it. The request is never sent twice: a second reset that reaches a freshly booted test image
 * before its confirm makes MCUboot revert it. Callers that must know the outcome read the device back.
 */
int device_reset(Device *d, bool force)
{
	uint8_t body[32];
	int body_len = mgmt_build_reset(body, sizeof(body), force);
	SmpRequest req = { .op = SMP_OP_WRITE, .group = SMP_GROUP_OS, .id = SMP_OS_RESET, .body = body };
	uint64_t deadline;
	ResetWait w = { 0 };
	uint8_t seq;
	int r;

	d->reset_answer_lost = d->reset_still_answering = false;
	d->sent_times = 1;
	if (body_len < 0)
		return body_len;
	if (!smp_client_is_open(d->client))
		return -ENOTCONN;
	req.body_len = (size_t)body_len;
	/* Silence after the request only means "gone" from a device that was there: over a datagram
	 * transport nothing has shown that yet. */
	if (!d->answered) {
		char back[8];

		r = device_echo(d, "there?", back, sizeof(back));
		if (r < 0)
			return r;
	}
	r = smp_client_submit(d->client, &req, DEVICE_RESET_GONE_USEC, on_reset_answer, &w, &seq);
	if (r < 0)
		return r;
	deadline = now_usec() + DEVICE_RESET_GONE_USEC; /* from the request, not from the "there?" before it */
	for (;;) {
		r = device_wait_reset_answer(d, &w, DEVICE_RESET_MS_USEC);
		if (r < 0 || w.done)
			break;
		if (now_usec() >= deadline) {
			r = -ETIMEDOUT;
			break;
		}
		r = device_probe_once(d);
		if (w.done)
			break; /* the answer came while we probed */
		if (r == -ETIMEDOUT || r == -ECONNRESET || r == -ENOTCONN) {
			r = -ECONNRESET; /* gone: as good as the link dropping */
			break;
		}
		if (r < 0)
			break;
	}
	if (!w.done) {
		smp_client_abandon(d->client, seq);
	} else if (w.err == 0) {
		if (w.status.kind == SMP_STATUS_OK)
			return 0;
		d->status = w.status;
		d->status_group = SMP_GROUP_OS;
		d->status_id = SMP_OS_RESET;
		return DEVICE_STATUS_ERROR;
	} else {
		r = w.err; /* -ECONNRESET: the link dropped; -ETIMEDOUT: it answered every probe till the end */
	}
	if (r == -ETIMEDOUT) {
		d->reset_still_answering = true;
		return r;
	}
	if (r == -ECONNRESET) {
		d->reset_answer_lost = true;
		log_debug("%s: reset requested, answer lost (the device went away before its answer arrived)",
			  d->address);
		return 0;
	}
	return r;
}

static int decode_params(const cbor_item_t *body, void *out)
{
	return mgmt_decode_params(body, out);
}

int device_params(Device *d, MgmtParams *out)
{
	uint8_t body[8];

	return device_exchange(d, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_PARAMS, body, mgmt_build_empty(body, sizeof(body)),
			       decode_params, out);
}

int device_os_info(Device *d, const char *format, char *out, size_t out_size)
{
	uint8_t body[96];
	TextOut t = { out, out_size, mgmt_decode_os_info };

	return device_exchange(d, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_INFO, body,
			       mgmt_build_os_info(body, sizeof(body), format), decode_text, &t);
}

static int decode_bootloader(const cbor_item_t *body, void *out)
{
	return mgmt_decode_bootloader_info(body, out);
}

int device_bootloader_info(Device *d, MgmtBootloaderInfo *out)
{
	MgmtBootloaderInfo mode = { 0 };
	uint8_t body[64];
	int r;

	/* Two questions, as Zephyr answers them: the bootloader's name, then its mode (smp_group_0.rst). */
	r = device_exchange(d, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_BOOTLOADER_INFO, body,
			    mgmt_build_bootloader_info(body, sizeof(body), NULL), decode_bootloader, out);
	if (r != 0)
		return r;
	r = device_exchange(d, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_BOOTLOADER_INFO, body,
			    mgmt_build_bootloader_info(body, sizeof(body), "mode"), decode_bootloader, &mode);
	if (r == 0) {
		out->has_mode = mode.has_mode;
		out->mode = mode.mode;
		out->has_no_downgrade = mode.has_no_downgrade;
		out->no_downgrade = mode.no_downgrade;
	}
	return r == DEVICE_STATUS_ERROR ? 0 : r; /* a bootloader that does not report its mode is fine */
}

int device_datetime_get(Device *d, char *out, size_t out_size)
{
	uint8_t body[8];
	TextOut t = { out, out_size, mgmt_decode_datetime };

	return device_exchange(d, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_DATETIME, body, mgmt_build_empty(body, sizeof(body)),
			       decode_text, &t);
}

static int decode_image_list(const cbor_item_t *body, void *out)
{
	return mgmt_decode_image_list(body, out);
}

int device_image_list(Device *d, MgmtImageList *out)
{
	uint8_t body[8];
	int r;

	/* Set by the decoder only: a body too large to decode at all never reaches it. */
	out->reported = 0;
	r = device_exchange(d, SMP_OP_READ, SMP_GROUP_IMAGE, SMP_IMAGE_STATE, body, mgmt_build_empty(body, sizeof(body)),
			    decode_image_list, out);
	if (r == -E2BIG) {
		d->oversized_images = true;
		if (out->reported)
			d->oversized_entries = out->reported;
	}
	return r;
}

static int decode_slot_info(const cbor_item_t *body, void *out)
{
	return mgmt_decode_slot_info(body, out);
}

int device_slot_info(Device *d, MgmtSlotInfo *out)
{
	uint8_t body[8];

	return device_exchange(d, SMP_OP_READ, SMP_GROUP_IMAGE, SMP_IMAGE_SLOT_INFO, body,
			       mgmt_build_empty(body, sizeof(body)), decode_slot_info, out);
}

int device_image_state_write(Device *d, const uint8_t *hash, size_t hash_len, bool confirm, MgmtImageList *out)
{
	MgmtImageList scratch;
	uint8_t body[128];

	return device_exchange(d, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMAGE_STATE, body,
			       mgmt_build_image_state_write(body, sizeof(body), hash, hash_len, confirm), decode_image_list,
			       out ? out : &scratch);
}

/* Erasing a whole 220 KiB slot takes about 5 s on an nRF52833 (55 pages × 89.7 ms): such requests
 * wait at least DEVICE_ERASE_TIMEOUT_USEC whatever --timeout says. */
static int device_exchange_slow(Device *d, uint8_t op, uint16_t group, uint8_t id, const uint8_t *body, int body_len)
{
	uint64_t saved = d->options.timeout_usec;
	int r;

	d->options.timeout_usec = MAX(saved, DEVICE_ERASE_TIMEOUT_USEC);
	r = device_exchange(d, op, group, id, body, body_len, NULL, NULL);
	d->options.timeout_usec = saved;
	return r;
}

int device_image_erase(Device *d, int slot)
{
	uint8_t body[32];

	return device_exchange_slow(d, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMAGE_ERASE, body,
				    mgmt_build_image_erase(body, sizeof(body), slot));
}

int device_storage_erase(Device *d)
{
	uint8_t body[8];

	return device_exchange_slow(d, SMP_OP_WRITE, SMP_GROUP_ZEPHYR_BASIC, SMP_ZBASIC_ERASE_STORAGE, body,
				    mgmt_build_empty(body, sizeof(body)));
}

/* A read with an empty body whose answer decode reads: stat list, task stats, enumeration. */
static int device_read_empty(Device *d, uint16_t group, uint8_t id, BodyDecoder decode, void *out)
{
	uint8_t body[8];

	return device_exchange(d, SMP_OP_READ, group, id, body, mgmt_build_empty(body, sizeof(body)), decode, out);
}

static int decode_stat_list(const cbor_item_t *body, void *out)
{
	return mgmt_decode_stat_list(body, out);
}

int device_stat_list(Device *d, MgmtStatList *out)
{
	return device_read_empty(d, SMP_GROUP_STAT, SMP_STAT_LIST, decode_stat_list, out);
}

static int decode_stat_show(const cbor_item_t *body, void *out)
{
	return mgmt_decode_stat_show(body, out);
}

int device_stat_show(Device *d, const char *name, MgmtStatGroup *out)
{
	uint8_t body[MGMT_NAME_MAX + 16];

	if (strlen(name) >= MGMT_NAME_MAX)
		return -ENAMETOOLONG;
	return device_exchange(d, SMP_OP_READ, SMP_GROUP_STAT, SMP_STAT_SHOW, body,
			       mgmt_build_stat_show(body, sizeof(body), name), decode_stat_show, out);
}

static int decode_shell(const cbor_item_t *body, void *out)
{
	return mgmt_decode_shell_exec(body, out);
}

/* Zephyr's shell line is CONFIG_SHELL_CMD_BUFF_SIZE (256 by default): far below this; the device says
 * COMMAND_TOO_LONG for what does not fit its own. */
#define DEVICE_SHELL_BODY_MAX 4096u

int device_shell_exec(Device *d, char *const *argv, size_t argc, MgmtShellResult *out)
{
	_cleanup_free_ uint8_t *body = malloc(DEVICE_SHELL_BODY_MAX);

	if (!body)
		return -ENOMEM;
	return device_exchange(d, SMP_OP_WRITE, SMP_GROUP_SHELL, SMP_SHELL_EXEC, body,
			       mgmt_build_shell_exec(body, DEVICE_SHELL_BODY_MAX, argv, argc), decode_shell, out);
}

static int decode_taskstat(const cbor_item_t *body, void *out)
{
	return mgmt_decode_taskstat(body, out);
}

int device_taskstat(Device *d, MgmtTaskStats *out)
{
	return device_read_empty(d, SMP_GROUP_OS, SMP_OS_TASK_STATS, decode_taskstat, out);
}

static int decode_mpstat(const cbor_item_t *body, void *out)
{
	return mgmt_decode_mpstat(body, out);
}

int device_mpstat(Device *d, MgmtMemPools *out)
{
	return device_read_empty(d, SMP_GROUP_OS, SMP_OS_MEMPOOL_STATS, decode_mpstat, out);
}

int device_datetime_set(Device *d, const char *iso8601)
{
	uint8_t body[96];

	return device_exchange(d, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_DATETIME, body,
			       mgmt_build_datetime_set(body, sizeof(body), iso8601), NULL, NULL);
}

static int decode_enum_groups(const cbor_item_t *body, void *out)
{
	return mgmt_decode_enum_groups(body, out);
}

int device_enum_list(Device *d, MgmtGroupList *out)
{
	return device_read_empty(d, SMP_GROUP_ENUM, SMP_ENUM_LIST, decode_enum_groups, out);
}

int device_enum_details(Device *d, MgmtGroupList *out)
{
	/* {} asks for every group (enum_mgmt_details(): no "groups" filter). */
	return device_read_empty(d, SMP_GROUP_ENUM, SMP_ENUM_DETAILS, decode_enum_groups, out);
}

static int decode_fs_len(const cbor_item_t *body, void *out)
{
	return mgmt_decode_fs_len(body, out);
}

int device_fs_status(Device *d, const char *name, uint64_t *len)
{
	uint8_t body[MGMT_FS_NAME_MAX + 16];

	if (strlen(name) >= MGMT_FS_NAME_MAX)
		return -ENAMETOOLONG;
	return device_exchange(d, SMP_OP_READ, SMP_GROUP_FS, SMP_FS_STATUS, body, mgmt_build_fs_name(body, sizeof(body), name),
			       decode_fs_len, len);
}

static int decode_fs_hash(const cbor_item_t *body, void *out)
{
	return mgmt_decode_fs_hash(body, out);
}

/* Hashing a whole file takes the device a moment (well under a second for 64 KiB on a Cortex-M4 at
 * 64 MHz): at least DEVICE_FS_HASH_TIMEOUT_USEC, more with --timeout for slow file systems. */
#define DEVICE_FS_HASH_TIMEOUT_USEC (2000ull * 1000)

int device_fs_hash(Device *d, const char *name, const char *type, uint64_t off, uint64_t len, MgmtFsHash *out)
{
	uint8_t body[MGMT_FS_NAME_MAX + 64];
	uint64_t saved = d->options.timeout_usec;
	int r;

	if (strlen(name) >= MGMT_FS_NAME_MAX)
		return -ENAMETOOLONG;
	d->options.timeout_usec = MAX(saved, DEVICE_FS_HASH_TIMEOUT_USEC);
	r = device_exchange(d, SMP_OP_READ, SMP_GROUP_FS, SMP_FS_HASH, body,
			    mgmt_build_fs_hash(body, sizeof(body), name, type, off, len), decode_fs_hash, out);
	d->options.timeout_usec = saved;
	return r;
}

static int decode_fs_hash_types(const cbor_item_t *body, void *out)
{
	return mgmt_decode_fs_hash_types(body, out);
}

int device_fs_hash_types(Device *d, MgmtFsHashTypes *out)
{
	return device_read_empty(d, SMP_GROUP_FS, SMP_FS_HASH_TYPES, decode_fs_hash_types, out);
}

int device_fs_close(Device *d)
{
	uint8_t body[8];

	return device_exchange(d, SMP_OP_WRITE, SMP_GROUP_FS, SMP_FS_CLOSE, body, mgmt_build_empty(body, sizeof(body)), NULL, NULL);
}

static int decode_settings_read(const cbor_item_t *body, void *out)
{
	return mgmt_decode_settings_read(body, out);
}

int device_settings_read(Device *d, const char *name, MgmtSettingsValue *out)
{
	uint8_t body[MGMT_SETTINGS_NAME_MAX + 32];

	if (strlen(name) >= MGMT_SETTINGS_NAME_MAX)
		return -ENAMETOOLONG;
	return device_exchange(d, SMP_OP_READ, SMP_GROUP_SETTINGS, SMP_SETTINGS_VALUE, body,
			       mgmt_build_settings_read(body, sizeof(body), name, MGMT_SETTINGS_VALUE_MAX),
			       decode_settings_read, out);
}

int device_settings_write(Device *d, const char *name, const uint8_t *val, size_t len)
{
	_cleanup_free_ uint8_t *body = NULL;
	size_t cap = MGMT_SETTINGS_NAME_MAX + MGMT_SETTINGS_VALUE_MAX + 32;

	if (strlen(name) >= MGMT_SETTINGS_NAME_MAX || len > MGMT_SETTINGS_VALUE_MAX)
		return -ENAMETOOLONG;
	body = malloc(cap);
	if (!body)
		return -ENOMEM;
	return device_exchange(d, SMP_OP_WRITE, SMP_GROUP_SETTINGS, SMP_SETTINGS_VALUE, body,
			       mgmt_build_settings_write(body, cap, name, val, len), NULL, NULL);
}

int device_settings_delete(Device *d, const char *name)
{
	uint8_t body[MGMT_SETTINGS_NAME_MAX + 16];

	if (strlen(name) >= MGMT_SETTINGS_NAME_MAX)
		return -ENAMETOOLONG;
	return device_exchange(d, SMP_OP_WRITE, SMP_GROUP_SETTINGS, SMP_SETTINGS_DELETE, body,
			       mgmt_build_settings_delete(body, sizeof(body), name), NULL, NULL);
}

/* Commit, load and save take {} and answer {}. */
static int device_settings_empty(Device *d, uint8_t op, uint8_t id)
{
	uint8_t body[8];

	return device_exchange(d, op, SMP_GROUP_SETTINGS, id, body, mgmt_build_empty(body, sizeof(body)), NULL, NULL);
}

int device_settings_commit(Device *d)
{
	return device_settings_empty(d, SMP_OP_WRITE, SMP_SETTINGS_COMMIT);
}

int device_settings_load(Device *d)
{
	return device_settings_empty(d, SMP_OP_READ, SMP_SETTINGS_LOAD_SAVE);
}

int device_settings_save(Device *d)
{
	return device_settings_empty(d, SMP_OP_WRITE, SMP_SETTINGS_LOAD_SAVE);
}

int device_group_present(Device *d, uint16_t group)
{
	SmpStatus status = d->status;
	uint16_t status_group = d->status_group;
	uint8_t status_id = d->status_id;
	int r;

	if (d->groups_known == 0) {
		r = device_enum_list(d, &d->groups);
		d->groups_known = r == 0 ? 1 : -1;
		d->status = status;
		d->status_group = status_group;
		d->status_id = status_id;
	}
	if (d->groups_known < 0)
		return -1;
	if (mgmt_group_list_find(&d->groups, group))
		return 1;
	return d->groups.truncated ? -1 : 0;
}

typedef struct SleepWait {
	bool done;
} SleepWait;

static int on_sleep_done(sd_event_source *src, uint64_t usec, void *userdata)
{
	SleepWait *w = userdata;

	(void)src;
	(void)usec;
	w->done = true;
	return 0;
}

int device_sleep(Device *d, uint64_t usec)
{
	_cleanup_(sd_event_source_disable_unrefp) sd_event_source *timer = NULL;
	SleepWait w = { 0 };
	int r;

	r = sd_event_add_time_relative(smp_client_event(d->client), &timer, CLOCK_MONOTONIC, usec, 0, on_sleep_done, &w);
	if (r < 0)
		return r;
	return smp_client_run_until(d->client, &w.done);
}

/*
 * Does the device reassemble a frame split over several link writes (REFERENCE.md §6)? Send an echo one
 * write longer than a link write. A device without reassembly answers the first write {"rc": 9} and
 * treats each later write as a frame of its own, so the padding is 'x' (0x78): as a header that is
 * version 3, group 0x7878, which every server rejects and which can never match one of our requests.
 */
static int device_probe_reassembly(Device *d, size_t fragment)
{
	size_t text_len = MIN(fragment + 16, (size_t)d->params.buf_size - 32);
	_cleanup_free_ char *text = malloc(text_len + 1);
	_cleanup_free_ char *back = malloc(text_len + 1);
	int r;

	if (!text || !back)
		return -ENOMEM;
	if (text_len <= fragment)
		return 0; /* the buffer is barely larger than one write: frames of one write lose little */
	memset(text, 'x', text_len);
	text[text_len] = '\0';
	r = device_echo(d, text, back, text_len + 1);
	if (r == 0 && strcmp(text, back) == 0)
		return 1; /* one frame, one answer: nothing stray follows it */
	/* Let the answers to stray fragments arrive and be dropped before the next request (ISSUE-NOTES 16). */
	device_sleep(d, 300 * 1000);
	if (r == 0)
		return -EBADMSG;
	if (r == DEVICE_STATUS_ERROR && d->status.kind == SMP_STATUS_RC && d->status.rc == SMP_RC_ECORRUPT)
		return 0;
	return r;
}

static void device_apply_limits(Device *d, size_t fragment)
{
	size_t transport_max = transport_max_frame(smp_client_transport(d->client));

	if (!d->params_known) {
		/* No params: frames that surely fit (ISSUE-NOTES 11) and one request at a time. */
		d->frame_size = fragment ? fragment : DEVICE_DEFAULT_BUF_SIZE;
		d->window = 1;
	} else {
		d->frame_size = d->params.buf_size;
		if (fragment && !d->reassembly)
			d->frame_size = MIN(d->frame_size, fragment);
		/* A frame split over link writes wastes the tail write's packet: use whole writes (2475 bytes
		 * is 5 × 495 at MTU 498, but 10.1 × 244 at MTU 247, where 2440 fills 10 packets exactly) —
		 * unless that gives up much of the frame: small buffers are bound by round trips, not packets. */
		else if (fragment && d->frame_size > fragment &&
			 (d->frame_size - d->frame_size % fragment) * 8 >= d->frame_size * 7)
			d->frame_size -= d->frame_size % fragment;
		d->window = d->params.buf_count > 1 ? d->params.buf_count - 1 : 1;
	}
	d->frame_size = MIN(d->frame_size, transport_max);
	/* the framing's own bytes share the device's buffer (serial console: length and CRC) */
	d->frame_size -= MIN(transport_buffer_overhead(smp_client_transport(d->client)), d->frame_size / 2);
	d->limits_known = true;
	log_debug("limits: frame %zu bytes, window %zu, reassembly %s", d->frame_size, d->window,
		  d->reassembly ? "yes" : "no");
}

int device_learn_limits(Device *d)
{
	Transport *t = smp_client_transport(d->client);
	size_t fragment = transport_fragment_size(t);
	int r;

	r = device_params(d, &d->params);
	if (r < 0)
		return r;
	d->params_known = r == 0 && d->params.buf_size >= 64 && d->params.buf_count >= 1;
	d->reassembly = false;
	if (d->params_known && fragment && d->params.buf_size > fragment) {
		r = device_probe_reassembly(d, fragment);
		if (r < 0 && r != -EBADMSG)
			return r;
		d->reassembly = r == 1;
		transport_set_reassembly(t, d->reassembly ? d->params.buf_size : 0);
	}
	device_apply_limits(d, fragment);
	return 0;
}

/* Reconnect if the link dropped, then echo until the device answers. */
int device_wait_back(Device *d, uint64_t timeout_usec)
{
	uint64_t deadline = now_usec() + timeout_usec;
	uint64_t saved_timeout = d->options.timeout_usec;
	unsigned saved_tries = d->options.tries;
	int r = -ETIMEDOUT;

	d->options.timeout_usec = DEVICE_PROBE_TIMEOUT_USEC;
	d->options.tries = 1; /* the loop is the retry */
	while (now_usec() < deadline) {
		char back[8];

		if (!device_is_connected(d)) {
			r = device_connect(d, deadline - now_usec());
			if (r == -ECANCELED)
				break;
			if (r < 0) {
				if (device_sleep(d, 500 * 1000) == -ECANCELED)
					break;
				continue;
			}
		}
		r = device_echo(d, "up?", back, sizeof(back));
		if (r == 0 || r == DEVICE_STATUS_ERROR || r == -ECANCELED)
			break;
		if (r == -ECONNRESET)
			device_disconnect(d);
	}
	d->options.timeout_usec = saved_timeout;
	d->options.tries = saved_tries;
	if (r == DEVICE_STATUS_ERROR)
		r = 0; /* it answered: it is back, even if it does not echo */
	return r;
}

/* rc 8 (ENOTSUP) answers both a missing group and a missing command (mgmt.c mgmt_find_handler()). Say
 * which when the enumeration group tells, or when the command is one its group always has. Groups 0, 1
 * and 63 keep their command-specific hints. Returns false when nothing better than the rc can be said. */
static bool describe_missing_group(Device *d)
{
	uint16_t group = d->status_group;
	const char *title = smp_group_title(group);
	int present;

	if (d->status.kind != SMP_STATUS_RC || d->status.rc != SMP_RC_ENOTSUP || !title || group == SMP_GROUP_OS ||
	    group == SMP_GROUP_IMAGE || group == SMP_GROUP_ZEPHYR_BASIC)
		return false;
	present = group == SMP_GROUP_ENUM ? 0 : device_group_present(d, group);
	if (present == 1 || (present < 0 && !smp_command_implies_group(group, d->status_id)))
		return false;
	snprintf(d->error, sizeof(d->error), "the device has no %s group (rc 8, ENOTSUP): enable %s in its firmware",
		 title, smp_group_kconfig(group));
	return true;
}

static void describe_device_status(Device *d)
{
	char line[256];
	const char *hint = smp_status_hint(&d->status, d->status_group, d->status_id);

	smp_status_format_for(&d->status, d->status_group, line, sizeof(line));
	snprintf(d->error, sizeof(d->error), "%s%s%s", line, hint ? ": " : "", hint ? hint : "");
}

/* Well-formed, but more than smpctl takes: no Zephyr server sends such a list (issue 19's hostile device). */
static void describe_oversized(Device *d)
{
	if (d->oversized_images && d->oversized_entries)
		snprintf(d->error, sizeof(d->error),
			 "%s reported %llu image slots; smpctl handles at most %d (Zephyr lists 2 for each of at most "
			 "3 images): check the firmware's image management", d->address,
			 (unsigned long long)d->oversized_entries, MGMT_MAX_IMAGES);
	else if (d->oversized_entries)
		snprintf(d->error, sizeof(d->error),
			 "%s sent an answer listing %llu entries, more than smpctl takes (%d CBOR items): check the "
			 "firmware", d->address, (unsigned long long)d->oversized_entries, SMP_CBOR_MAX_ITEMS);
	else
		snprintf(d->error, sizeof(d->error),
			 "%s sent an answer larger than smpctl takes (over %d CBOR items or %d levels deep): check "
			 "the firmware", d->address, SMP_CBOR_MAX_ITEMS, SMP_CBOR_MAX_DEPTH);
}

const char *device_describe_error(Device *d, int err)
{
	const char *detail = transport_error_text(smp_client_transport(d->client));

	switch (err) {
	case DEVICE_STATUS_ERROR:
		if (!describe_missing_group(d))
			describe_device_status(d);
		break;
	case -ETIMEDOUT:
		if (d->reset_still_answering)
			snprintf(d->error, sizeof(d->error),
				 "%s never answered the reset request and still answered echo %llu s later: it did not "
				 "reset (run 'smpctl reset' again if it should)", d->address,
				 (unsigned long long)(DEVICE_RESET_GONE_USEC / 1000000));
		else if (d->sent_times > 1)
			snprintf(d->error, sizeof(d->error),
				 "%s did not answer in time (the request was sent %u times, %.0f s each)%s%s", d->address,
				 d->sent_times, (double)d->options.timeout_usec / 1e6,
				 detail ? ": " : ": raise --timeout or --tries if the link is slow or lossy",
				 detail ? detail : "");
		else
			snprintf(d->error, sizeof(d->error), "%s did not answer in time%s%s", d->address,
				 detail ? ": " : " (raise --timeout if the link is slow)", detail ? detail : "");
		break;
	case -ECONNRESET:
		snprintf(d->error, sizeof(d->error), "lost the link to %s%s%s", d->address, detail ? ": " : "",
			 detail ? detail : "");
		break;
	case -EBADMSG:
		snprintf(d->error, sizeof(d->error),
			 "%s sent a malformed response (not valid SMP/CBOR): run with -v to see it, and check the firmware",
			 d->address);
		break;
	case -E2BIG:
		describe_oversized(d);
		break;
	case -ECANCELED:
		snprintf(d->error, sizeof(d->error), "interrupted");
		break;
	default:
		snprintf(d->error, sizeof(d->error), "%s: %s", detail ? detail : d->address, strerror(-err));
		break;
	}
	return d->error;
}
