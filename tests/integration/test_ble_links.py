"""Links that do not fail by chance, over ble: against the BlueZ stand-in: a reset that races its
answer (issue 12), the rerun after Ctrl-C, the scan timeout, back-to-back runs through transient BlueZ
failures and links another client is taking down (issue 14)."""
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import *  # noqa: E402,F403


class BleLinks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="smpctl-ble-links-")
        cls.image = mkimage(os.path.join(cls.tmp.name, "app.bin"), "--size", str(120 * 1024), "--version", "3.0.0",
                            "--key", key("ed25519", False))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

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

    def test_scan_while_the_last_session_stops(self):
        # A rack one device at a time: board-a is found and leaves the discovery session, whose
        # StopDiscovery 5.66 answers only once the controller stopped (2.5 s here), keeping the session
        # until then; board-b, switched on at 4 s, joins meanwhile and must get a session of its own
        # once the stop is through, not the InProgress of the one that is ending.
        with BluezSim("--device", "C0:FF:EE:00:00:01,name=board-a",
                      "--device", "C0:FF:EE:00:00:02,name=board-b,on-after=4000",
                      "--stop-discovery-delay-ms", "2500", time_scale="1") as b:
            r = b.run(["--parallel", "1", "--scan-timeout", "10", "--device", "ble:name=board-a",
                       "--device", "ble:name=board-b", "echo", "x"], device=None)
            self.assertEqual(r.code, EXIT_OK, r)

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
                # back and forth between two versions: every other run is a downgrade
                r = b.run(["--json", "--reset-timeout", "20", "--allow-downgrade", "dfu", images[i % 2]])
                self.assertEqual(r.code, 0, (i, r))
                self.assertTrue(r.json_lines()[-1]["confirmed"], (i, r))
            b.log.flush()
            with open(b.log.name) as f:
                self.assertGreater(f.read().count("(fault knob)"), 20)  # the failures did happen

    def test_transient_gatt_errors(self):
        """BlueZ answers AcquireWrite, AcquireNotify or StartNotify, half the time, what 5.66 says while
        another client's lock is in the way (NotPermitted "Write/Notify acquired", InProgress) or the device
        refused the CCC write (Failed, ATT 0x11): smpctl falls back or subscribes again, every run succeeds.
        Always refused: one line and exit 3 after its connect tries."""
        with BluezSim("--gatt-errors", "0.5", "--seed", "2", "--verbose") as b:
            for i in range(10):
                r = b.run(["echo", "run %d" % i])
                self.assertEqual(r.code, 0, (i, r))
            b.log.flush()
            with open(b.log.name) as f:
                self.assertGreater(f.read().count("StartNotify answers a transient error"), 5)
        started = time.time()
        with BluezSim("--gatt-errors", "1") as b:
            r = b.run(["echo", "x"])
            self.assertEqual(r.code, EXIT_TRANSPORT, r)
            self.assertIn("StartNotify failed", r.err)
            self.assertEqual(len(r.err.strip().splitlines()), 1, r)
        self.assertLess(time.time() - started, 40)

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


if __name__ == "__main__":
    main()
