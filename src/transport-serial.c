/* SPDX-License-Identifier: MIT */
/*
 * serial:PATH[,baud=N][,framing=console|raw|cobs][,flow=none|rtscts][,line=N][,rxbufs=N][,pace=MS|off]
 *
 * SMP over a UART or a USB CDC-ACM port (framings: serial-frame.h). The port is opened exclusively
 * (TIOCEXCL, and flock(2) so that another smpctl gets a clear "in use" at once), in raw mode, and
 * driven from the sd-event loop without ever blocking.
 *
 * Pacing. Zephyr's UART driver (drivers/console/uart_mcumgr.c) collects each line in one of
 * CONFIG_UART_MCUMGR_RX_BUF_COUNT buffers of CONFIG_UART_MCUMGR_RX_BUF_SIZE bytes (2 × 128 by default)
 * until its work item has decoded it, and silently drops a line that finds none free: three 127-byte
 * lines back to back lose the frame (shared/zephyr/README.md, smp_svr on native_sim). A device does
 * not report these buffers, so the address says them (rxbufs, line) and a line starts only when the
 * line `rxbufs` before it has left its buffer: the time it took on the wire at the baud rate, then a
 * processing allowance (pace, 1 ms by default) for its decoding, one line after the other as the
 * work item takes them. Over USB CDC-ACM, where bytes arrive faster than the nominal baud rate, this
 * still spaces lines as a UART at that rate would. Raw and COBS have no lines; they are paced in chunks
 * of `line` bytes by the same rule, an assumption (serial-frame.h says what is not known of them).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>

#include "log.h"
#include "serial-frame.h"
#include "transport.h"
#include "util.h"

#define SERIAL_DEFAULT_BAUD 115200u
#define SERIAL_DEFAULT_RXBUFS 2u
#define SERIAL_DEFAULT_PACE_USEC 1000u
#define SERIAL_RXBUFS_MAX 64u
/* A frame begun and not finished after this long without a byte is cut short: forget it. */
#define SERIAL_IDLE_USEC (500 * 1000u)

typedef struct SerialConfig {
	char path[256];
	unsigned baud;
	speed_t speed;
	SerialFraming framing;
	bool rtscts;
	size_t line;
	unsigned rxbufs;
	uint64_t pace_usec;
	bool pace_off;
} SerialConfig;

typedef struct SerialState {
	SerialConfig cfg;
	int fd;
	sd_event_source *io, *opened, *pace_timer, *idle_timer;
	SerialDeframer rx;
	uint8_t *tx;             /* wire bytes waiting to be written */
	size_t tx_len, tx_off, tx_cap;
	size_t unit_left;        /* bytes of the line (chunk) being written */
	uint64_t wire_free;      /* CLOCK_MONOTONIC µs: the last line has left the host by then */
	uint64_t release[SERIAL_RXBUFS_MAX]; /* when each of the last rxbufs lines frees its buffer */
	uint64_t decoder_free;   /* when the device has decoded the last line sent */
	size_t release_next;
	/* what was read since the last send, for error_text */
	uint64_t rx_bytes, drops_at_send[SERIAL_DROP_REASONS], frames_at_send;
	char error[1024];        /* opening failed, or the port went away */
	char detail[512];        /* what the bytes read since the last send were, when not frames */
} SerialState;

static const struct { unsigned baud; speed_t speed; } serial_speeds[] = {
	{ 1200, B1200 }, { 2400, B2400 }, { 4800, B4800 }, { 9600, B9600 }, { 19200, B19200 },
	{ 38400, B38400 }, { 57600, B57600 }, { 115200, B115200 }, { 230400, B230400 }, { 460800, B460800 },
	{ 500000, B500000 }, { 576000, B576000 }, { 921600, B921600 }, { 1000000, B1000000 },
	{ 1152000, B1152000 }, { 1500000, B1500000 }, { 2000000, B2000000 }, { 2500000, B2500000 },
	{ 3000000, B3000000 }, { 3500000, B3500000 }, { 4000000, B4000000 },
};

static int serial_speed(unsigned baud, speed_t *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(serial_speeds); i++)
		if (serial_speeds[i].baud == baud) {
			*out = serial_speeds[i].speed;
			return 0;
		}
	return -EINVAL;
}

