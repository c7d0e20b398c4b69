"""The serial transport (serial:PATH,…): what goes wrong below SMP, each a one-line error with the
documented exit code, against ports and stand-ins made here on pseudo-terminals."""
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
