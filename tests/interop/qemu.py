"""The QEMU fixture (fixtures/qemu-m0-*, tests/interop/build-qemu-fixture.sh): MCUboot + Zephyr's smp_svr for
qemu_cortex_m0, run on qemu-system-arm's "microbit" machine (nRF51822: 256 KiB of flash, 16 KiB of RAM),
SMP over the emulated UART in console framing. smpctl talks to it with --device serial:PTY.

Flash across resets. The nRF51's flash is a ROM device in QEMU (memory the guest writes through the NVMC
model), and whatever QEMU loaded into it with -kernel or -device loader is a "ROM blob" that
rom_reset() copies in again at every system reset (only blobs in true read-only memory are copied once):
with the images loaded that way, a guest reset (sys_reboot, SYSRESETREQ) puts the old slot-0 image back
over what MCUboot swapped in. Swap and revert then seem to work, but a confirmed upgrade is gone after the
next reset and a revert leaves the old image in both slots. So every boot here is a fresh QEMU process
on one flash file (like the native_sim fixtures' -flash): QEMU runs with -action
reboot=shutdown,shutdown=pause, a guest reset pauses it, the harness saves the whole flash through QMP
(memsave 0..256 KiB, the CPU's view), stops that QEMU and starts a new one with the saved flash as its only image.

The serial port. QEMU's own "-serial pty" gives a new /dev/pts path each start, so the harness owns
the pty pair instead (a stable path for smpctl across reboots, as a USB-serial adapter would be) and
relays between its master side and QEMU's UART, a TCP socket chardev QEMU connects to as it starts.
From a reset until the application's banner (MCUboot's log, then "*** Booting Zephyr OS build"), the bytes
smpctl writes are dropped, as a device in reset or in a bootloader that does not read the UART loses
them. Passed on instead (gate_boot=False), bytes that reach the UART while MCUboot runs leave the
application's SMP receiver dead for the whole boot: it never answers (seen with QEMU 7.2's nRF51 UART
model; whether a real nRF51 does the same is not known).
Everything the device sends is also appended to the log (MCUboot's "Swap type" lines among them).
"""
import hashlib
import json
import lzma
import os
import select
import shutil
import socket
import subprocess
import tempfile
import termios
import threading
import time
import tty

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE_DIR = os.environ.get("SMPCTL_INTEROP_FIXTURES", os.path.join(HERE, "fixtures"))
NAME = "qemu-m0"
QEMU = os.environ.get("SMPCTL_QEMU", "qemu-system-arm")


MCUBOOT_BANNER = b"*** Booting MCUboot"
JUMP = b"Jumping to the first image slot"
APP_BANNER = b"*** Booting Zephyr OS build"


def manifest():
    with open(os.path.join(FIXTURE_DIR, NAME + ".manifest.json")) as f:
        return json.load(f)[NAME]


def unpack(info, dest):
    """The fixture's files, unpacked into dest and checked against the manifest: {role: path}."""
    paths = {}
    for role, f in info["files"].items():
        with lzma.open(os.path.join(FIXTURE_DIR, f["file"])) as z:
            data = z.read()
        digest = hashlib.sha256(data).hexdigest()
        if digest != f["sha256"]:
            raise RuntimeError("%s: unpacked sha256 %s, the manifest says %s" % (f["file"], digest, f["sha256"]))
        paths[role] = os.path.join(dest, f["file"][:-3])
        with open(paths[role], "wb") as out:
            out.write(data)
    return paths


