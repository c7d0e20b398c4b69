"""--image N and --slot S (issue 16) against smpctl-sim, a single-image device (Zephyr img_mgmt with one
updatable image lists no "image" field: every slot is image 0's). test and confirm without a hash pick image
N's secondary-slot hash from the device's list; erase defaults to image N's secondary slot (2N + 1)."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import *  # noqa: E402,F403


class ImageN(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.sim = Sim()
        self.image = mkimage(os.path.join(self.tmp.name, "app.bin"), "--size", "20000", "--version", "2.0.0")

    def tearDown(self):
        self.sim.close()
        self.tmp.cleanup()

    def smpctl(self, *args):
        return run(["--json"] + list(args), device=self.sim.address)

    def slots(self, *args):
        r = self.smpctl("image", "list", *args)
        self.assertEqual(r.code, EXIT_OK, r)
        return [(i["image"], i["slot"]) for i in r.json()["images"]]

    def test_test_without_a_hash_marks_the_secondary_slot(self):
        r = self.smpctl("image", "test")
        self.assertEqual(r.code, EXIT_DEVICE, r)  # nothing in slot 1 yet
        self.assertIn("image 0's secondary slot holds no image", r.json_lines()[-1]["error"])
        self.assertEqual(self.smpctl("upload", self.image).code, EXIT_OK)
        r = self.smpctl("image", "test")
        self.assertEqual(r.code, EXIT_OK, r)
        slot1 = [i for i in r.json()["images"] if i["slot"] == 1][0]
        self.assertTrue(slot1["pending"] and not slot1["permanent"], r)

    def test_confirm_with_image_picks_the_secondary_slot(self):
        self.assertEqual(self.smpctl("upload", self.image).code, EXIT_OK)
        r = self.smpctl("image", "confirm", "--image", "0")
        self.assertEqual(r.code, EXIT_OK, r)
        slot1 = [i for i in r.json()["images"] if i["slot"] == 1][0]
        self.assertTrue(slot1["pending"] and slot1["permanent"], r)  # confirm of slot 1: permanent

    def test_image_1_on_a_single_image_device(self):
        self.assertEqual(self.slots("--image", "0"), [(0, 0)])
        self.assertEqual(self.slots("--image", "1"), [])
        r = self.smpctl("image", "test", "--image", "1")
        self.assertEqual(r.code, EXIT_DEVICE, r)
        self.assertIn("--image 1", r.json_lines()[-1]["error"])

    def test_erase_slot_and_default(self):
        self.assertEqual(self.smpctl("upload", self.image).code, EXIT_OK)
        r = self.smpctl("image", "erase", "--image", "0")
        self.assertEqual((r.code, r.json()), (EXIT_OK, {"erased_slot": 1}), r)
        self.assertEqual(self.slots(), [(0, 0)])
        r = self.smpctl("image", "erase", "--slot", "1")
        self.assertEqual((r.code, r.json()), (EXIT_OK, {"erased_slot": 1}), r)
        r = self.smpctl("image", "erase", "--slot", "1", "1")
        self.assertEqual(r.code, EXIT_USAGE, r)
        # Image 1's secondary is slot 3, which a single-image device does not have: Zephyr 4.1 answers
        # FLASH_OPEN_FAILED (10), not INVALID_SLOT (its area id is a uint8_t; seen on the fixtures).
        r = self.smpctl("image", "erase", "--image", "1")
        self.assertEqual((r.code, r.json_lines()[-1]["device_error"]), (EXIT_DEVICE, {"group": 1, "rc": 10,
                                                                                       "name": "FLASH_OPEN_FAILED"}), r)


class TwoImages(unittest.TestCase):
    """smpctl-sim --images 2: Zephyr img_mgmt with CONFIG_UPDATEABLE_IMAGE_NUMBER=2 (image 1, a network core,
    in slots 2 and 3) under MCUboot, which swaps each image's pair on its own."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.sim = Sim("--images", "2")
        self.net = mkimage(os.path.join(self.tmp.name, "net.bin"), "--size", "20000", "--version", "2.0.0")

    def tearDown(self):
        self.sim.close()
        self.tmp.cleanup()

    def smpctl(self, *args):
        return run(["--json"] + list(args), device=self.sim.address)

    def entries(self, *args):
        r = self.smpctl("image", "list", *args)
        self.assertEqual(r.code, EXIT_OK, r)
        return {(i["image"], i["slot"]): i for i in r.json()["images"]}

    def test_upload_test_reset_confirm_image_1(self):
        self.assertEqual(sorted(self.entries()), [(0, 0), (1, 0)])
        r = self.smpctl("upload", self.net, "--image", "1")
        self.assertEqual(r.code, EXIT_OK, r)
        self.assertEqual(sorted(self.entries()), [(0, 0), (1, 0), (1, 1)])
        self.assertEqual(sorted(self.entries("--image", "1")), [(1, 0), (1, 1)])
        r = self.smpctl("image", "test", "--image", "1")
        self.assertEqual(r.code, EXIT_OK, r)
        e = self.entries()
        self.assertTrue(e[(1, 1)]["pending"] and not e[(0, 0)]["pending"], e)
        self.assertEqual(self.smpctl("reset").code, EXIT_OK)
        for _ in range(100):
            if run(["--timeout", "0.2", "echo", "x"], device=self.sim.address).code == EXIT_OK:
                break
        e = self.entries("--image", "1")
        self.assertEqual(e[(1, 0)]["version"], "2.0.0+0")
        self.assertTrue(e[(1, 0)]["active"] and not e[(1, 0)]["confirmed"], e)  # tested, not confirmed
        # confirm --image 1 keeps the tested image running in image 1's primary slot
        r = self.smpctl("image", "confirm", "--image", "1")
        self.assertEqual(r.code, EXIT_OK, r)
        e = self.entries("--image", "1")
        self.assertTrue(e[(1, 0)]["confirmed"] and not e[(1, 1)]["confirmed"], e)

    def test_slots_erase_and_an_image_it_does_not_have(self):
        r = self.smpctl("image", "slots", "--image", "1")
        self.assertEqual([i["image"] for i in r.json()["images"]], [1], r)
        self.assertEqual(self.smpctl("upload", self.net, "--image", "1").code, EXIT_OK)
        r = self.smpctl("image", "erase", "--image", "1")
        self.assertEqual((r.code, r.json()), (EXIT_OK, {"erased_slot": 3}), r)
        self.assertEqual(sorted(self.entries()), [(0, 0), (1, 0)])
        r = self.smpctl("upload", self.net, "--image", "2")
        self.assertEqual(r.code, EXIT_DEVICE, r)
        self.assertIn("FLASH_OPEN_FAILED", r.err)


if __name__ == "__main__":
    main()
