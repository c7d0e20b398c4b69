"""Fidelity of smpctl-sim against the real Zephyr 4.1.0 servers (issue 13): one request script, sent byte for
byte the same to a fixture and to smpctl-sim started with the options closest to the fixture's configuration.
For every step the answer is reduced to what must agree (answered or not, rc, err, the set of fields, and
the values that carry behaviour) and the two are compared. A difference not in KNOWN fails the test; the
known ones are listed with their reasons in src/sim/README.md ("Fidelity against Zephyr 4.1.0").

  python3 fidelity.py [FIXTURE...]   prints the comparison table (needs SMPCTL_SIM, as the tests do)
"""
import hashlib
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import smp  # noqa: E402
from smp import GROUP_ENUM, GROUP_IMG, GROUP_OS, GROUP_SETTINGS, GROUP_STAT, GROUP_ZBASIC, OP_READ, OP_WRITE  # noqa: E402

FIXTURE_NAMES = ("smpctl-fw", "smp-svr-b2475-noparams", "smp-svr-b2475-full", "smp-svr-b2475-settings")


def sim_options(info):
    """smpctl-sim's options closest to a fixture's configuration (the manifest's Kconfig, groups and OS
    commands). Neither has MCUboot's TOO_LARGE_SYSBUILD check on native_sim (no sysbuild): --update-footer 0."""
    k = info["kconfig"]
    opts = ["--buf-size", str(info["buf_size"]), "--buf-count", str(info["buf_count"]), "--update-footer", "0"]
    flags = [
        (not info["mcumgr_params"], "--no-params"),
        (k["IMG_ERASE_PROGRESSIVELY"], "--progressive-erase"),
        (not k["IMG_ENABLE_IMAGE_CHECK"], "--no-image-check"),
        (not k["MCUMGR_SMP_VERBOSE_ERR_RESPONSE"], "--no-verbose-errors"),
        (not k["MCUMGR_GRP_IMG_SLOT_INFO"], "--no-slot-info"),
        (k["MCUMGR_GRP_IMG_FRUGAL_LIST"], "--frugal-list"),
        ("zephyr_basic" not in info["groups"], "--no-storage-erase"),
        ("datetime" in info["os_commands"], "--datetime"),
        ("taskstat" in info["os_commands"], "--taskstat"),
        ("stat" not in info["groups"], "--no-stat"),
        ("stat" in info["groups"] and "smp_svr" in info["app"], "--stat-sample"),
        ("shell" in info["groups"], "--shell"),
        ("enum" in info["groups"], "--enum"),
        ("settings" in info["groups"], "--settings"),
    ]
    return opts + [flag for cond, flag in flags if cond]


CHUNK = 1024
PAYLOAD = bytes((i * 7 + 3) & 0xff for i in range(20 * 1024))

# Known differences: (fixture or "*", step, aspect) -> reason. Everything else must agree.
NO_MCUBOOT = "no MCUboot on native_sim: the running program is not in the flash, so slot 0 is empty"
NO_OS_INFO = ("smp_svr without overlays has no CONFIG_MCUMGR_GRP_OS_INFO (rc 8); smpctl-sim always answers "
              "OS info (no option turns it off)")
KNOWN = {
    ("*", "image list, fresh", "images"): NO_MCUBOOT + "; smpctl-sim models a factory image in slot 0, "
                                          "active and confirmed, as a device with MCUboot has",
    ("*", "image list, uploaded", "images"): NO_MCUBOOT,
    ("*", "image test", "images"): NO_MCUBOOT,
    ("*", "image list after the reset (slot 1)", "slot1"): "no MCUboot on native_sim: nothing swaps, the tested "
        "image stays pending in slot 1 across the reset; smpctl-sim's MCUboot swaps it in (slot 1 then holds the "
        "old image, confirmed)",
    ("*", "bootloader info", "rc"): "no MCUboot on native_sim: bootloader info is not built (rc 8); "
                                    "smpctl-sim models MCUboot and answers \"MCUboot\"",
    ("*", "bootloader info", "keys"): "(the same)",
    ("*", "slot info", "sizes"): "native_sim's slots are 0x69000 bytes; smpctl-sim models the nRF52833 DK's "
                                 "0x37000 (no option changes it)",
}
KNOWN[("*", "stat list", "groups")] = (
    "native_sim's flash simulator driver registers flash_sim_stats and flash_sim_thresholds "
    "(CONFIG_FLASH_SIMULATOR_STATS); the nRF52833 that smpctl-sim models has no such driver")
