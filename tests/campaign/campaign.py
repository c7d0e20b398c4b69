#!/usr/bin/env python3
"""Fault campaign (issue 19): seeded `smpctl dfu` runs against the simulated device, each with faults.

Every seed draws a transport (udp: smpctl-sim, or ble: the BlueZ stand-in on a private bus), one or two
faults from the knobs the simulators have, and sometimes a signal that kills smpctl at a random moment.
The device runs at time scale 0. After the faulty run the simulator is told the faults are over
(SIGUSR1: the device keeps its state) and the invariants are checked:

  exit      smpctl exited 0 or with a code of smpctl(1) EXIT STATUS that fits what happened (130 after
            SIGINT/SIGTERM), and a failure said so in one line on stderr (warnings aside);
  bound     the run took no longer than the documented waits its faults can cost (bound() below);
  state     read with a second smpctl (`image list --json`): a slot runs, holding the factory image or
            the file's; no slot is pending or confirmed with a hash other than those two (never a mixed
            or unverified image marked for boot);
  rerun     smpctl dfu again, without faults, completes the update (exit 0, the file's image runs,
            confirmed) — or, on a device whose new image crashes, exits 9 with the factory image running.

Output: a table of fault kind x outcome with counts, then every violation with its seed;
`--seed N` replays one seed, verbosely. Exit status: 0 when every run held every invariant.
"""
import argparse
import collections
import concurrent.futures
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402
from harness import BluezSim, Sim, SIM_ADDRESS, key, mkimage  # noqa: E402

TIMEOUT = 1.0          # --timeout: per request
TRIES = 3              # --tries (smpctl's default)
RESET_TIMEOUT = 15.0   # --reset-timeout: the device coming back, and reconnecting after a lost link
FIRST_CHUNK = 40.0     # the first upload chunk waits max(--timeout, 40 s): the device may erase first
CONNECT = 30.0         # connecting over BLE waits max(30 s, --timeout)
SLACK = 5.0            # smpctl's own work, process start-up, a loaded machine
NOTIFY_WAIT = 3.0      # AcquireNotify that never answers (BlueZ 5.66) is given up after 3 s, per connection
GATT_RETRIES = 8.0     # a refused StartNotify: a new Connect after a pause, up to 6 tries (about 8 s in all)
CONNECTIONS = 4        # a BLE dfu connects at most this often without link faults: before, after the reset,
                       # and the two image lists the checks run
IMAGE_SIZE = 100 * 1024
CHUNKS = IMAGE_SIZE // 2000 + 2   # frames of ~2475 bytes (BLE: MTU-sized writes, same SMP frames)
REQUESTS = CHUNKS + 12            # upload chunks plus list, params, test, reset, list, confirm, retries

# Exit codes that a fault may rightly cause (smpctl(1) EXIT STATUS): not 2 (usage) nor 8 (image file),
# which no device fault can explain, nor 75 (the device lock: runs never overlap here).
DOCUMENTED = {0: "ok", 1: "failure", 3: "transport", 4: "timeout", 5: "device", 6: "protocol", 7: "verify",
              9: "reverted", 130: "interrupted"}


def n(r, lo, hi):
    return str(r.randint(lo, hi))


# Fault kind -> (simulator options for this draw, answers it may cost: each costs at most TRIES x TIMEOUT,
# or the first chunk's wait; "link": it may drop the link, costing a reconnect window; a float: seconds).
def slow_erase(r):
    """The first chunk's erase: mostly within the first chunk's wait, sometimes past it. Then the client
    sends the first chunk again; the frames sent behind the first may hold every buffer, so that one is
    dropped and the third try, one more wait later, is answered with the device's offset."""
    ms = r.choice([300, 1500, 5000] * 3 + [FIRST_CHUNK * 1000 + 4000])
    return ["--slow-erase", str(int(ms))], ms / 1000.0 + (FIRST_CHUNK if ms > FIRST_CHUNK * 1000 else 0.0)


