"""Racks: one smpctl process updating several simulated devices (smpctl(1) RACKS).

Each device's output is a single run's, tagged with the device; the exit code is the worst failure's,
with every device's own code in the summary line; a failing device never stops the others; a deadline
or Ctrl-C stops devices without leaving any marked for an image that did not verify.
"""
import json
import importlib.util
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import (EXIT_DOWNGRADE, EXIT_INTERRUPTED, EXIT_OK, EXIT_TIMEOUT, EXIT_TRANSPORT, EXIT_USAGE,  # noqa: E402
                     JSON_SCHEMA_VERSION, SMPCTL, BluezSim, Sim, json_envelope, mkimage, run)


def unused_udp_address():
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return "udp:127.0.0.1:%d" % port


def devices_args(addresses):
    args = []
    for a in addresses:
        args += ["--device", a]
    return args


def slots(address):
    """The device's image list (JSON, envelope removed)."""
    r = run(["--json", "image", "list"], device=address)
    assert r.code == EXIT_OK, r
    return r.json()["images"]


class Rack(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="smpctl-rack-")
        cls.new = os.path.join(cls.tmp.name, "new.bin")
        cls.other = os.path.join(cls.tmp.name, "other.bin")
        cls.old = os.path.join(cls.tmp.name, "old.bin")
        cls.big = os.path.join(cls.tmp.name, "big.bin")
        mkimage(cls.new, "--size", "60000", "--version", "1.1.0")
        mkimage(cls.other, "--size", "50000", "--version", "1.2.0", "--seed", "7")
        mkimage(cls.old, "--size", "4000", "--version", "0.9.0")
        mkimage(cls.big, "--size", "200000", "--version", "2.0.0")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def summary(self, r):
        lines = r.json_raw_lines()
        for line in lines:
            self.assertEqual(line["schema_version"], JSON_SCHEMA_VERSION, line)
            self.assertIn("device", line)
        self.assertEqual(lines[-1]["type"], "summary", r)
        self.assertIsNone(lines[-1]["device"])
        return lines, json_envelope(lines[-1])

    def test_three_devices_one_process(self):
        sims = [Sim() for _ in range(3)]
        try:
            addresses = [s.address for s in sims]
            r = run(["--json"] + devices_args(addresses) + ["dfu", self.new])
            self.assertEqual(r.code, EXIT_OK, r)
            lines, summary = self.summary(r)
            self.assertEqual([d["device"] for d in summary["devices"]], addresses)
            for d in summary["devices"]:
                self.assertEqual((d["ok"], d["exit_code"], d["old_version"], d["new_version"]),
                                 (True, 0, "1.0.0+0", "1.1.0+0"), d)
                self.assertGreater(d["bytes"], 60000)
            # every device's own lines, each naming it, ending in its own result
            for a in addresses:
                own = [line for line in lines if line["device"] == a]
                self.assertEqual(own[-1]["type"], "result", own)
                self.assertTrue(own[-1]["ok"])
            # the table on stderr, one row per device
            for a in addresses:
                self.assertRegex(r.err, r"(?m)^%s +1\.0\.0\+0 +1\.1\.0\+0 .* ok$" % a.replace(".", r"\."))
            for a in addresses:
                active = [s for s in slots(a) if s["active"]]
                self.assertEqual((active[0]["version"], active[0]["confirmed"]), ("1.1.0+0", True))
            # a rerun finds every device done: nothing sent, still success
            r = run(["--json"] + devices_args(addresses) + ["dfu", self.new])
            self.assertEqual(r.code, EXIT_OK, r)
            self.assertTrue(all(d["bytes"] == 0 for d in self.summary(r)[1]["devices"]))
        finally:
            for s in sims:
                s.close()

    def package(self):
        """An nRF Connect SDK package (tests/tools/mk-ncs-zip.py): app 2.0.0 for image 0, net 2.1.0 for image 1."""
        spec = importlib.util.spec_from_file_location("mk_ncs_zip", os.path.join(os.path.dirname(__file__), "..",
                                                                                 "tools", "mk-ncs-zip.py"))
        ncs = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(ncs)
        app = mkimage(os.path.join(self.tmp.name, "app.bin"), "--size", "30000", "--version", "2.0.0")
        net = mkimage(os.path.join(self.tmp.name, "net.bin"), "--size", "20000", "--version", "2.1.0")
        return app, ncs.write(os.path.join(self.tmp.name, "dfu_application.zip"), [app, net],
                              ncs.ncs_params("app.bin", "net.bin", version="2.0.0"))

    def test_package_summary_names_every_image(self):
        _, pkg = self.package()
        sims = [Sim("--images", "2") for _ in range(2)]
        try:
            addresses = [s.address for s in sims]
            r = run(["--json"] + devices_args(addresses) + ["dfu", pkg])
            self.assertEqual(r.code, EXIT_OK, r)
            for d in self.summary(r)[1]["devices"]:
                self.assertEqual((d["old_version"], d["new_version"]), ("1.0.0+0", "2.0.0+0"), d)
                self.assertEqual(d["images"], [{"image": 0, "old_version": "1.0.0+0", "new_version": "2.0.0+0"},
                                               {"image": 1, "old_version": "1.0.0+0", "new_version": "2.1.0+0"}])
            for a in addresses:
                self.assertRegex(r.err, r"(?m)^%s +1\.0\.0\+0 +2\.0\.0\+0 .* ok\n  image 0 +1\.0\.0\+0 +2\.0\.0\+0\n"
                                 r"  image 1 +1\.0\.0\+0 +2\.1\.0\+0$" % a.replace(".", r"\."))
            # a one-image rack lists its one image too
            r = run(["--json", "--device", addresses[0], "--device", addresses[1], "dfu", self.new, "--image", "1", "--allow-downgrade"])
            self.assertEqual(r.code, EXIT_OK, r)
            self.assertEqual(self.summary(r)[1]["devices"][0]["images"],
                             [{"image": 1, "old_version": "2.1.0+0", "new_version": "1.1.0+0"}])
        finally:
            for s in sims:
                s.close()

    def test_package_summary_row_is_the_first_image(self):
        """The device's row shows image 0's versions, not those of the image that happened to be uploaded:
        the application already running with only the network core sent, and a rerun that uploads nothing."""
        app, pkg = self.package()
        with Sim("--images", "2") as a, Sim("--images", "2") as b:
            self.assertEqual(run(["dfu", app], device=a.address).code, EXIT_OK)  # the app runs 2.0.0 already
            self.assertEqual(run(["dfu", pkg, "--mode", "upload-only"], device=b.address).code, EXIT_OK)
            r = run(["--json"] + devices_args([a.address, b.address]) + ["dfu", pkg])
            self.assertEqual(r.code, EXIT_OK, r)
            rows = {d["device"]: d for d in self.summary(r)[1]["devices"]}
            self.assertEqual((rows[a.address]["old_version"], rows[a.address]["new_version"]), ("2.0.0+0", None))
            self.assertEqual(rows[a.address]["images"][1], {"image": 1, "old_version": "1.0.0+0", "new_version": "2.1.0+0"})
            self.assertEqual((rows[b.address]["old_version"], rows[b.address]["new_version"], rows[b.address]["bytes"]),
                             ("1.0.0+0", "2.0.0+0", 0))
            self.assertRegex(r.err, r"(?m)^%s +2\.0\.0\+0 +- .* ok$" % a.address.replace(".", r"\."))
            self.assertRegex(r.err, r"(?m)^%s +1\.0\.0\+0 +2\.0\.0\+0 .* ok$" % b.address.replace(".", r"\."))

    def test_devices_file_and_worst_failure(self):
        """Per-device images from a file; a device nobody answers for and a downgrade fail on their own,
        the others complete; the exit code is the worst (the downgrade, documented as worse)."""
        with Sim() as a, Sim() as b, Sim() as c:
            missing = unused_udp_address()
            devices = os.path.join(self.tmp.name, "devices.txt")
            with open(devices, "w") as f:
                f.write("# rack 1\n%s image=%s label=left\n\n%s image=other.bin\n%s\n%s image=old.bin  # stale\n"
                        % (a.address, os.path.basename(self.new), b.address, missing, c.address))
            r = run(["--json", "--timeout", "1", "--tries", "1", "--devices", devices, "dfu", self.new])
            self.assertEqual(r.code, EXIT_DOWNGRADE, r)
            _, summary = self.summary(r)
            codes = {d["device"]: d["exit_code"] for d in summary["devices"]}
            self.assertEqual(codes, {a.address: 0, b.address: 0, missing: EXIT_TIMEOUT, c.address: EXIT_DOWNGRADE})
            self.assertEqual(summary["exit_code"], EXIT_DOWNGRADE)
            self.assertIn("--allow-downgrade", [d for d in summary["devices"] if d["device"] == c.address][0]["error"])
            self.assertEqual([s["version"] for s in slots(b.address) if s["active"]], ["1.2.0+0"])
            self.assertEqual([s["version"] for s in slots(a.address) if s["active"]], ["1.1.0+0"])
            # the downgrade sent nothing: slot 1 stays empty
            self.assertEqual([s for s in slots(c.address) if s["slot"] == 1], [])
            self.assertRegex(r.err, r"(?m)^left +1\.0\.0\+0 +1\.1\.0\+0 .* ok$")  # the table shows the label
            r = run(["--devices", devices, "--allow-downgrade", "--timeout", "1", "--tries", "1", "dfu", self.new])
            self.assertEqual(r.code, EXIT_TIMEOUT, r)  # only the missing device still fails
            self.assertEqual([s["version"] for s in slots(c.address) if s["active"]], ["0.9.0+0"])

    def test_parallel_one_runs_devices_in_turn(self):
        with Sim() as a, Sim() as b:
            r = run(["--json", "--parallel", "1", "--device", a.address, "--device", b.address, "dfu", self.new])
            self.assertEqual(r.code, EXIT_OK, r)
            order = [line["device"] for line in r.json_raw_lines()[:-1]]
            first_b = order.index(b.address)
            self.assertNotIn(a.address, order[first_b:], "b started before a finished")

    def test_deadline_marks_nothing_unverified(self):
        # a is five times slower than a real board: its upload alone takes longer than the deadline
        with Sim("--time-scale", "5") as a, Sim() as b:
            r = run(["--json", "--deadline", "5", "--device", a.address, "--device", b.address, "dfu", self.big],
                    timeout=60)
            self.assertEqual(r.code, EXIT_TIMEOUT, r)
            _, summary = self.summary(r)
            da, db = summary["devices"]
            self.assertEqual((da["exit_code"], da["deadline_passed"]), (EXIT_TIMEOUT, True), da)
            self.assertIn("--deadline", da["error"])
            self.assertEqual((db["exit_code"], db["deadline_passed"]), (EXIT_OK, False), db)
            self.assertLess(da["seconds"], 15)
            for s in slots(a.address):
                self.assertFalse(s["pending"], s)  # the slow device's upload was cut: nothing marked

    def test_interrupt_stops_every_device(self):
        sims = [Sim("--time-scale", "1") for _ in range(3)]
        try:
            env = dict(os.environ)
            env.pop("SMPCTL_DEVICE", None)
            proc = subprocess.Popen([SMPCTL, "--json", "--parallel", "2"] + devices_args([s.address for s in sims])
                                    + ["dfu", self.big], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    env=env, stdin=subprocess.DEVNULL)
            time.sleep(1.5)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=30)
            self.assertEqual(proc.returncode, EXIT_INTERRUPTED, err)
            summary = json.loads(out.splitlines()[-1])
            self.assertEqual(summary["type"], "summary")
            started = [d["started"] for d in summary["devices"]]
            self.assertEqual(started, [True, True, False], summary)
            self.assertTrue(all(d["exit_code"] == EXIT_INTERRUPTED for d in summary["devices"]), summary)
            for s in sims:
                for slot in slots(s.address):
                    self.assertFalse(slot["pending"], slot)
        finally:
            for s in sims:
                s.close()

    def test_usage(self):
        with Sim() as a:
            r = run(["--device", a.address, "--device", a.address, "params"])
            self.assertEqual(r.code, 2, r)
            self.assertIn("runs on one device", r.err)
            bad = os.path.join(self.tmp.name, "bad.txt")
            with open(bad, "w") as f:
                f.write("%s colour=blue\n" % a.address)
            r = run(["--devices", bad, "echo", "hi"])
            self.assertEqual(r.code, 2, r)
            self.assertIn("line 1", r.err)
            with open(bad, "w") as f:
                f.write("%s\n" % a.address)
            r = run(["--devices", bad, "dfu"])
            self.assertEqual(r.code, 2, r)
            self.assertIn("has no image", r.err)
            r = run(["--devices", os.path.join(self.tmp.name, "absent.txt"), "echo", "hi"])
            self.assertEqual(r.code, 2, r)
            r = run(["--parallel", "0", "--device", a.address, "echo", "hi"])
            self.assertEqual(r.code, 2, r)

    def test_echo_and_list_on_several(self):
        with Sim() as a, Sim() as b:
            r = run(["--json", "--device", a.address, "--device", b.address, "echo", "hello"])
            self.assertEqual(r.code, EXIT_OK, r)
            echoes = [line for line in r.json_raw_lines() if line.get("type") != "summary"]
            self.assertEqual(sorted(line["device"] for line in echoes), sorted([a.address, b.address]))
            r = run(["--device", a.address, "--device", b.address, "image", "list"])
            self.assertEqual(r.code, EXIT_OK, r)
            self.assertIn(a.address, r.err)


