/* SPDX-License-Identifier: MIT */
/*
 * ble:AA:BB:CC:DD:EE:FF | ble:name=NAME — SMP over the device's SMP GATT characteristic through BlueZ's
 * D-Bus API (BLUEZ.md; REFERENCE.md §6). Everything runs asynchronously on the caller's sd-event loop:
 * find the device (known objects first, else an LE scan), Connect, wait for ServicesResolved, find the
 * characteristic by UUID, AcquireNotify and AcquireWrite (falling back to StartNotify and
 * WriteValue(type=command)), then frames go out split into writes of at most min(MTU-3, 512) bytes and
 * answers come back reassembled from notifications by the SMP header's length.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>

#include "ble.h"
#include "log.h"
#include "smp.h"
#include "transport.h"
#include "util.h"

#define BLE_SMP_CHAR_UUID "da2e7828-fbce-4e01-ae9e-261174997c48"
#define BLE_CONNECT_TIMEOUT_USEC (35ull * 1000 * 1000) /* kernel LE connect 20 s + discovery */
#define BLE_NOTIFY_TIMEOUT_USEC (3ull * 1000 * 1000)   /* 5.66 may never answer AcquireNotify */
#define BLE_RETRY_USEC (1000ull * 1000)
#define BLE_TXQ_MAX (256u * 1024)
#define BLE_WRITES_IN_FLIGHT 32u

typedef enum BleStep {
	BLE_IDLE,
	BLE_FINDING,
	BLE_SCANNING,
	BLE_CONNECTING,
	BLE_RESOLVING,
	BLE_ACQUIRING,
	BLE_OPEN,
} BleStep;

typedef struct BleState {
	BleAddress want;
	sd_bus *bus;
	sd_bus_slot *match_added, *match_props, *call;
	sd_event_source *retry;
	BleStep step;
	char adapter[64], device[128], chr[192];
	bool we_connected, scanning;
	int notify_fd, write_fd;
	uint16_t mtu;
	sd_event_source *notify_io, *write_io;
	bool start_notify, write_value;
	size_t reassembly;
	BleRx rx;
	uint8_t *txq;           /* writes waiting for POLLOUT: [u16 length][bytes]… */
	size_t txq_len;
	unsigned connect_tries, resolve_tries;
	unsigned writes_pending;
	char error[320];
} BleState;

static void ble_fail(Transport *t, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void ble_reset(Transport *t)
{
	BleState *s = t->state;

	s->call = sd_bus_slot_unref(s->call);
	s->match_added = sd_bus_slot_unref(s->match_added);
	s->match_props = sd_bus_slot_unref(s->match_props);
	s->retry = sd_event_source_disable_unref(s->retry);
	s->notify_io = sd_event_source_disable_unref(s->notify_io);
	s->write_io = sd_event_source_disable_unref(s->write_io);
	if (s->notify_fd >= 0)
		close(s->notify_fd);
	if (s->write_fd >= 0)
		close(s->write_fd);
	s->notify_fd = s->write_fd = -1;
	free(s->txq);
	s->txq = NULL;
	s->txq_len = s->rx.len = 0;
	s->start_notify = s->write_value = s->scanning = false;
	s->writes_pending = 0;
	s->step = BLE_IDLE;
}

static void ble_fail(Transport *t, int err, const char *fmt, ...)
{
	BleState *s = t->state;
	bool opening = s->step != BLE_OPEN;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->error, sizeof(s->error), fmt, ap);
	va_end(ap);
	log_debug("ble: %s", s->error);
	t->ops->close(t);
	if (opening)
		t->events.opened(t->userdata, err);
	else
		t->events.lost(t->userdata, err);
}

