/* SPDX-License-Identifier: MIT */
/*
 * smpctl-bluez-sim: owns org.bluez on a private bus (DBUS_SYSTEM_BUS_ADDRESS) and hosts simulated
 * nRF52833s behind the SMP characteristic. Writes travel up and notifications down at the rate the
 * link model allows (link-model.h); the device reassembles frames as Zephyr's smp_bt.c does, holds
 * them in its buf_count buffers (a frame that finds none free is dropped) and handles one at a time
 * in device time (the flash model), all scaled by --time-scale.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bluez-sim.h"
#include "smp.h"
#include "util.h"

static uint64_t scaled(const Stand *s, double usec)
{
	return (uint64_t)(usec * s->time_scale);
}

static void log_line(const Stand *s, const char *what, const char *address)
{
	if (s->verbose)
		fprintf(stderr, "smpctl-bluez-sim: %s: %s\n", address, what);
}

static void queue_push(PduQueue *q, const uint8_t *data, size_t len, bool last)
{
	Pdu *pdu;

	if (q->count == PDU_QUEUE || len > sizeof(pdu->data))
		return;
	pdu = &q->items[(q->head + q->count++) % PDU_QUEUE];
	pdu->len = (uint16_t)len;
	pdu->last = last;
	memcpy(pdu->data, data, len);
}

static void tick_schedule(Peer *p);
static void device_process_next(Peer *p);

/* A request frame is complete: into a free buffer, or dropped when all buf_count are taken. */
static void device_take(Peer *p, const uint8_t *frame, size_t len)
{
	Frame *f;

	if (p->queued + p->responses_in_flight >= p->stand->cfg.buf_count || p->queued == ARRAY_SIZE(p->requests)) {
		log_line(p->stand, "no free SMP buffer, frame dropped", p->address);
		return;
	}
	f = &p->requests[p->queued];
	f->data = malloc(len);
	if (!f->data)
		return;
	memcpy(f->data, frame, len);
	f->len = len;
	p->queued++;
	device_process_next(p);
}

/* smp_bt.c with reassembly: the first write holds the header, the frame is 8 + len bytes; a frame
 * larger than the buffer is dropped silently. Without reassembly every write is a frame. */
static void device_receive(Peer *p, const uint8_t *data, size_t len)
{
	SmpHeader h;

	if (!p->stand->reassembly) {
		device_take(p, data, len);
		return;
	}
	if (p->rx_len == 0) {
		if (smp_header_decode(data, len, &h) < 0)
			return;
		p->rx_expected = SMP_HEADER_SIZE + (size_t)h.len;
	}
	if (p->rx_len + len > p->rx_expected || p->rx_len + len > sizeof(p->rx)) {
		p->rx_len = 0;
		return;
	}
	memcpy(p->rx + p->rx_len, data, len);
	p->rx_len += len;
	if (p->rx_len < p->rx_expected)
		return;
	if (p->rx_expected <= p->stand->cfg.buf_size)
		device_take(p, p->rx, p->rx_len);
	p->rx_len = 0;
}

