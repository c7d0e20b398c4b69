#!/usr/bin/env python3
"""The fault campaign at bench size (issue 19): 1000 seeds by default, with the table of fault kind x
outcome and every violation's seed. CI runs 100 (meson test campaign).

    bench/campaign.py [--build DIR] [--seeds N] [--first S] [--jobs J] [--seed N]

--seed N replays one seed verbosely (what a violation line names).
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="meson build directory (default build/)")
ap.add_argument("--seeds", default="1000")
ap.add_argument("--first", default="1")
ap.add_argument("--jobs", default="2")
ap.add_argument("--seed", help="replay this one seed, verbosely")
a = ap.parse_args()
env = dict(os.environ,
           SMPCTL=os.path.join(a.build, "src", "cli", "smpctl"),
           SMPCTL_SIM=os.path.join(a.build, "src", "sim", "smpctl-sim"),
           SMPCTL_BLUEZ_SIM=os.path.join(a.build, "src", "bluez-sim", "smpctl-bluez-sim"),
           SMPCTL_MKIMAGE=os.path.join(a.build, "src", "tools", "smpctl-mkimage"),
           SMPCTL_TEST_KEYS=os.path.join(ROOT, "tests", "keys"),
           XDG_RUNTIME_DIR=a.build)
campaign = os.path.join(ROOT, "tests", "campaign", "campaign.py")
args = ["--seed", a.seed] if a.seed else ["--seeds", a.seeds, "--first", a.first, "--jobs", a.jobs]
os.execve("/usr/bin/python3", ["/usr/bin/python3", campaign] + args, env)
