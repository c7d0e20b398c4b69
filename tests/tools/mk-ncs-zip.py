#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes an nRF Connect SDK update package (dfu_application.zip) for tests, the way NCS writes one.

The command line and the output follow nrfconnect/sdk-nrf scripts/bootloader/generate_zip.py at
848a47522b0c742e0d1b3a657df0c75e2a83b6d0 (this is our own code, not a copy): --bin-files, optional
--zip-names and --name, then key=value pairs; a key that starts with a file's name in the zip belongs to
that file alone, the others to every file; a value that starts with 0x becomes an integer, every other
value stays a string (so image_index "0"). The script adds size, file and modtime per file. The manifest
is json.dumps(manifest, indent=4), the zip is ZipFile(..., 'w'): members stored, manifest.json last.
cmake/sysbuild/zip.cmake at 7a54fdde6791762b5199630560b671308d5f6248 gives the parameters (see
ncs_params() below), cmake/fw_zip.cmake adds type, board and soc for every file. For MCUboot direct-xip,
zip.cmake at 07a7d3bfded66451ccff3afa1a8c630fa0b9af97 lists two variants of the application (see
ncs_params_xip()); --direct-xip on the command line writes those parameters for two --bin-files.

Tests may also break the package on purpose (--set FILE.KEY=VALUE overrides a written value as JSON).
"""
import argparse
import json
import os
import sys
import time
from zipfile import ZipFile


def ncs_params(app, net=None, version="0.0.0+0", net_version="1", board="nrf5340dk/nrf5340/cpuapp",
               net_board="nrf5340dk/nrf5340/cpunet", soc="nrf5340"):
    """The key=value list zip.cmake hands generate_zip.py for an application (image 0, slots 1 and 2) and,
    with SB_CONFIG_DFU_ZIP_NET, a network core (image 1, slots 3 and 4, a B0 "version")."""
    params = [app + "load_address=0x8200", app + "image_index=0", app + "slot_index_primary=1",
              app + "slot_index_secondary=2", app + "version_MCUBOOT=" + version]
    if net:
        params += [net + "image_index=1", net + "slot_index_primary=3", net + "slot_index_secondary=4",
                   net + "load_address=0x1000000", net + "version=" + net_version, net + "board=" + net_board,
                   net + "soc=" + soc]
    return params + ["type=application", "board=" + board, "soc=" + soc]


def ncs_params_xip(app, secondary_app, version="0.0.0+0", primary_address=0xC200, secondary_address=0x43200,
                   board="nrf52833dk/nrf52833", soc="nrf52833"):
    """What zip.cmake at 07a7d3bfded66451ccff3afa1a8c630fa0b9af97 hands generate_zip.py for an application
    built with SB_CONFIG_MCUBOOT_BUILD_DIRECT_XIP_VARIANT: the application linked for the primary slot and
    mcuboot_secondary_app linked for the secondary, both image 0, each with its "slot" (image * 2, + 1 for
    the secondary: mcuboot_image_number_to_slot, without the + 1 of slot_index_*), its load address
    (PM_MCUBOOT_PRIMARY/SECONDARY_APP_ADDRESS) and version_MCUBOOT+XIP."""
    return [app + "load_address=0x%x" % primary_address, app + "version_MCUBOOT+XIP=" + version,
            app + "image_index=0", app + "slot=0",
            secondary_app + "load_address=0x%x" % secondary_address, secondary_app + "image_index=0",
            secondary_app + "slot=1", secondary_app + "version_MCUBOOT+XIP=" + version,
            "type=application", "board=" + board, "soc=" + soc]


def manifest_for(names_to_paths, info, name=None):
    manifest = {"format-version": 1, "time": int(time.time()), "files": []}
    if name is not None:
        manifest["name"] = name
    shared, special = {}, {n: {} for n in names_to_paths}
    for item in info:
        key, val = item.split("=", 1)
        val = int(val, 16) if val.startswith("0x") else val
        owner = [n for n in names_to_paths if key.startswith(n)]
        for n in owner:
            special[n][key[len(n):]] = val
        if not owner:
            shared[key] = val
    for n, p in names_to_paths.items():
        special[n].update({"size": os.path.getsize(p), "file": n, "modtime": int(os.path.getmtime(p))})
        manifest["files"].append(dict(shared, **special[n]))
    return manifest


def write(output, bin_files, info, zip_names=None, name=None, overrides=(), extra=()):
    names = zip_names or [os.path.basename(p) for p in bin_files]
    if len(names) != len(bin_files):
        raise SystemExit("as many --zip-names as --bin-files")
    names_to_paths = dict(zip(names, bin_files))
    manifest = manifest_for(names_to_paths, info, name)
    for o in overrides:
        target, value = o.split("=", 1)
        file, key = target.rsplit(".", 1)
        entry = [f for f in manifest["files"] if f["file"] == file][0]
        if value == "":
            entry.pop(key, None)
        else:
            entry[key] = json.loads(value)
    with ZipFile(output, "w") as z:
        for n, p in names_to_paths.items():
            z.write(p, n)
        for e in extra:
            z.write(e, os.path.basename(e))
        z.writestr("manifest.json", json.dumps(manifest, indent=4))
    return output


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], allow_abbrev=False)
    parser.add_argument("--output", required=True)
    parser.add_argument("--bin-files", required=True, nargs="+")
    parser.add_argument("--zip-names", nargs="+")
    parser.add_argument("--name")
    parser.add_argument("--set", action="append", default=[], help="FILE.KEY=JSON: override (empty: drop)")
    parser.add_argument("--extra", action="append", default=[], help="a file added to the zip, not listed")
    parser.add_argument("--direct-xip", metavar="VERSION",
                        help="the parameters of a direct-xip build for two --bin-files (primary, secondary variant)")
    args, info = parser.parse_known_args()
    if args.direct_xip:
        names = args.zip_names or [os.path.basename(p) for p in args.bin_files]
        if len(names) != 2:
            raise SystemExit("--direct-xip takes two --bin-files: the primary and the secondary variant")
        info = ncs_params_xip(names[0], names[1], version=args.direct_xip) + info
    write(args.output, args.bin_files, info, args.zip_names, args.name, args.set, args.extra)


if __name__ == "__main__":
    sys.exit(main())
