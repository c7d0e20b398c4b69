"""The serial transport (serial:PATH,…) against smpctl-sim on a pty in every framing (echo, image list,
upload, dfu), the line pacing against the simulated device's receive buffers, and what goes wrong below
SMP, each a one-line error with the documented exit code (stand-ins made here on pseudo-terminals)."""
import fcntl
import os
import pty
import select
import struct
import sys
import threading
import tty

sys.path.insert(0, os.path.dirname(__file__))
from harness import *  # noqa: E402,F403


def crc16(data):
    """CRC-16/XMODEM, written here from its definition (not smpctl's code)."""
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def console_line(stream, start=True):
    import base64
    return (b"\x06\x09" if start else b"\x04\x14") + base64.b64encode(stream) + b"\n"


class PtyStandIn:
    """The far end of a pseudo-terminal pair: smpctl opens the slave path; `answer(lines)` gets every
    newline-terminated chunk smpctl writes and returns the bytes to write back (or None)."""

    def __init__(self, answer=None):
        self.master, slave = pty.openpty()
        tty.setraw(self.master)
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self.slave = slave  # kept open so the pty does not hang up between runs
        self.answer = answer
        self.received = b""
        self.stop = False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        pending = b""
        while not self.stop:
            r, _, _ = select.select([self.master], [], [], 0.05)
            if not r:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError:
                continue
            self.received += data
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                reply = self.answer(line + b"\n") if self.answer else None
                if reply:
                    os.write(self.master, reply)

    def close(self):
        self.stop = True
        self.thread.join(timeout=5)
        os.close(self.master)
        os.close(self.slave)