static int parse_unsigned(const char *text, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(text, &end, 10);
	return errno || end == text || *end || text[0] == '-' || *out < min || *out > max ? -EINVAL : 0;
}

static int parse_pace(const char *value, SerialConfig *c)
{
	char *end;
	double ms;

	if (strcmp(value, "off") == 0) {
		c->pace_off = true;
		return 0;
	}
	errno = 0;
	ms = strtod(value, &end);
	if (errno || end == value || *end || ms < 0 || ms > 10000)
		return -EINVAL;
	c->pace_usec = (uint64_t)(ms * 1000.0);
	return 0;
}

/* One "key=value" of the address. */
static int parse_option(const char *opt, SerialConfig *c)
{
	const char *eq = strchr(opt, '=');
	const char *value = eq ? eq + 1 : "";
	size_t klen = eq ? (size_t)(eq - opt) : strlen(opt);
	unsigned long v;

#define KEY(k) (klen == strlen(k) && strncmp(opt, k, klen) == 0)
	if (KEY("baud")) {
		if (parse_unsigned(value, 1, 4000000, &v) < 0 || serial_speed((unsigned)v, &c->speed) < 0)
			return -EINVAL;
		c->baud = (unsigned)v;
	} else if (KEY("framing")) {
		return serial_framing_parse(value, &c->framing);
	} else if (KEY("flow")) {
		if (strcmp(value, "none") != 0 && strcmp(value, "rtscts") != 0)
			return -EINVAL;
		c->rtscts = strcmp(value, "rtscts") == 0;
	} else if (KEY("line")) {
		if (parse_unsigned(value, SERIAL_LINE_MIN, SERIAL_LINE_MAX, &v) < 0)
			return -EINVAL;
		c->line = v;
	} else if (KEY("rxbufs")) {
		if (parse_unsigned(value, 1, SERIAL_RXBUFS_MAX, &v) < 0)
			return -EINVAL;
		c->rxbufs = (unsigned)v;
	} else if (KEY("pace")) {
		return parse_pace(value, c);
	} else {
		return -EINVAL;
	}
#undef KEY
	return 0;
}

/* udev's links by USB serial number (60-serial.rules): a port that re-enumerates under another ttyACMn
 * keeps its name there. SMPCTL_SERIAL_BY_ID names another directory (a test's stand-in links). */
static const char *serial_by_id_dir(void)
{
	const char *dir = getenv("SMPCTL_SERIAL_BY_ID");

	return dir && *dir ? dir : "/dev/serial/by-id";
}

/* "PATH[,key=value]…"; "by-id/NAME" is short for /dev/serial/by-id/NAME. */
static int serial_parse(const char *rest, SerialConfig *c, char *err, size_t err_size)
{
	_cleanup_free_ char *copy = strdup(rest);
	char *save = NULL, *path, *opt;
	int n;

	if (!copy)
		return -ENOMEM;
	*c = (SerialConfig){ .baud = SERIAL_DEFAULT_BAUD, .speed = B115200, .line = SERIAL_LINE_DEFAULT,
			     .rxbufs = SERIAL_DEFAULT_RXBUFS, .pace_usec = SERIAL_DEFAULT_PACE_USEC };
	path = strtok_r(copy, ",", &save);
	if (!path || !*path) {
		snprintf(err, err_size, "serial address 'serial:%s' names no port: use serial:/dev/ttyACM0[,baud=N]", rest);
		return -EINVAL;
	}
	if (strncmp(path, "by-id/", 6) == 0)
		n = snprintf(c->path, sizeof(c->path), "%s%s", serial_by_id_dir(), path + 5);
	else
		n = snprintf(c->path, sizeof(c->path), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(c->path)) {
		snprintf(err, err_size, "serial port name too long in 'serial:%.200s…'", rest);
		return -EINVAL;
	}
	while ((opt = strtok_r(NULL, ",", &save)))
		if (parse_option(opt, c) < 0) {
			snprintf(err, err_size,
				 "invalid serial option '%s' in 'serial:%s': use baud=N (a standard rate), "
				 "framing=console|raw|cobs, flow=none|rtscts, line=%u..%u, rxbufs=1..%u, pace=MS|off",
				 opt, rest, SERIAL_LINE_MIN, SERIAL_LINE_MAX, SERIAL_RXBUFS_MAX);
			return -EINVAL;
		}
	return 0;
}

