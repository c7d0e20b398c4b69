"""The statistics, shell and enumeration groups and the further OS commands (issue 16) over UDP against
smpctl-sim: as the project's firmware has them (statistics only) and with each group turned on."""
import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import *  # noqa: E402,F403

ENOEXEC_EXIT = 248  # Zephyr's -ENOEXEC ("command not found") as an exit status: -8 & 0xff
EINVAL_EXIT = 234   # -22 & 0xff: wrong parameter count


class OneSim(unittest.TestCase):
    """One smpctl-sim started with sim_options for the whole class."""
    sim_options = ()

    @classmethod
    def setUpClass(cls):
        cls.sim = Sim(*cls.sim_options)

    @classmethod
    def tearDownClass(cls):
        cls.sim.close()

    def smpctl(self, *args):
        return run(list(args), device=self.sim.address)


class FirmwareDefaults(OneSim):
    """What smpctl-sim answers by default: the firmware's groups, and rc 8 explained for the others."""

    def test_stat_list_is_empty(self):
        r = self.smpctl("--json", "stat", "list")
        self.assertEqual((r.code, r.json()), (EXIT_OK, {"groups": []}), r)

    def test_stat_show_unknown_group(self):
        r = self.smpctl("--json", "stat", "show", "nope")
        self.assertEqual(r.code, EXIT_DEVICE, r)
        self.assertIn("INVALID_STAT_NAME", r.err)
        self.assertIn("'smpctl stat list'", r.err)
        # Zephyr reports the stat error under group 63 (REFERENCE.md section 11): kept as sent.
        self.assertEqual(r.json_lines()[-1]["device_error"], {"group": 63, "rc": 3, "name": "INVALID_STAT_NAME"}, r)

    def test_missing_shell_group_is_named(self):
        r = self.smpctl("shell", "exec", "--", "kernel", "version")
        self.assertEqual(r.code, EXIT_DEVICE, r)
        self.assertIn("the device has no shell group", r.err)
        self.assertIn("CONFIG_MCUMGR_GRP_SHELL", r.err)

    def test_taskstat_and_datetime_not_built_in(self):
        r = self.smpctl("taskstat")
        self.assertEqual(r.code, EXIT_DEVICE, r)
        self.assertIn("CONFIG_MCUMGR_GRP_OS_TASKSTAT", r.err)
        r = self.smpctl("datetime", "set", "now")
        self.assertEqual(r.code, EXIT_DEVICE, r)
        self.assertIn("CONFIG_MCUMGR_GRP_OS_DATETIME", r.err)

    def test_mpstat_is_not_in_zephyr(self):
        r = self.smpctl("mpstat")
        self.assertEqual(r.code, EXIT_DEVICE, r)
        self.assertIn("rc 8", r.err)
        self.assertIn("not supported by Zephyr", r.err)

    def test_bootloader_info(self):
        r = self.smpctl("--json", "bootloader", "info")
        self.assertEqual(r.code, EXIT_OK, r)
        self.assertEqual(r.json(), {"name": "MCUboot", "mode": 3, "mode_name": "swap-using-move",
                                    "no_downgrade": False})
        r = self.smpctl("bootloader", "info")
        self.assertIn("swap-using-move", r.out)

    def test_groups_by_probing(self):
        r = self.smpctl("--json", "groups")
        self.assertEqual(r.code, EXIT_OK, r)
        self.assertEqual(r.json()["source"], "probe")
        self.assertEqual([g["id"] for g in r.json()["groups"]], [0, 1, 2])
        r = self.smpctl("groups")
        self.assertRegex(r.out, r"\n\s+2  stat\s+statistics\n")
        self.assertIn("no enumeration group", r.out)


