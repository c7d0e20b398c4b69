"""smpctl dfu with an nRF Connect SDK package (dfu_application.zip) against smpctl-sim --images 2 (Zephyr
img_mgmt with CONFIG_UPDATEABLE_IMAGE_NUMBER=2: an application and a network core). The packages come from
tests/tools/mk-ncs-zip.py, which writes them as NCS's generate_zip.py does with zip.cmake's parameters."""
import importlib.util
import os
import sys
import zipfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import *  # noqa: E402,F403

GENERATOR = os.path.join(os.path.dirname(__file__), "..", "tools", "mk-ncs-zip.py")
_spec = importlib.util.spec_from_file_location("mk_ncs_zip", GENERATOR)
ncs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ncs)

# Nothing listens here: a command that tried to connect would fail with 3 or 4, not 8.
NOWHERE = "udp:127.0.0.1:9"


def entries(address):
    r = run(["--json", "image", "list"], device=address)
    return {(i["image"], i["slot"]): i for i in r.json()["images"]}


class DfuPackage(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="smpctl-dfu-zip-")
        self.sim = Sim("--images", "2")
        self.app = mkimage(self.path("app.bin"), "--size", "30000", "--version", "2.0.0")
        self.net = mkimage(self.path("net.bin"), "--size", "20000", "--version", "2.1.0")

    def tearDown(self):
        self.sim.close()
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def package(self, name="dfu_application.zip", app_version="2.0.0", sets=(), **kw):
        return ncs.write(self.path(name), [self.app, self.net],
                         ncs.ncs_params("app.bin", "net.bin", version=app_version), name="peripheral_lbs",
                         overrides=sets, **kw)

    def dfu(self, *args, device=None):
        return run(["--json", "--reset-timeout", "20", "dfu"] + list(args), device=device or self.sim.address)

    def test_app_and_net_core_together_then_rerun_sends_nothing(self):
        pkg = self.package()
        r = self.dfu(pkg)
        self.assertEqual(r.code, EXIT_OK, r)
        lines = r.json_lines()
        result = lines[-1]
        self.assertTrue(result["ok"] and result["uploaded"] and result["reset"] and result["running"]
                        and result["confirmed"], result)
        updates = {u["image"]: u for u in result["updates"]}
        self.assertEqual(sorted(updates), [0, 1])
        self.assertEqual((updates[0]["file"], updates[0]["version"], updates[0]["old_version"]),
                         ("app.bin", "2.0.0+0", "1.0.0+0"))
        self.assertEqual((updates[1]["file"], updates[1]["version"]), ("net.bin", "2.1.0+0"))
        for u in updates.values():
            self.assertTrue(u["uploaded"] and u["running"] and u["confirmed"] and u["bytes"] > 0, u)
        self.assertEqual(result["bytes"], updates[0]["bytes"] + updates[1]["bytes"])
        # One reset for both, both marked before it.
        steps = [(l["step"], l["message"]) for l in lines if l["type"] == "state"]
        self.assertEqual([s for s, _ in steps].count("reset"), 1, steps)
        names = [s for s, _ in steps]
        self.assertLess(max(i for i, s in enumerate(names) if s == "verify"), names.index("test"))
        e = entries(self.sim.address)
        self.assertEqual(e[(0, 0)]["hash"], updates[0]["hash"])
        self.assertEqual(e[(1, 0)]["hash"], updates[1]["hash"])
        for k in ((0, 0), (1, 0)):
            self.assertTrue(e[k]["active"] and e[k]["confirmed"], e)

        r = self.dfu(pkg)
        self.assertEqual(r.code, EXIT_OK, r)
        result = r.json_lines()[-1]
        self.assertTrue(result["already_running"] and not result["uploaded"] and not result["reset"], result)
        self.assertTrue(all(u["already_running"] and u["bytes"] == 0 for u in result["updates"]), result)
        self.assertEqual([l["step"] for l in r.json_lines() if l["type"] in ("state", "progress")],
                         ["inspect"] * 5 + ["done"])  # two package lines, the read, one per image, done

    def test_disagreeing_packages_refused_before_connecting(self):
        size = os.path.getsize(self.net)
        cases = [
            (["net.bin.size=%d" % (size + 1)], "net.bin is %d bytes but manifest.json says %d" % (size, size + 1)),
            (['app.bin.version_MCUBOOT="2.0.1"'], "app.bin is version 2.0.0+0 but manifest.json says 2.0.1"),
            (['net.bin.image_index="0"'], "the same image_index 0"),
            (['net.bin.file="cpunet.bin"'], "lists cpunet.bin, which the zip does not hold"),
        ]
        for sets, why in cases:
            pkg = self.package(sets=sets)
            r = self.dfu(pkg, device=NOWHERE)
            self.assertEqual(r.code, EXIT_IMAGE, r)
            error = r.json_lines()[-1]["error"]
            self.assertIn(why, error)
            self.assertIn("refusing the package, nothing was sent", error)
        self.assertNotIn((0, 1), entries(self.sim.address))

    def test_broken_image_refused(self):
        tampered = mkimage(self.path("net-bad.bin"), "--size", "20000", "--version", "2.1.0", "--tamper", "payload")
        os.replace(tampered, self.net)
        r = self.dfu(self.package(), device=NOWHERE)
        self.assertEqual(r.code, EXIT_IMAGE, r)
        self.assertIn("net.bin: ", r.json_lines()[-1]["error"])

    def test_deflated_package_refused(self):
        pkg = self.path("deflated.zip")
        with zipfile.ZipFile(self.package(), "r") as src, zipfile.ZipFile(pkg, "w", zipfile.ZIP_DEFLATED) as dst:
            for n in src.namelist():
                dst.writestr(n, src.read(n))
        r = self.dfu(pkg, device=NOWHERE)
        self.assertEqual(r.code, EXIT_IMAGE, r)
        self.assertIn("is compressed (method 8): NCS stores its members", r.json_lines()[-1]["error"])

    def test_downgrade_of_one_image_refused_nothing_sent(self):
        self.assertEqual(self.dfu(self.package()).code, EXIT_OK)
        older = mkimage(self.path("net-old.bin"), "--size", "20000", "--version", "1.5.0")
        os.replace(older, self.net)
        self.app = mkimage(self.path("app3.bin"), "--size", "30000", "--version", "3.0.0")
        pkg = ncs.write(self.path("mixed.zip"), [self.app, self.net],
                        ncs.ncs_params("app3.bin", "net.bin", version="3.0.0"))
        before = entries(self.sim.address)
        r = self.dfu(pkg)
        self.assertEqual(r.code, EXIT_DOWNGRADE, r)
        self.assertIn("image 1: version 1.5.0+0 is older than the running 2.1.0+0", r.json_lines()[-1]["error"])
        self.assertEqual(entries(self.sim.address), before)  # nothing uploaded, app included

    def test_plain_image_into_image_1(self):
        r = self.dfu(self.net, "--image", "1")
        self.assertEqual(r.code, EXIT_OK, r)
        result = r.json_lines()[-1]
        self.assertEqual([(u["image"], u["uploaded"], u["confirmed"]) for u in result["updates"]], [(1, True, True)])
        e = entries(self.sim.address)
        self.assertEqual(e[(1, 0)]["version"], "2.1.0+0")
        self.assertTrue(e[(1, 0)]["active"] and e[(1, 0)]["confirmed"])
        self.assertEqual(e[(0, 0)]["version"], "1.0.0+0")  # image 0 untouched

    def test_reset_answer_lost_device_restarted_unseen(self):
        """As dfu.c (campaign seed 925): the answer to the reset is lost and the device, back at once, answers
        every probe; the slots show it restarted, so the update goes on, the reset sent once."""
        self.sim.close()
        self.sim = Sim("--images", "2", "--lose-reset-answer", "--verbose")
        r = self.dfu(self.package())
        self.assertEqual(r.code, EXIT_OK, r)
        self.assertTrue(all(u["running"] and u["confirmed"] for u in r.json_lines()[-1]["updates"]), r)
        self.assertEqual(self.sim.output().count("answer to the reset is lost"), 1)

    def test_reset_request_lost(self):
        """The reset request and the first probe after it are lost: the device never restarted and still
        lists both images pending: the reset may not have reached it (exit 4); a rerun finishes."""
        self.sim.close()
        self.sim = Sim("--images", "2", "--lose-request", "0:5:1", "--lose-request", "0:0:1", "--verbose")
        pkg = self.package()
        r = run(["--json", "--timeout", "1", "--reset-timeout", "15", "dfu", pkg], device=self.sim.address)
        self.assertEqual(r.code, EXIT_TIMEOUT, r)
        self.assertIn("the reset may not have reached it", r.err)
        e = entries(self.sim.address)
        self.assertTrue(e[(0, 1)]["pending"] and e[(1, 1)]["pending"], e)
        r = run(["--json", "--timeout", "1", "--reset-timeout", "15", "dfu", pkg], device=self.sim.address)
        self.assertEqual(r.code, EXIT_OK, r)

    def test_erase_settings_once_and_erase_ahead_per_image(self):
        r = self.dfu(self.package(), "--erase-settings", "--require-erase-settings", "--erase-ahead")
        self.assertEqual(r.code, EXIT_OK, r)
        lines = r.json_lines()
        result = lines[-1]
        self.assertTrue(result["settings_erased"] and result["erased_ahead"], result)
        steps = [(l["step"], l["message"]) for l in lines if l["type"] == "state"]
        names = [s for s, _ in steps]
        self.assertEqual(names.count("erase-settings"), 1, steps)
        self.assertLess(names.index("erase-settings"), names.index("test"))
        self.assertGreater(names.index("erase-settings"), max(i for i, s in enumerate(names) if s == "verify"))
        ahead = [m for s, m in steps if s == "erase-ahead"]
        self.assertEqual([m.split(" (")[0] for m in ahead], ["Erasing slot 1", "Erasing slot 3"], ahead)
        e = entries(self.sim.address)
        self.assertEqual(sorted(e), [(0, 0), (1, 0)])  # the old images, the way back, are gone
        self.assertEqual([(i["image"], i["slot"]) for i in result["images"]], [(0, 0), (1, 0)])

    def test_erase_settings_refused_by_firmware_without_it(self):
        self.sim.close()
        self.sim = Sim("--images", "2", "--no-storage-erase")
        r = self.dfu(self.package(), "--erase-settings", "--require-erase-settings")
        self.assertEqual(r.code, EXIT_DEVICE, r)
        self.assertIn("this firmware cannot erase settings", r.json_lines()[-1]["error"])
        e = entries(self.sim.address)
        self.assertFalse(e[(0, 1)]["pending"] or e[(1, 1)]["pending"], e)  # nothing marked


