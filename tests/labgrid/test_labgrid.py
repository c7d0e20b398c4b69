"""The board-farm examples (README "Board farms"). labgrid's: the environment file loaded by labgrid's
Environment, without a coordinator, its driver updating an smpctl-sim over UDP and raising with smpctl's
documented exit code when an update fails. LAVA's: the job fragment's test steps run against the same
simulated device."""
import os
import stat
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from harness import *  # noqa: E402,F403

from labgrid import Environment  # noqa: E402  (python3-labgrid; .ci/install-deps installs it)


class Fixture:
    """One smpctl-sim and the environment file loaded once: labgrid registers the driver's classes when it
    imports the module, and a second Environment in this process would register them again."""

    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="smpctl-labgrid-")
        self.sim = Sim()
        # What a user's shell would give: this build's smpctl on PATH, the device in the environment file.
        os.environ["PATH"] = os.path.dirname(os.path.abspath(SMPCTL)) + os.pathsep + os.environ["PATH"]
        os.environ["LG_SMP_ADDRESS"] = self.sim.address
        self.env = Environment(os.path.join(HERE, "env.yaml"))
        self.lg = sys.modules["smpctl_labgrid"]  # the module as Environment imported it
        self.target = self.env.get_target("main")
        self.driver = self.target.get_driver("SmpctlDriver")
        self.image = mkimage(os.path.join(self.tmp.name, "app.bin"), "--size", str(40 * 1024), "--version",
                             "2.0.0", "--key", key("ec-p256", False))

    def close(self):
        self.env.cleanup()
        self.sim.close()
        self.tmp.cleanup()


fx = None


def setUpModule():
    global fx
    fx = Fixture()


def tearDownModule():
    fx.close()


class Labgrid(unittest.TestCase):
    """The driver as env.yaml sets it up, against the simulated device."""

    def dfu_error(self, image, **kw):
        with self.assertRaises(fx.lg.SmpctlError) as cm:
            fx.driver.dfu(image, **kw)
        return cm.exception

    def test_environment_binds_the_simulated_device(self):
        self.assertEqual(fx.target.get_resource("SmpDevice").address, fx.sim.address)
        self.assertIs(fx.driver.device, fx.target.get_resource("SmpDevice"))

    def test_dfu_returns_the_result_and_the_device_runs_the_image(self):
        result = fx.driver.dfu(fx.image, key=key("ec-p256"))
        self.assertTrue(result["ok"] and result["running"] and result["confirmed"], result)
        self.assertEqual((result["mode"], result["version"]), ("test-and-confirm", "2.0.0+0"))
        # Asked independently of the driver: slot 0 runs the hash the result names.
        slot0 = [i for i in run(["--json", "image", "list"], device=fx.sim.address).json()["images"]
                 if i["slot"] == 0][0]
        self.assertEqual(slot0["hash"], result["hash"])
        self.assertTrue(slot0["active"] and slot0["confirmed"])
        again = fx.driver.dfu(fx.image, mode="upload-only")
        self.assertEqual((again["mode"], again["already_running"]), ("upload-only", True), again)

    def test_not_an_image_raises_exit_8(self):
        junk = os.path.join(fx.tmp.name, "junk.bin")
        with open(junk, "wb") as f:
            f.write(b"not an MCUboot image" * 50)
        e = self.dfu_error(junk)
        self.assertEqual(e.exit_code, EXIT_IMAGE)
        self.assertIn("not a valid MCUboot image", e.error)
        self.assertIn("smpctl exited 8 (image file)", str(e))
        self.assertIsNone(e.device_error)

    def test_wrong_key_raises_exit_7(self):
        e = self.dfu_error(fx.image, key=key("rsa-2048"))
        self.assertEqual(e.exit_code, EXIT_VERIFY)
        self.assertIn("check --key", e.error)

    def test_downgrade_raises_exit_10(self):
        old = mkimage(os.path.join(fx.tmp.name, "old.bin"), "--size", "4000", "--version", "0.0.1")
        e = self.dfu_error(old)
        self.assertEqual(e.exit_code, 10)
        self.assertIn("--allow-downgrade", e.error)

    def test_device_refusal_raises_exit_5_with_the_device_error(self):
        # The simulated firmware refuses an image its slots cannot swap (as test_dfu's TOO_LARGE case).
        big = mkimage(os.path.join(fx.tmp.name, "big.bin"), "--size", str(0x35000 + 1 - 552), "--version", "3.0.0")
        e = self.dfu_error(big, mode="upload-only")
        self.assertEqual(e.exit_code, EXIT_DEVICE)
        self.assertEqual((e.device_error["group"], e.device_error["rc"]), (1, 30), e.result)
        self.assertIn("larger than the device accepts", e.error)


