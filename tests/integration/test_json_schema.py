"""Scripts and racks read smpctl's JSON and exit codes: neither may change without the change being
documented (smpctl(1) JSON OUTPUT and EXIT STATUS) and recorded here on purpose.

- The exit codes in src/cli/cli.h, in the man page's EXIT STATUS and in EXIT_CODES below are one set.
- Every JSON line of a matrix of commands carries schema_version and device; the top-level keys of each
  kind of line equal json-keys.json (update it, with the man page, when a change is meant), and every key
  is named in the man page's JSON OUTPUT.
"""
import json
import os
import re
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import JSON_SCHEMA_VERSION, Sim, mkimage, run  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))
MAN = os.path.join(TOP, "man", "smpctl.1")
CLI_H = os.path.join(TOP, "src", "cli", "cli.h")
KEYS_FILE = os.path.join(HERE, "json-keys.json")

EXIT_CODES = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 74, 75, 130}


def read(path):
    with open(path) as f:
        return f.read()


def man_section(name):
    text = read(MAN)
    start = text.index(".Sh " + name + "\n")
    end = text.find("\n.Sh ", start + 1)
    return text[start:end]


class ExitCodes(unittest.TestCase):
    def test_one_set(self):
        header = set(int(v) for v in re.findall(r"^\s*EXIT_\w+ = (\d+),", read(CLI_H), re.M))
        documented = set(int(v) for v in re.findall(r"^\.It (\d+)$", man_section("EXIT STATUS"), re.M))
        self.assertEqual(header, EXIT_CODES, "src/cli/cli.h changed the exit codes")
        self.assertEqual(documented, EXIT_CODES, "man/smpctl.1 EXIT STATUS differs from the exit codes")

    def test_rack_order_names_every_failure(self):
        m = re.search(r"in this order, worst first: ([\d, \n]+)\.", man_section("RACKS"))
        self.assertIsNotNone(m)
        order = [int(v) for v in re.findall(r"\d+", m.group(1))]
        self.assertEqual(set(order), EXIT_CODES - {0})
        source = read(os.path.join(TOP, "src", "cli", "cmd-rack.c"))
        names = re.search(r"exit_severity\[\] = \{([^}]*)\}", source).group(1)
        values = dict((k, int(v)) for k, v in re.findall(r"(EXIT_\w+) = (\d+),", read(CLI_H)))
        self.assertEqual([values[n] for n in re.findall(r"EXIT_\w+", names)], order,
                         "cmd-rack.c's order differs from smpctl(1) RACKS")


class JsonLines(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="smpctl-schema-")
        cls.image = mkimage(os.path.join(cls.tmp.name, "app.bin"), "--size", "30000", "--version", "1.1.0")
        cls.old = mkimage(os.path.join(cls.tmp.name, "old.bin"), "--size", "3000", "--version", "0.1.0")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def collect(self):
        """{kind: sorted keys} over the matrix; kind is the command, and the line's type when it has one."""
        seen = {}
        with Sim() as a, Sim() as b:
            matrix = [
                ("echo", ["echo", "hi"], a.address),
                ("params", ["params"], a.address),
                ("info", ["info"], a.address),
                ("image list", ["image", "list"], a.address),
                ("image slots", ["image", "slots"], a.address),
                ("image info", ["image", "info", self.image], None),
                ("upload", ["upload", self.image], b.address),
                ("dfu", ["dfu", self.image], a.address),
                ("dfu", ["dfu", self.old], a.address),  # refused: a downgrade
                ("reset", ["reset"], a.address),
                ("rack", ["--device", a.address, "--device", b.address, "dfu", self.image], None),
            ]
            for kind, args, device in matrix:
                r = run(["--json"] + args, device=device)
                self.assertIn(r.code, (0, 10), r)
                for line in (json.loads(x) for x in r.out.splitlines() if x.strip()):
                    self.assertEqual(line.get("schema_version"), JSON_SCHEMA_VERSION, (kind, line))
                    self.assertIn("device", line, (kind, line))
                    name = kind + ("/" + line["type"] if "type" in line else "")
                    keys = sorted(k for k in line if k not in ("schema_version", "device"))
                    seen.setdefault(name, set()).update(keys)
        return {k: sorted(v) for k, v in seen.items()}

    def test_keys_unchanged_and_documented(self):
        seen = self.collect()
        if os.environ.get("SMPCTL_UPDATE_JSON_KEYS"):
            with open(KEYS_FILE, "w") as f:
                json.dump(seen, f, indent=1, sort_keys=True)
                f.write("\n")
        expected = json.loads(read(KEYS_FILE))
        self.assertEqual(seen, expected, "the JSON output changed: document it in smpctl(1) JSON OUTPUT, then "
                         "rerun with SMPCTL_UPDATE_JSON_KEYS=1 and commit tests/integration/json-keys.json")
        documented = man_section("JSON OUTPUT")
        for kind, keys in seen.items():
            for key in keys:
                self.assertIn('"%s"' % key, documented, "%s: key %s is not in smpctl(1) JSON OUTPUT" % (kind, key))


if __name__ == "__main__":
    unittest.main(verbosity=2)
