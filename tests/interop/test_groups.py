"""smpctl's statistics, shell, task stats, date-time, groups, mpstat and fs commands (issue 16) against the
real Zephyr 4.1.0 server smp-svr-b2475-full (smp_svr with the fs and shell overlays), the settings commands
against smp-svr-b2475-settings (settings_story.py, also told to smpctl-sim), --image 1 and an NCS package
against smp-svr-b2475-2images (two image pairs), and the missing-group message against smpctl-fw, which
has no shell.

The fixtures listen on fixed ports (manifest.json). When the kernel allows it the test runs in a network
namespace of its own (loopback only), so that it never meets another run of the interop suite on the
same machine; otherwise the ports must be free, as for test_interop.py.
"""
import ctypes
import fcntl
import importlib.util
import os
import socket
import struct
import sys
import tempfile
import unittest
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from harness import EXIT_DEVICE, EXIT_OK, EXIT_REVERTED, EXIT_USAGE, key, mkimage, run  # noqa: E402
from fixture import Fixture  # noqa: E402
from settings_story import SettingsStory  # noqa: E402

_spec = importlib.util.spec_from_file_location("mk_ncs_zip", os.path.join(HERE, "..", "tools", "mk-ncs-zip.py"))
NCS = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(NCS)

CLONE_NEWUSER, CLONE_NEWNET = 0x10000000, 0x40000000
SIOCSIFFLAGS, IFF_UP = 0x8914, 0x1
ENOEXEC_EXIT = 248  # Zephyr's "command not found", -ENOEXEC (-8), as smpctl's exit status
TIMEOUT = ["--timeout", "5"]


