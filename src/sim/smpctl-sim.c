/* SPDX-License-Identifier: MIT */
/*
 * smpctl-sim: one simulated nRF52833 (sim-device.h) served over UDP, one SMP frame per datagram, as
 * Zephyr's smp_udp.c does. The device handles one datagram at a time in device time (flash model × time
 * scale). Requests and responses share the buf_count net_bufs: a request waits in one, the request being
 * handled holds two (its own and its response's), and a datagram that finds no free buffer is dropped,
 * as on Zephyr; so at most buf_count − 1 requests are held at once (REFERENCE.md §6, §14). A request
 * whose response finds no buffer is answered {"rc": 2} (ENOMEM) in its own: all a device with a single
 * buffer ever says.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

#include "log.h"
#include "sim-device.h"
#include "sim-idle-host.h"
#include "sim-serial-host.h"
#include "smp.h"
#include "util.h"

#define SIM_QUEUE_MAX 32
#define SIM_DATAGRAM_MAX 65536

typedef struct Pending {
	uint8_t *data;
	size_t len;
	struct sockaddr_storage peer;
	socklen_t peer_len;
} Pending;

typedef struct Delayed Delayed;

typedef struct Host {
	SimConfig cfg;
	SimDevice *dev;
	sd_event *event;
	int fd;
	double time_scale;
	uint64_t delay_usec;
	unsigned drop_every, corrupt_response, wrong_seq;
	unsigned requests, responses;
	bool lose_reset_answer; /* the device restarts before its answer to a reset leaves */
	/* --lose-answer G:I:N: the answer to the Nth request of group G, command I is lost (the request
	 * itself is handled: a lost answer, not a lost request) */
	unsigned lose_group, lose_id, lose_nth, lose_seen;
	struct { unsigned group, id, nth, seen; } lose_request[4]; /* --lose-request: requests that never arrive */
	unsigned lose_requests;
	/* Datagram faults of a lossy network (UDP guarantees neither order nor uniqueness): every Nth answer
	 * sent twice, the Nth answer held back until after the next one, the Nth answer cut short */
	unsigned duplicate_every, reorder_nth, truncate_nth;
	Delayed *held;            /* --reorder-answer: the answer waiting for the next one */
	/* --random-rc SEED:P: a request is refused with rc 2, 6 or 8 with probability P/1000, unhandled */
	uint64_t rc_seed;
	unsigned rc_permille;
	/* --reboot-at-byte N: the device restarts once (a watchdog, a brown-out) when an upload reaches N
	 * bytes, before its answer leaves: the upload session lives in RAM and is lost, slot 1 keeps what
	 * was written */
	uint64_t reboot_at;
	bool rebooted;
	bool verbose;
	bool busy, offline;
	bool no_rsp_buffer;     /* the request being handled is answered rc 2 in its own buffer */
	Pending queue[SIM_QUEUE_MAX];
	size_t queued;
	uint8_t replies[8][SIM_DATAGRAM_MAX];
	size_t reply_len[8];
	size_t replies_count;
	sd_event_source *timer;
	Delayed *delayed;         /* answers waiting out --delay-ms, oldest first */
	sd_event_source *delay_timer;
	const char *listen;
	SimSerialConfig serial_cfg; /* --serial: a pty instead of UDP (sim-serial-host.h) */
	SimSerialHost *serial;
	SimIdleHost idle;           /* --idle-erase: the firmware's idle erase of slot 1 */
	const char *ready_file;
	bool print_port;
} Host;

/* Answers held back by --delay-ms: link latency, which does not keep the device busy. */
struct Delayed {
	Delayed *next;
	uint64_t due;             /* CLOCK_MONOTONIC µs */
	struct sockaddr_storage peer;
	socklen_t peer_len;
	size_t len;
	uint8_t frame[];
};

static uint64_t scaled(const Host *h, uint64_t device_usec)
{
	return (uint64_t)((double)device_usec * h->time_scale);
}

static void collect_reply(void *userdata, const uint8_t *frame, size_t len)
{
	Host *h = userdata;

	if (h->replies_count == ARRAY_SIZE(h->replies) || len > SIM_DATAGRAM_MAX)
		return;
	memcpy(h->replies[h->replies_count], frame, len);
	h->reply_len[h->replies_count++] = len;
}

/* Fault knobs for client tests: a garbled body, a wrong sequence number. */
static void apply_faults(Host *h, uint8_t *frame, size_t len)
{
	unsigned n = ++h->responses;

	if (h->corrupt_response && n == h->corrupt_response && len > SMP_HEADER_SIZE)
		memset(frame + SMP_HEADER_SIZE, 0xff, len - SMP_HEADER_SIZE);
	if (h->wrong_seq && n == h->wrong_seq)
		frame[6]++;
}

static void process_next(Host *h);

static int on_back(sd_event_source *s, uint64_t usec, void *userdata)
{
	Host *h = userdata;

	(void)s;
	(void)usec;
	sim_device_reboot(h->dev);
	sim_idle_host_update(&h->idle);
	h->offline = false;
	if (h->verbose)
		fprintf(stderr, "smpctl-sim: device is back\n");
	return 0;
}

