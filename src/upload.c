/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "image.h"
#include "log.h"
#include "mgmt.h"
#include "smp-cbor.h"
#include "upload.h"
#include "util.h"

#define UPLOAD_MAX_WINDOW 32u
#define UPLOAD_MAX_FAILURES 3u     /* consecutive losses with no progress before the link is renewed */
#define UPLOAD_MAX_RESTARTS 3u     /* device forgot the upload (off 0) mid-way */
#define UPLOAD_MIN_FRAME 128u      /* the smallest CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE worth trying */

typedef struct Upload Upload;

/* One request in flight; the client hands it back to upload_on_response as its userdata. */
typedef struct Chunk {
	Upload *upload;
	bool used;
	bool stale;   /* sent before a rewind: its answer may move "acked" but never rewinds again */
	bool first;
	uint64_t sent_before; /* the furthest end this run had sent before it: the device may hold that much */
	uint8_t seq;
	uint64_t off;
	size_t len;
} Chunk;

struct Upload {
	Device *d;
	SmpClient *client;
	const uint8_t *data;
	uint64_t len;
	uint8_t sha[32];
	UploadOptions opt;
	UploadResult *res;
	uint8_t *body;
	size_t body_size;
	size_t frame_size;
	size_t window, max_window;
	size_t ceiling;       /* the window grows back to just below the last one that lost a frame */
	unsigned good_acks;
	uint64_t acked;       /* the device's offset: authoritative */
	uint64_t sent_end;    /* the furthest end of any chunk this run sent */
	uint64_t next;        /* next offset to send */
	bool started;         /* the first chunk was answered */
	Chunk chunks[UPLOAD_MAX_WINDOW];
	size_t in_flight;
	unsigned failures;    /* consecutive losses without progress */
	unsigned restarts;
	bool wake;            /* the driver must act: done, or renew the link */
	bool done;
	bool renew_link;
	int result;
	uint64_t t_begin, t_rate, acked_at_rate;
};

void upload_options_default(UploadOptions *o)
{
	*o = (UploadOptions){
		.first_timeout_usec = 40ull * 1000 * 1000,
		.chunk_timeout_usec = 5ull * 1000 * 1000,
		.reconnect_timeout_usec = 60ull * 1000 * 1000,
		.max_reconnects = 5,
	};
}

static void upload_finish(Upload *u, int result)
{
	if (u->done)
		return;
	u->done = true;
	u->wake = true;
	u->result = result;
}

static void upload_report(Upload *u, bool reconnecting)
{
	uint64_t now = now_usec();
	UploadProgress p = {
		.acked = u->acked, .total = u->len, .window = u->window,
		.resends = u->res->resends, .reconnects = u->res->reconnects, .reconnecting = reconnecting,
	};

	if (!u->opt.progress)
		return;
	if (u->t_rate) {
		p.elapsed_usec = now - u->t_rate;
		if (p.elapsed_usec > 0 && u->acked > u->acked_at_rate)
			p.rate = (double)(u->acked - u->acked_at_rate) * 1e6 / (double)p.elapsed_usec;
	}
	u->opt.progress(u->opt.userdata, &p);
}

static Chunk *chunk_free_slot(Upload *u)
{
	for (size_t i = 0; i < UPLOAD_MAX_WINDOW; i++)
		if (!u->chunks[i].used)
			return &u->chunks[i];
	return NULL;
}

static void chunk_release(Upload *u, Chunk *ch)
{
	ch->used = false;
	u->in_flight--;
}

/* Everything in flight was sent for a past state of the device: their answers only inform. */
static void upload_mark_stale(Upload *u)
{
	for (size_t i = 0; i < UPLOAD_MAX_WINDOW; i++)
		u->chunks[i].stale = true;
}

static void upload_rewind(Upload *u, uint64_t to)
{
	upload_mark_stale(u);
	u->next = to;
	u->res->resends++;
}

/* Only a window wider than the buffers the device reported (or a device that reports none) can lose a
 * frame for want of a free buffer; a loss within them is the link's, and passes. */