static int serial_init(Transport *t, const char *rest, char *err, size_t err_size)
{
	SerialState *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->fd = -1;
	r = serial_parse(rest, &s->cfg, err, err_size);
	if (r < 0) {
		free(s);
		return r;
	}
	t->state = s;
	return 0;
}

/* The command name of another process that has the device open, or NULL. Best effort: /proc. */
static const char *serial_holder(const char *path, char *out, size_t size)
{
	struct stat dev, st;
	DIR *proc;
	struct dirent *p;
	const char *found = NULL;

	if (stat(path, &dev) < 0 || !(proc = opendir("/proc")))
		return NULL;
	while (!found && (p = readdir(proc))) {
		char fddir[300], link[600];
		DIR *fds;
		struct dirent *f;

		int pid = atoi(p->d_name);

		if (pid <= 0 || pid == getpid())
			continue;
		snprintf(fddir, sizeof(fddir), "/proc/%d/fd", pid);
		if (!(fds = opendir(fddir)))
			continue;
		while ((f = readdir(fds)))
			if (snprintf(link, sizeof(link), "%s/%s", fddir, f->d_name) > 0 && stat(link, &st) == 0 &&
			    S_ISCHR(st.st_mode) && st.st_rdev == dev.st_rdev) {
				FILE *comm;

				snprintf(link, sizeof(link), "/proc/%d/comm", pid);
				comm = fopen(link, "r");
				if (comm && fgets(out, (int)size, comm)) {
					out[strcspn(out, "\n")] = '\0';
					snprintf(out + strlen(out), size - strlen(out), " (pid %d)", pid);
					found = out;
				}
				if (comm)
					fclose(comm);
				break;
			}
		closedir(fds);
	}
	closedir(proc);
	return found;
}

static int serial_open_error(SerialState *s, int err)
{
	char holder[128];
	const char *who;

	switch (err) {
	case -ENOENT:
		snprintf(s->error, sizeof(s->error), "no serial port %s (is the board plugged in? see ls %s/)",
			 s->cfg.path, serial_by_id_dir());
		break;
	case -EACCES:
		snprintf(s->error, sizeof(s->error),
			 "no permission to open %s: add your user to the group that owns it (usually dialout)",
			 s->cfg.path);
		break;
	case -ENOTTY:
		snprintf(s->error, sizeof(s->error), "%s is not a serial port (not a tty)", s->cfg.path);
		break;
	case -EBUSY:
	case -EWOULDBLOCK:
		who = serial_holder(s->cfg.path, holder, sizeof(holder));
		snprintf(s->error, sizeof(s->error), "serial port %s is in use by %s: close it there first", s->cfg.path,
			 who ? who : "another program");
		err = -EBUSY;
		break;
	default:
		snprintf(s->error, sizeof(s->error), "cannot open %s: %s", s->cfg.path, strerror(-err));
		break;
	}
	return err;
}

/* Raw 8N1 at the configured speed, RTS/CTS if asked, no modem control lines waited for. */
static int serial_configure(SerialState *s)
{
	struct termios tio;

	if (tcgetattr(s->fd, &tio) < 0)
		return errno == ENOTTY || errno == EINVAL ? -ENOTTY : -errno;
	cfmakeraw(&tio);
	tio.c_cflag |= CLOCAL | CREAD;
	tio.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB | CRTSCTS);
	if (s->cfg.rtscts)
		tio.c_cflag |= CRTSCTS;
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 0;
	if (cfsetispeed(&tio, s->cfg.speed) < 0 || cfsetospeed(&tio, s->cfg.speed) < 0 ||
	    tcsetattr(s->fd, TCSANOW, &tio) < 0)
		return -errno;
	/* what the device said before we came is not an answer to us */
	tcflush(s->fd, TCIOFLUSH);
	return 0;
}