/* D-Bus error name → what the user should do. */
static void ble_fail_call(Transport *t, const sd_bus_error *e, const char *what)
{
	if (sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.ServiceUnknown") ||
	    sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.NameHasNoOwner"))
		ble_fail(t, -EHOSTUNREACH, "no BlueZ on the system bus (org.bluez not found): is bluetoothd running?");
	else if (sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.NoReply") ||
		 sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.Timeout"))
		ble_fail(t, -ETIMEDOUT, "BlueZ did not answer %s in time", what);
	else
		ble_fail(t, -EIO, "%s failed: %s (%s)", what, e->message ? e->message : "", e->name ? e->name : "?");
}

static int ble_call(Transport *t, const char *path, const char *iface, const char *member, uint64_t usec,
		    sd_bus_message_handler_t cb, const char *types, ...)
{
	BleState *s = t->state;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	va_list ap;
	int r;

	r = sd_bus_message_new_method_call(s->bus, &m, "org.bluez", path, iface, member);
	if (r < 0)
		return r;
	if (types) {
		va_start(ap, types);
		r = sd_bus_message_appendv(m, types, ap);
		va_end(ap);
		if (r < 0)
			return r;
	}
	s->call = sd_bus_slot_unref(s->call);
	return sd_bus_call_async(s->bus, &s->call, m, cb, t, usec);
}

static int ble_step_connect(Transport *t);
static int ble_step_find_char(Transport *t);

/* Whether a Device1 property dict (an a{sv} the message is positioned at) is the wanted device. */
static int ble_device_matches(BleState *s, sd_bus_message *m, bool *match)
{
	int r;

	*match = false;
	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *key, *value;

		r = sd_bus_message_read(m, "s", &key);
		if (r < 0)
			return r;
		if ((!strcmp(key, "Address") && !s->want.by_name) || (!strcmp(key, "Name") && s->want.by_name)) {
			r = sd_bus_message_read(m, "v", "s", &value);
			if (r < 0)
				return r;
			*match |= s->want.by_name ? !strcmp(value, s->want.name) : !strcasecmp(value, s->want.address);
		} else {
			sd_bus_message_skip(m, "v");
		}
		sd_bus_message_exit_container(m);
	}
	return sd_bus_message_exit_container(m);
}

/* One object of GetManagedObjects or InterfacesAdded: {interface: {property: value}}. Notes the adapter
 * and the wanted device. */
static int ble_scan_object(Transport *t, sd_bus_message *m, const char *path)
{
	BleState *s = t->state;
	int r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");

	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
		const char *iface;
		bool match = false;

		sd_bus_message_read(m, "s", &iface);
		if (!strcmp(iface, "org.bluez.Adapter1") && !s->adapter[0] &&
		    (!t->options.adapter || !strcmp(strrchr(path, '/') + 1, t->options.adapter))) {
			snprintf(s->adapter, sizeof(s->adapter), "%s", path);
			sd_bus_message_skip(m, "a{sv}");
		} else if (!strcmp(iface, "org.bluez.Device1")) {
			r = ble_device_matches(s, m, &match);
			if (r < 0)
				return r;
			if (match && !s->device[0] && (!s->adapter[0] || !strncmp(path, s->adapter, strlen(s->adapter))))
				snprintf(s->device, sizeof(s->device), "%s", path);
		} else if (!strcmp(iface, "org.bluez.GattCharacteristic1") && s->device[0] &&
			   !strncmp(path, s->device, strlen(s->device))) {
			r = sd_bus_message_enter_container(m, 'a', "{sv}");
			while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
				const char *key, *uuid;

				sd_bus_message_read(m, "s", &key);
				if (!strcmp(key, "UUID") && sd_bus_message_read(m, "v", "s", &uuid) >= 0 &&
				    !strcasecmp(uuid, BLE_SMP_CHAR_UUID))
					snprintf(s->chr, sizeof(s->chr), "%s", path);
				else if (strcmp(key, "UUID"))
					sd_bus_message_skip(m, "v");
				sd_bus_message_exit_container(m);
			}
			sd_bus_message_exit_container(m);
		} else {
			sd_bus_message_skip(m, "a{sv}");
		}
		sd_bus_message_exit_container(m);
	}
	return sd_bus_message_exit_container(m);
}

static int ble_read_managed(Transport *t, sd_bus_message *m)
{
	int r = sd_bus_message_enter_container(m, 'a', "{oa{sa{sv}}}");

	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "oa{sa{sv}}")) > 0) {
		const char *path;

		sd_bus_message_read(m, "o", &path);
		r = ble_scan_object(t, m, path);
		if (r < 0)
			return r;
		sd_bus_message_exit_container(m);
	}
	return sd_bus_message_exit_container(m);
}

static int on_discovery_started(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;

	(void)e;
	if (sd_bus_message_is_method_error(m, NULL))
		ble_fail_call(t, sd_bus_message_get_error(m), "StartDiscovery");
	return 0;
}

