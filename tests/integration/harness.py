"""Runs the real smpctl binary against the real simulators, for the integration tests.

Binaries come from the environment meson sets (SMPCTL, SMPCTL_SIM, SMPCTL_MKIMAGE); nothing here talks to
a real device or to the system bus. Every run has a hard timeout so that a hang is a failure, not a stall.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

SMPCTL = os.environ.get("SMPCTL", "smpctl")
SMPCTL_SIM = os.environ.get("SMPCTL_SIM", "smpctl-sim")
SMPCTL_MKIMAGE = os.environ.get("SMPCTL_MKIMAGE", "smpctl-mkimage")
# SMPCTL_VALGRIND=1 (.ci/test under CI=true): every smpctl a test starts runs under valgrind memcheck
# (tests/valgrind-smpctl.sh), so a memory error or a definite leak fails it with exit 99.
if os.environ.get("SMPCTL_VALGRIND") == "1":
    os.environ["SMPCTL_REAL"] = SMPCTL
    SMPCTL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "valgrind-smpctl.sh")
KEYS = os.environ.get("SMPCTL_TEST_KEYS", os.path.join(os.path.dirname(__file__), "..", "keys"))

# Exit codes of smpctl(1).
EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_TRANSPORT, EXIT_TIMEOUT = 0, 1, 2, 3, 4
EXIT_DEVICE, EXIT_PROTOCOL, EXIT_VERIFY, EXIT_IMAGE, EXIT_REVERTED = 5, 6, 7, 8, 9
EXIT_DOWNGRADE, EXIT_IO, EXIT_LOCKED, EXIT_INTERRUPTED = 10, 74, 75, 130

# smpctl(1) JSON OUTPUT: every line starts with these two keys.
JSON_SCHEMA_VERSION = 1


def json_envelope(obj):
    """obj without its envelope, once checked: the schema version and the device it is about."""
    if not isinstance(obj, dict) or obj.get("schema_version") != JSON_SCHEMA_VERSION or "device" not in obj:
        raise AssertionError("JSON line without schema_version %d and device: %r" % (JSON_SCHEMA_VERSION, obj))
    return {k: v for k, v in obj.items() if k not in ("schema_version", "device")}


def read(path):
    with open(path) as f:
        return f.read()


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


class Result:
    def __init__(self, proc):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def json(self):
        return json_envelope(json.loads(self.out))

    def json_lines(self):
        return [json_envelope(json.loads(line)) for line in self.out.splitlines() if line.strip()]

    def json_raw_lines(self):
        """The lines as smpctl wrote them, envelope included."""
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]

    def __repr__(self):
        return "exit %d\nstdout: %s\nstderr: %s" % (self.code, self.out, self.err)


def run(args, timeout=120, env=None, device=None):
    cmd = [SMPCTL] + (["--device", device] if device else []) + list(args)
    e = dict(os.environ)
    e.pop("SMPCTL_DEVICE", None)
    if env:
        e.update(env)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=e, stdin=subprocess.DEVNULL)
    return Result(proc)


def run_at_terminal(args, answer, timeout=120, env=None, device=None):
    """run() with standard input on a pseudo-terminal that already holds `answer`: what a user types at a
    prompt. stdout and stderr stay pipes."""
    import pty
    cmd = [SMPCTL] + (["--device", device] if device else []) + list(args)
    e = dict(os.environ)
    e.pop("SMPCTL_DEVICE", None)
    if env:
        e.update(env)
    master, slave = pty.openpty()
    try:
        os.write(master, answer.encode())
        proc = subprocess.Popen(cmd, stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e)
        out, err = proc.communicate(timeout=timeout)
    finally:
        os.close(slave)
        os.close(master)
    proc.stdout, proc.stderr = out, err
    return Result(proc)


class Sim:
    """One smpctl-sim on a free loopback UDP port."""

    def __init__(self, *options, host="127.0.0.1"):
        self.dir = tempfile.TemporaryDirectory(prefix="smpctl-sim-")
        ready = os.path.join(self.dir.name, "ready")
        listen = "[%s]:0" % host if ":" in host else "%s:0" % host
        self.log = open(os.path.join(self.dir.name, "log"), "w+")
        self.proc = subprocess.Popen([SMPCTL_SIM, "--listen", listen, "--ready-file", ready, "--time-scale", "0"]
                                     + list(options), stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while not (os.path.exists(ready) and read(ready).strip()):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("smpctl-sim did not start: " + self.output())
            time.sleep(0.02)
        self.port = int(read(ready).split()[0])
        self.address = "udp:[%s]:%d" % (host, self.port) if ":" in host else "udp:%s:%d" % (host, self.port)

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise AssertionError("smpctl-sim did not exit on SIGTERM")
        self.log.close()
        self.dir.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def key(name, pub=True):
    """A committed TEST key: the private PEM, or its public half."""
    return os.path.join(KEYS, name + (".pub.pem" if pub else ".pem"))


def mkimage(path, *options):
    subprocess.run([SMPCTL_MKIMAGE, "--output", path] + list(options), check=True, capture_output=True, timeout=60)
    return path


def main():
    """unittest with TAP-ish verbosity; exit status tells meson the verdict."""
    result = unittest.main(module="__main__", exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() else 1)


SMPCTL_BLUEZ_SIM = os.environ.get("SMPCTL_BLUEZ_SIM", "smpctl-bluez-sim")
BUS_CONF = os.path.join(os.path.dirname(__file__), "bus.conf")
SIM_ADDRESS = "ble:C0:FF:EE:00:00:01"


class PrivateBus:
    """A dbus-daemon of our own (BLUEZ.md §8): tests never touch the real system bus."""

    def __init__(self):
        self.dir = tempfile.TemporaryDirectory(prefix="smpctl-bus-")
        self.proc = subprocess.Popen(["dbus-daemon", "--config-file", BUS_CONF, "--nofork", "--print-address=1",
                                      "--address", "unix:path=" + os.path.join(self.dir.name, "bus")],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.address = self.proc.stdout.readline().strip()
        # Its own runtime directory too: the device locks are named after the device, and every stand-in
        # hosts the same address, so two test files running at once would otherwise lock each other out.
        self.env = {"DBUS_SYSTEM_BUS_ADDRESS": self.address, "XDG_RUNTIME_DIR": self.dir.name}

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()
        self.dir.cleanup()


class BluezSim:
    """smpctl-bluez-sim on a private bus; run() commands get DBUS_SYSTEM_BUS_ADDRESS."""

    def __init__(self, *options, time_scale="0"):
        self.bus = PrivateBus()
        self.env = dict(self.bus.env)
        ready = os.path.join(self.bus.dir.name, "ready")
        self.log = open(os.path.join(self.bus.dir.name, "log"), "w+")
        self.proc = subprocess.Popen([SMPCTL_BLUEZ_SIM, "--ready-file", ready, "--time-scale", time_scale]
                                     + list(options), env=dict(os.environ, **self.env), stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while not os.path.exists(ready):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("smpctl-bluez-sim did not start")
            time.sleep(0.02)

    def run(self, args, device=SIM_ADDRESS, **kw):
        env = dict(self.env, **kw.pop("env", {}))
        return run(args, device=device, env=env, **kw)

    def run_at_terminal(self, args, answer, device=SIM_ADDRESS, **kw):
        env = dict(self.env, **kw.pop("env", {}))
        return run_at_terminal(args, answer, device=device, env=env, **kw)

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.log.close()
        self.bus.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
