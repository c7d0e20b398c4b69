/* SPDX-License-Identifier: MIT */
/*
 * The ble: transport's GATT I/O, the NOTIFYING and WRITING steps and the open link: the SMP
 * characteristic under the device, notifications through AcquireNotify (else StartNotify), writes
 * through AcquireWrite (else WriteValue(type=command)) with a bounded queue, and the notifications still
 * in the socket when the link goes (BLUEZ.md §4-§6). Notifications become SMP frames in ble_rx_*()
 * (ble-util.c, pure).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ble-transport-internal.h"
#include "log.h"
#include "util.h"

#define BLE_NOTIFY_TIMEOUT_USEC (3 * USEC_PER_SEC)   /* 5.66 may never answer AcquireNotify (BLUEZ.md §4) */
#define BLE_TXQ_MAX (256u * 1024)
/* A queued piece's 2-byte head: its length, and this bit on a frame's first piece (WriteValue waits there). */
#define BLE_TXQ_FRAME_START 0x8000u

static int ble_write_start(Transport *t);
static int on_notify_readable(sd_event_source *src, int fd, uint32_t revents, void *userdata);
static int on_write_ready(sd_event_source *src, int fd, uint32_t revents, void *userdata);
static int ble_write_value(Transport *t, const uint8_t *p, size_t n);
static bool on_write_slot(BleWriteWaiter *w);
static int ble_lost_soon(Transport *t);

/* ------------------------------------------------------------------------------------------------ */
/* The SMP characteristic                                                                            */

int ble_visit_char(void *userdata, const char *path, const char *iface, const BleProps *p)
{
	BleState *s = ((Transport *)userdata)->state;

	if (!strcmp(iface, BLUEZ_CHAR) && !s->chr[0] && ble_path_under(path, s->device) &&
	    (p->has & BLE_PROP_UUID) && !strcasecmp(p->uuid, BLE_SMP_CHAR_UUID))
		snprintf(s->chr, sizeof(s->chr), "%s", path);
	return 0;
}

static int on_retry_objects(sd_event_source *src, uint64_t usec, void *userdata)
{
	Transport *t = userdata;
	BleState *s = t->state;

	(void)src, (void)usec;
	s->retry = sd_event_source_disable_unref(s->retry);
	return ble_get_objects(t);
}

