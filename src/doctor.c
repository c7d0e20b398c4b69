/* SPDX-License-Identifier: MIT */
/* smpctl doctor's checks (doctor.h): the facts of this machine in, one line per check out, each with the
 * command that fixes what it found. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "doctor.h"
#include "util.h"

/* Zephyr's default USB vendor ID (CONFIG_USB_DEVICE_VID 0x2FE3): the CDC-ACM ports ModemManager
 * should leave alone. */
#define ZEPHYR_USB_VID "2fe3"
/* A rough ceiling for the estimate of what an interval allows: packets of 244 bytes of ATT payload
 * (LL data length 251), six per connection event, a common figure for Linux controllers. */
#define ESTIMATE_BYTES_PER_EVENT (6 * 244)
/* 15 ms, in the kernel's 1.25 ms units: at or below it the link is not what limits an upload. */
#define FAST_INTERVAL_UNITS 12

static DoctorCheck *add(DoctorReport *r, const char *name, DoctorStatus status, const char *fix,
			const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static DoctorCheck *add(DoctorReport *r, const char *name, DoctorStatus status, const char *fix,
			const char *fmt, ...)
{
	DoctorCheck *c;
	va_list ap;

	if (r->count >= DOCTOR_MAX_CHECKS)
		return NULL;
	c = &r->checks[r->count++];
	c->name = name;
	c->status = status;
	snprintf(c->fix, sizeof(c->fix), "%s", fix ? fix : "");
	va_start(ap, fmt);
	vsnprintf(c->message, sizeof(c->message), fmt, ap);
	va_end(ap);
	return c;
}

const char *doctor_status_name(DoctorStatus s)
{
	switch (s) {
	case DOCTOR_OK: return "ok";
	case DOCTOR_WARN: return "warn";
	default: return "fail";
	}
}

bool doctor_passed(const DoctorReport *r)
{
	for (size_t i = 0; i < r->count; i++)
		if (r->checks[i].status == DOCTOR_FAIL)
			return false;
	return true;
}

const DoctorAdapter *doctor_adapter(const DoctorFacts *f)
{
	const DoctorBus *b = &f->bus;

	for (size_t i = 0; i < b->n_adapters; i++)
		if (f->adapter ? !strcmp(b->adapters[i].name, f->adapter) : b->adapters[i].powered)
			return &b->adapters[i];
	return !f->adapter && b->n_adapters ? &b->adapters[0] : NULL;
}

bool doctor_serial_path(const char *address, char *out, size_t size)
{
	if (!address || strncmp(address, "serial:", 7))
		return false;
	snprintf(out, size, "%.*s", (int)strcspn(address + 7, ",@"), address + 7);
	return out[0] != '\0';
}

/* BlueZ on the bus; the bus itself first. */
static bool check_bluez(const DoctorFacts *f, DoctorReport *r)
{
	const char *version = f->bluez_version[0] ? f->bluez_version : NULL;

	if (f->bus.open_error < 0) {
		add(r, "bluez", DOCTOR_FAIL, "sudo systemctl start dbus", "the system bus cannot be reached: %s",
		    strerror(-f->bus.open_error));
		return false;
	}
	if (!f->bus.bluez) {
		add(r, "bluez", DOCTOR_FAIL,
		    f->bluetoothd_installed ? "sudo systemctl enable --now bluetooth"
					    : "sudo apt-get install bluez && sudo systemctl enable --now bluetooth",
		    "BlueZ is not running: nothing owns org.bluez on the system bus%s",
		    f->bluetoothd_installed ? "" : " (bluetoothd is not installed)");
		return false;
	}
	add(r, "bluez", DOCTOR_OK, NULL, "BlueZ is running (org.bluez on the system bus)%s%s",
	    version ? ", bluetoothd " : "; version unknown (no bluetoothd to ask)", version ? version : "");
	return true;
}

/* The bus's policy (/etc/dbus-1/system.d/bluetooth.conf) lets this user call BlueZ. */
static bool check_access(const DoctorFacts *f, DoctorReport *r)
{
	char fix[256];

	if (f->bus.access_denied) {
		snprintf(fix, sizeof(fix), "sudo usermod -aG bluetooth %s", f->user);
		add(r, "access", DOCTOR_FAIL, f->in_bluetooth_group ? "sudoedit /etc/dbus-1/system.d/bluetooth.conf" : fix,
		    "the system bus refuses %s's calls to BlueZ (D-Bus policy)%s", f->user,
		    f->in_bluetooth_group ? ", although the user is in group bluetooth"
					  : "; 'sudo usermod -aG bluetooth $USER', then log in again");
		return false;
	}
	if (f->bus.call_error[0]) {
		add(r, "access", DOCTOR_FAIL, "journalctl -u bluetooth -n 50", "BlueZ did not list its objects: %s",
		    f->bus.call_error);
		return false;
	}
	add(r, "access", DOCTOR_OK, NULL, "%s may talk to BlueZ%s", f->user,
	    f->in_bluetooth_group ? " (member of group bluetooth)" : "");
	return true;
}

static void list_adapters(const DoctorBus *b, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < b->n_adapters; i++)
		used += (size_t)snprintf(out + used, used < size ? size - used : 0, "%s%s", i ? ", " : "",
					 b->adapters[i].name);
}

