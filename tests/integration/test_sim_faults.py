"""smpctl-sim's datagram fault knobs (the fault campaign's, issue 19) seen on the wire, and SIGUSR1
turning the faults off: raw SMP echo requests over UDP, no smpctl in between."""
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import *  # noqa: E402,F403


def echo(seq, text=b"hi"):
    """SMP v2 write, group 0 (OS), command 0 (echo), body {"d": text}."""
    body = b"\xa1\x61d" + bytes([0x60 + len(text)]) + text
    return struct.pack(">BBHHBB", 0x08 | 2, 0, len(body), 0, seq, 0) + body


class Wire:
    def __init__(self, sim):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(0.5)
        self.peer = ("127.0.0.1", sim.port)

    def send(self, frame):
        self.sock.sendto(frame, self.peer)

    def receive_all(self):
        frames = []
        while True:
            try:
                frames.append(self.sock.recv(65536))
            except socket.timeout:
                return frames

    def close(self):
        self.sock.close()


def seq(frame):
    return frame[6]


class SimFaults(unittest.TestCase):
    def wire(self, *options):
        sim = Sim(*options)
        self.addCleanup(sim.close)
        w = Wire(sim)
        self.addCleanup(w.close)
        return sim, w

    def test_duplicate_answer(self):
        _, w = self.wire("--duplicate-answer", "2")
        for i in (1, 2, 3):
            w.send(echo(i))
            got = w.receive_all()
            self.assertEqual([seq(f) for f in got], [i, i] if i == 2 else [i], got)

    def test_reorder_answer(self):
        _, w = self.wire("--reorder-answer", "1")
        w.send(echo(1))
        self.assertEqual(w.receive_all(), [])  # held back
        w.send(echo(2))
        self.assertEqual([seq(f) for f in w.receive_all()], [2, 1])

    def test_truncate_answer(self):
        _, w = self.wire("--truncate-answer", "2")
        lengths = []
        for i in (1, 2):
            w.send(echo(i))
            lengths.append(len(w.receive_all()[0]))
        self.assertEqual(lengths[1], lengths[0] // 2)

    def test_random_rc_then_faults_off(self):
        sim, w = self.wire("--random-rc", "7:1000")
        rcs = set()
        for i in range(30):
            w.send(echo(i))
            frame = w.receive_all()[0]
            self.assertEqual(frame[8:12], b"\xbf\x62rc", frame)  # {"rc": N} as Zephyr encodes it: refused, not echoed
            rcs.add(frame[12])
        self.assertEqual(rcs, {2, 6, 8})
        sim.proc.send_signal(signal.SIGUSR1)
        time.sleep(0.1)
        w.send(echo(99, b"back"))
        self.assertIn(b"back", w.receive_all()[0])

    def test_reboot_mid_upload(self):
        """--reboot-at-byte: the device restarts once, mid-upload, before answering; its upload session is
        gone, and smpctl's upload still completes (after resends)."""
        tmp = tempfile.TemporaryDirectory(prefix="smpctl-sim-faults-")
        self.addCleanup(tmp.cleanup)
        image = mkimage(os.path.join(tmp.name, "app.bin"), "--size", "60000", "--version", "2.0.0")
        sim, _ = self.wire("--reboot-at-byte", "30000", "--verbose")
        r = run(["--timeout", "1", "--json", "upload", image], device=sim.address)
        self.assertEqual(r.code, 0, r)
        self.assertGreater(r.json_lines()[-1]["resends"], 0, r)
        self.assertEqual(sim.output().count("restarts mid-upload"), 1)

    def test_slow_erase(self):
        """--slow-erase: the first chunk is answered 2 s late in real time, at time scale 0 too; smpctl waits
        for it (the first chunk's wait is 40 s, not --timeout) and the upload completes without a resend.
        The same knob on the BlueZ stand-in."""
        tmp = tempfile.TemporaryDirectory(prefix="smpctl-sim-faults-")
        self.addCleanup(tmp.cleanup)
        image = mkimage(os.path.join(tmp.name, "app.bin"), "--size", "60000", "--version", "2.0.0")
        sim, _ = self.wire("--slow-erase", "2000")
        self.check_slow_upload(lambda args: run(args, device=sim.address), image)
        with BluezSim("--slow-erase", "2000") as b:
            self.check_slow_upload(b.run, image)

    def check_slow_upload(self, run_smpctl, image):
        started = time.time()
        r = run_smpctl(["--timeout", "1", "--json", "upload", image])
        self.assertEqual(r.code, 0, r)
        self.assertGreaterEqual(time.time() - started, 2.0)
        self.assertEqual(r.json_lines()[-1]["resends"], 0, r)
        self.assertTrue(r.json_lines()[-1]["match"], r)

    def test_faults_off_keeps_the_device(self):
        """SIGUSR1 ends --drop-every; what was uploaded stays (the campaign's rerun relies on both)."""
        tmp = tempfile.TemporaryDirectory(prefix="smpctl-sim-faults-")
        self.addCleanup(tmp.cleanup)
        image = mkimage(os.path.join(tmp.name, "app.bin"), "--size", "20000", "--version", "2.0.0")
        sim, w = self.wire("--drop-every", "1")
        self.assertEqual(run(["--timeout", "0.2", "--tries", "1", "echo", "x"], device=sim.address).code, EXIT_TIMEOUT)
        sim.proc.send_signal(signal.SIGUSR1)
        time.sleep(0.1)
        self.assertEqual(run(["upload", image], device=sim.address).code, 0)
        sim.proc.send_signal(signal.SIGUSR1)  # again: nothing changes
        time.sleep(0.1)
        images = run(["--json", "image", "list"], device=sim.address).json()["images"]
        self.assertEqual([i["slot"] for i in images], [0, 1])


if __name__ == "__main__":
    main()
