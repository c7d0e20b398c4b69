"""Hostile devices beyond the parsers (issue 19): an fs download that claims a huge length, an image list
with hundreds of entries, a device that floods the client with datagrams and never stops. Each must end
with bounded memory and a clear error (or a clear result). The device here is a small UDP responder of
the test's own, not smpctl-sim: no Zephyr server behaves like this, a broken or malicious one may; the
notification flood comes from the BlueZ stand-in's --flood-notify."""
import os
import resource
import socket
import struct
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
from harness import *  # noqa: E402,F403


def cbor(v):
    """The few CBOR shapes the answers need (RFC 8949): maps, arrays, text, bytes, unsigned, bool."""
    def head(major, n):
        if n < 24:
            return bytes([major << 5 | n])
        for ai, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
            if n < 1 << (8 * size):
                return bytes([major << 5 | ai]) + n.to_bytes(size, "big")
    if isinstance(v, bool):
        return b"\xf5" if v else b"\xf4"
    if isinstance(v, int):
        return head(0, v)
    if isinstance(v, bytes):
        return head(2, len(v)) + v
    if isinstance(v, str):
        return head(3, len(v.encode())) + v.encode()
    if isinstance(v, list):
        return head(4, len(v)) + b"".join(cbor(x) for x in v)
    return head(5, len(v)) + b"".join(cbor(k) + cbor(x) for k, x in v.items())


class Hostile:
    """Answers SMP requests over UDP with what answer(group, id, body) returns (a body, or None); flood:
    after every answer, that many further datagrams (stale copies of it) follow at once."""

    def __init__(self, answer, flood=0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.address = "udp:127.0.0.1:%d" % self.sock.getsockname()[1]
        self.answer, self.flood, self.stop = answer, flood, False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stop:
            try:
                req, peer = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            op, flags, _, group, seq, cid = struct.unpack(">BBHHBB", req[:8])
            body = self.answer(group, cid, req[8:])
            if body is None:
                continue
            frame = struct.pack(">BBHHBB", (op & 0x18) | ((op & 7) + 1), flags, len(body), group, seq, cid) + body
            for _ in range(1 + self.flood):
                self.sock.sendto(frame, peer)

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


def peak_rss_mib():
    """The largest resident set of any child process so far (ru_maxrss: KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def image_entry(slot):
    return {"image": slot // 2, "slot": slot % 2, "version": "1.0.%d" % slot, "hash": bytes([slot % 256]) * 32,
            "bootable": True, "pending": False, "confirmed": slot == 0, "active": slot == 0, "permanent": False}


class HostileDevices(unittest.TestCase):
    def device(self, answer, flood=0):
        h = Hostile(answer, flood)
        self.addCleanup(h.close)
        return h

    def test_fs_download_of_a_huge_claimed_length(self):
        """The first chunk claims 2^40 bytes: refused before any allocation, in one line, no file left."""
        def answer(group, cid, body):
            if group == 8 and cid == 0:
                return cbor({"off": 0, "len": 1 << 40, "data": b"x" * 256})
            return cbor({"rc": 8})
        h = self.device(answer)
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, "out")
            r = run(["--timeout", "2", "fs", "download", "/lfs1/big", local], device=h.address, timeout=60)
            self.assertEqual(r.code, EXIT_FAILURE, r)
            self.assertIn("larger than smpctl takes (64 MiB)", r.err)
            self.assertEqual(len(r.err.strip().splitlines()), 1, r)
            self.assertFalse(os.path.exists(local))
        self.assertLess(peak_rss_mib(), 64)

    def test_image_list_with_hundreds_of_entries(self):
        """8 slots (4 images of 2, MGMT_MAX_IMAGES) are listed. 9, 200 (decoded, then counted) and 300 (over
        4096 CBOR items, SMP_CBOR_MAX_ITEMS: counted from the array's head): refused in one line that names
        the count and the limit, not as malformed; exit 6. Memory stays small throughout."""
        for count in (8, 9, 200, 300):
            entries = [image_entry(i) for i in range(count)]

            def answer(group, cid, body):
                return cbor({"images": entries}) if (group, cid) == (1, 0) else cbor({"rc": 8})
            h = self.device(answer)
            r = run(["--timeout", "2", "--json", "image", "list"], device=h.address, timeout=60)
            if count == 8:
                self.assertEqual(r.code, 0, r)
                self.assertEqual([i["version"] for i in r.json()["images"]], ["1.0.%d+0" % i for i in range(8)])
                continue
            self.assertEqual(r.code, EXIT_PROTOCOL, (count, r))
            self.assertEqual(len(r.err.strip().splitlines()), 1, r)
            self.assertIn("reported %d image slots; smpctl handles at most 8" % count, r.err)
            self.assertNotIn("malformed", r.err)
        self.assertLess(peak_rss_mib(), 64)

    def test_a_device_that_never_stops_sending(self):
        """Every answer comes 200 times over (stale duplicates flooding the socket): the command still ends,
        with its answer, within its timeouts."""
        def answer(group, cid, body):
            if group == 0 and cid == 0:
                return cbor({"r": "hello"})
            return cbor({"rc": 8})
        h = self.device(answer, flood=200)
        started = time.time()
        for _ in range(5):
            r = run(["--timeout", "2", "echo", "hello"], device=h.address, timeout=60)
            self.assertEqual(r.code, 0, r)
            self.assertEqual(r.out.strip(), "hello")
        self.assertLess(time.time() - started, 30)
        self.assertLess(peak_rss_mib(), 64)

    def test_a_notification_flood(self):
        """Over BLE, every notification 200 times over (smpctl-bluez-sim --flood-notify): the repeats are
        stale duplicates of an answer already taken, so commands complete; an upload completes too, or,
        when the flood fills the notification socket and a fresh answer is dropped behind stale ones, ends
        with the timeout's one line. Bounded time and memory either way."""
        with tempfile.TemporaryDirectory() as tmp:
            image = mkimage(os.path.join(tmp, "app.bin"), "--size", "30000", "--version", "2.0.0")
            with BluezSim("--flood-notify", "200") as b:
                started = time.time()
                for args in (["echo", "hello"], ["--json", "image", "list"]):
                    r = b.run(["--timeout", "2"] + args, timeout=120)
                    self.assertEqual(r.code, 0, (args, r))
                r = b.run(["--timeout", "2", "upload", image], timeout=120)
                self.assertIn(r.code, (0, EXIT_TIMEOUT), r)
                if r.code:
                    self.assertEqual(len(r.err.strip().splitlines()), 1, r)
                    self.assertIn("did not answer in time", r.err)
                self.assertLess(time.time() - started, 60)
        self.assertLess(peak_rss_mib(), 64)


if __name__ == "__main__":
    main()