static const DoctorAdapter *check_adapter(const DoctorFacts *f, DoctorReport *r)
{
	const DoctorAdapter *a = doctor_adapter(f);
	char names[96], fix[160];

	if (f->bus.n_adapters == 0) {
		add(r, "adapter", DOCTOR_FAIL, "sudo rfkill unblock bluetooth",
		    "no Bluetooth adapter: plug one in, or unblock it if rfkill blocks it (rfkill list bluetooth)");
		return NULL;
	}
	list_adapters(&f->bus, names, sizeof(names));
	if (!a) {
		snprintf(fix, sizeof(fix), "smpctl --adapter %s doctor", f->bus.adapters[0].name);
		add(r, "adapter", DOCTOR_FAIL, fix, "no adapter %s: BlueZ has %s", f->adapter, names);
		return NULL;
	}
	if (!a->powered) {
		if (f->bus.n_adapters == 1)
			snprintf(fix, sizeof(fix), "bluetoothctl power on");
		else
			snprintf(fix, sizeof(fix), "busctl set-property org.bluez /org/bluez/%s org.bluez.Adapter1 Powered b true",
				 a->name);
		add(r, "adapter", DOCTOR_FAIL, fix, "adapter %s (%s) is powered off", a->name, a->address);
		return NULL;
	}
	add(r, "adapter", DOCTOR_OK, NULL, "adapter %s (%s) is powered%s%s%s", a->name, a->address,
	    f->bus.n_adapters > 1 ? "; BlueZ has " : "", f->bus.n_adapters > 1 ? names : "",
	    f->bus.n_adapters > 1 && !f->adapter ? " (--adapter picks another)" : "");
	return a;
}

static void check_experimental(DoctorReport *r)
{
	/* AcquireWrite, AcquireNotify, the MTU property: none is behind bluetoothd -E (BLUEZ.md §2, §4). */
	add(r, "experimental", DOCTOR_OK, NULL,
	    "smpctl uses no experimental BlueZ interface: bluetoothd needs no --experimental");
}

