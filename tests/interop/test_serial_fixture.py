"""smpctl's serial transport against a real Zephyr 4.1.0 SMP server: smp_svr with overlay-serial.conf on
native_sim (fixtures/smp-svr-serial.exe.xz, build-serial-fixture.sh), its mcumgr UART a host tty. The
fixture opens one end of a bridged pair of pseudo-terminals, smpctl the other (serial:/dev/pts/N), so
nothing here takes a network port: it can run beside the UDP fixtures. Console framing only: Zephyr 4.1
has neither raw nor COBS framing, and does not answer them."""
import hashlib
import json
import lzma
import os
import pty
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tty
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from harness import EXIT_TIMEOUT, mkimage, run  # noqa: E402

MANIFEST = os.path.join(HERE, "fixtures", "serial-manifest.json")
NAME = "smp-svr-serial"


class PtyBridge:
    """Two pseudo-terminals whose masters are joined: what is written to one slave is read from the other,
    as over a null-modem cable."""

    def __init__(self):
        self.pairs = [pty.openpty(), pty.openpty()]
        for master, slave in self.pairs:
            tty.setraw(master)
            tty.setraw(slave)
        self.paths = [os.ttyname(slave) for _, slave in self.pairs]
        self.stop = False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        a, b = self.pairs[0][0], self.pairs[1][0]
        while not self.stop:
            ready, _, _ = select.select([a, b], [], [], 0.05)
            for fd in ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    continue
                os.write(b if fd == a else a, data)

    def close(self):
        self.stop = True
        self.thread.join(timeout=5)
        for master, slave in self.pairs:
            os.close(master)
            os.close(slave)


def unpack(info, directory):
    with lzma.open(os.path.join(HERE, "fixtures", info["file"])) as f:
        data = f.read()
    if hashlib.sha256(data).hexdigest() != info["sha256_exe"]:
        raise RuntimeError("%s: the unpacked executable does not match the manifest's sha256" % NAME)
    path = os.path.join(directory, NAME + ".exe")
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o755)
    return path


class SerialFixture(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(MANIFEST) as f:
            cls.info = json.load(f)["fixtures"][NAME]
        cls.tmp = tempfile.TemporaryDirectory(prefix="smpctl-interop-serial-")
        exe = unpack(cls.info, cls.tmp.name)
        cls.bridge = PtyBridge()
        cls.log = open(os.path.join(cls.tmp.name, "log"), "w+")
        cls.proc = subprocess.Popen([exe, "-flash=" + os.path.join(cls.tmp.name, "flash.bin"),
                                     "-mcumgr_tty_port=" + cls.bridge.paths[1]],
                                    stdout=cls.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        cls.address = "serial:" + cls.bridge.paths[0]
        deadline = time.time() + 20
        while run(["--timeout", "1", "--tries", "1", "echo", "up"], device=cls.address).code != 0:
            if cls.proc.poll() is not None or time.time() > deadline:
                cls.tearDownClass()
                raise RuntimeError("the serial fixture did not answer")
            time.sleep(0.2)

    @classmethod
    def tearDownClass(cls):
        if cls.proc.poll() is None:
            cls.proc.send_signal(signal.SIGTERM)
            cls.proc.wait(timeout=10)
        cls.bridge.close()
        cls.log.close()
        cls.tmp.cleanup()

    def test_echo_over_several_lines_each_way(self):
        # within the fixture's 384-byte SMP buffer, length and CRC included (a larger packet is dropped
        # unanswered by serial_util.c)
        text = "".join(chr(0x61 + i % 26) for i in range(300))
        r = run(["--json", "echo", text], device=self.address)
        self.assertEqual(r.json(), {"echo": text}, r)

    def test_params_and_firmware_kind(self):
        r = run(["--json", "params"], device=self.address)
        self.assertEqual((r.json()["buf_size"], r.json()["buf_count"]), (self.info["buf_size"], self.info["buf_count"]), r)
        self.assertEqual(run(["--json", "info"], device=self.address).json()["firmware"], "application")

    def test_upload_lands_in_slot_1(self):
        image = mkimage(os.path.join(self.tmp.name, "app.bin"), "--size", "6000", "--version", "3.1.4")
        r = run(["--json", "image", "upload", image, "--force"], device=self.address, timeout=300)
        self.assertEqual(r.code, 0, r)
        result = r.json_lines()[-1]
        self.assertTrue(result["ok"], r)
        images = run(["--json", "image", "list"], device=self.address).json()["images"]
        self.assertIn((1, "3.1.4+0", result["hash"]), [(i["slot"], i["version"], i["hash"]) for i in images], images)

    def test_raw_framing_is_not_answered(self):
        r = run(["--timeout", "2", "--tries", "1", "echo", "x"], device=self.address + ",framing=raw")
        self.assertEqual(r.code, EXIT_TIMEOUT, r)


if __name__ == "__main__":
    unittest.main(verbosity=2)