class SerialSim(Sim):
    """smpctl-sim serving one simulated device on a pty (--serial auto); output() and close() as Sim's."""

    def __init__(self, *options, framing="console", link=None):  # noqa: super().__init__ listens on UDP
        self.dir = tempfile.TemporaryDirectory(prefix="smpctl-serial-sim-")
        ready = os.path.join(self.dir.name, "ready")
        self.log = open(os.path.join(self.dir.name, "log"), "w+")
        if link:  # a path under the sim's directory, standing for /dev/serial/by-id/NAME
            os.makedirs(os.path.dirname(os.path.join(self.dir.name, link)), exist_ok=True)
            link = os.path.join(self.dir.name, link)
        self.proc = subprocess.Popen([SMPCTL_SIM, "--serial", link or "auto", "--framing", framing, "--ready-file", ready,
                                      "--time-scale", "0", "--verbose"] + list(options),
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while not (os.path.exists(ready) and read(ready).strip()):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("smpctl-sim did not start: " + self.output())
            time.sleep(0.02)
        self.path = read(ready).split()[0]
        self.address = "serial:%s,framing=%s" % (self.path, framing)


FRAMINGS = ("console", "raw", "cobs")


class Framings(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="smpctl-serial-")
        cls.image = mkimage(os.path.join(cls.tmp.name, "app.bin"), "--size", str(24 * 1024), "--version", "2.0.0",
                            "--key", key("ec-p256", False))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_echo_and_image_list(self):
        for framing in FRAMINGS:
            with self.subTest(framing=framing), SerialSim(framing=framing) as sim:
                r = run(["echo", "over " + framing], device=sim.address)
                self.assertEqual((r.code, r.out), (0, "over %s\n" % framing), r)
                # several lines each way: a long echo
                text = "".join(chr(0x61 + i % 26) for i in range(500))
                r = run(["--json", "echo", text], device=sim.address)
                self.assertEqual(r.json(), {"echo": text}, r)
                r = run(["--json", "image", "list"], device=sim.address)
                self.assertEqual(r.code, 0, r)
                self.assertTrue(r.json()["images"][0]["active"])
                self.assertNotIn("line dropped", sim.output())

    def test_upload_uses_the_whole_buffer(self):
        # Zephyr decodes the console stream with its length and CRC into the SMP buffer: 2475 - 4.
        for framing, frame in (("console", 2471), ("raw", 2475), ("cobs", 2473)):
            with self.subTest(framing=framing), SerialSim(framing=framing) as sim:
                r = run(["-v", "--json", "image", "upload", self.image], device=sim.address)
                self.assertEqual(r.code, 0, r)
                self.assertIn("frame %d bytes, window 3" % frame, r.err)
                result = r.json_lines()[-1]
                self.assertTrue(result["ok"] and result["match"], r)

    def test_dfu(self):
        for framing in FRAMINGS:
            with self.subTest(framing=framing), SerialSim(framing=framing) as sim:
                r = run(["--json", "--reset-timeout", "20", "dfu", self.image, "--key", key("ec-p256")],
                        device=sim.address)
                self.assertEqual(r.code, 0, r)
                result = r.json_lines()[-1]
                self.assertTrue(result["ok"] and result["running"] and result["confirmed"], r)

    def test_small_device_buffers(self):
        with SerialSim("--buf-size", "512", "--buf-count", "2") as sim:
            r = run(["-v", "--json", "image", "upload", self.image], device=sim.address)
            self.assertEqual(r.code, 0, r)
            self.assertIn("frame 508 bytes, window 1", r.err)


class Pacing(unittest.TestCase):
    """Zephyr's UART driver has 2 receive buffers of 128 bytes by default and drops a line that finds
    none free. Over USB CDC-ACM (--link usb) bytes arrive as fast as they are written: only the
    client's pacing keeps three lines from meeting two buffers."""

    long_text = "".join(chr(0x41 + i % 26) for i in range(400))  # 6 lines each way

    def test_unpaced_lines_are_dropped(self):
        with SerialSim("--link", "usb") as sim:
            r = run(["--timeout", "1", "--tries", "1", "echo", self.long_text], device=sim.address + ",pace=off")
            self.assertEqual(r.code, EXIT_TIMEOUT, r)
            self.assertIn("line dropped", sim.output())

    def test_paced_lines_arrive(self):
        # The simulated device sees a line arrive when it reads it: on a loaded machine a descheduled
        # simulator reads several paced lines at once and drops one, which the client then resends.
        # So every attempt must succeed, and one of three must have no dropped line at all; without
        # pacing every attempt drops lines (test_unpaced_lines_are_dropped).
        drops = []
        for attempt in range(3):
            with SerialSim("--link", "usb") as sim:
                for _ in range(3):
                    r = run(["--json", "echo", self.long_text], device=sim.address)
                    self.assertEqual(r.json(), {"echo": self.long_text}, r)
                image = mkimage(os.path.join(sim.dir.name, "app.bin"), "--size", "16384")
                r = run(["--json", "image", "upload", image], device=sim.address)
                self.assertEqual(r.code, 0, r)
                drops.append(sim.output().count("line dropped"))
            if drops[-1] == 0:
                return
        self.fail("paced lines were dropped in every attempt: %s" % drops)

    def test_slow_decoder_needs_a_larger_allowance(self):
        # A device that takes 20 ms a line (native_sim's pty UART is of that order): pace=20 says so.
        with SerialSim("--link", "usb", "--line-us", "20000") as sim:
            r = run(["--timeout", "2", "--tries", "1", "echo", self.long_text], device=sim.address)
            self.assertEqual(r.code, EXIT_TIMEOUT, r)
            r = run(["--json", "echo", self.long_text], device=sim.address + ",pace=20")
            self.assertEqual(r.json(), {"echo": self.long_text}, r)

    def test_more_receive_buffers_more_lines_at_once(self):
        with SerialSim("--link", "usb", "--rxbufs", "8", "--line-us", "5000") as sim:
            r = run(["--json", "echo", self.long_text], device=sim.address + ",rxbufs=8,pace=5")
            self.assertEqual(r.json(), {"echo": self.long_text}, r)
            self.assertNotIn("line dropped", sim.output())


class SerialRecovery(unittest.TestCase):
    """MCUboot's serial recovery (boot_serial.c) in two builds: info says which firmware answers and why,
    and each capability comes from an answer."""

    def test_info_names_recovery_and_its_build(self):
        with SerialSim("--recovery", "none") as sim:
            r = run(["--json", "info"], device=sim.address)
            self.assertEqual(r.code, 0, r)
            info = r.json()
            self.assertEqual(info["firmware"], "serial recovery", r)
            for text in ("console echo control", "echo: no", "hashes in the image list: no", "test/confirm: no"):
                self.assertIn(text, info["evidence"])
            r = run(["info"], device=sim.address)
            self.assertIn("Firmware:   serial recovery: ", r.out)
        with SerialSim("--recovery", "echo,hash,state,slot-info") as sim:
            info = run(["--json", "info"], device=sim.address).json()
            self.assertEqual(info["firmware"], "serial recovery")
            for text in ("echo: yes", "hashes in the image list: yes", "test/confirm: yes", "slot info: yes"):
                self.assertIn(text, info["evidence"])

    def test_info_names_the_application(self):
        with SerialSim() as sim:
            r = run(["--json", "info"], device=sim.address)
            self.assertEqual(r.json()["firmware"], "application", r)
            self.assertIn("Firmware:   application", run(["info"], device=sim.address).out)

    def test_upload_goes_to_the_primary_slot(self):
        with SerialSim("--recovery", "hash") as sim:
            image = mkimage(os.path.join(sim.dir.name, "app.bin"), "--size", "20000", "--version", "4.5.6")
            r = run(["image", "upload", image], device=sim.address)
            self.assertEqual(r.code, 0, r)
            images = run(["--json", "image", "list"], device=sim.address).json()["images"]
            self.assertEqual([(i["slot"], i["version"]) for i in images], [(0, "4.5.6+0")], images)
            # no echo in this build: rc 8, a device error
            self.assertEqual(run(["echo", "x"], device=sim.address).code, EXIT_DEVICE)


class RecoveryDfu(unittest.TestCase):
    """dfu, image test and image confirm against MCUboot's serial recovery, one build variant at a time
    (boot_serial.c: uploads into the primary slot, hashes only with IMG_GRP_HASH, marking only with
    IMG_GRP_IMAGE_STATE and only of slot 1, direct upload to a chosen slot)."""

    BUILDS = ("none", "hash", "state", "echo,hash,state,slot-info", "direct,slot-info", "direct,hash,state")

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="smpctl-recovery-")
        cls.image = mkimage(os.path.join(cls.tmp.name, "app.bin"), "--size", "20000", "--version", "2.0.0")
        cls.other = mkimage(os.path.join(cls.tmp.name, "other.bin"), "--size", "16000", "--version", "3.0.0")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def hash_of(self, path):
        return run(["--json", "image", "info", path]).json()["hash"]

    def test_dfu_in_each_build(self):
        for build in self.BUILDS:
            with self.subTest(build=build), SerialSim("--recovery", build) as sim:
                r = run(["--json", "--reset-timeout", "20", "dfu", self.image], device=sim.address)
                self.assertEqual(r.code, 0, r)
                result = r.json_lines()[-1]
                self.assertTrue(result["recovery"] and result["uploaded"] and result["reset"], r)
                self.assertTrue(result["running"] and result["confirmed"], r)
                slot0 = [i for i in result["images"] if i["slot"] == 0][0]
                self.assertEqual((slot0["version"], slot0["active"]), ("2.0.0+0", True), result)
                if "hash" in build.split(","):
                    self.assertIn("Verified: slot 0 holds the image", r.out + r.err)
                else:
                    self.assertIn("the device could not confirm the image's hash", r.out + r.err)
                # the application came up: info says so, and nothing waits in slot 1
                self.assertEqual(run(["--json", "info"], device=sim.address).json()["firmware"], "application")

    def test_dfu_refuses_test_only(self):
        with SerialSim("--recovery", "hash,state") as sim:
            r = run(["dfu", self.image, "--mode", "test-only"], device=sim.address)
            self.assertEqual(r.code, EXIT_DEVICE, r)
            self.assertIn("cannot be tested and reverted", r.err)
            images = run(["--json", "image", "list"], device=sim.address).json()["images"]
            self.assertEqual([i["version"] for i in images], ["1.0.0+0"], images)

    def test_dfu_when_the_device_comes_back_in_recovery(self):
        # the recovery pin still held: MCUboot enters recovery again instead of booting the image
        with SerialSim("--recovery", "hash,held") as sim:
            r = run(["--reset-timeout", "10", "dfu", self.image], device=sim.address)
            self.assertEqual(r.code, EXIT_TIMEOUT, r)
            errors = [line for line in r.err.splitlines() if line.startswith("smpctl:")]
            self.assertEqual(len(errors), 1, r)
            self.assertIn("in serial recovery again", errors[0])

    def test_dfu_image_n_refused_in_recovery(self):
        # dfu_run_multi (a package, or --image N): serial recovery takes one image into a primary slot
        with SerialSim("--recovery", "hash,state") as sim:
            r = run(["dfu", self.image, "--image", "1"], device=sim.address)
            self.assertEqual(r.code, EXIT_DEVICE, r)
            self.assertIn("in MCUboot's serial recovery, which takes one image at a time", r.err)
            images = run(["--json", "image", "list"], device=sim.address).json()["images"]
            self.assertEqual([i["version"] for i in images], ["1.0.0+0"], images)

    def test_upload_only_leaves_recovery(self):
        with SerialSim("--recovery", "hash") as sim:
            r = run(["--json", "dfu", self.image, "--mode", "upload-only"], device=sim.address)
            self.assertEqual(r.code, 0, r)
            result = r.json_lines()[-1]
            self.assertTrue(result["uploaded"] and not result["reset"], r)
            self.assertEqual(run(["--json", "info"], device=sim.address).json()["firmware"], "serial recovery")

    def test_mark_without_image_state_says_so(self):
        with SerialSim("--recovery", "hash") as sim:
            r = run(["image", "test", self.hash_of(self.image)], device=sim.address)
            self.assertEqual(r.code, EXIT_DEVICE, r)
            self.assertIn("this recovery build cannot mark images (rc 8", r.err)
            self.assertEqual(len(r.err.strip().splitlines()), 1, r)

    def test_mark_slot1_with_image_state_then_dfu_refuses(self):
        with SerialSim("--recovery", "direct,hash,state") as sim:
            # direct upload: image 2 is the secondary slot
            self.assertEqual(run(["image", "upload", self.other, "--image", "2"], device=sim.address).code, 0)
            other = self.hash_of(self.other)
            # recovery marks slot 1 only: a hash that is not there is not sent, nor is a hashless confirm
            r = run(["image", "test", self.hash_of(self.image)], device=sim.address)
            self.assertEqual(r.code, EXIT_DEVICE, r)
            self.assertIn("marks only slot 1", r.err)
            self.assertEqual(run(["image", "confirm"], device=sim.address).code, EXIT_USAGE)
            r = run(["--json", "image", "test", other], device=sim.address)
            self.assertEqual(r.code, 0, r)
            slot1 = [i for i in r.json()["images"] if i["slot"] == 1][0]
            self.assertTrue(slot1["pending"], r.json())
            # MCUboot would swap slot 1 over a primary-slot upload: dfu stops before sending anything
            r = run(["dfu", self.image], device=sim.address)
            self.assertEqual(r.code, EXIT_DEVICE, r)
            self.assertIn("would swap it over the image uploaded to slot 0", r.err)
            # a reset boots the marked image for test, as MCUboot does
            self.assertEqual(run(["reset"], device=sim.address).code, 0)
            deadline = time.time() + 10
            while run(["--json", "info"], device=sim.address).json().get("firmware") != "application":
                self.assertLess(time.time(), deadline)
                time.sleep(0.2)
            images = run(["--json", "image", "list"], device=sim.address).json()["images"]
            slot0 = [i for i in images if i["slot"] == 0][0]
            self.assertEqual((slot0["version"], slot0["active"], slot0["confirmed"]), ("3.0.0+0", True, False), images)


