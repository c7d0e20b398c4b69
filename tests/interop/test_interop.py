"""smpctl against real Zephyr 4.1.0 SMP servers (tests/interop/fixtures, issue 13 part 3).

Without arguments this runs every fixture, each in its own process and all at once (every fixture has
its own UDP port), prints one line per fixture and then "interop: N cases ran". With --fixture NAME it
runs that fixture's cases only (what the driver does for each). Each case starts the fixture on a
fresh flash file and stops it with SIGTERM; a reset ends the process and fixture.Fixture restarts it on
the same flash file, as a reboot. Cases assert smpctl's JSON answers, not only its exit status.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from harness import (EXIT_DEVICE, EXIT_OK, EXIT_REVERTED, EXIT_VERIFY, SMPCTL, key, mkimage, run)  # noqa: E402
import fidelity  # noqa: E402
import smp  # noqa: E402
from fixture import FIXTURES, Fixture, PortTaken, port_free  # noqa: E402
from proxy import Relay, upload_offset  # noqa: E402

SLOT_SIZE = 0x69000          # native_sim's slots (README: 2 MiB flash, two slots of 0x69000 bytes)
TIMEOUT = ["--timeout", "5", "--reset-timeout", "30"]


def frame_limit(info):
    """The frame smpctl should use unprompted: the device's buffer, or its 384-byte fallback without params."""
    return info["buf_size"] if info["mcumgr_params"] else 384


