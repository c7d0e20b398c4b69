"""What smpctl shows on a terminal's standard error while it waits: a status line ("scanning for …")
that is erased before anything else is written, and nothing of it without a terminal or with --json."""
import os
import pty
import select
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import *  # noqa: E402,F403

UNKNOWN = "ble:C0:FF:EE:99:99:99"
ERASE = "\r\033[K"


def run_with_terminal_stderr(args, env, timeout=60):
    """smpctl with standard error on a pseudo-terminal (stdout a pipe): (exit code, stdout, the terminal's
    bytes as text)."""
    master, slave = pty.openpty()
    e = dict(os.environ, **env)
    e.pop("SMPCTL_DEVICE", None)
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


if __name__ == "__main__":
    main()