# The nRF52833 DK's slot addresses, as smpctl-sim --direct-xip's MCUboot checks --rom-fixed images against.
SLOT0, SLOT1 = 0xC000, 0x43000


class DfuDirectXip(unittest.TestCase):
    """MCUboot direct-xip (smpctl-sim --direct-xip): NCS packages both variants of the application, one
    linked for each slot; smpctl sends the one for the slot that does not run."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="smpctl-dfu-xip-")
        self.sim = Sim("--direct-xip")

    def tearDown(self):
        self.sim.close()
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def package(self, version, name=None, addresses=(SLOT0, SLOT1), versions=None, sets=()):
        files = []
        for slot, (address, v) in enumerate(zip(addresses, versions or (version, version))):
            files.append(mkimage(self.path("v%s-slot%d.bin" % (version, slot)), "--size", "30000", "--version", v,
                                 "--seed", str(slot + 1), "--rom-fixed", "0x%x" % address))
        names = ["app.signed.bin", "mcuboot_secondary_app.signed.bin"]
        return ncs.write(self.path(name or "xip-%s.zip" % version), files,
                         ncs.ncs_params_xip(names[0], names[1], version=version), zip_names=names, overrides=sets)

    def dfu(self, *args, device=None):
        return run(["--json", "--reset-timeout", "20", "dfu"] + list(args), device=device or self.sim.address)

    def test_twice_in_a_row_uses_both_slots(self):
        r = self.dfu(self.package("2.0.0"))
        self.assertEqual(r.code, EXIT_OK, r)
        result = r.json_lines()[-1]
        self.assertEqual([(u["image"], u["file"], u["version"], u["uploaded"], u["running"], u["confirmed"])
                          for u in result["updates"]],
                         [(0, "mcuboot_secondary_app.signed.bin", "2.0.0+0", True, True, True)])
        steps = [l["step"] for l in r.json_lines() if l["type"] == "state"]
        self.assertEqual(steps.count("reset"), 1, steps)
        e = entries(self.sim.address)
        self.assertEqual(e[(0, 1)]["hash"], result["updates"][0]["hash"])
        self.assertTrue(e[(0, 1)]["active"] and e[(0, 1)]["confirmed"] and not e[(0, 0)]["active"], e)

        r = self.dfu(self.package("3.0.0"))
        self.assertEqual(r.code, EXIT_OK, r)
        result = r.json_lines()[-1]
        self.assertEqual([(u["file"], u["old_version"], u["uploaded"]) for u in result["updates"]],
                         [("app.signed.bin", "2.0.0+0", True)])
        e = entries(self.sim.address)
        self.assertEqual(e[(0, 0)]["hash"], result["updates"][0]["hash"])
        self.assertTrue(e[(0, 0)]["active"] and e[(0, 0)]["confirmed"], e)
        self.assertEqual((e[(0, 1)]["version"], e[(0, 1)]["active"], e[(0, 1)]["pending"]), ("2.0.0+0", False, False))

        r = self.dfu(self.path("xip-3.0.0.zip"))
        self.assertEqual(r.code, EXIT_OK, r)
        result = r.json_lines()[-1]
        self.assertTrue(result["already_running"] and not result["uploaded"] and not result["reset"], result)
        self.assertEqual(result["updates"][0]["file"], "app.signed.bin")  # the variant that runs

    def test_erase_ahead_erases_the_slot_that_ran_before(self):
        r = self.dfu(self.package("2.0.0"), "--erase-ahead")
        self.assertEqual(r.code, EXIT_OK, r)
        self.assertTrue(r.json_lines()[-1]["erased_ahead"])
        self.assertEqual(sorted(entries(self.sim.address)), [(0, 1)])  # the factory image in slot 0 is gone
        r = self.dfu(self.package("3.0.0"), "--erase-ahead")
        self.assertEqual(r.code, EXIT_OK, r)
        e = entries(self.sim.address)
        self.assertEqual(sorted(e), [(0, 0)])
        self.assertEqual(e[(0, 0)]["version"], "3.0.0+0")

    def test_image_erase_reports_the_slot_opposite_the_running_one(self):
        self.assertEqual(self.dfu(self.package("2.0.0")).code, EXIT_OK)  # slot 1 runs, 1.0.0 stays in slot 0
        r = run(["--json", "image", "erase"], device=self.sim.address)
        self.assertEqual((r.code, r.json()), (EXIT_OK, {"erased_slot": 0}), r)
        self.assertEqual(sorted(entries(self.sim.address)), [(0, 1)])
        self.assertEqual(self.dfu(self.package("3.0.0")).code, EXIT_OK)  # slot 0 runs, 2.0.0 stays in slot 1
        r = run(["image", "erase", "--image", "0"], device=self.sim.address)
        self.assertEqual((r.code, r.out), (EXIT_OK, "Slot 1 erased.\n"), r)
        self.assertEqual(sorted(entries(self.sim.address)), [(0, 0)])

    def test_disagreeing_variants_refused_before_connecting(self):
        cases = [
            (dict(versions=("2.0.0", "2.0.1")), "is version 2.0.1+0 but manifest.json says 2.0.0"),
            (dict(addresses=(SLOT0, SLOT0)), "are both linked for address 0xc000"),
            (dict(sets=['mcuboot_secondary_app.signed.bin.slot="0"']), "the same image_index 0"),
            (dict(sets=['mcuboot_secondary_app.signed.bin.image_index="1"']), "app.signed.bin is a direct-xip variant for slot 0 only"),
        ]
        for i, (kw, why) in enumerate(cases):
            r = self.dfu(self.package("2.0.0", name="bad%d.zip" % i, **kw), device=NOWHERE)
            self.assertEqual(r.code, EXIT_IMAGE, r)
            error = r.json_lines()[-1]["error"]
            self.assertIn(why, error)
            self.assertIn("refusing the package, nothing was sent", error)

    def test_swapping_bootloader_refused(self):
        swapping = Sim()
        try:
            r = self.dfu(self.package("2.0.0"), device=swapping.address)
            self.assertEqual(r.code, EXIT_DEVICE, r)
            self.assertIn("the device's MCUboot runs in swap-using-move mode: nothing was sent",
                          r.json_lines()[-1]["error"])
            self.assertNotIn((0, 1), entries(swapping.address))
        finally:
            swapping.close()

    def test_swapping_device_without_bootloader_info_refused_before_marking(self):
        swapping = Sim("--no-bootloader-info")
        try:
            r = self.dfu(self.package("2.0.0"), "--mode", "confirm-only", device=swapping.address)
            self.assertEqual(r.code, EXIT_DEVICE, r)
            error = r.json_lines()[-1]["error"]
            self.assertIn("does not report MCUboot's mode and its image list shows no direct-xip", error)
            self.assertIn("enable CONFIG_MCUMGR_GRP_OS_BOOTLOADER_INFO", error)
            steps = [l["step"] for l in r.json_lines() if l["type"] == "state"]
            self.assertNotIn("reset", steps)
            e = entries(swapping.address)
            self.assertFalse(e[(0, 1)]["pending"] or e[(0, 1)]["permanent"], e)  # landed, not marked
            self.assertTrue(e[(0, 0)]["active"] and e[(0, 0)]["version"] == "1.0.0+0", e)
        finally:
            swapping.close()

    def test_direct_xip_without_bootloader_info_told_by_its_list(self):
        self.sim.close()
        self.sim = Sim("--direct-xip", "--no-bootloader-info")
        for version, slot in (("2.0.0", 1), ("3.0.0", 0)):
            r = self.dfu(self.package(version))
            self.assertEqual(r.code, EXIT_OK, r)
            e = entries(self.sim.address)
            self.assertTrue(e[(0, slot)]["active"] and e[(0, slot)]["version"] == version + "+0", e)


if __name__ == "__main__":
    main()