static void go_offline(Host *h, uint64_t offline_usec)
{
	h->offline = true;
	sim_idle_host_stop(&h->idle);
	for (size_t i = 0; i < h->queued; i++)
		free(h->queue[i].data);
	h->queued = 0;
	if (h->verbose)
		fprintf(stderr, "smpctl-sim: reset: offline for %.1f s of device time\n", (double)offline_usec / 1e6);
	sd_event_add_time_relative(h->event, NULL, CLOCK_MONOTONIC, scaled(h, offline_usec), 1, on_back, h);
	if (h->serial)
		sim_serial_host_reset(h->serial);
}

static void delayed_arm(Host *h);

static void host_send(Host *h, const uint8_t *frame, size_t len, const struct sockaddr_storage *peer, socklen_t peer_len)
{
	if (h->serial)
		sim_serial_host_send(h->serial, frame, len);
	else
		sendto(h->fd, frame, len, MSG_NOSIGNAL, (const struct sockaddr *)peer, peer_len);
}

/* Sends the held answers that are due, in the order they were produced. */
static int on_delayed(sd_event_source *s, uint64_t usec, void *userdata)
{
	Host *h = userdata;

	(void)s;
	while (h->delayed && h->delayed->due <= usec) {
		Delayed *d = h->delayed;

		h->delayed = d->next;
		host_send(h, d->frame, d->len, &d->peer, d->peer_len);
		free(d);
	}
	delayed_arm(h);
	return 0;
}

static void delayed_arm(Host *h)
{
	h->delay_timer = sd_event_source_disable_unref(h->delay_timer);
	if (h->delayed)
		sd_event_add_time(h->event, &h->delay_timer, CLOCK_MONOTONIC, h->delayed->due, 1, on_delayed, h);
}

static void delayed_free_all(Host *h)
{
	while (h->delayed) {
		Delayed *d = h->delayed;

		h->delayed = d->next;
		free(d);
	}
	h->delay_timer = sd_event_source_disable_unref(h->delay_timer);
}

static void send_answer(Host *h, const Pending *p, const uint8_t *frame, size_t len)
{
	Delayed *d, **tail;
	uint64_t now = 0;

	if (h->delay_usec == 0) {
		host_send(h, frame, len, &p->peer, p->peer_len);
		return;
	}
	d = malloc(sizeof(*d) + len);
	if (!d)
		return;
	sd_event_now(h->event, CLOCK_MONOTONIC, &now);
	*d = (Delayed){ .due = now + h->delay_usec, .peer = p->peer, .peer_len = p->peer_len, .len = len };
	memcpy(d->frame, frame, len);
	for (tail = &h->delayed; *tail; tail = &(*tail)->next)
		;
	*tail = d;
	if (!h->delay_timer)
		delayed_arm(h);
}

/* --duplicate-answer, --reorder-answer, --truncate-answer: what a lossy network does to a datagram. */
static void send_faulty(Host *h, const Pending *p, const uint8_t *frame, size_t len)
{
	unsigned n = h->responses;
	Delayed *held = h->held;

	if (h->truncate_nth == n)
		len /= 2;
	if (h->reorder_nth == n) {
		h->held = malloc(sizeof(*h->held) + len);
		if (h->held) {
			*h->held = (Delayed){ .peer = p->peer, .peer_len = p->peer_len, .len = len };
			memcpy(h->held->frame, frame, len);
		}
		return;
	}
	send_answer(h, p, frame, len);
	if (h->duplicate_every && n % h->duplicate_every == 0)
		send_answer(h, p, frame, len);
	if (held) {
		h->held = NULL;
		send_answer(h, &(Pending){ .peer = held->peer, .peer_len = held->peer_len }, held->frame, held->len);
		free(held);
	}
}

/* --random-rc: xorshift64 draws, so that a seed replays the same refusals. */
static int32_t random_refusal(Host *h)
{
	static const int32_t rcs[] = { 2, 6, 8 }; /* MGMT_ERR_ENOMEM, EBADSTATE, ENOTSUP */

	if (!h->rc_permille)
		return 0;
	h->rc_seed ^= h->rc_seed << 13;
	h->rc_seed ^= h->rc_seed >> 7;
	h->rc_seed ^= h->rc_seed << 17;
	if (h->rc_seed % 1000 >= h->rc_permille)
		return 0;
	return rcs[(h->rc_seed >> 20) % ARRAY_SIZE(rcs)];
}

static bool answer_to_lose(Host *h, const Pending *p)
{
	SmpHeader hdr;

	if (!h->lose_nth || smp_header_decode(p->data, p->len, &hdr) < 0 || hdr.group != h->lose_group ||
	    hdr.id != h->lose_id)
		return false;
	return ++h->lose_seen == h->lose_nth;
}

static bool reboots_now(Host *h)
{
	if (!h->reboot_at || h->rebooted || sim_device_upload_offset(h->dev) < h->reboot_at)
		return false;
	h->rebooted = true;
	if (h->verbose)
		fprintf(stderr, "smpctl-sim: the device restarts mid-upload at %" PRIu64 " bytes (fault knob)\n",
			sim_device_upload_offset(h->dev));
	return true;
}

