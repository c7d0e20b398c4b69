"""fs upload, download, stat, hash, types and close (issue 16) over UDP against smpctl-sim's file system
group: transfers both ways, a resume, a file already there, lost frames, and the device's refusals."""
import hashlib
import os
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.dirname(__file__))
from harness import *  # noqa: E402,F403

EXIT_IO = 74


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


class FileSystem(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = Sim("--fs-sha256")
        cls.tmp = tempfile.TemporaryDirectory(prefix="smpctl-fs-")
        cls.data = os.urandom(40000)
        cls.local = cls.path("data.bin", cls.data)

    @classmethod
    def tearDownClass(cls):
        cls.sim.close()
        cls.tmp.cleanup()

    @classmethod
    def path(cls, name, data=None):
        p = os.path.join(cls.tmp.name, name)
        if data is not None:
            with open(p, "wb") as f:
                f.write(data)
        return p

    def smpctl(self, *args, sim=None):
        return run(list(args), device=(sim or self.sim).address)

    def test_round_trip(self):
        r = self.smpctl("--json", "fs", "upload", self.local, "/lfs1/round")
        self.assertEqual(r.code, EXIT_OK, r)
        res = r.json()
        self.assertEqual((res["bytes"], res["skipped"], res["resumed_from"], res["verified"]),
                         (40000, False, 0, "sha256"), res)
        out = self.path("round.out")
        r = self.smpctl("fs", "download", "/lfs1/round", out)
        self.assertEqual(r.code, EXIT_OK, r)
        self.assertIn("sha256 checked", r.out)
        self.assertEqual(read_bytes(out), self.data)
        r = self.smpctl("--json", "fs", "stat", "/lfs1/round")
        self.assertEqual(r.json(), {"name": "/lfs1/round", "len": 40000})
        r = self.smpctl("--json", "fs", "hash", "/lfs1/round")
        self.assertEqual(r.json(), {"name": "/lfs1/round", "type": "sha256", "len": 40000,
                                    "output": hashlib.sha256(self.data).hexdigest()})
        r = self.smpctl("--json", "fs", "hash", "/lfs1/round", "crc32")
        self.assertEqual(r.json()["output"], "%08x" % zlib.crc32(self.data))

    def test_resume_and_already_there(self):
        part = self.path("part.bin", self.data[:15000])
        self.assertEqual(self.smpctl("fs", "upload", part, "/lfs1/resume").code, EXIT_OK)
        r = self.smpctl("--json", "fs", "upload", self.local, "/lfs1/resume")
        self.assertEqual(r.code, EXIT_OK, r)
        self.assertEqual(r.json()["resumed_from"], 15000)
        r = self.smpctl("fs", "upload", self.local, "/lfs1/resume")
        self.assertEqual(r.code, EXIT_OK, r)
        self.assertIn("nothing sent", r.out)
        # --force sends it whole again; a different prefix is not resumed.
        self.assertEqual(self.smpctl("--json", "fs", "upload", "--force", self.local, "/lfs1/resume")
                         .json()["resumed_from"], 0)
        other = self.path("other.bin", os.urandom(40000))
        r = self.smpctl("--json", "fs", "upload", other, "/lfs1/resume")
        self.assertEqual((r.code, r.json()["resumed_from"]), (EXIT_OK, 0), r)

    def test_small_frames_and_window(self):
        r = self.smpctl("--json", "fs", "upload", "--frame-size", "128", "--window", "1", self.local, "/lfs1/small")
        self.assertEqual(r.code, EXIT_OK, r)
        out = self.path("small.out")
        r = self.smpctl("fs", "download", "--window", "1", "/lfs1/small", out)
        self.assertEqual(r.code, EXIT_OK, r)
        self.assertEqual(read_bytes(out), self.data)

    def test_empty_file(self):
        empty = self.path("empty.bin", b"")
        r = self.smpctl("--json", "fs", "upload", empty, "/lfs1/empty")
        self.assertEqual((r.code, r.json()["bytes"]), (EXIT_OK, 0), r)
        out = self.path("empty.out")
        self.assertEqual(self.smpctl("fs", "download", "/lfs1/empty", out).code, EXIT_OK)
        self.assertEqual(os.path.getsize(out), 0)

    def test_refusals(self):
        r = self.smpctl("--json", "fs", "stat", "/lfs1/none")
        self.assertEqual(r.code, EXIT_DEVICE, r)
        self.assertEqual(r.json()["device_error"], {"group": 8, "rc": 3, "name": "FILE_NOT_FOUND"})
        r = self.smpctl("fs", "download", "/lfs1", self.path("dir.out"))
        self.assertEqual(r.code, EXIT_DEVICE, r)
        self.assertIn("FILE_IS_DIRECTORY", r.err)
        self.assertFalse(os.path.exists(self.path("dir.out")))
        r = self.smpctl("fs", "upload", self.local, "/elsewhere/x")
        self.assertIn("MOUNT_POINT_NOT_FOUND", r.err)
        big = self.path("big.bin", os.urandom(70000))  # over CONFIG_MCUMGR_GRP_FS_MAX_FILE_SIZE_64KB
        r = self.smpctl("fs", "upload", big, "/lfs1/big")
        self.assertEqual(r.code, EXIT_DEVICE, r)
        self.assertIn("FILE_WRITE_FAILED", r.err)
        r = self.smpctl("fs", "hash", "/lfs1/round", "md5")
        self.assertIn("CHECKSUM_HASH_NOT_FOUND", r.err)
        r = self.smpctl("fs", "upload", self.path("missing.bin"), "/lfs1/x")
        self.assertEqual(r.code, EXIT_IMAGE, r)

    def test_types_and_close(self):
        r = self.smpctl("--json", "fs", "types")
        self.assertEqual(r.json(), {"types": [{"name": "crc32", "format": "number", "size": 4},
                                              {"name": "sha256", "format": "bytes", "size": 32}]})
        r = self.smpctl("--json", "fs", "close")
        self.assertEqual((r.code, r.json()), (EXIT_OK, {"closed": True}), r)

    def test_lost_frames(self):
        with Sim("--fs", "--drop-every", "5") as lossy:
            r = run(["--json", "--timeout", "0.3", "fs", "upload", self.local, "/lfs1/lossy"], device=lossy.address)
            self.assertEqual(r.code, EXIT_OK, r)
            self.assertGreater(r.json()["resends"], 0)
            self.assertEqual(r.json()["verified"], "crc32")
            out = self.path("lossy.out")
            r = run(["--timeout", "0.3", "fs", "download", "/lfs1/lossy", out], device=lossy.address)
            self.assertEqual(r.code, EXIT_OK, r)
            self.assertEqual(read_bytes(out), self.data)

    def test_firmware_has_no_file_system(self):
        with Sim() as plain:
            # File status is optional in Zephyr; a download is what every fs group has.
            r = run(["fs", "download", "/lfs1/x", self.path("x.out")], device=plain.address)
            self.assertEqual(r.code, EXIT_DEVICE, r)
            self.assertIn("the device has no file system group", r.err)


if __name__ == "__main__":
    unittest.main()
