/* SPDX-License-Identifier: MIT */
/* udp:HOST[:PORT] — one SMP frame per datagram (REFERENCE.md §7; Zephyr smp_udp.c), default port 1337. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "transport.h"
#include "util.h"

#define UDP_DEFAULT_PORT "1337"
#define UDP_MAX_DATAGRAM 65507u /* IPv4's largest UDP payload */

typedef struct UdpState {
	char host[256];
	char port[8];
	int fd;
	sd_event_source *io;
	sd_event_source *opened;
	bool refused; /* an ICMP port-unreachable came back: nothing listens there */
	char error[512];
	uint8_t buf[UDP_MAX_DATAGRAM + 1];
} UdpState;

/* Splits "HOST", "HOST:PORT", "[V6]", "[V6]:PORT" or a bare IPv6 literal into host and port. */
static int udp_split(const char *rest, char *host, size_t host_size, char *port, size_t port_size)
{
	const char *p = NULL, *h = rest;
	size_t hlen;

	if (rest[0] == '[') {
		const char *close = strchr(rest, ']');

		if (!close || (close[1] != '\0' && close[1] != ':'))
			return -EINVAL;
		h = rest + 1;
		hlen = (size_t)(close - h);
		p = close[1] == ':' ? close + 2 : NULL;
	} else {
		const char *colon = strchr(rest, ':');

		if (colon && strchr(colon + 1, ':'))
			colon = NULL; /* several colons: a bare IPv6 literal without port */
		hlen = colon ? (size_t)(colon - rest) : strlen(rest);
		p = colon ? colon + 1 : NULL;
	}
	if (hlen == 0 || hlen >= host_size)
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (!p) {
		snprintf(port, port_size, "%s", UDP_DEFAULT_PORT);
		return 0;
	}
	char *end;
	unsigned long n = strtoul(p, &end, 10);

	if (*p == '\0' || *end != '\0' || n == 0 || n > 65535)
		return -EINVAL;
	snprintf(port, port_size, "%lu", n);
	return 0;
}

static int udp_init(Transport *t, const char *rest, char *err, size_t err_size)
{
	UdpState *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->fd = -1;
	if (udp_split(rest, s->host, sizeof(s->host), s->port, sizeof(s->port)) < 0) {
		snprintf(err, err_size, "invalid UDP address 'udp:%s': use udp:HOST[:PORT] or udp:[IPV6]:PORT", rest);
		free(s);
		return -EINVAL;
	}
	t->state = s;
	return 0;
}

static int udp_on_readable(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	Transport *t = userdata;
	UdpState *s = t->state;

	(void)src;
	(void)revents;
	for (;;) {
		ssize_t n = recv(fd, s->buf, sizeof(s->buf), MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ECONNREFUSED) {
			/* ICMP port unreachable for an earlier datagram: remember it for the timeout message. */
			s->refused = true;
			continue;
		}
		if (n < 0)
			return 0; /* EAGAIN: drained */
		s->refused = false; /* something listens again (a device back from its reset) */
		if ((size_t)n > UDP_MAX_DATAGRAM)
			continue;
		t->events.frame(t->userdata, s->buf, (size_t)n);
		if (s->fd < 0)
			return 0; /* closed from within the callback */
	}
}

static int udp_report_opened(sd_event_source *src, void *userdata)
{
	Transport *t = userdata;
	UdpState *s = t->state;

	(void)src;
	s->opened = sd_event_source_disable_unref(s->opened);
	t->events.opened(t->userdata, 0);
	return 0;
}

static int udp_connect(UdpState *s)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV }, *res = NULL;
	int r = getaddrinfo(s->host, s->port, &hints, &res);

	if (r != 0) {
		snprintf(s->error, sizeof(s->error), "cannot resolve '%.255s': %s", s->host, gai_strerror(r));
		return r == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	}
	r = -EHOSTUNREACH;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			r = -errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			s->fd = fd;
			r = 0;
			break;
		}
		r = -errno;
		close(fd);
	}
	freeaddrinfo(res);
	if (r < 0)
		snprintf(s->error, sizeof(s->error), "cannot reach %.255s port %s: %s", s->host, s->port, strerror(-r));
	return r;
}

static int udp_open(Transport *t)
{
	UdpState *s = t->state;
	int r;

	if (s->fd >= 0)
		return -EALREADY;
	s->refused = false;
	r = udp_connect(s);
	if (r < 0)
		return r;
	r = sd_event_add_io(t->event, &s->io, s->fd, EPOLLIN, udp_on_readable, t);
	if (r < 0)
		return r;
	/* UDP has nothing to wait for; report from the loop so callers see one code path. */
	return sd_event_add_defer(t->event, &s->opened, udp_report_opened, t);
}

static int udp_send(Transport *t, const uint8_t *frame, size_t len)
{
	UdpState *s = t->state;

	if (s->fd < 0)
		return -ENOTCONN;
	if (len > UDP_MAX_DATAGRAM)
		return -EMSGSIZE;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (send(s->fd, frame, len, MSG_NOSIGNAL) >= 0)
			return 0;
		if (errno == ECONNREFUSED) {
			/* A pending ICMP error surfaced on this send; the datagram was not sent. */
			s->refused = true;
			continue;
		}
		if (errno == EAGAIN || errno == ENOBUFS)
			return 0; /* datagrams may be lost anyway; the request's deadline covers it */
		return -errno;
	}
	return 0;
}

static void udp_close(Transport *t)
{
	UdpState *s = t->state;

	if (!s)
		return;
	s->io = sd_event_source_disable_unref(s->io);
	s->opened = sd_event_source_disable_unref(s->opened);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

static void udp_free(Transport *t)
{
	free(t->state);
	t->state = NULL;
}

static size_t udp_max_frame(Transport *t)
{
	(void)t;
	return UDP_MAX_DATAGRAM;
}

static bool udp_peer_absent(Transport *t)
{
	return ((UdpState *)t->state)->refused;
}

static const char *udp_error_text(Transport *t)
{
	UdpState *s = t->state;

	if (s->refused) {
		snprintf(s->error, sizeof(s->error),
			 "nothing listens at %.255s port %s (ICMP port unreachable): is the device or smpctl-sim running?",
			 s->host, s->port);
		return s->error;
	}
	return s->error[0] ? s->error : NULL;
}

const TransportOps transport_udp_ops = {
	.scheme = "udp",
	.usage = "udp:HOST[:PORT]",
	.init = udp_init,
	.open = udp_open,
	.send = udp_send,
	.close = udp_close,
	.free = udp_free,
	.max_frame = udp_max_frame,
	.peer_absent = udp_peer_absent,
	.error_text = udp_error_text,
};
