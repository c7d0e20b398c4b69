/* SPDX-License-Identifier: MIT */
/*
 * GattService1 / GattCharacteristic1 / GattDescriptor1 of bluez@5.66's GATT client (BLUEZ.md §4,
 * src/gatt-client.c) for the SMP service: exact signatures, BlueZ's error names and messages, the
 * AcquireWrite/AcquireNotify socket pairs (SOCK_SEQPACKET, one datagram per ATT PDU) and StartNotify
 * with one PropertiesChanged(Value) per notification.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bluez-sim.h"
#include "util.h"

static Stand *peer_stand(const Peer *p)
{
	return p->adapter->stand;
}

static void release_write(Peer *p)
{
	p->write_io = sd_event_source_disable_unref(p->write_io);
	if (p->write_fd >= 0)
		close(p->write_fd);
	p->write_fd = -1;
	stand_free_owner(&p->write_owner);
	if (p->write_acquired) {
		p->write_acquired = false;
		peer_emit(p, IFACE_CHAR, "WriteAcquired");
	}
}

static bool connected(const Peer *p)
{
	return p->connected && p->radio->conn == p;
}

/* bt_gatt_client_unregister_notify(): the last session gone, the CCC is written 0 on a live link. */
static void ccc_off(Peer *p)
{
	if (connected(p))
		radio_ccc_disabled(p->radio);
}

static void release_notify(Peer *p)
{
	p->notify_io = sd_event_source_disable_unref(p->notify_io);
	if (p->notify_fd >= 0) {
		close(p->notify_fd);
		ccc_off(p); /* the socket exists once the CCC write succeeded */
	}
	p->notify_fd = -1;
	stand_free_owner(&p->notify_owner);
	p->notify_msg = sd_bus_message_unref(p->notify_msg);
	if (p->notify_acquired) {
		p->notify_acquired = false;
		peer_emit(p, IFACE_CHAR, "NotifyAcquired");
		peer_emit(p, IFACE_CHAR, "Notifying");
	}
}

/* btd_gatt_client_disconnected(): every acquired socket is shut down; a notify lock whose CCC write
 * never completed has no socket and survives (the 5.66 bug, gatt-client.c:1482-1556). */
void gatt_link_down(Peer *p)
{
	release_write(p);
	if (p->notify_fd >= 0)
		release_notify(p);
	p->ccc_msg = sd_bus_message_unref(p->ccc_msg);
	/* clear_notify_id(): the StartNotify sessions stay, unregistered until the next link. */
	for (size_t i = 0; i < p->n_notify_clients; i++)
		p->notify_registered[i] = false;
}

bool gatt_subscribed(const Peer *p)
{
	return p->notify_fd >= 0 || (p->notifying && p->n_notify_clients > 0);
}

/* notify_io_cb(): one datagram, dropped when the client does not read; notify_cb(): Value changes,
 * flushed at once, one signal per notification (gatt-client.c:901-913, 1457-1480). */
void gatt_notify(Peer *p, const uint8_t *data, size_t len)
{
	if (p->notify_fd >= 0) {
		if (send(p->notify_fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			stand_log(peer_stand(p), "%s: sendmsg: %s: notification dropped", p->radio->address, strerror(errno));
		return;
	}
	if (p->n_notify_clients == 0)
		return;
	memcpy(p->value, data, len);
	p->value_len = len;
	peer_emit(p, IFACE_CHAR, "Value");
}

/* bluetoothd's sock_read(): one datagram at a time into 512 bytes; longer than MTU - 3 is dropped, longer
 * than 512 truncated, and a zero-length read removes the handler for good (gatt-client.c:1090-1121). */
static int on_client_write(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	Peer *p = userdata;
	uint8_t buf[ATT_VALUE_MAX];
	ssize_t n;

	(void)src;
	if ((revents & (EPOLLHUP | EPOLLERR)) && !(revents & EPOLLIN)) {
		release_write(p); /* the client closed its end: the lock goes */
		return 0;
	}
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0)
		return 0;
	if (n == 0) {
		if (revents & EPOLLHUP) {
			release_write(p);
		} else {
			stand_log(peer_stand(p), "%s: zero-length write: the socket is not read any more", p->radio->address);
			p->write_io = sd_event_source_disable_unref(p->write_io);
		}
		return 0;
	}
	if ((size_t)n > link_value_max(&peer_stand(p)->link))
		return 0; /* bt_att_send refuses it; the return value is ignored */
	radio_client_write(p->radio, buf, (size_t)n);
	return 0;
}

static int on_notify_hup(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	(void)src, (void)fd;
	if (revents & (EPOLLHUP | EPOLLERR))
		release_notify(userdata);
	return 0;
}

static int make_socket(Peer *p, bool write, int *client_fd)
{
	int fds[2], r;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0)
		return -errno;
	*client_fd = fds[1];
	if (write) {
		p->write_fd = fds[0];
		r = sd_event_add_io(peer_stand(p)->event, &p->write_io, fds[0], EPOLLIN, on_client_write, p);
	} else {
		p->notify_fd = fds[0];
		r = sd_event_add_io(peer_stand(p)->event, &p->notify_io, fds[0], 0, on_notify_hup, p);
	}
	if (r < 0)
		close(fds[1]);
	return r;
}