static void check_intervals(const DoctorFacts *f, const DoctorAdapter *a, DoctorReport *r)
{
	double min_ms, max_ms, kbps;
	char fix[256];

	if (!f->has_intervals) {
		if (f->intervals_error == -EACCES || f->intervals_error == -EPERM)
			add(r, "conn-interval", DOCTOR_OK, NULL, "the kernel's LE connection interval bounds of %s are "
			    "root's to read (debugfs): sudo smpctl doctor shows them", a->name);
		else
			add(r, "conn-interval", DOCTOR_OK, NULL, "the kernel's LE connection interval bounds of %s are "
			    "not readable: %s (is debugfs mounted on /sys/kernel/debug?)", a->name,
			    strerror(-f->intervals_error));
		return;
	}
	min_ms = f->conn_min_interval * 1.25;
	max_ms = f->conn_max_interval * 1.25;
	kbps = ESTIMATE_BYTES_PER_EVENT / (max_ms / 1000.0) / 1000.0;
	if (f->conn_max_interval <= FAST_INTERVAL_UNITS) {
		add(r, "conn-interval", DOCTOR_OK, NULL,
		    "%s connects at a %.2f-%.2f ms interval: the link allows uploads of about %.0f kB/s", a->name,
		    min_ms, max_ms, kbps);
		return;
	}
	snprintf(fix, sizeof(fix),
		 "echo 6 | sudo tee /sys/kernel/debug/bluetooth/%.20s/conn_min_interval && "
		 "echo 12 | sudo tee /sys/kernel/debug/bluetooth/%.20s/conn_max_interval", a->name, a->name);
	add(r, "conn-interval", DOCTOR_WARN, fix,
	    "%s connects at a %.2f-%.2f ms interval: uploads reach about %.0f kB/s at most unless the device asks "
	    "for a shorter one (Zephyr: CONFIG_MCUMGR_TRANSPORT_BT_CONN_PARAM_CONTROL); 7.5-15 ms is several "
	    "times faster", a->name, min_ms, max_ms, kbps);
}

static bool is_smp_bond(const DoctorDevice *d)
{
	return d->paired && d->smp;
}

static void check_bonds(const DoctorFacts *f, DoctorReport *r)
{
	char list[240];
	size_t used = 0, n = 0;

	list[0] = '\0';
	for (size_t i = 0; i < f->bus.n_devices; i++) {
		const DoctorDevice *d = &f->bus.devices[i];

		if (!is_smp_bond(d))
			continue;
		used += (size_t)snprintf(list + used, used < sizeof(list) ? sizeof(list) - used : 0, "%s%s%s%s%s on %s",
					 n ? ", " : "", d->address, d->name[0] ? " (" : "", d->name,
					 d->name[0] ? ")" : "", d->adapter);
		n++;
	}
	if (n == 0)
		add(r, "bonds", DOCTOR_OK, NULL, "no bonded SMP devices: a device that asks for pairing is paired on "
						 "first use");
	else
		add(r, "bonds", DOCTOR_OK, NULL, "%zu bonded SMP device%s: %s", n, n == 1 ? "" : "s", list);
}

const DoctorDevice *doctor_device(const DoctorFacts *f)
{
	const char *want;
	bool by_name;

	if (!f->device || strncmp(f->device, "ble:", 4))
		return NULL;
	want = f->device + 4;
	by_name = !strncmp(want, "name=", 5);
	for (size_t i = 0; i < f->bus.n_devices; i++) {
		const DoctorDevice *d = &f->bus.devices[i];

		if (by_name ? !strcmp(d->name, want + 5) : !strcasecmp(d->address, want))
			return d;
	}
	return NULL;
}

/* A bond with --device: BlueZ keeps its keys when the device loses its own (a settings erase, a full
 * reflash), and the device then drops every link (ISSUE-NOTES 20). */