static int on_done(sd_event_source *s, uint64_t usec, void *userdata)
{
	Host *h = userdata;
	Pending *p = &h->queue[0];
	uint64_t offline = 300 * 1000; /* a restart without a swap: the application's boot */
	bool reboot = reboots_now(h);

	(void)s;
	(void)usec;
	h->timer = sd_event_source_disable_unref(h->timer);
	if (answer_to_lose(h, p)) {
		if (h->verbose)
			fprintf(stderr, "smpctl-sim: the answer to request %u of group %u command %u is lost (fault knob)\n",
				h->lose_nth, h->lose_group, h->lose_id);
		h->replies_count = 0;
	}
	if ((h->lose_reset_answer && sim_device_reset_requested(h->dev)) || reboot) {
		if (h->verbose && !reboot)
			fprintf(stderr, "smpctl-sim: the answer to the reset is lost (fault knob)\n");
		h->replies_count = 0;
	}
	for (size_t i = 0; i < h->replies_count; i++) {
		apply_faults(h, h->replies[i], h->reply_len[i]);
		send_faulty(h, p, h->replies[i], h->reply_len[i]);
	}
	free(p->data);
	memmove(h->queue, h->queue + 1, (h->queued - 1) * sizeof(h->queue[0]));
	h->queued--;
	h->busy = false;
	sim_idle_host_update(&h->idle); /* a confirm starts the idle delay anew */
	if (sim_device_take_reset(h->dev, &offline) || reboot)
		go_offline(h, offline);
	else
		process_next(h);
	return 0;
}

/* Buffers in use: one per held request (the one being handled included), plus the response buffer of
 * the one being handled when it got one. */
static size_t buffers_used(const Host *h)
{
	return h->queued + (h->busy && !h->no_rsp_buffer ? 1u : 0u);
}

static bool buffer_free(const Host *h)
{
	return buffers_used(h) < h->cfg.buf_count;
}

/* The response needs a buffer of its own (smp_alloc_rsp); without one the request is answered {"rc": 2}
 * in its own buffer (smp_on_err). */
static void process_next(Host *h)
{
	uint64_t device_usec = 0;
	int32_t refusal;

	if (h->busy || h->queued == 0)
		return;
	h->no_rsp_buffer = buffers_used(h) + 1 > h->cfg.buf_count;
	h->busy = true;
	h->replies_count = 0;
	refusal = random_refusal(h);
	if (h->no_rsp_buffer)
		sim_device_answer_no_buffer(h->dev, h->queue[0].data, h->queue[0].len, collect_reply, h);
	else if (refusal)
		sim_device_refuse(h->dev, h->queue[0].data, h->queue[0].len, refusal, collect_reply, h);
	else
		device_usec = sim_device_process(h->dev, h->queue[0].data, h->queue[0].len, collect_reply, h);
	/* A page of the idle erase in progress is finished first. */
	sd_event_add_time_relative(h->event, &h->timer, CLOCK_MONOTONIC,
				   sim_idle_host_wait_usec(&h->idle) + scaled(h, device_usec) +
					   sim_device_take_stall_usec(h->dev), 1, on_done, h);
}

static void host_accept(Host *h, const uint8_t *buf, size_t n, Pending *pending);

static int on_datagram(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	static uint8_t buf[SIM_DATAGRAM_MAX];
	Host *h = userdata;
	Pending p = { .peer_len = sizeof(p.peer) };
	ssize_t n;

	(void)s;
	(void)revents;
	n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&p.peer, &p.peer_len);
	if (n <= 0)
		return 0;
	host_accept(h, buf, (size_t)n, &p);
	return 0;
}

/* --lose-request G:I:N: the Nth request of group G, command I is lost on the way (the device never sees it). */
static bool request_to_lose(Host *h, const uint8_t *buf, size_t n)
{
	SmpHeader hdr;

	if (!h->lose_requests || smp_header_decode(buf, n, &hdr) < 0)
		return false;
	for (unsigned i = 0; i < h->lose_requests; i++)
		if (hdr.group == h->lose_request[i].group && hdr.id == h->lose_request[i].id &&
		    ++h->lose_request[i].seen == h->lose_request[i].nth) {
			if (h->verbose)
				fprintf(stderr, "smpctl-sim: request %u of group %u command %u is lost (fault knob)\n",
					h->lose_request[i].nth, hdr.group, hdr.id);
			return true;
		}
	return false;
}

/* A request frame arrived (a datagram, or a frame reassembled from the serial port). */
static void host_accept(Host *h, const uint8_t *buf, size_t n, Pending *pending)
{
	Pending p = *pending;

	h->requests++;
	if (request_to_lose(h, buf, n))
		return;
	/* Gone (resetting), a deliberate drop, or no free net_buf: the frame is lost, as on Zephyr. */
	if (h->offline || (h->drop_every && h->requests % h->drop_every == 0) || !buffer_free(h) ||
	    h->queued >= SIM_QUEUE_MAX) {
		if (h->verbose)
			fprintf(stderr, "smpctl-sim: dropped request %u\n", h->requests);
		return;
	}
	p.data = malloc(n);
	if (!p.data)
		return;
	memcpy(p.data, buf, n);
	p.len = n;
	h->queue[h->queued++] = p;
	process_next(h);
}

