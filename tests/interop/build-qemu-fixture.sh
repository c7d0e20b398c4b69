#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/interop/build-qemu-fixture.sh ZEPHYR_WS_OR_MIRROR [BUILD_DIR]
#
# Rebuilds the QEMU fixture of tests/interop/fixtures/ (qemu-m0-*): sysbuild MCUboot (swap-using-move,
# signed with MCUboot's default ECDSA-P256 test key root-ec-p256.pem; RSA-2048, sysbuild's
# default, leaves MCUboot 5.5 KiB short of the 16 KiB of RAM) + Zephyr's
# samples/subsys/mgmt/mcumgr/smp_svr with overlay-serial.conf (SMP console framing on uart0) for
# qemu_cortex_m0 (QEMU's "microbit" machine, nRF51822: 256 KiB flash, 16 KiB RAM), and writes its entry
# into fixtures/qemu-m0.manifest.json. Artifacts: MCUboot's zephyr.bin, the application
# signed as 1.0.0 (slot 0) and the same application signed again as 1.1.0 (the image to upload), each
# xz-compressed. ZEPHYR_WS_OR_MIRROR: see firmware/scripts/zephyr-ws.sh (sourced). Nothing is fetched.
# BUILD_DIR default: ${TMPDIR:-/tmp}/smpctl-qemu-fixture-build. Run the fixture: tests/interop/qemu.py.
set -u
[ $# -ge 1 ] || { sed -n '3,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
B=${2:-${TMPDIR:-/tmp}/smpctl-qemu-fixture-build}
. "$REPO/firmware/scripts/zephyr-ws.sh" "$1" || exit 1
export ZEPHYR_TOOLCHAIN_VARIANT=cross-compile CROSS_COMPILE=/usr/bin/arm-none-eabi-
SOURCE_DATE_EPOCH=$(git -C "$SMPCTL_ZEPHYR_WS/zephyr" log -1 --format=%ct 2>/dev/null || echo 1754534550)
export SOURCE_DATE_EPOCH
SAMPLE=$ZEPHYR_BASE/samples/subsys/mgmt/mcumgr/smp_svr
KEY=$SMPCTL_ZEPHYR_WS/bootloader/mcuboot/root-ec-p256.pem
IMGTOOL=$SMPCTL_ZEPHYR_WS/bootloader/mcuboot/scripts/imgtool.py
OUT=$HERE/fixtures
V0=1.0.0 V1=1.1.0
version=()
git -C "$ZEPHYR_BASE" rev-parse --git-dir >/dev/null 2>&1 || version=(-DBUILD_VERSION="v$(echo "$SMPCTL_ZEPHYR_DESC" | awk '{print $2}')")
mkdir -p "$B" "$OUT"   # an existing build directory is reused (ninja rebuilds what changed)
t0=$(date +%s)
cmake -GNinja -B "$B" -S "$ZEPHYR_BASE/share/sysbuild" -DAPP_DIR="$SAMPLE" -DBOARD=qemu_cortex_m0 \
  -DPython3_EXECUTABLE="$SMPCTL_PY" "${version[@]}" \
  "-DEXTRA_CONF_FILE=overlay-serial.conf;$HERE/conf/qemu-m0.conf" -DEXTRA_DTC_OVERLAY_FILE="$HERE/conf/qemu-m0.overlay" \
  -DSB_CONFIG_BOOTLOADER_MCUBOOT=y -DSB_CONFIG_MCUBOOT_MODE_SWAP_USING_MOVE=y -DSB_CONFIG_BOOT_SIGNATURE_TYPE_ECDSA_P256=y \
  -DSB_CONFIG_BOOT_SIGNATURE_KEY_FILE="\"$KEY\"" -Dsmp_svr_CONFIG_MCUBOOT_IMGTOOL_SIGN_VERSION="\"$V0\"" \
  >"$B.cmake.log" 2>&1 || { tail -40 "$B.cmake.log" >&2; echo "configure failed" >&2; exit 1; }
ninja -C "$B" >"$B.ninja.log" 2>&1 || { grep -m5 -B2 -A8 "error\|overflow" "$B.ninja.log" >&2; echo "build failed" >&2; exit 1; }
grep -E "FLASH:|RAM:" "$B.ninja.log"
echo "built in $(( $(date +%s) - t0 )) s"
APP=$B/smp_svr/zephyr BOOT=$B/mcuboot/zephyr
# The second image: the same application signed as a higher version (imgtool, the key above, the same
# header/slot/alignment parameters the build used, cmake/mcuboot.cmake: no --pad-header, the header gap is in zephyr.bin)
hdr=$(awk -F= '/^CONFIG_ROM_START_OFFSET=/{print $2}' "$APP/.config")
slot=$(( 0x1a000 ))
"$SMPCTL_PY" "$IMGTOOL" sign --key "$KEY" --header-size "$hdr" --align 4 --version "$V1" --slot-size "$slot" \
  "$APP/zephyr.bin" "$B/smp_svr-$V1.signed.bin" || exit 1
# Same parameters as the build's own signing: both signed images differ only in the header and TLVs
n=$(stat -c %s "$APP/zephyr.bin")
cmp -s <(head -c "$n" "$APP/zephyr.signed.bin" | tail -c +$((hdr + 1))) <(head -c "$n" "$B/smp_svr-$V1.signed.bin" | tail -c +$((hdr + 1))) \
  || { echo "$V1 image and the build's zephyr.signed.bin differ beyond the header: check imgtool's parameters" >&2; exit 1; }
cp "$BOOT/zephyr.bin" "$B/mcuboot.bin"
cp "$APP/zephyr.signed.bin" "$B/smp_svr-$V0.signed.bin"
for f in mcuboot.bin "smp_svr-$V0.signed.bin" "smp_svr-$V1.signed.bin"; do
  xz -9e -T1 -c "$B/$f" >"$OUT/qemu-m0-$f.xz"
done
"$SMPCTL_PY" - "$OUT/qemu-m0.manifest.json" "$B" "$SMPCTL_ZEPHYR_DESC" "$SMPCTL_ZEPHYR_COMMIT" "$V0" "$V1" "$KEY" <<'PY'
import hashlib, json, os, re, sys
path, b, desc, commit, v0, v1, key = sys.argv[1:]
def sha(p): return hashlib.sha256(open(p, "rb").read()).hexdigest()
def cfg(p):
    d = {}
    for l in open(p):
        m = re.match(r"(CONFIG_\w+)=(.*)", l)
        if m: d[m.group(1)] = m.group(2).strip('"')
    return d
app, boot, sb = cfg(b + "/smp_svr/zephyr/.config"), cfg(b + "/mcuboot/zephyr/.config"), cfg(b + "/zephyr/.config")
out = os.path.dirname(path)
files = {}
for role, f, ver in (("mcuboot", "mcuboot.bin", None), ("slot0", "smp_svr-%s.signed.bin" % v0, v0),
                     ("upload", "smp_svr-%s.signed.bin" % v1, v1)):
    xz = os.path.join(out, "qemu-m0-" + f + ".xz")
    e = {"file": os.path.basename(xz), "size_xz": os.path.getsize(xz), "size": os.path.getsize(os.path.join(b, f)),
         "sha256_xz": sha(xz), "sha256": sha(os.path.join(b, f))}
    if ver:
        e["version"] = ver
    if role == "slot0":
        e["flash_addr"] = 0x8000
    files[role] = e
entry = {
    "about": "MCUboot + Zephyr smp_svr on QEMU's microbit machine (qemu_cortex_m0). Run with tests/interop/qemu.py: "
             "one 256 KiB flash file holds MCUboot at 0 and the 1.0.0 image in slot 0 (0x8000); SMP on the serial "
             "port, console framing. A reset stops QEMU (-action reboot=shutdown,shutdown=pause); the harness "
             "saves the flash (QMP memsave) and starts QEMU again on it. See tests/interop/README.md.",
    "zephyr": desc, "zephyr_version": desc.split()[1], "workspace_commit": commit,
    "board": "qemu_cortex_m0", "qemu_machine": "microbit", "qemu_cpu": "cortex-m0",
    "app": "zephyr/samples/subsys/mgmt/mcumgr/smp_svr",
    "conf_files": ["smp_svr/prj.conf", "smp_svr/overlay-serial.conf", "tests/interop/conf/qemu-m0.conf"],
    "dtc_overlay": "tests/interop/conf/qemu-m0.overlay", "transport": "serial (SMP console framing, uart0)",
    "mcuboot_mode": "swap-using-move" if boot.get("CONFIG_BOOT_SWAP_USING_MOVE") == "y" else "?",
    "signature": "ECDSA-P256, MCUboot's test key root-ec-p256.pem" if boot.get("CONFIG_BOOT_SIGNATURE_TYPE_ECDSA_P256") == "y" else "?",
    "flash": {"size": 0x40000, "mcuboot": [0, 0x8000], "slot0": [0x8000, 0x1a000], "slot1": [0x22000, 0x1a000],
              "scratch": [0x3c000, 0x2000], "storage": [0x3e000, 0x2000]},
    "versions": {"slot0": v0, "upload": v1},
    "kconfig": {k: app.get("CONFIG_" + k) for k in ("MCUMGR_TRANSPORT_UART", "UART_MCUMGR_RX_BUF_SIZE",
                "UART_MCUMGR_RX_BUF_COUNT", "MCUMGR_TRANSPORT_NETBUF_SIZE", "MCUMGR_TRANSPORT_NETBUF_COUNT",
                "MCUMGR_GRP_OS_MCUMGR_PARAMS", "MCUMGR_GRP_OS_RESET_MS", "FLASH_LOAD_OFFSET", "ROM_START_OFFSET")},
    "files": files,
}
entry["total_size_xz"] = sum(f["size_xz"] for f in files.values())
with open(path, "w") as fh:
    json.dump({"qemu-m0": entry}, fh, indent=2); fh.write("\n")
print("qemu-m0: %s bytes compressed" % sum(f["size_xz"] for f in files.values()))
PY