KNOWN[("*", "stat show smp_svr_stats", "fields")] = (
    "most likely padding: on 64-bit native_sim the sample's one-counter section is padded to 8 bytes and "
    "STATS_INIT_AND_REG counts two 32-bit entries, the second unnamed (\"s1\"); on the 32-bit nRF52833 "
    "smpctl-sim models there is only \"ticks\"")
for _fixture in ("smp-svr-b2475-noparams", "smp-svr-b2475-settings"):
    for _step in ("os info", "os info, bad letter"):
        for _aspect in ("rc", "keys", "err", "output"):
            KNOWN[(_fixture, _step, _aspect)] = NO_OS_INFO


def summarize(step, answer, extract):
    """What must agree: answered, rc, err (group, rc), the fields, and the step's behaviour values."""
    if answer is None:
        return {"answered": False}
    body = answer.body if isinstance(answer.body, dict) else {"<not a map>": answer.body}
    s = {"answered": True, "rc": body.get("rc", 0), "keys": sorted(str(k) for k in body)}
    if "err" in body and isinstance(body["err"], dict):
        s["err"] = (body["err"].get("group"), body["err"].get("rc"))
    if extract and s["rc"] == 0 and "err" not in s:
        s.update(extract(body))
    return s


def image_entries(body):
    """Slots and flags of the image list; the fields of each entry."""
    out = {}
    for i in body.get("images", []):
        out[i.get("slot")] = {k: i.get(k) for k in ("pending", "confirmed", "active", "permanent", "bootable")}
        out[i.get("slot")]["fields"] = sorted(i)
    return {"images": out}


def slot1_only(body):
    e = image_entries(body)
    return {"slot1": e["images"].get(1)}


class Script:
    """Sends the same requests to one server and records the summaries; sha/len from the same payload."""

    def __init__(self, port):
        self.client = smp.Client(port)
        self.results = []
        self.image = make_image()

    def step(self, name, op, group, command, body, extract=None, timeout=3.0):
        a = None
        for _ in range(2):  # a datagram lost on the loopback is not what is compared
            try:
                a = self.client.request(op, group, command, body, timeout)
            except (OSError, smp.CborError):
                a = None
            if a is not None:
                break
        self.results.append((name, summarize(name, a, extract)))
        return a

    def upload(self, name, data, first_off=0, extract=None):
        sha = hashlib.sha256(data).digest()
        off = first_off
        answers = []
        while off < len(data):
            body = {"image": 0, "off": off, "data": data[off:off + CHUNK]}
            if off == 0:
                body.update({"len": len(data), "sha": sha})
            a = self.client.request(OP_WRITE, GROUP_IMG, 1, body, 5.0)
            answers.append(a)
            if a is None or "off" not in a.body:
                break
            off = a.body["off"]
        last = answers[-1] if answers else None
        self.results.append((name, summarize(name, last, extract)))
        self.results.append((name + ": offsets", {"offsets": [x.body.get("off") if x else None for x in answers]}))


def make_image():
    """A minimal MCUboot image (header, payload, SHA-256 TLV): both servers check the header and hash TLV."""
    import struct
    header = struct.pack("<IIHHIIBBHII", 0x96f3b83d, 0, 32, 0, len(PAYLOAD), 0, 1, 2, 3, 4, 0)
    header = header.ljust(32, b"\0")
    digest = hashlib.sha256(header + PAYLOAD).digest()
    tlv = struct.pack("<HH", 0x6907, 4 + 4 + 32) + struct.pack("<BBH", 0x10, 0, 32) + digest
    return header + PAYLOAD + tlv, digest


