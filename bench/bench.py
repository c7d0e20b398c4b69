#!/usr/bin/env python3
"""smpctl upload benchmark: throughput against the model's ceiling, CPU share and peak memory.

Runs real uploads of a 200 KiB signed image into the simulated nRF52833 with the flash model at real
time (and, over BLE, the BlueZ stand-in's link model), and prints for each configuration smpctl's
throughput onto a blank slot 1, the model's ceiling there (the slower of link and flash writes,
REFERENCE.md §14: the firmware, without progressive erase, erases nothing when the slot reads blank),
their ratio, the same upload onto a full slot (the first chunk erases the upload's pages and the
trailer) with its own ceiling and ratio, the blank-slot upload stop-and-wait (--window 1), smpctl's CPU
time as a share of the wall time, and its peak RSS.
BLE rows use REFERENCE.md §14's device; rows marked "Zephyr TX wait" use the stand-in's default, which
waits for each notification to be sent as Zephyr's smp_bt.c does. Buffers 2475x1 are checked, not timed:
such a device answers every request rc 2. Figures on a shared machine are noisy: compare the ratios
within one run.

Racks: N uploads at once to N devices behind one adapter, whose radio they share: the sum of smpctl's
rates and what the stand-in's radio carried (its --stats-file, in simulated time) next to the adapter's
air-time ceiling.

    bench/bench.py [--build DIR] [--quick] [--only udp|ble|airtime|rack|fs] [--links-per-adapter N]

--links-per-adapter N gives the racks' smpctl that option (its default, 7, otherwise), to see what a
controller that holds more links at once would carry.
"""
import argparse
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

PAGE, WORD_US, ERASE_MS = 4096, 41.0, 89.7
IMAGE_BYTES = 200 * 1024
# The device of REFERENCE.md §14, against which the ratios are stated: it takes the next frame once its
# response is queued. The stand-in's default is Zephyr's own behaviour (bench_ble_tx_wait).
REFERENCE_DEVICE = ["--no-tx-wait"]


def flash_ceiling(nbytes, blank=False):
    """Bytes/s the nRF52833 flash model absorbs (REFERENCE.md §14): word writes only onto a blank slot;
    onto a full one the first chunk also erases the upload's pages and the trailer page (img_mgmt
    without CONFIG_IMG_ERASE_PROGRESSIVELY)."""
    erase_pages = 0 if blank else math.ceil(nbytes / PAGE) + 1
    seconds = erase_pages * ERASE_MS / 1000 + math.ceil(nbytes / 4) * WORD_US / 1e6
    return nbytes / seconds


def full_slot_ceiling(nbytes, link=None):
    """Onto a full slot the first chunk's erase (the upload's pages and the trailer) stalls the upload;
    the rest goes at the slower of link and flash writes: the two add up, they do not overlap."""
    erase = (math.ceil(nbytes / PAGE) + 1) * ERASE_MS / 1000
    return nbytes / (erase + nbytes / min(flash_ceiling(nbytes, blank=True), link or float("inf")))


def exchange_usec(up=251, down=0):
    """One exchange on the 2M PHY (Core Vol 6 Part B 2.1: preamble 2, access address 4, header 2, payload,
    CRC 3 bytes at 4 us each), T_IFS (150 us) after each packet: src/bluez-sim/link-model.c's arithmetic."""
    return sum((2 + 4 + 2 + n + 3) * 4 + 150 for n in (up, down))