def udp_faults(r, seed):
    every = r.randint(4, 40)
    return {
        "drop-request": (["--drop-every", str(every)], REQUESTS // every + 1),
        "delay-answer": (["--delay-ms", str(r.choice([30, 300, 1500]))], REQUESTS),
        "malformed-cbor": (["--corrupt-response", n(r, 1, 60)], 1),
        "wrong-seq": (["--wrong-seq", n(r, 1, 60)], 1),
        "lose-upload-answer": (["--lose-answer", "1:1:" + n(r, 2, CHUNKS)], 1),
        "lose-state-answer": (["--lose-answer", "1:0:" + n(r, 1, 4)], 1),
        "lose-reset-answer": (["--lose-reset-answer"], 1),
        "duplicate-datagram": (["--duplicate-answer", str(every)], REQUESTS // every + 1),
        "reorder-datagram": (["--reorder-answer", n(r, 1, 60)], 1),
        "truncated-frame": (["--truncate-answer", n(r, 1, 60)], 1),
        "random-rc": (["--random-rc", "%d:%d" % (seed, r.choice([10, 30, 80]))], REQUESTS),
        "power-loss-in-swap": (["--power-loss-in-swap"], 0),
        "reboot-mid-upload": (["--reboot-at-byte", n(r, 1, IMAGE_SIZE)], 2),
        "new-image-crashes": (["--new-image-crashes"], 0),
        "slow-erase": slow_erase(r),
    }


def ble_faults(r, seed):
    every = r.randint(5, 40)
    return {
        "link-loss-at-byte": (["--disconnect-after-bytes", n(r, 1, IMAGE_SIZE + 2000)], "link"),
        "link-loss-random": (["--disconnect-random", str(seed)], "link"),
        "drop-notify": (["--drop-notify", str(every)], REQUESTS // every + 1),
        "delay-notify": (["--delay-notify-ms", str(r.choice([30, 300, 1500]))], REQUESTS),
        "connect-failures": (["--connect-failures", str(r.choice([0.3, 0.6])), "--seed", str(seed)], "link"),
        "lose-reset-answer": (["--lose-reset-answer"], 1),
        "power-loss-in-swap": (["--power-loss-in-swap"], 0),
        "new-image-crashes": (["--new-image-crashes"], 0),
        "slow-erase": slow_erase(r),
        "flood-notify": (["--flood-notify", str(r.choice([1, 3, 20]))], 1),
        "acquire-notify-hangs": (["--acquire-notify-hangs"], NOTIFY_WAIT * CONNECTIONS),
        "acquire-write-fails": (["--acquire-write-fails"], 0),
        "gatt-errors": (["--gatt-errors", str(r.choice([0.1, 0.3])), "--seed", str(seed)], GATT_RETRIES * CONNECTIONS),
        # writes through WriteValue (AcquireWrite refused), one of which BlueZ fails: its bytes are lost
        "write-value-fails": (["--acquire-write-fails", "--write-value-fails", n(r, 1, IMAGE_SIZE // 495 + 20)], "link"),
    }


KILLS = ("SIGINT", "SIGTERM", "SIGKILL")


class Plan:
    """What one seed does: drawn from random.Random(seed) alone, so that --seed N replays it."""

    def __init__(self, seed):
        r = random.Random(seed)
        self.seed = seed
        self.transport = r.choice(("udp", "ble"))
        table = udp_faults(r, seed) if self.transport == "udp" else ble_faults(r, seed)
        kinds = sorted(table)
        self.kinds = r.sample(kinds, r.choice((1, 1, 2)))
        self.kill = r.choice(KILLS) if r.random() < 0.25 else None
        self.kill_after = r.uniform(0.05, 1.4)
        self.options = [o for k in self.kinds for o in table[k][0]]
        self.erase_s = int(table["slow-erase"][0][1]) / 1000.0 if "slow-erase" in self.kinds else 0.0
        self.costs = [table[k][1] for k in self.kinds]

    def label(self):
        return "+".join(self.kinds + ([self.kill] if self.kill else []))

    def bound(self):
        """The documented waits the faults can cost (smpctl(1) --timeout, --tries, --reset-timeout; ISSUE-NOTES
        item 7): connecting, the first chunk's erase wait, the device coming back after the reset, and per
        lost answer TRIES x TIMEOUT (or the first chunk's wait); a lost link, a reconnect window."""
        total = SLACK + FIRST_CHUNK + RESET_TIMEOUT + (CONNECT if self.transport == "ble" else 0)
        for cost in self.costs:
            if cost == "link":
                total += RESET_TIMEOUT + CONNECT + (NOTIFY_WAIT if "acquire-notify-hangs" in self.kinds else 0)
            elif isinstance(cost, float):
                total += cost
            else:
                total += cost * TRIES * TIMEOUT + (FIRST_CHUNK if cost else 0)
        if "power-loss-in-swap" in self.kinds or "new-image-crashes" in self.kinds:
            total += RESET_TIMEOUT
        return total


class Device:
    """The simulator a seed runs against, with the smpctl command line that reaches it."""

    def __init__(self, plan):
        self.plan = plan
        if plan.transport == "udp":
            self.sim = Sim(*plan.options)
            self.address, self.env = self.sim.address, {}
        else:
            self.sim = BluezSim(*plan.options)
            self.address, self.env = SIM_ADDRESS, self.sim.env

    def command(self, args):
        return [harness.SMPCTL, "--device", self.address, "--timeout", str(TIMEOUT), "--reset-timeout",
                str(RESET_TIMEOUT)] + args

    def environ(self):
        e = dict(os.environ, **self.env)
        e.pop("SMPCTL_DEVICE", None)
        return e

    def run(self, args, kill=None, kill_after=0.0, hard_limit=600):
        """(exit code, stdout, stderr, seconds); a run past hard_limit is killed and reported as None."""
        start = time.monotonic()
        proc = subprocess.Popen(self.command(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=self.environ(), stdin=subprocess.DEVNULL)
        if kill:
            try:
                out, err = proc.communicate(timeout=kill_after)
                return proc.returncode, out, err, time.monotonic() - start
            except subprocess.TimeoutExpired:
                proc.send_signal(getattr(signal, kill))
        try:
            out, err = proc.communicate(timeout=hard_limit)
            code = proc.returncode
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            code = None
        return code, out, err, time.monotonic() - start

    def faults_off(self):
        self.sim.proc.send_signal(signal.SIGUSR1)
        time.sleep(0.05)

    def slots(self):
        code, out, err, _ = self.run(["--json", "image", "list"], hard_limit=120)
        if code != 0:
            raise RuntimeError("image list after the faults: exit %s: %s" % (code, err.strip()))
        return json.loads(out)["images"]

    def close(self):
        self.sim.close()


def error_lines(err):
    return [line for line in err.splitlines() if line.strip() and not line.startswith("warning:")]


def check_exit(plan, code, err, violations):
    if code is None:
        violations.append("hang: still running after the hard limit")
        return "hang"
    if plan.kill == "SIGKILL" and code == -signal.SIGKILL:
        return "killed"
    if code not in DOCUMENTED:
        violations.append("exit %s is not a documented outcome of these faults" % code)
        return "exit %s" % code
    if code == 130 and plan.kill not in ("SIGINT", "SIGTERM"):
        violations.append("exit 130 without a signal")
    if code != 0 and code != 130 and len(error_lines(err)) != 1:
        violations.append("exit %d with %d lines of error (one wanted): %r" % (code, len(error_lines(err)), err))
    if code == 9 and "new-image-crashes" not in plan.kinds:
        violations.append("exit 9 (reverted) on a device whose new image runs")
    if code == 0 and "new-image-crashes" in plan.kinds:
        violations.append("exit 0 on a device that reverts the new image")
    return DOCUMENTED[code]


def check_state(images, file_hash, factory_hash, violations, when):
    known = {file_hash: "file", factory_hash: "factory"}
    active = [i for i in images if i.get("active")]
    if len(active) != 1:
        violations.append("%s: %d active slots" % (when, len(active)))
    elif active[0]["hash"] not in known:
        violations.append("%s: the running image %s is neither the file's nor the factory's" % (when, active[0]["hash"]))
    for i in images:
        if (i.get("pending") or i.get("confirmed")) and i["hash"] not in known:
            violations.append("%s: slot %d is %s with hash %s, not the file's" %
                              (when, i["slot"], "pending" if i.get("pending") else "confirmed", i["hash"]))


def run_seed(seed, image, file_hash, factory_hash, verbose=False):
    """One seed: (plan, outcome, violations, seconds of the faulty run)."""
    plan = Plan(seed)
    violations = []
    dev = Device(plan)
    try:
        args = ["--json", "dfu", image, "--key", key("ec-p256")]
        code, out, err, seconds = dev.run(args, plan.kill, plan.kill_after, hard_limit=plan.bound() + 60)
        if verbose:
            print("seed %d: %s %s (%s): exit %s in %.1f s\n%s%s" % (seed, plan.transport, plan.label(),
                  " ".join(plan.options), code, seconds, out, err))
        outcome = check_exit(plan, code, err, violations)
        if seconds > plan.bound():
            violations.append("took %.1f s, bound %.1f s" % (seconds, plan.bound()))
        dev.faults_off()
        if code != 0:
            # A run that ended during the first chunk leaves the device erasing: the faults are off, but an
            # erase that began goes on, and the checks must not count that wait against the device.
            time.sleep(plan.erase_s)
        images = dev.slots()
        check_state(images, file_hash, factory_hash, violations, "after the faulty run")
        if code == 0:
            running = [i for i in images if i.get("active")]
            if not running or running[0]["hash"] != file_hash or not running[0].get("confirmed"):
                violations.append("exit 0 but the file's image is not running confirmed: %r" % images)
        rcode, rout, rerr, _ = dev.run(args, hard_limit=plan.bound() + 60)
        if verbose:
            print("rerun: exit %s\n%s%s" % (rcode, rout, rerr))
        images = dev.slots()
        check_state(images, file_hash, factory_hash, violations, "after the rerun")
        running = [i for i in images if i.get("active")]
        if "new-image-crashes" in plan.kinds:
            if rcode != 9 or not running or running[0]["hash"] != factory_hash:
                violations.append("rerun on a crashing image: exit %s, %r (want 9, the factory image)" % (rcode, images))
        elif rcode != 0 or not running or running[0]["hash"] != file_hash or not running[0].get("confirmed"):
            violations.append("rerun without faults: exit %s: %s" % (rcode, " / ".join(error_lines(rerr)) or images))
    except Exception as e:  # a broken simulator or harness is a violation too, with its seed
        violations.append("campaign error: %s" % e)
        outcome, seconds = "error", 0.0
    finally:
        dev.close()
    return plan, outcome, violations, seconds


def factory_hash_of(image):
    with Sim() as sim:
        return next(i["hash"] for i in harness.run(["--json", "image", "list"], device=sim.address).json()["images"]
                    if i["slot"] == 0)


def file_hash_of(image):
    return json.loads(harness.run(["--json", "image", "info", image]).out)["hash"]


def report(results, elapsed, out=sys.stdout):
    table = collections.defaultdict(collections.Counter)
    outcomes = set()
    for plan, outcome, violations, _ in results:
        for kind in plan.kinds + ([plan.kill] if plan.kill else []):
            key_ = "%s:%s" % (plan.transport, kind)
            table[key_][outcome] += 1
            outcomes.add(outcome)
            if violations:
                table[key_]["VIOLATION"] += 1
    cols = sorted(outcomes) + ["VIOLATION"]
    width = max([len(k) for k in table] + [10])
    print("%-*s %s" % (width, "fault", " ".join("%11s" % c for c in cols)), file=out)
    for k in sorted(table):
        print("%-*s %s" % (width, k, " ".join("%11d" % table[k][c] for c in cols)), file=out)
    bad = [(p, v) for p, _, v, _ in results if v]
    slowest = max((s for _, _, _, s in results), default=0)
    print("\n%d runs in %.0f s (slowest faulty run %.1f s): %d held every invariant, %d violated one" %
          (len(results), elapsed, slowest, len(results) - len(bad), len(bad)), file=out)
    for plan, v in sorted(bad, key=lambda x: x[0].seed):
        print("VIOLATION seed %d (%s %s; replay: --seed %d): %s" % (plan.seed, plan.transport, plan.label(),
              plan.seed, "; ".join(v)), file=out)
    return not bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=100, help="how many seeds (default 100)")
    ap.add_argument("--first", type=int, default=1, help="the first seed (default 1)")
    ap.add_argument("--seed", type=int, help="replay this one seed, verbosely")
    ap.add_argument("--jobs", type=int, default=2, help="seeds run at once (default 2)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="smpctl-campaign-") as tmp:
        image = mkimage(os.path.join(tmp, "app.bin"), "--size", str(IMAGE_SIZE), "--version", "2.0.0", "--key",
                        key("ec-p256", False))
        file_hash, factory_hash = file_hash_of(image), factory_hash_of(image)
        start = time.monotonic()
        if a.seed is not None:
            results = [run_seed(a.seed, image, file_hash, factory_hash, verbose=True)]
        else:
            done = 0
            lock = threading.Lock()
            results = []
            with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
                futures = [pool.submit(run_seed, s, image, file_hash, factory_hash)
                           for s in range(a.first, a.first + a.seeds)]
                for f in concurrent.futures.as_completed(futures):
                    with lock:
                        results.append(f.result())
                        done += 1
                        if done % 50 == 0:
                            print("... %d/%d seeds" % (done, a.seeds), file=sys.stderr, flush=True)
        ok = report(results, time.monotonic() - start)
    print("%d passed, %d failed" % (sum(1 for r in results if not r[2]), sum(1 for r in results if r[2])))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