static int on_filter_set(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;

	(void)e;
	if (sd_bus_message_is_method_error(m, NULL)) {
		ble_fail_call(t, sd_bus_message_get_error(m), "SetDiscoveryFilter");
		return 0;
	}
	s->scanning = true;
	return ble_call(t, s->adapter, "org.bluez.Adapter1", "StartDiscovery", 0, on_discovery_started, NULL);
}

/* Not among the known objects: scan, filtered on LE only (ISSUE-NOTES 18: advertisements often omit
 * the 128-bit UUID, so connecting never filters on it). */
static int ble_step_scan(Transport *t)
{
	BleState *s = t->state;

	s->step = BLE_SCANNING;
	log_debug("ble: %s not known to BlueZ, scanning", s->want.by_name ? s->want.name : s->want.address);
	return ble_call(t, s->adapter, "org.bluez.Adapter1", "SetDiscoveryFilter", 0, on_filter_set, "a{sv}", 1,
			"Transport", "s", "le");
}

static int on_managed_objects(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;

	(void)e;
	if (sd_bus_message_is_method_error(m, NULL)) {
		ble_fail_call(t, sd_bus_message_get_error(m), "GetManagedObjects");
		return 0;
	}
	if (ble_read_managed(t, m) < 0) {
		ble_fail(t, -EBADMSG, "BlueZ's object list could not be read");
		return 0;
	}
	if (!s->adapter[0]) {
		ble_fail(t, -ENODEV, t->options.adapter ? "no Bluetooth adapter named %s" : "no Bluetooth adapter%s",
			 t->options.adapter ? t->options.adapter : " (is one plugged in and powered?)");
		return 0;
	}
	if (s->step == BLE_RESOLVING)
		return ble_step_find_char(t);
	return s->device[0] ? ble_step_connect(t) : ble_step_scan(t);
}

static void ble_deliver(Transport *t, const uint8_t *data, size_t n)
{
	BleState *s = t->state;
	int r = ble_rx_feed(&s->rx, data, n);

	if (r > 0)
		t->events.frame(t->userdata, s->rx.buf, (size_t)r);
	else if (r < 0)
		log_debug("ble: a notification that neither starts nor continues a frame: dropped");
}

static int on_notify_readable(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	Transport *t = userdata;
	uint8_t buf[520];

	(void)src;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0) {
			ble_deliver(t, buf, (size_t)n);
			if (((BleState *)t->state)->step != BLE_OPEN)
				return 0;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR) && !(revents & (EPOLLHUP | EPOLLERR)))
			return 0;
		/* bluetoothd closed its end: the link is gone (BLUEZ.md §4). */
		ble_fail(t, -ECONNRESET, "the device disconnected");
		return 0;
	}
}

static int ble_flush_queue(Transport *t);

static int on_write_ready(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	Transport *t = userdata;

	(void)src, (void)fd;
	if (revents & (EPOLLHUP | EPOLLERR)) {
		ble_fail(t, -ECONNRESET, "the device disconnected");
		return 0;
	}
	ble_flush_queue(t);
	return 0;
}

static int ble_opened(Transport *t)
{
	BleState *s = t->state;

	s->step = BLE_OPEN;
	log_debug("ble: open, ATT MTU %u, %s, %s", s->mtu, s->start_notify ? "StartNotify" : "AcquireNotify",
		  s->write_value ? "WriteValue" : "AcquireWrite");
	t->events.opened(t->userdata, 0);
	return 0;
}

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

static int on_mtu(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;
	uint16_t mtu = 0;

	(void)e;
	if (!sd_bus_message_is_method_error(m, NULL) && sd_bus_message_read(m, "v", "q", &mtu) >= 0 && mtu >= 23 &&
	    s->start_notify)
		s->mtu = mtu;
	return ble_opened(t);
}