/* create_sock(): the reply carries our duplicate of the client's end and the ATT MTU. */
static int reply_socket(sd_bus_message *m, Peer *p, bool write)
{
	int fd = -1, r = make_socket(p, write, &fd);

	if (r < 0)
		return reply_error(m, ERR_FAILED, "Failed to create socket");
	r = sd_bus_reply_method_return(m, "hq", fd, (uint16_t)peer_stand(p)->link.mtu);
	close(fd);
	if (write) {
		p->write_acquired = true;
		p->write_owner = stand_strdup(sd_bus_message_get_sender(m));
		peer_emit(p, IFACE_CHAR, "WriteAcquired");
	} else {
		p->notify_acquired = true;
		peer_emit(p, IFACE_CHAR, "NotifyAcquired");
		peer_emit(p, IFACE_CHAR, "Notifying");
	}
	return r;
}

/* --gatt-errors: what bluez@5.66 answers while another client's lock or session is in the way, which
 * lasts a moment: an acquired socket whose close bluetoothd has not yet seen ("Write acquired", "Notify
 * acquired", BLUEZ.md §4), a StartNotify session of another client (AcquireNotify: InProgress), or a CCC
 * write the device refused (StartNotify: create_gatt_dbus_error(), gatt-client.c:269-297). Seeded. */
static bool gatt_error_drawn(Peer *p, const char *call)
{
	Faults *f = &peer_stand(p)->faults;

	if (f->gatt_errors <= 0 || !f->connect_seed || (double)(stand_random(f) % 1000000) >= f->gatt_errors * 1e6)
		return false;
	stand_log(peer_stand(p), "%s: %s answers a transient error (fault knob)", p->radio->address, call);
	return true;
}

static int acquire_write(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;

	(void)error;
	if (!connected(p))
		return reply_error(m, ERR_FAILED, "Not connected");
	if (p->write_acquired || gatt_error_drawn(p, "AcquireWrite"))
		return reply_error(m, ERR_NOT_PERMITTED, "Write acquired");
	if (peer_stand(p)->faults.acquire_write_fails)
		return reply_error(m, ERR_NOT_SUPPORTED, "Operation is not supported");
	return reply_socket(m, p, true);
}

/* The CCC write of StartNotify/AcquireNotify. On a link below the characteristic's permission the device
 * answers Insufficient Encryption/Authentication and bluetoothd raises the security itself: pairing with
 * the default agent, Just Works without one (shared/att.c:744-804, BLUEZ.md §3). */
static void ccc_write(Peer *p, void (*done)(Peer *, const char *, const char *))
{
	if (radio_security_ok(p->radio)) {
		done(p, NULL, NULL);
		return;
	}
	stand_log(peer_stand(p), "%s: CCC write refused (insufficient security): pairing", p->radio->address);
	if (pairing_start(p, NULL, done) < 0)
		done(p, ERR_NOT_PERMITTED, "Not paired");
}

static void acquire_notify_done(Peer *p, const char *error, const char *message)
{
	sd_bus_message *m = p->notify_msg;

	(void)message;
	if (!m)
		return;
	if (error || !radio_security_ok(p->radio)) {
		/* 5.66: register_notify_io_cb() frees the client and never answers; the lock stays until
		 * StopNotify (fixed in 5.84, BLUEZ.md §4). */
		stand_log(peer_stand(p), "%s: CCC write failed: AcquireNotify never answers (5.66)", p->radio->address);
		return;
	}
	p->notify_msg = NULL;
	p->notify_owner = stand_strdup(sd_bus_message_get_sender(m));
	reply_socket(m, p, false);
	sd_bus_message_unref(m);
}