static void on_serial_frame(void *userdata, const uint8_t *frame, size_t len)
{
	host_accept(userdata, frame, len, &(Pending){ 0 });
}

/* "HOST:PORT", "[V6]:PORT". */
static int bind_listen(Host *h)
{
	char host[128], *port;
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *res;
	const char *spec = h->listen;
	int r;

	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (!close || close[1] != ':' || (size_t)(close - spec) >= sizeof(host))
			return -EINVAL;
		snprintf(host, sizeof(host), "%.*s", (int)(close - spec - 1), spec + 1);
		port = (char *)close + 2;
	} else {
		snprintf(host, sizeof(host), "%s", spec);
		port = strrchr(host, ':');
		if (!port)
			return -EINVAL;
		*port++ = '\0';
	}
	r = getaddrinfo(host, port, &hints, &res);
	if (r != 0)
		return -EADDRNOTAVAIL;
	h->fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	r = h->fd < 0 || bind(h->fd, res->ai_addr, res->ai_addrlen) < 0 ? -errno : 0;
	freeaddrinfo(res);
	return r;
}

static int write_ready(Host *h)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char tmp[4096];
	FILE *f;
	unsigned port;

	if (getsockname(h->fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					       : ((struct sockaddr_in *)&ss)->sin_port);
	if (h->print_port) {
		printf("%u\n", port);
		fflush(stdout);
	}
	if (h->verbose || (!h->ready_file && !h->print_port))
		fprintf(stderr, "smpctl-sim: simulated nRF52833 listening on UDP port %u\n", port);
	if (!h->ready_file)
		return 0;
	/* Written whole, then renamed: a reader never sees half a line. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", h->ready_file);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "%u\n", port);
	fclose(f);
	return rename(tmp, h->ready_file) < 0 ? -errno : 0;
}

static void usage(void)
{
	printf("Usage: smpctl-sim [OPTIONS]\n\n"
	       "A simulated nRF52833 running Zephyr 4.1's mcumgr SMP server and MCUboot (swap-using-move), on UDP.\n\n"
	       "Where and how fast:\n"
	       "  --listen ADDR:PORT       where to listen (default 127.0.0.1:1337; [::1]:1337 for IPv6; port 0 = any)\n"
	       "  --ready-file PATH        write the bound port there once listening\n"
	       "  --print-port             print the bound port on stdout once listening\n"
	       "  --time-scale X           device time x X: 1 real (default), 0 instant\n"
	       "The firmware (defaults follow firmware/prj.conf):\n"
	       "  --buf-size N             MCUmgr buffer size (default 2475)\n"
	       "  --buf-count N            MCUmgr buffer count (default 4)\n"
	       "  --app-version V          version of the factory image in slot 0 (default 1.0.0)\n"
	       "  --no-params              no MCUmgr params command (answers rc 8)\n"
	       "  --legacy                 a pre-v2 server (older nRF Connect SDK): v1 headers only, \"rc\": 0 on success\n"
	       "  --progressive-erase      erase each page when the upload reaches it (CONFIG_IMG_ERASE_PROGRESSIVELY)\n"
	       "  --no-progressive-erase   erase the upload's length on the first chunk unless the slot is blank\n"
	       "                           (the default, as the firmware)\n"
	       "  --no-image-check         no \"match\" on the last upload answer\n"
	       "  --no-storage-erase       no Zephyr basic storage erase (answers rc 8)\n"
	       "  --no-verbose-errors      no \"rsn\" in error answers\n"
	       "  --frugal-list            image list without false flags and splitStatus\n"
	       "  --no-slot-info           no image slot info command (answers rc 8)\n"
	       "  --update-footer N        bytes kept free for MCUboot (CONFIG_MCUMGR_GRP_IMG_TOO_LARGE_SYSBUILD):\n"
	       "                           larger uploads are refused (default 8192; 0 = no such check)\n"
	       "  --build-date             OS info knows letter b (build date and time)\n"
	       "  --datetime               the device has an RTC (date-time command)\n"
	       "  --no-downgrade           MCUboot refuses older images (bootloader info says so)\n"
	       "  --no-bootloader-info     no OS bootloader info command (answers rc 8; Zephyr 4.1's default): the\n"
	       "                           device does not tell MCUboot's mode\n"
	       "  --new-image-crashes      a tested image never confirms: MCUboot reverts it\n"
	       "  --idle-erase[=SECONDS]   erase slot 1 page by page SECONDS (default 5) after a confirmed boot or a\n"
	       "                           confirm, unless an upload begins (CONFIG_SMPCTL_FW_IDLE_ERASE_SECONDARY)\n"
	       "  --no-stat                no statistics group (answers rc 8)\n"
	       "  --stat-sample            smp_svr's statistics group smp_svr_stats (field ticks)\n"
	       "  --taskstat               task statistics (OS command 2)\n"
	       "  --shell                  the shell group, with kernel version and kernel sleep\n"
	       "  --enum                   the enumeration group (count, list, single)\n"
	       "  --enum-details           ... and its details command (names, handler counts)\n"
	       "  --fs                     the file system group: files at /lfs1, status, crc32\n"
	       "  --fs-sha256              ... and sha256\n"
	       "  --images N               updatable images (1 or 2): image 1, a network core, has slots 2 and 3\n"
	       "  --direct-xip             MCUboot in direct-xip mode (no revert): the newest valid image of either slot\n"
	       "                           runs where it lies, uploads go to the slot that does not run, no state\n"
	       "                           write (rc 8); one image, without --idle-erase, --new-image-crashes or\n"
	       "                           --power-loss-in-swap\n"
	       "  --reset-veto             the application refuses a reset (rc 10, EBUSY) unless forced\n"
	       "  --settings               the settings group, with the interop fixture's prov/ keys\n"
	       "Faults for client tests:\n"
	       "  --drop-every N           drop every Nth request\n"
	       "  --delay-ms N             deliver every answer N ms late (link latency; the device is not slowed)\n"
	       "  --corrupt-response N     garble the body of the Nth answer\n"
	       "  --wrong-seq N            give the Nth answer a wrong sequence number\n"
	       "  --lose-reset-answer      the device restarts before its answer to a reset goes out\n"
	       "  --lose-answer G:I:N      the answer to the Nth request of group G, command I is lost\n"
	       "  --lose-request G:I:N     the Nth request of group G, command I never arrives (up to 4 of these)\n"
	       "  --duplicate-answer N     send every Nth answer twice (a duplicated datagram)\n"
	       "  --reorder-answer N       hold the Nth answer back until the next one has gone\n"
	       "  --truncate-answer N      cut the Nth answer to half its length\n"
	       "  --random-rc SEED:P       refuse a request with rc 2, 6 or 8, unhandled, with probability P/1000\n"
	       "  --power-loss-in-swap     the power fails once half way through MCUboot's swap (it resumes)\n"
	       "  --reboot-at-byte N       the device restarts once when an upload reaches N bytes, before answering\n"
	       "  --slow-erase MS          the first chunk of every upload is answered MS ms late (real time, not\n"
	       "                           scaled): a flash slow to erase the slot; later frames wait behind it\n"
	       "  (SIGUSR1 turns every fault above off: the link is healthy again, the device state stays)\n"
	       "  --verbose                log what happens on stderr\n"
	       "  --help                   this help\n");
	sim_serial_usage();
}

enum {
	OPT_LISTEN = 0x100, OPT_READY, OPT_SCALE, OPT_BUF_SIZE, OPT_BUF_COUNT, OPT_APP_VERSION, OPT_DROP,
	OPT_DELAY, OPT_CORRUPT, OPT_WRONG_SEQ, OPT_UPDATE_FOOTER, OPT_LOSE_ANSWER, OPT_LOSE_REQUEST, OPT_IMAGES, OPT_IDLE_ERASE,
	OPT_DUPLICATE, OPT_REORDER, OPT_TRUNCATE, OPT_RANDOM_RC, OPT_REBOOT_AT, OPT_SLOW_ERASE,
	OPT_FLAGS_FIRST, /* options without a value from here on */
	OPT_NO_PARAMS = OPT_FLAGS_FIRST, OPT_LEGACY, OPT_NO_PROGRESSIVE, OPT_PROGRESSIVE, OPT_NO_CHECK, OPT_NO_STORAGE, OPT_NO_VERBOSE_ERR,
	OPT_FRUGAL, OPT_NO_SLOT_INFO, OPT_BUILD_DATE, OPT_DATETIME, OPT_NO_DOWNGRADE, OPT_NO_BOOTLOADER_INFO, OPT_CRASHES, OPT_PRINT_PORT,
	OPT_LOSE_RESET, OPT_NO_STAT, OPT_STAT_SAMPLE, OPT_TASKSTAT, OPT_SHELL, OPT_ENUM, OPT_ENUM_DETAILS,
	OPT_FS, OPT_FS_SHA256, OPT_SETTINGS, OPT_RESET_VETO, OPT_POWER_LOSS, OPT_DIRECT_XIP,
	OPT_VERBOSE, OPT_HELP,
};