def settings_value(body):
    return {"val": body.get("val"), "max_size": body.get("max_size")}


def settings_steps(s):
    """The settings group with the "prov" handler (smp-svr-b2475-settings; rc 8 where it is not built)."""
    for name, op, cmd, body in (
            ("settings read, fresh", OP_READ, 0, {"name": "prov/serial", "max_size": 4096}),
            ("settings write", OP_WRITE, 0, {"name": "prov/serial", "val": b"SN-1"}),
            ("settings read, max_size 3", OP_READ, 0, {"name": "prov/serial", "max_size": 3}),
            ("settings read, no max_size", OP_READ, 0, {"name": "prov/serial"}),
            ("settings write, 40-byte key", OP_WRITE, 0, {"name": "prov/key", "val": bytes(range(40))}),
            ("settings read, 40-byte key", OP_READ, 0, {"name": "prov/key", "max_size": 100}),
            ("settings read, name of 40 bytes", OP_READ, 0, {"name": "prov/" + "a" * 35}),
            ("settings read, empty name", OP_READ, 0, {"name": ""}),
            ("settings read, no name", OP_READ, 0, {}),
            ("settings read, root alone", OP_READ, 0, {"name": "prov"}),
            ("settings read, unknown key", OP_READ, 0, {"name": "prov/nope"}),
            ("settings read, unknown root", OP_READ, 0, {"name": "nope/x"}),
            ("settings write, wrong length", OP_WRITE, 0, {"name": "prov/count", "val": b"\x01\x02"}),
            ("settings write, read-only", OP_WRITE, 0, {"name": "prov/model", "val": b"x"}),
            ("settings delete, never stored", OP_WRITE, 1, {"name": "zzz/x"}),
            ("settings delete as a read", OP_READ, 1, {"name": "zzz/x"}),
            ("settings commit", OP_WRITE, 2, {}),
            ("settings commit as a read", OP_READ, 2, {}),
            ("settings save", OP_WRITE, 3, {}),
            ("settings write, RAM only", OP_WRITE, 0, {"name": "prov/serial", "val": b"RAM"}),
            ("settings load", OP_READ, 3, {}),
            ("settings read after load", OP_READ, 0, {"name": "prov/serial"}),
            ("settings commits", OP_READ, 0, {"name": "prov/commits"})):
        s.step(name, op, GROUP_SETTINGS, cmd, body, settings_value if op == OP_READ and cmd == 0 else None)