class Case(unittest.TestCase):
    """One fixture; self.fx is a fresh run of it (own flash file) for every case."""
    name = None
    info = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="smpctl-interop-img-")
        cls.small = cls.image("small.bin", 20 * 1024, "2.0.0")
        cls.image_mid = cls.image("mid.bin", 150 * 1024, "3.1.2+7", "--key", key("ec-p256", False))
        cls.too_big = cls.image("big.bin", SLOT_SIZE, "9.0.0")
        cls.sizes = {p: os.path.getsize(p) for p in (cls.small, cls.image_mid, cls.too_big)}
        cls.hashes = {p: run(["--json", "image", "info", p]).json()["hash"] for p in cls.sizes}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @classmethod
    def image(cls, name, size, version, *extra):
        return mkimage(os.path.join(cls.tmp.name, name), "--size", str(size), "--version", version, *extra)

    def setUp(self):
        self.fx = Fixture(self.name).start()

    def tearDown(self):
        unexpected = [s for s in self.fx.exits if s != 1]
        reboots, exits = self.fx.reboots(), list(self.fx.exits)
        status = self.fx.stop()
        log = self.fx.output()
        self.fx.close()
        self.assertEqual(status, 0, "SIGTERM should end the fixture with status 0:\n" + log[-2000:])
        # A reboot ends the process with status 1 (posix_exit(1) in cpuhalt.c); nothing else may end it.
        self.assertEqual(unexpected, [], log[-2000:])
        self.assertEqual(len(exits), reboots, "every exit should be a reboot:\n" + log[-2000:])

    # -- helpers ---------------------------------------------------------------------------------------
    def smpctl(self, *args, device=None, timeout=120):
        return run(["--json"] + TIMEOUT + list(args), device=device or self.fx.address, timeout=timeout)

    def ok(self, *args, **kw):
        r = self.smpctl(*args, **kw)
        self.assertEqual(r.code, EXIT_OK, r)
        return r

    def device_error(self, r, rc, group=None, code=EXIT_DEVICE):
        """Asserts a failure with the device's rc (and group, for an SMP v2 group error)."""
        self.assertEqual(r.code, code, r)
        out = r.json_lines()[-1]
        self.assertEqual(out["type"], "result", r)
        self.assertFalse(out["ok"])
        self.assertEqual(out["exit_code"], code)
        err = out["device_error"]
        self.assertEqual(err["rc"], rc, r)
        if group is None:
            self.assertNotIn("group", err, r)
        else:
            self.assertEqual(err["group"], group, r)
        return out

    def images(self):
        return {i["slot"]: i for i in self.ok("image", "list").json()["images"]}

    def lists_images(self):
        """128-byte buffers cannot carry an image list with an image in it (rc 7, README)."""
        return self.info["buf_size"] >= 512

    def upload(self, path, *args, device=None):
        r = self.smpctl("image", "upload", path, *args, device=device)
        lines = r.json_lines()
        return r, lines[-1] if lines else None

    def assert_uploaded(self, r, res, path):
        if not self.lists_images():
            # The data all went in; the check that follows (an image list) does not fit 128 bytes.
            out = self.device_error(r, 7)
            self.assertIn("too small for its image list", out["error"])
            progress = [l for l in r.json_lines() if l["type"] == "progress"]
            self.assertEqual(progress[-1]["bytes"], self.sizes[path], r)
            return
        self.assertEqual(r.code, EXIT_OK, r)
        self.assertTrue(res["ok"] and not res["skipped"], res)
        self.assertEqual(res["bytes"], self.sizes[path])
        self.assertEqual(res["hash"], self.hashes[path])
        self.assertEqual(res["match"], True if self.info["kconfig"]["IMG_ENABLE_IMAGE_CHECK"] else None)
        s = self.images()
        self.assertEqual(list(s), [1], s)  # slot 0 is empty on native_sim: the program is not in the flash
        self.assertEqual(s[1]["hash"], self.hashes[path])
        self.assertFalse(s[1]["pending"] or s[1]["confirmed"] or s[1]["active"] or s[1]["permanent"], s)
        self.assertTrue(s[1]["bootable"])

    # -- OS group --------------------------------------------------------------------------------------
    def test_echo(self):
        """echo answers its text, and the fixture answered echo after its start (the harness polled it)."""
        r = self.ok("echo", "hello from smpctl")
        self.assertEqual(r.json(), {"echo": "hello from smpctl"})

    def test_params(self):
        """params reports the buffer size and count the fixture was built with, or rc 8 without them."""
        r = self.smpctl("params")
        if self.info["mcumgr_params"]:
            self.assertEqual(r.code, EXIT_OK, r)
            self.assertEqual(r.json(), {"buf_size": self.info["buf_size"], "buf_count": self.info["buf_count"]})
        else:
            out = self.device_error(r, 8)
            self.assertEqual(out["device_error"]["name"], "ENOTSUP")
            self.assertIn("MCUMGR_PARAMS", out["error"])

    def test_info(self):
        """OS info names Zephyr 4.1.0 on native_sim; no bootloader (bootloader info rc 8 becomes null).
        Without the OS info command (rc 8) info still says what runs: the application, because it
        refuses console echo control as Zephyr's os_mgmt does (MCUboot's serial recovery accepts it)."""
        r = self.smpctl("info")
        self.assertEqual(r.code, EXIT_OK, r)
        out = r.json()
        self.assertEqual(out["firmware"], "application", out)
        if "info" in self.info["os_commands"]:
            self.assertEqual(out["os"], "Zephyr unknown v4.1.0 4.1.0 posix unknown native_sim Zephyr")
            self.assertIsNone(out["bootloader"])
        else:
            self.assertIsNone(out["os"], out)
            self.assertIn("echo control", out["evidence"])

    def test_datetime(self):
        """Date-time: rc 8 without the command; os error 4 before it is set; what was set reads back
        (Zephyr answers without a time zone)."""
        r = self.smpctl("datetime")
        if "datetime" not in self.info["os_commands"]:
            self.device_error(r, 8)
            return
        out = self.device_error(r, 4, group=0)
        self.assertEqual(out["device_error"]["name"], "RTC_NOT_SET")
        with smp.Client(self.fx.port) as c:  # smpctl only reads it; set it with a request of our own
            a = c.request(smp.OP_WRITE, smp.GROUP_OS, 4, {"datetime": "2026-12-07T11:00:00"})
        self.assertEqual(a.body, {})
        r = self.ok("datetime")
        self.assertTrue(r.json()["datetime"].startswith("2026-12-07T11:00:0"), r)

    def test_reset(self):
        """reset is answered, the process ends (a reboot, status 1) and comes back on the same flash file."""
        r = self.ok("reset")
        self.assertTrue(r.json()["reset"], r)
        self.assertFalse(r.json().get("answer_lost"), r)  # Zephyr answers before it goes
        self.fx.wait_boot(2)
        self.assertEqual(self.fx.exits, [1])
        self.assertEqual(self.fx.reboots(), 1)
        self.assertEqual(self.ok("echo", "back").json(), {"echo": "back"})

    def test_settings_erase(self):
        """Storage erase (zephyr_basic) on smpctl-fw only; elsewhere the group is missing: rc 8."""
        r = self.smpctl("settings", "erase")
        if "zephyr_basic" in self.info["groups"]:
            self.assertEqual(r.code, EXIT_OK, r)
            self.assertEqual(r.json(), {"settings_erased": True})
        else:
            out = self.device_error(r, 8)
            self.assertIn("CONFIG_MCUMGR_GRP_ZBASIC", out["error"])

    # -- image group -----------------------------------------------------------------------------------
    def test_image_list_and_slots(self):
        """A fresh flash lists no image at all; slot info gives two slots of 0x69000 bytes, or rc 8."""
        self.assertEqual(self.ok("image", "list").json(), {"images": [], "split_status": 0})
        r = self.smpctl("image", "slots")
        if self.info["kconfig"]["MCUMGR_GRP_IMG_SLOT_INFO"]:
            self.assertEqual(r.code, EXIT_OK, r)
            slots = r.json()["images"]
            self.assertEqual([s["size"] for s in slots[0]["slots"]], [SLOT_SIZE, SLOT_SIZE])
            self.assertEqual(slots[0]["slots"][1]["upload_image_id"], 0)
        else:
            self.device_error(r, 8)

    def test_upload_windowed(self):
        """The default upload uses the device's buffer and a window of buf_count - 1, and lands intact.
        Without params smpctl guesses 384-byte frames; a 128-byte server cuts them (rc 9) and smpctl
        halves the frame until it fits."""
        r, res = self.upload(self.image_mid)
        self.assert_uploaded(r, res, self.image_mid)
        if self.lists_images():
            self.assertEqual(res["frame_size"], frame_limit(self.info))
            self.assertEqual(res["window"], max(1, self.info["buf_count"] - 1) if self.info["mcumgr_params"] else 1)
            self.assertEqual(res["resends"], 0)
            # Again: the slot already holds it.
            r, res = self.upload(self.image_mid)
            self.assertEqual(r.code, EXIT_OK, r)
            self.assertTrue(res["skipped"])

    def test_confirm_unmarked(self):
        """image confirm HASH of an unmarked slot-1 image makes it pending and permanent at once."""
        if not self.lists_images():
            self.skipTest("128-byte buffers cannot carry the image state answers (rc 7)")
        self.assert_uploaded(*self.upload(self.small), self.small)
        r = self.ok("image", "confirm", self.hashes[self.small])
        s1 = {i["slot"]: i for i in r.json()["images"]}[1]
        self.assertEqual((s1["pending"], s1["permanent"], s1["confirmed"], s1["active"]), (True, True, False, False))

    def test_confirm_running_without_slot0(self):
        """image confirm without a hash: native_sim accepts it (rc 0) but lists no slot 0 (no MCUboot, the
        running code is not in the slots); smpctl says so instead of "no longer lists that image"."""
        if not self.lists_images():
            self.skipTest("128-byte buffers cannot carry the image state answers (rc 7)")
        r = self.smpctl("image", "confirm")
        self.assertEqual(r.code, EXIT_DEVICE, r)
        self.assertIn("lists no running image in slot 0", r.err)
        self.assertEqual(len(r.err.strip().splitlines()), 1, r)

    def test_upload_window_beyond_buffers(self):
        """--window 3 on a server with 2 buffers drops the frames that find no free buffer; smpctl narrows
        the window and keeps it below the width that lost one (it took 113 s for 150 KiB at 512 bytes
        when the window grew back to 3 after every loss)."""
        started = time.monotonic()
        r, res = self.upload(self.image_mid, "--window", "3", "--timeout", "2")
        self.assert_uploaded(r, res, self.image_mid)
        self.assertLess(time.monotonic() - started, 20, r)

    def fault_image(self):
        """The image for the fault cases: 150 KiB, but 20 KiB (still ~200 chunks) at 128-byte frames."""
        return self.image_mid if self.info["buf_size"] >= 512 else self.small

    def window(self):
        return max(1, self.info["buf_count"] - 1) if self.info["mcumgr_params"] else 1

    def resent(self, offsets):
        return len(offsets) - len(set(offsets))

    def test_upload_lost_request(self):
        """Chunk 10 is lost on the way: smpctl sends from the device's offset again."""
        with Relay(self.fx.port, on_request=lambda chunk, f: chunk == 10) as relay:
            r, res = self.upload(self.fault_image(), "--timeout", "1", device=relay.address)
            self.assertEqual(relay.lost, [("request", 10)])
            offsets = relay.offsets()
        self.assert_uploaded(r, res, self.fault_image())
        self.assertGreater(self.resent(offsets), 0, offsets)
        if self.lists_images():
            self.assertGreaterEqual(res["resends"], 1, res)

    def test_upload_lost_answer(self):
        """The answer to chunk 10 is lost: with a window of 1 the chunk goes again (the device's offset
        wins); with a wider window the next answers already cover it."""
        with Relay(self.fx.port, on_answer=lambda chunk, f: chunk == 10) as relay:
            r, res = self.upload(self.fault_image(), "--timeout", "1", device=relay.address)
            self.assertEqual(relay.lost, [("answer", 10)])
            offsets = relay.offsets()
        self.assert_uploaded(r, res, self.fault_image())
        self.assertEqual(self.resent(offsets) > 0, self.window() == 1, offsets)

    def test_upload_paused_fixture(self):
        """The fixture stops (SIGSTOP) at chunk 10 for longer than the timeout, then goes on (SIGCONT) and
        answers the queued chunks as well as the ones sent again: the upload finishes intact."""
        def on_request(chunk, frame):
            if chunk == 10:
                self.fx.pause()
                threading.Timer(2.5, self.fx.resume).start()
            return False
        with Relay(self.fx.port, on_request=on_request) as relay:
            r, res = self.upload(self.fault_image(), "--timeout", "1", device=relay.address)
            offsets = relay.offsets()
        self.assert_uploaded(r, res, self.fault_image())
        self.assertGreater(self.resent(offsets), 0, offsets)
        self.assertEqual(self.fx.boots, 1)

    def test_upload_device_restarts(self):
        """The fixture restarts before chunk 10 arrives (killed, booted again on its flash): img_mgmt forgot
        the upload and answers with offset 0; smpctl starts over and the image lands."""
        def on_request(chunk, frame):
            if chunk == 10:
                self.fx.power_cycle()
            return False
        with Relay(self.fx.port, on_request=on_request) as relay:
            r, res = self.upload(self.fault_image(), "--timeout", "1", device=relay.address)
            offsets = relay.offsets()
        self.assertEqual(self.fx.boots, 2)
        self.assert_uploaded(r, res, self.fault_image())
        # The first chunk, sent again after the restart (on a server without params the first one may also
        # have gone at smaller sizes before it fitted).
        started = next(i for i, off in enumerate(offsets) if off)
        self.assertEqual(offsets[started:].count(0), 1, offsets[:40])

    def test_upload_resumes_earlier_session(self):
        """An upload cut short at chunk 12 (smpctl killed) is resumed by the next one from the device's
        offset, the start of the first chunk it did not get."""
        holder = {}

        def on_request(chunk, frame):
            if chunk == 12:
                holder["proc"].kill()
                holder["cut"] = True
            return holder.get("cut", False)
        with Relay(self.fx.port, on_request=on_request) as relay:
            cmd = [SMPCTL, "--device", relay.address, "--json", "image", "upload", self.fault_image()]
            holder["proc"] = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            holder["proc"].communicate(timeout=60)
            offsets = relay.offsets()
        r, res = self.upload(self.fault_image())
        if not self.lists_images():
            self.device_error(r, 7)
            return
        self.assert_uploaded(r, res, self.fault_image())
        self.assertEqual(res["resumed_from"], offsets[11], (res, offsets[:13]))

    def test_upload_damaged_chunk(self):
        """One byte of the tenth chunk's data is flipped on the way (the frame keeps its length): Zephyr
        writes it, and with CONFIG_IMG_ENABLE_IMAGE_CHECK its hash of the slot at the end is not the
        file's, so the last answer says match: false. smpctl erases the damaged copy (its hash TLV still
        reads as the file's, image list would show it as the file) and exits 7; the next run uploads it
        whole."""
        if not self.info["kconfig"]["IMG_ENABLE_IMAGE_CHECK"] or not self.lists_images():
            self.skipTest("without CONFIG_IMG_ENABLE_IMAGE_CHECK the server does not check the data")
        path = self.fault_image()
        data = open(path, "rb").read()
        offsets, damaged = [], []

        def on_request(chunk, frame):
            # The tenth offset, the first time it goes: a resend (smpctl timed out under load) would
            # carry an offset the device already has, which img_mgmt does not write.
            off = upload_offset(frame)
            if off is None or off in offsets:
                return False
            offsets.append(off)
            if len(offsets) != 10:
                return False
            at = frame.find(data[off:off + 32])  # (no assert here: it would end the relay's thread)
            damaged.append(off if at > 8 else None)
            return at > 8 and frame[:at] + bytes([frame[at] ^ 0x01]) + frame[at + 1:]
        with Relay(self.fx.port, on_request=on_request) as relay:
            r, res = self.upload(path, device=relay.address)
        self.assertEqual(len(damaged), 1, damaged)
        self.assertIsNotNone(damaged[0], "the tenth chunk should carry the image's bytes at its offset")
        self.assertEqual(r.code, EXIT_VERIFY, r)
        self.assertIn("match: false", res["error"])
        self.assertIn("was erased", res["error"])
        self.assertEqual(self.images(), {}, "the damaged copy should be gone from slot 1")
        r, res = self.upload(path)
        self.assert_uploaded(r, res, path)

    def test_image_too_big(self):
        """An image larger than the slot is refused on its first chunk; nothing lands in slot 1."""
        r, res = self.upload(self.too_big)
        out = self.device_error(r, 30, group=1)
        self.assertEqual(out["device_error"]["name"], "INVALID_IMAGE_TOO_LARGE")
        self.assertEqual(self.ok("image", "list").json()["images"], [])

    def test_wrong_hash(self):
        """image test with a hash the device does not hold: image error 8, HASH_NOT_FOUND."""
        out = self.device_error(self.smpctl("image", "test", "ab" * 32), 8, group=1)
        self.assertEqual(out["device_error"]["name"], "HASH_NOT_FOUND")

    def test_test_confirm_erase(self):
        """erase clears an unmarked slot 1; test marks it pending and it stays so across a reset (no
        MCUboot); then erase is refused (image error 9) and confirming it is too (28, already pending)."""
        if not self.lists_images():
            self.skipTest("128-byte buffers cannot carry the image state answers (rc 7)")
        h = self.hashes[self.small]
        self.assert_uploaded(*self.upload(self.small), self.small)
        self.assertEqual(self.ok("image", "erase").json(), {"erased_slot": 1})
        self.assertEqual(self.images(), {})
        self.assert_uploaded(*self.upload(self.small), self.small)
        r = self.ok("image", "test", h)
        s1 = {i["slot"]: i for i in r.json()["images"]}[1]
        self.assertTrue(s1["pending"] and not s1["permanent"] and not s1["confirmed"], s1)
        self.ok("reset")
        self.fx.wait_boot(2)
        self.assertTrue(self.images()[1]["pending"])  # nothing swapped it
        out = self.device_error(self.smpctl("image", "erase"), 9, group=1)
        self.assertEqual(out["device_error"]["name"], "NO_FREE_SLOT")
        # Zephyr will not make a tested image permanent: it is pending already.
        out = self.device_error(self.smpctl("image", "confirm", h), 28, group=1)
        self.assertEqual(out["device_error"]["name"], "IMAGE_ALREADY_PENDING")

    def test_image_n_on_a_single_image_server(self):
        """--image 1 on smp_svr (one updatable image): nothing listed, no secondary hash to test, and erasing
        its secondary (slot 3) is FLASH_OPEN_FAILED: img_mgmt's uint8_t area id turns -1 into 255."""
        r = self.smpctl("image", "list", "--image", "1")
        if not self.lists_images() or self.info["kconfig"].get("MCUMGR_GRP_IMG_UPDATABLE_IMAGE_NUMBER", 1) > 1:
            return  # smp-svr-b2475-2images has an image 1: test_groups.py TwoImages
        self.assertEqual((r.code, r.json()["images"]), (EXIT_OK, []), r)
        r = self.smpctl("image", "test", "--image", "1")
        self.assertEqual(r.code, EXIT_DEVICE, r)
        self.assertIn("image 1's secondary slot holds no image", r.json_lines()[-1]["error"])
        out = self.device_error(self.smpctl("image", "erase", "--image", "1"), 10, 1)
        self.assertIn("no such slot", out["error"])

    def test_unsupported_request(self):
        """Groups and commands not built in answer rc 8 (ENOTSUP), named as such."""
        with smp.Client(self.fx.port) as c:
            for group, command, name in ((smp.GROUP_ENUM, 0, "enum"), (smp.GROUP_OS, 8, None),
                                         (smp.GROUP_SETTINGS, 0, "settings")):
                if name in self.info["groups"]:
                    continue  # built into smp-svr-b2475-settings
                a = c.request(smp.OP_READ, group, command, {})
                self.assertEqual(a.body, {"rc": 8}, (group, command))
        if "zephyr_basic" not in self.info["groups"]:
            self.device_error(self.smpctl("settings", "erase"), 8)

    # -- dfu -------------------------------------------------------------------------------------------
    def test_dfu_upload_only(self):
        """dfu --mode upload-only does all it promises: upload, verify, nothing marked, no reset."""
        r = self.smpctl("dfu", self.image_mid, "--mode", "upload-only", "--key", key("ec-p256"))
        if not self.lists_images():
            self.device_error(r, 7)
            return
        self.assertEqual(r.code, EXIT_OK, r)
        res = r.json_lines()[-1]
        self.assertTrue(res["ok"] and res["uploaded"] and not res["reset"] and not res["running"], res)
        self.assertEqual(res["hash"], self.hashes[self.image_mid])
        self.assertEqual(res["version"], "3.1.2+7")
        self.assertEqual([i["slot"] for i in res["images"]], [1])
        self.assertFalse(res["images"][0]["pending"])
        self.assertEqual(self.fx.boots, 1)

    def dfu_not_swapped(self, mode, permanent):
        """The reset happens (the fixture reboots) but, without MCUboot, the image stays pending in slot 1:
        smpctl says so and exits 9."""
        started = time.monotonic()
        r = self.smpctl("dfu", self.small, "--mode", mode)
        self.assertEqual(r.code, EXIT_REVERTED, r)
        res = r.json_lines()[-1]
        self.assertEqual(res["exit_code"], EXIT_REVERTED)
        self.assertIn("did not swap in the new image", res["error"])
        self.assertIn("reports no bootloader (bootloader info answers rc 8)", res["error"])
        self.assertNotIn("two flash sectors", res["error"])  # a 20 KiB image in a 420 KiB slot is not the cause
        steps = [l["step"] for l in r.json_lines() if l["type"] == "state"]
        self.assertEqual(steps[-2:], ["reset", "wait"], steps)
        self.assertEqual(self.fx.reboots(), 1)
        s1 = self.images()[1]
        self.assertEqual((s1["pending"], s1["permanent"], s1["active"]), (True, permanent, False), s1)
        self.assertLess(time.monotonic() - started, 25)

    def test_dfu_test_only(self):
        self.dfu_not_swapped("test-only", False)

    def test_dfu_test_and_confirm(self):
        self.dfu_not_swapped("test-and-confirm", False)

    def test_dfu_confirm_only(self):
        self.dfu_not_swapped("confirm-only", True)

    # -- fidelity --------------------------------------------------------------------------------------
    def test_fidelity(self):
        """fidelity.py's request script gives the same rc, err, fields and behaviour on smpctl-sim (started
        with the options closest to this fixture) but for the differences fidelity.KNOWN lists."""
        new = fidelity.compare(self.name, self.fx)
        self.assertEqual(new, [], "new differences between smpctl-sim and %s (fix src/sim, or list them in "
                                  "fidelity.KNOWN and src/sim/README.md):\n%s" % (self.name, "\n".join(new)))


