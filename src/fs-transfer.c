/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs-transfer.h"
#include "log.h"
#include "mgmt.h"
#include "smp-error.h"
#include "util.h"

#define FS_MAX_WINDOW 32u
#define FS_MAX_STALLS 5u                   /* rounds of losses without progress before giving up */
#define FS_ERR_FILE_OFFSET_NOT_VALID 11    /* FS_MGMT_ERR_FILE_OFFSET_NOT_VALID (fs_mgmt.h) */
#define FS_DOWNLOAD_DATA_MAX 65536u
/* A lost link: reconnect and go on from the device's offset, as the image upload engine does (upload.c,
 * ISSUE-NOTES 10), within as many attempts and as long a wait for each. */
#define FS_MAX_RECONNECTS 5u
#define FS_RECONNECT_USEC (60ull * 1000 * 1000)

typedef struct Transfer Transfer;

typedef struct Slot {
	Transfer *t;
	bool used;
	uint8_t seq;
	uint64_t off;
} Slot;

struct Transfer {
	Device *d;
	bool upload;
	const char *remote;
	const uint8_t *src;       /* upload */
	uint8_t *dst;             /* download: the file, once its length is known */
	size_t max_len;
	uint8_t *scratch;         /* download: one answer's data */
	uint8_t *have;            /* download: which chunks arrived, by off / chunk */
	bool len_known;
	uint64_t len;
	uint64_t device_off;      /* upload: the file's length as the device last said it */
	uint64_t done_until;      /* download: [0, done_until) received, in order */
	uint64_t next;            /* next offset to ask for or send */
	size_t chunk;             /* download: the device's chunk (its first answer's data) */
	size_t window;
	Slot slots[FS_MAX_WINDOW];
	size_t in_flight;
	bool draining;            /* something was lost or refused: wait for every answer, then go on */
	bool progressed;          /* since the last drain */
	unsigned stalls;
	bool done, wake;
	bool renew_link;          /* the link was lost: reconnect, then resume */
	int result;
	uint8_t *body;
	size_t body_size;
	FsProgressFn progress;
	void *userdata;
	FsTransferResult *res;
};