static bool upload_window_beyond_buffers(const Upload *u)
{
	const Device *d = u->d;

	return !d->params_known || u->window > (d->params.buf_count > 1 ? d->params.buf_count - 1 : 1);
}

/* A device with fewer buffers than the window drops the frame that finds none free (Zephyr's
 * smp_udp.c: "Failed to allocate mcumgr buffer"), and every drop costs a whole timeout: growing back to
 * the window that lost one would lose one again, each few frames, for the rest of the upload. A lost
 * notification or datagram within the buffers the device has narrows the window for a while only. */
static void upload_on_loss(Upload *u)
{
	if (u->window > 1 && upload_window_beyond_buffers(u))
		u->ceiling = MIN(u->ceiling, u->window - 1);
	u->window = MAX((size_t)1, u->window / 2);
	u->good_acks = 0;
	if (++u->failures >= UPLOAD_MAX_FAILURES) {
		u->renew_link = true;
		u->wake = true;
	}
}

static void upload_on_progress(Upload *u, uint64_t off)
{
	u->acked = off;
	u->failures = 0;
	/* Grow back one frame after a window's worth of clean round trips. */
	if (++u->good_acks >= 2 * u->window && u->window < u->ceiling) {
		u->window++;
		u->good_acks = 0;
	}
	upload_report(u, false);
}

static void upload_on_response(void *userdata, int err, SmpResponse *rsp);
static void upload_fill(Upload *u);

static int upload_send(Upload *u, uint64_t off, bool first, uint64_t timeout)
{
	MgmtUploadChunk c = {
		.image = u->opt.image, .off = off, .first = first || off == 0, .len = u->len, .sha = u->sha,
		.sha_len = sizeof(u->sha), .upgrade = first && u->opt.upgrade, .data = u->data + off,
	};
	SmpRequest req = { .op = SMP_OP_WRITE, .group = SMP_GROUP_IMAGE, .id = SMP_IMAGE_UPLOAD, .body = u->body };
	Chunk *ch = chunk_free_slot(u);
	int n;

	c.data_len = MIN(mgmt_upload_chunk_fit(&c, u->frame_size), (size_t)(u->len - off));
	if (!ch || (c.data_len == 0 && off < u->len))
		return -EMSGSIZE;
	n = mgmt_build_upload_chunk(u->body, u->body_size, &c);
	if (n < 0)
		return n;
	req.body_len = (size_t)n;
	/* In flight before submit: the answer may come back from within it. */
	*ch = (Chunk){ .upload = u, .used = true, .first = c.first, .sent_before = u->sent_end, .off = off,
		       .len = c.data_len };
	u->in_flight++;
	n = smp_client_submit(u->client, &req, timeout, upload_on_response, ch, &ch->seq);
	if (n < 0) {
		if (ch->used)
			chunk_release(u, ch);
		return n;
	}
	u->res->chunks++;
	u->sent_end = MAX(u->sent_end, off + c.data_len);
	return (int)c.data_len;
}

/* The first chunk, and right behind it the rest of the window: the device handles frames in order, so
 * they land at the offsets the first one leaves (a resume or an error is sorted out by its answer). */
static void upload_start(Upload *u)
{
	int r;

	u->started = false;
	upload_mark_stale(u);
	r = upload_send(u, 0, true, u->opt.first_timeout_usec);
	if (r == -ENOTCONN || r == -ECONNRESET) {
		u->renew_link = true;
		u->wake = true;
	} else if (r < 0) {
		upload_finish(u, r);
	} else {
		u->next = (uint64_t)r;
		upload_fill(u);
	}
}

static void upload_fill(Upload *u)
{
	/* Until the first answer the device may be erasing the slot: later chunks wait as long. */
	uint64_t timeout = u->started ? u->opt.chunk_timeout_usec : u->opt.first_timeout_usec;

	if (u->done || u->renew_link || (!u->started && u->next == 0))
		return;
	while (u->in_flight < u->window && u->next < u->len) {
		int r = upload_send(u, u->next, false, timeout);

		if (r == -ENOTCONN || r == -ECONNRESET) {
			u->renew_link = true;
			u->wake = true;
			return;
		}
		if (r < 0) {
			upload_finish(u, r);
			return;
		}
		u->next += (uint64_t)r;
	}
}