static int serial_lock(SerialState *s)
{
	if (flock(s->fd, LOCK_EX | LOCK_NB) < 0)
		return -errno;
	/* further open()s of the tty fail with EBUSY, for programs that do not flock (root excepted) */
	if (ioctl(s->fd, TIOCEXCL) < 0)
		return -errno;
	return 0;
}

static void serial_report_lost(Transport *t, int err);

static void serial_emit(void *userdata, const uint8_t *packet, size_t len)
{
	Transport *t = userdata;
	SerialState *s = t->state;

	if (s->fd >= 0)
		t->events.frame(t->userdata, packet, len);
}

static int serial_on_idle(sd_event_source *src, uint64_t usec, void *userdata)
{
	Transport *t = userdata;
	SerialState *s = t->state;

	(void)src;
	(void)usec;
	if (serial_deframer_partial(&s->rx)) {
		log_debug("%s: a frame was cut short (no byte for %u ms): dropped", s->cfg.path,
			  SERIAL_IDLE_USEC / 1000);
		serial_deframer_flush(&s->rx);
	}
	return 0;
}

static void serial_arm_idle(Transport *t)
{
	SerialState *s = t->state;

	s->idle_timer = sd_event_source_disable_unref(s->idle_timer);
	if (serial_deframer_partial(&s->rx))
		sd_event_add_time_relative(t->event, &s->idle_timer, CLOCK_MONOTONIC, SERIAL_IDLE_USEC, 1000,
					   serial_on_idle, t);
}

static void serial_pump(Transport *t);

static int serial_on_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	Transport *t = userdata;
	SerialState *s = t->state;
	uint8_t buf[4096];

	(void)src;
	if (revents & EPOLLOUT)
		serial_pump(t);
	while (s->fd >= 0 && (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			/* EIO or end of file: the port went away (USB unplugged, device reset re-enumerating) */
			serial_report_lost(t, -ECONNRESET);
			return 0;
		}
		s->rx_bytes += (uint64_t)n;
		serial_deframer_feed(&s->rx, buf, (size_t)n, serial_emit, t);
	}
	if (s->fd >= 0)
		serial_arm_idle(t);
	return 0;
}

static int serial_report_opened(sd_event_source *src, void *userdata)
{
	Transport *t = userdata;
	SerialState *s = t->state;

	(void)src;
	s->opened = sd_event_source_disable_unref(s->opened);
	t->events.opened(t->userdata, 0);
	return 0;
}