def link_ceiling(interval_ms, packets_per_event=6, payload=244):
    """One direction of the BLE link: 6 LL packets of 244 bytes per connection event (REFERENCE.md §14), as
    many of them as the interval holds: a full exchange takes 1392 us, so 7.5 ms holds 5, not 6."""
    fit = min(packets_per_event, int(interval_ms * 1000 // exchange_usec()))
    return fit * payload / (interval_ms / 1000)


def wait_ready(path, proc, what, timeout=15):
    deadline = time.time() + timeout
    while not (os.path.exists(path) and open(path).read().strip()):
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError(what + " did not start")
        time.sleep(0.05)
    return open(path).read().split()


def measure(smpctl, args):
    """Runs smpctl once under /usr/bin/time, which reports the child's own CPU time and peak RSS (a
    child forked from this Python process would carry Python's pages into its RSS)."""
    timing = args["out"] + ".time"
    t0 = time.monotonic()
    with open(args["out"], "w") as out:
        code = subprocess.call(["/usr/bin/time", "-o", timing, "-f", "%M %U %S", smpctl, "--json"] + args["argv"],
                               stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    wall = time.monotonic() - t0
    rss_kib, user, system = open(timing).read().split()[-3:]
    lines = [l for l in open(args["out"]).read().splitlines() if l.startswith("{")]
    result = json.loads(lines[-1]) if lines else {}
    return {
        "wall": wall,
        "cpu": float(user) + float(system),
        "rss_kib": int(rss_kib),
        "ok": code == 0 and result.get("ok", False),
        "result": result,
    }


class Sim:
    """smpctl-sim on loopback with the flash model in real time."""

    def __init__(self, build, *options):
        self.dir = tempfile.TemporaryDirectory(prefix="smpctl-bench-")
        ready = os.path.join(self.dir.name, "ready")
        self.proc = subprocess.Popen([os.path.join(build, "src/sim/smpctl-sim"), "--listen", "127.0.0.1:0",
                                      "--ready-file", ready, "--time-scale", "1"] + list(options),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.address = "udp:127.0.0.1:" + wait_ready(ready, self.proc, "smpctl-sim")[0]

    def close(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)
        self.dir.cleanup()


class BluezSim:
    """A private dbus-daemon with smpctl-bluez-sim on it, the link and flash models in real time."""

    def __init__(self, build, *options):
        self.dir = tempfile.TemporaryDirectory(prefix="smpctl-bench-ble-")
        conf = os.path.join(ROOT, "tests", "integration", "bus.conf")
        self.bus = subprocess.Popen(["dbus-daemon", "--config-file", conf, "--nofork", "--print-address=1",
                                     "--address", "unix:path=" + os.path.join(self.dir.name, "bus")],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus.stdout.readline().strip())
        ready = os.path.join(self.dir.name, "ready")
        self.proc = subprocess.Popen([os.path.join(build, "src/bluez-sim/smpctl-bluez-sim"), "--ready-file", ready,
                                      "--time-scale", "1"] + list(options), env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_ready(ready, self.proc, "smpctl-bluez-sim")
        self.address = "ble:C0:FF:EE:00:00:01"

    def close(self):
        for p in (self.proc, self.bus):
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=10)
        self.dir.cleanup()


def make_image(build, path, version="2.0.0"):
    subprocess.run([os.path.join(build, "src/tools/smpctl-mkimage"), "--output", path, "--size", str(IMAGE_BYTES),
                    "--version", version, "--key", os.path.join(ROOT, "tests/keys/ec-p256.pem")], check=True)


def other_image(image):
    """The same size, another version: an upload onto a slot holding `image` then really rewrites it (the
    same file would be recognised from its hash and answered at once)."""
    return image.replace(".signed.bin", ".other.signed.bin")


def upload(build, host, image, window=None, env=None):
    out = os.path.join(host.dir.name, "out.json")
    argv = ["--device", host.address, "image", "upload", image, "--force"] + (["--window", str(window)] if window else [])
    if env:
        os.environ.update(env)
    m = measure(os.path.join(build, "src/cli/smpctl"), {"argv": argv, "out": out})
    m["rate"] = m["result"].get("rate", 0.0) if m["ok"] else 0.0
    return m


def erase_slot(build, host):
    subprocess.run([os.path.join(build, "src/cli/smpctl"), "--device", host.address, "image", "erase"],
                   capture_output=True, env=getattr(host, "env", None))


def row(name, ceiling, piped, stop, full=None, full_ceiling=None):
    """One printed line: piped onto a blank slot against ceiling; full (onto a full slot, against
    full_ceiling) and stop (stop-and-wait onto a blank slot) are None where not measured."""
    ratio = piped["rate"] / ceiling if ceiling else 0
    full_ratio = full["rate"] / full_ceiling if full and full_ceiling else None
    cpu = piped["cpu"] / piped["wall"] if piped["wall"] else 0
    print("%-46s %7.1f %7.1f %5.0f%% %7s %7s %5s %9s %5.1f%% %5.1f" % (
        name, piped["rate"] / 1000, ceiling / 1000, 100 * ratio,
        "%.1f" % (full["rate"] / 1000) if full else "-", "%.1f" % (full_ceiling / 1000) if full else "-",
        "%.0f%%" % (100 * full_ratio) if full else "-", "%.1f" % (stop["rate"] / 1000) if stop else "-",
        100 * cpu, piped["rss_kib"] / 1024), flush=True)
    return {"config": name, "rate": piped["rate"], "ceiling": ceiling, "ratio": ratio,
            "full_slot_rate": full["rate"] if full else None, "full_slot_ceiling": full_ceiling,
            "full_slot_ratio": full_ratio, "stop_and_wait_rate": stop["rate"] if stop else None, "cpu_share": cpu,
            "rss_mib": piped["rss_kib"] / 1024,
            "ok": piped["ok"] and (stop is None or stop["ok"]) and (full is None or full["ok"])}


def blank_full_stop(build, host, image, link=None):
    """Onto the fresh device's blank slot, again onto the now full slot, then stop-and-wait after an
    erase (blank again). Returns the three measurements and the two ceilings."""
    blank_ceiling = min(flash_ceiling(IMAGE_BYTES, blank=True), link or float("inf"))
    full_ceiling = full_slot_ceiling(IMAGE_BYTES, link)
    piped = upload(build, host, image)
    full = upload(build, host, other_image(image))
    erase_slot(build, host)
    stop = upload(build, host, image, window=1)
    return piped, full, stop, blank_ceiling, full_ceiling


def bench_udp(build, image, quick):
    rows = []
    for latency in ([0] if quick else [0, 2]):
        sim = Sim(build, "--delay-ms", str(latency))
        try:
            piped, full, stop, ceiling, full_ceiling = blank_full_stop(build, sim, image)
            rows.append(row("udp, %d ms per response, 2475x4" % latency, ceiling, piped, stop, full, full_ceiling))
        finally:
            sim.close()
    return rows


def bench_ble(build, image, quick):
    rows = []
    intervals = [15] if quick else [7.5, 15, 30, 50]
    mtus = [498] if quick else [247, 498]
    # buf_count 1 cannot be measured (see single_buffer_check): 2 is the smallest device that answers.
    bufs = [(2475, 4)] if quick else [(2475, 4), (384, 4), (2475, 2)]
    for interval in intervals:
        for mtu in mtus:
            for size, count in bufs:
                host = BluezSim(build, "--conn-interval-ms", str(interval), "--mtu", str(mtu),
                                "--buf-size", str(size), "--buf-count", str(count), *REFERENCE_DEVICE)
                try:
                    os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = host.env["DBUS_SYSTEM_BUS_ADDRESS"]
                    piped, full, stop, ceiling, full_ceiling = blank_full_stop(build, host, image,
                                                                               link_ceiling(interval))
                    rows.append(row("ble %.1f ms, MTU %d, %dx%d" % (interval, mtu, size, count), ceiling, piped,
                                    stop, full, full_ceiling))
                finally:
                    host.close()
                    os.environ.pop("DBUS_SYSTEM_BUS_ADDRESS", None)
    return rows


def bench_ble_tx_wait(build, image, quick):
    """The same uploads with Zephyr's smp_bt_tx_pkt(), which waits for each notification to be sent before
    the work queue takes the next frame: the device's cycle per frame is then rounded up to connection
    events, a limit no client can lift. Measured against the same ceiling, pipelined only."""
    rows = []
    for interval in ([50] if quick else [7.5, 15, 30, 50]):
        for mtu in ([498] if quick else [247, 498]):
            host = BluezSim(build, "--conn-interval-ms", str(interval), "--mtu", str(mtu))
            try:
                os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = host.env["DBUS_SYSTEM_BUS_ADDRESS"]
                ceiling = min(flash_ceiling(IMAGE_BYTES, blank=True), link_ceiling(interval))
                full_ceiling = full_slot_ceiling(IMAGE_BYTES, link_ceiling(interval))
                piped = upload(build, host, image)
                full = upload(build, host, other_image(image))
                rows.append(row("ble %.1f ms, MTU %d, 2475x4, Zephyr TX wait" % (interval, mtu), ceiling, piped,
                                None, full, full_ceiling))
            finally:
                host.close()
                os.environ.pop("DBUS_SYSTEM_BUS_ADDRESS", None)
    return rows


def single_buffer_check(build):
    """buf_count 1: Zephyr's smp_alloc_rsp() finds the only buffer taken by the request itself, so every
    request is answered {"rc": 2} (ENOMEM) and nothing can be uploaded. Checked, not timed."""
    host = BluezSim(build, "--buf-count", "1")
    try:
        r = subprocess.run([os.path.join(build, "src/cli/smpctl"), "--device", host.address, "--json", "params"],
                           capture_output=True, text=True, env=dict(os.environ, **host.env), timeout=120)
        rc = json.loads(r.stdout or "{}").get("device_error", {}).get("rc") if r.stdout else None
        ok = r.returncode == 5 and rc == 2
        print("%-52s %s" % ("ble, 2475x1", "every request answered rc 2 (ENOMEM): a device needs >= 2 buffers"
                            if ok else "UNEXPECTED: exit %d, %s" % (r.returncode, r.stderr.strip())), flush=True)
        return [{"config": "ble, 2475x1", "rate": 0.0, "ceiling": 0.0, "ratio": 0.0, "stop_and_wait_rate": 0.0,
                 "cpu_share": 0.0, "rss_mib": 0.0, "ok": ok}]
    finally:
        host.close()


def read_stats(path):
    """The stand-in's --stats-file: hci0's 'adapter' line as a dict."""
    for line in open(path).read().splitlines():
        words = line.split()
        if words[:2] == ["adapter", "hci0"]:
            return dict(w.split("=", 1) for w in words[2:])
    return {}


def concurrent_uploads(build, host, image, devices):
    """`smpctl image upload` to each device, all started together. Returns their JSON results and the
    aggregate rate: all bytes over the span from the first upload's start (its end less its bytes over
    its rate) to the last one's end, so uploads that do not overlap fully are not counted twice."""
    env = dict(os.environ, **host.env)
    procs = [subprocess.Popen([os.path.join(build, "src/cli/smpctl"), "--device", "ble:" + d, "--json", "image",
                               "upload", image, "--force"], env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) for d in devices]
    ends = {}
    while len(ends) < len(procs):
        for i, p in enumerate(procs):
            if i not in ends and p.poll() is not None:
                ends[i] = time.monotonic()
        time.sleep(0.01)
    results = []
    for p in procs:
        lines = [l for l in p.stdout.read().splitlines() if l.startswith("{")]
        p.stdout.close()
        results.append(json.loads(lines[-1]) if p.returncode == 0 and lines else {"ok": False, "rate": 0.0})
    if not all(r.get("rate") for r in results):
        return results, 0.0
    starts = [ends[i] - IMAGE_BYTES / r["rate"] for i, r in enumerate(results)]
    return results, len(results) * IMAGE_BYTES / (max(ends.values()) - min(starts))


def bench_airtime(build, image, quick):
    """N devices behind one adapter, one upload each, all at once, onto blank slots (§14's device). Printed:
    the aggregate (see concurrent_uploads), what the radio carried over its active span (simulated time,
    connects and queries included), its busy share there, and the adapter's ceiling (MTU-sized writes in
    the whole exchanges that fit in one connection interval, the stand-in's `ceiling=`) with the
    aggregate's share of it."""
    rows = []
    print("%-46s %9s %7s %6s %9s %6s" % ("racks: N uploads through one adapter", "aggregate", "radio", "busy",
                                         "ceiling", "ratio"))
    for phy in (["2m"] if quick else ["2m", "1m"]):
        for n in ([1, 2] if quick else [1, 2, 4, 8]):
            stats = os.path.join(tempfile.gettempdir(), "smpctl-bench-stats-%d" % os.getpid())
            devices = ["C0:FF:EE:00:00:%02X" % (i + 1) for i in range(n)]
            host = BluezSim(build, "--phy", phy, "--stats-file", stats, *REFERENCE_DEVICE,
                            *[a for d in devices for a in ("--device", d)])
            try:
                results, total = concurrent_uploads(build, host, image, devices)
            finally:
                host.close()
            st = read_stats(stats)
            os.unlink(stats)
            radio, ceiling = float(st["up_bytes_per_s"]), float(st["ceiling"])
            name = "ble 15.0 ms, %s, MTU 498, %d link%s" % (phy.upper(), n, "s" if n > 1 else "")
            print("%-46s %9.1f %7.1f %5.0f%% %9.1f %5.0f%%" % (name, total / 1000, radio / 1000,
                                                             100 * float(st["busy_share"]), ceiling / 1000,
                                                             100 * total / ceiling), flush=True)
            rows.append({"config": name, "rate": total, "radio_rate": radio, "ceiling": ceiling,
                         "ratio": total / ceiling, "busy_share": float(st["busy_share"]),
                         "ok": all(r.get("ok", False) for r in results)})
    return rows


def read_all_stats(path):
    """Every adapter's line of the stand-in's --stats-file, by adapter name."""
    out = {}
    for line in open(path).read().splitlines():
        words = line.split()
        if len(words) > 2 and words[0] == "adapter":
            out[words[1]] = dict(w.split("=", 1) for w in words[2:])
    return out


def rack_upload(build, host, image, addresses, devices_file, links=None):
    """One smpctl process uploading to every device of devices_file (a rack), under /usr/bin/time.
    Each device's result line is timestamped as it arrives; its upload started its bytes over its rate
    before that. Returns the results, the aggregate rate over the span, and the process's CPU and RSS."""
    with open(devices_file, "w") as f:
        f.write("".join("%s\n" % a for a in addresses))
    timing = devices_file + ".time"
    env = dict(os.environ, **host.env)
    proc = subprocess.Popen(["/usr/bin/time", "-o", timing, "-f", "%M %U %S", os.path.join(build, "src/cli/smpctl"),
                             "--json", "--devices", devices_file]
                            + (["--links-per-adapter", str(links)] if links else [])
                            + ["image", "upload", image, "--force"], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    t0 = time.monotonic()
    ends, results = {}, {}
    for line in proc.stdout:
        if not line.startswith("{"):
            continue
        obj = json.loads(line)
        if obj.get("type") == "result":
            ends[obj["device"]] = time.monotonic()
            results[obj["device"]] = obj
    proc.wait()
    wall = time.monotonic() - t0
    rss_kib, user, system = open(timing).read().split()[-3:]
    ok = proc.returncode == 0 and len(results) == len(addresses) and all(r.get("ok") for r in results.values())
    if not ok:
        return False, 0.0, 0.0, 0
    starts = [ends[d] - r["bytes"] / r["rate"] for d, r in results.items()]
    total = sum(r["bytes"] for r in results.values()) / (max(ends.values()) - min(starts))
    return True, total, (float(user) + float(system)) / wall, int(rss_kib)


def bench_rack(build, image, quick, links=None):
    """A rack: N devices updated by ONE smpctl process (--devices), through one adapter and through two
    (devices alternate, ble:hciN/ADDR), onto blank slots (§14's device, 15 ms, 2M PHY). Printed: the
    aggregate over the span of the uploads, N x the single-device figure, the adapters' air-time ceiling
    (sum of the stand-in's per-adapter ceilings), the goal (0.9 x N x single until the air time
    saturates, then 0.9 x the ceiling) and the aggregate's share of it, and the one process's CPU share
    and peak RSS. At most 7 links per adapter run at once (smpctl(1) RACKS): 16 devices through one
    adapter go in turns."""
    rows, single = [], None
    title = "racks: one process, N devices" + (", %d links" % links if links else "")
    print("%-46s %9s %7s %9s %7s %6s %6s %6s" % (title, "aggregate", "N x 1",
                                                 "ceiling", "goal", "ratio", "cpu", "MiB"))
    for adapters in (1, 2):
        for n in ([1, 2, 4] if quick else [1, 2, 4, 8, 16]):
            if adapters > n:
                continue
            stats = os.path.join(tempfile.gettempdir(), "smpctl-bench-rack-stats-%d" % os.getpid())
            devices = ["C0:FF:EE:00:%02X:%02X" % (i // 256, i % 256 + 1) for i in range(n)]
            host = BluezSim(build, "--adapters", str(adapters), "--stats-file", stats, *REFERENCE_DEVICE,
                            *[a for d in devices for a in ("--device", d)])
            try:
                addresses = ["ble:hci%d/%s" % (i % adapters, d) for i, d in enumerate(devices)]
                ok, total, cpu, rss = rack_upload(build, host, image, addresses, stats + ".devices", links)
            finally:
                host.close()
            st = read_all_stats(stats)
            os.unlink(stats)
            ceiling = sum(float(a["ceiling"]) for name, a in st.items() if int(name[3:]) < adapters)
            if adapters == 1 and n == 1:
                single = total
            goal = min(0.9 * n * single, 0.9 * ceiling) if single else 0.0
            name = "ble 15.0 ms, 2M, %d device%s, %d adapter%s" % (n, "s" if n > 1 else "", adapters,
                                                                  "s" if adapters > 1 else "")
            print("%-46s %9.1f %7.1f %9.1f %7.1f %5.0f%% %5.1f%% %6.1f" % (
                name, total / 1000, n * (single or 0) / 1000, ceiling / 1000, goal / 1000,
                100 * total / goal if goal else 0, 100 * cpu, rss / 1024), flush=True)
            rows.append({"config": name, "rate": total, "ceiling": ceiling, "goal": goal,
                         "ratio": total / goal if goal else 0, "cpu_share": cpu, "rss_mib": rss / 1024, "ok": ok})
    return rows


def bench_fs(build, quick):
    """fs upload and fs download of a 60 KiB file (the model's CONFIG_MCUMGR_GRP_FS_MAX_FILE_SIZE_64KB
    bound) over the BLE model in real time, each next to its own ceiling: the upload's is the slower of
    the link (one direction) and the simulated file system's writes (the flash word writes of REFERENCE.md
    §14, 41 us per 4 bytes: 97.6 kB/s); the download's is the link. Both with §14's device."""
    rows = []
    size = 60 * 1024
    print("%-46s %7s %7s %6s" % ("fs over BLE (60 KiB file)", "kB/s", "ceiling", "ratio"))
    with tempfile.TemporaryDirectory() as tmp:
        local = os.path.join(tmp, "data.bin")
        with open(local, "wb") as f:
            f.write(os.urandom(size))
        for interval in ([15] if quick else [7.5, 15, 30]):
            host = BluezSim(build, "--conn-interval-ms", str(interval), "--fs-sha256", *REFERENCE_DEVICE)
            smpctl = os.path.join(build, "src/cli/smpctl")
            try:
                link = link_ceiling(interval)
                for name, argv, ceiling in (
                        ("upload", ["fs", "upload", local, "/lfs1/data.bin", "--force"],
                         min(link, 4 / (WORD_US / 1e6))),
                        ("download", ["fs", "download", "/lfs1/data.bin", os.path.join(tmp, "back.bin")], link)):
                    out = subprocess.run([smpctl, "--json", "--device", host.address] + argv, env=host.env,
                                         capture_output=True, text=True, stdin=subprocess.DEVNULL)
                    lines = [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]
                    result = lines[-1] if lines else {}
                    ok = out.returncode == 0 and result.get("ok", False) and result.get("seconds")
                    rate = size / result["seconds"] if ok else 0.0
                    label = "ble %.1f ms, MTU 498, fs %s" % (interval, name)
                    print("%-46s %7.1f %7.1f %5.0f%%" % (label, rate / 1000, ceiling / 1000, 100 * rate / ceiling),
                          flush=True)
                    rows.append({"config": label, "rate": rate, "ceiling": ceiling, "ratio": rate / ceiling,
                                 "ok": bool(ok)})
            finally:
                host.close()
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--quick", action="store_true", help="one configuration per transport")
    ap.add_argument("--only", choices=["udp", "ble", "airtime", "rack", "fs"])
    ap.add_argument("--json", help="also write the rows to this file")
    ap.add_argument("--links-per-adapter", type=int, help="racks: smpctl's --links-per-adapter (default: its own, 7)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        image = os.path.join(tmp, "bench.signed.bin")
        make_image(args.build, image)
        make_image(args.build, other_image(image), "2.0.1")
        print("%-46s %7s %7s %6s %7s %7s %5s %9s %6s %5s" % ("configuration (blank slot | full slot)", "kB/s",
                                                              "ceiling", "ratio", "full", "ceiling", "ratio",
                                                              "stop&wait", "cpu", "MiB"))
        rows = []
        if args.only in (None, "udp"):
            rows += bench_udp(args.build, image, args.quick)
        if args.only in (None, "ble"):
            rows += bench_ble(args.build, image, args.quick)
            rows += bench_ble_tx_wait(args.build, image, args.quick)
            if not args.quick:
                rows += single_buffer_check(args.build)
        if args.only in (None, "airtime"):
            rows += bench_airtime(args.build, image, args.quick)
        if args.only in (None, "rack"):
            rows += bench_rack(args.build, image, args.quick, args.links_per_adapter)
        if args.only in (None, "fs"):
            rows += bench_fs(args.build, args.quick)
    if args.json:
        json.dump(rows, open(args.json, "w"), indent=1)
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
