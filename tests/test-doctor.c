/* SPDX-License-Identifier: MIT */
/* smpctl doctor's checks from plain facts: what each state of the machine reports, and the command it
 * names; the debugfs reader and the serial: path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "doctor.h"
#include "tap.h"
#include "util.h"

/* A machine where everything works: BlueZ, one powered adapter, fast intervals. */
static DoctorFacts healthy(void)
{
	DoctorFacts f = {
		.bus = { .bluez = true, .n_adapters = 1,
			 .adapters = { { .name = "hci0", .address = "00:1A:7D:DA:71:13", .powered = true } } },
		.user = "ada",
		.bluez_version = "5.66",
		.has_intervals = true,
		.conn_min_interval = 6,
		.conn_max_interval = 12,
	};
	return f;
}

static const DoctorCheck *find(const DoctorReport *r, const char *name)
{
	for (size_t i = 0; i < r->count; i++)
		if (!strcmp(r->checks[i].name, name))
			return &r->checks[i];
	return NULL;
}

/* The healthy machine passes, every line ok, and no serial line without a serial: device. */
static void test_healthy(void)
{
	DoctorFacts f = healthy();
	DoctorReport r;

	doctor_evaluate(&f, &r);
	CHECK(doctor_passed(&r));
	for (size_t i = 0; i < r.count; i++)
		tap_checkf(r.checks[i].status == DOCTOR_OK, __FILE__, __LINE__, "%s ok", r.checks[i].name);
	CHECK(find(&r, "serial") == NULL);
	CHECK(strstr(find(&r, "bluez")->message, "bluetoothd 5.66") != NULL);
	CHECK(strstr(find(&r, "conn-interval")->message, "7.50-15.00 ms") != NULL);
}

/* The kernel's default 30-50 ms: a warning naming both debugfs writes, minimum first (the kernel
 * refuses a maximum below the minimum). */
static void test_slow_intervals(void)
{
	DoctorFacts f = healthy();
	DoctorReport r;
	const DoctorCheck *c;

	f.conn_min_interval = 24;
	f.conn_max_interval = 40;
	doctor_evaluate(&f, &r);
	c = find(&r, "conn-interval");
	CHECK_INT(c->status, DOCTOR_WARN);
	CHECK(strstr(c->message, "30.00-50.00 ms") != NULL);
	CHECK_STR(c->fix, "echo 6 | sudo tee /sys/kernel/debug/bluetooth/hci0/conn_min_interval && "
			  "echo 12 | sudo tee /sys/kernel/debug/bluetooth/hci0/conn_max_interval");
	CHECK(doctor_passed(&r));
}

/* A refused call names the group when the user is not in it, the policy file when they are. */
static void test_access_denied(void)
{
	DoctorFacts f = healthy();
	DoctorReport r;

	f.bus.access_denied = true;
	f.bus.n_adapters = 0;
	doctor_evaluate(&f, &r);
	CHECK(!doctor_passed(&r));
	CHECK_STR(find(&r, "access")->fix, "sudo usermod -aG bluetooth ada");
	CHECK(find(&r, "adapter") == NULL);
	f.in_bluetooth_group = true;
	doctor_evaluate(&f, &r);
	CHECK_STR(find(&r, "access")->fix, "sudoedit /etc/dbus-1/system.d/bluetooth.conf");
}

/* Without BlueZ: one failing line, and the install command when bluetoothd is missing too. */
static void test_no_bluez(void)
{
	DoctorFacts f = healthy();
	DoctorReport r;

	f.bus.bluez = false;
	doctor_evaluate(&f, &r);
	CHECK_STR(find(&r, "bluez")->fix, "sudo apt-get install bluez && sudo systemctl enable --now bluetooth");
	CHECK(find(&r, "adapter") == NULL);
	f.bluetoothd_installed = true;
	doctor_evaluate(&f, &r);
	CHECK_STR(find(&r, "bluez")->fix, "sudo systemctl enable --now bluetooth");
	CHECK(!doctor_passed(&r));
}

/* Serial ports: missing, refused (the owning group named), fine. */
static void test_serial(void)
{
	DoctorFacts f = healthy();
	DoctorReport r;

	f.device = "serial:/dev/ttyACM0,baud=115200";
	f.serial_error = -EACCES;
	snprintf(f.serial_group, sizeof(f.serial_group), "dialout");
	doctor_evaluate(&f, &r);
	CHECK_INT(find(&r, "serial")->status, DOCTOR_FAIL);
	CHECK_STR(find(&r, "serial")->fix, "sudo usermod -aG dialout ada");
	CHECK(strstr(find(&r, "serial")->message, "/dev/ttyACM0") != NULL);
	f.serial_error = 0;
	doctor_evaluate(&f, &r);
	CHECK_INT(find(&r, "serial")->status, DOCTOR_OK);
	CHECK(find(&r, "bond") == NULL);
}