static int serial_open_fd(SerialState *s)
{
	int r;

	s->fd = open(s->cfg.path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (s->fd < 0)
		return -errno;
	if (!isatty(s->fd))
		return -ENOTTY;
	r = serial_lock(s);
	if (r < 0)
		return r;
	return serial_configure(s);
}

static void serial_close(Transport *t);

static int serial_open(Transport *t)
{
	SerialState *s = t->state;
	int r;

	if (s->fd >= 0)
		return -EALREADY;
	s->error[0] = '\0';
	r = serial_open_fd(s);
	if (r < 0) {
		serial_close(t);
		return serial_open_error(s, r);
	}
	r = serial_deframer_init(&s->rx, s->cfg.framing, SERIAL_PACKET_MAX - 2);
	if (r >= 0)
		r = sd_event_add_io(t->event, &s->io, s->fd, EPOLLIN, serial_on_io, t);
	if (r >= 0)
		r = sd_event_add_defer(t->event, &s->opened, serial_report_opened, t);
	if (r < 0) {
		serial_close(t);
		return r;
	}
	memset(s->release, 0, sizeof(s->release));
	s->wire_free = s->decoder_free = 0;
	log_debug("%s: open, %u baud, %s framing, lines of %zu bytes, %u receive buffers, pace %s", s->cfg.path,
		  s->cfg.baud, serial_framing_name(s->cfg.framing), s->cfg.line, s->cfg.rxbufs,
		  s->cfg.pace_off ? "off" : "on");
	return 0;
}

/* µs that n bytes take on the wire: 10 bits each (8N1). */
static uint64_t serial_wire_usec(const SerialState *s, size_t n)
{
	return (uint64_t)n * 10u * 1000000u / s->cfg.baud;
}

/* Length of the next line (console) or chunk (raw, COBS) in the queue. */
static size_t serial_next_unit(const SerialState *s)
{
	size_t left = s->tx_len - s->tx_off;

	if (s->cfg.framing == SERIAL_FRAMING_CONSOLE) {
		const uint8_t *nl = memchr(s->tx + s->tx_off, '\n', left);

		return nl ? (size_t)(nl - (s->tx + s->tx_off)) + 1 : left;
	}
	return MIN(left, s->cfg.line);
}

/* When the next line may start: after the previous one has left (bytes still in the kernel's queue
 * count), and once the line rxbufs back has freed its buffer in the device. */
static uint64_t serial_line_start(SerialState *s, uint64_t now)
{
	int queued = 0;
	uint64_t start = now;

	if (s->cfg.pace_off)
		return now;
	if (ioctl(s->fd, TIOCOUTQ, &queued) == 0 && queued > 0)
		s->wire_free = MAX(s->wire_free, now + serial_wire_usec(s, (size_t)queued));
	start = MAX(start, s->wire_free);
	return MAX(start, s->release[s->release_next]);
}

static int serial_on_pace(sd_event_source *src, uint64_t usec, void *userdata)
{
	Transport *t = userdata;
	SerialState *s = t->state;

	(void)src;
	(void)usec;
	s->pace_timer = sd_event_source_disable_unref(s->pace_timer);
	serial_pump(t);
	return 0;
}

/* Starts the next line when its time has come, or arms the timer for it. Returns false to wait. */
static bool serial_begin_line(Transport *t)
{
	SerialState *s = t->state;
	uint64_t now = now_usec(), start = serial_line_start(s, now);
	size_t unit = serial_next_unit(s);

	if (start > now) {
		if (!s->pace_timer)
			sd_event_add_time(t->event, &s->pace_timer, CLOCK_MONOTONIC, start, 1, serial_on_pace, t);
		return false;
	}
	s->wire_free = start + serial_wire_usec(s, unit);
	/* the device's work item decodes one line at a time */
	s->decoder_free = MAX(s->wire_free, s->decoder_free) + s->cfg.pace_usec;
	s->release[s->release_next] = s->decoder_free;
	s->release_next = (s->release_next + 1) % s->cfg.rxbufs;
	s->unit_left = unit;
	return true;
}

static void serial_set_writable_wait(Transport *t, bool wait)
{
	SerialState *s = t->state;

	if (s->io)
		sd_event_source_set_io_events(s->io, EPOLLIN | (wait ? EPOLLOUT : 0));
}

/* Writes what the pacing allows now; the rest waits for the timer or for the port to take more. */
static void serial_pump(Transport *t)
{
	SerialState *s = t->state;

	while (s->fd >= 0 && s->tx_off < s->tx_len) {
		ssize_t n;

		if (s->unit_left == 0 && !serial_begin_line(t))
			return;
		n = write(s->fd, s->tx + s->tx_off, s->unit_left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			serial_set_writable_wait(t, true);
			return;
		}
		if (n < 0) {
			serial_report_lost(t, -ECONNRESET);
			return;
		}
		s->tx_off += (size_t)n;
		s->unit_left -= (size_t)n;
	}
	s->tx_off = s->tx_len = 0;
	serial_set_writable_wait(t, false);
}

static int serial_send(Transport *t, const uint8_t *frame, size_t len)
{
	SerialState *s = t->state;
	size_t need = serial_frame_encoded_max(s->cfg.framing, len, s->cfg.line);
	int n;

	if (s->fd < 0)
		return -ENOTCONN;
	if (len == 0 || len > SERIAL_PACKET_MAX - 2)
		return -EMSGSIZE;
	if (s->tx_cap - s->tx_len < need) {
		uint8_t *grown = realloc(s->tx, s->tx_len + need);

		if (!grown)
			return -ENOMEM;
		s->tx = grown;
		s->tx_cap = s->tx_len + need;
	}
	n = serial_frame_encode(s->cfg.framing, frame, len, s->cfg.line, s->tx + s->tx_len, s->tx_cap - s->tx_len);
	if (n < 0)
		return n;
	s->tx_len += (size_t)n;
	s->rx_bytes = 0;
	memcpy(s->drops_at_send, s->rx.drops, sizeof(s->drops_at_send));
	s->frames_at_send = s->rx.frames;
	if (!s->pace_timer)
		serial_pump(t);
	return 0;
}

static void serial_close(Transport *t)
{
	SerialState *s = t->state;

	if (!s)
		return;
	s->io = sd_event_source_disable_unref(s->io);
	s->opened = sd_event_source_disable_unref(s->opened);
	s->pace_timer = sd_event_source_disable_unref(s->pace_timer);
	s->idle_timer = sd_event_source_disable_unref(s->idle_timer);
	if (s->fd >= 0) {
		ioctl(s->fd, TIOCNXCL);
		close(s->fd);
	}
	s->fd = -1;
	serial_deframer_done(&s->rx);
	s->tx_len = s->tx_off = s->unit_left = 0;
}

static void serial_report_lost(Transport *t, int err)
{
	SerialState *s = t->state;

	snprintf(s->error, sizeof(s->error), "%s went away (unplugged, or the device reset and re-enumerated)",
		 s->cfg.path);
	serial_close(t);
	t->events.lost(t->userdata, err);
}

static void serial_free(Transport *t)
{
	SerialState *s = t->state;

	if (s)
		free(s->tx);
	free(s);
	t->state = NULL;
}

static size_t serial_max_frame(Transport *t)
{
	(void)t;
	return SERIAL_PACKET_MAX - 2;
}

/* Bytes of the device's SMP buffer that the framing takes besides the frame: Zephyr decodes the console
 * stream, its length and CRC included, into one net_buf (serial_util.c), so a frame of buf_size − 4
 * is the largest it takes (REFERENCE.md §11). COBS: the CRC, assumed to share the buffer. */
static size_t serial_buffer_overhead(Transport *t)
{
	SerialState *s = t->state;

	return s->cfg.framing == SERIAL_FRAMING_CONSOLE ? 4 : s->cfg.framing == SERIAL_FRAMING_COBS ? 2 : 0;
}

static uint64_t serial_dropped_since_send(const SerialState *s, SerialDropReason why)
{
	return s->rx.drops[why] - s->drops_at_send[why];
}

/* Why no answer came, when the line says something: the bytes that did come were not good frames. */
static const char *serial_error_text(Transport *t)
{
	SerialState *s = t->state;
	const char *what = NULL;
	uint64_t n = 0;

	if (s->error[0])
		return s->error;
	if ((n = serial_dropped_since_send(s, SERIAL_DROP_CRC)))
		what = "failed the CRC check";
	else if ((n = serial_dropped_since_send(s, SERIAL_DROP_TRUNCATED)))
		what = "arrived cut short";
	else if ((n = serial_dropped_since_send(s, SERIAL_DROP_MALFORMED)))
		what = "arrived garbled";
	else if ((n = serial_dropped_since_send(s, SERIAL_DROP_OVERSIZE)))
		what = "were larger than any SMP frame";
	if (what) {
		snprintf(s->detail, sizeof(s->detail),
			 "%llu frame%s from the device %s (noise on the line, or a wrong baud rate: baud=%u)",
			 (unsigned long long)n, n == 1 ? "" : "s", what, s->cfg.baud);
		return s->detail;
	}
	if (s->rx_bytes && s->rx.frames == s->frames_at_send) {
		snprintf(s->detail, sizeof(s->detail),
			 "%llu bytes came back but no SMP frame: check the baud rate (baud=%u) and the framing "
			 "(framing=%s), and that the port is the device's SMP port, not its log console",
			 (unsigned long long)s->rx_bytes, s->cfg.baud, serial_framing_name(s->cfg.framing));
		return s->detail;
	}
	return NULL;
}

const TransportOps transport_serial_ops = {
	.scheme = "serial",
	.usage = "serial:/dev/ttyACM0[,baud=115200][,framing=console|raw|cobs][,flow=none|rtscts][,line=127][,rxbufs=2][,pace=1|off]",
	.init = serial_init,
	.open = serial_open,
	.send = serial_send,
	.close = serial_close,
	.free = serial_free,
	.max_frame = serial_max_frame,
	.buffer_overhead = serial_buffer_overhead,
	.error_text = serial_error_text,
};
