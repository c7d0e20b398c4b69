#!/usr/bin/env python3
"""The whole update timed phase by phase, with and without erase-ahead, and MCUboot's swap modes.

Runs `smpctl dfu --erase-ahead` twice through the BlueZ stand-in at real time (Zephyr's TX wait, MTU
498, 2M PHY, the nRF52833 flash model): the first update lands on a slot 1 that holds the factory image,
so its first chunk erases; the second on the slot the first one erased ahead. Each phase is the time
between the JSON progress lines that open and close it. Next to each row: the best sequence the model
allows (the upload at its ceiling, MCUboot's swap, the reset delay and, for erase-ahead, erasing the
whole slot). Then the same on a device with the firmware's idle erase (smpctl-bluez-sim --idle-erase,
CONFIG_SMPCTL_FW_IDLE_ERASE_SECONDARY): the first update leaves the factory image in slot 1, the device
erases it itself when idle, and the second update, without --erase-ahead, lands on a blank slot. A
400 KiB image does not fit the nRF52833's 220 KiB slots: the table says so instead of timing it. Then the swap time of each MCUboot mode in Zephyr 4.1 for the same image, from the flash
model (REFERENCE.md §13, §14): swap-using-move copies every sector three times (up one sector, then both
ways), swap-using-offset twice (boot/bootutil/src/swap_offset.c: secondary X+1 to primary X, primary X+1
to secondary X), overwrite-only once and cannot revert.

    bench/update_phases.py [--build DIR] [--interval MS ...]
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import (ERASE_MS, IMAGE_BYTES, PAGE, ROOT, WORD_US, BluezSim, flash_ceiling,  # noqa: E402
                   full_slot_ceiling, link_ceiling, make_image)

SLOT_PAGES = 0x37000 // PAGE
RESET_MS = 250  # CONFIG_MCUMGR_GRP_OS_RESET_MS
PHASES = [("inspect", "inspect", "upload"), ("upload", "upload", "verify"), ("verify+test", "verify", "reset"),
          ("reset, swap, reconnect", "reset", "check"), ("confirm", "check", "erase-ahead"),
          ("erase-ahead", "erase-ahead", "result"), ("disconnect (BlueZ's 2 s)", "result", "end")]


def sector_pass_seconds(nbytes):
    """One erase and one rewrite of every sector the image spans."""
    sectors = math.ceil(nbytes / PAGE)
    return sectors * (ERASE_MS / 1000 + (PAGE / 4) * WORD_US / 1e6)


def timed_dfu(build, host, image, erase_ahead):
    """Runs dfu --json [--erase-ahead] and stamps the first JSON line of each step as it arrives."""
    argv = [os.path.join(build, "src/cli/smpctl"), "--device", host.address, "--json", "--reset-timeout", "120",
            "dfu", image] + (["--erase-ahead"] if erase_ahead else [])
    t0 = time.monotonic()
    stamps, result = {}, {}
    with subprocess.Popen(argv, env=host.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as p:
        for line in p.stdout:
            if not line.startswith("{"):
                continue
            event = json.loads(line)
            if event.get("type") == "state":
                stamps.setdefault(event["step"], time.monotonic() - t0)
            elif event.get("type") == "result":
                result = event
                stamps["result"] = time.monotonic() - t0
    stamps["end"] = time.monotonic() - t0
    return stamps, result, p.returncode


def phase_seconds(stamps, start, end):
    if start not in stamps:
        return None
    if end not in stamps:  # a phase that did not happen (no erase-ahead): up to the result
        end = "result"
    return stamps[end] - stamps[start]


FACTORY_PAGES = math.ceil((120 * 1024 + 0x200 + 40) / PAGE)  # the simulated device's factory image
IDLE_DELAY_S = 5  # CONFIG_SMPCTL_FW_IDLE_ERASE_DELAY_S's default; smpctl-bluez-sim --idle-erase
MAX_IMAGE = 0x37000 - 0x2000  # swap-using-move: the slot less MCUboot's update footer (max_image_size)


def print_update(interval, link, what, stamps, result, code, blank, ahead):
    ceiling = min(flash_ceiling(IMAGE_BYTES, blank=True), link) if blank else full_slot_ceiling(IMAGE_BYTES, link)
    best = {"upload": IMAGE_BYTES / ceiling,
            "reset, swap, reconnect": RESET_MS / 1000 + 3 * sector_pass_seconds(IMAGE_BYTES),
            "erase-ahead": SLOT_PAGES * ERASE_MS / 1000 if ahead else 0.0,
            "disconnect (BlueZ's 2 s)": 2.0}
    print("\n%s ms, %d KiB, %s (exit %d, erased ahead: %s)" % (interval, IMAGE_BYTES // 1024, what, code,
                                                              result.get("erased_ahead")))
    total_best = 0.0
    for name, start, end in PHASES:
        seconds = phase_seconds(stamps, start, end)
        total_best += best.get(name, 0.0)
        print("  %-24s %7s s   best %6s s" % (name, "%.2f" % seconds if seconds is not None else "-",
                                               "%.2f" % best[name] if name in best else "-"))
    print("  %-24s %7.2f s   best %6.2f s" % ("total", stamps["end"], total_best), flush=True)


def run(build, interval, images):
    link = link_ceiling(interval)
    host = BluezSim(build, "--conn-interval-ms", str(interval))
    try:
        # Slot 1 of a fresh device is blank: a first update without erase-ahead leaves the factory
        # image there, so the second one meets a full slot; it erases ahead for the third.
        timed_dfu(build, host, images[0], erase_ahead=False)
        for image, blank, ahead in zip(images[1:3], (False, True), (True, False)):
            stamps, result, code = timed_dfu(build, host, image, erase_ahead=ahead)
            what = "onto a %s slot%s" % ("blank" if blank else "full", ", erasing ahead" if ahead else "")
            print_update(interval, link, what, stamps, result, code, blank, ahead)
    finally:
        host.close()
    # The firmware's idle erase (CONFIG_SMPCTL_FW_IDLE_ERASE_SECONDARY): after the first update's
    # confirm the device itself erases the factory image left in slot 1, off the update's clock; the
    # second update, without --erase-ahead, lands on a blank slot.
    host = BluezSim(build, "--conn-interval-ms", str(interval), "--idle-erase=%d" % IDLE_DELAY_S)
    try:
        timed_dfu(build, host, images[3], erase_ahead=False)
        idle = IDLE_DELAY_S + FACTORY_PAGES * ERASE_MS / 1000
        time.sleep(idle + 1)
        stamps, result, code = timed_dfu(build, host, images[4], erase_ahead=False)
        print_update(interval, link, "onto the slot the device erased when idle (--idle-erase: %d s, then "
                     "%d pages, %.1f s, in the background)" % (IDLE_DELAY_S, FACTORY_PAGES, idle),
                     stamps, result, code, blank=True, ahead=False)
    finally:
        host.close()


def too_large():
    for kib in (400,):
        print("\n%d KiB: does not fit: slots are 220 KiB (the largest image swap-using-move swaps is %d KiB, "
              "max_image_size); no update of this size is possible on the nRF52833 layout" % (kib, MAX_IMAGE // 1024))


def swap_modes():
    print("\nMCUboot 2.1 in Zephyr 4.1, swap of a %d KiB image on the nRF52833 model:" % (IMAGE_BYTES // 1024))
    print("  | mode | sector passes | swap | revert | in Zephyr 4.1 |")
    print("  |---|---|---|---|---|")
    for name, passes, revert, status in (
            ("swap-using-move (the firmware's)", 3, "yes", "SB_CONFIG_MCUBOOT_MODE_SWAP_USING_MOVE"),
            ("swap-using-offset", 2, "yes", "SB_CONFIG_MCUBOOT_MODE_SWAP_USING_OFFSET, experimental"),
            ("overwrite-only", 1, "no", "SB_CONFIG_MCUBOOT_MODE_OVERWRITE_ONLY")):
        print("  | %s | %d | %.1f s | %s | %s |" % (name, passes, passes * sector_pass_seconds(IMAGE_BYTES), revert,
                                                     status))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--interval", type=float, nargs="*", default=[7.5, 15])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        images = []
        for version in ("2.0.0", "2.0.1", "2.0.2", "2.0.3", "2.0.4"):
            images.append(os.path.join(tmp, "app-%s.signed.bin" % version))
            make_image(args.build, images[-1], version)
        for interval in args.interval:
            run(args.build, interval, images)
    too_large()
    swap_modes()
    return 0


if __name__ == "__main__":
    sys.exit(main())