class LavaSnippet(unittest.TestCase):
    """The README's LAVA job fragment: its test steps, run by sh as LAVA's test shell would, against the
    simulated device, with a lava-test-case that writes down what it was told."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="smpctl-lava-")
        self.record = os.path.join(self.tmp.name, "record")
        stub = os.path.join(self.tmp.name, "lava-test-case")
        with open(stub, "w") as f:
            f.write('#!/bin/sh\necho "$@" >> "%s"\n' % self.record)
        os.chmod(stub, stat.S_IRWXU)

    def tearDown(self):
        self.tmp.cleanup()

    def steps(self):
        import yaml  # python3-yaml, a labgrid dependency
        readme = read(os.path.join(HERE, "..", "..", "README.md"))
        section = readme[readme.index("## Board farms"):readme.index("## Troubleshooting")]
        block = section[section.index("```yaml") + len("```yaml"):]
        job = yaml.safe_load(block[:block.index("```")])
        test = [a["test"] for a in job if "test" in a][0]
        return test["definitions"][0]["repository"]["run"]["steps"]

    def run_steps(self, image, public_key):
        script = "\n".join(self.steps())
        for example, ours in (("udp:192.0.2.10", fx.sim.address), ("/lava-downloads/app.signed.bin", image),
                              ("/etc/smpctl/root.pub.pem", public_key)):
            self.assertIn(example, script)
            script = script.replace(example, ours)
        proc = subprocess.run(["sh", "-c", script], cwd=self.tmp.name, capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, PATH=self.tmp.name + os.pathsep + os.environ["PATH"]))
        self.assertEqual(proc.returncode, 0, proc)
        return read(self.record).strip(), json.loads(proc.stdout.splitlines()[-1])

    def test_an_update_passes(self):
        record, last = self.run_steps(fx.image, key("ec-p256"))
        self.assertEqual(record, "smpctl-dfu --result pass --measurement 0 --units exit-code")
        self.assertTrue(last["ok"], last)

    def test_a_wrong_key_fails_with_its_exit_code(self):
        record, last = self.run_steps(fx.image, key("rsa-2048"))
        self.assertEqual(record, "smpctl-dfu --result fail --measurement %d --units exit-code" % EXIT_VERIFY)
        self.assertEqual(last["exit_code"], EXIT_VERIFY, last)


class Output(unittest.TestCase):
    """The driver against a stand-in smpctl that prints given lines: what it accepts of the documented output
    and what it refuses."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="smpctl-labgrid-out-")
        self.driver = fx.driver
        self.saved = self.driver.smpctl

    def tearDown(self):
        self.driver.smpctl = self.saved
        self.tmp.cleanup()

    def fake(self, lines, code=0, stderr=""):
        out = os.path.join(self.tmp.name, "out")
        with open(out, "w") as f:
            f.write("".join(json.dumps(l) + "\n" if isinstance(l, dict) else l + "\n" for l in lines))
        script = os.path.join(self.tmp.name, "smpctl")
        with open(script, "w") as f:
            f.write("#!/bin/sh\ncat '%s'\necho '%s' >&2\nexit %d\n" % (out, stderr, code))
        os.chmod(script, stat.S_IRWXU)
        self.driver.smpctl = script

    def test_rack_lines_of_schema_1_are_read(self):
        dev = self.driver.device.address
        self.fake([{"schema_version": 1, "device": dev, "type": "state", "step": "upload", "message": "m"},
                   {"schema_version": 1, "device": dev, "type": "result", "ok": True, "version": "2.0.0+0"},
                   {"schema_version": 1, "type": "summary", "devices": 1, "ok": 1}])
        self.assertEqual(self.driver.dfu("x.bin")["version"], "2.0.0+0")

    def test_another_schema_version_is_refused(self):
        self.fake([{"schema_version": 2, "device": self.driver.device.address, "type": "result", "ok": True}])
        with self.assertRaisesRegex(fx.lg.SmpctlOutputError, "schema_version 2"):
            self.driver.dfu("x.bin")

    def test_output_that_is_not_json_is_refused(self):
        self.fake(["Update complete"])
        with self.assertRaisesRegex(fx.lg.SmpctlOutputError, "not JSON"):
            self.driver.dfu("x.bin")

    def test_a_failure_keeps_its_exit_code_when_its_output_is_unknown(self):
        self.fake([{"schema_version": 2, "type": "result", "ok": False}], code=EXIT_TIMEOUT, stderr="smpctl: timed out")
        with self.assertRaises(fx.lg.SmpctlError) as cm:
            self.driver.dfu("x.bin")
        self.assertEqual((cm.exception.exit_code, cm.exception.error), (4, "smpctl: timed out"))

    def test_exit_0_without_a_result_is_refused(self):
        self.fake([{"schema_version": 1, "device": "udp:x", "type": "state", "step": "done", "message": "m"}])
        with self.assertRaisesRegex(fx.lg.SmpctlOutputError, "without an ok result"):
            self.driver.dfu("x.bin")

    def test_lines_without_a_schema_are_refused(self):
        self.fake([{"type": "result", "ok": True}])
        with self.assertRaisesRegex(fx.lg.SmpctlOutputError, "schema_version None"):
            self.driver.dfu("x.bin")

    def test_a_failure_without_a_result_line_names_stderr(self):
        self.fake([], code=EXIT_TRANSPORT, stderr="smpctl: no route to the device")
        with self.assertRaises(fx.lg.SmpctlError) as cm:
            self.driver.dfu("x.bin")
        self.assertEqual((cm.exception.exit_code, cm.exception.error), (3, "smpctl: no route to the device"))


if __name__ == "__main__":
    main()