/* bluez#1489: "resolved" while the objects are not (yet) there: look once more, a second later. */
int ble_char_found(Transport *t)
{
	BleState *s = t->state;

	if (s->chr[0])
		return s->pair_first && !s->we_paired ? ble_pair(t) : ble_notify_start(t);
	if (s->resolve_tries++ < 1) {
		s->retry = sd_event_source_disable_unref(s->retry);
		return sd_event_add_time_relative(t->event, &s->retry, CLOCK_MONOTONIC, BLE_RETRY_USEC, 0,
						  on_retry_objects, t);
	}
	ble_fail(t, -ENOENT, "%s has no SMP characteristic (%s): is its SMP server enabled "
			     "(CONFIG_MCUMGR_TRANSPORT_BT)?", ble_who(s), BLE_SMP_CHAR_UUID);
	return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* Notifications                                                                                     */

/* The received fd belongs to the message: keep a duplicate (sd_bus_message_read_basic(3)). */
static int ble_take_fd(sd_bus_message *m, int *fd, uint16_t *mtu)
{
	int borrowed;
	int r = sd_bus_message_read(m, "hq", &borrowed, mtu);

	if (r < 0)
		return r;
	*fd = fcntl(borrowed, F_DUPFD_CLOEXEC, 3);
	return *fd < 0 ? -errno : 0;
}

static int ble_start_notify(Transport *t);

static int on_stale_stopped(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	(void)m, (void)e;
	return ble_start_notify(userdata);
}

/* What 5.66 answers while another client's notify lock or session is in the way for a moment, or when
 * the device refused the CCC write for lack of resources (BLUEZ.md §4): subscribing again later is safe. */
static bool start_notify_transient(const sd_bus_error *err)
{
	return ble_error_kind(err->name, err->message) == BLE_ERROR_IN_PROGRESS ||
	       sd_bus_error_has_name(err, "org.bluez.Error.Failed") ||
	       (sd_bus_error_has_name(err, "org.bluez.Error.NotPermitted") && err->message &&
		!strcmp(err->message, "Notify acquired"));
}

static int on_start_notify(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;
	const sd_bus_error *err = ble_reply_error(m);

	(void)e;
	if (err && ble_error_kind(err->name, err->message) == BLE_ERROR_NEEDS_PAIRING)
		return ble_pair(t);
	/* One session per sender, and the connection outlives a link (ble-bus.c): ours from before a link
	 * loss that BlueZ has not registered again yet (notify_id 0: InProgress, gatt-client.c
	 * characteristic_start_notify()). Stop it and start afresh, once. A registered one answers success. */
	if (err && !s->notify_restarted && ble_error_kind(err->name, err->message) == BLE_ERROR_IN_PROGRESS) {
		log_debug("ble: a StartNotify session of ours on %s is still pending: StopNotify, then again", s->chr);
		s->notify_restarted = true;
		return ble_call_step(t, s->chr, BLUEZ_CHAR, "StopNotify", 0, on_stale_stopped);
	}
	if (err && start_notify_transient(err) && s->connect_tries < BLE_CONNECT_TRIES)
		return ble_retry_connect_later(t, err->message ? err->message : err->name);
	if (err) {
		ble_fail_call(t, m, "StartNotify");
		return 0;
	}
	s->notify_started = true;
	return ble_write_start(t);
}

static int ble_start_notify(Transport *t)
{
	BleState *s = t->state;

	s->start_notify = true;
	return ble_call_step(t, s->chr, BLUEZ_CHAR, "StartNotify", 0, on_start_notify);
}

static int on_stuck_released(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	(void)m, (void)e;
	return ble_start_notify(userdata); /* "No notify session started" is fine too */
}

static int on_acquire_notify(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;
	const sd_bus_error *err = ble_reply_error(m);
	uint16_t mtu = 0;

	(void)e;
	if (err && ble_error_kind(err->name, err->message) == BLE_ERROR_NEEDS_PAIRING)
		return ble_pair(t);
	if (err || ble_take_fd(m, &s->notify_fd, &mtu) < 0) {
		/* NotSupported, NotPermitted, or 5.66 never answering after a failed CCC write: notifications
		 * as PropertiesChanged. 5.66 keeps the failed acquisition's lock ("Notify acquired") until
		 * StopNotify, so release it first (BLUEZ.md §4). */
		log_debug("ble: AcquireNotify failed (%s); using StartNotify", err ? err->name : "no fd");
		s->start_notify = true;
		return ble_call_step(t, s->chr, BLUEZ_CHAR, "StopNotify", 0, on_stuck_released);
	}
	s->mtu = MAX(mtu, (uint16_t)BLE_ATT_MTU_MIN);
	if (sd_event_add_io(t->event, &s->notify_io, s->notify_fd, EPOLLIN, on_notify_readable, t) < 0) {
		ble_fail(t, -ENOMEM, "cannot watch the notification socket");
		return 0;
	}
	return ble_write_start(t);
}

int ble_notify_start(Transport *t)
{
	BleState *s = t->state;

	s->step = BLE_NOTIFYING;
	if (s->start_notify)
		return ble_start_notify(t);
	return ble_call(s->bus, &s->call, s->chr, BLUEZ_CHAR, "AcquireNotify", BLE_NOTIFY_TIMEOUT_USEC,
			on_acquire_notify, t, "a{sv}", 0);
}

void ble_deliver(Transport *t, const uint8_t *data, size_t n)
{
	BleState *s = t->state;
	bool dropped;
	int r = ble_rx_notification(&s->rx, data, n, &dropped);

	if (dropped)
		log_debug("ble: a notification of %zu bytes that neither starts nor continues a frame: dropped", n);
	if (r > 0)
		t->events.frame(t->userdata, s->rx.buf, (size_t)r);
}

static int on_notify_readable(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	Transport *t = userdata;
	BleState *s = t->state;
	uint8_t buf[BLE_WRITE_MAX + 8];

	(void)src;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0) {
			ble_deliver(t, buf, (size_t)n);
			if (s->step != BLE_OPEN)
				return 0; /* closed from the frame callback */
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR) && !(revents & (EPOLLHUP | EPOLLERR)))
			return 0;
		/* bluetoothd closed its end: the link is gone (BLUEZ.md §4). */
		ble_link_down(t, "was lost");
		return 0;
	}
}