/* One notification reaches the client: a datagram on the acquired socket, or Value changed. */
static void notify_client(Peer *p, const Pdu *pdu)
{
	Stand *s = p->stand;

	if (s->drop_notify_every && ++s->notifications % s->drop_notify_every == 0)
		return;
	if (p->notify_fd >= 0) {
		if (send(p->notify_fd, pdu->data, pdu->len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			log_line(s, "notification dropped (client not reading)", p->address);
		return;
	}
	if (p->notifying) {
		memcpy(p->value, pdu->data, pdu->len);
		p->value_len = pdu->len;
		peer_emit(p, "org.bluez.GattCharacteristic1", "Value");
	}
}

/* Moves up to packets_per_event LL packets through one queue; returns whether it is not empty. */
static bool link_drain(Peer *p, PduQueue *q, bool up, unsigned budget)
{
	while (q->count && budget && p->connected) {
		Pdu *pdu = &q->items[q->head];

		if (!q->head_packets_left)
			q->head_packets_left = link_packets(&p->stand->link, pdu->len);
		if (q->head_packets_left > budget) {
			q->head_packets_left -= budget;
			return true;
		}
		budget -= q->head_packets_left;
		q->head_packets_left = 0;
		q->head = (q->head + 1) % PDU_QUEUE;
		q->count--;
		if (up) {
			device_receive(p, pdu->data, pdu->len);
		} else {
			notify_client(p, pdu);
			if (pdu->last && p->responses_in_flight)
				p->responses_in_flight--; /* its buffer is free once sent */
		}
	}
	return q->count > 0;
}

static int on_tick(sd_event_source *src, uint64_t usec, void *userdata)
{
	Peer *p = userdata;
	unsigned ppe = p->stand->link.packets_per_event;
	bool more;

	(void)src;
	(void)usec;
	p->tick = sd_event_source_disable_unref(p->tick);
	more = link_drain(p, &p->down, false, ppe);
	more |= link_drain(p, &p->up, true, ppe);
	if (more)
		tick_schedule(p);
	return 0;
}

/* The next connection event. */
static void tick_schedule(Peer *p)
{
	if (p->tick || !p->connected)
		return;
	sd_event_add_time_relative(p->stand->event, &p->tick, CLOCK_MONOTONIC,
				   scaled(p->stand, p->stand->link.interval_ms * 1000), 1, on_tick, p);
}

static void collect_reply(void *userdata, const uint8_t *frame, size_t len)
{
	Peer *p = userdata;

	if (p->replies_count == ARRAY_SIZE(p->replies) || len > sizeof(p->replies[0]))
		return;
	memcpy(p->replies[p->replies_count], frame, len);
	p->reply_len[p->replies_count++] = len;
}

/* smp_bt_tx_pkt(): a response goes out as notifications of at most MTU-3 bytes. */
static void send_reply(Peer *p, const uint8_t *frame, size_t len)
{
	size_t chunk = p->stand->link.mtu - 3;

	p->responses_in_flight++;
	for (size_t off = 0; off < len; off += chunk)
		queue_push(&p->down, frame + off, MIN(chunk, len - off), off + chunk >= len);
	tick_schedule(p);
}

static int on_back(sd_event_source *src, uint64_t usec, void *userdata)
{
	Peer *p = userdata;

	(void)src;
	(void)usec;
	sim_device_reboot(p->dev);
	p->offline = false;
	log_line(p->stand, "back, advertising", p->address);
	if (p->stand->discovering)
		peer_emit(p, "org.bluez.Device1", "RSSI");
	return 0;
}

/* The device resets ~250 ms after its answer: the link drops, MCUboot swaps, it advertises again. */
static int on_reset(sd_event_source *src, uint64_t usec, void *userdata)
{
	Peer *p = userdata;
	uint64_t offline = p->offline_usec;

	(void)src;
	(void)usec;
	if (p->down.count) {
		sd_event_add_time_relative(p->stand->event, NULL, CLOCK_MONOTONIC,
					   scaled(p->stand, p->stand->link.interval_ms * 1000), 1, on_reset, p);
		return 0;
	}
	p->offline = true;
	peer_link_down(p, true);
	sd_event_add_time_relative(p->stand->event, NULL, CLOCK_MONOTONIC, scaled(p->stand, (double)offline), 1,
				   on_back, p);
	return 0;
}

static int on_processed(sd_event_source *src, uint64_t usec, void *userdata)
{
	Peer *p = userdata;

	(void)src;
	(void)usec;
	p->done = sd_event_source_disable_unref(p->done);
	free(p->requests[0].data);
	memmove(p->requests, p->requests + 1, (p->queued - 1) * sizeof(p->requests[0]));
	p->queued--;
	p->busy = false;
	for (size_t i = 0; i < p->replies_count && p->connected; i++)
		send_reply(p, p->replies[i], p->reply_len[i]);
	if (sim_device_take_reset(p->dev, &p->offline_usec)) {
		p->offline_usec -= 250 * 1000;
		sd_event_add_time_relative(p->stand->event, NULL, CLOCK_MONOTONIC, scaled(p->stand, 250 * 1000), 1,
					   on_reset, p);
	}
	device_process_next(p);
	return 0;
}

static void device_process_next(Peer *p)
{
	uint64_t device_usec;

	if (p->busy || p->queued == 0)
		return;
	p->busy = true;
	p->replies_count = 0;
	device_usec = sim_device_process(p->dev, p->requests[0].data, p->requests[0].len, collect_reply, p);
	sd_event_add_time_relative(p->stand->event, &p->done, CLOCK_MONOTONIC, scaled(p->stand, (double)device_usec), 1,
				   on_processed, p);
}

void peer_client_write(Peer *p, const uint8_t *data, size_t len)
{
	Stand *s = p->stand;

	p->bytes_up += len;
	if (s->disconnect_after_bytes && p->bytes_up > s->disconnect_after_bytes) {
		/* Fault knob: the link is lost (supervision timeout) once this many bytes went up. */
		s->disconnect_after_bytes = 0;
		log_line(s, "link lost (fault knob)", p->address);
		peer_link_down(p, true);
		return;
	}
	queue_push(&p->up, data, len, false);
	tick_schedule(p);
}

void peer_link_up(Peer *p)
{
	p->up = (PduQueue){ .items = p->up.items };
	p->down = (PduQueue){ .items = p->down.items };
	p->rx_len = 0;
	p->responses_in_flight = 0;
	p->bytes_up = 0;
}

/* bluetoothd closes its end of every acquired socket on disconnect (BLUEZ.md §4). */
void peer_release_write(Peer *p)
{
	p->write_io = sd_event_source_disable_unref(p->write_io);
	if (p->write_fd >= 0)
		close(p->write_fd);
	p->write_fd = -1;
	if (p->write_acquired) {
		p->write_acquired = false;
		peer_emit(p, "org.bluez.GattCharacteristic1", "WriteAcquired");
	}
}

void peer_release_notify(Peer *p)
{
	p->notify_io = sd_event_source_disable_unref(p->notify_io);
	if (p->notify_fd >= 0)
		close(p->notify_fd);
	p->notify_fd = -1;
	if (p->notify_acquired) {
		p->notify_acquired = false;
		peer_emit(p, "org.bluez.GattCharacteristic1", "NotifyAcquired");
	}
}

/* A lost link: ServicesResolved=false, then Connected=false, sockets closed. */
void peer_link_down(Peer *p, bool emit)
{
	peer_release_write(p);
	peer_release_notify(p);
	p->notifying = false;
	p->tick = sd_event_source_disable_unref(p->tick);
	p->up.count = p->down.count = 0;
	p->rx_len = 0;
	p->responses_in_flight = 0;
	if (!emit)
		return;
	if (p->resolved) {
		p->resolved = false;
		peer_emit(p, "org.bluez.Device1", "ServicesResolved");
	}
	if (p->connected) {
		p->connected = false;
		peer_emit(p, "org.bluez.Device1", "Connected");
	}
}

/* bluetoothd's sock_read(): one datagram a time into a 512-byte buffer; longer than MTU-3 is dropped,
 * longer than 512 truncated, and a zero-length write removes the handler for good. */
static int on_client_write(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	Peer *p = userdata;
	uint8_t buf[512];
	ssize_t n;

	(void)src;
	if (revents & (EPOLLHUP | EPOLLERR) && !(revents & EPOLLIN)) {
		peer_release_write(p);
		return 0;
	}
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0)
		return 0;
	if (n == 0) {
		if (revents & EPOLLHUP)
			peer_release_write(p); /* the client closed its end: the lock is released */
		else
			p->write_io = sd_event_source_disable_unref(p->write_io);
		return 0;
	}
	if ((size_t)n > p->stand->link.mtu - 3)
		return 0;
	peer_client_write(p, buf, MIN((size_t)n, sizeof(buf)));
	return 0;
}

static int on_notify_hup(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	(void)src, (void)fd;
	if (revents & (EPOLLHUP | EPOLLERR))
		peer_release_notify(userdata);
	return 0;
}

int peer_acquire(Peer *p, bool write, int *client_fd)
{
	int fds[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0)
		return -errno;
	*client_fd = fds[1];
	if (write) {
		p->write_fd = fds[0];
		p->write_acquired = true;
		return sd_event_add_io(p->stand->event, &p->write_io, fds[0], EPOLLIN, on_client_write, p);
	}
	p->notify_fd = fds[0];
	p->notify_acquired = true;
	return sd_event_add_io(p->stand->event, &p->notify_io, fds[0], 0, on_notify_hup, p);
}

static void usage(void)
{
	printf("Usage: smpctl-bluez-sim [OPTIONS]\n\n"
	       "A BlueZ 5.66 stand-in: owns org.bluez on the bus in DBUS_SYSTEM_BUS_ADDRESS (never the real system\n"
	       "bus) and hosts simulated nRF52833s (smpctl-sim's device) behind the SMP GATT characteristic.\n\n"
	       "  --device ADDR[,name=NAME]  a device (repeatable, up to 4; default C0:FF:EE:00:00:01 'smpctl-sim')\n"
	       "  --known                    devices are known before any scan (as after pairing)\n"
	       "  --conn-interval-ms X       connection interval (default 15)\n"
	       "  --mtu N                    ATT MTU (default 498)\n"
	       "  --data-length N            LL data length: 251 or 27 (default 251)\n"
	       "  --packets-per-event N      packet exchanges per connection event (default 6)\n"
	       "  --time-scale X             1 real time (default), 0 instant; applies to link and flash\n"
	       "  --buf-size N, --buf-count N   the device's SMP buffers (default 2475 x 4)\n"
	       "  --no-params, --no-storage-erase, --legacy, --new-image-crashes   device variants\n"
	       "  --no-reassembly            the device treats every write as a frame\n"
	       "  --disconnect-after-bytes N the link drops once N bytes were written\n"
	       "  --drop-notify N            drop every Nth notification\n"
	       "  --acquire-notify-hangs     AcquireNotify never answers (BlueZ 5.66 bug)\n"
	       "  --acquire-write-fails      AcquireWrite fails (NotSupported)\n"
	       "  --ready-file PATH          written once org.bluez is owned\n"
	       "  --verbose                  log on stderr\n");
}

static int add_peer(Stand *s, const char *spec)
{
	Peer *p;
	const char *comma = strchr(spec, ',');
	size_t alen = comma ? (size_t)(comma - spec) : strlen(spec);

	if (s->peer_count == ARRAY_SIZE(s->peers) || alen != 17)
		return -EINVAL;
	p = &s->peers[s->peer_count++];
	memcpy(p->address, spec, 17);
	for (int i = 0; i < 17; i++)
		p->address[i] = (char)(p->address[i] >= 'a' && p->address[i] <= 'f' ? p->address[i] - 32 : p->address[i]);
	snprintf(p->name, sizeof(p->name), "%s", comma && !strncmp(comma + 1, "name=", 5) ? comma + 6 : "smpctl-sim");
	return 0;
}

static int setup_peer(Stand *s, Peer *p)
{
	char addr[18];

	snprintf(addr, sizeof(addr), "%s", p->address);
	for (char *c = addr; *c; c++)
		if (*c == ':')
			*c = '_';
	/* BlueZ's paths: dev_ + address, service/char/desc + handle in lowercase hex (BLUEZ.md §1). */
	snprintf(p->path, sizeof(p->path), ADAPTER_PATH "/dev_%s", addr);
	snprintf(p->svc_path, sizeof(p->svc_path), "%s/service0010", p->path);
	snprintf(p->chr_path, sizeof(p->chr_path), "%s/char0011", p->svc_path);
	snprintf(p->desc_path, sizeof(p->desc_path), "%s/desc0013", p->chr_path);
	p->stand = s;
	p->write_fd = p->notify_fd = -1;
	p->up.items = calloc(PDU_QUEUE, sizeof(Pdu));
	p->down.items = calloc(PDU_QUEUE, sizeof(Pdu));
	if (!p->up.items || !p->down.items)
		return -ENOMEM;
	p->exported = s->known;
	return sim_device_new(&s->cfg, &p->dev);
}

enum {
	O_DEVICE = 0x100, O_KNOWN, O_INTERVAL, O_MTU, O_DLE, O_PPE, O_SCALE, O_BUF_SIZE, O_BUF_COUNT, O_NO_PARAMS,
	O_NO_STORAGE, O_LEGACY, O_CRASHES, O_NO_REASM, O_DISC_BYTES, O_DROP_NOTIFY, O_NOTIFY_HANGS, O_WRITE_FAILS,
	O_READY, O_VERBOSE, O_HELP,
};

static int parse_number(const char *arg, double lo, double hi, double *out)
{
	char *end;

	*out = strtod(arg, &end);
	return *end || end == arg || *out < lo || *out > hi ? -EINVAL : 0;
}

static int parse_value(Stand *s, int c, const char *arg, const char **ready)
{
	double v;

	switch (c) {
	case O_DEVICE: return add_peer(s, arg);
	case O_READY: *ready = arg; return 0;
	case O_SCALE: return parse_number(arg, 0, 1000, &s->time_scale);
	}
	if (parse_number(arg, 0, 1e12, &v) < 0)
		return -EINVAL;
	switch (c) {
	case O_INTERVAL: if (v < 7.5 || v > 4000) return -EINVAL; s->link.interval_ms = v; return 0;
	case O_MTU: if (v < 23 || v > 517) return -EINVAL; s->link.mtu = (unsigned)v; return 0;
	case O_DLE: if (v < 27 || v > 251) return -EINVAL; s->link.data_length = (unsigned)v; return 0;
	case O_PPE: if (v < 1 || v > 64) return -EINVAL; s->link.packets_per_event = (unsigned)v; return 0;
	case O_BUF_SIZE: if (v < 64 || v > 65535) return -EINVAL; s->cfg.buf_size = (uint32_t)v; return 0;
	case O_BUF_COUNT: if (v < 1 || v > 32) return -EINVAL; s->cfg.buf_count = (uint32_t)v; return 0;
	case O_DISC_BYTES: s->disconnect_after_bytes = (uint64_t)v; return 0;
	case O_DROP_NOTIFY: s->drop_notify_every = (unsigned)v; return 0;
	default: return -EINVAL;
	}
}

static int parse(Stand *s, int argc, char **argv, const char **ready)
{
	static const struct option opts[] = {
		{ "device", 1, NULL, O_DEVICE }, { "known", 0, NULL, O_KNOWN }, { "conn-interval-ms", 1, NULL, O_INTERVAL },
		{ "mtu", 1, NULL, O_MTU }, { "data-length", 1, NULL, O_DLE }, { "packets-per-event", 1, NULL, O_PPE },
		{ "time-scale", 1, NULL, O_SCALE }, { "buf-size", 1, NULL, O_BUF_SIZE }, { "buf-count", 1, NULL, O_BUF_COUNT },
		{ "no-params", 0, NULL, O_NO_PARAMS }, { "no-storage-erase", 0, NULL, O_NO_STORAGE },
		{ "legacy", 0, NULL, O_LEGACY }, { "new-image-crashes", 0, NULL, O_CRASHES },
		{ "no-reassembly", 0, NULL, O_NO_REASM }, { "disconnect-after-bytes", 1, NULL, O_DISC_BYTES },
		{ "drop-notify", 1, NULL, O_DROP_NOTIFY }, { "acquire-notify-hangs", 0, NULL, O_NOTIFY_HANGS },
		{ "acquire-write-fails", 0, NULL, O_WRITE_FAILS }, { "ready-file", 1, NULL, O_READY },
		{ "verbose", 0, NULL, O_VERBOSE }, { "help", 0, NULL, O_HELP }, {}
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
		switch (c) {
		case O_KNOWN: s->known = true; break;
		case O_NO_PARAMS: s->cfg.params = false; break;
		case O_NO_STORAGE: s->cfg.storage_erase = false; break;
		case O_LEGACY: s->cfg.smp_v2 = false; s->cfg.legacy_rc = true; break;
		case O_CRASHES: s->cfg.new_image_crashes = true; break;
		case O_NO_REASM: s->reassembly = false; break;
		case O_NOTIFY_HANGS: s->acquire_notify_hangs = true; break;
		case O_WRITE_FAILS: s->acquire_write_fails = true; break;
		case O_VERBOSE: s->verbose = true; break;
		case O_HELP: usage(); return 1;
		case '?': return -EINVAL;
		default:
			if (parse_value(s, c, optarg, ready) < 0) {
				fprintf(stderr, "smpctl-bluez-sim: invalid value '%s' (see --help)\n", optarg);
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int write_ready(const char *path)
{
	char tmp[4096];
	FILE *f;

	if (!path)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "ready\n");
	fclose(f);
	return rename(tmp, path) < 0 ? -errno : 0;
}

int main(int argc, char **argv)
{
	static Stand s = { .time_scale = 1.0, .reassembly = true };
	const char *ready = NULL;
	sigset_t mask;
	int r;

	link_model_default(&s.link);
	sim_config_default(&s.cfg);
	r = parse(&s, argc, argv, &ready);
	if (r)
		return r > 0 ? 0 : 2;
	if (!getenv("DBUS_SYSTEM_BUS_ADDRESS")) {
		fprintf(stderr, "smpctl-bluez-sim: DBUS_SYSTEM_BUS_ADDRESS is not set: run it on a private bus, never on "
				"the real system bus (see tests/integration/with-bluez-sim)\n");
		return 2;
	}
	if (s.peer_count == 0)
		add_peer(&s, "C0:FF:EE:00:00:01,name=smpctl-sim");
	for (size_t i = 0; i < s.peer_count; i++)
		if (setup_peer(&s, &s.peers[i]) < 0)
			return 1;
	r = sd_event_default(&s.event);
	if (r >= 0)
		r = sd_bus_open_system(&s.bus);
	if (r >= 0)
		r = sd_bus_attach_event(s.bus, s.event, 0);
	if (r >= 0)
		r = objects_register(&s);
	if (r >= 0)
		r = sd_bus_request_name(s.bus, "org.bluez", 0);
	if (r < 0) {
		fprintf(stderr, "smpctl-bluez-sim: cannot serve org.bluez on %s: %s\n", getenv("DBUS_SYSTEM_BUS_ADDRESS"),
			strerror(-r));
		return 1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sd_event_add_signal(s.event, NULL, SIGINT, NULL, NULL);
	sd_event_add_signal(s.event, NULL, SIGTERM, NULL, NULL);
	if (write_ready(ready) < 0)
		return 1;
	r = sd_event_loop(s.event);
	sd_bus_flush_close_unref(s.bus);
	sd_event_unref(s.event);
	return r < 0 ? 1 : 0;
}
