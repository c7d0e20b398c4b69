"""Factory provisioning (ISSUE-NOTES 31): one devices file, one command, three devices, each updated and
given its own settings and files; a rerun changes nothing that is already right."""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import EXIT_OK, EXIT_USAGE, SIM_ADDRESS, BluezSim, Sim, mkimage, run  # noqa: E402


class Provision(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="smpctl-provision-")
        self.image = mkimage(os.path.join(self.tmp.name, "app.bin"), "--size", "30000", "--version", "1.1.0")
        with open(os.path.join(self.tmp.name, "cal.json"), "w") as f:
            f.write('{"gain": 3}\n')
        self.sims = [Sim("--settings", "--fs", "--fs-sha256") for _ in range(3)]
        self.devices = os.path.join(self.tmp.name, "devices.txt")
        with open(self.devices, "w") as f:
            f.write("# factory line 2\n")
            for i, s in enumerate(self.sims):
                f.write("%s image=app.bin label=bay-%d set:prov/serial=SN-000%d set:prov/count=uint32:%d "
                        "file:/lfs1/cal.json=cal.json\n" % (s.address, i + 1, i + 1, 10 + i))

    def tearDown(self):
        for s in self.sims:
            s.close()
        self.tmp.cleanup()

    def steps(self, r):
        return [line for line in r.json_raw_lines() if line.get("type") == "state"]

    def test_three_devices_then_a_rerun(self):
        r = run(["--json", "--devices", self.devices, "provision"])
        self.assertEqual(r.code, EXIT_OK, r)
        summary = r.json_raw_lines()[-1]
        self.assertEqual([d["exit_code"] for d in summary["devices"]], [0, 0, 0], summary)
        for i, s in enumerate(self.sims):
            lst = run(["--json", "image", "list"], device=s.address).json()["images"]
            self.assertEqual([x["version"] for x in lst if x["active"]], ["1.1.0+0"])
            v = run(["--json", "settings", "read", "prov/serial", "--type", "string"], device=s.address)
            self.assertEqual(v.json()["value"], "SN-000%d" % (i + 1), v)
            v = run(["--json", "settings", "read", "prov/count", "--type", "uint"], device=s.address)
            self.assertEqual(v.json()["value"], str(10 + i), v)
            h = run(["--json", "fs", "hash", "/lfs1/cal.json"], device=s.address)
            self.assertEqual(h.code, EXIT_OK, h)
            own = [x for x in self.steps(r) if x["device"] == s.address]
            self.assertEqual(sum(1 for x in own if x["step"] == "setting" and "written" in x["message"]), 2, own)
            self.assertEqual(sum(1 for x in own if x["step"] == "settings-save"), 1, own)
        # The rerun: the image runs, the values are there, the file's hash matches: nothing is written.
        r = run(["--json", "--devices", self.devices, "provision"])
        self.assertEqual(r.code, EXIT_OK, r)
        for line in r.json_raw_lines():
            if line.get("type") == "result" and "uploaded" in line:
                self.assertFalse(line["uploaded"], line)
            if line.get("type") == "result" and "remote" in line:
                self.assertEqual(line.get("sent", 0), 0, line)
        steps = self.steps(r)
        self.assertFalse([x for x in steps if x["step"] == "setting" and "written" in x["message"]], steps)
        self.assertFalse([x for x in steps if x["step"] == "settings-save"], steps)
        self.assertEqual(sum(1 for x in steps if x["step"] == "provisioned"), 3)

    def test_one_changed_value_is_the_only_write(self):
        self.assertEqual(run(["--devices", self.devices, "provision"]).code, EXIT_OK)
        s = self.sims[1]
        self.assertEqual(run(["settings", "write", "prov/serial", "WRONG", "--type", "string"], device=s.address).code,
                         EXIT_OK)
        r = run(["--json", "--devices", self.devices, "provision"])
        self.assertEqual(r.code, EXIT_OK, r)
        written = [(x["device"], x["message"]) for x in self.steps(r) if x["step"] == "setting"
                   and "written" in x["message"]]
        self.assertEqual(written, [(s.address, "prov/serial written (7 bytes)")])

    def test_one_link_for_every_step(self):
        """Over Bluetooth each connection costs seconds: the steps share one link, and only the update's
        reset makes a second one."""
        with open(self.devices, "w") as f:
            f.write("%s image=app.bin set:prov/serial=SN-1 set:prov/count=uint32:7 file:/lfs1/cal.json=cal.json\n"
                    % SIM_ADDRESS)
        with BluezSim("--settings", "--fs", "--fs-sha256", "--verbose") as b:
            def connects():
                b.log.seek(0)
                return b.log.read().count("connected via")

            r = b.run(["--devices", self.devices, "provision"], device=None)
            self.assertEqual(r.code, EXIT_OK, r)
            self.assertEqual(connects(), 2, "the first link and the one after the reset")
            r = b.run(["--devices", self.devices, "provision"], device=None)
            self.assertEqual(r.code, EXIT_OK, r)
            self.assertEqual(connects(), 3, "the rerun resets nothing: one link")

    def test_bad_words(self):
        with open(self.devices, "w") as f:
            f.write("%s set:prov/serial\n" % self.sims[0].address)
        r = run(["--devices", self.devices, "provision"])
        self.assertEqual(r.code, EXIT_USAGE, r)
        self.assertIn("set:NAME=VALUE", r.err)
        with open(self.devices, "w") as f:
            f.write("%s set:prov/count=uint8:300\n" % self.sims[0].address)
        r = run(["--devices", self.devices, "provision"])
        self.assertEqual(r.code, EXIT_USAGE, r)
        self.assertIn("is not a uint value", r.err)
        r = run(["provision"], device=self.sims[0].address)
        self.assertEqual(r.code, EXIT_USAGE, r)
        self.assertIn("--devices FILE", r.err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