static void check_device_bond(const DoctorFacts *f, DoctorReport *r)
{
	const DoctorDevice *d = doctor_device(f);
	char fix[64];

	if (!d) {
		add(r, "bond", DOCTOR_OK, NULL, "BlueZ does not know %s yet: smpctl scans for it", f->device + 4);
		return;
	}
	if (!d->paired) {
		add(r, "bond", DOCTOR_OK, NULL, "%s is known to BlueZ and not bonded: no bond to go stale", d->address);
		return;
	}
	snprintf(fix, sizeof(fix), "bluetoothctl remove %s", d->address);
	switch (f->bond.state) {
	case DOCTOR_BOND_WORKS:
		add(r, "bond", DOCTOR_OK, NULL, "the bond with %s works: a connection came up", d->address);
		break;
	case DOCTOR_BOND_REFUSED:
		add(r, "bond", DOCTOR_FAIL, fix, "%s drops every link as it comes up: it lost its bond (settings "
		    "erase, full reflash) while BlueZ kept its own; remove BlueZ's (smpctl does so too when it "
		    "connects, then pairs again)", d->address);
		break;
	case DOCTOR_BOND_BUSY:
		add(r, "bond", DOCTOR_WARN, NULL, "BlueZ holds a bond with %s; not tried: another smpctl is using "
		    "the device", d->address);
		break;
	case DOCTOR_BOND_UNKNOWN:
		add(r, "bond", DOCTOR_WARN, NULL, "BlueZ holds a bond with %s; not tried: %s", d->address,
		    f->bond.detail);
		break;
	default:
		add(r, "bond", DOCTOR_OK, NULL, "BlueZ holds a bond with %s", d->address);
		break;
	}
}

static void check_serial(const DoctorFacts *f, const char *path, DoctorReport *r)
{
	char fix[256];

	if (f->serial_error == -ENOENT) {
		add(r, "serial", DOCTOR_FAIL, "ls -l /dev/ttyACM* /dev/ttyUSB*", "%s does not exist: is the device "
		    "plugged in?", path);
	} else if (f->serial_error == -EACCES || f->serial_error == -EPERM) {
		snprintf(fix, sizeof(fix), "sudo usermod -aG %s %s", f->serial_group[0] ? f->serial_group : "dialout",
			 f->user);
		add(r, "serial", DOCTOR_FAIL, fix, "%s may not open %s: '%s', then log in again", f->user, path, fix);
	} else if (f->serial_error < 0) {
		add(r, "serial", DOCTOR_FAIL, NULL, "%s: %s", path, strerror(-f->serial_error));
	} else {
		add(r, "serial", DOCTOR_OK, NULL, "%s may read and write %s", f->user, path);
	}
}

static void check_modem_manager(const DoctorFacts *f, DoctorReport *r)
{
	if (!f->bus.modem_manager) {
		add(r, "modemmanager", DOCTOR_OK, NULL, "ModemManager is not running: it leaves serial ports alone");
		return;
	}
	if (f->mm_rule[0]) {
		add(r, "modemmanager", DOCTOR_OK, NULL, "ModemManager is running; %s keeps it off the boards' ports "
		    "(vendor IDs it names)", f->mm_rule);
		return;
	}
	add(r, "modemmanager", DOCTOR_WARN,
	    "echo 'ATTRS{idVendor}==\"" ZEPHYR_USB_VID "\", ENV{ID_MM_DEVICE_IGNORE}=\"1\"' | "
	    "sudo tee " DOCTOR_MM_RULE_LOCAL " && sudo udevadm control --reload",
	    "ModemManager is running: it probes new CDC-ACM ports (/dev/ttyACM*) and holds them for seconds; a "
	    "udev rule makes it ignore Zephyr's USB vendor ID");
}

void doctor_evaluate(const DoctorFacts *f, DoctorReport *out)
{
	char path[256];
	bool ble = !f->device || !strncmp(f->device, "ble:", 4);

	*out = (DoctorReport){ 0 };
	if (check_bluez(f, out) && check_access(f, out)) {
		const DoctorAdapter *a = check_adapter(f, out);

		check_experimental(out);
		if (a)
			check_intervals(f, a, out);
		check_bonds(f, out);
		if (f->device && ble)
			check_device_bond(f, out);
	}
	if (doctor_serial_path(f->device, path, sizeof(path)))
		check_serial(f, path, out);
	if (f->bus.open_error == 0)
		check_modem_manager(f, out);
}