#define OPT_SERIAL 0x300 /* the serial options, handled by sim-serial-host.c by name */

static const struct option sim_options[] = {
	{ "serial", required_argument, NULL, OPT_SERIAL },
	{ "framing", required_argument, NULL, OPT_SERIAL },
	{ "baud", required_argument, NULL, OPT_SERIAL },
	{ "line", required_argument, NULL, OPT_SERIAL },
	{ "rxbufs", required_argument, NULL, OPT_SERIAL },
	{ "line-us", required_argument, NULL, OPT_SERIAL },
	{ "link", required_argument, NULL, OPT_SERIAL },
	{ "recovery", required_argument, NULL, OPT_SERIAL },
	{ "reenumerate", required_argument, NULL, OPT_SERIAL },
	{ "unplug-at", required_argument, NULL, OPT_SERIAL },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "ready-file", required_argument, NULL, OPT_READY },
	{ "time-scale", required_argument, NULL, OPT_SCALE },
	{ "buf-size", required_argument, NULL, OPT_BUF_SIZE },
	{ "buf-count", required_argument, NULL, OPT_BUF_COUNT },
	{ "app-version", required_argument, NULL, OPT_APP_VERSION },
	{ "drop-every", required_argument, NULL, OPT_DROP },
	{ "delay-ms", required_argument, NULL, OPT_DELAY },
	{ "corrupt-response", required_argument, NULL, OPT_CORRUPT },
	{ "wrong-seq", required_argument, NULL, OPT_WRONG_SEQ },
	{ "update-footer", required_argument, NULL, OPT_UPDATE_FOOTER },
	{ "lose-answer", required_argument, NULL, OPT_LOSE_ANSWER },
	{ "lose-request", required_argument, NULL, OPT_LOSE_REQUEST },
	{ "lose-reset-answer", no_argument, NULL, OPT_LOSE_RESET },
	{ "duplicate-answer", required_argument, NULL, OPT_DUPLICATE },
	{ "reorder-answer", required_argument, NULL, OPT_REORDER },
	{ "truncate-answer", required_argument, NULL, OPT_TRUNCATE },
	{ "random-rc", required_argument, NULL, OPT_RANDOM_RC },
	{ "reboot-at-byte", required_argument, NULL, OPT_REBOOT_AT },
	{ "slow-erase", required_argument, NULL, OPT_SLOW_ERASE },
	{ "power-loss-in-swap", no_argument, NULL, OPT_POWER_LOSS },
	{ "no-params", no_argument, NULL, OPT_NO_PARAMS },
	{ "legacy", no_argument, NULL, OPT_LEGACY },
	{ "no-progressive-erase", no_argument, NULL, OPT_NO_PROGRESSIVE },
	{ "progressive-erase", no_argument, NULL, OPT_PROGRESSIVE },
	{ "no-image-check", no_argument, NULL, OPT_NO_CHECK },
	{ "no-storage-erase", no_argument, NULL, OPT_NO_STORAGE },
	{ "no-verbose-errors", no_argument, NULL, OPT_NO_VERBOSE_ERR },
	{ "frugal-list", no_argument, NULL, OPT_FRUGAL },
	{ "no-slot-info", no_argument, NULL, OPT_NO_SLOT_INFO },
	{ "build-date", no_argument, NULL, OPT_BUILD_DATE },
	{ "datetime", no_argument, NULL, OPT_DATETIME },
	{ "no-downgrade", no_argument, NULL, OPT_NO_DOWNGRADE },
	{ "no-bootloader-info", no_argument, NULL, OPT_NO_BOOTLOADER_INFO },
	{ "new-image-crashes", no_argument, NULL, OPT_CRASHES },
	{ "idle-erase", optional_argument, NULL, OPT_IDLE_ERASE },
	{ "no-stat", no_argument, NULL, OPT_NO_STAT },
	{ "stat-sample", no_argument, NULL, OPT_STAT_SAMPLE },
	{ "taskstat", no_argument, NULL, OPT_TASKSTAT },
	{ "shell", no_argument, NULL, OPT_SHELL },
	{ "enum", no_argument, NULL, OPT_ENUM },
	{ "enum-details", no_argument, NULL, OPT_ENUM_DETAILS },
	{ "fs", no_argument, NULL, OPT_FS },
	{ "fs-sha256", no_argument, NULL, OPT_FS_SHA256 },
	{ "settings", no_argument, NULL, OPT_SETTINGS },
	{ "reset-veto", no_argument, NULL, OPT_RESET_VETO },
	{ "images", required_argument, NULL, OPT_IMAGES },
	{ "direct-xip", no_argument, NULL, OPT_DIRECT_XIP },
	{ "print-port", no_argument, NULL, OPT_PRINT_PORT },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "help", no_argument, NULL, OPT_HELP },
	{}
};