uint32_t fs_crc32(const uint8_t *data, size_t len)
{
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < len; i++) {
		crc ^= data[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static void transfer_finish(Transfer *t, int result)
{
	if (t->done)
		return;
	t->done = t->wake = true;
	t->result = result;
}

/* A lost link is not the end: transfer_run reconnects and resumes. */
static void transfer_fail(Transfer *t, int result)
{
	if (result == -ECONNRESET || result == -ENOTCONN) {
		t->renew_link = t->wake = true;
		return;
	}
	transfer_finish(t, result);
}

static void transfer_report(Transfer *t, uint64_t done)
{
	t->progressed = true;
	if (t->progress)
		t->progress(t->userdata, done, t->len);
}

static Slot *slot_take(Transfer *t, uint64_t off)
{
	for (size_t i = 0; i < FS_MAX_WINDOW; i++)
		if (!t->slots[i].used) {
			t->slots[i] = (Slot){ .t = t, .used = true, .off = off };
			t->in_flight++;
			return &t->slots[i];
		}
	return NULL;
}

static void on_answer(void *userdata, int err, SmpResponse *rsp);

static int transfer_submit(Transfer *t, uint8_t op, uint64_t off, int body_len)
{
	SmpRequest req = { .op = op, .group = SMP_GROUP_FS, .id = SMP_FS_FILE, .body = t->body };
	Slot *s;
	int r;

	if (body_len < 0)
		return body_len;
	req.body_len = (size_t)body_len;
	s = slot_take(t, off);
	if (!s)
		return -EBUSY;
	r = smp_client_submit(t->d->client, &req, t->d->options.timeout_usec, on_answer, s, &s->seq);
	if (r < 0 && s->used) {
		s->used = false;
		t->in_flight--;
	}
	return r;
}

/* One upload chunk at off, filled to the frame; returns the data bytes it carries. */
static int upload_send(Transfer *t, uint64_t off)
{
	MgmtFsChunk c = { .name = t->remote, .off = off, .len = t->len, .data = t->src + off };
	int r;

	c.data_len = MIN(mgmt_fs_upload_fit(&c, t->d->frame_size), (size_t)(t->len - off));
	if (c.data_len == 0 && off < t->len)
		return -EMSGSIZE;
	r = transfer_submit(t, SMP_OP_WRITE, off, mgmt_build_fs_upload(t->body, t->body_size, &c));
	if (r < 0)
		return r;
	t->res->sent += c.data_len;
	return (int)c.data_len;
}

static int download_send(Transfer *t, uint64_t off)
{
	int r = transfer_submit(t, SMP_OP_READ, off, mgmt_build_fs_download(t->body, t->body_size, t->remote, off));

	return r < 0 ? r : (int)t->chunk;
}

/* Keeps the window full. A download's first request goes alone: its answer tells the file's length and
 * the device's chunk size. An empty upload is one chunk without data. */
static void transfer_fill(Transfer *t)
{
	int r = 0;

	if (t->done || t->draining || t->renew_link)
		return;
	if (!t->upload && !t->len_known) {
		if (t->in_flight == 0)
			r = download_send(t, 0);
	} else if (t->upload && t->len == 0) {
		if (t->in_flight == 0 && !t->progressed)
			r = upload_send(t, 0);
	} else {
		while (r >= 0 && t->in_flight < t->window && t->next < t->len) {
			if (!t->upload && t->have[t->next / t->chunk])
				r = (int)t->chunk; /* it came before an earlier, lost answer */
			else
				r = t->upload ? upload_send(t, t->next) : download_send(t, t->next);
			if (r >= 0)
				t->next += (uint64_t)r;
		}
	}
	if (r < 0)
		transfer_fail(t, r);
}

/* Every request of the round is answered: go on from what the device has. */
static void transfer_after_drain(Transfer *t)
{
	if (!t->progressed && ++t->stalls >= FS_MAX_STALLS) {
		transfer_finish(t, -ETIMEDOUT);
		return;
	}
	if (t->progressed)
		t->stalls = 0;
	t->progressed = false;
	t->draining = false;
	t->next = t->upload ? t->device_off : t->done_until;
	t->res->resends++;
}

static void upload_handle(Transfer *t, const SmpResponse *rsp)
{
	uint64_t off;

	if (rsp->status.kind == SMP_STATUS_GROUP && rsp->status.group == SMP_GROUP_FS &&
	    rsp->status.rc == FS_ERR_FILE_OFFSET_NOT_VALID && mgmt_decode_fs_len(rsp->body, &off) == 0) {
		/* fs_mgmt.c closed the file: the next chunk at its length reopens it and appends. */
		t->device_off = off;
		t->draining = true;
		if (off == t->len)
			transfer_finish(t, 0); /* it has all of it: a lost answer hid that */
		return;
	}
	if (mgmt_decode_fs_off(rsp->body, &off) < 0 || off > t->len) {
		transfer_finish(t, -EBADMSG);
		return;
	}
	if (off > t->device_off || t->len == 0)
		transfer_report(t, off);
	t->device_off = off;
	if (off >= t->len)
		transfer_finish(t, 0);
}

/* The first answer: the file's length, and the chunk size the device reads with. */
static int download_first(Transfer *t, const MgmtFsData *a)
{
	if (!a->has_len || a->off != 0)
		return -EBADMSG;
	if (a->len > t->max_len)
		return -EFBIG;
	t->len = a->len;
	t->len_known = true;
	t->chunk = a->data_len;
	t->dst = malloc(t->len ? (size_t)t->len : 1);
	if (!t->dst)
		return -ENOMEM;
	t->next = t->chunk;
	if (t->chunk == 0)
		return t->len > 0 ? -EBADMSG : 0;
	t->have = calloc((size_t)((t->len + t->chunk - 1) / t->chunk), 1);
	return t->have ? 0 : -ENOMEM;
}

/* fs_mgmt_file_download() answers the offset asked with what one read of its fixed chunk gives
 * (MCUMGR_GRP_FS_DL_CHUNK_SIZE, fs_mgmt_config.h): min(chunk, len - off) bytes of a file that has not
 * changed since the first answer told its length. */
static int download_check(const Transfer *t, const Slot *s, const MgmtFsData *a)
{
	if (a->off != s->off || a->data_len > t->chunk)
		return -EBADMSG;
	return a->data_len == MIN((uint64_t)t->chunk, t->len - a->off) ? 0 : FS_FILE_CHANGED;
}

/* Answers are kept wherever they land; the file is done once every chunk is there. */
static void download_store(Transfer *t, const MgmtFsData *a)
{
	uint64_t before = t->done_until;

	if (t->len == 0 || t->have[a->off / t->chunk])
		return;
	memcpy(t->dst + a->off, a->data, a->data_len);
	t->have[a->off / t->chunk] = 1;
	t->progressed = true;
	while (t->done_until < t->len && t->have[t->done_until / t->chunk])
		t->done_until = MIN(t->done_until + t->chunk, t->len);
	if (t->done_until > before)
		transfer_report(t, t->done_until);
}

static void download_handle(Transfer *t, const Slot *s, const SmpResponse *rsp)
{
	MgmtFsData a = { .data = t->scratch, .data_size = FS_DOWNLOAD_DATA_MAX };
	int r = mgmt_decode_fs_download(rsp->body, &a);

	if (r == 0 && !t->len_known)
		r = download_first(t, &a);
	if (r == 0)
		r = download_check(t, s, &a);
	if (r != 0) {
		transfer_finish(t, r);
		return;
	}
	download_store(t, &a);
	if (t->done_until >= t->len)
		transfer_finish(t, 0);
}

static void on_answer(void *userdata, int err, SmpResponse *rsp)
{
	Slot *s = userdata;
	Transfer *t = s->t;

	s->used = false;
	t->in_flight--;
	if (t->done)
		return;
	if (err == -ETIMEDOUT) {
		log_debug("fs: no answer for offset %llu", (unsigned long long)s->off);
		t->draining = true;
	} else if (err < 0) {
		transfer_fail(t, err);
	} else if (rsp->status.kind != SMP_STATUS_OK &&
		   !(t->upload && rsp->status.kind == SMP_STATUS_GROUP && rsp->status.rc == FS_ERR_FILE_OFFSET_NOT_VALID)) {
		t->d->status = rsp->status;
		t->d->status_group = SMP_GROUP_FS;
		t->d->status_id = SMP_FS_FILE;
		transfer_finish(t, DEVICE_STATUS_ERROR);
	} else if (t->upload) {
		upload_handle(t, rsp);
	} else {
		download_handle(t, s, rsp); /* s still tells what was asked */
	}
	if (!t->done && !t->renew_link && t->draining && t->in_flight == 0)
		transfer_after_drain(t);
	transfer_fill(t);
	if (t->done)
		t->wake = true;
}

/* Requests still in flight: their answers must not reach this frame. */
static void transfer_abandon(Transfer *t)
{
	for (size_t i = 0; i < FS_MAX_WINDOW; i++)
		if (t->slots[i].used) {
			smp_client_abandon(t->d->client, t->slots[i].seq);
			t->slots[i].used = false;
		}
	t->in_flight = 0;
}

/* The window and the buffer for the device's limits, learnt anew after a reconnect. */
static int transfer_size(Transfer *t)
{
	size_t size = MAX(t->d->frame_size, (size_t)MGMT_FS_NAME_MAX + 64);
	uint8_t *body = size == t->body_size ? t->body : realloc(t->body, size);

	if (!body)
		return -ENOMEM;
	t->body = body;
	t->body_size = size;
	t->window = MAX((size_t)1, MIN(t->d->window, (size_t)FS_MAX_WINDOW));
	return 0;
}

/* The link was lost: reconnect, then go on from what the device has. fs_mgmt keeps the file: an upload
 * resumes at the length it last reported (a chunk past the true length is refused with that length, and
 * the transfer goes on from there), a download at the first byte not received. */
static int transfer_renew_link(Transfer *t)
{
	int r;

	transfer_abandon(t);
	t->renew_link = t->wake = t->draining = false;
	if (t->res->reconnects >= FS_MAX_RECONNECTS)
		return -ECONNRESET;
	t->res->reconnects++;
	log_debug("fs: link lost at offset %llu, reconnecting", (unsigned long long)(t->upload ? t->device_off :
												    t->done_until));
	device_disconnect(t->d);
	r = device_wait_back(t->d, FS_RECONNECT_USEC);
	if (r == 0)
		r = device_learn_limits(t->d);
	if (r == 0)
		r = transfer_size(t);
	if (r < 0)
		return r;
	t->next = t->upload ? t->device_off : t->done_until;
	transfer_fill(t);
	return 0;
}

static int transfer_run(Transfer *t)
{
	uint64_t begin = now_usec();
	int r = transfer_size(t);

	if (r < 0)
		return r;
	transfer_fill(t);
	while (r == 0 && !t->done) {
		r = smp_client_run_until(t->d->client, &t->wake);
		if (r == 0 && t->renew_link)
			r = transfer_renew_link(t);
	}
	transfer_abandon(t);
	free(t->body);
	t->res->usec = now_usec() - begin;
	t->res->bytes = t->len;
	if (r < 0)
		return r;
	return t->result;
}

int fs_upload_run(Device *d, const char *remote, const uint8_t *data, size_t len, uint64_t start_off,
		  FsProgressFn progress, void *userdata, FsTransferResult *res)
{
	Transfer t = {
		.d = d, .upload = true, .remote = remote, .src = data, .len = len, .len_known = true,
		.device_off = start_off, .next = start_off, .progress = progress, .userdata = userdata, .res = res,
		.progressed = start_off > 0,
	};

	*res = (FsTransferResult){ 0 };
	if (start_off > len)
		return -EINVAL;
	if (start_off == len && len > 0) {
		res->bytes = len;
		return 0;
	}
	return transfer_run(&t);
}

int fs_download_run(Device *d, const char *remote, size_t max_len, uint8_t **out, size_t *out_len,
		    FsProgressFn progress, void *userdata, FsTransferResult *res)
{
	Transfer t = { .d = d, .remote = remote, .max_len = max_len, .progress = progress, .userdata = userdata,
		       .res = res };
	int r;

	*res = (FsTransferResult){ 0 };
	t.scratch = malloc(FS_DOWNLOAD_DATA_MAX);
	if (!t.scratch)
		return -ENOMEM;
	r = transfer_run(&t);
	free(t.scratch);
	free(t.have);
	if (r != 0) {
		free(t.dst);
		return r;
	}
	res->sent = t.len;
	*out = t.dst;
	*out_len = (size_t)t.len;
	return 0;
}
