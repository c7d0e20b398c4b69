/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: the decoders of BlueZ's D-Bus replies and signals (src/ble-bluez.c) on messages built from
 * the input. sd-bus has no public call that parses raw message bytes, so the input is read as a recipe:
 * which decoder, the message's signature (the one BlueZ sends, or any other the input spells), then the
 * values, each drawn from the input — object paths, interface and property names mostly from the ones
 * BlueZ uses, variants holding any of a set of types, arrays of up to 7 elements. The message is built on
 * a bus that never connects (one end of a socketpair: sd-bus makes messages on a started bus), sealed,
 * and handed to the decoder as a reply would be.
 *
 * Error replies too: a name and a message, explained as the transport does.
 *
 * Input: [decoder] [signature choice] [signature if spelled: length, bytes] values...
 */
#include <stddef.h>
#include <stdlib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>

#include "ble-bluez.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct Recipe {
	const uint8_t *p;
	size_t n;
} Recipe;

static sd_bus *bus;

static uint8_t take(Recipe *c)
{
	if (!c->n)
		return 0;
	c->n--;
	return *c->p++;
}

static void take_bytes(Recipe *c, void *out, size_t len)
{
	uint8_t *o = out;

	for (size_t i = 0; i < len; i++)
		o[i] = take(c);
}

/* A string: from the table when the first byte says so, else spelled out (at most 80 bytes). */
static const char *take_string(Recipe *c, const char *const *table, size_t table_len, char *buf, size_t size)
{
	uint8_t pick = take(c), len;

	if (table_len && pick < 0xc0)
		return table[pick % table_len];
	len = (uint8_t)(take(c) % MIN(size, 81));
	take_bytes(c, buf, len);
	buf[len] = '\0';
	return buf;
}

static const char *const paths[] = {
	"/org/bluez", "/org/bluez/hci0", "/org/bluez/hci1", "/org/bluez/hci0/dev_C0_FF_EE_00_00_01",
	"/org/bluez/hci0/dev_C0_FF_EE_00_00_01/service0010", "/org/bluez/hci0/dev_C0_FF_EE_00_00_01/service0010/char0011",
	"/", "/org/bluez/hci0/dev_00_00_00_00_00_00",
};
static const char *const words[] = {
	"org.bluez.Adapter1", "org.bluez.Device1", "org.bluez.GattCharacteristic1", "org.bluez.GattService1",
	"org.freedesktop.DBus.Properties", "Address", "Name", "UUID", "RSSI", "UUIDs", "Connected",
	"ServicesResolved", "Paired", "Powered", "MTU", "Value", "Alias", "8d53dc1d-1db7-4cd3-868b-8a527460aa84",
	"da2e7828-fbce-4e01-ae9e-261174997c48", "C0:FF:EE:00:00:01", "hci0", "",
};
/* What a variant holds: BlueZ's property types, and others a decoder must skip. */
static const char *const variant_types[] = { "s", "b", "n", "q", "as", "ay", "o", "u", "a{sv}", "y", "x", "d",
					     "ao", "a{qv}", "(ss)", "v" };

static const char *type_end(const char *s);

/* The end of the complete type a struct or dict entry holds, up to its closing bracket. */
static const char *group_end(const char *s, char close)
{
	while (*s && *s != close) {
		s = type_end(s);
		if (!s)
			return NULL;
	}
	return *s ? s + 1 : NULL;
}

/* The end of the single complete type at s (the D-Bus specification's signature grammar). */
static const char *type_end(const char *s)
{
	switch (*s) {
	case '\0': return NULL;
	case 'a': return type_end(s + 1);
	case '(': return group_end(s + 1, ')');
	case '{': return group_end(s + 1, '}');
	default: return s + 1;
	}
}

static int append_type(sd_bus_message *m, const char *sig, const char *end, Recipe *c, unsigned depth);

static int append_container(sd_bus_message *m, char kind, const char *inner, const char *inner_end, Recipe *c,
			    unsigned depth)
{
	char contents[128];
	unsigned count = kind == 'a' ? take(c) % 8u : 1u;
	int r;

	if ((size_t)(inner_end - inner) >= sizeof(contents))
		return -1;
	snprintf(contents, sizeof(contents), "%.*s", (int)(inner_end - inner), inner);
	r = sd_bus_message_open_container(m, kind, contents);
	for (unsigned i = 0; r >= 0 && i < count; i++) {
		const char *t = inner;

		/* a struct or dict entry: its members one after the other; an array: one element each time */
		while (r >= 0 && t < inner_end) {
			const char *e = type_end(t);

			if (!e || e > inner_end)
				return -1;
			r = append_type(m, t, e, c, depth + 1);
			t = kind == 'a' ? inner_end : e;
		}
	}
	return r < 0 ? r : sd_bus_message_close_container(m);
}

static int append_variant(sd_bus_message *m, Recipe *c, unsigned depth)
{
	const char *t = variant_types[take(c) % ARRAY_SIZE(variant_types)];
	int r = sd_bus_message_open_container(m, 'v', t);

	if (r >= 0)
		r = append_type(m, t, type_end(t), c, depth + 1);
	return r < 0 ? r : sd_bus_message_close_container(m);
}