static int number(const char *text, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(text, &end, 10);
	return errno || end == text || *end || *out > max ? -EINVAL : 0;
}

static int parse_value_option(Host *h, int c, const char *arg)
{
	unsigned long v = 0;
	char *end;

	switch (c) {
	case OPT_LISTEN: h->listen = arg; return 0;
	case OPT_READY: h->ready_file = arg; return 0;
	case OPT_APP_VERSION: snprintf(h->cfg.app_version, sizeof(h->cfg.app_version), "%s", arg); return 0;
	case OPT_SCALE:
		h->time_scale = strtod(arg, &end);
		return *end || h->time_scale < 0 || h->time_scale > 1000 ? -EINVAL : 0;
	case OPT_BUF_SIZE:
		if (number(arg, 65535, &v) < 0 || v < 64)
			return -EINVAL;
		h->cfg.buf_size = (uint32_t)v;
		return 0;
	case OPT_IMAGES:
		if (number(arg, SIM_IMAGES_MAX, &v) < 0 || v < 1)
			return -EINVAL;
		h->cfg.images = (unsigned)v;
		return 0;
	case OPT_BUF_COUNT:
		if (number(arg, SIM_QUEUE_MAX, &v) < 0 || v < 1)
			return -EINVAL;
		h->cfg.buf_count = (uint32_t)v;
		return 0;
	case OPT_UPDATE_FOOTER:
		if (number(arg, SIM_SLOT_SIZE - 1, &v) < 0)
			return -EINVAL;
		h->cfg.update_footer = (uint32_t)v;
		return 0;
	case OPT_IDLE_ERASE: /* CONFIG_SMPCTL_FW_IDLE_ERASE_DELAY_S: 1..3600, default 5 */
		if (!arg)
			v = 5;
		else if (number(arg, 3600, &v) < 0 || v < 1)
			return -EINVAL;
		h->cfg.idle_erase_ms = (uint32_t)v * 1000;
		return 0;
	case OPT_LOSE_ANSWER:
		if (sscanf(arg, "%u:%u:%u", &h->lose_group, &h->lose_id, &h->lose_nth) != 3 || !h->lose_nth)
			return -EINVAL;
		return 0;
	case OPT_LOSE_REQUEST: {
		unsigned i = h->lose_requests;

		if (i >= ARRAY_SIZE(h->lose_request) ||
		    sscanf(arg, "%u:%u:%u", &h->lose_request[i].group, &h->lose_request[i].id, &h->lose_request[i].nth) != 3 ||
		    !h->lose_request[i].nth)
			return -EINVAL;
		h->lose_requests++;
		return 0;
	}
	case OPT_DROP: if (number(arg, 1000000, &v) < 0) return -EINVAL; h->drop_every = (unsigned)v; return 0;
	case OPT_DELAY: if (number(arg, 60000, &v) < 0) return -EINVAL; h->delay_usec = v * 1000; return 0;
	case OPT_CORRUPT: if (number(arg, 1000000, &v) < 0) return -EINVAL; h->corrupt_response = (unsigned)v; return 0;
	case OPT_WRONG_SEQ: if (number(arg, 1000000, &v) < 0) return -EINVAL; h->wrong_seq = (unsigned)v; return 0;
	case OPT_DUPLICATE: if (number(arg, 1000000, &v) < 0) return -EINVAL; h->duplicate_every = (unsigned)v; return 0;
	case OPT_REORDER: if (number(arg, 1000000, &v) < 0) return -EINVAL; h->reorder_nth = (unsigned)v; return 0;
	case OPT_TRUNCATE: if (number(arg, 1000000, &v) < 0) return -EINVAL; h->truncate_nth = (unsigned)v; return 0;
	case OPT_SLOW_ERASE:
		if (number(arg, 600000, &v) < 0)
			return -EINVAL;
		h->cfg.slow_erase_ms = (uint32_t)v;
		return 0;
	case OPT_REBOOT_AT: if (number(arg, SIM_SLOT_SIZE, &v) < 0 || !v) return -EINVAL; h->reboot_at = v; return 0;
	case OPT_RANDOM_RC:
		if (sscanf(arg, "%" SCNu64 ":%u", &h->rc_seed, &h->rc_permille) != 2 || !h->rc_seed || h->rc_permille > 1000)
			return -EINVAL;
		return 0;
	default: return -EINVAL;
	}
}