def private_network():
    """A network namespace of this process's own with its loopback up; False when not allowed."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0 and libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0:
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", IFF_UP))
    return True


def smpctl(fx, *args):
    return run(["--json"] + TIMEOUT + list(args), device=fx.address)


class FullServer(unittest.TestCase):
    """smp-svr-b2475-full: os (taskstat, datetime), img, stat, fs (LittleFS at /lfs1, status, crc32), shell;
    no enumeration, no MCUboot."""

    @classmethod
    def setUpClass(cls):
        cls.fx = Fixture("smp-svr-b2475-full").start()

    @classmethod
    def tearDownClass(cls):
        cls.fx.stop()
        cls.fx.close()

    def ok(self, *args):
        r = smpctl(self.fx, *args)
        self.assertEqual(r.code, EXIT_OK, r)
        return r.json()

    def device_error(self, r, rc, group=None):
        self.assertEqual(r.code, EXIT_DEVICE, r)
        err = r.json_lines()[-1]["device_error"]
        self.assertEqual((err["rc"], err.get("group")), (rc, group), r)
        return r.json_lines()[-1]["error"]

    def test_stat(self):
        # native_sim's flash simulator registers two groups of its own beside the sample's.
        self.assertEqual(self.ok("stat", "list"), {"groups": ["flash_sim_stats", "flash_sim_thresholds",
                                                              "smp_svr_stats"]})
        shown = self.ok("stat", "show", "smp_svr_stats")
        self.assertEqual(shown["name"], "smp_svr_stats")
        # "s1": the 64-bit padding after the one 32-bit counter, walked as a field (README).
        self.assertEqual(sorted(shown["fields"]), ["s1", "ticks"])
        # An unknown group: INVALID_STAT_NAME (3) reported under group 63, not 2.
        message = self.device_error(smpctl(self.fx, "stat", "show", "nope"), 3, 63)
        self.assertIn("INVALID_STAT_NAME", message)

    def test_shell(self):
        self.assertEqual(self.ok("shell", "exec", "--", "kernel", "version"),
                         {"output": "\r\nZephyr version 4.1.0\r\n", "ret": 0})
        r = run(TIMEOUT + ["shell", "exec", "--", "kernel", "version"], device=self.fx.address)
        self.assertEqual((r.code, r.out), (EXIT_OK, "Zephyr version 4.1.0\n"), r)
        r = run(TIMEOUT + ["shell", "exec", "--", "no_such_command"], device=self.fx.address)
        self.assertEqual((r.code, r.out), (ENOEXEC_EXIT, "no_such_command: command not found\n"), r)
        r = smpctl(self.fx, "shell", "exec", "--", "x" * 300)  # over CONFIG_SHELL_CMD_BUFF_SIZE
        self.assertIn("COMMAND_TOO_LONG", self.device_error(r, 2, 9))

    def test_taskstat(self):
        tasks = {t["name"]: t for t in self.ok("taskstat")["tasks"]}
        self.assertTrue({"main", "idle", "sysworkq", "shell_dummy", "mcumgr smp"} <= set(tasks), tasks)
        self.assertEqual((tasks["idle"]["prio"], tasks["idle"]["state_names"]), (15, "ready"))
        self.assertEqual(tasks["mcumgr smp"]["state_names"], "queued")  # it is answering this very request

    def test_mpstat_is_rc_8(self):
        message = self.device_error(smpctl(self.fx, "mpstat"), 8)
        self.assertIn("not supported by Zephyr", message)

    def test_datetime(self):
        self.assertEqual(self.ok("datetime", "set", "2026-12-07T12:00:00+01:00"), {"datetime": "2026-12-07T11:00:00"})
        self.assertEqual(self.ok("datetime"), {"datetime": "2026-12-07T11:00:00"})
        self.assertEqual(self.ok("datetime", "set", "2026-12-07T11:00:00.250")["datetime"], "2026-12-07T11:00:00.250")

    def test_bootloader_info_without_mcuboot(self):
        self.device_error(smpctl(self.fx, "bootloader", "info"), 8)

    def test_fs(self):
        # LittleFS on a 16 KiB partition: small files. The fixture hashes with crc32 only.
        data = os.urandom(2000)
        with tempfile.TemporaryDirectory(prefix="smpctl-interop-fs-") as tmp:
            local, part, out = (os.path.join(tmp, n) for n in ("f.bin", "part.bin", "f.out"))
            with open(local, "wb") as f:
                f.write(data)
            with open(part, "wb") as f:
                f.write(data[:700])
            self.assertEqual(self.ok("fs", "types"), {"types": [{"name": "crc32", "format": "number", "size": 4}]})
            res = self.ok("fs", "upload", part, "/lfs1/f")
            self.assertEqual((res["bytes"], res["resumed_from"], res["verified"]), (700, 0, "crc32"))
            res = self.ok("fs", "upload", local, "/lfs1/f")  # the device appends to the 700 bytes it has
            self.assertEqual((res["bytes"], res["resumed_from"], res["verified"]), (2000, 700, "crc32"))
            self.assertTrue(self.ok("fs", "upload", local, "/lfs1/f")["skipped"])
            self.assertEqual(self.ok("fs", "stat", "/lfs1/f"), {"name": "/lfs1/f", "len": 2000})
            self.assertEqual(self.ok("fs", "hash", "/lfs1/f")["output"], "%08x" % zlib.crc32(data))
            self.assertEqual(self.ok("fs", "download", "/lfs1/f", out)["verified"], "crc32")
            with open(out, "rb") as f:
                self.assertEqual(f.read(), data)
            self.assertEqual(self.ok("fs", "close"), {"closed": True})
        self.assertIn("FILE_NOT_FOUND", self.device_error(smpctl(self.fx, "fs", "stat", "/lfs1/none"), 3, 8))
        r = smpctl(self.fx, "fs", "upload", __file__, "/nowhere/x")
        self.assertIn("MOUNT_POINT_NOT_FOUND", self.device_error(r, 14, 8))

    def test_groups_by_probing(self):
        found = self.ok("groups")
        self.assertEqual(found["source"], "probe")  # no enumeration group in smp_svr
        self.assertEqual([g["id"] for g in found["groups"]], [0, 1, 2, 8, 9])


class SettingsServer(SettingsStory, unittest.TestCase):
    """smp-svr-b2475-settings: settings_mgmt on NVS with the fixture's "prov" handler, and enumeration."""

    @classmethod
    def setUpClass(cls):
        cls.fx = Fixture("smp-svr-b2475-settings").start()

    @classmethod
    def tearDownClass(cls):
        cls.fx.stop()
        cls.fx.close()

    def smpctl(self, *args):
        return smpctl(self.fx, *args)

    def restart(self):
        """A reset ends the process; the fixture starts it again on the same flash (NVS survives)."""
        boots = self.fx.boots
        self.ok("reset")
        self.fx.wait_boot(boots + 1)
        self.ok("echo", "back")

    def test_groups_from_enumeration(self):
        found = self.ok("groups")
        self.assertEqual(found["source"], "enumeration")
        self.assertEqual([(g["id"], g.get("name")) for g in found["groups"]],
                         [(10, "enumeration"), (1, "image"), (0, "os"), (3, "settings"), (2, "stat")])


