/* SPDX-License-Identifier: MIT */
/* Transport selection by address prefix, and thin dispatch to the operation table. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "transport.h"
#include "util.h"

static const TransportOps *const transport_table[] = {
	&transport_udp_ops,
	&transport_ble_ops,
	&transport_serial_ops,
};

const char *const *transport_schemes(void)
{
	static const char *const schemes[] = { "udp", "ble", "serial", NULL };
	return schemes;
}

static const TransportOps *transport_find(const char *address, size_t scheme_len)
{
	for (size_t i = 0; i < ARRAY_SIZE(transport_table); i++) {
		const char *scheme = transport_table[i]->scheme;

		if (strlen(scheme) == scheme_len && strncmp(scheme, address, scheme_len) == 0)
			return transport_table[i];
	}
	return NULL;
}

int transport_new(sd_event *event, const char *address, const TransportOptions *options,
		  const TransportEvents *events, void *userdata, Transport **out, char *err, size_t err_size)
{
	const char *colon = strchr(address, ':');
	const TransportOps *ops;
	Transport *t;
	int r;

	if (!colon) {
		snprintf(err, err_size, "address '%s' has no transport prefix: use udp:HOST[:PORT], ble:ADDRESS or serial:/dev/ttyACM0",
			 address);
		return -EINVAL;
	}
	ops = options && options->ops ? options->ops : transport_find(address, (size_t)(colon - address));
	if (!ops) {
		snprintf(err, err_size, "unknown transport '%.*s' in '%s': use udp:HOST[:PORT], ble:ADDRESS or serial:/dev/ttyACM0",
			 (int)(colon - address), address, address);
		return -EPROTONOSUPPORT;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	*t = (Transport){ .ops = ops, .event = sd_event_ref(event), .events = *events, .userdata = userdata };
	if (options)
		t->options = *options;
	t->address = strdup(address);
	if (!t->address) {
		transport_free(t);
		return -ENOMEM;
	}
	r = ops->init(t, colon + 1, err, err_size);
	if (r < 0) {
		t->ops = NULL; /* init failed: nothing of the transport's own to free */
		transport_free(t);
		return r;
	}
	*out = t;
	return 0;
}

int transport_open(Transport *t)
{
	return t->ops->open(t);
}

int transport_send(Transport *t, const uint8_t *frame, size_t len)
{
	return t->ops->send(t, frame, len);
}

void transport_close(Transport *t)
{
	t->ops->close(t);
}

size_t transport_max_frame(Transport *t)
{
	return t->ops->max_frame(t);
}

size_t transport_fragment_size(Transport *t)
{
	return t->ops->fragment_size ? t->ops->fragment_size(t) : 0;
}

bool transport_peer_absent(Transport *t)
{
	return t->ops->peer_absent && t->ops->peer_absent(t);
}

size_t transport_buffer_overhead(Transport *t)
{
	return t->ops->buffer_overhead ? t->ops->buffer_overhead(t) : 0;
}

void transport_set_reassembly(Transport *t, size_t buf_size)
{
	if (t->ops->set_reassembly)
		t->ops->set_reassembly(t, buf_size);
}

const char *transport_error_text(Transport *t)
{
	return t->ops->error_text ? t->ops->error_text(t) : NULL;
}

void transport_free(Transport *t)
{
	if (!t)
		return;
	if (t->ops) {
		t->ops->close(t);
		t->ops->free(t);
	}
	sd_event_unref(t->event);
	free(t->address);
	free(t);
}

void transport_freep(Transport **t)
{
	transport_free(*t);
}