def run_script(port, restart):
    """The request script. `restart()` is called after the reset answer and returns when the server is back."""
    s = Script(port)
    image, digest = s.image
    s.step("echo", OP_WRITE, GROUP_OS, 0, {"d": "fidelity"}, lambda b: {"r": b.get("r")})
    s.step("params", OP_READ, GROUP_OS, 6, {}, lambda b: {"values": (b.get("buf_size"), b.get("buf_count"))})
    s.step("os info", OP_READ, GROUP_OS, 7, {"format": "s"}, lambda b: {"output": b.get("output")})
    s.step("os info, bad letter", OP_READ, GROUP_OS, 7, {"format": "Q"})
    s.step("bootloader info", OP_READ, GROUP_OS, 8, {})
    s.step("datetime read", OP_READ, GROUP_OS, 4, {})
    s.step("datetime set", OP_WRITE, GROUP_OS, 4, {"datetime": "2026-12-07T11:00:00"})
    s.step("datetime read after set", OP_READ, GROUP_OS, 4, {},
           lambda b: {"datetime": str(b.get("datetime"))[:16]})
    s.step("taskstat", OP_READ, GROUP_OS, 2, {})
    s.step("mpstat", OP_READ, GROUP_OS, 3, {})
    s.step("os command 20", OP_READ, GROUP_OS, 20, {})
    s.step("console echo control", OP_WRITE, GROUP_OS, 1, {"echo": 0})
    s.step("group 100", OP_READ, 100, 0, {})
    s.step("enum count", OP_READ, GROUP_ENUM, 0, {})
    s.step("image list, fresh", OP_READ, GROUP_IMG, 0, {}, image_entries)
    s.step("slot info", OP_READ, GROUP_IMG, 6, {},
           lambda b: {"sizes": [[sl.get("size") for sl in i.get("slots", [])] for i in b.get("images", [])]})
    s.step("upload at offset 512, nothing started", OP_WRITE, GROUP_IMG, 1, {"image": 0, "off": 512, "data": b"x" * 16},
           lambda b: {"off": b.get("off")})
    s.step("upload, too large for any slot", OP_WRITE, GROUP_IMG, 1,
           {"image": 0, "off": 0, "len": 0x100000, "sha": digest, "data": image[:CHUNK]})
    s.step("upload, no len on the first chunk", OP_WRITE, GROUP_IMG, 1, {"image": 0, "off": 0, "data": image[:CHUNK]})
    s.upload("upload", image, extract=lambda b: {"off": b.get("off"), "match": b.get("match")})
    s.step("upload again, first chunk", OP_WRITE, GROUP_IMG, 1,
           {"image": 0, "off": 0, "len": len(image), "sha": hashlib.sha256(image).digest(), "data": image[:CHUNK]},
           lambda b: {"off": b.get("off")})
    s.step("image list, uploaded", OP_READ, GROUP_IMG, 0, {}, image_entries)
    s.step("image list, uploaded (slot 1)", OP_READ, GROUP_IMG, 0, {}, slot1_only)
    s.step("image test, unknown hash", OP_WRITE, GROUP_IMG, 0, {"hash": b"\xab" * 32, "confirm": False})
    s.step("image test, short hash", OP_WRITE, GROUP_IMG, 0, {"hash": b"\xab" * 4, "confirm": False})
    s.step("image erase slot 1", OP_WRITE, GROUP_IMG, 5, {"slot": 1})
    s.step("image list, erased (slot 1)", OP_READ, GROUP_IMG, 0, {}, slot1_only)
    s.upload("upload after erase", image, extract=lambda b: {"off": b.get("off"), "match": b.get("match")})
    s.step("image test", OP_WRITE, GROUP_IMG, 0, {"hash": digest, "confirm": False}, image_entries)
    s.step("image test (slot 1)", OP_READ, GROUP_IMG, 0, {}, slot1_only)
    s.step("image test again", OP_WRITE, GROUP_IMG, 0, {"hash": digest, "confirm": False}, slot1_only)
    s.step("image confirm the tested one", OP_WRITE, GROUP_IMG, 0, {"hash": digest, "confirm": True}, slot1_only)
    s.step("image erase, pending slot 1", OP_WRITE, GROUP_IMG, 5, {"slot": 1})
    s.step("upload onto a pending slot 1", OP_WRITE, GROUP_IMG, 1,
           {"image": 0, "off": 0, "len": len(image) + 1, "sha": b"\x01" * 32, "data": image[:CHUNK]})
    s.step("storage erase", OP_WRITE, GROUP_ZBASIC, 0, {})
    s.step("stat list", OP_READ, GROUP_STAT, 1, {}, lambda b: {"groups": b.get("stat_list")})
    s.step("stat show smp_svr_stats", OP_READ, GROUP_STAT, 0, {"name": "smp_svr_stats"},
           lambda b: {"fields": sorted(b.get("fields", {}))})
    s.step("stat show, unknown group", OP_READ, GROUP_STAT, 0, {"name": "no_such_group"})
    settings_steps(s)
    s.step("reset", OP_WRITE, GROUP_OS, 5, {})
    restart()
    s.step("echo after the reset", OP_WRITE, GROUP_OS, 0, {"d": "back"}, lambda b: {"r": b.get("r")})
    s.step("image list after the reset (slot 1)", OP_READ, GROUP_IMG, 0, {}, slot1_only)
    s.step("settings read after the reset", OP_READ, GROUP_SETTINGS, 0, {"name": "prov/serial"}, settings_value)
    s.step("settings commits after the reset", OP_READ, GROUP_SETTINGS, 0, {"name": "prov/commits"}, settings_value)
    s.client.close()
    return s.results


