"""The settings group (issue 16) told the same way to smpctl-sim --settings (tests/integration/test_settings.py)
and to the real Zephyr 4.1.0 server smp-svr-b2475-settings (tests/interop/test_groups.py). Both carry the
application handler of tests/interop/zephyr-module/src/settings-fixture.c, the "prov" tree: prov/serial (at
most 32 bytes), prov/key (at most 64), prov/count (exactly 4), prov/model (read-only), prov/commits (how often
the handler's commit ran); settings_mgmt at its defaults (names under 32 bytes, reads of at most 32)."""
from harness import EXIT_DEVICE, EXIT_FAILURE, EXIT_OK, EXIT_USAGE

SETTINGS = 3
KEY_TOO_LONG, KEY_NOT_FOUND, ROOT_KEY_NOT_FOUND, WRITE_NOT_SUPPORTED = 2, 3, 5, 6


class SettingsStory:
    """Mixin for a unittest.TestCase with smpctl(*args) (smpctl --json against the device) and restart()
    (reset the device, return once it answers again)."""

    def ok(self, *args):
        r = self.smpctl(*args)
        self.assertEqual(r.code, EXIT_OK, r)
        return r.json()

    def device_error(self, r, rc, group=SETTINGS):
        self.assertEqual(r.code, EXIT_DEVICE, r)
        err = r.json_lines()[-1]["device_error"]
        self.assertEqual((err["rc"], err.get("group")), (rc, group), r)
        return r.json_lines()[-1]["error"]

    def read(self, name, kind="hex"):
        return self.ok("settings", "read", name, "--type", kind)["value"]

    def test_settings_values_by_type(self):
        """A string, an unsigned and a signed integer in the width asked, little-endian, read back by type."""
        self.assertEqual(self.ok("settings", "write", "prov/serial", "SN-0001", "--type", "string"),
                         {"name": "prov/serial", "written": 7})
        r = self.ok("settings", "read", "prov/serial", "--type", "string")
        # Asked for up to 4096 bytes, the device names its own limit.
        self.assertEqual(r, {"name": "prov/serial", "type": "string", "value": "SN-0001", "hex": "534e2d30303031",
                             "len": 7, "max_size": 32, "maybe_cut": False})
        self.ok("settings", "write", "prov/count", "258", "--type", "uint", "--width", "4")
        self.assertEqual(self.read("prov/count"), "02010000")
        self.assertEqual(self.read("prov/count", "uint"), "258")
        self.ok("settings", "write", "prov/count", "--type", "int", "--", "-2")
        self.assertEqual(self.read("prov/count"), "feffffff")
        self.assertEqual(self.read("prov/count", "int"), "-2")
        self.ok("settings", "write", "prov/count", "0a:00:00:00")
        self.assertEqual(self.read("prov/count", "uint"), "10")
        # Not an integer's width: said before anything is printed as a number.
        r = self.smpctl("settings", "read", "prov/serial", "--type", "int")
        self.assertEqual(r.code, EXIT_FAILURE, r)
        self.assertIn("read it with --type hex", r.err)

    def test_settings_refusals_before_connecting(self):
        """Values that are not of their type, or do not fit their width, never reach the device."""
        for args, words in ((["prov/count", "256", "--type", "uint", "--width", "1"], "does not fit"),
                            (["prov/count", "0x1g"], "not hex bytes"),
                            (["prov/count", "12", "--type", "float"], "--type takes"),
                            (["", "00"], "settings name")):
            r = self.smpctl("settings", "write", *args)
            self.assertEqual(r.code, EXIT_USAGE, r)
            self.assertIn(words, r.json_lines()[-1]["error"], r)

    def test_settings_errors_by_name(self):
        """The group's errors by name: a wrong length is ROOT_KEY_NOT_FOUND (the handler's -EINVAL)."""
        message = self.device_error(self.smpctl("settings", "write", "prov/count", "7", "--type", "uint",
                                                "--width", "2"), ROOT_KEY_NOT_FOUND)
        self.assertIn("ROOT_KEY_NOT_FOUND", message)
        self.assertIn("wrong length", message)
        self.device_error(self.smpctl("settings", "read", "nope/x"), ROOT_KEY_NOT_FOUND)
        self.assertIn("KEY_NOT_FOUND", self.device_error(self.smpctl("settings", "read", "prov/nope"), KEY_NOT_FOUND))
        self.assertIn("WRITE_NOT_SUPPORTED", self.device_error(
            self.smpctl("settings", "write", "prov/model", "x", "--type", "string"), WRITE_NOT_SUPPORTED))
        self.assertIn("KEY_TOO_LONG", self.device_error(self.smpctl("settings", "read", "prov/" + "a" * 40),
                                                        KEY_TOO_LONG))
        # SMP v1: settings_mgmt_translate_error_code() makes KEY_NOT_FOUND an ENOENT (rc 5).
        r = self.smpctl("--smp-version", "1", "settings", "read", "prov/nope")
        self.device_error(r, 5, None)
        self.assertIn("no such key", r.json_lines()[-1]["error"])
        self.assertEqual(self.read("prov/model", "string"), "smp-svr-fixture")

    def test_settings_read_is_cut_at_the_device_limit(self):
        """A 40-byte key is written whole and read back cut at the device's 32 bytes, with a warning."""
        key = bytes(range(40)).hex()
        self.ok("settings", "write", "prov/key", key)
        r = self.smpctl("settings", "read", "prov/key")
        self.assertEqual(r.code, EXIT_OK, r)
        self.assertEqual((r.json()["hex"], r.json()["len"], r.json()["maybe_cut"]), (key[:64], 32, True))
        self.assertIn("at most 32 bytes", r.err)

    def test_settings_commit_and_load_run_the_handlers(self):
        """commit runs the handler's commit; load hands the stored values over and commits too."""
        before = int(self.read("prov/commits", "uint"))
        self.assertEqual(self.ok("settings", "commit"), {"committed": True})
        self.assertEqual(int(self.read("prov/commits", "uint")), before + 1)
        self.assertEqual(self.ok("settings", "load"), {"loaded": True})
        self.assertEqual(int(self.read("prov/commits", "uint")), before + 2)

    def test_settings_save_load_delete_and_restart(self):
        """Write changes RAM, save stores, load brings the stored value back, delete removes it from storage
        only, a restart loads what is stored."""
        self.ok("settings", "write", "prov/serial", "SAVED", "--type", "string")
        self.assertEqual(self.ok("settings", "save"), {"saved": True})
        self.ok("settings", "write", "prov/serial", "RAM-ONLY", "--type", "string")
        self.ok("settings", "load")
        self.assertEqual(self.read("prov/serial", "string"), "SAVED")
        self.restart()
        self.assertEqual(self.read("prov/serial", "string"), "SAVED")
        self.assertEqual(self.read("prov/commits", "uint"), "1")  # the boot's settings_load()
        self.assertEqual(self.ok("settings", "delete", "prov/serial"), {"name": "prov/serial", "deleted": True})
        self.assertEqual(self.read("prov/serial", "string"), "SAVED")
        self.ok("settings", "delete", "prov/serial")  # nothing stored: no error (settings_nvs_save)
        self.restart()
        self.assertEqual(self.read("prov/serial", "string"), "")