static void upload_complete(Upload *u, const MgmtUploadRsp *r)
{
	if (r->has_match) {
		u->res->has_match = true;
		u->res->match = r->match;
	}
	u->acked = u->len;
	upload_report(u, false);
	upload_finish(u, r->has_match && !r->match ? UPLOAD_MATCH_FAILED : 0);
}

/* The frames sent right behind the first chunk wait as long as it may (the device may erase first); once
 * it has answered, the device is past the erase and answers the rest in order at once. One that finds
 * no free buffer was dropped: give the rest the ordinary timeout, not 40 s more. */
static void upload_shorten_waits(Upload *u)
{
	for (size_t i = 0; i < UPLOAD_MAX_WINDOW; i++)
		if (u->chunks[i].used && !u->chunks[i].first)
			(void)smp_client_rearm(u->client, u->chunks[i].seq, u->opt.chunk_timeout_usec);
}

/* The first chunk's answer tells where the device stands: a fresh start (off = first chunk's length),
 * a resumed upload (its earlier offset) or all of it (the slot already holds exactly this file). Only an
 * offset beyond what this run had sent before the chunk tells of an earlier upload: up to there (a first
 * chunk sent again after its answer was lost, a reconnect) what the device holds may be this run's own. */
static void upload_on_first(Upload *u, const Chunk *ch, const MgmtUploadRsp *r)
{
	u->started = true;
	upload_shorten_waits(u);
	if (!u->t_rate) {
		u->t_rate = now_usec();
		u->acked_at_rate = r->off;
	}
	if (r->off > u->len) {
		upload_finish(u, -EBADMSG);
		return;
	}
	if (r->off == u->len) {
		/* Nothing to send: what the device holds counts as resumed, so no rate is made of it. */
		if (r->off > ch->sent_before) {
			u->res->resumed = true;
			u->res->resumed_from = r->off;
		}
		upload_complete(u, r);
		return;
	}
	/* A fresh start takes the first chunk's data; a resume ignores it and reports the session's offset,
	 * so what was sent behind the first chunk landed at wrong offsets: continue from the device's. */
	if (r->off != ch->len) {
		/* MCUboot's serial recovery writes whole flash words and asks again for the tail
		 * (boot_serial.c bs_upload(), rem_bytes < BOOT_MAX_ALIGN, 32): a fresh start all the same. */
		bool word_tail = r->off < ch->len && ch->len - r->off < 32;

		if (r->off > ch->sent_before && !word_tail) {
			u->res->resumed = true;
			u->res->resumed_from = r->off;
		}
		upload_mark_stale(u);
		u->next = r->off;
	}
	upload_on_progress(u, r->off);
}

static void upload_on_ack(Upload *u, const Chunk *ch, const MgmtUploadRsp *r)
{
	if (r->off > u->len) {
		upload_finish(u, -EBADMSG);
		return;
	}
	if (r->off == 0 && u->acked > 0) {
		/* The device forgot the upload (rebooted, or another client began one): start over. */
		log_debug("device reports offset 0 at %llu: restarting the upload", (unsigned long long)u->acked);
		if (++u->restarts > UPLOAD_MAX_RESTARTS) {
			upload_finish(u, UPLOAD_GAVE_UP);
			return;
		}
		u->acked = 0;
		upload_rewind(u, 0);
		upload_start(u);
		return;
	}
	if (r->off == u->len) {
		upload_complete(u, r);
		return;
	}
	if (r->off > u->acked)
		upload_on_progress(u, r->off);
	if (ch && !ch->stale && r->off < ch->off + ch->len) {
		/* The device dropped data at a wrong offset and tells us where it is (REFERENCE.md §4). */
		log_debug("device expects offset %llu, resending from there", (unsigned long long)r->off);
		upload_rewind(u, r->off);
		upload_on_loss(u);
	}
	if (u->next < u->acked)
		u->next = u->acked;
}