static int acquire_notify(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;

	(void)error;
	if (!connected(p))
		return reply_error(m, ERR_FAILED, "Not connected");
	if (p->notify_acquired)
		return reply_error(m, ERR_NOT_PERMITTED, "Notify acquired");
	if (p->n_notify_clients || gatt_error_drawn(p, "AcquireNotify"))
		return reply_error(m, ERR_IN_PROGRESS, "In Progress");
	p->notify_acquired = true; /* chrc->notify_io is set before the CCC write */
	p->notify_msg = sd_bus_message_ref(m);
	if (peer_stand(p)->faults.acquire_notify_hangs) {
		stand_log(peer_stand(p), "%s: AcquireNotify hangs (fault knob)", p->radio->address);
		return 1;
	}
	ccc_write(p, acquire_notify_done);
	return 1;
}

static int find_client(const Peer *p, const char *owner)
{
	for (size_t i = 0; i < p->n_notify_clients; i++)
		if (!strcmp(p->notify_clients[i], owner))
			return (int)i;
	return -1;
}

static void remove_client(Peer *p, size_t i)
{
	stand_free_owner(&p->notify_clients[i]);
	p->notify_clients[i] = p->notify_clients[--p->n_notify_clients];
	p->notify_registered[i] = p->notify_registered[p->n_notify_clients];
	p->notify_clients[p->n_notify_clients] = NULL;
	if (p->n_notify_clients == 0 && p->notifying) {
		ccc_off(p);
		p->notifying = false;
		peer_emit(p, IFACE_CHAR, "Notifying");
	}
}

/* register_notify_cb(): Notifying=true is queued before the reply, so it is seen first. */
static void start_notify_done(Peer *p, const char *error, const char *message)
{
	sd_bus_message *m = p->ccc_msg;
	int i;

	(void)message;
	if (!m)
		return;
	p->ccc_msg = NULL;
	i = find_client(p, sd_bus_message_get_sender(m));
	if (error || !radio_security_ok(p->radio)) {
		if (i >= 0)
			remove_client(p, (size_t)i);
		reply_error(m, ERR_NOT_PERMITTED, "Not paired"); /* ATT 0x05/0x0f, gatt-client.c:269-297 */
	} else {
		if (i >= 0)
			p->notify_registered[i] = true;
		if (!p->notifying) {
			p->notifying = true;
			peer_emit(p, IFACE_CHAR, "Notifying");
		}
		sd_bus_reply_method_return(m, NULL);
	}
	sd_bus_message_unref(m);
}

static int start_notify(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;
	const char *sender = sd_bus_message_get_sender(m);
	int i;

	(void)error;
	if (p->disconnecting)
		return reply_error(m, ERR_NOT_CONNECTED, "Not Connected");
	if (p->notify_acquired)
		return reply_error(m, ERR_NOT_PERMITTED, "Notify acquired");
	if (connected(p) && gatt_error_drawn(p, "StartNotify"))
		return (stand_random(&peer_stand(p)->faults) & 1) ?
			reply_error(m, ERR_NOT_PERMITTED, "Notify acquired") :
			reply_error(m, ERR_FAILED, "Operation failed with ATT error: 0x11"); /* Insufficient Resources */
	/* One session per sender: a repeat succeeds once BlueZ registered it (notify_id set), and is
	 * InProgress before, also between a link loss and the next link and while the CCC write is under way
	 * (gatt-client.c characteristic_start_notify(), clear_notify_id()). */
	i = find_client(p, sender);
	if (i >= 0)
		return p->notify_registered[i] && !p->ccc_msg ? sd_bus_reply_method_return(m, NULL)
							     : reply_error(m, ERR_IN_PROGRESS, "In Progress");
	if (p->n_notify_clients == MAX_CLIENTS || p->ccc_msg)
		return reply_error(m, ERR_FAILED, "Failed allocate notify session");
	p->notify_registered[p->n_notify_clients] = false;
	p->notify_clients[p->n_notify_clients++] = stand_strdup(sender);
	if (!connected(p))
		return sd_bus_reply_method_return(m, NULL); /* armed for the next connection */
	p->ccc_msg = sd_bus_message_ref(m);
	ccc_write(p, start_notify_done);
	return 1;
}