class TwoImages(unittest.TestCase):
    """smp-svr-b2475-2images: img_mgmt with two image pairs (slots 0-3), as a build with an application and a
    network core has. --image 1 uploads to slot 3, test marks by hash, erase counts every image's slots."""

    def test_image_1(self):
        with tempfile.TemporaryDirectory(prefix="smpctl-interop-2img-") as tmp, \
                Fixture("smp-svr-b2475-2images") as fx:
            net = mkimage(os.path.join(tmp, "net.bin"), "--size", "40000", "--version", "2.0.0",
                          "--key", key("ec-p256", pub=False))
            app = mkimage(os.path.join(tmp, "app.bin"), "--size", "30000", "--version", "1.5.0",
                          "--key", key("ec-p256", pub=False))

            def listed():
                r = smpctl(fx, "image", "list")
                self.assertEqual(r.code, EXIT_OK, r)
                return {(x["image"], x["slot"]): x for x in r.json()["images"]}

            r = smpctl(fx, "upload", "--image", "1", net)
            self.assertEqual(r.code, EXIT_OK, r)
            h_net = r.json_lines()[-1]["hash"]
            self.assertEqual(list(listed()), [(1, 1)])
            self.assertEqual(smpctl(fx, "upload", app).code, EXIT_OK)
            slots = smpctl(fx, "image", "slots").json()
            self.assertEqual([(i["image"], [(x["slot"], x.get("upload_image_id")) for x in i["slots"]])
                              for i in slots["images"]], [(0, [(0, None), (1, 0)]), (1, [(0, None), (1, 1)])], slots)
            self.assertEqual(smpctl(fx, "image", "test", h_net).code, EXIT_OK)
            now = listed()
            self.assertEqual((now[(1, 1)]["hash"], now[(1, 1)]["pending"], now[(0, 1)]["pending"]),
                             (h_net, True, False), now)
            # Zephyr refuses to erase a slot marked for the next boot (NO_FREE_SLOT)...
            r = smpctl(fx, "image", "erase", "--image", "1")
            self.assertEqual(r.code, EXIT_DEVICE, r)
            self.assertIn("NO_FREE_SLOT", r.json_lines()[-1]["error"])
            # ... "slot" is absolute: slot 1 is image 0's, which smpctl will not erase for --image 1.
            self.assertEqual(smpctl(fx, "image", "erase", "--image", "1", "--slot", "1").code, EXIT_USAGE)
            self.assertEqual(smpctl(fx, "image", "erase", "--image", "0").json(), {"erased_slot": 1})
            self.assertEqual(list(listed()), [(1, 1)])

    def test_package(self):
        """An NCS dfu_application.zip (application and network core): both images uploaded, both marked by
        hash, the reset sent; without MCUboot nothing swaps, which smpctl reports (exit 9)."""
        with tempfile.TemporaryDirectory(prefix="smpctl-interop-2img-") as tmp, \
                Fixture("smp-svr-b2475-2images") as fx:
            files = [mkimage(os.path.join(tmp, name), "--size", size, "--version", version,
                             "--key", key("ec-p256", pub=False))
                     for name, size, version in (("app.bin", "30000", "1.5.0"), ("net.bin", "40000", "2.0.0"))]
            pkg = NCS.write(os.path.join(tmp, "dfu_application.zip"), files,
                            NCS.ncs_params("app.bin", "net.bin", version="1.5.0"))
            r = smpctl(fx, "dfu", pkg, "--mode", "test-only", "--key", key("ec-p256"), "--reset-timeout", "20")
            self.assertEqual(r.code, EXIT_REVERTED, r)
            self.assertEqual(fx.reboots(), 1)
            r = smpctl(fx, "image", "list")
            pending = sorted((x["image"], x["slot"], x["version"]) for x in r.json()["images"] if x["pending"])
            self.assertEqual(pending, [(0, 1, "1.5.0+0"), (1, 1, "2.0.0+0")], r)


class FirmwareWithoutShell(unittest.TestCase):
    """smpctl's own firmware: no shell group, and rc 8 alone tells it (shell has one command)."""

    def test_missing_shell_group(self):
        fx = Fixture("smpctl-fw").start()
        try:
            r = run(TIMEOUT + ["shell", "exec", "--", "kernel", "version"], device=fx.address)
            self.assertEqual(r.code, EXIT_DEVICE, r)
            self.assertIn("the device has no shell group", r.err)
            r = run(["--json"] + TIMEOUT + ["stat", "list"], device=fx.address)
            self.assertEqual(r.code, EXIT_OK, r)  # the firmware has the statistics group
        finally:
            fx.stop()
            fx.close()


if __name__ == "__main__":
    isolated = private_network()
    print("interop groups: %s" % ("own network namespace" if isolated else "host network (ports must be free)"))
    unittest.main()