# Which cases run where: dfu's not-swapped cases wait out smpctl's 10 s check, so each mode runs on two
# fixtures; the 128-byte servers cannot list an uploaded image, so they run the upload cases only to
# show that (the rest would repeat it).
DFU_MODES = {"test_dfu_test_only": ("smpctl-fw", "smp-svr-b512-params"),
             "test_dfu_test_and_confirm": ("smpctl-fw", "smp-svr-b2475-noparams"),
             "test_dfu_confirm_only": ("smpctl-fw", "smp-svr-b2475-full")}


def case_class(name):
    info = FIXTURES[name]
    attrs = {"name": name, "info": info}
    cls = type("Interop_" + name.replace("-", "_"), (Case,), attrs)
    if name not in fidelity.FIXTURE_NAMES:
        cls.test_fidelity = None
    for method, where in DFU_MODES.items():
        if name not in where:
            setattr(cls, method, None)
    return cls


def run_one(name):
    suite = unittest.TestLoader().loadTestsFromTestCase(case_class(name))
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    ran = result.testsRun - len(result.skipped)
    print("cases: %d ran, %d failed" % (ran, len(result.failures) + len(result.errors)))
    return result.wasSuccessful()


def run_all(names):
    started = time.monotonic()
    for n in names:
        if not port_free(FIXTURES[n]["udp_port"]):
            raise PortTaken("UDP port %d (fixture %s) is taken: another interop run on this machine, or a "
                            "leftover fixture, holds it ('ss -ulpn sport = :%d' names the process). Run one "
                            "suite at a time." % (FIXTURES[n]["udp_port"], n, FIXTURES[n]["udp_port"]))
    procs = {n: subprocess.Popen([sys.executable, __file__, "--fixture", n], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True) for n in names}
    total = failed = 0
    for n, p in procs.items():
        out, _ = p.communicate(timeout=900)
        tail = [l for l in out.splitlines() if l.startswith("cases: ")]
        ran = int(tail[-1].split()[1]) if tail else 0
        total += ran
        if p.returncode != 0:
            failed += 1
            print(out)
        print("fixture %s: %d cases, %s" % (n, ran, "ok" if p.returncode == 0 else "FAILED (exit %d)" % p.returncode))
    print("interop: %d cases ran on %d fixtures in %.0f s%s" % (total, len(names), time.monotonic() - started,
                                                                "" if not failed else ", %d fixtures FAILED" % failed))
    return failed == 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fixture", choices=sorted(FIXTURES))
    parser.add_argument("names", nargs="*", help="fixtures to run (default: all)")
    a = parser.parse_args()
    try:
        ok = run_one(a.fixture) if a.fixture else run_all(a.names or sorted(FIXTURES))
    except PortTaken as e:
        print("interop: " + str(e))
        ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
