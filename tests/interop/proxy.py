"""A UDP relay between smpctl and a fixture that can lose, hold or act on chosen datagrams.

smpctl talks to udp:127.0.0.1:<relay port>; the relay forwards every request to the fixture's port and
every answer back. `on_request(chunk, frame)` runs in the relay's thread for each request before it is
forwarded, and returns True to lose it, or other bytes to forward in its place (a frame damaged on the
way); `on_answer(chunk, frame)` does the same for answers. `chunk` is
the 1-based number of the image upload chunk the frame is or answers (by sequence number), 0 for any
other request. The callbacks may block (to pause or restart the fixture at an exact point of an upload).
"""
import select
import socket
import struct
import threading

import smp


def upload_offset(frame):
    """The "off" of an image upload request (group 1, command 1), or None."""
    if len(frame) < 8:
        return None
    _, _, length, group, _, command = struct.unpack(">BBHHBB", frame[:8])
    if group != smp.GROUP_IMG or command != 1:
        return None
    try:
        return smp.cbor_decode(frame[8:8 + length]).get("off")
    except smp.CborError:
        return None


class Relay:
    def __init__(self, target_port, on_request=None, on_answer=None):
        self.target = ("127.0.0.1", target_port)
        self.on_request = on_request or (lambda c, f: False)
        self.on_answer = on_answer or (lambda c, f: False)
        self.chunk_of_seq = {}
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(("127.0.0.1", 0))
        self.back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.back.bind(("127.0.0.1", 0))
        self.port = self.front.getsockname()[1]
        self.address = "udp:127.0.0.1:%d" % self.port
        self.client = None
        self.requests = []      # every request frame, in order (lost ones included)
        self.lost = []          # ("request" | "answer", chunk)
        self.chunks = 0
        self.stop_r, self.stop_w = socket.socketpair()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def offsets(self):
        return [o for o in (upload_offset(f) for f in self.requests) if o is not None]

    def _loop(self):
        while True:
            ready, _, _ = select.select([self.front, self.back, self.stop_r], [], [])
            if self.stop_r in ready:
                return
            if self.front in ready:
                data, self.client = self.front.recvfrom(65536)
                self.requests.append(data)
                chunk = 0
                if upload_offset(data) is not None:
                    self.chunks += 1
                    chunk = self.chunks
                if len(data) >= 8:
                    self.chunk_of_seq[data[6]] = chunk
                verdict = self.on_request(chunk, data)
                if verdict is True:
                    self.lost.append(("request", chunk))
                else:
                    self.back.sendto(verdict or data, self.target)
            if self.back in ready:
                try:
                    data = self.back.recv(65536)
                except ConnectionRefusedError:  # the fixture was restarting: a lost datagram
                    continue
                chunk = self.chunk_of_seq.get(data[6], 0) if len(data) >= 8 else 0
                verdict = self.on_answer(chunk, data)
                if verdict is True:
                    self.lost.append(("answer", chunk))
                elif self.client:
                    self.front.sendto(verdict or data, self.client)

    def close(self):
        self.stop_w.send(b"x")
        self.thread.join(timeout=10)
        for s in (self.front, self.back, self.stop_r, self.stop_w):
            s.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