static int on_acquire_write(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;
	uint16_t mtu = 0;

	(void)e;
	if (sd_bus_message_is_method_error(m, NULL) || ble_take_fd(m, &s->write_fd, &mtu) < 0) {
		log_debug("ble: AcquireWrite failed; writing with WriteValue(type=command)");
		s->write_value = true;
		/* Without an acquired socket the MTU comes from the property (BlueZ >= 5.62, BLUEZ.md §5). */
		return ble_call(t, s->chr, "org.freedesktop.DBus.Properties", "Get", 0, on_mtu, "ss",
				"org.bluez.GattCharacteristic1", "MTU");
	}
	if (mtu >= 23)
		s->mtu = mtu;
	if (sd_event_add_io(t->event, &s->write_io, s->write_fd, 0, on_write_ready, t) < 0)
		ble_fail(t, -ENOMEM, "cannot watch the write socket");
	return ble_opened(t);
}

static int ble_step_acquire_write(Transport *t)
{
	BleState *s = t->state;

	return ble_call(t, s->chr, "org.bluez.GattCharacteristic1", "AcquireWrite", 0, on_acquire_write, "a{sv}", 0);
}

static int on_start_notify(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;

	(void)e;
	if (sd_bus_message_is_method_error(m, NULL)) {
		ble_fail_call(t, sd_bus_message_get_error(m), "StartNotify");
		return 0;
	}
	return ble_step_acquire_write(t);
}

static int on_acquire_notify(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;
	uint16_t mtu = 0;

	(void)e;
	if (sd_bus_message_is_method_error(m, NULL) || ble_take_fd(m, &s->notify_fd, &mtu) < 0) {
		/* NotSupported, NotPermitted, or 5.66 never answering: notifications as PropertiesChanged. */
		log_debug("ble: AcquireNotify failed (%s); using StartNotify",
			  sd_bus_message_is_method_error(m, NULL) ? sd_bus_message_get_error(m)->name : "no fd");
		s->start_notify = true;
		return ble_call(t, s->chr, "org.bluez.GattCharacteristic1", "StartNotify", 0, on_start_notify, NULL);
	}
	s->mtu = mtu >= 23 ? mtu : 23;
	if (sd_event_add_io(t->event, &s->notify_io, s->notify_fd, EPOLLIN, on_notify_readable, t) < 0) {
		ble_fail(t, -ENOMEM, "cannot watch the notification socket");
		return 0;
	}
	return ble_step_acquire_write(t);
}

static int on_retry_find(sd_event_source *src, uint64_t usec, void *userdata)
{
	Transport *t = userdata;
	BleState *s = t->state;

	(void)src, (void)usec;
	s->retry = sd_event_source_disable_unref(s->retry);
	return ble_call(t, "/", "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", 0, on_managed_objects, NULL);
}

static int ble_step_find_char(Transport *t)
{
	BleState *s = t->state;

	if (!s->chr[0]) {
		/* bluez#1489: "resolved" can be signalled while the objects are not there yet: look once more. */
		if (s->resolve_tries++ < 2)
			return sd_event_add_time_relative(t->event, &s->retry, CLOCK_MONOTONIC, BLE_RETRY_USEC, 0,
							  on_retry_find, t);
		ble_fail(t, -ENOENT, "%s has no SMP characteristic: is its SMP server (CONFIG_MCUMGR_TRANSPORT_BT) "
				     "enabled?", s->device);
		return 0;
	}
	s->step = BLE_ACQUIRING;
	s->mtu = 23;
	return ble_call(t, s->chr, "org.bluez.GattCharacteristic1", "AcquireNotify", BLE_NOTIFY_TIMEOUT_USEC,
			on_acquire_notify, "a{sv}", 0);
}

static int ble_resolved(Transport *t)
{
	BleState *s = t->state;

	s->chr[0] = '\0';
	s->resolve_tries = 0;
	return ble_call(t, "/", "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", 0, on_managed_objects, NULL);
}

static int on_services_resolved(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	int resolved = 0;

	(void)e;
	if (!sd_bus_message_is_method_error(m, NULL) && sd_bus_message_read(m, "v", "b", &resolved) >= 0 && resolved)
		return ble_resolved(t);
	return 0; /* not yet: PropertiesChanged(ServicesResolved) will say */
}

static int on_retry_connect(sd_event_source *src, uint64_t usec, void *userdata)
{
	Transport *t = userdata;
	BleState *s = t->state;

	(void)src, (void)usec;
	s->retry = sd_event_source_disable_unref(s->retry);
	return ble_step_connect(t);
}