class RackOverBluetooth(unittest.TestCase):
    """Two simulated boards behind one stand-in adapter, one smpctl process, one BlueZ connection."""

    def test_two_boards(self):
        with tempfile.TemporaryDirectory() as tmp:
            image = os.path.join(tmp, "app.bin")
            mkimage(image, "--size", "40000", "--version", "1.1.0")
            boards = ["C0:FF:EE:00:00:01", "C0:FF:EE:00:00:02"]
            with BluezSim("--device", boards[0], "--device", boards[1]) as b:
                r = b.run(["--json"] + devices_args(["ble:" + a for a in boards]) + ["dfu", image], device=None)
                self.assertEqual(r.code, EXIT_OK, r)
                summary = json.loads(r.out.splitlines()[-1])
                self.assertEqual([d["exit_code"] for d in summary["devices"]], [0, 0], r)
                for a in boards:
                    lst = b.run(["--json", "image", "list"], device="ble:" + a)
                    active = [s for s in lst.json()["images"] if s["active"]]
                    self.assertEqual(active[0]["version"], "1.1.0+0")

    def test_transient_connect_failures(self):
        """Four boards on one adapter while BlueZ fails one Connect in five (at most 3 in a row): the rack's
        connection attempts take turns on the adapter and each retries on its own; all four update."""
        boards = ["C0:FF:EE:00:00:0%d" % i for i in range(1, 5)]
        with tempfile.TemporaryDirectory() as tmp:
            image = os.path.join(tmp, "app.bin")
            mkimage(image, "--size", "20000", "--version", "1.1.0")
            options = ["--connect-failures", "0.2", "--connect-failures-run", "3", "--seed", "5", "--verbose"]
            for a in boards:
                options += ["--device", a]
            with BluezSim(*options) as b:
                for attempt in range(3):
                    r = b.run(["--json", "--reset-timeout", "20", "--allow-downgrade"] +
                              devices_args(["ble:" + a for a in boards]) + ["dfu", image], device=None)
                    self.assertEqual(r.code, EXIT_OK, (attempt, r))
                b.log.flush()
                with open(b.log.name) as f:
                    self.assertGreater(f.read().count("(fault knob)"), 0)  # the failures did happen

    def test_links_per_adapter(self):
        """A controller that holds one link (--max-links 1): --links-per-adapter 1 connects the boards one
        after the other, so none meets the controller's refusal; the default 7 would."""
        boards = ["ble:C0:FF:EE:00:00:0%d" % i for i in range(1, 4)]
        options = ["--max-links", "1", "--verbose"]
        for a in boards:
            options += ["--device", a[4:]]
        with tempfile.TemporaryDirectory() as tmp:
            image = mkimage(os.path.join(tmp, "app.bin"), "--size", "8000", "--version", "1.1.0")
            self.links_per_adapter(options, boards, image)
        r = run(["--links-per-adapter", "0", "echo", "x"], device="udp:127.0.0.1:9")
        self.assertEqual(r.code, EXIT_USAGE, r)

    def links_per_adapter(self, options, boards, image):
        # In real time, so that the links last (an upload of 8 kB: a fraction of a second each).
        for extra, refused in ((["--links-per-adapter", "1"], False), ([], True)):
            with BluezSim(*options, time_scale="1") as b:
                r = b.run(extra + devices_args(boards) + ["upload", image], device=None)
                b.log.flush()
                with open(b.log.name) as f:
                    log = f.read()
                self.assertEqual("(--max-links): Memory Capacity Exceeded" in log, refused, (extra, log))
                if not refused:
                    self.assertEqual(r.code, EXIT_OK, r)

    def test_two_adapters(self):
        """ble:hciN/ADDR spreads a rack over adapters: each board connects through the one named."""
        with tempfile.TemporaryDirectory() as tmp:
            image = os.path.join(tmp, "app.bin")
            mkimage(image, "--size", "20000", "--version", "1.1.0")
            with BluezSim("--adapters", "2", "--device", "C0:FF:EE:00:00:01", "--device", "C0:FF:EE:00:00:02",
                          "--verbose") as b:
                r = b.run(["--device", "ble:hci0/C0:FF:EE:00:00:01", "--device", "ble:hci1/C0:FF:EE:00:00:02",
                           "dfu", image], device=None)
                self.assertEqual(r.code, EXIT_OK, r)
                b.log.flush()
                with open(b.log.name) as f:
                    log = f.read()
                self.assertIn("C0:FF:EE:00:00:01: connected via /org/bluez/hci0", log)
                self.assertIn("C0:FF:EE:00:00:02: connected via /org/bluez/hci1", log)
                self.assertNotIn("C0:FF:EE:00:00:02: connected via /org/bluez/hci0", log)
                r = b.run(["echo", "x"], device="ble:hci7/C0:FF:EE:00:00:01")
                self.assertEqual(r.code, EXIT_TRANSPORT, r)
                self.assertIn("hci7", r.err)



