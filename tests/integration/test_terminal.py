"""What smpctl shows on a terminal's standard error while it waits: a status line ("scanning for …")
that is erased before anything else is written, and nothing of it without a terminal or with --json;
the upload's progress line within the terminal's width, on a dumb terminal too, and --quiet."""
import fcntl
import os
import pty
import re
import select
import struct
import sys
import termios

sys.path.insert(0, os.path.dirname(__file__))
from harness import *  # noqa: E402,F403

UNKNOWN = "ble:C0:FF:EE:99:99:99"
ERASE = "\r\033[K"


def run_with_terminal_stderr(args, env, timeout=60, columns=80, term="xterm"):
    """smpctl with standard error on a pseudo-terminal of `columns` columns and TERM=`term` (stdout a pipe):
    (exit code, stdout, the terminal's bytes as text)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    e = dict(os.environ, TERM=term, **env)
    e.pop("SMPCTL_DEVICE", None)
    e.pop("COLUMNS", None)
    proc = subprocess.Popen([SMPCTL] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
                            env=e)
    os.close(slave)
    seen = b""
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the process and its terminal are gone
                    break
                if not chunk:
                    break
                seen += chunk
            elif proc.poll() is not None:
                break
        out = proc.communicate(timeout=max(1, deadline - time.time()))[0]
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, out.decode(), seen.decode(errors="replace").replace("\r\n", "\n")


class StatusLine(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ble = BluezSim()

    @classmethod
    def tearDownClass(cls):
        cls.ble.close()

    def test_scanning_is_shown_then_erased_before_the_error(self):
        code, _, seen = run_with_terminal_stderr(["--device", UNKNOWN, "--scan-timeout", "1", "echo", "x"],
                                                 self.ble.env)
        self.assertEqual(code, EXIT_TRANSPORT, seen)
        self.assertIn(ERASE + "scanning for C0:FF:EE:99:99:99", seen)
        # The error starts on a clean line: the status line was erased just before it.
        error = seen.rindex("smpctl: ")
        self.assertEqual(seen[error - len(ERASE):error], ERASE, repr(seen))
        self.assertNotIn("scanning for", seen[error:])

    def test_status_line_is_erased_once_connected(self):
        """Nothing stays on the terminal for the output (or the shell's prompt) to land behind."""
        with BluezSim() as fresh:  # BlueZ does not know the device yet: smpctl scans for it
            code, out, seen = run_with_terminal_stderr(["--device", SIM_ADDRESS, "echo", "x"], fresh.env)
        self.assertEqual((code, out), (0, "x\n"), seen)
        self.assertIn("scanning for C0:FF:EE:00:00:01", seen)
        self.assertTrue(seen.endswith(ERASE), repr(seen))

    def test_no_status_line_without_a_terminal_or_with_json(self):
        r = self.ble.run(["--scan-timeout", "1", "echo", "x"], device=UNKNOWN)
        self.assertEqual(r.code, EXIT_TRANSPORT, r)
        self.assertNotIn("scanning for", r.err)
        code, out, seen = run_with_terminal_stderr(["--json", "--device", UNKNOWN, "--scan-timeout", "1", "echo",
                                                    "x"], self.ble.env)
        self.assertEqual(code, EXIT_TRANSPORT, seen)
        self.assertNotIn("scanning for", seen)
        self.assertEqual(json.loads(out)["exit_code"], EXIT_TRANSPORT)


def screen_lines(seen):
    """What stays on each line of the terminal: every redraw (carriage return, and the erase where there
    is one) replaces what the line held."""
    lines = []
    for line in seen.replace(ERASE, "\r").split("\n"):
        lines.append(line.split("\r")[-1] if "\r" in line else line)
    return lines


class Progress(unittest.TestCase):
    """image upload and dfu on a first run: the progress line, the closing summary, --quiet."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="smpctl-terminal-")
        cls.image = mkimage(os.path.join(cls.tmp.name, "app.bin"), "--size", str(100 * 1024), "--version", "2.0.0")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def upload_at_terminal(self, columns, term, *options):
        with Sim("--time-scale", "1") as sim:  # real flash timing: about a second, several redraws
            return run_with_terminal_stderr(["--device", sim.address, "image", "upload", self.image] + list(options),
                                            {}, columns=columns, term=term)

    def test_every_redraw_fits_80_columns(self):
        code, out, seen = self.upload_at_terminal(80, "xterm")
        self.assertEqual(code, 0, seen)
        redraws = [r for r in re.split(r"\r\x1b\[K|\r|\n", seen) if r]
        self.assertGreater(len([r for r in redraws if r.startswith("Uploading ")]), 2, repr(seen))
        for r in redraws:  # progress redraws, and the summary's pieces (cut after a ", " or "; ")
            if "%" in r or r.lstrip().startswith(("Uploaded", "buffers", "window")):
                self.assertLessEqual(len(r), 79, repr(r))
        lines = screen_lines(seen)
        done = [l for l in lines if l.startswith("Uploaded  100.0%")]
        self.assertEqual(len(done), 1, repr(seen))
        self.assertRegex(done[0], r"200\.0 KiB|100\.[0-9] KiB")
        self.assertNotIn("ETA", done[0])
        # The summary: bytes, seconds, rate, the device's buffers and window, within the width.
        summary = " ".join(l.strip() for l in lines[lines.index(done[0]) + 1:] if l.strip())
        self.assertRegex(summary, r"^Uploaded .*app\.bin \(100\.[0-9] KiB\) in [0-9.]+ s, [0-9.]+ kB/s, buffers 4 x "
                                  r"2475 bytes, window 3\.$")
        self.assertIn("Verified:", out)

    def test_narrow_terminal_drops_fields_not_lines(self):
        code, _, seen = self.upload_at_terminal(40, "xterm")
        self.assertEqual(code, 0, seen)
        for r in re.split(r"\r\x1b\[K|\r|\n", seen):
            if r.startswith("Upload") and "%" in r:
                self.assertLessEqual(len(r), 39, repr(r))

    def test_dumb_terminal_gets_no_escapes(self):
        code, _, seen = self.upload_at_terminal(80, "dumb")
        self.assertEqual(code, 0, seen)
        self.assertNotIn("\x1b", seen)
        self.assertIn("\rUploading ", seen)
        lines = screen_lines(seen)
        self.assertEqual(len([l for l in lines if l.rstrip().startswith("Uploaded  100.0%")]), 1, repr(seen))
        # A shorter redraw leaves nothing of the longer one before it: it was blanked with spaces.
        self.assertFalse([l for l in lines if "KiB" in l and l.count("%") > 1], repr(seen))

    def test_quiet_leaves_only_errors(self):
        with Sim() as sim:
            for command in (["image", "upload", self.image], ["dfu", self.image, "--reset-timeout", "20"]):
                r = run(["--quiet"] + command, device=sim.address)
                self.assertEqual((r.code, r.out, r.err), (0, "", ""), r)
            code, out, seen = run_with_terminal_stderr(["-q", "--device", sim.address, "--force", "image", "upload",
                                                        self.image], {})
            self.assertEqual((code, out, seen), (0, "", ""))
        r = run(["-q", "--timeout", "0.5", "image", "upload", self.image], device="udp:127.0.0.1:9")
        self.assertEqual(r.code, EXIT_TIMEOUT, r)
        self.assertRegex(r.err, r"^smpctl: udp:127.0.0.1:9 did not answer")


if __name__ == "__main__":
    main()
