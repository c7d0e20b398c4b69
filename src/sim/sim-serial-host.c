/* SPDX-License-Identifier: MIT */
/* The simulated device's serial port on a pty, with the UART timing model of sim-serial-host.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>

#include "sim-recovery.h"
#include "sim-device.h"
#include "sim-serial-host.h"
#include "util.h"

#define SIM_SERIAL_RXBUFS_MAX 64

typedef struct TxChunk {
	struct TxChunk *next;
	uint64_t due;            /* CLOCK_MONOTONIC µs: the last byte has left the device's UART */
	size_t len;
	uint8_t data[];
} TxChunk;

struct SimSerialHost {
	SimSerialConfig cfg;
	sd_event *event;
	int master, slave;       /* the slave stays open here so the master never sees a hang-up */
	char path[128];
	sd_event_source *io, *tx_timer;
	SimSerialFrameFn on_frame;
	void *userdata;
	SimRecovery *recovery;   /* --recovery: MCUboot answers, not the application, until a reset */
	sd_event_source *restart; /* MCUboot restarting after a reset in recovery: nothing answers */
	sd_event_source *unplug;  /* the port goes away (re-enumeration), then comes back */
	bool unplugged_once;      /* --unplug-at happened */
	SerialDeframer rx;
	/* receive model, console */
	uint64_t release[SIM_SERIAL_RXBUFS_MAX]; /* lines received, not yet decoded: when each frees */
	size_t held;
	bool in_line, ignoring;
	size_t line_len;
	uint8_t *line;
	uint64_t decoder_free;   /* the work item is done with the lines before by then */
	uint64_t rx_wire;        /* when the last byte reached the device */
	uint64_t dropped_lines;
	/* transmit */
	TxChunk *tx_head;
	uint64_t tx_free;
};

void sim_serial_config_default(SimSerialConfig *cfg)
{
	*cfg = (SimSerialConfig){ .framing = SERIAL_FRAMING_CONSOLE, .baud = 115200, .line = 128, .rxbufs = 2,
				  .line_usec = 500, .buf_size = 2475, .time_scale = 1.0 };
}

void sim_serial_usage(void)
{
	printf("Serial port instead of UDP (a pty; UART timing model):\n"
	       "  --serial PATH|auto       serve on a pty: PATH is made a symlink to it; auto uses /dev/pts/N as is\n"
	       "                           (--ready-file and the log name the path)\n"
	       "  --framing F              console (default, Zephyr's SMP over console), raw or cobs (experimental)\n"
	       "  --baud N                 the device's UART rate (default 115200); a client at another rate gets garbage\n"
	       "  --line N                 receive buffer size, the longest line taken with its newline (default 128)\n"
	       "  --rxbufs N               receive buffers (default 2): a line finding none free is dropped\n"
	       "  --line-us N              time to decode one line, µs, one line at a time (default 500)\n"
	       "  --link uart|usb          uart (default): the client's bytes reach the device at most at the baud rate;\n"
	       "                           usb: as fast as they come, as over USB CDC-ACM (or Zephyr's native_sim pty)\n"
	       "  --recovery LIST          MCUboot serial recovery instead of the application, built with LIST: none or\n"
	       "                           echo,hash,state,slot-info,direct (BOOT_MGMT_ECHO, ..._IMG_GRP_HASH, _IMAGE_STATE,\n"
	       "                           _SLOT_INFO, MCUBOOT_SERIAL_DIRECT_IMAGE_UPLOAD); a reset boots the application,\n"
	       "                           unless LIST has held (the recovery pin stays held: recovery again)\n"
	       "  --reenumerate MS         as a USB CDC-ACM device: at each reset the port disappears for MS (real time)\n"
	       "                           and comes back as a new pty under the same PATH\n"
	       "  --unplug-at BYTES        once an upload has reached BYTES, the port disappears the same way (MS, 1000\n"
	       "                           by default) while the device keeps running\n");
}

static int parse_number(const char *value, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(value, &end, 10);
	return errno || end == value || *end || value[0] == '-' || *out < min || *out > max ? -EINVAL : 0;
}