/* The bond with --device: each outcome of the connection that tried it. */
static void test_device_bond(void)
{
	static const struct {
		DoctorBondState state;
		DoctorStatus status;
		const char *fix;
	} cases[] = {
		{ DOCTOR_BOND_WORKS, DOCTOR_OK, "" },
		{ DOCTOR_BOND_REFUSED, DOCTOR_FAIL, "bluetoothctl remove C0:FF:EE:00:00:01" },
		{ DOCTOR_BOND_BUSY, DOCTOR_WARN, "" },
		{ DOCTOR_BOND_UNKNOWN, DOCTOR_WARN, "" },
	};
	DoctorFacts f = healthy();
	DoctorReport r;

	f.bus.n_devices = 1;
	f.bus.devices[0] = (DoctorDevice){ .adapter = "hci0", .address = "C0:FF:EE:00:00:01", .name = "board",
					   .paired = true, .smp = true };
	f.device = "ble:name=board";
	CHECK(doctor_device(&f) == &f.bus.devices[0]);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		f.bond.state = cases[i].state;
		doctor_evaluate(&f, &r);
		CHECK_INT(find(&r, "bond")->status, cases[i].status);
		CHECK_STR(find(&r, "bond")->fix, cases[i].fix);
	}
	CHECK(strstr(find(&r, "bonds")->message, "1 bonded SMP device: C0:FF:EE:00:00:01 (board) on hci0") != NULL);
}

/* ModemManager on the bus is a warning whose fix is a udev rule with ID_MM_DEVICE_IGNORE. */
static void test_modem_manager(void)
{
	DoctorFacts f = healthy();
	DoctorReport r;

	f.bus.modem_manager = true;
	doctor_evaluate(&f, &r);
	CHECK_INT(find(&r, "modemmanager")->status, DOCTOR_WARN);
	CHECK(strstr(find(&r, "modemmanager")->fix, "ENV{ID_MM_DEVICE_IGNORE}=\"1\"") != NULL);
	/* the packaged rule (debian/smpctl.udev) or the README's is there: nothing to do */
	snprintf(f.mm_rule, sizeof(f.mm_rule), "%s", DOCTOR_MM_RULE_PACKAGED);
	doctor_evaluate(&f, &r);
	CHECK_INT(find(&r, "modemmanager")->status, DOCTOR_OK);
	CHECK(strstr(find(&r, "modemmanager")->message, "60-smpctl.rules") != NULL);
	CHECK(doctor_passed(&r));
}

/* debugfs files as the kernel writes them; values out of the Core spec's range are refused. */
static void test_read_intervals(void)
{
	char dir[] = "/tmp/smpctl-test-doctor.XXXXXX", path[256];
	unsigned min = 0, max = 0;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/hci0", dir);
	CHECK_INT(mkdir(path, 0700), 0);
	CHECK_INT(doctor_read_intervals(dir, "hci0", &min, &max), -ENOENT);
	snprintf(path, sizeof(path), "%s/hci0/conn_min_interval", dir);
	f = fopen(path, "w");
	fputs("24\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/hci0/conn_max_interval", dir);
	f = fopen(path, "w");
	fputs("40\n", f);
	fclose(f);
	CHECK_INT(doctor_read_intervals(dir, "hci0", &min, &max), 0);
	CHECK_INT(min, 24);
	CHECK_INT(max, 40);
	f = fopen(path, "w");
	fputs("4000\n", f);
	fclose(f);
	CHECK_INT(doctor_read_intervals(dir, "hci0", &min, &max), -ERANGE);
	unlink(path);
	snprintf(path, sizeof(path), "%s/hci0/conn_min_interval", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/hci0", dir);
	rmdir(path);
	rmdir(dir);
}

/* serial:PATH[,options] gives PATH; other schemes give nothing. */
static void test_serial_path(void)
{
	char path[64];

	CHECK(doctor_serial_path("serial:/dev/ttyACM0,baud=115200", path, sizeof(path)));
	CHECK_STR(path, "/dev/ttyACM0");
	CHECK(doctor_serial_path("serial:/dev/ttyUSB1", path, sizeof(path)));
	CHECK_STR(path, "/dev/ttyUSB1");
	CHECK(!doctor_serial_path("ble:C0:FF:EE:00:00:01", path, sizeof(path)));
	CHECK(!doctor_serial_path("serial:", path, sizeof(path)));
	CHECK(!doctor_serial_path(NULL, path, sizeof(path)));
}

int main(void)
{
	static const TapTest tests[] = {
		TAP_TEST(test_healthy),
		TAP_TEST(test_slow_intervals),
		TAP_TEST(test_access_denied),
		TAP_TEST(test_no_bluez),
		TAP_TEST(test_serial),
		TAP_TEST(test_device_bond),
		TAP_TEST(test_modem_manager),
		TAP_TEST(test_read_intervals),
		TAP_TEST(test_serial_path),
	};
	return tap_run(tests, ARRAY_SIZE(tests));
}
