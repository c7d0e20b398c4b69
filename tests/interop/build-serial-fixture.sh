#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/interop/build-serial-fixture.sh ZEPHYR_WS_OR_MIRROR [BUILD_DIR]
#
# Builds fixtures/smp-svr-serial.exe.xz: Zephyr 4.1.0's smp_svr with overlay-serial.conf (SMP over the
# console framing, CONFIG_MCUMGR_TRANSPORT_UART) and MCUmgr params, for native_sim/native/64, its mcumgr
# UART a host tty opened at run time (-mcumgr_tty_port=PATH: conf/serial-tty.overlay, serial-tty.conf),
# and writes fixtures/serial-manifest.json. Kept apart from build-fixtures.sh's UDP matrix and manifest,
# which the UDP interop tests read. As there: stripped, build ID dropped, SOURCE_DATE_EPOCH from the
# workspace, xz -9e; nothing is fetched.
set -eu
[ $# -ge 1 ] || { sed -n '3,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
B=${2:-${TMPDIR:-/tmp}/smpctl-fixtures-build}/smp-svr-serial
. "$REPO/firmware/scripts/zephyr-ws.sh" "$1" || exit 1
export ZEPHYR_TOOLCHAIN_VARIANT=host
SOURCE_DATE_EPOCH=$(git -C "$SMPCTL_ZEPHYR_WS/zephyr" log -1 --format=%ct 2>/dev/null || echo 1754534550)
export SOURCE_DATE_EPOCH
SAMPLE=$ZEPHYR_BASE/samples/subsys/mgmt/mcumgr/smp_svr
version=()
git -C "$ZEPHYR_BASE" rev-parse --git-dir >/dev/null 2>&1 || version=(-DBUILD_VERSION="v$(echo "$SMPCTL_ZEPHYR_DESC" | awk '{print $2}')")
rm -rf "$B"
mkdir -p "$(dirname "$B")"
cmake -GNinja -B "$B" -S "$SAMPLE" -DBOARD=native_sim/native/64 -DPython3_EXECUTABLE="$SMPCTL_PY" \
  -DZEPHYR_EXTRA_MODULES="$HERE/zephyr-module" \
  -DEXTRA_CONF_FILE="$HERE/conf/native-sim.conf;$SAMPLE/overlay-serial.conf;$HERE/conf/params.conf;$HERE/conf/serial-tty.conf" \
  -DEXTRA_DTC_OVERLAY_FILE="$HERE/conf/serial-tty.overlay" "${version[@]}" >"$B.log" 2>&1
ninja -C "$B" >>"$B.log" 2>&1
strip --remove-section=.note.gnu.build-id -o "$B/smp-svr-serial.exe" "$B/zephyr/zephyr.exe"
xz -9e -T1 -c "$B/smp-svr-serial.exe" >"$HERE/fixtures/smp-svr-serial.exe.xz"
"$SMPCTL_PY" - "$B" "$HERE/fixtures" "$SMPCTL_ZEPHYR_DESC" "$SMPCTL_ZEPHYR_COMMIT" <<'PY'
import hashlib, json, os, re, sys
b, out, desc, commit = sys.argv[1:]
cfg = {}
for line in open(os.path.join(b, "zephyr", ".config")):
    m = re.match(r"^(CONFIG_\w+)=(.*)$", line.strip())
    if m:
        v = m.group(2)
        cfg[m.group(1)] = v.strip('"') if v.startswith('"') else (True if v == "y" else int(v, 0))
xz, exe = os.path.join(out, "smp-svr-serial.exe.xz"), os.path.join(b, "smp-svr-serial.exe")
sha = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
keys = ["MCUMGR_TRANSPORT_UART", "MCUMGR_TRANSPORT_NETBUF_SIZE", "MCUMGR_TRANSPORT_NETBUF_COUNT",
        "UART_MCUMGR_RX_BUF_SIZE", "UART_MCUMGR_RX_BUF_COUNT", "MCUMGR_GRP_OS_MCUMGR_PARAMS", "UART_NATIVE_TTY",
        "IMG_ERASE_PROGRESSIVELY", "IMG_ENABLE_IMAGE_CHECK", "BOOTLOADER_MCUBOOT"]
doc = {"about": "smp_svr over the console framing on a host tty (tests/interop/build-serial-fixture.sh): run "
                "./smp-svr-serial.exe -flash=FILE -mcumgr_tty_port=TTY; see tests/interop/README.md.",
       "fixtures": {"smp-svr-serial": {
           "file": os.path.basename(xz), "app": "zephyr/samples/subsys/mgmt/mcumgr/smp_svr",
           "zephyr": desc, "zephyr_version": desc.split()[1], "workspace_commit": commit,
           "board": "native_sim/native/64", "transport": "serial", "framing": "console",
           "conf_files": ["smp_svr/prj.conf", "tests/interop/conf/native-sim.conf", "smp_svr/overlay-serial.conf",
                          "tests/interop/conf/params.conf", "tests/interop/conf/serial-tty.conf"],
           "dts_overlay": "tests/interop/conf/serial-tty.overlay",
           "buf_size": cfg["CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE"], "buf_count": cfg["CONFIG_MCUMGR_TRANSPORT_NETBUF_COUNT"],
           "kconfig": {k: cfg.get("CONFIG_" + k, False) for k in keys},
           "size_xz": os.path.getsize(xz), "size_exe": os.path.getsize(exe), "sha256_xz": sha(xz), "sha256_exe": sha(exe)}}}
with open(os.path.join(out, "serial-manifest.json"), "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
print("smp-svr-serial: %d bytes compressed" % doc["fixtures"]["smp-svr-serial"]["size_xz"])
PY
