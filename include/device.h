/* SPDX-License-Identifier: MIT */
/*
 * A session with one device: the SMP client on its transport, the limits learned from the device
 * (MCUmgr params, reassembly), and typed management calls that the commands, the upload engine and the
 * DFU flow share. Each call returns 0, DEVICE_STATUS_ERROR when the device answered with an error (its
 * rc / err is in d->status), or a negative errno: -ETIMEDOUT (no answer), -ECONNRESET (link lost),
 * -EBADMSG (malformed answer), -ECANCELED (interrupted).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "mgmt.h"
#include "smp-client.h"

enum {
	DEVICE_STATUS_ERROR = 1, /* the device answered with rc / err: see Device.status */
};

/* A reset's answer comes at once (Zephyr answers, then restarts CONFIG_MCUMGR_GRP_OS_RESET_MS = 250 ms
 * later); without it, the device must stop answering within RESET_MS + 5 s to count as reset. */
#define DEVICE_RESET_MS_USEC (250ull * 1000)
#define DEVICE_RESET_GONE_USEC (DEVICE_RESET_MS_USEC + 5000ull * 1000)
/* Each "still there?" echo while the reset's answer is awaited. */
#define DEVICE_RESET_PROBE_USEC (500ull * 1000)
/* Each "back yet?" echo after a reset. */
#define DEVICE_PROBE_TIMEOUT_USEC (1000ull * 1000)

/* Frame limits when the device does not report MCUmgr params (ISSUE-NOTES 11): Zephyr's default
 * CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE on datagram transports, MTU-3 on BLE, window 1. */
#define DEVICE_DEFAULT_BUF_SIZE 384u

#define DEVICE_DEFAULT_TRIES 3u

/* Erases (a slot, the settings partition) wait at least this long for their answer. */
#define DEVICE_ERASE_TIMEOUT_USEC (30ull * 1000 * 1000)

typedef struct DeviceOptions {
	const char *address;
	TransportOptions transport;
	uint64_t timeout_usec;       /* per request */
	int smp_version;             /* -1 auto (v2, falling back to v1), 0 = v1, 1 = v2 */
	/* Idempotent requests (reads, echo) are sent up to this many times when their answer is lost
	 * (--tries, as mcumgr's -r); 0 means DEVICE_DEFAULT_TRIES. Never a reset, never an upload chunk. */
	unsigned tries;
	const volatile bool *cancel; /* set on SIGINT */
} DeviceOptions;

typedef struct Device {
	unsigned refs;      /* device_ref(); device_free() frees at the last */
	SmpClient *client;
	DeviceOptions options;
	char address[256];
	/* learned by device_learn_limits() */
	bool limits_known;
	bool params_known;
	MgmtParams params;
	size_t frame_size;  /* largest request frame (header + body) to send */
	size_t window;      /* requests in flight: max(1, buf_count - 1) (REFERENCE.md §6) */
	bool reassembly;    /* device reassembles frames split over link writes */
	unsigned sent_times;      /* how often the last request went out (--tries) */
	bool answered;            /* the device has answered something in this session */
	bool reset_answer_lost;   /* the last device_reset counted a lost link / silence as the reset */
	bool reset_still_answering; /* ... or failed (-ETIMEDOUT): no answer, yet the device stayed */
	uint64_t oversized_entries; /* the last answer was too large (-E2BIG): the entries its list declared */
	bool oversized_images;      /* ... and it was an image list */
	/* groups the device listed (enumeration, asked once after an rc 8; device_group_present()) */
	int groups_known;         /* 0 not asked, 1 listed, -1 the device cannot list them */
	MgmtGroupList groups;
	/* last device error */
	SmpStatus status;
	uint16_t status_group;
	uint8_t status_id;
	char error[512];    /* one line on the last failure of any kind */
} Device;

/* Creates the session (no I/O yet). err gets one line on failure (bad address). */
int device_new(sd_event *event, const DeviceOptions *options, Device **out, char *err, size_t err_size);
/* Another owner of the same session (one link for several commands in a row); device_free() by each. */
Device *device_ref(Device *d);
void device_free(Device *d);
void device_freep(Device **d);

/* Opens the link (BLE: find, connect, acquire). */
int device_connect(Device *d, uint64_t timeout_usec);
void device_disconnect(Device *d);
bool device_is_connected(const Device *d);