def sim_calls(log, member):
    """(object, sender) of each call the stand-in logged as "OBJECT: MEMBER from SENDER"."""
    return re.findall(r"^smpctl-bluez-sim: (\S+): %s from (\S+)$" % member, log, re.M)


class RackOneBluezConnection(unittest.TestCase):
    """A rack is one client to BlueZ (smpctl(1) RACKS): one bus connection, hence one unique name, one
    discovery session, one pairing agent, and notify sessions that outlive a link of one device."""

    def rack(self, options, args, boards, stats=None, devices=None):
        """Runs smpctl on the boards (--device each, or the --devices file given) against a stand-in with
        the boards (ADDR[,key=value…] of its --device); returns the result and the stand-in's log."""
        options = list(options) + ["--verbose"]
        for a in boards:
            options += ["--device", a]
        if stats:
            options += ["--stats-file", stats]
        on = ["--devices", devices] if devices else devices_args(["ble:" + a.split(",")[0] for a in boards])
        with BluezSim(*options) as b:
            r = b.run(["--json"] + on + args, device=None)
            b.proc.terminate()  # --stats-file is written at exit
            b.proc.wait(timeout=10)
            b.log.flush()
            with open(b.log.name) as f:
                log = f.read()
        return r, log

    def one_sender(self, log):
        senders = {who for _, who in sim_calls(log, "Connect") + sim_calls(log, "StartDiscovery")
                   + sim_calls(log, "RegisterAgent")}
        self.assertEqual(len(senders), 1, senders)
        return senders.pop()

    def test_one_bus_name_and_one_discovery(self):
        """Three boards BlueZ does not know yet: one unique name at the stand-in (its stats line and its
        log), found through one discovery session, stopped once, when the last board was found."""
        boards = ["C0:FF:EE:00:00:0%d" % i for i in range(1, 4)]
        with tempfile.TemporaryDirectory() as tmp:
            image = os.path.join(tmp, "app.bin")
            stats = os.path.join(tmp, "stats")
            mkimage(image, "--size", "20000", "--version", "1.1.0")
            r, log = self.rack([], ["dfu", image], boards, stats)
            self.assertEqual(r.code, EXIT_OK, r)
            with open(stats) as f:
                clients = [line.split() for line in f if line.startswith("clients ")]
        sender = self.one_sender(log)
        self.assertEqual(clients, [["clients", "1", sender]])
        self.assertEqual(len(sim_calls(log, "StartDiscovery")), 1, log)
        self.assertEqual(len(sim_calls(log, "SetDiscoveryFilter")), 1, log)
        self.assertEqual(len(sim_calls(log, "StopDiscovery")), 1, log)
        # Every board was found through it, and it stopped when the last one was: that board's Connect
        # follows the stop.
        start, stop = log.index("StartDiscovery from"), log.index("StopDiscovery from")
        first_connects = [log.index("%s: Connect from" % a) for a in boards]
        self.assertLess(start, min(first_connects), log)
        self.assertLess(stop, max(first_connects), log)

    def test_two_boards_pair_with_passkeys(self):
        """Two boards that need an authenticated pairing, each showing its own passkey (passkey= on its
        --devices line): the process's one agent answers each board's request with that board's passkey
        (dispatched by the device the request names), and the pairings take turns (BlueZ's agent has one
        request at a time)."""
        boards = ["C0:FF:EE:00:00:01,passkey=111111", "C0:FF:EE:00:00:02,passkey=222222"]
        with tempfile.TemporaryDirectory() as tmp:
            devices = os.path.join(tmp, "devices")
            with open(devices, "w") as f:
                f.write("ble:C0:FF:EE:00:00:01 passkey=111111\nble:C0:FF:EE:00:00:02 passkey=222222 label=b\n")
            r, log = self.rack(["--authen"], ["echo", "x"], boards, devices=devices)
        self.assertEqual(r.code, EXIT_OK, (r, log))
        summary = json.loads(r.out.splitlines()[-1])
        self.assertEqual([d["exit_code"] for d in summary["devices"]], [0, 0], r)
        self.one_sender(log)
        self.assertEqual(len(sim_calls(log, "RegisterAgent")), 1, log)
        for a in boards:
            self.assertIn("%s: paired (authenticated)" % a.split(",")[0], log)
        self.assertNotIn("EBUSY", log)

    def test_devices_line_passkey_checked(self):
        with tempfile.TemporaryDirectory() as tmp:
            devices = os.path.join(tmp, "devices")
            with open(devices, "w") as f:
                f.write("ble:C0:FF:EE:00:00:01 passkey=12x\n")
            r = run(["--devices", devices, "echo", "x"])
        self.assertEqual(r.code, EXIT_USAGE, r)
        self.assertIn("passkey= takes the 6 digits", r.err)

    def test_link_loss_of_one_board(self):
        """One board's link drops half way through its upload (its notifications through StartNotify, a
        session BlueZ keeps per sender across the link; its writes through WriteValue, answers still due
        when the link goes): it reconnects, its notify session is set up again on the same connection,
        and both boards finish."""
        boards = ["C0:FF:EE:00:00:01", "C0:FF:EE:00:00:02"]
        with tempfile.TemporaryDirectory() as tmp:
            image = os.path.join(tmp, "app.bin")
            mkimage(image, "--size", "40000", "--version", "1.1.0")
            r, log = self.rack(["--disconnect-after-bytes", "15000", "--acquire-notify-hangs",
                                "--acquire-write-fails"],
                               ["dfu", image], boards)
        self.assertEqual(r.code, EXIT_OK, (r, log))
        summary = json.loads(r.out.splitlines()[-1])
        self.assertEqual([d["exit_code"] for d in summary["devices"]], [0, 0], r)
        self.assertEqual(log.count("(fault knob)") - log.count("AcquireNotify hangs"), 1, log)
        self.one_sender(log)
        lost = re.search(r"^smpctl-bluez-sim: (\S+): link lost after", log, re.M).group(1)
        self.assertGreaterEqual(len([o for o, _ in sim_calls(log, "Connect") if o == lost]), 2, log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
