"""Every everyday command over UDP against smpctl-sim, in both output modes, and their error paths."""
import os
import re
import socket
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import *  # noqa: E402,F403

EXIT_IO = 74  # EX_IOERR: the output could not be written


def run_into(stdout, args, device=None):
    """run() with standard output on the given file descriptor; returns (exit code, stderr)."""
    cmd = [SMPCTL] + (["--device", device] if device else []) + list(args)
    env = dict(os.environ)
    env.pop("SMPCTL_DEVICE", None)
    proc = subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                          timeout=60, env=env)
    return proc.returncode, proc.stderr


def closed_pipe():
    """The writing end of a pipe nobody reads any more: what 'smpctl ... | head -1' leaves behind."""
    r, w = os.pipe()
    os.close(r)
    return w


class Commands(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = Sim()

    @classmethod
    def tearDownClass(cls):
        cls.sim.close()

    def smpctl(self, *args, **kw):
        return run(list(args), device=self.sim.address, **kw)

    def test_echo_text_and_json(self):
        r = self.smpctl("echo", "hello there")
        self.assertEqual(r.code, 0, r)
        self.assertEqual(r.out, "hello there\n")
        r = self.smpctl("--json", "echo", "hi")
        self.assertEqual(r.json(), {"echo": "hi"})

    def test_options_after_the_command(self):
        r = run(["echo", "after", "--json", "--device", self.sim.address])
        self.assertEqual(r.code, 0, r)
        self.assertEqual(r.json(), {"echo": "after"})

    def test_device_from_environment(self):
        r = run(["echo", "env"], env={"SMPCTL_DEVICE": self.sim.address})
        self.assertEqual(r.code, 0, r)
        self.assertEqual(r.out, "env\n")

    def test_tries_and_scan_timeout_are_accepted(self):
        r = self.smpctl("--tries", "1", "--scan-timeout", "2.5", "echo", "once")
        self.assertEqual((r.code, r.out, r.err), (0, "once\n", ""), r)
        r = run(["echo", "after", "--tries=5", "--scan-timeout=60"], device=self.sim.address)
        self.assertEqual((r.code, r.out), (0, "after\n"), r)

    def test_params(self):
        r = self.smpctl("--json", "params")
        self.assertEqual(r.json(), {"buf_size": 2475, "buf_count": 4})
        r = self.smpctl("params")
        self.assertIn("2475", r.out)
        self.assertIn("buf_count: 4", r.out)

    def test_info(self):
        r = self.smpctl("--json", "info")
        self.assertEqual(r.code, 0, r)
        info = r.json()
        self.assertIn("Zephyr", info["os"])
        self.assertEqual(info["bootloader"]["name"], "MCUboot")
        r = self.smpctl("info")
        self.assertRegex(r.out, r"Bootloader: MCUboot")

    def test_image_list(self):
        r = self.smpctl("--json", "image", "list")
        self.assertEqual(r.code, 0, r)
        images = r.json()["images"]
        slot0 = [i for i in images if i["slot"] == 0][0]
        self.assertTrue(slot0["active"] and slot0["confirmed"])
        self.assertRegex(slot0["hash"], r"^[0-9a-f]{64}$")
        self.assertRegex(slot0["version"], r"^\d+\.\d+\.\d+\+\d+$")  # as image info writes it
        r = self.smpctl("image", "list")
        self.assertIn(slot0["hash"], r.out)
        self.assertIn("active confirmed", r.out)

    def test_image_slots(self):
        r = self.smpctl("--json", "image", "slots")
        self.assertEqual(r.code, 0, r)
        # Zephyr marks only the slot that is not running with upload_image_id (img_mgmt_slot_info()).
        self.assertEqual(r.json(), {"images": [{"image": 0, "slots": [
            {"slot": 0, "size": 0x37000}, {"slot": 1, "size": 0x37000, "upload_image_id": 0}],
            "max_image_size": 0x35000}]})
        r = self.smpctl("image", "slots")
        self.assertEqual(r.code, 0, r)
        lines = r.out.splitlines()
        self.assertEqual(lines[0].split(), ["IMAGE", "SLOT", "SIZE", "USE"])
        self.assertRegex(lines[1], r"^0\s+0\s+225280 \(220\.0 KiB\)\s+-$")
        self.assertRegex(lines[2], r"^0\s+1\s+225280 \(220\.0 KiB\)\s+takes uploads \(--image 0\)$")
        self.assertEqual(lines[3], "Image 0: the device accepts images of at most 217088 bytes (212.0 KiB).")
        self.assertEqual(len(lines), 4, r)
        with Sim("--update-footer", "0") as sim:  # a firmware without CONFIG_MCUMGR_GRP_IMG_TOO_LARGE_SYSBUILD
            r = run(["--json", "image", "slots"], device=sim.address)
            self.assertNotIn("max_image_size", r.json()["images"][0], r)

    def test_confirm_running_image(self):
        r = self.smpctl("--json", "image", "confirm")
        self.assertEqual(r.code, 0, r)
        self.assertTrue([i for i in r.json()["images"] if i["slot"] == 0][0]["confirmed"])

    def test_test_unknown_hash_is_a_device_error(self):
        r = self.smpctl("image", "test", "ab" * 32)
        self.assertEqual(r.code, EXIT_DEVICE, r)
        self.assertEqual(len(r.err.strip().splitlines()), 1, r)
        self.assertIn("HASH_NOT_FOUND", r.err)
        self.assertIn("smpctl image list", r.err)
        r = self.smpctl("--json", "image", "test", "ab" * 32)
        self.assertEqual(r.json()["device_error"], {"group": 1, "rc": 8, "name": "HASH_NOT_FOUND"})

    def test_erase_empty_secondary_slot(self):
        r = self.smpctl("--json", "image", "erase", "1")
        self.assertEqual(r.code, 0, r)
        self.assertEqual(r.json(), {"erased_slot": 1})

    def test_erase_active_slot_is_refused(self):
        r = self.smpctl("image", "erase", "0")
        self.assertEqual(r.code, EXIT_DEVICE, r)

    def test_datetime_absent_by_default(self):
        r = self.smpctl("datetime")
        self.assertEqual(r.code, EXIT_DEVICE, r)
        self.assertIn("ENOTSUP", r.err)

    def test_output_that_cannot_be_written_fails(self):
        """A full disk is an error (exit 74, one line); so is a reader that went away, but silently, and
        smpctl is not killed by SIGPIPE on the way."""
        for args in (["image", "list"], ["--json", "image", "list"], ["--help"]):
            with open("/dev/full", "w") as full:
                code, err = run_into(full, args, device=self.sim.address)
            self.assertEqual(code, EXIT_IO, (args, err))
            self.assertEqual(err, "smpctl: cannot write the output: No space left on device\n", args)
            w = closed_pipe()
            try:
                code, err = run_into(w, args, device=self.sim.address)
            finally:
                os.close(w)
            self.assertEqual((code, err), (EXIT_IO, ""), args)

    def test_failed_command_keeps_its_exit_code_when_output_fails(self):
        with open("/dev/full", "w") as full:
            code, err = run_into(full, ["--json", "image", "test", "ab" * 32], device=self.sim.address)
        self.assertEqual(code, EXIT_DEVICE, err)
        self.assertEqual(len(err.splitlines()), 1, err)

    def test_settings_erase(self):
        r = self.smpctl("--json", "settings", "erase")
        self.assertEqual(r.code, 0, r)
        self.assertEqual(r.json(), {"settings_erased": True})


class ErrorPaths(unittest.TestCase):
    def test_missing_device(self):
        r = run(["echo", "x"])
        self.assertEqual(r.code, EXIT_USAGE, r)
        self.assertIn("SMPCTL_DEVICE", r.err)

    def test_bad_address(self):
        for addr in ("udp:", "udp:host:99999", "tcp:1.2.3.4", "nonsense", "udp:[::1"):
            r = run(["echo", "x"], device=addr)
            self.assertEqual(r.code, EXIT_USAGE, (addr, r))
            self.assertEqual(len(r.err.strip().splitlines()), 1, r)

    def test_unknown_command_and_option(self):
        self.assertEqual(run(["frobnicate"]).code, EXIT_USAGE)
        self.assertEqual(run(["--frobnicate", "echo", "x"]).code, EXIT_USAGE)
        self.assertEqual(run(["image"]).code, EXIT_USAGE)
        self.assertEqual(run(["echo"]).code, EXIT_USAGE)
        self.assertEqual(run(["--timeout", "-1", "echo", "x"]).code, EXIT_USAGE)

    def test_usage_errors_name_the_fix(self):
        """One line starting "smpctl:" (never the binary's path) that says what the command line lacks."""
        image_verbs = "list, slots, info, upload, test, confirm, erase"
        cases = [
            (["image"], "smpctl: 'smpctl image' needs a subcommand: " + image_verbs),
            (["image", "frob"], "smpctl: unknown image subcommand 'frob': smpctl image takes " + image_verbs),
            (["settings", "foo"], "smpctl: unknown settings subcommand 'foo': smpctl settings takes erase, read, write, delete, commit, load, save"),
            (["frobnicate"], "smpctl: unknown command 'frobnicate' (run 'smpctl --help' for the commands)"),
            (["--x", "echo", "hi"], "smpctl: unrecognized option '--x' (run 'smpctl --help')"),
            (["-x", "echo", "hi"], "smpctl: unrecognized option '-x' (run 'smpctl --help')"),
            (["--json", "-xj", "echo", "hi"], "smpctl: unrecognized option '-x' (run 'smpctl --help')"),
            (["-jx", "echo", "hi"], "smpctl: unrecognized option '-x' (run 'smpctl --help')"),
            (["--json=yes", "echo", "hi"], "smpctl: option '--json' takes no value"),
            (["--re", "3", "echo", "hi"], "smpctl: option '--re' is ambiguous: --reset-timeout, "
                                          "--require-erase-settings"),
            (["echo", "hi", "--device"], "smpctl: option '--device' needs a value (run 'smpctl --help')"),
        ]
        for args, line in cases:
            r = run(args)
            self.assertEqual((r.code, r.err), (EXIT_USAGE, line + "\n"), args)
            if not [a for a in args if a == "--json" or a.startswith("-j")]:
                self.assertEqual(r.out, "", args)

    def test_tries_and_scan_timeout_take_numbers(self):
        for args, line in ((["--tries", "0"], "--tries takes a number from 1 to 100, not '0'"),
                           (["--tries", "101"], "--tries takes a number from 1 to 100, not '101'"),
                           (["--tries=many"], "--tries takes a number from 1 to 100, not 'many'"),
                           (["--scan-timeout", "0"], "--scan-timeout takes seconds, not '0'"),
                           (["--scan-timeout", "soon"], "--scan-timeout takes seconds, not 'soon'")):
            r = run(args + ["echo", "x"], device="udp:127.0.0.1:9")
            self.assertEqual((r.code, r.err), (EXIT_USAGE, "smpctl: %s\n" % line), args)

    def test_usage_errors_under_json(self):
        """--json anywhere on the line, before or after the mistake: the error object ends stdout."""
        for args in (["--json", "image"], ["--x", "--json", "echo", "hi"], ["image", "frob", "--json"],
                     ["--json", "--timeout", "-1", "echo", "x"], ["--json", "echo"]):
            r = run(args)
            self.assertEqual(r.code, EXIT_USAGE, (args, r))
            result = r.json()
            self.assertEqual((result["type"], result["ok"], result["exit_code"]), ("result", False, EXIT_USAGE), args)
            self.assertEqual("smpctl: " + result["error"] + "\n", r.err, args)

    def test_help_and_version(self):
        r = run(["--help"])
        self.assertEqual(r.code, 0)
        self.assertIn("image upload", r.out)
        self.assertEqual(run(["--version"]).code, 0)

    def test_files_that_are_not_images_say_why(self):
        with tempfile.TemporaryDirectory() as tmp:
            empty = os.path.join(tmp, "empty.bin")
            open(empty, "w").close()
            for path, why in ((tmp, "is a directory"), ("/dev/zero", "is not a regular file"),
                              ("/dev/null", "is not a regular file"), (empty, "is empty")):
                for command in (["image", "upload"], ["dfu"], ["image", "info"]):
                    r = run(command + [path], device="udp:127.0.0.1:9")
                    self.assertEqual(r.code, EXIT_IMAGE, (path, r))
                    self.assertEqual(r.err, "smpctl: cannot use %s as an image: it %s (give the signed .bin or .hex "
                                     "file)\n" % (path, why), r)

    def test_key_files_that_are_not_keys_say_why(self):
        """Exit 2, as any bad argument: the image itself may be fine."""
        with tempfile.TemporaryDirectory() as tmp:
            image = mkimage(os.path.join(tmp, "app.bin"), "--size", "100000", "--key", key("ec-p256", False))
            for bad, why in ((image, "%s is not a PEM key (it is larger than any key file)" % image),
                             (key("ec-p256") + ".txt", "cannot use %s.txt as a key: No such file" % key("ec-p256")),
                             (tmp, "cannot use %s as a key: it is a directory" % tmp),
                             (os.path.join(KEYS, "README.md"), "README.md is not a PEM or DER key")):
                r = run(["image", "upload", image, "--key", bad], device="udp:127.0.0.1:9")
                self.assertEqual(r.code, EXIT_USAGE, (bad, r))
                self.assertIn(why, r.err)
                self.assertIn("give the public key", r.err)
                self.assertEqual(len(r.err.splitlines()), 1, r)

    def test_bad_hash_argument(self):
        r = run(["image", "test", "xyz"], device="udp:127.0.0.1:9")
        self.assertEqual(r.code, EXIT_USAGE, r)

    def test_nobody_listening(self):
        # A port nothing listens on: ICMP port unreachable, reported as such, after --timeout.
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        r = run(["--timeout", "0.5", "echo", "x"], device="udp:127.0.0.1:%d" % port)
        self.assertEqual(r.code, EXIT_TIMEOUT, r)
        self.assertIn("nothing listens", r.err)

    def test_silent_device_times_out(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        try:
            r = run(["--timeout", "0.3", "--json", "params"], device="udp:127.0.0.1:%d" % s.getsockname()[1])
        finally:
            s.close()
        self.assertEqual(r.code, EXIT_TIMEOUT, r)
        self.assertEqual(r.json()["exit_code"], EXIT_TIMEOUT)

    def test_ipv6(self):
        try:
            sim = Sim(host="::1")
        except (RuntimeError, OSError) as e:
            self.skipTest("no IPv6 loopback here: %s" % e)
        with sim:
            r = run(["echo", "six"], device=sim.address)
            self.assertEqual(r.code, 0, r)
            self.assertEqual(r.out, "six\n")


class Updates(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="smpctl-commands-")
        # A signature that does not verify: the hash still matches, so only --key can tell.
        cls.image = mkimage(os.path.join(cls.tmp.name, "app.bin"), "--size", "20000", "--version", "3.1.0",
                            "--key", key("ec-p256", False), "--tamper", "signature")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_unchecked_signature_is_said_once(self):
        for command in (["image", "upload"], ["dfu", "--mode", "upload-only"]):
            with Sim() as sim:
                r = run(command + [self.image], device=sim.address)
                self.assertEqual(r.code, 0, (command, r))
                warnings = [l for l in r.err.splitlines() if l.startswith("warning:")]
                self.assertEqual(warnings, ["warning: the signature of %s was not checked: add --key with the public "
                                            "key the device's MCUboot trusts (PEM) to check it before sending"
                                            % self.image], r)
            with Sim() as sim:
                r = run(["--json"] + command + [self.image], device=sim.address)
                warnings = [l for l in r.json_lines() if l["type"] == "warning"]
                self.assertEqual([(w["step"], "--key" in w["message"]) for w in warnings], [("image", True)], r)
            r = run(command + [self.image, "--key", key("ec-p256")], device="udp:127.0.0.1:9")
            self.assertEqual(r.code, EXIT_VERIFY, r)
            self.assertNotIn("warning", r.err)


    def test_dfu_closes_with_a_summary(self):
        """Without a terminal too: bytes, seconds and kB/s on the last line of stderr, and in the result."""
        with Sim() as sim:
            r = run(["--reset-timeout", "20", "dfu", self.image], device=sim.address)
            self.assertEqual(r.code, 0, r)
            self.assertRegex(r.err.splitlines()[-1], r"^Uploaded %s \([0-9.]+ KiB\) in [0-9.]+ s, [0-9.]+ kB/s, "
                                                     r"buffers 4 x 2475 bytes, window 3; the update took [0-9.]+ s\.$"
                                                     % re.escape(self.image))
            r = run(["--reset-timeout", "20", "dfu", self.image], device=sim.address)
            self.assertEqual(r.code, 0, r)
            self.assertRegex(r.err.splitlines()[-1], r"^Uploaded nothing \(0 bytes\): the device already held "
                                                     r".*; the update took [0-9.]+ s\.$")
            result = run(["--json", "dfu", self.image], device=sim.address).json_lines()[-1]
            self.assertEqual((result["bytes"], result["seconds"], result["rate"]), (0, 0, 0), result)
            self.assertGreaterEqual(result["total_seconds"], 0)
        with Sim() as sim:
            result = run(["--json", "dfu", self.image, "--mode", "upload-only"], device=sim.address).json_lines()[-1]
            self.assertEqual(result["bytes"], os.path.getsize(self.image), result)
            self.assertGreater(result["rate"], 0)
            self.assertEqual((result["buf_size"], result["buf_count"], result["window"]), (2475, 4, 3), result)
            self.assertGreaterEqual(result["total_seconds"], result["seconds"])


class Tries(unittest.TestCase):
    def test_tries_reaches_the_device_session(self):
        """--tries N is how often a read is sent when its answer is lost: 1 gives up on the first loss."""
        with Sim("--lose-answer", "1:0:1") as sim:  # the answer to the first image list
            r = run(["--timeout", "0.5", "--tries", "1", "image", "list"], device=sim.address)
            self.assertEqual(r.code, EXIT_TIMEOUT, r)
        with Sim("--lose-answer", "1:0:1") as sim:
            r = run(["--timeout", "0.5", "--tries", "2", "image", "list"], device=sim.address)
            self.assertEqual(r.code, 0, r)
        with Sim("--drop-every", "1") as sim:
            r = run(["--timeout", "0.2", "--tries", "5", "image", "list"], device=sim.address)
            self.assertEqual(r.code, EXIT_TIMEOUT, r)
            self.assertIn("sent 5 times", r.err)


class DeviceVariants(unittest.TestCase):
    def test_device_without_params(self):
        with Sim("--no-params") as sim:
            r = run(["params"], device=sim.address)
            self.assertEqual(r.code, EXIT_DEVICE, r)
            self.assertIn("ENOTSUP", r.err)

    def test_device_without_storage_erase_explains(self):
        with Sim("--no-storage-erase") as sim:
            r = run(["settings", "erase"], device=sim.address)
            self.assertEqual(r.code, EXIT_DEVICE, r)
            self.assertIn("CONFIG_MCUMGR_GRP_ZBASIC_STORAGE_ERASE", r.err)

    def test_device_without_slot_info_explains(self):
        with Sim("--no-slot-info") as sim:
            r = run(["image", "slots"], device=sim.address)
            self.assertEqual(r.code, EXIT_DEVICE, r)
            self.assertIn("CONFIG_MCUMGR_GRP_IMG_SLOT_INFO", r.err)
            self.assertEqual(len(r.err.strip().splitlines()), 1, r)

    def test_too_large_image_points_at_the_slot_size(self):
        """Larger than the slot, or than what MCUboot can swap (0x35000): refused on the first chunk."""
        with Sim() as sim, tempfile.TemporaryDirectory() as tmp:
            for size in (0x37000 + 1, 0x35000 + 1):
                image = mkimage(os.path.join(tmp, "big.bin"), "--size", str(size - 552))
                r = run(["image", "upload", image], device=sim.address)
                self.assertEqual(r.code, EXIT_DEVICE, r)
                self.assertIn("INVALID_IMAGE_TOO_LARGE", r.err)
                self.assertIn("smpctl image slots", r.err)

    def test_legacy_v1_server(self):
        with Sim("--legacy") as sim:
            r = run(["--json", "image", "test", "cd" * 32], device=sim.address)
            self.assertEqual(r.code, EXIT_DEVICE, r)
            # A v1 server translates HASH_NOT_FOUND... into an SMP-level rc (REFERENCE.md §3).
            self.assertNotIn("group", r.json()["device_error"])
            r = run(["echo", "old"], device=sim.address)
            self.assertEqual(r.out, "old\n", r)

    def test_single_buffer_device_explains(self):
        """Zephyr with one SMP buffer: the response finds none free, every request comes back {"rc": 2}."""
        with Sim("--buf-count", "1") as sim:
            r = run(["--json", "echo", "x"], device=sim.address)
            self.assertEqual(r.code, EXIT_DEVICE, r)
            self.assertEqual(r.json()["device_error"], {"rc": 2, "name": "ENOMEM"})
            self.assertIn("CONFIG_MCUMGR_TRANSPORT_NETBUF_COUNT", r.err)
        with Sim("--buf-count", "2") as sim:  # one request at a time: everything works
            self.assertEqual(run(["echo", "two"], device=sim.address).out, "two\n")

    def test_malformed_response(self):
        with Sim("--corrupt-response", "1") as sim:
            r = run(["--timeout", "1", "params"], device=sim.address)
            self.assertEqual(r.code, EXIT_PROTOCOL, r)
            self.assertEqual(len(r.err.strip().splitlines()), 1, r)


if __name__ == "__main__":
    main()
