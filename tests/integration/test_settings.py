"""The settings group (issue 16) against smpctl-sim --settings: the story of settings_story.py (also told to
the real server in tests/interop/test_groups.py), and the group missing from the default device."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import *  # noqa: E402,F403
from settings_story import SettingsStory  # noqa: E402


class SimSettings(SettingsStory, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = Sim("--settings", "--enum")

    @classmethod
    def tearDownClass(cls):
        cls.sim.close()

    def smpctl(self, *args):
        return run(["--json"] + list(args), device=self.sim.address)

    def restart(self):
        self.assertEqual(self.smpctl("reset").code, EXIT_OK)
        deadline = time.monotonic() + 10
        while run(["--timeout", "0.2", "echo", "x"], device=self.sim.address).code != EXIT_OK:
            self.assertLess(time.monotonic(), deadline, "smpctl-sim did not come back")

    def test_groups_lists_settings(self):
        names = [g.get("name") for g in self.ok("groups")["groups"]]
        self.assertIn("settings", names)


class WithoutSettings(unittest.TestCase):
    def test_missing_group_is_named(self):
        with Sim() as sim:
            r = run(["settings", "read", "prov/serial"], device=sim.address)
        self.assertEqual(r.code, EXIT_DEVICE, r)
        self.assertIn("CONFIG_MCUMGR_GRP_SETTINGS", r.err)


if __name__ == "__main__":
    main()