class Reenumeration(unittest.TestCase):
    """A USB CDC-ACM port that disappears (the device re-enumerates) mid-upload or at a reset, and comes back
    as another tty under the same /dev/serial/by-id name: smpctl waits for it, reopens it and goes on. The
    sim re-creates its pty under a link in a directory that SMPCTL_SERIAL_BY_ID points to."""

    NAME = "usb-ZEPHYR_SMP_Sample_0123456789-if00"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="smpctl-reenum-")
        cls.image = mkimage(os.path.join(cls.tmp.name, "app.bin"), "--size", "60000", "--version", "2.0.0",
                            "--key", key("ec-p256", False))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def by_id(self, sim):
        return {"SMPCTL_SERIAL_BY_ID": os.path.join(sim.dir.name, "by-id")}, "serial:by-id/" + self.NAME

    def test_upload_resumes_where_it_was(self):
        with SerialSim("--link", "usb", "--reenumerate", "1500", "--unplug-at", "20000",
                       link="by-id/" + self.NAME) as sim:
            env, address = self.by_id(sim)
            r = run(["--json", "image", "upload", self.image], device=address, env=env)
            self.assertEqual(r.code, 0, r)
            lines = r.json_lines()
            self.assertTrue(lines[-1]["ok"] and lines[-1]["match"], r)
            after = [line["bytes"] for line in lines if line["type"] == "progress" and line["reconnects"] == 1]
            # resumed at the device's offset, not from the start
            self.assertTrue(after and min(after) >= 20000, after)
            self.assertIn("port gone", sim.output())
            self.assertIn("port back", sim.output())

    def test_dfu_across_a_reset_that_re_enumerates(self):
        with SerialSim("--link", "usb", "--reenumerate", "1500", link="by-id/" + self.NAME) as sim:
            env, address = self.by_id(sim)
            r = run(["--json", "--reset-timeout", "20", "dfu", self.image, "--key", key("ec-p256")],
                    device=address, env=env)
            self.assertEqual(r.code, 0, r)
            result = r.json_lines()[-1]
            self.assertTrue(result["running"] and result["confirmed"], r)
            self.assertIn("port gone", sim.output())

    def test_recovery_dfu_across_a_reset_that_re_enumerates(self):
        with SerialSim("--link", "usb", "--reenumerate", "1500", "--recovery", "hash",
                       link="by-id/" + self.NAME) as sim:
            env, address = self.by_id(sim)
            r = run(["--json", "--reset-timeout", "20", "dfu", self.image], device=address, env=env)
            self.assertEqual(r.code, 0, r)
            result = r.json_lines()[-1]
            self.assertTrue(result["recovery"] and result["running"] and result["confirmed"], r)
            self.assertIn("port gone", sim.output())

    def test_by_id_names_the_missing_port(self):
        r = run(["--timeout", "1", "--tries", "1", "echo", "x"], device="serial:by-id/" + self.NAME,
                env={"SMPCTL_SERIAL_BY_ID": self.tmp.name})
        self.assertEqual(r.code, EXIT_TRANSPORT, r)
        self.assertIn("no serial port %s/%s" % (self.tmp.name, self.NAME), r.err)