/* Reads MCUmgr params and, on transports that split frames, probes whether the device reassembles.
 * Sets frame_size and window. A device without params (rc 8) keeps the conservative defaults. */
int device_learn_limits(Device *d);

/* A raw request: fills rsp (caller clears it). Returns 0, DEVICE_STATUS_ERROR or -errno as above. */
int device_request(Device *d, uint8_t op, uint16_t group, uint8_t id, const uint8_t *body, size_t body_len,
		   SmpResponse *rsp);

int device_echo(Device *d, const char *text, char *out, size_t out_size);
/* Returns 0 also when the answer was lost but the device went away (d->reset_answer_lost), and
 * -ETIMEDOUT when it neither answered nor went away (d->reset_still_answering). Never resends. */
int device_reset(Device *d, bool force);
int device_params(Device *d, MgmtParams *out);
int device_os_info(Device *d, const char *format, char *out, size_t out_size);
int device_bootloader_info(Device *d, MgmtBootloaderInfo *out);
int device_datetime_get(Device *d, char *out, size_t out_size);
int device_image_list(Device *d, MgmtImageList *out);
/* test (confirm false) or confirm (true) the image with hash; hash NULL confirms the running image.
 * The device answers with the new image list, returned in out (may be NULL). */
int device_image_state_write(Device *d, const uint8_t *hash, size_t hash_len, bool confirm, MgmtImageList *out);
int device_image_erase(Device *d, int slot);
int device_slot_info(Device *d, MgmtSlotInfo *out);
int device_storage_erase(Device *d);

/* Statistics, shell, enumeration, task and memory pool statistics, date-time set (mgmt.h). */
int device_stat_list(Device *d, MgmtStatList *out);
int device_stat_show(Device *d, const char *name, MgmtStatGroup *out);
/* Runs argv on the device's shell (a write: never sent twice). out->output is the caller's buffer. */
int device_shell_exec(Device *d, char *const *argv, size_t argc, MgmtShellResult *out);
int device_taskstat(Device *d, MgmtTaskStats *out);
int device_mpstat(Device *d, MgmtMemPools *out);
int device_datetime_set(Device *d, const char *iso8601);
int device_enum_list(Device *d, MgmtGroupList *out);
/* Group ids with names and handler counts (CONFIG_MCUMGR_GRP_ENUM_DETAILS). */
int device_enum_details(Device *d, MgmtGroupList *out);

/* File system group: status ({"len"}), hash or checksum of [off, off+len) (len 0: to the end; type NULL:
 * the device's default), the supported types, and closing the file the group keeps open. */
int device_fs_status(Device *d, const char *name, uint64_t *len);
int device_fs_hash(Device *d, const char *name, const char *type, uint64_t off, uint64_t len, MgmtFsHash *out);
int device_fs_hash_types(Device *d, MgmtFsHashTypes *out);
int device_fs_close(Device *d);

/* Settings group (mgmt.h): a read asks for up to MGMT_SETTINGS_VALUE_MAX bytes, so out->has_max_size
 * tells the device's smaller limit (a value of that length may have been cut). Load is a read, the
 * rest are writes (never sent twice). */
int device_settings_read(Device *d, const char *name, MgmtSettingsValue *out);
int device_settings_write(Device *d, const char *name, const uint8_t *val, size_t len);
int device_settings_delete(Device *d, const char *name);
int device_settings_commit(Device *d);
int device_settings_load(Device *d);
int device_settings_save(Device *d);

/* Does the device have group? 1 yes, 0 no, -1 cannot tell (no enumeration group, or no answer). Asks
 * the enumeration group once per session, keeping d->status of the request that failed before. */
int device_group_present(Device *d, uint16_t group);

/* Fills d->error with one line describing err (as returned by the calls above) for the user, including
 * the device's rc / err in plain words and a hint when one applies. Returns d->error. */
const char *device_describe_error(Device *d, int err);

/* Waits for a device that went away (reset, swap) to answer again: reconnects when the link needs it
 * and sends an echo every poll until one is answered or timeout_usec passes (-ETIMEDOUT). */
int device_wait_back(Device *d, uint64_t timeout_usec);
/* Runs the loop for usec (interruptible). */
int device_sleep(Device *d, uint64_t usec);
