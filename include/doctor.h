/* SPDX-License-Identifier: MIT */
/* smpctl doctor: what is wrong with this machine's Bluetooth (or serial) set-up, one check a line, each
 * with the exact command that fixes it. The facts are gathered first (doctor_gather(), and the BlueZ
 * probe in ble-doctor.c, the only part that speaks D-Bus); doctor_evaluate() turns them into checks
 * and is pure, so that every state can be tested with plain data. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum DoctorStatus {
	DOCTOR_OK,
	DOCTOR_WARN, /* works, but slower or less reliable than it could be */
	DOCTOR_FAIL, /* smpctl cannot work this way */
} DoctorStatus;

#define DOCTOR_MAX_CHECKS 12

typedef struct DoctorCheck {
	const char *name;   /* stable key for --json: "bluez", "adapter", … (smpctl(1) lists them) */
	DoctorStatus status;
	char message[320];
	char fix[256];      /* the command to run, "" when there is nothing to do */
} DoctorCheck;

typedef struct DoctorReport {
	DoctorCheck checks[DOCTOR_MAX_CHECKS];
	size_t count;
} DoctorReport;

#define DOCTOR_MAX_ADAPTERS 8
#define DOCTOR_MAX_DEVICES 32

typedef struct DoctorAdapter {
	char name[64];      /* "hci0" */
	char address[18];
	bool powered;
} DoctorAdapter;

typedef struct DoctorDevice {
	char adapter[64];
	char address[18];
	char name[64];
	bool paired;
	bool smp;           /* its UUIDs list the SMP service */
} DoctorDevice;

/* What the system bus says (ble_doctor_probe()). */
typedef struct DoctorBus {
	int open_error;          /* opening the system bus: 0 or a negative errno */
	bool bluez;              /* org.bluez has an owner */
	bool access_denied;      /* the bus refused our call to BlueZ (its D-Bus policy) */
	char call_error[160];    /* any other failure of GetManagedObjects, "" */
	bool modem_manager;      /* org.freedesktop.ModemManager1 has an owner */
	DoctorAdapter adapters[DOCTOR_MAX_ADAPTERS];
	size_t n_adapters;
	DoctorDevice devices[DOCTOR_MAX_DEVICES];
	size_t n_devices;
} DoctorBus;

/* What connecting to a bonded --device showed: a device that lost its own bond (a settings erase, a
 * full reflash) refuses BlueZ's key and drops every link as it comes up (ISSUE-NOTES 20). */
typedef enum DoctorBondState {
	DOCTOR_BOND_UNTRIED,
	DOCTOR_BOND_WORKS,     /* a connection came up (or was up already) */
	DOCTOR_BOND_REFUSED,   /* every try ended in le-connection-abort-by-local */
	DOCTOR_BOND_UNKNOWN,   /* the tries failed otherwise: detail says how */
	DOCTOR_BOND_BUSY,      /* another smpctl holds the device's lock: not tried */
} DoctorBondState;

typedef struct DoctorBondTry {
	DoctorBondState state;
	char detail[200];
} DoctorBondTry;

typedef struct DoctorFacts {
	/* asked for */
	const char *adapter;     /* --adapter, or NULL for the first powered one */
	const char *device;      /* --device (or $SMPCTL_DEVICE), or NULL */
	/* found */
	DoctorBus bus;
	char user[64];
	bool in_bluetooth_group;
	bool in_dialout_group;
	char bluez_version[32];  /* bluetoothd --version, "" when unknown */
	bool bluetoothd_installed;
	bool has_intervals;      /* the kernel's LE connection interval bounds, in 1.25 ms units */
	unsigned conn_min_interval, conn_max_interval;
	int intervals_error;     /* why they could not be read (negative errno) */
	int serial_error;        /* access(2) of a serial: device's path: 0 or a negative errno */
	char serial_group[32];   /* the group that owns it */
	DoctorBondTry bond;      /* the bonded --device, tried (ble_doctor_try_bond()) */
	char mm_rule[128];       /* a udev rule file that keeps ModemManager off the boards' ports, "" */
} DoctorFacts;

/* The checks, in a fixed order; the ones that do not apply (serial without a serial: device) are left
 * out. Pure. */
void doctor_evaluate(const DoctorFacts *f, DoctorReport *out);
/* No check failed. */
bool doctor_passed(const DoctorReport *r);
const char *doctor_status_name(DoctorStatus s);

/* The --device BlueZ knows (by address or name=), or NULL. */
const DoctorDevice *doctor_device(const DoctorFacts *f);
/* The adapter the checks are about: the one asked for, else the first powered, else the first; NULL
 * when there is none (or the one asked for is missing). */
const DoctorAdapter *doctor_adapter(const DoctorFacts *f);
/* The serial port's path in a serial: address ("serial:/dev/ttyACM0,baud=115200" → "/dev/ttyACM0"),
 * into out; false when address is not a serial one. */
bool doctor_serial_path(const char *address, char *out, size_t size);

/* Reads the kernel's LE connection interval bounds of an adapter from debugfs_dir/ADAPTER/
 * conn_{min,max}_interval (debugfs_dir is /sys/kernel/debug/bluetooth). 0 or a negative errno. */
int doctor_read_intervals(const char *debugfs_dir, const char *adapter, unsigned *min, unsigned *max);
/* Everything but the bus: user and groups, bluetoothd's version, the intervals of the chosen adapter,
 * the serial port's permissions. Call after the bus probe has filled f->bus. */
void doctor_gather(DoctorFacts *f, const char *debugfs_dir);
/* Where the Debian package installs its ModemManager rule (debian/smpctl.udev), and where the README's
 * one-line rule goes. */
#define DOCTOR_MM_RULE_PACKAGED "/lib/udev/rules.d/60-smpctl.rules"
#define DOCTOR_MM_RULE_LOCAL "/etc/udev/rules.d/99-smpctl.rules"

/* The BlueZ probe (ble-doctor.c): the system bus, org.bluez and ModemManager on it, BlueZ's adapters
 * and devices. Fills out; never fails (what went wrong is in out). */
void ble_doctor_probe(DoctorBus *out, uint64_t timeout_usec);
/* Connects to a bonded device (and disconnects again) to see whether the bond still works; a device
 * that was connected already is left so. timeout_usec bounds each Connect. */
void ble_doctor_try_bond(const DoctorDevice *d, uint64_t timeout_usec, DoctorBondTry *out);
