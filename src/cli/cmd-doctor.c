/* SPDX-License-Identifier: MIT */
/* doctor: checks this machine's Bluetooth (and serial) set-up, one line per check with the command that
 * fixes what it found. Exit 0 when nothing failed (warnings included), 1 otherwise. */
#include <stdio.h>

#include "cli-lock.h"
#include "cli.h"
#include "doctor.h"

#define DEBUGFS_BLUETOOTH "/sys/kernel/debug/bluetooth"

static void doctor_json(Cli *cli, const DoctorReport *r)
{
	JsonWriter *j = &cli->json_out;

	json_begin_object(j);
	json_key(j, "ok");
	json_bool(j, doctor_passed(r));
	json_key(j, "checks");
	json_begin_array(j);
	for (size_t i = 0; i < r->count; i++) {
		const DoctorCheck *c = &r->checks[i];

		json_begin_object(j);
		json_key(j, "check"); json_string(j, c->name);
		json_key(j, "status"); json_string(j, doctor_status_name(c->status));
		json_key(j, "message"); json_string(j, c->message);
		json_key(j, "fix");
		if (c->fix[0])
			json_string(j, c->fix);
		else
			json_null(j);
		json_end_object(j);
	}
	json_end_array(j);
	json_end_object(j);
	json_end_line(j);
}

static void doctor_text(const DoctorReport *r)
{
	for (size_t i = 0; i < r->count; i++) {
		const DoctorCheck *c = &r->checks[i];

		printf("%-4s  %-13s %s", doctor_status_name(c->status), c->name, c->message);
		if (c->fix[0])
			printf(": run '%s'", c->fix);
		printf("\n");
	}
}

/* A bonded --device is connected to, under its lock (smpctl(1) FILES): an update in progress is left
 * alone. */
static void try_bond(Cli *cli, DoctorFacts *f)
{
	const DoctorDevice *d = doctor_device(f);
	bool quiet = cli->quiet;
	int r;

	if (!d || !d->paired)
		return;
	cli->quiet = true;
	r = cli_lock_device(cli);
	cli->quiet = quiet;
	if (r == EXIT_LOCKED)
		f->bond.state = DOCTOR_BOND_BUSY;
	else
		ble_doctor_try_bond(d, cli->timeout_usec, &f->bond);
}

int cmd_doctor(Cli *cli)
{
	DoctorFacts facts = { .adapter = cli->transport.adapter, .device = cli->device };
	DoctorReport report;

	ble_doctor_probe(&facts.bus, cli->timeout_usec);
	doctor_gather(&facts, DEBUGFS_BLUETOOTH);
	try_bond(cli, &facts);
	doctor_evaluate(&facts, &report);
	if (cli->json)
		doctor_json(cli, &report);
	else
		doctor_text(&report);
	return doctor_passed(&report) ? EXIT_OK : EXIT_FAILURE_GENERIC;
}
