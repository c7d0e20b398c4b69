"""image upload and image info with the real binaries: verification before sending, already-there,
resume, faults, and every bad file."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import *  # noqa: E402,F403


class Upload(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="smpctl-upload-")
        cls.image = mkimage(os.path.join(cls.tmp.name, "app.bin"), "--size", str(150 * 1024), "--version", "1.4.0",
                            "--key", key("ec-p256", False))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def test_upload_verifies_and_reports(self):
        with Sim() as sim:
            r = run(["--json", "image", "upload", self.image, "--key", key("ec-p256")], device=sim.address)
            self.assertEqual(r.code, 0, r)
            lines = r.json_lines()
            result = lines[-1]
            self.assertEqual(result["type"], "result")
            self.assertTrue(result["ok"] and result["match"] and not result["skipped"])
            self.assertEqual(result["version"], "1.4.0+0")
            self.assertEqual(result["frame_size"], 2475)
            self.assertEqual(result["window"], 3)
            self.assertTrue(any(l["type"] == "progress" for l in lines))
            listed = run(["--json", "image", "list"], device=sim.address).json()["images"]
            self.assertIn(result["hash"], [i["hash"] for i in listed])
            # The same file again: already there, nothing sent.
            r = run(["--json", "image", "upload", self.image], device=sim.address)
            self.assertEqual(r.code, 0, r)
            self.assertTrue(r.json_lines()[-1]["skipped"])
            # --force: the first chunk's answer says the device holds it all; no rate is made of that.
            r = run(["--json", "image", "upload", self.image, "--force"], device=sim.address)
            result = r.json_lines()[-1]
            self.assertEqual((r.code, result["rate"], result["resumed_from"]), (0, 0, result["bytes"]), r)
            r = run(["image", "upload", self.image, "--force"], device=sim.address)
            self.assertIn("was already on the device: nothing sent", r.err)
        # 'smpctl upload' is 'smpctl image upload' (ISSUE-NOTES 30): same options, same result.
        with Sim() as sim:
            r = run(["--json", "upload", self.image, "--key", key("ec-p256"), "--window", "2"], device=sim.address)
            self.assertEqual(r.code, 0, r)
            result = r.json_lines()[-1]
            self.assertTrue(result["ok"] and result["match"])
            self.assertEqual((result["version"], result["window"]), ("1.4.0+0", 2))

    def test_encrypted_image_is_sent_with_a_warning(self):
        """IMAGE_F_ENCRYPTED_AES128: the hash TLV covers the plaintext, so it cannot match the file's bytes;
        the signature over that hash still can be checked."""
        data = bytearray(read_bytes(self.image))
        data[16] |= 0x04  # ih_flags
        encrypted = self.path("encrypted.bin")
        with open(encrypted, "wb") as f:
            f.write(data)
        with Sim() as sim:
            r = run(["--json", "image", "upload", encrypted, "--key", key("ec-p256")], device=sim.address)
            self.assertEqual(r.code, 0, r)
            warnings = [l for l in r.json_lines() if l["type"] == "warning"]
            self.assertEqual(len(warnings), 1, r)
            self.assertIn("encrypted", warnings[0]["message"])
            self.assertTrue(r.json_lines()[-1]["match"])
            r = run(["image", "upload", encrypted, "--force", "--key", key("rsa-2048")], device=sim.address)
            self.assertEqual(r.code, EXIT_VERIFY, r)

    def test_upload_survives_drops(self):
        with Sim("--drop-every", "9") as sim:
            r = run(["--json", "--timeout", "0.5", "image", "upload", self.image], device=sim.address)
            self.assertEqual(r.code, 0, r)
            self.assertGreater(r.json_lines()[-1]["resends"], 0)

    def test_upload_survives_wrong_and_garbled_answers(self):
        for fault in (["--wrong-seq", "5"], ["--corrupt-response", "6"]):
            with Sim(*fault) as sim:
                r = run(["--json", "--timeout", "0.5", "image", "upload", self.image], device=sim.address)
                self.assertEqual(r.code, 0, (fault, r))
                self.assertTrue(r.json_lines()[-1]["match"], fault)

    def test_upload_with_small_buffers_and_no_params(self):
        for opts in (["--buf-size", "384"], ["--no-params"], ["--legacy"], ["--no-image-check"],
                     ["--no-progressive-erase"]):
            with Sim(*opts) as sim:
                r = run(["--json", "image", "upload", self.image], device=sim.address)
                self.assertEqual(r.code, 0, (opts, r))
                result = r.json_lines()[-1]
                if opts == ["--no-image-check"]:
                    self.assertIsNone(result["match"])
                if opts in (["--buf-size", "384"], ["--no-params"]):
                    self.assertLessEqual(result["frame_size"], 384)

    def test_wrong_key_refused_before_connecting(self):
        # The device address is unreachable: a refusal must come from the file check alone.
        r = run(["image", "upload", self.image, "--key", key("ed25519")], device="udp:127.0.0.1:9")
        self.assertEqual(r.code, EXIT_VERIFY, r)
        self.assertIn("refusing to send", r.err)

    def test_tampered_images_refused(self):
        for what in ("header", "payload", "protected-tlv", "signature"):
            bad = mkimage(self.path("bad-%s.bin" % what), "--size", "4096", "--key", key("rsa-2048", False),
                          "--security-counter", "2", "--tamper", what)
            r = run(["image", "upload", bad, "--key", key("rsa-2048")], device="udp:127.0.0.1:9")
            self.assertEqual(r.code, EXIT_VERIFY, (what, r))
            r = run(["--json", "image", "info", bad, "--key", key("rsa-2048")])
            self.assertEqual(r.code, EXIT_VERIFY, (what, r))
            self.assertFalse(r.json()["ok"])

    def test_not_an_image(self):
        junk = self.path("junk.bin")
        with open(junk, "wb") as f:
            f.write(b"\x7fELF" + b"\0" * 100)
        r = run(["image", "upload", junk], device="udp:127.0.0.1:9")
        self.assertEqual(r.code, EXIT_IMAGE, r)
        self.assertIn("bad magic", r.err)
        r = run(["image", "upload", self.path("missing.bin")], device="udp:127.0.0.1:9")
        self.assertEqual(r.code, EXIT_IMAGE, r)
        self.assertEqual(len(r.err.strip().splitlines()), 1)

    def test_image_info_every_key_type(self):
        for name in ("rsa-2048", "rsa-3072", "ec-p256", "ec-p384", "ed25519"):
            img = mkimage(self.path(name + ".bin"), "--size", "3000", "--key", key(name, False), "--pad-sig")
            r = run(["--json", "image", "info", img, "--key", key(name)])
            self.assertEqual(r.code, 0, (name, r))
            info = r.json()
            self.assertEqual(info["signature"]["state"], "ok")
            self.assertEqual(info["hash_type"], "sha384" if name == "ec-p384" else "sha256")

    def test_intel_hex_upload(self):
        hexfile = mkimage(self.path("app.hex"), "--size", "20000", "--version", "2.0.1", "--hex",
                          "--key", key("ed25519", False))
        with Sim() as sim:
            r = run(["--json", "image", "upload", hexfile, "--key", key("ed25519")], device=sim.address)
            self.assertEqual(r.code, 0, r)
            self.assertTrue(r.json_lines()[-1]["match"])

    def test_too_large_for_the_slot(self):
        big = mkimage(self.path("big.bin"), "--size", str(0x37000))
        with Sim() as sim:
            r = run(["image", "upload", big], device=sim.address)
            self.assertEqual(r.code, EXIT_DEVICE, r)
            self.assertIn("INVALID_IMAGE_TOO_LARGE", r.err)


if __name__ == "__main__":
    main()
