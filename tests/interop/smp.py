"""A minimal SMP client over UDP for the interop tests: enough CBOR to send a request script byte for byte the
same to a real Zephyr server and to smpctl-sim, and to read their answers. Not smpctl's codec (that is what is
under test): written from Zephyr's smp_protocol.rst and RFC 8949."""
import socket
import struct
import time

OP_READ, OP_READ_RSP, OP_WRITE, OP_WRITE_RSP = 0, 1, 2, 3
GROUP_OS, GROUP_IMG, GROUP_STAT, GROUP_SETTINGS, GROUP_FS, GROUP_SHELL, GROUP_ENUM, GROUP_ZBASIC = 0, 1, 2, 3, 8, 9, \
    10, 63


def _head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for info, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if n < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | info]) + struct.pack(fmt, n)
    raise ValueError("too large")


def cbor_encode(v):
    if v is True or v is False:
        return bytes([0xf5 if v else 0xf4])
    if v is None:
        return b"\xf6"
    if isinstance(v, int):
        return _head(0, v) if v >= 0 else _head(1, -1 - v)
    if isinstance(v, bytes):
        return _head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return _head(3, len(b)) + b
    if isinstance(v, (list, tuple)):
        return _head(4, len(v)) + b"".join(cbor_encode(x) for x in v)
    if isinstance(v, dict):
        return _head(5, len(v)) + b"".join(cbor_encode(k) + cbor_encode(x) for k, x in v.items())
    raise TypeError(type(v))


class CborError(ValueError):
    pass


def cbor_decode(data):
    v, end = _decode(memoryview(bytes(data)), 0, 0)
    if end != len(data):
        raise CborError("%d trailing bytes" % (len(data) - end))
    return v


def _arg(d, i, info):
    if info < 24:
        return info, i
    sizes = {24: 1, 25: 2, 26: 4, 27: 8}
    if info not in sizes or i + sizes[info] > len(d):
        raise CborError("bad argument")
    return int.from_bytes(d[i:i + sizes[info]], "big"), i + sizes[info]


def _decode(d, i, depth):
    if i >= len(d) or depth > 16:
        raise CborError("truncated")
    major, info = d[i] >> 5, d[i] & 31
    i += 1
    if major == 7:
        simple = {20: False, 21: True, 22: None}
        if info in simple:
            return simple[info], i
        if info in (25, 26, 27):
            n = {25: 2, 26: 4, 27: 8}[info]
            fmt = {2: ">e", 4: ">f", 8: ">d"}[n]
            return struct.unpack(fmt, d[i:i + n])[0], i + n
        raise CborError("simple %d" % info)
    if info == 31 and major in (2, 3, 4, 5):
        return _indefinite(d, i, major, depth)
    n, i = _arg(d, i, info)
    if major == 0:
        return n, i
    if major == 1:
        return -1 - n, i
    if major in (2, 3):
        if i + n > len(d):
            raise CborError("truncated string")
        s = bytes(d[i:i + n])
        return (s if major == 2 else s.decode()), i + n
    if major == 4:
        out = []
        for _ in range(n):
            v, i = _decode(d, i, depth + 1)
            out.append(v)
        return out, i
    if major == 5:
        out = {}
        for _ in range(n):
            k, i = _decode(d, i, depth + 1)
            out[k], i = _decode(d, i, depth + 1)
        return out, i
    return _decode(d, i, depth + 1)  # a tag: its value


def _indefinite(d, i, major, depth):
    out = [] if major == 4 else {} if major == 5 else b""
    while True:
        if i >= len(d):
            raise CborError("truncated")
        if d[i] == 0xff:
            return (out.decode() if major == 3 else out), i + 1
        if major == 4:
            v, i = _decode(d, i, depth + 1)
            out.append(v)
        elif major == 5:
            k, i = _decode(d, i, depth + 1)
            out[k], i = _decode(d, i, depth + 1)
        else:
            v, i = _decode(d, i, depth + 1)
            out += v.encode() if isinstance(v, str) else v


def frame(op, group, command, body, seq, version=1, flags=0):
    payload = cbor_encode(body)
    return struct.pack(">BBHHBB", (version & 3) << 3 | op, flags, len(payload), group, seq, command) + payload


class Answer:
    def __init__(self, data):
        if len(data) < 8:
            raise CborError("short frame")
        b0, self.flags, length, self.group, self.seq, self.command = struct.unpack(">BBHHBB", data[:8])
        self.op, self.version = b0 & 7, (b0 >> 3) & 3
        self.body = cbor_decode(data[8:8 + length])

    def __repr__(self):
        return "Answer(op=%d group=%d id=%d %r)" % (self.op, self.group, self.command, self.body)


class Client:
    """One UDP socket; request() sends a frame and returns the answer with its sequence number, or None."""

    def __init__(self, port, host="127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect((host, port))
        self.seq = 0

    def close(self):
        self.sock.close()

    def send(self, op, group, command, body, version=1):
        self.seq = (self.seq + 1) & 0xff
        self.sock.send(frame(op, group, command, body, self.seq, version))
        return self.seq

    def receive(self, seq, timeout):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except (socket.timeout, ConnectionRefusedError):
                if time.monotonic() >= deadline:
                    return None
                time.sleep(min(0.02, max(0, deadline - time.monotonic())))
                continue
            answer = Answer(data)
            if answer.seq == seq:
                return answer

    def request(self, op, group, command, body, timeout=2.0, version=1):
        return self.receive(self.send(op, group, command, body, version), timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def echo_answers(port, timeout=0.2):
    with Client(port) as c:
        try:
            a = c.request(OP_WRITE, GROUP_OS, 0, {"d": "ping"}, timeout)
        except (OSError, CborError):
            return False
        return a is not None and a.body.get("r") == "ping"