static int parse_flag_option(Host *h, int c)
{
	switch (c) {
	case OPT_NO_PARAMS: h->cfg.params = false; break;
	case OPT_LEGACY: h->cfg.smp_v2 = false; h->cfg.legacy_rc = true; break;
	case OPT_NO_PROGRESSIVE: h->cfg.progressive_erase = false; break;
	case OPT_PROGRESSIVE: h->cfg.progressive_erase = true; break;
	case OPT_NO_CHECK: h->cfg.image_check = false; break;
	case OPT_NO_STORAGE: h->cfg.storage_erase = false; break;
	case OPT_NO_VERBOSE_ERR: h->cfg.verbose_errors = false; break;
	case OPT_FRUGAL: h->cfg.frugal_list = true; break;
	case OPT_NO_SLOT_INFO: h->cfg.slot_info = false; break;
	case OPT_BUILD_DATE: h->cfg.info_build_date = true; break;
	case OPT_DATETIME: h->cfg.datetime = true; break;
	case OPT_NO_DOWNGRADE: h->cfg.no_downgrade = true; break;
	case OPT_NO_BOOTLOADER_INFO: h->cfg.bootloader_info = false; break;
	case OPT_CRASHES: h->cfg.new_image_crashes = true; break;
	case OPT_NO_STAT: h->cfg.stat = false; break;
	case OPT_STAT_SAMPLE: h->cfg.stat_sample = true; break;
	case OPT_TASKSTAT: h->cfg.taskstat = true; break;
	case OPT_SHELL: h->cfg.shell = true; break;
	case OPT_ENUM: h->cfg.enumeration = true; break;
	case OPT_ENUM_DETAILS: h->cfg.enumeration = h->cfg.enum_details = true; break;
	case OPT_FS: h->cfg.fs = true; break;
	case OPT_FS_SHA256: h->cfg.fs = h->cfg.fs_sha256 = true; break;
	case OPT_SETTINGS: h->cfg.settings = true; break;
	case OPT_RESET_VETO: h->cfg.reset_veto = true; break;
	case OPT_LOSE_RESET: h->lose_reset_answer = true; break;
	case OPT_POWER_LOSS: h->cfg.power_loss_in_swap = true; break;
	case OPT_DIRECT_XIP: h->cfg.direct_xip = true; break;
	case OPT_PRINT_PORT: h->print_port = true; break;
	case OPT_VERBOSE: h->verbose = true; break;
	default: return -EINVAL;
	}
	return 0;
}