int sim_serial_option(SimSerialConfig *cfg, const char *name, const char *value)
{
	unsigned long v;

	if (strcmp(name, "serial") == 0) {
		cfg->link = value;
		return 0;
	}
	if (strcmp(name, "framing") == 0)
		return serial_framing_parse(value, &cfg->framing);
	if (strcmp(name, "recovery") == 0) {
		SimRecoveryConfig check;

		cfg->recovery = value;
		return sim_recovery_parse(value, &check);
	}
	if (strcmp(name, "link") == 0) {
		if (strcmp(value, "uart") != 0 && strcmp(value, "usb") != 0)
			return -EINVAL;
		cfg->usb = strcmp(value, "usb") == 0;
		return 0;
	}
	if (parse_number(value, 0, 100000000, &v) < 0)
		return -EINVAL;
	if (strcmp(name, "baud") == 0 && v > 0)
		cfg->baud = (unsigned)v;
	else if (strcmp(name, "line") == 0 && v >= 16 && v <= 8192)
		cfg->line = v;
	else if (strcmp(name, "rxbufs") == 0 && v >= 1 && v <= SIM_SERIAL_RXBUFS_MAX)
		cfg->rxbufs = (unsigned)v;
	else if (strcmp(name, "line-us") == 0 && v <= 1000000)
		cfg->line_usec = v;
	else if (strcmp(name, "reenumerate") == 0 && v <= 60000)
		cfg->reenumerate_usec = v * 1000;
	else if (strcmp(name, "unplug-at") == 0 && v > 0)
		cfg->unplug_at = v;
	else
		return -EINVAL;
	return 0;
}

int sim_serial_host_announce(const SimSerialHost *h, const char *ready_file, bool print_path)
{
	char tmp[4096];
	FILE *f;

	if (print_path) {
		printf("%s\n", h->path);
		fflush(stdout);
	}
	if (h->cfg.verbose || (!ready_file && !print_path))
		fprintf(stderr, "smpctl-sim: simulated nRF52833 on serial port %s (%s framing, %u baud, %u x %zu-byte receive buffers)\n",
			h->path, serial_framing_name(h->cfg.framing), h->cfg.baud, h->cfg.rxbufs, h->cfg.line);
	if (!ready_file)
		return 0;
	/* written whole, then renamed: a reader never sees half a line */
	snprintf(tmp, sizeof(tmp), "%s.tmp", ready_file);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "%s\n", h->path);
	fclose(f);
	return rename(tmp, ready_file) < 0 ? -errno : 0;
}

static const struct { unsigned baud; speed_t speed; } sim_speeds[] = {
	{ 9600, B9600 }, { 19200, B19200 }, { 38400, B38400 }, { 57600, B57600 }, { 115200, B115200 },
	{ 230400, B230400 }, { 460800, B460800 }, { 921600, B921600 }, { 1000000, B1000000 },
	{ 2000000, B2000000 }, { 3000000, B3000000 }, { 4000000, B4000000 },
};

static speed_t sim_speed(unsigned baud)
{
	for (size_t i = 0; i < ARRAY_SIZE(sim_speeds); i++)
		if (sim_speeds[i].baud == baud)
			return sim_speeds[i].speed;
	return B0;
}

static uint64_t wire_usec(const SimSerialHost *h, size_t n)
{
	return (uint64_t)((double)n * 10e6 / h->cfg.baud * h->cfg.time_scale);
}

/* The client set its port to another speed than the device's: neither side reads the other. */
static bool baud_mismatch(const SimSerialHost *h)
{
	struct termios tio;

	return tcgetattr(h->slave, &tio) == 0 && cfgetospeed(&tio) != sim_speed(h->cfg.baud);
}

/* When a byte reaches the device. Over a UART, no sooner than one byte time after the one before at
 * the device's baud rate (the wire serialises them, whenever we read them); over USB (CDC-ACM) or a
 * simulator's pty, as it comes. Receive-side times are never scaled: the client paces by the clock. */
static uint64_t byte_arrival(SimSerialHost *h, uint64_t now)
{
	if (!h->cfg.usb)
		h->rx_wire = MAX(now, h->rx_wire + 10000000u / h->cfg.baud);
	else
		h->rx_wire = now;
	return h->rx_wire;
}

static void forget_released(SimSerialHost *h, uint64_t now)
{
	size_t kept = 0;

	for (size_t i = 0; i < h->held; i++)
		if (h->release[i] > now)
			h->release[kept++] = h->release[i];
	h->held = kept;
}

static int open_pty(SimSerialHost *h);
static int on_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata);

static void drop_tx(SimSerialHost *h)
{
	while (h->tx_head) {
		TxChunk *c = h->tx_head;

		h->tx_head = c->next;
		free(c);
	}
	h->tx_timer = sd_event_source_disable_unref(h->tx_timer);
}

