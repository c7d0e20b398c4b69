"""Real Zephyr 4.1.0 SMP servers (native_sim executables, tests/interop/fixtures/) run as test fixtures.

Each fixture is unpacked once per process (xz, Python's lzma) into a temporary directory and checked
against the manifest's sha256. Every Fixture run has its own -flash file. The port is fixed (the
manifest's udp_port): it is checked free before the start, so that two runs on one machine fail with a
clear message instead of talking to each other's server. A reset ends the native_sim process (a
reboot, sys_arch_reboot): a supervisor thread starts the same executable again on the same flash file.
SIGTERM stops it at the end.
"""
import errno
import hashlib
import json
import lzma
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time

import smp

HERE = os.path.dirname(os.path.abspath(__file__))
# Another copy of fixtures/ (manifest and .xz files) may be named, e.g. to test one being rebuilt.
FIXTURE_DIR = os.environ.get("SMPCTL_INTEROP_FIXTURES", os.path.join(HERE, "fixtures"))
with open(os.path.join(FIXTURE_DIR, "manifest.json")) as _f:
    MANIFEST = json.load(_f)
FIXTURES = MANIFEST["fixtures"]
START_TIMEOUT = 20.0      # from exec to the first echo answer (about 0.1 s; generous for sanitizer runs)
REBOOT_MARK = b"sys_arch_reboot called"

_unpack_dir = None
_unpack_lock = threading.Lock()


def executable(name):
    """The fixture's unpacked executable, made once per process."""
    global _unpack_dir
    info = FIXTURES[name]
    with _unpack_lock:
        if _unpack_dir is None:
            _unpack_dir = tempfile.TemporaryDirectory(prefix="smpctl-interop-")
        path = os.path.join(_unpack_dir.name, name + ".exe")
        if not os.path.exists(path):
            with lzma.open(os.path.join(FIXTURE_DIR, info["file"])) as f:
                data = f.read()
            digest = hashlib.sha256(data).hexdigest()
            if digest != info["sha256_exe"]:
                raise RuntimeError("%s: unpacked sha256 %s, the manifest says %s" % (name, digest, info["sha256_exe"]))
            with open(path + ".tmp", "wb") as f:
                f.write(data)
            os.chmod(path + ".tmp", 0o755)
            os.rename(path + ".tmp", path)
    return path


def port_free(port):
    """True when nothing has UDP port `port` on any address (the fixtures bind 0.0.0.0)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("0.0.0.0", port))
        return True
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            return False
        raise
    finally:
        s.close()


class PortTaken(RuntimeError):
    pass


class Fixture:
    """One run of a fixture: its own flash file, restarted after every reboot until stop()."""

    def __init__(self, name, flash=None):
        self.name = name
        self.info = FIXTURES[name]
        self.port = self.info["udp_port"]
        self.address = "udp:127.0.0.1:%d" % self.port
        self.exe = executable(name)
        self.dir = tempfile.TemporaryDirectory(prefix="smpctl-%s-" % name)
        self.flash = flash or os.path.join(self.dir.name, "flash.bin")
        self.log_path = os.path.join(self.dir.name, "log")
        self.proc = None
        self.exits = []           # exit status of every process that ended on its own (power_cycle's not)
        self.killing = None       # the process power_cycle() kills
        self.boots = 0            # processes started (1 + restarts)
        self.failure = None       # why the supervisor gave up
        self.stopping = False
        self.cond = threading.Condition()
        self.thread = None

    # -- lifecycle --------------------------------------------------------------------------------------
    def start(self):
        if not port_free(self.port):
            raise PortTaken("UDP port %d is taken: fixture %s needs it. Another interop run on this machine (or "
                            "a leftover fixture) holds it; 'ss -ulpn sport = :%d' names the process. Run one "
                            "suite at a time." % (self.port, self.name, self.port))
        self._spawn()
        self.thread = threading.Thread(target=self._supervise, name="supervise-" + self.name, daemon=True)
        self.thread.start()
        return self

    def _spawn(self):
        with open(self.log_path, "ab") as log:
            log.write(b"--- boot %d\n" % (self.boots + 1))
            log.flush()
            proc = subprocess.Popen([self.exe, "-flash=" + self.flash], stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, cwd=self.dir.name)
        deadline = time.monotonic() + START_TIMEOUT
        while not smp.echo_answers(self.port):
            if proc.poll() is not None:
                raise RuntimeError("fixture %s exited (%d) before answering echo:\n%s"
                                   % (self.name, proc.returncode, self.output()[-2000:]))
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                raise RuntimeError("fixture %s did not answer echo within %.0f s:\n%s"
                                   % (self.name, START_TIMEOUT, self.output()[-2000:]))
        with self.cond:
            self.proc = proc
            self.boots += 1
            self.cond.notify_all()

    def _supervise(self):
        while True:
            proc = self.proc
            status = proc.wait()
            with self.cond:
                if self.stopping:
                    return
                if proc is not self.killing:
                    self.exits.append(status)
            try:
                self._spawn()
            except Exception as e:  # noqa: BLE001 - reported by wait_boot() and stop()
                with self.cond:
                    self.failure = str(e)
                    self.cond.notify_all()
                return

    def stop(self):
        """SIGTERM; the fixture exits 0. Returns its exit status."""
        with self.cond:
            self.stopping = True
            proc = self.proc
        status = None
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.send_signal(signal.SIGTERM)
            try:
                status = proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise AssertionError("fixture %s did not exit on SIGTERM" % self.name)
        if self.thread:
            self.thread.join(timeout=10)
        return status

    def close(self):
        try:
            self.stop()
        finally:
            self.dir.cleanup()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # -- events -----------------------------------------------------------------------------------------
    def wait_boot(self, boots, timeout=30.0):
        """Waits until the fixture has been started `boots` times in all and answers echo."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.boots < boots and self.failure is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("fixture %s: boot %d did not happen within %.0f s (boots %d, exits %r)"
                                         % (self.name, boots, timeout, self.boots, self.exits))
                self.cond.wait(left)
            if self.failure:
                raise AssertionError("fixture %s could not restart: %s" % (self.name, self.failure))

    def reboots(self):
        """How many times the process printed sys_arch_reboot (a reset it took)."""
        with open(self.log_path, "rb") as f:
            return f.read().count(REBOOT_MARK)

    def pause(self):
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)

    def power_cycle(self):
        """Kills the process without warning (a power cut); the supervisor boots it again."""
        with self.cond:
            boots = self.boots
            proc = self.killing = self.proc
        proc.kill()
        self.wait_boot(boots + 1)

    def fresh_flash(self):
        """Stops, removes the flash file, starts again: the only way to clear a pending slot 1 without MCUboot."""
        self.stop()
        self.stopping = False
        if os.path.exists(self.flash):
            os.unlink(self.flash)
        self.start()

    def output(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""
