"""smpctl dfu over UDP in every mode, with the already-there rules, the seed scenario and a revert."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import *  # noqa: E402,F403


def slots(address):
    return {i["slot"]: i for i in run(["--json", "image", "list"], device=address).json()["images"]}


class Dfu(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="smpctl-dfu-")
        cls.image = mkimage(os.path.join(cls.tmp.name, "app.bin"), "--size", str(100 * 1024), "--version",
                            "2.0.0", "--key", key("ec-p256", False))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def dfu(self, sim, *args):
        return run(["--json", "--reset-timeout", "20", "dfu", self.image, "--key", key("ec-p256")] + list(args),
                   device=sim.address)

    def test_test_and_confirm(self):
        with Sim() as sim:
            r = self.dfu(sim)
            self.assertEqual(r.code, 0, r)
            lines = r.json_lines()
            result = lines[-1]
            self.assertTrue(result["ok"] and result["uploaded"] and result["running"] and result["confirmed"])
            steps = [l["step"] for l in lines if l["type"] == "state"]
            for step in ("upload", "verify", "test", "reset", "wait", "check", "confirm"):
                self.assertIn(step, steps)
            s = slots(sim.address)
            self.assertEqual(s[0]["hash"], result["hash"])
            self.assertTrue(s[0]["active"] and s[0]["confirmed"])
            # Again: already running and confirmed.
            r = self.dfu(sim)
            self.assertEqual(r.code, 0, r)
            self.assertTrue(r.json_lines()[-1]["already_running"])

    def test_modes(self):
        for mode, running, confirmed in (("upload-only", False, False), ("test-only", True, False),
                                         ("confirm-only", True, True)):
            with Sim() as sim:
                r = self.dfu(sim, "--mode", mode)
                self.assertEqual(r.code, 0, (mode, r))
                result = r.json_lines()[-1]
                self.assertEqual((result["running"], result["confirmed"]), (running, confirmed), mode)

    def test_seed_scenario(self):
        # REFERENCE.md §10: the new image already waits in slot 1, pending; no storage erase in the firmware.
        with Sim("--no-storage-erase") as sim:
            self.assertEqual(self.dfu(sim, "--mode", "upload-only").code, 0)
            h = slots(sim.address)[1]["hash"]
            self.assertEqual(run(["image", "test", h], device=sim.address).code, 0)
            r = self.dfu(sim, "--erase-settings")
            self.assertEqual(r.code, 0, r)
            lines = r.json_lines()
            warnings = [l for l in lines if l["type"] == "warning"]
            self.assertEqual(len(warnings), 1, lines)
            self.assertIn("CONFIG_MCUMGR_GRP_ZBASIC_STORAGE_ERASE", warnings[0]["message"])
            result = lines[-1]
            self.assertTrue(result["upload_skipped"] and result["running"] and result["confirmed"])
            r = self.dfu(sim, "--erase-settings", "--require-erase-settings")
            self.assertEqual(r.code, 0, r)  # already running: nothing to erase for

    def test_require_erase_settings(self):
        with Sim("--no-storage-erase") as sim:
            r = self.dfu(sim, "--require-erase-settings")
            self.assertEqual(r.code, EXIT_DEVICE, r)
            self.assertFalse(slots(sim.address)[1].get("pending"))

    def test_revert_is_reported(self):
        with Sim("--new-image-crashes") as sim:
            r = self.dfu(sim)
            self.assertEqual(r.code, EXIT_REVERTED, r)
            self.assertIn("not the new image", r.err)
            s = slots(sim.address)
            self.assertNotEqual(s[0]["hash"], r.json_lines()[-1].get("hash", ""))

    def test_images_too_large_to_swap_are_refused(self):
        """The firmware (TOO_LARGE_SYSBUILD) refuses an image MCUboot could not swap before any data is sent."""
        image = mkimage(os.path.join(self.tmp.name, "big.bin"), "--size", str(0x35000 + 1 - 552), "--version", "3.0.0")
        with Sim() as sim:
            r = run(["--json", "dfu", image], device=sim.address)
            self.assertEqual(r.code, EXIT_DEVICE, r)
            self.assertIn("larger than the device accepts", r.err)
            self.assertNotIn(1, slots(sim.address))

    def test_images_too_large_to_swap_are_reported(self):
        """A firmware without that check: both upload with "match". MCUboot (swap-using-move, equal slots)
        erases an image that reaches the slot's last page, and leaves one that only lacks the room to move
        pending in slot 1: both exit 9, neither waits out the reset timeout (exit 4)."""
        cases = [(0x37000 - 4096 + 1, "not the new image"),
                 (0x37000 - 8192 + 1, "did not swap in the new image")]
        for size, message in cases:
            image = mkimage(os.path.join(self.tmp.name, "big.bin"), "--size", str(size - 552), "--version", "3.0.0")
            self.assertEqual(os.path.getsize(image), size)
            with Sim("--update-footer", "0") as sim:
                before = slots(sim.address)[0]["hash"]
                r = run(["--json", "--reset-timeout", "60", "dfu", image], device=sim.address)
                self.assertEqual(r.code, EXIT_REVERTED, r)
                self.assertIn(message, r.err)
                after = slots(sim.address)
                self.assertEqual(after[0]["hash"], before)
                if size < 0x37000 - 4096:
                    self.assertIn("two flash sectors smaller than the slot (this one is %d bytes, the slot %d bytes)"
                                  % (size, 0x37000), r.err)
                    self.assertTrue(after[1]["pending"])

    def test_reset_answer_lost(self):
        """Issue 12: the device restarts before its answer to the reset leaves; the silence that follows
        within RESET_MS + 5 s is the reset, and it is never sent twice."""
        with Sim("--lose-reset-answer", "--time-scale", "1", "--verbose") as sim:
            r = run(["-v", "reset"], device=sim.address)
            self.assertEqual(r.code, 0, r)
            self.assertIn("reset requested, answer lost", r.err)
            self.assertEqual(sim.output().count("answer to the reset is lost"), 1)
            time.sleep(1)  # back from the reset
            r = run(["--json", "reset"], device=sim.address)
            self.assertEqual(r.code, 0, r)
            self.assertEqual(r.json(), {"reset": True, "answer_lost": True})
        with Sim() as sim:
            self.assertEqual(run(["--json", "reset"], device=sim.address).json(), {"reset": True, "answer_lost": False})

    def test_reset_after_a_lost_presence_check(self):
        """The "there?" echo before a reset loses its answer and is asked again (--timeout 6): the RESET_MS +
        5 s for the device to go quiet count from the reset request, not from that echo (6 s ago)."""
        with Sim("--lose-answer", "0:0:1", "--lose-reset-answer", "--time-scale", "1", "--verbose") as sim:
            r = run(["-v", "--timeout", "6", "reset"], device=sim.address)
            self.assertEqual(r.code, 0, r)
            self.assertIn("reset requested, answer lost", r.err)
            self.assertEqual(sim.output().count("answer to the reset is lost"), 1)

    def test_reset_that_did_not_happen(self):
        """No answer and the device keeps answering echo: it did not reset; say so, and do not resend."""
        with Sim("--lose-reset-answer", "--verbose") as sim:  # time scale 0: back before anyone notices
            r = run(["reset"], device=sim.address)
            self.assertEqual(r.code, EXIT_TIMEOUT, r)
            self.assertIn("did not reset", r.err)
            self.assertEqual(len(r.err.strip().splitlines()), 1, r)
            self.assertEqual(sim.output().count("answer to the reset is lost"), 1)

    def test_dfu_with_lost_reset_answer(self):
        with Sim("--lose-reset-answer", "--time-scale", "0.3", "--verbose") as sim:
            r = self.dfu(sim)
            self.assertEqual(r.code, 0, r)
            result = r.json_lines()[-1]
            self.assertTrue(result["running"] and result["confirmed"], result)
            self.assertEqual(sim.output().count("answer to the reset is lost"), 1)

    def test_dfu_reset_seen_only_in_the_slots(self):
        """Issue 19 (campaign seed 22): the reset's answer is lost and the device is back before any probe
        misses it (time scale 0), yet MCUboot swapped: the slots show the restart, so dfu goes on, and
        never sends the reset twice."""
        with Sim("--lose-reset-answer", "--verbose") as sim:
            r = self.dfu(sim)
            self.assertEqual(r.code, 0, r)
            result = r.json_lines()[-1]
            self.assertTrue(result["running"] and result["confirmed"], result)
            self.assertEqual(sim.output().count("answer to the reset is lost"), 1)

    def test_reset_request_lost_on_a_lossy_link(self):
        """Issue 19 (campaign seed 925): the reset request is lost on the way, and so is the first "still
        there?" echo after it, which device_reset takes for the restart. The device never restarted and
        still lists the image pending: say the reset may not have reached it (exit 4), not that MCUboot
        refused it (exit 9); the next run resets it and finishes."""
        with Sim("--lose-request", "0:5:1", "--lose-request", "0:0:1", "--verbose") as sim:
            args = ["--timeout", "1", "--reset-timeout", "15"]
            r = run(args + ["--json", "dfu", self.image, "--key", key("ec-p256")], device=sim.address)
            self.assertIn("request 1 of group 0 command 5 is lost", sim.output())
            self.assertEqual(r.code, EXIT_TIMEOUT, r)
            self.assertIn("the reset may not have reached it", r.err)
            self.assertEqual(len(r.err.strip().splitlines()), 1, r)
            self.assertTrue(slots(sim.address)[1]["pending"])
            r = run(args + ["--json", "dfu", self.image, "--key", key("ec-p256")], device=sim.address)
            self.assertEqual(r.code, 0, r)

    def test_lost_state_write_is_sent_again(self):
        """A test request that never reached the device (no answer, and the slot still not pending when read
        back) is sent again, as a read would be; one the device took (only its answer lost) is never sent
        twice. Group 1 command 0 is image state: a read at inspection and after the upload, then the test
        write, the third."""
        with Sim("--lose-request", "1:0:3", "--verbose") as sim:
            r = run(["--timeout", "1", "-v", "--json", "dfu", self.image, "--key", key("ec-p256")],
                    device=sim.address)
            self.assertEqual(r.code, 0, r)
            self.assertIn("did not arrive: sending it again", r.err)
        with Sim("--lose-answer", "1:0:3", "--verbose") as sim:
            r = run(["--timeout", "1", "-v", "--json", "dfu", self.image, "--key", key("ec-p256")],
                    device=sim.address)
            self.assertEqual(r.code, 0, r)
            self.assertIn("the answer to request 3 of group 1 command 0 is lost", sim.output())
            self.assertNotIn("sending it again", r.err)

    def test_lost_answers_to_reads_are_asked_again(self):
        """Issue 12: a lost answer to a read is asked again (--tries), not waited for forever."""
        with Sim("--drop-every", "2") as sim:
            self.assertEqual(run(["echo", "one"], device=sim.address).code, 0)  # request 1
            started = time.time()
            r = run(["--timeout", "1", "-v", "image", "list"], device=sim.address)  # 2 lost, 3 answered
            self.assertEqual(r.code, 0, r)
            self.assertIn("asking again", r.err)
            self.assertLess(time.time() - started, 10)
        with Sim("--drop-every", "1") as sim:
            r = run(["--timeout", "1", "image", "list"], device=sim.address)
            self.assertEqual(r.code, EXIT_TIMEOUT, r)
            self.assertIn("sent 3 times", r.err)

    def test_dfu_survives_lost_answers(self):
        """Issue 12: the answer to the image state read after the upload (group 1, command 0, the second
        such request) is lost; dfu asks again instead of waiting 73 s and failing. Then the answer to the
        test request is lost: dfu reads the state back rather than marking twice."""
        for lost in ("1:0:2", "1:0:3"):
            with Sim("--lose-answer", lost, "--verbose") as sim:
                started = time.time()
                r = run(["--json", "--timeout", "2", "--reset-timeout", "20", "dfu", self.image, "--key",
                         key("ec-p256")], device=sim.address)
                self.assertEqual(r.code, 0, (lost, r))
                self.assertTrue(r.json_lines()[-1]["confirmed"])
                self.assertIn("is lost (fault knob)", sim.output())
                self.assertLess(time.time() - started, 15, lost)

    def test_erase_ahead(self):
        """Issue 17: once confirmed, --erase-ahead erases slot 1 (the old image) so the next upload only
        writes; never while the new image runs unconfirmed (slot 1 is its way back)."""
        with Sim() as sim:
            r = self.dfu(sim, "--erase-ahead")
            self.assertEqual(r.code, 0, r)
            lines = r.json_lines()
            self.assertTrue(lines[-1]["confirmed"] and lines[-1]["erased_ahead"], lines[-1])
            self.assertIn("erase-ahead", [l.get("step") for l in lines if l["type"] == "state"])
            self.assertNotIn(1, slots(sim.address))
            self.assertNotIn(1, {i["slot"] for i in lines[-1]["images"]})
        with Sim() as sim:
            r = self.dfu(sim, "--erase-ahead", "--mode", "test-only")
            self.assertEqual(r.code, 0, r)
            self.assertFalse(r.json_lines()[-1]["erased_ahead"])
            self.assertIn(1, slots(sim.address))  # the factory image: the way back
        with Sim() as sim:
            r = self.dfu(sim)
            self.assertFalse(r.json_lines()[-1]["erased_ahead"])
            self.assertIn(1, slots(sim.address))
            # Already running: slot 1 now holds an image staged with upload-only, not the way back.
            staged = mkimage(os.path.join(self.tmp.name, "staged.bin"), "--size", str(20 * 1024), "--version",
                             "2.1.0", "--key", key("ec-p256", False))
            self.assertEqual(run(["image", "upload", staged], device=sim.address).code, 0)
            r = self.dfu(sim, "--erase-ahead")
            self.assertEqual(r.code, 0, r)
            self.assertTrue(r.json_lines()[-1]["already_running"])
            self.assertFalse(r.json_lines()[-1]["erased_ahead"])
            self.assertEqual(slots(sim.address)[1]["version"], "2.1.0+0")

    def test_idle_erase(self):
        """Issue 17: the firmware's optional idle erase, modelled (--idle-erase): after a confirmed update the
        device erases slot 1 (the old image) by itself when idle, so a second dfu finds it blank and its
        upload pays no erase on the first chunk, unlike the same update on a device without it."""
        other = mkimage(os.path.join(self.tmp.name, "idle.bin"), "--size", str(100 * 1024), "--version", "2.0.2",
                        "--key", key("ec-p256", False))
        seconds = {}
        for name, options in (("idle", ("--idle-erase=1", "--verbose")), ("plain", ())):
            with Sim("--time-scale", "0.2", *options) as sim:
                self.assertEqual(self.dfu(sim).code, 0)
                self.assertIn(1, slots(sim.address))  # the factory image, until the idle erase
                # 1 s, then 120 KiB of factory image: 31 pages (x 0.2); the header page goes first, so
                # the list loses slot 1 at once, and only the end of the idle erase leaves it blank
                deadline = time.time() + 10
                while name == "idle" and "31 pages of slot 1 erased" not in sim.output() and time.time() < deadline:
                    time.sleep(0.1)
                self.assertEqual(1 in slots(sim.address), name == "plain", sim.output())
                r = run(["--json", "--reset-timeout", "20", "dfu", other], device=sim.address)
                self.assertEqual(r.code, 0, r)
                seconds[name] = r.json_lines()[-1]["seconds"]
        # 100 KiB: 27 page erases of 89.7 ms (x 0.2) on top of about 0.2 s of writes
        self.assertGreater(seconds["plain"], 2 * seconds["idle"], seconds)

    def test_blank_slot_is_written_without_erasing(self):
        """The firmware's img_mgmt (no progressive erase) erases on the first chunk only when the slot
        holds data: an upload onto a blank slot pays no page erase (here in device time, scaled)."""
        other = mkimage(os.path.join(self.tmp.name, "other.bin"), "--size", str(100 * 1024), "--version", "2.0.1",
                        "--key", key("ec-p256", False))
        with Sim("--time-scale", "0.5") as sim:
            blank = run(["--json", "image", "upload", self.image], device=sim.address)
            full = run(["--json", "image", "upload", other], device=sim.address)
            self.assertEqual((blank.code, full.code), (0, 0), (blank, full))
            t_blank, t_full = blank.json_lines()[-1]["seconds"], full.json_lines()[-1]["seconds"]
            # 100 KiB: 26 page erases of 89.7 ms on top of about 1 s of writes
            self.assertGreater(t_full, 2 * t_blank, (t_blank, t_full))

    def test_human_output(self):
        with Sim() as sim:
            r = run(["--reset-timeout", "20", "dfu", self.image], device=sim.address)
            self.assertEqual(r.code, 0, r)
            self.assertIn("Update complete", r.err)


if __name__ == "__main__":
    main()