static int on_connected(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;
	const sd_bus_error *err = sd_bus_message_get_error(m);

	(void)e;
	if (sd_bus_message_is_method_error(m, NULL)) {
		/* le-connection-abort-by-local and friends happen on real radios, and while a device is
		 * rebooting: try again until the open deadline (BLUEZ.md §3). */
		if (sd_bus_error_has_name(err, "org.bluez.Error.Failed") && s->connect_tries < 120)
			return sd_event_add_time_relative(t->event, &s->retry, CLOCK_MONOTONIC, BLE_RETRY_USEC, 0,
							  on_retry_connect, t);
		ble_fail_call(t, err, "connecting");
		return 0;
	}
	s->we_connected = true;
	s->step = BLE_RESOLVING;
	/* Connect replies before the services are resolved: wait for ServicesResolved=true. */
	return ble_call(t, s->device, "org.freedesktop.DBus.Properties", "Get", 0, on_services_resolved, "ss",
			"org.bluez.Device1", "ServicesResolved");
}

static int on_discovery_stopped(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	(void)m, (void)userdata, (void)e;
	return 0;
}

static int ble_step_connect(Transport *t)
{
	BleState *s = t->state;

	s->connect_tries++;
	s->step = BLE_CONNECTING;
	if (s->scanning) {
		s->scanning = false;
		sd_bus_call_method_async(s->bus, NULL, "org.bluez", s->adapter, "org.bluez.Adapter1", "StopDiscovery",
					 on_discovery_stopped, NULL, NULL);
	}
	log_debug("ble: connecting to %s", s->device);
	return ble_call(t, s->device, "org.bluez.Device1", "Connect", BLE_CONNECT_TIMEOUT_USEC, on_connected, NULL);
}

/* InterfacesAdded while scanning: is it the device? */
static int on_interfaces_added(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;
	const char *path;

	(void)e;
	if (s->step != BLE_SCANNING || sd_bus_message_read(m, "o", &path) < 0)
		return 0;
	if (ble_scan_object(t, m, path) >= 0 && s->device[0])
		ble_step_connect(t);
	return 0;
}

static int ble_read_changed(sd_bus_message *m, const char *want, int *value, const uint8_t **bytes, size_t *len)
{
	int r = sd_bus_message_enter_container(m, 'a', "{sv}");
	bool found = false;

	while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *key;

		sd_bus_message_read(m, "s", &key);
		if (!strcmp(key, want) && bytes) {
			sd_bus_message_enter_container(m, 'v', "ay");
			r = sd_bus_message_read_array(m, 'y', (const void **)bytes, len);
			sd_bus_message_exit_container(m);
			found = r >= 0;
		} else if (!strcmp(key, want)) {
			found = sd_bus_message_read(m, "v", "b", value) >= 0;
		} else {
			sd_bus_message_skip(m, "v");
		}
		sd_bus_message_exit_container(m);
	}
	return found;
}

/* Device: Connected / ServicesResolved; characteristic: Value (notifications under StartNotify). */
static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;
	const char *path = sd_bus_message_get_path(m), *iface;
	const uint8_t *bytes;
	size_t len;
	int v = 0;

	(void)e;
	if (sd_bus_message_read(m, "s", &iface) < 0)
		return 0;
	if (!strcmp(iface, "org.bluez.GattCharacteristic1") && s->start_notify && !strcmp(path, s->chr)) {
		if (ble_read_changed(m, "Value", NULL, &bytes, &len) && s->step == BLE_OPEN)
			ble_deliver(t, bytes, len);
		return 0;
	}
	if (strcmp(iface, "org.bluez.Device1") || strcmp(path, s->device))
		return 0;
	if (s->step == BLE_RESOLVING && ble_read_changed(m, "ServicesResolved", &v, NULL, NULL) && v)
		return ble_resolved(t);
	sd_bus_message_rewind(m, true);
	sd_bus_message_skip(m, "s");
	if (ble_read_changed(m, "Connected", &v, NULL, NULL) && !v && s->step >= BLE_CONNECTING &&
	    s->step != BLE_CONNECTING)
		ble_fail(t, -ECONNRESET, "the device disconnected");
	return 0;
}

static int ble_init(Transport *t, const char *rest, char *err, size_t err_size)
{
	BleState *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	if (ble_address_parse(rest, &s->want) < 0) {
		snprintf(err, err_size, "invalid Bluetooth address 'ble:%s': use ble:AA:BB:CC:DD:EE:FF or ble:name=NAME",
			 rest);
		free(s);
		return -EINVAL;
	}
	s->notify_fd = s->write_fd = -1;
	t->state = s;
	return 0;
}