def differences(name, real, sim):
    """[(step, aspect, real value, sim value)] for everything that does not agree."""
    out = []
    for (step, r), (step2, m) in zip(real, sim):
        assert step == step2
        for aspect in sorted(set(r) | set(m)):
            if r.get(aspect) != m.get(aspect):
                out.append((step, aspect, r.get(aspect), m.get(aspect)))
    return out


def known(name, step, aspect):
    return KNOWN.get((name, step, aspect)) or KNOWN.get(("*", step, aspect))


def run_sim(name):
    from harness import Sim
    from fixture import FIXTURES
    with Sim(*sim_options(FIXTURES[name])) as sim:
        def back():
            deadline = time.monotonic() + 20
            while not smp.echo_answers(sim.port, 0.3):
                if time.monotonic() > deadline:
                    raise AssertionError("smpctl-sim did not answer after the reset")
        return run_script(sim.port, back)


def run_fixture(fx):
    boots = fx.boots
    return run_script(fx.port, lambda: fx.wait_boot(boots + 1))


def compare(name, fx):
    """The new differences (not in KNOWN) between the fixture `fx` (running) and smpctl-sim, as text lines."""
    diffs = differences(name, run_fixture(fx), run_sim(name))
    return ["%s / %s: real %r, smpctl-sim %r" % d for d in diffs if not known(name, d[0], d[1])]


def short(summary):
    """A summary in a few words, for the README's table."""
    if not summary.get("answered", True):
        return "no answer"
    if "offsets" in summary:
        return "offsets %s" % ", ".join(str(o) for o in summary["offsets"][-2:])
    if "err" in summary:
        return "err {group %s, rc %s}" % summary["err"]
    if summary.get("rc"):
        return "rc %d" % summary["rc"]
    extra = {k: v for k, v in summary.items() if k not in ("answered", "rc", "keys")}
    text = "{%s}" % ", ".join(summary.get("keys", []))
    for k, v in extra.items():
        if k == "images":
            v = "slots %s" % (sorted(v) or "none")
        elif k == "slot1":
            flags = [f for f in ("pending", "confirmed", "permanent") if v and v[f]]
            v = "none" if v is None else ",".join(flags) or "unmarked"
        text += " %s=%s" % (k, v)
    return text


def table(names):
    """The README's table: every request, what the real servers answer, and what smpctl-sim does."""
    from fixture import Fixture
    runs = {}
    for name in names:
        with Fixture(name) as fx:
            runs[name] = (run_fixture(fx), run_sim(name))
    print("| request | real server (Zephyr 4.1.0) | src/sim | fixed or why it differs |")
    print("|---|---|---|---|")
    steps = [step for step, _ in runs[names[0]][0]]
    for i, step in enumerate(steps):
        rows = []
        for name in names:
            real, sim = runs[name][0][i][1], runs[name][1][i][1]
            diffs = [a for a in sorted(set(real) | set(sim)) if real.get(a) != sim.get(a)]
            if diffs:
                reason = known(name, step, diffs[0]) or "NEW: not listed"
                if reason == "(the same)":
                    reason = next(known(name, step, a) for a in diffs if known(name, step, a) != "(the same)")
                rows.append((name, short(real), short(sim), reason))
        if not rows:
            answers = {}
            for name in names:
                answers.setdefault(short(runs[name][0][i][1]), []).append(name)
            real = short(runs[names[0]][0][i][1]) if len(answers) == 1 else \
                "; ".join("%s: %s" % (", ".join(n), a) for a, n in answers.items())
            print("| %s | %s | same | |" % (step, real))
        for name, real, sim, reason in rows:
            print("| %s (%s) | %s | %s | %s |" % (step, name, real, sim, reason))


if __name__ == "__main__":
    table(sys.argv[1:] or list(FIXTURE_NAMES))