/* The first line of "bluetoothd --version" (Debian: /usr/libexec/bluetooth, older: /usr/lib/bluetooth). */
static void read_bluez_version(DoctorFacts *f)
{
	static const char *const paths[] = { "/usr/libexec/bluetooth/bluetoothd", "/usr/lib/bluetooth/bluetoothd",
					     "/usr/sbin/bluetoothd" };
	char command[128];
	FILE *p;

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		if (access(paths[i], X_OK) < 0)
			continue;
		f->bluetoothd_installed = true;
		snprintf(command, sizeof(command), "%s --version 2>/dev/null", paths[i]);
		p = popen(command, "r");
		if (!p)
			return;
		if (fgets(f->bluez_version, sizeof(f->bluez_version), p))
			f->bluez_version[strcspn(f->bluez_version, "\r\n")] = '\0';
		pclose(p);
		return;
	}
}

static bool in_group(const char *name)
{
	struct group *g = getgrnam(name);
	gid_t groups[256];
	int n;

	if (!g)
		return false;
	if (getegid() == g->gr_gid)
		return true;
	n = getgroups((int)ARRAY_SIZE(groups), groups);
	for (int i = 0; i < n; i++)
		if (groups[i] == g->gr_gid)
			return true;
	return false;
}

static int read_unsigned(const char *path, unsigned *out)
{
	FILE *file = fopen(path, "re");
	int r = -EIO;

	if (!file)
		return -errno;
	if (fscanf(file, "%u", out) == 1)
		r = 0;
	fclose(file);
	return r;
}

int doctor_read_intervals(const char *debugfs_dir, const char *adapter, unsigned *min, unsigned *max)
{
	char path[512];
	int r;

	snprintf(path, sizeof(path), "%s/%s/conn_min_interval", debugfs_dir, adapter);
	r = read_unsigned(path, min);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/%s/conn_max_interval", debugfs_dir, adapter);
	r = read_unsigned(path, max);
	/* The kernel keeps 6 <= min <= max <= 3200 (Core spec: 7.5 ms to 4 s). */
	if (r == 0 && (*min < 6 || *min > *max || *max > 3200))
		r = -ERANGE;
	return r;
}

static void gather_serial(DoctorFacts *f)
{
	char path[256];
	struct stat st;
	struct group *g;

	if (!doctor_serial_path(f->device, path, sizeof(path)))
		return;
	if (stat(path, &st) < 0) {
		f->serial_error = -errno;
		return;
	}
	g = getgrgid(st.st_gid);
	if (g)
		snprintf(f->serial_group, sizeof(f->serial_group), "%s", g->gr_name);
	f->serial_error = access(path, R_OK | W_OK) < 0 ? -errno : 0;
}

void doctor_gather(DoctorFacts *f, const char *debugfs_dir)
{
	struct passwd *pw = getpwuid(geteuid());
	const DoctorAdapter *a;

	if (pw)
		snprintf(f->user, sizeof(f->user), "%s", pw->pw_name);
	else
		snprintf(f->user, sizeof(f->user), "uid %u", (unsigned)geteuid());
	f->in_bluetooth_group = in_group("bluetooth");
	f->in_dialout_group = in_group("dialout");
	read_bluez_version(f);
	a = doctor_adapter(f);
	if (a) {
		f->intervals_error = doctor_read_intervals(debugfs_dir, a->name, &f->conn_min_interval,
							   &f->conn_max_interval);
		f->has_intervals = f->intervals_error == 0;
	}
	gather_serial(f);
	for (const char *const *p = (const char *const[]){ DOCTOR_MM_RULE_PACKAGED, DOCTOR_MM_RULE_LOCAL, NULL }; *p; p++)
		if (access(*p, R_OK) == 0) {
			snprintf(f->mm_rule, sizeof(f->mm_rule), "%s", *p);
			break;
		}
}
