"""The per-device lock: one smpctl at a time changes a device; a second one is refused at once and
told who holds it, and a killed holder leaves nothing behind (smpctl(1) FILES)."""
import os
import stat
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import *  # noqa: E402,F403

EXIT_LOCKED = 75  # EX_TEMPFAIL


def lock_name(address):
    # The transport, '-', then the address lowercased with ':' and the like as '_'.
    return address.replace(":", "-", 1).replace(":", "_").lower() + ".lock"


class Lock(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="smpctl-lock-")
        self.env = {"XDG_RUNTIME_DIR": self.tmp.name}

    def tearDown(self):
        self.tmp.cleanup()

    def lock_file(self, sim):
        return os.path.join(self.tmp.name, "smpctl", lock_name(sim.address))

    def wait_for_holder(self, path, pid, proc):
        deadline = time.time() + 30
        while time.time() < deadline and proc.poll() is None:
            if os.path.exists(path) and read(path).strip() == str(pid):
                return
            time.sleep(0.01)
        self.fail("pid %d never held %s (exit %s)" % (pid, path, proc.poll()))

    def test_second_writer_is_refused_and_told_who_holds_the_lock(self):
        image = mkimage(os.path.join(self.tmp.name, "app.bin"), "--size", str(150 * 1024), "--version", "2.0.0")
        with Sim("--time-scale", "1") as sim:  # real flash timing: the upload takes seconds
            env = dict(os.environ, **self.env)
            env.pop("SMPCTL_DEVICE", None)
            dfu = subprocess.Popen([SMPCTL, "--device", sim.address, "dfu", image], env=env,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                self.wait_for_holder(self.lock_file(sim), dfu.pid, dfu)
                for command in (["image", "erase"], ["reset"], ["image", "confirm"], ["settings", "erase"],
                                ["image", "upload", image], ["dfu", image]):
                    r = run(command, device=sim.address, env=self.env)
                    self.assertEqual(r.code, EXIT_LOCKED, (command, r))
                    self.assertEqual(r.err, "smpctl: another smpctl is updating this device (pid %d): wait for it "
                                            "to end, then run this again\n" % dfu.pid, command)
                r = run(["--json", "image", "erase"], device=sim.address, env=self.env)
                self.assertEqual((r.json()["exit_code"], r.json()["ok"]), (EXIT_LOCKED, False), r)
                self.assertEqual(dfu.poll(), None, "the dfu ended before the checks: they proved nothing")
            finally:
                dfu.kill()
                dfu.wait()
            # Killed while holding it: flock(2) went with the process. (Whatever the busy device answers,
            # or not, within the short timeout, it is not the lock that stops this one.)
            r = run(["--timeout", "0.5", "--tries", "1", "image", "test", "ab" * 32], device=sim.address,
                    env=self.env)
            self.assertNotEqual(r.code, EXIT_LOCKED, r)
            self.assertNotIn("another smpctl", r.err)

    def test_reading_commands_take_no_lock(self):
        with Sim() as sim:
            for command in (["image", "list"], ["echo", "x"], ["params"], ["info"], ["image", "slots"]):
                self.assertEqual(run(command, device=sim.address, env=self.env).code, 0, command)
            self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "smpctl")))
            self.assertEqual(run(["image", "erase"], device=sim.address, env=self.env).code, 0)
            path = self.lock_file(sim)
            self.assertTrue(os.path.exists(path), os.listdir(os.path.join(self.tmp.name, "smpctl")))
            self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode), 0o700)

    def test_without_a_runtime_directory_the_lock_is_in_tmp(self):
        with Sim() as sim:
            r = run(["image", "erase"], device=sim.address, env={"XDG_RUNTIME_DIR": ""})
            self.assertEqual(r.code, 0, r)
            path = os.path.join("/tmp", "smpctl-%d" % os.getuid(), lock_name(sim.address))
            self.assertTrue(os.path.exists(path))
            st = os.stat(os.path.dirname(path))
            self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode) & 0o022), (os.getuid(), 0))
            os.unlink(path)

    def test_a_lock_directory_others_can_write_is_refused(self):
        os.mkdir(os.path.join(self.tmp.name, "smpctl"))
        os.chmod(os.path.join(self.tmp.name, "smpctl"), 0o777)
        r = run(["image", "erase"], device="udp:127.0.0.1:9", env=self.env)
        self.assertEqual(r.code, EXIT_FAILURE, r)
        self.assertIn("is not a directory that only you can write to: remove it, or set XDG_RUNTIME_DIR", r.err)
        self.assertEqual(len(r.err.splitlines()), 1, r)


if __name__ == "__main__":
    main()
