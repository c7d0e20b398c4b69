#!/usr/bin/env python3
"""smpctl serial upload benchmark: throughput against the ceiling, per baud rate and framing.

Uploads a 200 KiB signed image onto a blank slot 1 of the simulated nRF52833 over its serial port
(`smpctl-sim --serial`, a pty with the UART timing model of src/sim/sim-serial-host.h, in real time:
bytes reach the device at most at the baud rate, 2 receive buffers of 128 bytes, 0.5 ms to decode a
line) at 115200, 921600 and 1000000 baud in each framing, and prints smpctl's throughput next to the
ceiling, the least of:
- the line: baud / 10 bytes/s (8N1) times the framing's payload share, the image bytes of one upload
  frame over the bytes that frame takes on the wire (console: base64 lines of at most 127 bytes with a
  2-byte marker and a newline, around length + frame + CRC; raw: the frame; COBS: frame + CRC, one code
  byte per 254, the delimiter);
- the server: console lines are taken by `rxbufs` buffers, each held from its first byte until the
  work item has decoded it (wire time + decode time), decoded one at a time: payload per line times
  min(rxbufs / (wire + decode), 1 / decode). Raw and COBS have no line buffers in the model: no bound;
- the flash: word writes onto a blank slot, REFERENCE.md §14 (⌈n / 4⌉ × 41 µs).
Beside it smpmgr and mcumgr, run the same way when installed ("not installed" otherwise; mcumgr knows
only the console framing). Figures on a shared machine are noisy.

    bench/serial.py [--build DIR] [--size BYTES] [--only console|raw|cobs]
"""
import argparse
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench import ROOT, flash_ceiling, measure, wait_ready  # noqa: E402

BAUDS = (115200, 921600, 1000000)
FRAMINGS = ("console", "raw", "cobs")
LINE, RXBUFS, DECODE_US = 127, 2, 500  # smpctl's line (newline included); the sim's defaults
SIM_LINE = 128                         # the sim's receive buffer: the line and its newline
# An upload chunk's SMP frame besides its data: header 8, map 1, "off" 4 + uint32 5, "data" 5 + bstr head 3.
CHUNK_OVERHEAD = 26


def wire_bytes(framing, frame):
    """Bytes one SMP frame of `frame` bytes takes on the wire."""
    if framing == "raw":
        return frame
    if framing == "cobs":
        return frame + 2 + math.ceil((frame + 2) / 254) + 1
    stream = 2 + frame + 2
    per_line = (LINE - 3) // 4 * 3  # raw bytes one line's base64 holds (93: 124 characters)
    full, rest = divmod(stream, per_line)
    lines = full + (1 if rest else 0)
    return full * (LINE - 3) + 4 * math.ceil(rest / 3) + 3 * lines  # each line padded alone; marker, newline


def line_ceiling(baud, framing, frame):
    return baud / 10 * (frame - CHUNK_OVERHEAD) / wire_bytes(framing, frame)


def server_ceiling(baud, framing, frame):
    """The UART model's receive side (console only): None where it sets no bound."""
    if framing != "console":
        return None
    wire = SIM_LINE * 10 / baud
    decode = DECODE_US / 1e6
    lines_per_s = min(RXBUFS / (wire + decode), 1 / decode)
    share = (frame - CHUNK_OVERHEAD) / wire_bytes(framing, frame)
    return lines_per_s * SIM_LINE * share


class SerialSim:
    def __init__(self, build, baud, framing):
        self.dir = tempfile.TemporaryDirectory(prefix="smpctl-bench-serial-")
        ready = os.path.join(self.dir.name, "ready")
        self.proc = subprocess.Popen([os.path.join(build, "src/sim/smpctl-sim"), "--serial", "auto", "--baud",
                                      str(baud), "--framing", framing, "--ready-file", ready, "--time-scale", "1"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.path = wait_ready(ready, self.proc, "smpctl-sim")[0]

    def close(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)
        self.dir.cleanup()


def peer_command(name, path, baud, image):
    if name == "mcumgr":
        return ["mcumgr", "--conntype", "serial", "--connstring", "dev=%s,baud=%d" % (path, baud), "image", "upload",
                image]
    return ["smpmgr", "--port", path, "--baudrate", str(baud), "upgrade", image]


def peer_rate(name, build, baud, framing, image):
    if not shutil.which(name):
        return "not installed"
    if framing != "console":
        return "no %s framing" % framing
    sim = SerialSim(build, baud, framing)
    try:
        t0 = time.monotonic()
        code = subprocess.call(peer_command(name, sim.path, baud, image), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, timeout=600)
        seconds = time.monotonic() - t0
    finally:
        sim.close()
    return "%.1f kB/s" % (os.path.getsize(image) / seconds / 1000) if code == 0 else "failed (exit %d)" % code


def smpctl_run(build, baud, framing, image, tmp):
    sim = SerialSim(build, baud, framing)
    try:
        address = "serial:%s,baud=%d,framing=%s" % (sim.path, baud, framing)
        run = measure(os.path.join(build, "src/cli/smpctl"),
                      {"out": os.path.join(tmp, "out"), "argv": ["-d", address, "image", "upload", image]})
    finally:
        sim.close()
    if not run["ok"]:
        raise RuntimeError("upload failed at %d baud, %s: %s" % (baud, framing, open(os.path.join(tmp, "out")).read()))
    return run["result"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--size", type=int, default=200 * 1024)
    ap.add_argument("--only", choices=FRAMINGS)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="smpctl-bench-serial-img-") as tmp:
        image = os.path.join(tmp, "app.signed.bin")
        subprocess.run([os.path.join(args.build, "src/tools/smpctl-mkimage"), "--output", image, "--size",
                        str(args.size), "--version", "2.0.0", "--key", os.path.join(ROOT, "tests/keys/ec-p256.pem")],
                       check=True)
        print("| baud | framing | smpctl | ceiling | ratio | smpmgr | mcumgr |")
        print("|---|---|---|---|---|---|---|")
        for baud in BAUDS:
            for framing in (args.only,) if args.only else FRAMINGS:
                result = smpctl_run(args.build, baud, framing, image, tmp)
                frame = result["frame_size"]
                bounds = {"line": line_ceiling(baud, framing, frame), "flash": flash_ceiling(args.size, blank=True)}
                server = server_ceiling(baud, framing, frame)
                if server is not None:
                    bounds["server"] = server
                which = min(bounds, key=bounds.get)
                ceiling = bounds[which]
                print("| %d | %s | %.1f kB/s | %.1f (%s) | %.0f %% | %s | %s |" % (
                    baud, framing, result["rate"] / 1000, ceiling / 1000, which, 100 * result["rate"] / ceiling,
                    peer_rate("smpmgr", args.build, baud, framing, image),
                    peer_rate("mcumgr", args.build, baud, framing, image)), flush=True)


if __name__ == "__main__":
    main()