static int stop_notify(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;
	int i;

	(void)error;
	if (p->notify_acquired) {
		release_notify(p); /* also the stuck lock of a failed AcquireNotify */
		return sd_bus_reply_method_return(m, NULL);
	}
	i = find_client(p, sd_bus_message_get_sender(m));
	if (i < 0)
		return reply_error(m, ERR_FAILED, "No notify session started");
	remove_client(p, (size_t)i);
	return sd_bus_reply_method_return(m, NULL);
}

/* Re-arms the StartNotify sessions of clients still on the bus (gatt-client.c:2178-2204,
 * btd_gatt_client_ready() -> register_notify(): each gets its notify_id again). */
void gatt_link_up(Peer *p)
{
	for (size_t i = 0; i < p->n_notify_clients; i++)
		p->notify_registered[i] = true;
	if (p->n_notify_clients && radio_security_ok(p->radio) && !p->notifying) {
		p->notifying = true;
		peer_emit(p, IFACE_CHAR, "Notifying");
	}
}

void gatt_sender_gone(Peer *p, const char *owner)
{
	int i = find_client(p, owner);

	if (i >= 0)
		remove_client(p, (size_t)i);
	if (p->write_owner && !strcmp(p->write_owner, owner))
		release_write(p);
	if (p->notify_owner && !strcmp(p->notify_owner, owner))
		release_notify(p);
}

/* Options of WriteValue/ReadValue: "offset" (q) and "type" (s); other keys are for servers. */
static int parse_options(sd_bus_message *m, uint16_t *offset, char type[16])
{
	int r = sd_bus_message_enter_container(m, 'a', "{sv}");

	*offset = 0;
	type[0] = '\0';
	while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *key, *contents, *v;

		r = sd_bus_message_read(m, "s", &key);
		if (r >= 0)
			r = sd_bus_message_peek_type(m, NULL, &contents);
		if (r < 0)
			return r;
		if (!strcmp(key, "offset")) {
			r = strcmp(contents, "q") ? -EINVAL : sd_bus_message_read(m, "v", "q", offset);
		} else if (!strcmp(key, "type")) {
			if (strcmp(contents, "s") || sd_bus_message_read(m, "v", "s", &v) < 0 || strlen(v) >= 16)
				return -EINVAL;
			snprintf(type, 16, "%s", v);
		} else {
			r = sd_bus_message_skip(m, "v");
		}
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
	}
	return r;
}

/* gatt-client.c:995-1088: Not connected, Write acquired, bad options; a command is answered as soon as
 * it is queued, or fails when it does not fit one PDU. */
static int write_value(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;
	const void *data;
	size_t len;
	uint16_t offset;
	char type[16];
	int r = sd_bus_message_read_array(m, 'y', &data, &len);

	(void)error;
	if (r < 0)
		return r;
	if (!connected(p))
		return reply_error(m, ERR_FAILED, "Not connected");
	if (p->write_acquired)
		return reply_error(m, ERR_NOT_PERMITTED, "Write acquired");
	if (parse_options(m, &offset, type) < 0 ||
	    (type[0] && strcmp(type, "command") && strcmp(type, "request") && strcmp(type, "reliable")))
		return reply_error(m, ERR_INVALID_ARGS, MSG_INVALID_ARGS);
	if (!type[0] || !strcmp(type, "command")) {
		if (offset)
			return reply_error(m, ERR_NOT_SUPPORTED, "Operation is not supported");
		if (len > link_value_max(&peer_stand(p)->link))
			return reply_error(m, ERR_FAILED, "Failed to initiate write");
	} else if (!radio_security_ok(p->radio)) {
		return reply_error(m, ERR_NOT_PERMITTED, "Not paired");
	} else if (len > link_value_max(&peer_stand(p)->link) || offset || !strcmp(type, "reliable")) {
		/* a long or reliable write needs prepared writes, which smp_bt.c does not permit */
		return reply_error(m, ERR_NOT_PERMITTED, "Write not permitted");
	}
	/* --write-value-fails: bt_gatt_client_write_without_response() could not queue it (gatt-client.c
	 * characteristic_write_value()); the bytes never reach the device. */
	if (peer_stand(p)->faults.write_value_fails &&
	    ++peer_stand(p)->faults.write_values == peer_stand(p)->faults.write_value_fails)
		return reply_error(m, ERR_FAILED, "Failed to initiate write");
	r = sd_bus_reply_method_return(m, NULL);
	if (len)
		radio_client_write(p->radio, data, len);
	return r;
}