/* Notifications still in the socket when the link goes down were sent before it went: Zephyr answers a
 * reset, then drops the link 250 ms later (REFERENCE.md §11), and bluetoothd closes our end after
 * writing what it had. The hang-up, Connected=false or the write socket's hang-up may reach the loop
 * first: hand those frames up before the loss. Returns false when a frame's handler closed the link. */
bool ble_drain_notifications(Transport *t)
{
	BleState *s = t->state;
	uint8_t buf[BLE_WRITE_MAX + 8];
	ssize_t n;

	if (s->step != BLE_OPEN || s->notify_fd < 0)
		return true;
	while ((n = recv(s->notify_fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		ble_deliver(t, buf, (size_t)n);
		if (s->step != BLE_OPEN)
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------------------------------------ */
/* The write side, and open                                                                          */

static int ble_opened(Transport *t)
{
	BleState *s = t->state;

	s->step = BLE_OPEN;
	s->deadline = sd_event_source_disable_unref(s->deadline);
	s->error[0] = '\0';
	log_debug("ble: open, ATT MTU %u, %s, %s", s->mtu, s->start_notify ? "StartNotify" : "AcquireNotify",
		  s->write_value ? "WriteValue" : "AcquireWrite");
	t->events.opened(t->userdata, 0);
	return 0;
}

static int on_mtu(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;
	uint16_t mtu = 0;

	(void)e;
	/* The property exists from 5.62 (BLUEZ.md §5); without it the MTU stays what we know. */
	if (!ble_reply_error(m) && sd_bus_message_read(m, "v", "q", &mtu) >= 0 && mtu >= BLE_ATT_MTU_MIN)
		s->mtu = mtu;
	return ble_opened(t);
}

static int on_acquire_write(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;
	const sd_bus_error *err = ble_reply_error(m);
	uint16_t mtu = 0;

	(void)e;
	if (err || ble_take_fd(m, &s->write_fd, &mtu) < 0) {
		log_debug("ble: AcquireWrite failed (%s); writing with WriteValue(type=command)", err ? err->name : "no fd");
		s->write_value = true;
		s->write_waiter = (BleWriteWaiter){ .ready = on_write_slot, .userdata = t };
		return ble_call(s->bus, &s->call, s->chr, DBUS_PROPERTIES, "Get", 0, on_mtu, t, "ss", BLUEZ_CHAR, "MTU");
	}
	if (mtu >= BLE_ATT_MTU_MIN)
		s->mtu = mtu;
	/* No events asked: epoll still reports the hang-up (EPOLLHUP/EPOLLERR) of a lost link. */
	if (sd_event_add_io(t->event, &s->write_io, s->write_fd, 0, on_write_ready, t) < 0) {
		ble_fail(t, -ENOMEM, "cannot watch the write socket");
		return 0;
	}
	return ble_opened(t);
}

static int ble_write_start(Transport *t)
{
	BleState *s = t->state;

	s->step = BLE_WRITING;
	return ble_call(s->bus, &s->call, s->chr, BLUEZ_CHAR, "AcquireWrite", 0, on_acquire_write, t, "a{sv}", 0);
}

/* Forgets what a link that is gone had set up (acquired sockets, queued writes), keeping the bus, the
 * matches and the device: the next Connect starts from there. */
void ble_forget_link(BleState *s)
{
	s->notify_io = sd_event_source_disable_unref(s->notify_io);
	s->write_io = sd_event_source_disable_unref(s->write_io);
	if (s->notify_fd >= 0)
		close(TAKE_FD(s->notify_fd));
	if (s->write_fd >= 0)
		close(TAKE_FD(s->write_fd));
	s->call = sd_bus_slot_unref(s->call);
	if (s->shared)
		ble_bus_write_cancel(s->shared, &s->write_waiter);
	/* The dropped calls' answers give their slots back now, not when they come: a short over-count of
	 * the budget's room. */
	for (size_t i = 0; i < BLE_WRITES_IN_FLIGHT; i++)
		if (s->writes[i]) {
			s->writes[i] = sd_bus_slot_unref(s->writes[i]);
			if (s->shared)
				ble_bus_write_done(s->shared);
		}
	s->txq_len = s->rx.len = 0;
	s->writes_pending = 0;
	s->write_refused = false;
	s->start_notify = s->write_value = false;
	s->dev_connected = false;
}

/* ------------------------------------------------------------------------------------------------ */
/* Sending                                                                                           */

static size_t ble_queue_head(const BleState *s)
{
	return ((size_t)s->txq[0] << 8 | s->txq[1]) & ~(size_t)BLE_TXQ_FRAME_START;
}

/* WriteValue goes on to the next frame only once every piece of the last one was answered. An error
 * answer means bluetoothd dropped that piece while the ones after it went on: the device, which counts a
 * frame's bytes (smp_reassembly_collect()), would complete the short frame with the next frame's first
 * bytes and write wrong data. Holding the next frame until the answers are in lets the link be reset
 * first (write_refused holds everything from the error answer on). The reset drops the partial frame on
 * the device when the SMP characteristic's CCC goes to 0 (smp_bt_ccc_changed()): bluetoothd writes 0
 * when the last notification session on it closes, and Zephyr clears a peer's CCC on disconnect; another
 * client subscribed to the same characteristic would keep it (BLUEZ.md §4). The answers come once
 * bluetoothd queued the pieces (BLUEZ.md §6), so the wait is a local round trip, not air time. */
static bool ble_next_frame_waits(const BleState *s, bool frame_start)
{
	return s->write_refused || (frame_start && s->writes_pending > 0);
}

static bool ble_queue_head_waits(const BleState *s)
{
	return ble_next_frame_waits(s, (s->txq[0] & (BLE_TXQ_FRAME_START >> 8)) != 0);
}

static void ble_queue_pop(BleState *s, size_t bytes)
{
	memmove(s->txq, s->txq + bytes, s->txq_len - bytes);
	s->txq_len -= bytes;
}

/* The head of the queue as a WriteValue, on a budget slot taken for it. A piece that could not be sent
 * leaves its frame short on the device, as a refused one does: nothing more is written and the link is
 * reset, from the loop (this may run inside ble_bus_write_done(), which must not see the bus go). */
static int ble_send_queued(Transport *t)
{
	BleState *s = t->state;
	uint8_t piece[BLE_WRITE_MAX];
	size_t n = MIN(ble_queue_head(s), sizeof(piece));
	int r;

	memcpy(piece, s->txq + 2, n);
	ble_queue_pop(s, 2 + ble_queue_head(s));
	r = ble_write_value(t, piece, n);
	if (r < 0) {
		log_debug("ble: a write to %s could not be sent (%s): the link is reset", ble_who(s), strerror(-r));
		s->write_refused = true;
		return ble_lost_soon(t);
	}
	return r;
}

/* This transport's share and the connection's budget (ble-bus.h) bound the answers awaited; what does
 * not fit waits in the queue, for an answer of ours or a slot another transport gave back. */
static bool ble_write_slot(BleState *s)
{
	return s->writes_pending < ble_bus_write_share(s->shared) && ble_bus_write_take(s->shared, &s->write_waiter);
}

static void ble_drain_writes(Transport *t)
{
	BleState *s = t->state;

	while (s->step == BLE_OPEN && s->txq_len && !ble_queue_head_waits(s) && ble_write_slot(s))
		if (ble_send_queued(t) < 0)
			break;
}

static bool on_write_slot(BleWriteWaiter *w)
{
	Transport *t = w->userdata;
	BleState *s = t->state;

	if (s->step != BLE_OPEN || !s->txq_len || ble_queue_head_waits(s))
		return false; /* the last answer of ours drains the queue again */
	if (ble_send_queued(t) >= 0)
		ble_drain_writes(t);
	return true;
}

/* Each WriteValue is answered once bluetoothd queued it (BLUEZ.md §6); a bounded number stay
 * outstanding, and the next queued write goes out on each answer. An error answer (bluetoothd could not
 * queue it, or the bus refused the call: LimitsExceeded) lost a piece of an SMP frame, which the device
 * cannot tell: the link is reset, as a lost one, and the upload engine resumes on the next. */
static int on_write_value(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;
	const sd_bus_error *err = ble_reply_error(m);
	unsigned answered = 0;

	(void)e;
	/* Before the slot goes back: giving it back can wake this transport's own waiter, and failing the
	 * link drains the notifications first, whose answers can start the next frame. */
	if (err)
		s->write_refused = true;
	for (size_t i = 0; i < BLE_WRITES_IN_FLIGHT; i++)
		if (s->writes[i] && s->writes[i] == sd_bus_get_current_slot(s->bus)) {
			s->writes[i] = sd_bus_slot_unref(s->writes[i]);
			s->writes_pending--;
			answered++;
		}
	while (answered--)
		ble_bus_write_done(s->shared);
	if (err) {
		if (s->step == BLE_OPEN)
			ble_fail(t, -ECONNRESET, "a write to %s was refused (%s): the link is reset", ble_who(s),
				 err->message ? err->message : err->name);
		return 0;
	}
	ble_drain_writes(t);
	return 0;
}

static int ble_queue(BleState *s, const uint8_t *p, size_t n, bool frame_start)
{
	uint8_t *q;

	if (s->txq_len + 2 + n > BLE_TXQ_MAX)
		return -ENOBUFS;
	q = realloc(s->txq, s->txq_len + 2 + n);
	if (!q)
		return -ENOMEM;
	s->txq = q;
	q[s->txq_len] = (uint8_t)((n | (frame_start ? BLE_TXQ_FRAME_START : 0)) >> 8);
	q[s->txq_len + 1] = (uint8_t)n;
	memcpy(q + s->txq_len + 2, p, n);
	s->txq_len += 2 + n;
	return 0;
}

static int ble_flush_queue(Transport *t)
{
	BleState *s = t->state;

	while (s->txq_len) {
		if (send(s->write_fd, s->txq + 2, ble_queue_head(s), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			ble_fail(t, -ECONNRESET, "the link to %s was lost", ble_who(s));
			return -ECONNRESET;
		}
		ble_queue_pop(s, 2 + ble_queue_head(s));
	}
	return sd_event_source_set_io_events(s->write_io, s->txq_len ? EPOLLOUT : 0);
}

static int on_write_ready(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	Transport *t = userdata;

	(void)src, (void)fd;
	if (revents & (EPOLLHUP | EPOLLERR)) {
		ble_link_down(t, "was lost");
		return 0;
	}
	ble_flush_queue(t);
	return 0;
}

static int ble_write_value(Transport *t, const uint8_t *p, size_t n)
{
	BleState *s = t->state;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_call(s->bus, &m, BLUEZ_SERVICE, s->chr, BLUEZ_CHAR, "WriteValue");
	size_t i = 0;

	if (r >= 0)
		r = sd_bus_message_append_array(m, 'y', p, n);
	if (r >= 0)
		r = sd_bus_message_append(m, "a{sv}", 1, "type", "s", "command");
	while (i < BLE_WRITES_IN_FLIGHT && s->writes[i])
		i++;
	if (r >= 0 && i == BLE_WRITES_IN_FLIGHT)
		r = -ENOBUFS; /* callers check writes_pending first */
	if (r >= 0)
		r = sd_bus_call_async(s->bus, &s->writes[i], m, on_write_value, t, 0);
	if (r >= 0)
		s->writes_pending++;
	else
		ble_bus_write_done(s->shared); /* the slot taken for it */
	return r;
}

static int on_lost_later(sd_event_source *src, void *userdata)
{
	Transport *t = userdata;

	(void)src;
	ble_fail(t, -ECONNRESET, "the link to %s was lost", ble_who(t->state));
	return 0;
}

/* A broken socket is reported through events.lost from the loop, not from inside send(). */
static int ble_lost_soon(Transport *t)
{
	BleState *s = t->state;

	if (!s->lost_later)
		sd_event_add_defer(t->event, &s->lost_later, on_lost_later, t);
	return -ECONNRESET;
}

int ble_write_one(Transport *t, const uint8_t *p, size_t n, bool frame_start)
{
	BleState *s = t->state;
	int r;

	if (s->write_value)
		return !s->txq_len && !ble_next_frame_waits(s, frame_start) && ble_write_slot(s)
			       ? ble_write_value(t, p, n)
			       : ble_queue(s, p, n, frame_start);
	if (s->txq_len == 0) {
		if (send(s->write_fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
			return 0;
		if (errno != EAGAIN && errno != EINTR)
			return ble_lost_soon(t); /* EPIPE, ECONNRESET: bluetoothd closed its end */
	}
	/* EAGAIN only means bluetoothd is behind (BLUEZ.md §6): the rest waits for POLLOUT. */
	r = ble_queue(s, p, n, frame_start);
	return r < 0 ? r : sd_event_source_set_io_events(s->write_io, EPOLLOUT);
}