static void close_pty(SimSerialHost *h)
{
	h->io = sd_event_source_disable_unref(h->io);
	if (h->slave >= 0)
		close(h->slave);
	if (h->master >= 0)
		close(h->master);
	h->slave = h->master = -1;
	if (h->cfg.link && strcmp(h->cfg.link, "auto") != 0)
		unlink(h->cfg.link);
}

/* The device enumerated again: a new tty, the same name (the udev by-id link follows the serial number). */
static int on_replug(sd_event_source *s, uint64_t usec, void *userdata)
{
	SimSerialHost *h = userdata;
	int r;

	(void)s;
	(void)usec;
	h->unplug = sd_event_source_disable_unref(h->unplug);
	r = open_pty(h);
	if (r >= 0)
		r = sd_event_add_io(h->event, &h->io, h->master, EPOLLIN, on_readable, h);
	if (r < 0)
		fprintf(stderr, "smpctl-sim: serial: cannot re-create the port: %s\n", strerror(-r));
	else if (h->cfg.verbose)
		fprintf(stderr, "smpctl-sim: serial: port back at %s\n", h->path);
	return 0;
}

/* USB gone: what was on its way in either direction is lost, and the client's tty hangs up. */
static int on_unplug(sd_event_source *s, uint64_t usec, void *userdata)
{
	SimSerialHost *h = userdata;
	uint64_t away = h->cfg.reenumerate_usec ? h->cfg.reenumerate_usec : 1000 * 1000;

	(void)s;
	(void)usec;
	h->unplug = sd_event_source_disable_unref(h->unplug);
	drop_tx(h);
	close_pty(h);
	serial_deframer_flush(&h->rx);
	h->in_line = false;
	h->held = 0;
	if (h->cfg.verbose)
		fprintf(stderr, "smpctl-sim: serial: port gone for %.1f s (re-enumerating)\n", (double)away / 1e6);
	sd_event_add_time_relative(h->event, &h->unplug, CLOCK_MONOTONIC, away, 1000, on_replug, h);
	return 0;
}

/* Once what is queued for the wire has left (the answer to a reset, say), the port goes away. */
static void unplug_soon(SimSerialHost *h)
{
	uint64_t at = MAX(h->tx_free, now_usec()) + 20 * 1000;

	if (h->unplug)
		return;
	sd_event_add_time(h->event, &h->unplug, CLOCK_MONOTONIC, at, 1000, on_unplug, h);
}

void sim_serial_host_reset(SimSerialHost *h)
{
	if (h->cfg.reenumerate_usec)
		unplug_soon(h);
}

/* The reset's time is over: MCUboot boots (swapping if slot 1 was marked) and, the recovery pin no
 * longer held, starts the application. */
static int on_recovery_left(sd_event_source *s, uint64_t usec, void *userdata)
{
	SimSerialHost *h = userdata;

	(void)s;
	(void)usec;
	h->restart = sd_event_source_disable_unref(h->restart);
	if (sim_recovery_reboot(h->recovery)) {
		if (h->cfg.verbose)
			fprintf(stderr, "smpctl-sim: serial recovery again: the recovery pin is still held\n");
		return 0;
	}
	sim_recovery_free(h->recovery);
	h->recovery = NULL;
	sim_device_reboot(h->cfg.device);
	if (h->cfg.verbose)
		fprintf(stderr, "smpctl-sim: serial recovery left: the application runs\n");
	return 0;
}

/* A whole request frame: to the application's SMP server, or to MCUboot in recovery. */
static void host_frame(void *userdata, const uint8_t *frame, size_t len)
{
	SimSerialHost *h = userdata;
	uint8_t answer[4096];
	uint64_t offline;
	size_t n;

	if (h->restart || h->unplug)
		return; /* restarting, or the port going away: the frame is lost */
	if (!h->recovery && h->cfg.unplug_at && !h->unplugged_once &&
	    sim_device_upload_offset(h->cfg.device) >= h->cfg.unplug_at) {
		h->unplugged_once = true;
		unplug_soon(h);
		return;
	}
	if (!h->recovery) {
		h->on_frame(h->userdata, frame, len);
		return;
	}
	n = sim_recovery_process(h->recovery, frame, len, answer, sizeof(answer));
	if (n)
		sim_serial_host_send(h, answer, n);
	if (sim_device_take_reset(h->cfg.device, &offline)) {
		sd_event_add_time_relative(h->event, &h->restart, CLOCK_MONOTONIC,
					   (uint64_t)((double)offline * h->cfg.time_scale), 1, on_recovery_left, h);
		sim_serial_host_reset(h);
	}
}

