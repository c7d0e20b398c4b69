# SPDX-License-Identifier: MIT
"""python3 -m west: `topdir` prints the workspace directory (SMPCTL_ZEPHYR_WS), nothing else works."""
import os
import sys

args = sys.argv[1:]
if args == ["topdir"]:
    print(os.environ.get("SMPCTL_ZEPHYR_WS") or os.path.dirname(os.environ["ZEPHYR_BASE"]))
    sys.exit(0)
if args in (["--version"], ["-V"]):
    print("West version: v1.2.0 (smpctl stub)")
    sys.exit(0)
sys.stderr.write("west stub (firmware/scripts/west-stub): only 'topdir' is implemented, not: %s\n" % " ".join(args))
sys.exit(1)