class EveryGroupOn(OneSim):
    """smpctl-sim with statistics, task stats, shell, enumeration (details too) and an RTC."""
    sim_options = ("--stat-sample", "--taskstat", "--shell", "--enum-details", "--datetime")

    def test_stat(self):
        r = self.smpctl("stat", "list")
        self.assertEqual((r.code, r.out), (EXIT_OK, "smp_svr_stats\n"), r)
        r = self.smpctl("--json", "stat", "show", "smp_svr_stats")
        self.assertEqual(r.json(), {"name": "smp_svr_stats", "fields": {"ticks": 0}})
        r = self.smpctl("stat", "show", "smp_svr_stats")
        self.assertRegex(r.out, r"^ticks\s+0\n$")

    def test_shell_output_and_return_code(self):
        r = self.smpctl("shell", "exec", "--", "kernel", "version")
        self.assertEqual((r.code, r.out), (EXIT_OK, "Zephyr version 4.1.0\n"), r)
        r = self.smpctl("--json", "shell", "exec", "--", "kernel", "version")
        self.assertEqual(r.json(), {"output": "\r\nZephyr version 4.1.0\r\n", "ret": 0})
        # Not a terminal: the shell's red goes, the text stays; the exit status is the return code.
        r = self.smpctl("shell", "exec", "--", "no_such_command", "-x")
        self.assertEqual((r.code, r.out), (ENOEXEC_EXIT, "no_such_command: command not found\n"), r)
        r = self.smpctl("--json", "shell", "exec", "kernel", "sleep")
        self.assertEqual(r.code, EINVAL_EXIT, r)
        self.assertEqual(r.json()["ret"], -22)

    def test_shell_errors(self):
        r = self.smpctl("shell", "exec", "--", "x" * 300)
        self.assertEqual(r.code, EXIT_DEVICE, r)
        self.assertIn("COMMAND_TOO_LONG", r.err)
        r = self.smpctl("shell", "exec")
        self.assertEqual(r.code, EXIT_USAGE, r)

    def test_taskstat_keeps_repeated_names(self):
        r = self.smpctl("--json", "taskstat")
        self.assertEqual(r.code, EXIT_OK, r)
        tasks = r.json()["tasks"]
        self.assertEqual([t["name"] for t in tasks], ["3", "-8", "-1", "-1", "14", "15"])
        self.assertEqual(tasks[0], {"name": "3", "prio": 3, "tid": 0, "state": 128, "state_names": "queued"})
        r = self.smpctl("taskstat")
        self.assertRegex(r.out, r"(?m)^15\s+15\s+5 ready")

    def test_groups_from_enumeration(self):
        r = self.smpctl("--json", "groups")
        self.assertEqual(r.code, EXIT_OK, r)
        self.assertEqual(r.json()["source"], "enumeration")
        groups = {g["id"]: g for g in r.json()["groups"]}
        self.assertEqual(sorted(groups), [0, 1, 2, 9, 10, 63])
        self.assertEqual(groups[9], {"id": 9, "name": "shell", "title": "shell", "device_name": "shell mgmt",
                                     "handlers": 1})
        r = self.smpctl("groups")
        self.assertIn('(device: "shell mgmt", 1 command)', r.out)

    def test_datetime_set(self):
        r = self.smpctl("--json", "datetime", "set", "2026-01-02 03:04:05.250+01:30")
        self.assertEqual((r.code, r.json()), (EXIT_OK, {"datetime": "2026-01-02T01:34:05.250"}), r)
        r = self.smpctl("--json", "datetime")
        self.assertEqual(r.json(), {"datetime": "2026-01-02T01:34:05"})
        before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0, tzinfo=None)
        r = self.smpctl("datetime", "set")
        self.assertEqual(r.code, EXIT_OK, r)
        sent = datetime.datetime.fromisoformat(self.smpctl("datetime").out.strip())
        self.assertLessEqual(abs((sent - before).total_seconds()), 5)
        for bad in ("2026-13-01T00:00:00", "yesterday", "2026-01-02T03:04", "2026-01-02T03:04:05+25:00"):
            r = self.smpctl("datetime", "set", bad)
            self.assertEqual(r.code, EXIT_USAGE, (bad, r))


class ResetVeto(OneSim):
    """An application whose reset hook refuses (EBUSY) unless forced; --force sends "force": true."""
    sim_options = ("--reset-veto",)

    def test_refusal_by_name_then_force(self):
        r = self.smpctl("reset")
        self.assertEqual(r.code, EXIT_DEVICE, r)
        self.assertIn("EBUSY", r.err)
        self.assertIn("reset --force", r.err)
        r = self.smpctl("--json", "reset", "--force")
        self.assertEqual((r.code, r.json()["reset"]), (EXIT_OK, True), r)


class WithoutEnumeration(unittest.TestCase):
    """A group missing where the command alone does not tell (enumeration does)."""

    def test_enumeration_names_the_missing_group(self):
        with Sim("--enum", "--no-stat") as sim:
            r = run(["stat", "list"], device=sim.address)
            self.assertEqual(r.code, EXIT_DEVICE, r)
            self.assertIn("the device has no statistics group", r.err)
            r = run(["--json", "groups"], device=sim.address)
            self.assertEqual([g["id"] for g in r.json()["groups"]], [10, 1, 0, 63])


if __name__ == "__main__":
    unittest.main()