/* A device that does not report its buffers gets frames of a guessed size (ISSUE-NOTES 11: 384 bytes
 * on UDP). Zephyr's UDP transport reads at most CONFIG_MCUMGR_TRANSPORT_UDP_MTU bytes of a datagram and
 * answers the cut CBOR with rc 9 (ECORRUPT): the guess was too large, so halve it and start again. */
static bool upload_shrink_guessed_frame(Upload *u, const Chunk *ch, const SmpResponse *rsp)
{
	if (!ch || rsp->status.kind != SMP_STATUS_RC || rsp->status.rc != SMP_RC_ECORRUPT || u->opt.frame_size ||
	    u->d->params_known)
		return false;
	/* The frames sent behind a cut first chunk were cut too: the new start has made them stale. */
	if (ch->stale)
		return true;
	if (!ch->first || u->frame_size <= UPLOAD_MIN_FRAME)
		return false;
	u->frame_size = MAX((size_t)UPLOAD_MIN_FRAME, u->frame_size / 2);
	log_debug("rc 9 to the first chunk of a device that does not report its buffers: trying %zu-byte frames",
		  u->frame_size);
	u->res->resends++;
	upload_start(u);
	return true;
}

static void upload_handle(Upload *u, Chunk *ch, SmpResponse *rsp)
{
	MgmtUploadRsp r;

	if (upload_shrink_guessed_frame(u, ch, rsp))
		return;
	if (rsp->status.kind != SMP_STATUS_OK) {
		u->d->status = rsp->status;
		u->d->status_group = SMP_GROUP_IMAGE;
		u->d->status_id = SMP_IMAGE_UPLOAD;
		upload_finish(u, DEVICE_STATUS_ERROR);
		return;
	}
	if (mgmt_decode_upload_rsp(rsp->body, &r) < 0) {
		upload_finish(u, -EBADMSG);
		return;
	}
	if (ch && ch->first && !ch->stale)
		upload_on_first(u, ch, &r);
	else if (u->started)
		upload_on_ack(u, ch, &r);
}

static void upload_on_failure(Upload *u, Chunk *ch, int err)
{
	if (err == -ECONNRESET || err == -ENOTCONN) {
		u->renew_link = true;
		u->wake = true;
		return;
	}
	if (err == -ECANCELED) {
		upload_finish(u, err);
		return;
	}
	/* -ETIMEDOUT or -EBADMSG: the frame or its answer was lost or mangled. */
	if (ch->stale)
		return;
	log_debug("chunk at %llu: %s", (unsigned long long)ch->off, strerror(-err));
	if (ch->first) {
		u->res->resends++;
		upload_on_loss(u);
		if (!u->renew_link)
			upload_start(u);
		return;
	}
	upload_rewind(u, u->acked);
	upload_on_loss(u);
}

static void upload_on_response(void *userdata, int err, SmpResponse *rsp)
{
	Chunk *ch = userdata;
	Upload *u = ch->upload;
	Chunk copy = *ch;

	chunk_release(u, ch);
	if (u->done)
		return;
	if (err == 0)
		upload_handle(u, &copy, rsp);
	else
		upload_on_failure(u, &copy, err);
	upload_fill(u);
}

/* An answer to a chunk that had already timed out: what it says is still true. */
static void upload_on_late(void *userdata, uint8_t seq, SmpResponse *rsp)
{
	Upload *u = userdata;

	(void)seq;
	log_debug("late answer for seq %u", seq);
	if (!u->done && u->started) {
		upload_handle(u, NULL, rsp);
		upload_fill(u);
	}
}

static void upload_abandon_all(Upload *u)
{
	for (size_t i = 0; i < UPLOAD_MAX_WINDOW; i++)
		if (u->chunks[i].used) {
			smp_client_abandon(u->client, u->chunks[i].seq);
			chunk_release(u, &u->chunks[i]);
		}
}