static int append_basic(sd_bus_message *m, char type, Recipe *c)
{
	uint8_t raw[8];
	char buf[96];
	const char *s;

	switch (type) {
	case 'o': s = take_string(c, paths, ARRAY_SIZE(paths), buf, sizeof(buf)); break;
	case 's': s = take_string(c, words, ARRAY_SIZE(words), buf, sizeof(buf)); break;
	case 'g': s = take_string(c, variant_types, ARRAY_SIZE(variant_types), buf, sizeof(buf)); break;
	case 'b': return sd_bus_message_append_basic(m, 'b', &(int){ take(c) & 1 });
	case 'h': return -1; /* no file descriptors in a reply BlueZ sends here */
	default:
		take_bytes(c, raw, sizeof(raw));
		return sd_bus_message_append_basic(m, type, raw);
	}
	return sd_bus_message_append_basic(m, type, s);
}

static int append_type(sd_bus_message *m, const char *sig, const char *end, Recipe *c, unsigned depth)
{
	const char *inner_end;

	if (depth > 12)
		return -1;
	switch (*sig) {
	case 'a':
		return append_container(m, 'a', sig + 1, end, c, depth);
	case '(':
		inner_end = end - 1;
		return append_container(m, 'r', sig + 1, inner_end, c, depth);
	case '{':
		inner_end = end - 1;
		return append_container(m, 'e', sig + 1, inner_end, c, depth);
	case 'v':
		return append_variant(m, c, depth);
	default:
		return append_basic(m, *sig, c);
	}
}

static int append_all(sd_bus_message *m, const char *sig, Recipe *c)
{
	while (*sig) {
		const char *end = type_end(sig);
		int r;

		if (!end)
			return -1;
		r = append_type(m, sig, end, c, 0);
		if (r < 0)
			return r;
		sig = end;
	}
	return 0;
}

/* What the callers do with what a decoder found: the adapter pick, and every field read. */
static int visit(void *userdata, const char *path, const char *iface, const BleProps *p)
{
	unsigned *sum = userdata;
	BleAdapterPick pick = { .want = "hci1" };
	char text[200];

	ble_adapter_pick_visit(&pick, path, iface, p);
	ble_adapter_pick_explain(&pick, text, sizeof(text));
	*sum += (unsigned)strlen(p->address) + (unsigned)strlen(p->name) + (unsigned)strlen(p->uuid) + p->mtu;
	for (size_t i = 0; i < p->value_len; i++)
		*sum += p->value[i];
	return 0;
}

static void decode(sd_bus_message *m, unsigned which)
{
	unsigned sum = 0;
	BleProps p;

	switch (which) {
	case 0: ble_objects_read(m, visit, &sum); break;         /* GetManagedObjects */
	case 1: ble_interfaces_added_read(m, visit, &sum); break; /* InterfacesAdded */
	case 2: ble_props_read(m, &p); visit(&sum, "/", "", &p); break; /* Properties.GetAll */
	case 3: ble_interfaces_removed_has(m, "/org/bluez/hci0", BLUEZ_DEVICE); break; /* InterfacesRemoved */
	default: /* PropertiesChanged: interface, then the changed properties */
		if (sd_bus_message_read(m, "s", &(const char *){ NULL }) >= 0 && ble_props_read(m, &p) >= 0)
			visit(&sum, "/", "", &p);
		break;
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fds[2];

	(void)argc;
	(void)argv;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0 || sd_bus_new(&bus) < 0 ||
	    sd_bus_set_fd(bus, fds[0], fds[0]) < 0 || sd_bus_start(bus) < 0)
		abort();
	return 0;
}

/* An error reply: its name and message, as BlueZ (or the bus) sends them, explained. */
static void decode_error(Recipe *c)
{
	static const char *const names[] = {
		"org.bluez.Error.Failed", "org.bluez.Error.NotPermitted", "org.bluez.Error.InProgress",
		"org.bluez.Error.NotReady", "org.bluez.Error.DoesNotExist", "org.freedesktop.DBus.Error.AccessDenied",
		"org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NoReply",
		"org.freedesktop.DBus.Error.UnknownObject", "org.bluez.Error.AuthenticationFailed",
	};
	char name_buf[96], message_buf[96], out[300];
	const char *name = take_string(c, names, ARRAY_SIZE(names), name_buf, sizeof(name_buf));
	const char *message = take(c) & 1 ? take_string(c, words, ARRAY_SIZE(words), message_buf, sizeof(message_buf))
					  : NULL;
	const sd_bus_error e = SD_BUS_ERROR_MAKE_CONST(name, message);

	ble_bus_error_explain(&e, "Connect", out, sizeof(out));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const expected[] = { "a{oa{sa{sv}}}", "oa{sa{sv}}", "a{sv}", "oas", "sa{sv}as", "" };
	static uint64_t cookie;
	Recipe c = { data, size };
	unsigned which = take(&c) % ARRAY_SIZE(expected);
	sd_bus_message *m = NULL;
	char sig[64];
	const char *signature = expected[which];

	if (!signature[0]) {
		decode_error(&c);
		return 0;
	}
	if (take(&c) >= 0xe0) /* a signature of the input's own: a reply of the wrong shape */
		signature = take_string(&c, NULL, 0, sig, sizeof(sig));
	if (sd_bus_message_new_signal(bus, &m, "/org/bluez", "org.freedesktop.DBus.ObjectManager", "Fuzz") < 0)
		abort();
	if (append_all(m, signature, &c) >= 0 && sd_bus_message_seal(m, ++cookie, 0) >= 0 &&
	    sd_bus_message_rewind(m, 1) >= 0)
		decode(m, which);
	sd_bus_message_unref(m);
	return 0;
}