static int ble_open(Transport *t)
{
	BleState *s = t->state;
	int r;

	ble_reset(t);
	s->adapter[0] = s->device[0] = s->chr[0] = '\0';
	s->connect_tries = 0;
	s->error[0] = '\0';
	/* A new bus connection per link: BlueZ re-arms notify sessions of a connection that stays. */
	s->bus = sd_bus_flush_close_unref(s->bus);
	r = sd_bus_open_system(&s->bus);
	if (r < 0) {
		snprintf(s->error, sizeof(s->error), "cannot reach the system bus: %s", strerror(-r));
		return r;
	}
	r = sd_bus_attach_event(s->bus, t->event, SD_EVENT_PRIORITY_NORMAL);
	/* Matches before GetManagedObjects, so nothing falls between the two (BLUEZ.md §7). */
	if (r >= 0)
		r = sd_bus_match_signal_async(s->bus, &s->match_added, "org.bluez", "/",
					      "org.freedesktop.DBus.ObjectManager", "InterfacesAdded", on_interfaces_added,
					      NULL, t);
	if (r >= 0)
		r = sd_bus_add_match_async(s->bus, &s->match_props,
					   "type='signal',sender='org.bluez',interface='org.freedesktop.DBus.Properties',"
					   "member='PropertiesChanged',path_namespace='/org/bluez'",
					   on_properties_changed, NULL, t);
	if (r < 0)
		return r;
	s->step = BLE_FINDING;
	return ble_call(t, "/", "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", 0, on_managed_objects, NULL);
}

static int ble_write_value(Transport *t, const uint8_t *p, size_t n);

/* Each WriteValue is answered once bluetoothd queued it; a bounded number stays outstanding, since a
 * bus allows 128 pending replies per connection. */
static int on_write_value(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	Transport *t = userdata;
	BleState *s = t->state;

	(void)e;
	if (sd_bus_message_is_method_error(m, NULL))
		log_debug("ble: WriteValue failed: %s", sd_bus_message_get_error(m)->message);
	if (s->writes_pending)
		s->writes_pending--;
	if (s->txq_len && s->writes_pending < BLE_WRITES_IN_FLIGHT) {
		size_t n = (size_t)(s->txq[0] << 8 | s->txq[1]);
		uint8_t piece[512];

		memcpy(piece, s->txq + 2, MIN(n, sizeof(piece)));
		memmove(s->txq, s->txq + 2 + n, s->txq_len - 2 - n);
		s->txq_len -= 2 + n;
		ble_write_value(t, piece, MIN(n, sizeof(piece)));
	}
	return 0;
}

/* Writes of one frame in order; on EAGAIN the rest waits for POLLOUT (BLUEZ.md §6). */
static int ble_queue(BleState *s, const uint8_t *p, size_t n)
{
	uint8_t *q;

	if (s->txq_len + 2 + n > BLE_TXQ_MAX)
		return -ENOBUFS;
	q = realloc(s->txq, s->txq_len + 2 + n);
	if (!q)
		return -ENOMEM;
	s->txq = q;
	q[s->txq_len] = (uint8_t)(n >> 8);
	q[s->txq_len + 1] = (uint8_t)n;
	memcpy(q + s->txq_len + 2, p, n);
	s->txq_len += 2 + n;
	return 0;
}