/* The SMP characteristic has no read permission: ATT Read Not Permitted (0x02). */
static int read_value(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;
	uint16_t offset;
	char type[16];

	(void)error;
	if (parse_options(m, &offset, type) < 0)
		return reply_error(m, ERR_INVALID_ARGS, MSG_INVALID_ARGS);
	if (!connected(p))
		return reply_error(m, ERR_FAILED, "Not connected");
	return reply_error(m, ERR_NOT_PERMITTED, "Read not permitted");
}

static int desc_read_value(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;
	uint8_t ccc[2] = { gatt_subscribed(p) ? 1 : 0, 0 };
	uint16_t offset;
	char type[16];
	sd_bus_message *reply = NULL;
	int r;

	(void)error;
	if (parse_options(m, &offset, type) < 0)
		return reply_error(m, ERR_INVALID_ARGS, MSG_INVALID_ARGS);
	if (!connected(p))
		return reply_error(m, ERR_FAILED, "Not connected");
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_append_array(reply, 'y', ccc, sizeof(ccc));
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r;
}

/* gatt-client.c:608-614: the CCC is written through StartNotify/AcquireNotify only. */
static int desc_write_value(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(void)userdata, (void)error;
	return reply_error(m, ERR_NOT_PERMITTED, "Write not permitted");
}

static int get_string(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
		      void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;

	(void)bus, (void)path, (void)error;
	if (!strcmp(prop, "Device"))
		return sd_bus_message_append(reply, "o", p->path);
	if (!strcmp(prop, "Service"))
		return sd_bus_message_append(reply, "o", p->svc_path);
	if (!strcmp(prop, "Characteristic"))
		return sd_bus_message_append(reply, "o", p->chr_path);
	if (!strcmp(iface, IFACE_SERVICE))
		return sd_bus_message_append(reply, "s", SMP_SERVICE_UUID);
	return sd_bus_message_append(reply, "s", !strcmp(iface, IFACE_CHAR) ? SMP_CHAR_UUID : CCC_UUID);
}

static int get_bool(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
		    void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;
	bool v = true; /* Primary */

	(void)bus, (void)path, (void)iface, (void)error;
	if (!strcmp(prop, "Notifying"))
		v = p->notifying || p->notify_fd >= 0;
	else if (!strcmp(prop, "WriteAcquired"))
		v = p->write_acquired;
	else if (!strcmp(prop, "NotifyAcquired"))
		v = p->notify_acquired;
	return sd_bus_message_append(reply, "b", v);
}

static int get_value(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
		     void *userdata, sd_bus_error *error)
{
	Peer *p = userdata;
	uint8_t ccc[2] = { gatt_subscribed(p) ? 1 : 0, 0 };

	(void)bus, (void)path, (void)prop, (void)error;
	if (!strcmp(iface, IFACE_DESC))
		return sd_bus_message_append_array(reply, 'y', ccc, sizeof(ccc));
	return sd_bus_message_append_array(reply, 'y', p->value, p->value_len);
}

static int get_list(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
		    void *userdata, sd_bus_error *error)
{
	(void)bus, (void)path, (void)iface, (void)userdata, (void)error;
	if (!strcmp(prop, "Flags"))
		return sd_bus_message_append(reply, "as", 2, "write-without-response", "notify");
	return sd_bus_message_append(reply, "ao", 0); /* Includes */
}

const sd_bus_vtable service_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("UUID", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Device", "o", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Primary", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Includes", "ao", get_list, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_VTABLE_END
};

const sd_bus_vtable char_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("UUID", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Service", "o", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Value", "ay", get_value, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Notifying", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Flags", "as", get_list, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("WriteAcquired", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("NotifyAcquired", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_METHOD("ReadValue", "a{sv}", "ay", read_value, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("WriteValue", "aya{sv}", "", write_value, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("AcquireWrite", "a{sv}", "hq", acquire_write, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("AcquireNotify", "a{sv}", "hq", acquire_notify, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("StartNotify", "", "", start_notify, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("StopNotify", "", "", stop_notify, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END
};

const sd_bus_vtable desc_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("UUID", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Characteristic", "o", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Value", "ay", get_value, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_METHOD("ReadValue", "a{sv}", "ay", desc_read_value, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("WriteValue", "aya{sv}", "", desc_write_value, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END
};