static void line_done(SimSerialHost *h, uint64_t now)
{
	uint64_t done = MAX(now, h->decoder_free) + h->cfg.line_usec;

	h->decoder_free = done;
	if (h->held < SIM_SERIAL_RXBUFS_MAX)
		h->release[h->held++] = done;
	serial_deframer_feed(&h->rx, h->line, h->line_len, host_frame, h);
}

/* uart_mcumgr_rx_byte(): a buffer per line, taken at its first byte; no buffer or too long a line,
 * and the line is ignored up to its newline. */
static void console_rx_byte(SimSerialHost *h, uint8_t byte, uint64_t now)
{
	if (!h->in_line) {
		h->in_line = true;
		h->line_len = 0;
		forget_released(h, now);
		/* the line being received holds a buffer too */
		h->ignoring = h->held + 1 > h->cfg.rxbufs;
		if (h->ignoring) {
			h->dropped_lines++;
			if (h->cfg.verbose)
				fprintf(stderr, "smpctl-sim: serial: no free receive buffer (%u of %zu bytes): line dropped\n",
					h->cfg.rxbufs, h->cfg.line);
		}
	}
	if (!h->ignoring) {
		if (h->line_len >= h->cfg.line) {
			h->ignoring = true;
			h->dropped_lines++;
		} else {
			h->line[h->line_len++] = byte;
		}
	}
	if (byte == '\n') {
		if (!h->ignoring)
			line_done(h, now);
		h->in_line = false;
	}
}

/* What a UART at another speed makes of the bytes: nothing the other side can frame. */
static void echo_garbage(SimSerialHost *h, const uint8_t *data, size_t len)
{
	uint8_t junk[512];
	size_t n = MIN(len, sizeof(junk));

	for (size_t i = 0; i < n; i++)
		junk[i] = (uint8_t)(0x80 | (data[i] >> 1) | (data[i] << 7));
	if (write(h->master, junk, n) < 0 && h->cfg.verbose)
		fprintf(stderr, "smpctl-sim: serial: write: %s\n", strerror(errno));
}

static int on_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	SimSerialHost *h = userdata;
	uint8_t buf[4096];
	ssize_t n;
	uint64_t now;

	(void)s;
	(void)revents;
	n = read(fd, buf, sizeof(buf));
	if (n <= 0)
		return 0;
	if (baud_mismatch(h)) {
		echo_garbage(h, buf, (size_t)n);
		return 0;
	}
	if (h->cfg.framing != SERIAL_FRAMING_CONSOLE) {
		serial_deframer_feed(&h->rx, buf, (size_t)n, host_frame, h);
		return 0;
	}
	now = now_usec();
	for (ssize_t i = 0; i < n; i++)
		console_rx_byte(h, buf[i], byte_arrival(h, now));
	return 0;
}

static void tx_arm(SimSerialHost *h);

static int on_tx_due(sd_event_source *s, uint64_t usec, void *userdata)
{
	SimSerialHost *h = userdata;

	(void)s;
	while (h->tx_head && h->tx_head->due <= usec) {
		TxChunk *c = h->tx_head;

		h->tx_head = c->next;
		/* the pty takes what a client has not read yet up to its buffer; beyond that the bytes are
		 * lost, as on a UART nobody reads */
		if (write(h->master, c->data, c->len) < 0 && h->cfg.verbose)
			fprintf(stderr, "smpctl-sim: serial: write: %s\n", strerror(errno));
		free(c);
	}
	tx_arm(h);
	return 0;
}

static void tx_arm(SimSerialHost *h)
{
	h->tx_timer = sd_event_source_disable_unref(h->tx_timer);
	if (h->tx_head)
		sd_event_add_time(h->event, &h->tx_timer, CLOCK_MONOTONIC, h->tx_head->due, 1, on_tx_due, h);
}