/* The link failed or the device stopped answering: reconnect and resume. The first chunk carries the
 * file's SHA-256, so a device that kept its upload session answers with its offset (REFERENCE.md §4). */
static int upload_renew_link(Upload *u)
{
	int r;

	upload_abandon_all(u);
	if (u->res->reconnects >= u->opt.max_reconnects)
		return UPLOAD_GAVE_UP;
	u->res->reconnects++;
	upload_report(u, true);
	device_disconnect(u->d);
	r = device_wait_back(u->d, u->opt.reconnect_timeout_usec);
	if (r == 0)
		r = device_learn_limits(u->d);
	if (r < 0)
		return r;
	/* A frame size halved after rc 9 (upload_shrink_guessed_frame) stays halved. */
	if (!u->opt.frame_size)
		u->frame_size = MIN(MIN(u->d->frame_size, u->body_size), u->frame_size);
	u->renew_link = false;
	u->failures = 0;
	u->window = MAX((size_t)1, MIN(u->window, u->max_window));
	upload_start(u);
	return 0;
}

static int upload_drive(Upload *u)
{
	upload_start(u);
	while (!u->done) {
		int r;

		if (u->renew_link) {
			r = upload_renew_link(u);
			if (r != 0)
				upload_finish(u, r);
			continue;
		}
		u->wake = false;
		r = smp_client_run_until(u->client, &u->wake);
		if (r < 0)
			upload_finish(u, r);
	}
	return u->result;
}

/* The device wrote every byte, but its hash of them is not the file's (a write lost on the way, a frame
 * joined from two): the slot holds a damaged copy whose hash TLV still reads as the file's, so image list
 * shows it as the file and a later run would skip the upload, then MCUboot would refuse it at boot. Erase
 * it. Without a slot Zephyr erases the slot opposite the running one, where image 0's uploads go
 * (img_mgmt.c img_mgmt_erase()); another image's is its secondary slot. */
static int upload_erase_damaged(Device *d, const UploadOptions *opt)
{
	int slot = opt->image ? (int)opt->image * 2 + 1 : -1;
	int r;

	log_debug("match: false: erasing the damaged copy");
	r = device_image_erase(d, slot);
	if (r == -ECANCELED)
		return r;
	return r == 0 ? UPLOAD_MATCH_FAILED : UPLOAD_MATCH_FAILED_KEPT;
}

int upload_run(Device *d, const uint8_t *data, size_t len, const UploadOptions *opt, UploadResult *res)
{
	Upload u = { .d = d, .client = d->client, .data = data, .len = len, .opt = *opt, .res = res };
	int r;

	*res = (UploadResult){ 0 };
	if (len < IMAGE_HEADER_SIZE || len > UINT32_MAX)
		return -EINVAL;
	image_sha256(data, len, u.sha);
	u.frame_size = MIN(opt->frame_size ? opt->frame_size : d->frame_size, (size_t)SMP_HEADER_SIZE + UINT16_MAX);
	u.max_window = MIN(opt->window ? opt->window : d->window, (size_t)UPLOAD_MAX_WINDOW);
	u.window = u.ceiling = u.max_window;
	u.body_size = u.frame_size;
	u.body = malloc(u.body_size);
	if (!u.body)
		return -ENOMEM;
	u.t_begin = now_usec();
	smp_client_set_late_handler(u.client, upload_on_late, &u);
	r = upload_drive(&u);
	upload_abandon_all(&u);
	smp_client_set_late_handler(u.client, NULL, NULL);
	res->bytes = u.acked;
	res->usec = now_usec() - u.t_begin;
	res->frame_size = u.frame_size;
	res->window = u.max_window;
	free(u.body);
	if (r == UPLOAD_MATCH_FAILED)
		r = upload_erase_damaged(d, opt);
	return r;
}

double upload_rate(const UploadResult *res)
{
	uint64_t sent = res->bytes - (res->resumed && res->resumed_from <= res->bytes ? res->resumed_from : 0);

	return res->usec ? (double)sent * 1e6 / (double)res->usec : 0;
}