static int ble_flush_queue(Transport *t)
{
	BleState *s = t->state;
	size_t off = 0;

	while (off < s->txq_len) {
		size_t n = (size_t)(s->txq[off] << 8 | s->txq[off + 1]);

		if (send(s->write_fd, s->txq + off + 2, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			if (errno == EAGAIN)
				break;
			ble_fail(t, -ECONNRESET, "the device disconnected");
			return -ECONNRESET;
		}
		off += 2 + n;
	}
	memmove(s->txq, s->txq + off, s->txq_len - off);
	s->txq_len -= off;
	return sd_event_source_set_io_events(s->write_io, s->txq_len ? EPOLLOUT : 0);
}

static int ble_write_value(Transport *t, const uint8_t *p, size_t n)
{
	BleState *s = t->state;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_call(s->bus, &m, "org.bluez", s->chr, "org.bluez.GattCharacteristic1",
					       "WriteValue");

	if (r >= 0)
		r = sd_bus_message_append_array(m, 'y', p, n);
	if (r >= 0)
		r = sd_bus_message_append(m, "a{sv}", 1, "type", "s", "command");
	if (r >= 0)
		r = sd_bus_call_async(s->bus, NULL, m, on_write_value, t, 0);
	if (r >= 0)
		s->writes_pending++;
	return r;
}

static int ble_write_one(Transport *t, const uint8_t *p, size_t n)
{
	BleState *s = t->state;
	int r;

	if (s->write_value)
		return s->writes_pending < BLE_WRITES_IN_FLIGHT && !s->txq_len ? ble_write_value(t, p, n)
										 : ble_queue(s, p, n);
	if (s->txq_len == 0 && send(s->write_fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
		return 0;
	if (s->txq_len == 0 && errno != EAGAIN)
		return -ECONNRESET;
	r = ble_queue(s, p, n);
	return r < 0 ? r : sd_event_source_set_io_events(s->write_io, EPOLLOUT);
}

static size_t ble_fragment_size(Transport *t)
{
	BleState *s = t->state;

	/* Write commands carry MTU-3 bytes, and bluetoothd reads the acquired fd 512 at a time. */
	return MIN((size_t)(s->mtu > 3 ? s->mtu - 3 : 20), (size_t)512);
}

static int ble_send(Transport *t, const uint8_t *frame, size_t len)
{
	BleState *s = t->state;
	size_t frag = ble_fragment_size(t);

	if (s->step != BLE_OPEN)
		return -ENOTCONN;
	/* One frame's pieces only, never the tail of one with the head of the next (REFERENCE.md §6). */
	for (size_t off = 0; off < len; off += frag) {
		int r = ble_write_one(t, frame + off, MIN(frag, len - off));

		if (r < 0)
			return r;
	}
	return 0;
}

static const char *ble_error_text(Transport *t);

static void ble_close(Transport *t)
{
	BleState *s = t->state;

	if (!s)
		return;
	if (s->step != BLE_OPEN && s->step != BLE_IDLE)
		ble_error_text(t); /* say how far opening got before the state goes */
	if (s->bus && s->start_notify && s->chr[0])
		sd_bus_call_method_async(s->bus, NULL, "org.bluez", s->chr, "org.bluez.GattCharacteristic1", "StopNotify",
					 NULL, NULL, NULL);
	if (s->bus && s->we_connected && s->device[0])
		sd_bus_call_method_async(s->bus, NULL, "org.bluez", s->device, "org.bluez.Device1", "Disconnect", NULL,
					 NULL, NULL);
	s->we_connected = false;
	ble_reset(t);
	s->bus = sd_bus_flush_close_unref(s->bus);
}

static void ble_free(Transport *t)
{
	free(t->state);
	t->state = NULL;
}

static size_t ble_max_frame(Transport *t)
{
	BleState *s = t->state;

	return s->reassembly ? s->reassembly : ble_fragment_size(t);
}

static void ble_set_reassembly(Transport *t, size_t buf_size)
{
	((BleState *)t->state)->reassembly = buf_size;
}

static const char *ble_error_text(Transport *t)
{
	BleState *s = t->state;

	if (s->error[0])
		return s->error;
	if (s->step == BLE_SCANNING)
		snprintf(s->error, sizeof(s->error), "%s not found while scanning: is it advertising and in range?",
			 s->want.by_name ? s->want.name : s->want.address);
	else if (s->step == BLE_CONNECTING)
		snprintf(s->error, sizeof(s->error), "could not connect to %s (is it still advertising?)", s->device);
	return s->error[0] ? s->error : NULL;
}

const TransportOps transport_ble_ops = {
	.scheme = "ble",
	.usage = "ble:AA:BB:CC:DD:EE:FF | ble:name=NAME",
	.init = ble_init,
	.open = ble_open,
	.send = ble_send,
	.close = ble_close,
	.free = ble_free,
	.max_frame = ble_max_frame,
	.fragment_size = ble_fragment_size,
	.set_reassembly = ble_set_reassembly,
	.error_text = ble_error_text,
};