int sim_serial_host_send(SimSerialHost *h, const uint8_t *frame, size_t len)
{
	/* Zephyr's transmit side uses MCUMGR_SERIAL_MAX_FRAME lines whatever its receive buffers are */
	size_t max = serial_frame_encoded_max(h->cfg.framing, len, SERIAL_LINE_DEFAULT);
	TxChunk *c = malloc(sizeof(*c) + max), **tail;
	uint64_t now = now_usec();
	int n;

	if (!c)
		return -ENOMEM;
	n = serial_frame_encode(h->cfg.framing, frame, len, SERIAL_LINE_DEFAULT, c->data, max);
	if (n < 0) {
		free(c);
		return n;
	}
	c->len = (size_t)n;
	c->next = NULL;
	h->tx_free = MAX(h->tx_free, now) + wire_usec(h, c->len);
	c->due = h->tx_free;
	for (tail = &h->tx_head; *tail; tail = &(*tail)->next)
		;
	*tail = c;
	if (!h->tx_timer)
		tx_arm(h);
	return 0;
}

static int open_pty(SimSerialHost *h)
{
	struct termios tio;
	const char *name;

	h->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (h->master < 0 || grantpt(h->master) < 0 || unlockpt(h->master) < 0 || !(name = ptsname(h->master)))
		return -errno;
	snprintf(h->path, sizeof(h->path), "%s", name);
	h->slave = open(h->path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (h->slave < 0 || tcgetattr(h->slave, &tio) < 0)
		return -errno;
	/* no echo, no newline translation: the bytes as they are; the device's speed as the start */
	cfmakeraw(&tio);
	cfsetispeed(&tio, sim_speed(h->cfg.baud));
	cfsetospeed(&tio, sim_speed(h->cfg.baud));
	if (tcsetattr(h->slave, TCSANOW, &tio) < 0)
		return -errno;
	if (h->cfg.link && strcmp(h->cfg.link, "auto") != 0) {
		unlink(h->cfg.link);
		if (symlink(h->path, h->cfg.link) < 0)
			return -errno;
		snprintf(h->path, sizeof(h->path), "%s", h->cfg.link);
	}
	return 0;
}

/* The SMP frames the device's net_buf takes: the console stream's length and CRC are decoded into it
 * too (serial_util.c); raw packets as they are; COBS: the CRC, assumed. */
static size_t max_packet(const SimSerialConfig *cfg)
{
	size_t overhead = cfg->framing == SERIAL_FRAMING_CONSOLE ? 4 : cfg->framing == SERIAL_FRAMING_COBS ? 2 : 0;

	return cfg->buf_size > overhead + 8 ? cfg->buf_size - overhead : 8;
}

int sim_serial_host_new(sd_event *event, const SimSerialConfig *cfg, SimSerialFrameFn on_frame, void *userdata,
			SimSerialHost **out)
{
	SimSerialHost *h = calloc(1, sizeof(*h));
	int r;

	if (!h)
		return -ENOMEM;
	*h = (SimSerialHost){ .cfg = *cfg, .event = sd_event_ref(event), .master = -1, .slave = -1,
			      .on_frame = on_frame, .userdata = userdata };
	if (sim_speed(cfg->baud) == B0 || cfg->rxbufs < 1 || cfg->rxbufs > SIM_SERIAL_RXBUFS_MAX || cfg->line < 8) {
		sim_serial_host_free(h);
		return -EINVAL;
	}
	h->line = malloc(cfg->line);
	r = h->line ? serial_deframer_init(&h->rx, cfg->framing, max_packet(cfg)) : -ENOMEM;
	if (r >= 0 && cfg->recovery) {
		SimRecoveryConfig rc;

		r = cfg->device ? sim_recovery_parse(cfg->recovery, &rc) : -EINVAL;
		if (r >= 0)
			r = sim_recovery_new(&rc, cfg->device, &h->recovery);
	}
	if (r >= 0)
		r = open_pty(h);
	if (r >= 0)
		r = sd_event_add_io(event, &h->io, h->master, EPOLLIN, on_readable, h);
	if (r < 0) {
		sim_serial_host_free(h);
		return r;
	}
	*out = h;
	return 0;
}

const char *sim_serial_host_path(const SimSerialHost *h)
{
	return h->path;
}

uint64_t sim_serial_host_dropped_lines(const SimSerialHost *h)
{
	return h->dropped_lines;
}

void sim_serial_host_free(SimSerialHost *h)
{
	if (!h)
		return;
	drop_tx(h);
	h->restart = sd_event_source_disable_unref(h->restart);
	h->unplug = sd_event_source_disable_unref(h->unplug);
	close_pty(h);
	serial_deframer_done(&h->rx);
	sim_recovery_free(h->recovery);
	free(h->line);
	sd_event_unref(h->event);
	free(h);
}