def smpctl(address, *args, **kw):
    return run(["--timeout", "1", "--tries", "1"] + list(args), device="serial:" + address, **kw)


class BadInput(unittest.TestCase):
    def assert_one_line(self, r, code, text):
        self.assertEqual(r.code, code, r)
        self.assertIn(text, r.err, r)
        self.assertEqual(len(r.err.strip().splitlines()), 1, r)

    def test_not_a_tty(self):
        self.assert_one_line(smpctl("/dev/null", "echo", "x"), EXIT_TRANSPORT, "/dev/null is not a serial port")

    def test_no_such_port(self):
        self.assert_one_line(smpctl("/dev/ttyNOSUCH9", "echo", "x"), EXIT_TRANSPORT, "no serial port /dev/ttyNOSUCH9")

    def test_bad_options_are_usage_errors(self):
        for option in ("baud=12345", "baud=fast", "framing=hdlc", "flow=xon", "line=5", "rxbufs=0", "pace=-1", "speed=9600"):
            with self.subTest(option=option):
                self.assert_one_line(smpctl("/dev/null," + option, "echo", "x"), EXIT_USAGE,
                                     "invalid serial option '%s'" % option)

    def test_busy_port_names_the_holder(self):
        dev = PtyStandIn()
        try:
            holder = os.open(dev.path, os.O_RDWR | os.O_NOCTTY)
            fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
            try:
                r = smpctl(dev.path, "echo", "x")
                self.assert_one_line(r, EXIT_TRANSPORT, "serial port %s is in use by" % dev.path)
                self.assertIn("(pid %d)" % os.getpid(), r.err)
            finally:
                os.close(holder)
        finally:
            dev.close()

    def test_wrong_baud_garbage(self):
        # What a device at another baud rate looks like: bytes, never a frame.
        dev = PtyStandIn(lambda line: bytes([0xF8, 0x80, 0xFE, 0x00, 0x78]) * 20 + b"\r\n")
        try:
            r = smpctl(dev.path + ",baud=9600", "echo", "x")
            self.assert_one_line(r, EXIT_TIMEOUT, "bytes came back but no SMP frame: check the baud rate (baud=9600)")
        finally:
            dev.close()

    def test_crc_mismatch(self):
        def answer(line):
            body = b"\xbf\x61\x72\x61x\xff"
            pkt = struct.pack("!BBHHBB", 3 | 8, 0, len(body), 0, 0, 0) + body
            crc = crc16(pkt) ^ 0x0100
            return console_line(struct.pack("!H", len(pkt) + 2) + pkt + struct.pack("!H", crc))
        dev = PtyStandIn(answer)
        try:
            self.assert_one_line(smpctl(dev.path, "echo", "x"), EXIT_TIMEOUT, "1 frame from the device failed the CRC check")
        finally:
            dev.close()

    def test_truncated_frame(self):
        # The first line of a two-line answer, then nothing.
        dev = PtyStandIn(lambda line: console_line(struct.pack("!H", 300) + b"\x0b\x00\x01\x24\x00\x00\x00\x00" + b"A" * 80))
        try:
            self.assert_one_line(smpctl(dev.path, "echo", "x"), EXIT_TIMEOUT, "arrived cut short")
        finally:
            dev.close()

    def test_wrong_baud_against_the_simulated_device(self):
        with SerialSim("--baud", "115200") as sim:
            r = smpctl(sim.path + ",baud=9600", "echo", "x")
            self.assert_one_line(r, EXIT_TIMEOUT, "no SMP frame: check the baud rate (baud=9600)")
            self.assertEqual(smpctl(sim.path + ",baud=115200", "echo", "x").code, 0)

    def test_wrong_framing_times_out(self):
        with SerialSim(framing="console") as sim:
            r = smpctl(sim.path + ",framing=raw", "echo", "x")
            self.assertEqual(r.code, EXIT_TIMEOUT, r)

    def test_echo_and_log_noise_are_ignored(self):
        # A device that echoes what it gets and logs a line before answering properly.
        def answer(line):
            body = b"\xbf\x61\x72\x62ok\xff"
            pkt = struct.pack("!BBHHBB", 3 | 8, 0, len(body), 0, 0, 0) + body
            seq = self.last_seq[0]
            pkt = pkt[:6] + bytes([seq]) + pkt[7:]
            return line + b"[00:00:01.000,000] <inf> app: working\r\n" + console_line(
                struct.pack("!H", len(pkt) + 2) + pkt + struct.pack("!H", crc16(pkt)))

        def seq_of(line):
            import base64
            data = base64.b64decode(line[2:-1])
            return data[2 + 6]
        self.last_seq = [0]
        dev = PtyStandIn(lambda line: (self.last_seq.__setitem__(0, seq_of(line)), answer(line))[1])
        try:
            r = smpctl(dev.path, "echo", "ok")
            self.assertEqual(r.code, 0, r)
            self.assertEqual(r.out, "ok\n")
        finally:
            dev.close()


if __name__ == "__main__":
    main()
