"""Every command over ble: against the BlueZ stand-in on a private bus: scan, MTUs, reassembly or not,
the fallbacks of BlueZ 5.66, a lost link during an upload, a reset during dfu, and the error paths."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import *  # noqa: E402,F403


class Ble(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="smpctl-ble-")
        cls.image = mkimage(os.path.join(cls.tmp.name, "app.bin"), "--size", str(120 * 1024), "--version", "3.0.0",
                            "--key", key("ed25519", False))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_scan(self):
        with BluezSim("--device", "C0:FF:EE:00:00:01,name=board-a", "--device", "C0:FF:EE:00:00:02,name=board-b") as b:
            r = b.run(["--json", "--timeout", "0.3", "scan"], device=None)
            self.assertEqual(r.code, 0, r)
            found = {d["address"]: d["name"] for d in r.json()["devices"]}
            self.assertEqual(found, {"C0:FF:EE:00:00:01": "board-a", "C0:FF:EE:00:00:02": "board-b"})
            r = b.run(["--timeout", "0.3", "scan"], device=None)
            self.assertIn("board-b", r.out)

    def test_every_command(self):
        with BluezSim() as b:
            self.assertEqual(b.run(["echo", "over the air"]).out, "over the air\n")
            self.assertEqual(b.run(["--json", "params"]).json(), {"buf_size": 2475, "buf_count": 4})
            self.assertEqual(b.run(["--json", "info"]).json()["bootloader"]["name"], "MCUboot")
            images = b.run(["--json", "image", "list"]).json()["images"]
            self.assertTrue(images[0]["active"])
            self.assertEqual(b.run(["image", "erase"]).code, 0)
            self.assertEqual(b.run(["--json", "settings", "erase"]).json(), {"settings_erased": True})
            self.assertEqual(b.run(["datetime"]).code, EXIT_DEVICE)
            self.assertEqual(b.run(["--json", "image", "confirm"]).code, 0)
            self.assertEqual(b.run(["echo", "by name"], device="ble:name=smpctl-sim").out, "by name\n")
            self.assertEqual(b.run(["echo", "case"], device="ble:c0:ff:ee:00:00:01").out, "case\n")

    def test_mtus_and_long_frames(self):
        for mtu in ("23", "247", "498"):
            with BluezSim("--mtu", mtu) as b:
                long_text = "y" * 400  # a frame of several writes at every one of these MTUs
                r = b.run(["echo", long_text])
                self.assertEqual((r.code, r.out), (0, long_text + "\n"), (mtu, r))
                r = b.run(["--json", "image", "upload", self.image])
                self.assertEqual(r.code, 0, (mtu, r))
                # Frames are cut to whole link writes: 2475 at MTU 498 (5 x 495), 2440 at 247, 2460 at 23.
                write = int(mtu) - 3
                self.assertEqual(r.json_lines()[-1]["frame_size"], 2475 - 2475 % write, mtu)

    def test_window_fits_the_device_buffers(self):
        """buf_count 4: three requests in flight plus the response's buffer fill them exactly. With time
        running (scaled down), frames pile up behind the flash; with window 3 none may find the device's
        buffers full (a model that counted the request being handled twice dropped one in every few)."""
        with BluezSim("--mtu", "247", "--conn-interval-ms", "7.5", time_scale="0.1") as b:
            r = b.run(["--json", "--timeout", "2", "image", "upload", self.image])
            self.assertEqual(r.code, 0, r)
            self.assertEqual((r.json_lines()[-1]["window"], r.json_lines()[-1]["resends"]), (3, 0), r)

    def test_reference_device_without_tx_wait(self):
        """--no-tx-wait: REFERENCE.md §14's device, which the benchmark states its ratios against."""
        with BluezSim("--no-tx-wait", "--mtu", "247", time_scale="0.1") as b:
            r = b.run(["--json", "--timeout", "2", "image", "upload", self.image])
            self.assertEqual(r.code, 0, r)
            self.assertEqual((r.json_lines()[-1]["resends"], r.json_lines()[-1]["match"]), (0, True), r)

    def test_single_buffer_device(self):
        with BluezSim("--buf-count", "1") as b:
            r = b.run(["params"])
            self.assertEqual(r.code, EXIT_DEVICE, r)
            self.assertIn("no free SMP buffer", r.err)
        with BluezSim("--buf-count", "2", "--mtu", "247") as b:
            r = b.run(["--json", "image", "upload", self.image])
            self.assertEqual(r.code, 0, r)
            self.assertEqual((r.json_lines()[-1]["window"], r.json_lines()[-1]["resends"]), (1, 0), r)

    def test_device_without_reassembly(self):
        with BluezSim("--no-reassembly", "--mtu", "247") as b:
            r = b.run(["--json", "-v", "image", "upload", self.image])
            self.assertEqual(r.code, 0, r)
            self.assertIn("reassembly no", r.err)
            self.assertEqual(r.json_lines()[-1]["frame_size"], 244)
            self.assertTrue(r.json_lines()[-1]["match"])

    def test_fallbacks(self):
        with BluezSim("--acquire-notify-hangs", "--acquire-write-fails") as b:
            r = b.run(["-v", "echo", "fallback"])
            self.assertEqual(r.out, "fallback\n", r)
            self.assertIn("StartNotify", r.err)
            self.assertIn("WriteValue", r.err)
            r = b.run(["--json", "image", "upload", self.image])
            self.assertEqual(r.code, 0, r)

    def test_lost_link_resumes(self):
        with BluezSim("--disconnect-after-bytes", "60000") as b:
            r = b.run(["--json", "image", "upload", self.image])
            self.assertEqual(r.code, 0, r)
            result = r.json_lines()[-1]
            self.assertGreaterEqual(result["reconnects"], 1)
            self.assertTrue(result["match"])

    def test_dropped_notifications(self):
        with BluezSim("--drop-notify", "7") as b:
            r = b.run(["--json", "--timeout", "1", "image", "upload", self.image])
            self.assertEqual(r.code, 0, r)
            result = r.json_lines()[-1]
            self.assertTrue(result["match"])
            self.assertGreater(result["resends"], 0)

    def test_dfu_over_ble(self):
        with BluezSim() as b:
            r = b.run(["--json", "--reset-timeout", "20", "dfu", self.image, "--key", key("ed25519")])
            self.assertEqual(r.code, 0, r)
            result = r.json_lines()[-1]
            self.assertTrue(result["running"] and result["confirmed"])
            s0 = [i for i in b.run(["--json", "image", "list"]).json()["images"] if i["slot"] == 0][0]
            self.assertEqual(s0["hash"], result["hash"])

    def test_reset_answer_arrives_before_the_link_drops(self):
        """Issue 12: the device answers, then drops the link; the answer wins even at time scale 0, where
        the hang-up and Connected=false can reach smpctl in the same loop turn as the notification."""
        with BluezSim() as b:
            for i in range(15):
                r = b.run(["-v", "reset"])
                self.assertEqual(r.code, 0, (i, r))
                self.assertNotIn("answer lost", r.err, (i, r))

    def test_reset_answer_lost(self):
        """The link drops after the reset request went out, the answer never comes: that is the reset."""
        with BluezSim("--lose-reset-answer", "--verbose") as b:
            r = b.run(["-v", "reset"])
            self.assertEqual(r.code, 0, r)
            self.assertIn("reset requested, answer lost", r.err)
            r = b.run(["--json", "--reset-timeout", "20", "dfu", self.image, "--key", key("ed25519")])
            self.assertEqual(r.code, 0, r)
            result = r.json_lines()[-1]
            self.assertTrue(result["running"] and result["confirmed"], result)
            b.log.flush()
            with open(b.log.name) as f:
                self.assertEqual(f.read().count("answer to the reset is lost"), 2)  # never resent

    def test_rerun_after_interrupted_wait(self):
        """Issue 12: Ctrl-C while dfu waits for the swap leaves BlueZ with our pending Connect; a rerun at
        once waits for that attempt (not 'Operation already in progress (5 tries)') and finishes the job."""
        image = mkimage(os.path.join(self.tmp.name, "small.bin"), "--size", str(40 * 1024), "--version", "3.1.0",
                        "--key", key("ed25519", False))
        with BluezSim(time_scale="1") as b:
            env = dict(os.environ, **b.env)
            env.pop("SMPCTL_DEVICE", None)
            proc = subprocess.Popen([SMPCTL, "--device", SIM_ADDRESS, "--json", "dfu", image], env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            deadline = time.time() + 60
            for line in proc.stdout:
                if '"step":"wait"' in line.replace(" ", "") or time.time() > deadline:
                    break
            time.sleep(1.5)  # inside the wait: the device is swapping, our Connect is pending
            proc.send_signal(signal.SIGINT)
            self.assertEqual(proc.wait(timeout=20), 130)  # interrupted
            proc.stdout.close()
            proc.stderr.close()
            r = b.run(["--json", "dfu", image])
            self.assertEqual(r.code, 0, r)
            result = r.json_lines()[-1]
            self.assertTrue(result["running"] and result["confirmed"], result)

    def test_scan_timeout_lists_what_was_seen(self):
        started = time.time()
        with BluezSim() as b:
            r = b.run(["--scan-timeout", "2", "echo", "x"], device="ble:C0:FF:EE:99:99:99")
            self.assertEqual(r.code, EXIT_TRANSPORT, r)
            self.assertIn("not found after 2 s of scanning", r.err)
            self.assertIn("smpctl-sim (C0:FF:EE:00:00:01, -60 dBm)", r.err)
            self.assertEqual(len(r.err.strip().splitlines()), 1, r)
        self.assertLess(time.time() - started, 15)

    # Issue 14, connections that do not fail by chance.

    def device_object(self, b):
        import dbus  # python3-dbus: the test's own BlueZ client, as a script or another tool would be
        bus = dbus.bus.BusConnection(b.env["DBUS_SYSTEM_BUS_ADDRESS"])
        return bus, bus.get_object("org.bluez", "/org/bluez/hci0/dev_C0_FF_EE_00_00_01")

    def test_back_to_back_with_transient_failures(self):
        """A rack runs smpctl back to back while BlueZ fails one Connect in five for a transient reason
        (le-connection-abort-by-local, Software caused connection abort, a link lost before the services
        resolve; at most 3 in a row): every run succeeds."""
        images = [mkimage(os.path.join(self.tmp.name, "rack-%d.bin" % i), "--size", str(24 * 1024), "--version",
                          "5.0.%d" % i, "--key", key("ed25519", False)) for i in range(2)]
        with BluezSim("--connect-failures", "0.2", "--connect-failures-run", "3", "--seed", "14", "--verbose") as b:
            for i in range(100):
                r = b.run(["echo", "run %d" % i] if i % 2 == 0 else ["--json", "image", "list"])
                self.assertEqual(r.code, 0, (i, r))
            for i in range(20):
                r = b.run(["--json", "--reset-timeout", "20", "dfu", images[i % 2]])
                self.assertEqual(r.code, 0, (i, r))
                self.assertTrue(r.json_lines()[-1]["confirmed"], (i, r))
            b.log.flush()
            with open(b.log.name) as f:
                self.assertGreater(f.read().count("(fault knob)"), 20)  # the failures did happen

    def test_more_failures_in_a_row_than_retries(self):
        started = time.time()
        with BluezSim("--connect-failures", "1", "--connect-failures-run", "1000") as b:
            r = b.run(["-v", "echo", "x"])
            self.assertEqual(r.code, EXIT_TRANSPORT, r)
            self.assertIn("could not connect", r.err.splitlines()[-1])
            self.assertIn("6 tries", r.err.splitlines()[-1])
            self.assertIn("try 2 of 6", r.err)  # said under -v
        self.assertLess(time.time() - started, 40)

    def test_waits_for_its_own_disconnect(self):
        """BlueZ answers Disconnect after its 2 s timer; smpctl waits, so the next run finds no dying link."""
        with BluezSim(time_scale="1") as b:
            self.assertEqual(b.run(["echo", "x"]).code, 0)
            _, dev = self.device_object(b)
            self.assertFalse(dev.Get("org.bluez.Device1", "Connected", dbus_interface="org.freedesktop.DBus.Properties"))

    def test_link_going_down_under_the_next_run(self):
        """Another client left a Disconnect running: Connect succeeds on the old link, which then drops."""
        with BluezSim(time_scale="1") as b:
            self.assertEqual(b.run(["echo", "x"]).code, 0)
            for round in range(2):
                _, dev = self.device_object(b)
                dev.Connect(dbus_interface="org.bluez.Device1")
                dev.Disconnect(dbus_interface="org.bluez.Device1", ignore_reply=True)
                started = time.time()
                while time.time() - started < 2.5:
                    r = b.run(["--json", "image", "list"])
                    self.assertEqual(r.code, 0, r)

    def test_pairing_with_passkey(self):
        """A characteristic that needs authenticated pairing (Zephyr >= 4.0), a device that displays 123456."""
        with BluezSim("--authen", "--passkey", "123456") as b:
            r = b.run(["echo", "x"])
            self.assertEqual(r.code, EXIT_TRANSPORT, r)
            self.assertIn("run again with --passkey", r.err)
            self.assertEqual(len(r.err.strip().splitlines()), 1, r)
            r = b.run(["--passkey", "654321", "echo", "x"])
            self.assertEqual(r.code, EXIT_TRANSPORT, r)
            self.assertIn("check the passkey", r.err)
            r = b.run(["--passkey", "123456", "echo", "paired"])
            self.assertEqual((r.code, r.out), (0, "paired\n"), r)
            # The bond stays: later commands need no passkey.
            self.assertEqual(b.run(["echo", "bonded"]).out, "bonded\n")
            r = b.run(["--json", "image", "upload", self.image])
            self.assertEqual(r.code, 0, r)

    def test_pairing_at_the_prompt(self):
        with BluezSim("--authen", "--passkey", "000042") as b:
            r = b.run_at_terminal(["echo", "typed"], "42x\n000042\n")
            self.assertEqual((r.code, r.out), (0, "typed\n"), r)
            self.assertIn("asks for the passkey it shows", r.err)
            self.assertIn("'42x' is not a passkey", r.err)
        with BluezSim("--authen") as b:
            r = b.run_at_terminal(["echo", "x"], "\x04")  # Ctrl-D: end of input at the prompt
            self.assertEqual(r.code, EXIT_TRANSPORT, r)
            self.assertIn("no passkey entered", r.err)

    def test_pairing_numeric_comparison(self):
        with BluezSim("--authen", "--device-io", "yesno", "--passkey", "314159") as b:
            r = b.run(["echo", "x"])
            self.assertIn("run again with --passkey 314159", r.err)
            r = b.run_at_terminal(["echo", "x"], "n\n")
            self.assertEqual(r.code, EXIT_TRANSPORT, r)
            self.assertIn("not confirmed", r.err)
            r = b.run_at_terminal(["echo", "compared"], "y\n")
            self.assertEqual((r.code, r.out), (0, "compared\n"), r)
            self.assertIn("does C0:FF:EE:00:00:01 show 314159?", r.err)
        with BluezSim("--authen", "--device-io", "yesno", "--passkey", "314159") as b:
            self.assertEqual(b.run(["--passkey", "314159", "echo", "given"]).out, "given\n")

    def test_pairing_device_types_passkey(self):
        with BluezSim("--authen", "--device-io", "keyboard") as b:
            r = b.run(["echo", "typed on the device"])
            self.assertEqual(r.code, 0, r)
            self.assertRegex(r.err, r"pairing: type \d{6} on C0:FF:EE:00:00:01")

    def test_pairing_impossible(self):
        with BluezSim("--authen", "--device-io", "none") as b:
            r = b.run(["--passkey", "123456", "echo", "x"])
            self.assertEqual(r.code, EXIT_TRANSPORT, r)
            self.assertIn("no display or keyboard", r.err)
            self.assertIn("CONFIG_MCUMGR_TRANSPORT_BT_PERM_RW_ENCRYPT", r.err)
        with BluezSim("--encrypt", "--device-io", "none") as b:  # Just Works is enough here
            self.assertEqual(b.run(["echo", "encrypted"]).out, "encrypted\n")

    def test_device_forgot_bond(self):
        """ISSUE-NOTES 20: after a settings erase and a reset the device has no bond, BlueZ still has one."""
        with BluezSim("--authen", "--known") as b:
            self.assertEqual(b.run(["settings", "erase"]).code, 0)
            self.assertEqual(b.run(["echo", "bond kept until the reset"]).code, 0)
            self.assertEqual(b.run(["reset"]).code, 0)
            r = b.run(["--passkey", "123456", "echo", "paired again"])
            self.assertEqual((r.code, r.out), (0, "paired again\n"), r)
            self.assertIn("removed it, pairing again", r.err)
            self.assertEqual(b.run(["echo", "bonded"]).out, "bonded\n")

    def test_device_not_found(self):
        with BluezSim() as b:
            r = b.run(["--timeout", "1", "echo", "x"], device="ble:C0:FF:EE:99:99:99")
            self.assertIn(r.code, (EXIT_TRANSPORT, EXIT_TIMEOUT), r)
            self.assertIn("not found", r.err)
            self.assertEqual(len(r.err.strip().splitlines()), 1)

    def test_no_bluez(self):
        bus = PrivateBus()
        try:
            r = run(["--timeout", "1", "echo", "x"], device=SIM_ADDRESS, env=bus.env)
            self.assertEqual(r.code, EXIT_TRANSPORT, r)
            self.assertIn("is bluetoothd running", r.err)
        finally:
            bus.close()

    def test_bad_address(self):
        r = run(["echo", "x"], device="ble:nonsense")
        self.assertEqual(r.code, EXIT_USAGE, r)


if __name__ == "__main__":
    main()