static int parse_options(Host *h, int argc, char **argv)
{
	int c, idx = 0;

	while ((c = getopt_long(argc, argv, "", sim_options, &idx)) >= 0) {
		if (c == OPT_SERIAL && sim_serial_option(&h->serial_cfg, sim_options[idx].name, optarg) < 0) {
			fprintf(stderr, "smpctl-sim: invalid value '%s' for --%s (see --help)\n", optarg, sim_options[idx].name);
			return -EINVAL;
		}
		if (c == OPT_SERIAL)
			continue;
		if (c == OPT_HELP) {
			usage();
			return 1;
		}
		if (c == '?')
			return -EINVAL;
		if (c >= OPT_FLAGS_FIRST) {
			parse_flag_option(h, c);
			continue;
		}
		if (parse_value_option(h, c, optarg) < 0) {
			fprintf(stderr, "smpctl-sim: invalid value '%s' for --%s (see --help)\n", optarg,
				sim_options[idx].name);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "smpctl-sim: unexpected argument '%s' (see --help)\n", argv[optind]);
		return -EINVAL;
	}
	if (h->cfg.direct_xip && (h->cfg.images > 1 || h->cfg.idle_erase_ms || h->cfg.new_image_crashes ||
				  h->cfg.power_loss_in_swap)) {
		fprintf(stderr, "smpctl-sim: --direct-xip takes one image and no --idle-erase, --new-image-crashes or "
			"--power-loss-in-swap (Zephyr's img_mgmt has direct-xip for one image; nothing swaps)\n");
		return -EINVAL;
	}
	return 0;
}

/* SIGUSR1: the faults are over (a campaign's rerun meets a healthy link); the device keeps its state.
 * Answers already held back still go out. */
static int on_faults_off(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	Host *h = userdata;

	(void)s;
	(void)si;
	h->drop_every = h->corrupt_response = h->wrong_seq = h->lose_nth = h->lose_requests = 0;
	h->duplicate_every = h->reorder_nth = h->truncate_nth = h->rc_permille = 0;
	h->delay_usec = h->reboot_at = 0;
	h->lose_reset_answer = false;
	sim_device_faults_off(h->dev);
	if (h->verbose)
		fprintf(stderr, "smpctl-sim: faults off (SIGUSR1)\n");
	return 0;
}

static void sim_log(const char *line)
{
	fprintf(stderr, "smpctl-sim: %s\n", line);
}

static int serial_start(Host *h)
{
	h->serial_cfg.buf_size = h->cfg.buf_size;
	h->serial_cfg.time_scale = h->time_scale;
	h->serial_cfg.verbose = h->verbose;
	h->serial_cfg.device = h->dev;
	return sim_serial_host_new(h->event, &h->serial_cfg, on_serial_frame, h, &h->serial);
}

int main(int argc, char **argv)
{
	static Host h = { .fd = -1, .time_scale = 1.0, .listen = "127.0.0.1:1337" };
	sigset_t mask;
	int r;

	sim_config_default(&h.cfg);
	sim_serial_config_default(&h.serial_cfg);
	r = parse_options(&h, argc, argv);
	if (r)
		return r > 0 ? 0 : 2;
	if (h.verbose)
		log_set_sink(sim_log);
	r = h.serial_cfg.link ? 0 : bind_listen(&h);
	if (r < 0) {
		fprintf(stderr, "smpctl-sim: cannot listen on %s: %s\n", h.listen, strerror(-r));
		return 1;
	}
	if (sim_device_new(&h.cfg, &h.dev) < 0 || sd_event_default(&h.event) < 0)
		return 1;
	h.idle = (SimIdleHost){ .event = h.event, .dev = h.dev, .time_scale = h.time_scale };
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sd_event_add_signal(h.event, NULL, SIGINT, NULL, NULL);
	sd_event_add_signal(h.event, NULL, SIGTERM, NULL, NULL);
	sd_event_add_signal(h.event, NULL, SIGUSR1, on_faults_off, &h);
	if (h.serial_cfg.link && (r = serial_start(&h)) < 0) {
		fprintf(stderr, "smpctl-sim: cannot serve on a serial port: %s\n", strerror(-r));
		return 1;
	}
	if (!h.serial)
		sd_event_add_io(h.event, NULL, h.fd, EPOLLIN, on_datagram, &h);
	r = h.serial ? sim_serial_host_announce(h.serial, h.ready_file, h.print_port) : write_ready(&h);
	if (r < 0) {
		fprintf(stderr, "smpctl-sim: cannot write %s: %s\n", h.ready_file, strerror(-r));
		return 1;
	}
	sim_idle_host_update(&h.idle);
	r = sd_event_loop(h.event);
	for (size_t i = 0; i < h.queued; i++)
		free(h.queue[i].data);
	delayed_free_all(&h);
	free(h.held);
	h.timer = sd_event_source_disable_unref(h.timer);
	sim_idle_host_stop(&h.idle);
	sim_device_free(h.dev);
	sim_serial_host_free(h.serial);
	sd_event_unref(h.event);
	if (h.fd >= 0)
		close(h.fd);
	return r < 0 ? 1 : 0;
}