class QemuFixture:
    """One device: its flash file, its pty, the QEMU process of the current boot."""

    def __init__(self, reload_on_reset=False, gate_boot=True, paused=False):
        """reload_on_reset=True: one QEMU for all boots, the images given with -device loader (what QEMU
        does by default; only for showing why the harness restarts QEMU). gate_boot=False: pass smpctl's
        bytes to the UART during MCUboot too (they wedge the application's SMP receiver, see the README).
        paused=True: the first boot waits (QEMU -S) until resume()."""
        self.paused = paused
        self.info = manifest()
        self.dir = tempfile.TemporaryDirectory(prefix="smpctl-qemu-")
        d = self.dir.name
        self.files = unpack(self.info, d)
        self.flash = os.path.join(d, "flash.bin")
        self.log_path = os.path.join(d, "log")
        self.reload_on_reset = reload_on_reset
        fl = self.info["flash"]
        image = bytearray(b"\xff" * fl["size"])
        for role, (addr, _) in (("mcuboot", fl["mcuboot"]), ("slot0", fl["slot0"])):
            with open(self.files[role], "rb") as f:
                data = f.read()
            image[addr:addr + len(data)] = data
        with open(self.flash, "wb") as f:
            f.write(image)
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.pty = os.ttyname(self.slave)
        self.device = "serial:" + self.pty
        self.qmp_path = os.path.join(d, "qmp.sock")
        # TCP on the loopback, not a unix socket: QEMU's UART model writes one byte per send(), and a unix
        # stream socket holds only about 300 such one-byte messages unread (each costs ~700 bytes of the
        # sender's buffer) before QEMU gets EAGAIN; the guest's poll-out then times out and the next byte is
        # lost (MCUboot's log lost characters that way, and an SMP answer under CPU load). TCP coalesces
        # them in the receiver's buffer.
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.uart_port = self.listener.getsockname()[1]
        os.set_blocking(self.master, False)
        self.dropped_to_host = 0  # device bytes dropped because nobody read the pty (a full buffer)
        self.proc = None
        self.procs = []           # every QEMU started: stop() ends any still running
        self.uart = None
        self.qmp = None
        self.qmp_buf = b""
        self.boots = 0
        self.boot_times = []      # seconds from a reset request to the new QEMU's UART connection
        self.failure = None
        self.gate_boot = gate_boot
        self.app_up = False       # the application has started in this boot (its banner came)
        self.app_starts = 0       # boots that reached the application
        self.boot_out = b""
        self.dropped = 0          # bytes from smpctl dropped while MCUboot ran (gate_boot)
        self.stopping = False
        self.cond = threading.Condition()
        self.thread = None
        self.log = open(self.log_path, "ab")

    # -- QEMU ----------------------------------------------------------------------------------------------
    def command(self):
        cmd = [QEMU, "-M", self.info["qemu_machine"], "-cpu", self.info["qemu_cpu"], "-nographic", "-monitor", "none",
               "-chardev", "socket,id=uart,host=127.0.0.1,port=%d,nodelay=on" % self.uart_port, "-serial", "chardev:uart",
               "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path]
        if self.paused and self.boots == 0:
            cmd.append("-S")
        if self.reload_on_reset:
            fl = self.info["flash"]
            cmd += ["-device", "loader,file=%s,addr=0x%x" % (self.files["mcuboot"], fl["mcuboot"][0]),
                    "-device", "loader,file=%s,addr=0x%x" % (self.files["slot0"], fl["slot0"][0])]
        else:
            cmd += ["-action", "reboot=shutdown,shutdown=pause", "-device", "loader,file=%s,addr=0" % self.flash]
        return cmd

    def _spawn(self):
        self.log.write(b"\n--- boot %d: %s\n" % (self.boots + 1, " ".join(self.command()).encode()))
        self.log.flush()
        proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        self.listener.settimeout(10)
        try:
            uart, _ = self.listener.accept()
        except socket.timeout:
            proc.kill()
            proc.wait()
            raise RuntimeError("qemu did not connect its UART within 10 s:\n" + self.output()[-2000:])
        qmp = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deadline = time.monotonic() + 10
        while True:
            try:
                qmp.connect(self.qmp_path)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    proc.kill()
                    raise RuntimeError("qemu's QMP socket did not come up:\n" + self.output()[-2000:])
                time.sleep(0.02)
        self.qmp, self.qmp_buf = qmp, b""
        self._qmp_wait_return({"execute": "qmp_capabilities"})
        with self.cond:
            self.app_up, self.boot_out = False, b""
            self.proc, self.uart = proc, uart
            self.boots += 1
            self.cond.notify_all()

    def _qmp_read(self):
        """One JSON message from QMP (blocking)."""
        while b"\n" not in self.qmp_buf:
            data = self.qmp.recv(65536)
            if not data:
                raise RuntimeError("QMP closed")
            self.qmp_buf += data
        line, self.qmp_buf = self.qmp_buf.split(b"\n", 1)
        return json.loads(line)

    def _qmp_wait_return(self, cmd):
        self.qmp.sendall(json.dumps(cmd).encode() + b"\n")
        while True:
            msg = self._qmp_read()
            if "return" in msg:
                return msg["return"]
            if "error" in msg:
                raise RuntimeError("QMP %s: %s" % (cmd["execute"], msg["error"]))

    def _reboot(self):
        """The guest asked for a reset and QEMU paused: save the flash, end this QEMU, start the next one."""
        t0 = time.monotonic()
        tmp = self.flash + ".new"
        # memsave (the CPU's view), not pmemsave: the nRF51's flash is mapped in the SoC's own container,
        # not in QEMU's system memory, so pmemsave reads zeros there
        self._qmp_wait_return({"execute": "memsave", "arguments": {"val": 0, "size": self.info["flash"]["size"],
                                                                   "filename": tmp, "cpu-index": 0}})
        os.replace(tmp, self.flash)
        self.qmp.sendall(b'{"execute": "quit"}\n')
        self.proc.wait(timeout=10)
        self.uart.close()
        self.qmp.close()
        with self.cond:
            self.uart = None
        self._spawn()
        self.boot_times.append(time.monotonic() - t0)

    def _watch_boot(self, data):
        """Follows the boot on the device's output: MCUboot's banner starts one, the application's ends it."""
        self.boot_out = (self.boot_out + data)[-4096:]
        i = self.boot_out.rfind(MCUBOOT_BANNER)
        if i >= 0:
            self.boot_out = self.boot_out[i + len(MCUBOOT_BANNER):]
            self.app_up = False
        j = self.boot_out.find(JUMP)
        if not self.app_up and j >= 0 and APP_BANNER in self.boot_out[j:]:
            self.app_up = True
            self.app_starts += 1
            with self.cond:
                self.cond.notify_all()

    # -- the relay -------------------------------------------------------------------------------------------
    def _relay(self):
        while not self.stopping:
            fds = [self.master] + ([self.uart, self.qmp] if self.uart else [])
            try:
                r, _, _ = select.select(fds, [], [], 0.1)
            except (OSError, ValueError):
                continue
            try:
                if self.master in r:
                    try:
                        data = os.read(self.master, 4096)
                    except BlockingIOError:
                        data = b""
                    if self.uart and (self.app_up or not self.gate_boot):
                        self.uart.sendall(data)
                    else:
                        self.dropped += len(data)
                if self.uart and self.uart in r:
                    data = self.uart.recv(4096)
                    if data:
                        self.log.write(data)
                        self.log.flush()
                        try:
                            os.write(self.master, data)   # raw pty: all or nothing below its 4 KiB+ buffer
                        except BlockingIOError:
                            self.dropped_to_host += len(data)
                        self._watch_boot(data)
                if self.uart and self.qmp in r:
                    data = self.qmp.recv(65536)
                    self.qmp_buf += data
                    while b"\n" in self.qmp_buf:
                        line, self.qmp_buf = self.qmp_buf.split(b"\n", 1)
                        msg = json.loads(line)
                        if msg.get("event") == "SHUTDOWN" and not self.stopping:
                            self.log.write(b"\n--- reset (%s)\n" % json.dumps(msg.get("data")).encode())
                            self._reboot()
                            break
            except Exception as e:  # noqa: BLE001 - reported by wait_boot()
                if self.stopping:
                    return
                with self.cond:
                    self.failure = "%s: %s" % (type(e).__name__, e)
                    self.cond.notify_all()
                return

    # -- lifecycle -----------------------------------------------------------------------------------------
    def start(self):
        try:
            self._spawn()
        except BaseException:
            self.close()
            raise
        self.thread = threading.Thread(target=self._relay, name="qemu-relay", daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.stopping = True
        if self.thread:
            self.thread.join(timeout=10)
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    def close(self):
        try:
            self.stop()
        finally:
            for fd in (self.master, self.slave):
                try:
                    os.close(fd)
                except OSError:
                    pass
            for sock in (self.uart, self.qmp, self.listener):
                if sock:
                    sock.close()
            self.log.close()
            self.dir.cleanup()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def resume(self):
        """Starts the CPU of a fixture made with paused=True (QMP cont; the relay reads the answer)."""
        self.qmp.sendall(b'{"execute": "cont"}\n')

    def flush_input(self):
        """Drops what the device sent while nobody read the pty (boot messages, late answers)."""
        termios.tcflush(self.slave, termios.TCIFLUSH)

    def wait_boot(self, boots, timeout=60.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.boots < boots and self.failure is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("qemu fixture: boot %d did not happen within %.0f s (boots %d):\n%s"
                                         % (boots, timeout, self.boots, self.output()[-2000:]))
                self.cond.wait(left)
            if self.failure:
                raise AssertionError("qemu fixture failed: %s\n%s" % (self.failure, self.output()[-2000:]))

    def wait_app(self, starts=1, timeout=30.0):
        """Waits until the application has started `starts` times in all and runs."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while (not self.app_up or self.app_starts < starts) and self.failure is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("qemu fixture: the application did not start within %.0f s:\n%s"
                                         % (timeout, self.output()[-2000:]))
                self.cond.wait(left)

    def output(self):
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")


def available():
    """None when qemu-system-arm can run the fixture, else why not."""
    if shutil.which(QEMU) is None:
        return "%s not found (Debian: apt-get install qemu-system-arm)" % QEMU
    return None
