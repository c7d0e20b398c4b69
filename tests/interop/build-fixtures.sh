#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/interop/build-fixtures.sh ZEPHYR_WS_OR_MIRROR [BUILD_ROOT]
#
# Rebuilds every native_sim fixture of tests/interop/fixtures/ (real Zephyr SMP servers that the interop
# tests start) and rewrites fixtures/manifest.json. ZEPHYR_WS_OR_MIRROR: a Zephyr v4.1.0 workspace, or
# a bare git directory holding one (the public repository BurneyBian/zephyrproject); see
# firmware/scripts/zephyr-ws.sh, which this script sources. Nothing is fetched. BUILD_ROOT (default
# ${TMPDIR:-/tmp}/smpctl-fixtures-build) keeps one build directory per fixture.
#
# The matrix (modelled on intercreate/smp-server-fixtures): Zephyr's samples/subsys/mgmt/mcumgr/smp_svr
# with the SMP buffer (CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE) at 128, 512 and 2475 bytes, with and without
# MCUmgr params, the fs and shell groups (the sample's overlays) on the 2475 one, the settings group with an
# application's handler (conf/settings.conf, zephyr-module/src/settings-fixture.c) on another; and smpctl's own
# firmware/ (firmware/build.sh). Each listens on its own UDP port (0.0.0.0), so all of them
# can run at once. Executables are stripped and xz-compressed; __DATE__/__TIME__ come from
# SOURCE_DATE_EPOCH (the workspace's commit date) and the GNU build ID is dropped, so a rebuild from
# the same workspace and host toolchain gives the same bytes, whatever the build directory.
set -u
[ $# -ge 1 ] || { sed -n '3,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WS_ARG=$1
BR=${2:-${TMPDIR:-/tmp}/smpctl-fixtures-build}
. "$REPO/firmware/scripts/zephyr-ws.sh" "$WS_ARG" || exit 1
export ZEPHYR_TOOLCHAIN_VARIANT=host
SOURCE_DATE_EPOCH=$(git -C "$SMPCTL_ZEPHYR_WS/zephyr" log -1 --format=%ct 2>/dev/null || echo 1754534550)
export SOURCE_DATE_EPOCH
SAMPLE=$ZEPHYR_BASE/samples/subsys/mgmt/mcumgr/smp_svr
# An unpacked workspace is not a git repository: name the version for Zephyr's banner
version=()
git -C "$ZEPHYR_BASE" rev-parse --git-dir >/dev/null 2>&1 || version=(-DBUILD_VERSION="v$(echo "$SMPCTL_ZEPHYR_DESC" | awk '{print $2}')")
OUT=$HERE/fixtures
mkdir -p "$BR" "$OUT"

# name | app | UDP port | SMP buffer size | extra fragments (after conf/native-sim.conf, overlay-udp.conf,
# conf/udp-nsos.conf; fragments named overlay-* are the sample's own; *.overlay ones are devicetree overlays)
MATRIX='
smp-svr-b128-params    smp_svr  1340  128   conf/params.conf
smp-svr-b128-noparams  smp_svr  1341  128   -
smp-svr-b512-params    smp_svr  1342  512   conf/params.conf
smp-svr-b2475-full     smp_svr  1343  2475  conf/params.conf;conf/os-info.conf;overlay-fs.conf;conf/fs-extras.conf;overlay-shell-mgmt.conf;conf/shell-extras.conf
smp-svr-b2475-noparams smp_svr  1344  2475  -
smpctl-fw              firmware 1345  2475  -
smp-svr-b2475-settings smp_svr  1346  2475  conf/params.conf;conf/settings.conf
smp-svr-b2475-2images  smp_svr  1347  2475  conf/params.conf;conf/two-images.conf;conf/two-images.overlay
'
only=${FIXTURES:-}   # FIXTURES="name ..." rebuilds only those (the manifest keeps the others' entries)

frag_path() {   # fragment as written in MATRIX -> absolute path
  case $1 in overlay-*) echo "$SAMPLE/$1" ;; *) echo "$HERE/$1" ;; esac
}

fail=0
echo "$MATRIX" | while read -r name app port size extra; do
  [ -n "$name" ] || continue
  if [ -n "$only" ] && ! echo " $only " | grep -q " $name "; then continue; fi
  b=$BR/$name
  t0=$(date +%s)
  common=(-DCONFIG_MCUMGR_TRANSPORT_UDP_PORT="$port" -DCONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE="$size"
          -DCONFIG_MCUMGR_TRANSPORT_UDP_MTU="$size")
  if [ "$app" = firmware ]; then
    "$REPO/firmware/build.sh" "$SMPCTL_ZEPHYR_WS" native_sim/native/64 "$b" -- "${common[@]}" >"$b.log" 2>&1 \
      || { cat "$b.log" >&2; echo "FAILED: $name" >&2; exit 1; }
    frags="firmware/prj.conf;firmware/boards/native_sim_native_64.conf (with firmware/Kconfig)"
  else
    confs="$HERE/conf/native-sim.conf;$SAMPLE/overlay-udp.conf;$HERE/conf/udp-nsos.conf"
    frags="smp_svr/prj.conf;tests/interop/conf/native-sim.conf;smp_svr/overlay-udp.conf;tests/interop/conf/udp-nsos.conf"
    dts=()
    if [ "$extra" != - ]; then
      for f in ${extra//;/ }; do
        case $f in *.overlay) dts=(-DDTC_OVERLAY_FILE="$(frag_path "$f")") ;; *) confs="$confs;$(frag_path "$f")" ;; esac
      done
      for f in ${extra//;/ }; do
        case $f in overlay-*) frags="$frags;smp_svr/$f" ;; *) frags="$frags;tests/interop/$f" ;; esac
      done
    fi
    rm -rf "$b"
    if ! cmake -GNinja -B "$b" -S "$SAMPLE" -DBOARD=native_sim/native/64 -DPython3_EXECUTABLE="$SMPCTL_PY" \
        -DZEPHYR_EXTRA_MODULES="$HERE/zephyr-module" -DEXTRA_CONF_FILE="$confs" "${dts[@]}" "${common[@]}" "${version[@]}" \
        >"$b.log" 2>&1 || ! ninja -C "$b" >>"$b.log" 2>&1; then
      grep -n -B2 -A10 -m6 -E 'error|FAILED' "$b.log" | head -60 >&2
      echo "FAILED: $name (log: $b.log)" >&2; exit 1
    fi
  fi
  exe=$b/zephyr/zephyr.exe
  # The GNU build ID hashes the unstripped file, build directory paths included: drop it, so the
  # stripped executable depends only on the sources, the configuration and the toolchain
  strip --remove-section=.note.gnu.build-id -o "$b/$name.exe" "$exe"
  xz -9e -T1 -c "$b/$name.exe" >"$OUT/$name.exe.xz"
  # Manifest entry from the build's own .config (what was built, not what was asked for)
  "$SMPCTL_PY" - "$b" "$name" "$app" "$frags" "$OUT/$name.exe.xz" "$b/$name.exe" "$SMPCTL_ZEPHYR_DESC" \
      "${SMPCTL_ZEPHYR_COMMIT}" "$(( $(date +%s) - t0 ))" >"$b.manifest.json" <<'PY' || exit 1
import hashlib, json, os, re, sys
b, name, app, frags, xz, exe, desc, commit, secs = sys.argv[1:]
cfg = {}
for line in open(os.path.join(b, "zephyr", ".config")):
    m = re.match(r"^(CONFIG_\w+)=(.*)$", line.strip())
    if m:
        v = m.group(2)
        cfg[m.group(1)] = v.strip('"') if v.startswith('"') else (True if v == "y" else int(v, 0))
def on(k): return cfg.get("CONFIG_" + k) is True
groups = [g for g, k in (("os", "MCUMGR_GRP_OS"), ("img", "MCUMGR_GRP_IMG"), ("stat", "MCUMGR_GRP_STAT"),
                         ("settings", "MCUMGR_GRP_SETTINGS"), ("fs", "MCUMGR_GRP_FS"), ("shell", "MCUMGR_GRP_SHELL"),
                         ("enum", "MCUMGR_GRP_ENUM"), ("zephyr_basic", "MCUMGR_GRP_ZBASIC")) if on(k)]
os_cmds = [c for c, k in (("echo", "MCUMGR_GRP_OS_ECHO"), ("reset", "MCUMGR_GRP_OS"), ("taskstat", "MCUMGR_GRP_OS_TASKSTAT"),
                          ("mcumgr_params", "MCUMGR_GRP_OS_MCUMGR_PARAMS"), ("info", "MCUMGR_GRP_OS_INFO"),
                          ("datetime", "MCUMGR_GRP_OS_DATETIME"), ("bootloader_info", "MCUMGR_GRP_OS_BOOTLOADER_INFO")) if on(k)]
keys = ["MCUMGR_TRANSPORT_UDP_PORT", "MCUMGR_TRANSPORT_UDP_MTU", "MCUMGR_TRANSPORT_NETBUF_SIZE",
        "MCUMGR_TRANSPORT_NETBUF_COUNT", "MCUMGR_TRANSPORT_NETBUF_USER_DATA_SIZE", "MCUMGR_GRP_OS_MCUMGR_PARAMS",
        "MCUMGR_SMP_VERBOSE_ERR_RESPONSE", "MCUMGR_SMP_SUPPORT_ORIGINAL_PROTOCOL", "IMG_ERASE_PROGRESSIVELY",
        "IMG_ENABLE_IMAGE_CHECK", "MCUMGR_GRP_IMG_SLOT_INFO", "MCUMGR_GRP_IMG_FRUGAL_LIST", "MCUMGR_GRP_OS_RESET_MS",
        "MCUMGR_GRP_OS_INFO_BUILD_DATE_TIME", "MCUMGR_GRP_FS_MAX_FILE_SIZE_64KB", "MCUMGR_GRP_FS_CHECKSUM_IEEE_CRC32",
        "MCUMGR_GRP_SHELL_BACKEND_DUMMY_BUF_SIZE", "MCUMGR_GRP_SETTINGS_NAME_LEN", "MCUMGR_GRP_SETTINGS_VALUE_LEN",
        "SETTINGS_NVS", "SHELL_BACKEND_DUMMY_BUF_SIZE", "FILE_SYSTEM_LITTLEFS",
        "BOOTLOADER_MCUBOOT", "USE_DT_CODE_PARTITION", "FLASH_LOAD_OFFSET", "NET_NATIVE_OFFLOADED_SOCKETS",
        "MCUMGR_GRP_IMG_UPDATABLE_IMAGE_NUMBER"]
def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()
entry = {
    "file": os.path.basename(xz),
    "app": "zephyr/samples/subsys/mgmt/mcumgr/smp_svr" if app == "smp_svr" else "firmware/ (smpctl's own)",
    "zephyr": desc, "zephyr_version": desc.split()[1], "workspace_commit": commit,
    "board": "native_sim/native/64", "transport": "udp", "udp_port": cfg["CONFIG_MCUMGR_TRANSPORT_UDP_PORT"],
    "device": "udp:127.0.0.1:%d" % cfg["CONFIG_MCUMGR_TRANSPORT_UDP_PORT"],
    "buf_size": cfg["CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE"], "buf_count": cfg["CONFIG_MCUMGR_TRANSPORT_NETBUF_COUNT"],
    "mcumgr_params": on("MCUMGR_GRP_OS_MCUMGR_PARAMS"), "groups": groups, "os_commands": os_cmds,
    "conf_files": frags.split(";"),
    "extra_module": ("tests/interop/zephyr-module (selects HAS_FLASH_LOAD_OFFSET on native_sim"
                     + ("; the prov settings handler, src/settings-fixture.c)" if on("SMPCTL_INTEROP_SETTINGS") else ")"))
                    if app == "smp_svr" else None,
    "command_line": {"CONFIG_MCUMGR_TRANSPORT_UDP_PORT": cfg["CONFIG_MCUMGR_TRANSPORT_UDP_PORT"],
                     "CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE": cfg["CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE"],
                     "CONFIG_MCUMGR_TRANSPORT_UDP_MTU": cfg["CONFIG_MCUMGR_TRANSPORT_UDP_MTU"]},
    "kconfig": {k: cfg.get("CONFIG_" + k, False) for k in keys},
    "size_xz": os.path.getsize(xz), "size_exe": os.path.getsize(exe),
    "sha256_xz": sha(xz), "sha256_exe": sha(exe),
}
json.dump({name: entry}, sys.stdout, indent=2)
PY
  echo "$name: port $port, buffer $size, $(stat -c %s "$OUT/$name.exe.xz") bytes compressed, $(( $(date +%s) - t0 )) s"
done || fail=1
[ $fail = 0 ] || exit 1

# Merge the entries into fixtures/manifest.json (entries of fixtures not rebuilt now are kept)
"$SMPCTL_PY" - "$OUT/manifest.json" "$BR" "$MATRIX" <<'PY'
import json, os, sys
path, br, matrix = sys.argv[1:]
names = [l.split()[0] for l in matrix.splitlines() if l.strip()]
old = json.load(open(path)) if os.path.exists(path) else {}
fixtures = old.get("fixtures", {})
for n in names:
    p = os.path.join(br, n + ".manifest.json")
    if os.path.exists(p) and os.path.getmtime(p) >= os.path.getmtime(os.path.join(br, n + ".log")):
        fixtures.update(json.load(open(p)))
fixtures = {n: fixtures[n] for n in names if n in fixtures}
doc = {
    "about": "Real Zephyr SMP servers for smpctl's interop tests: native_sim/native/64 executables, stripped and "
             "xz-compressed. Rebuild: tests/interop/build-fixtures.sh ZEPHYR_WS_OR_MIRROR. Run: unpack to a "
             "temporary directory, chmod +x, ./NAME.exe -flash=FLASH_FILE (one flash file per run; it persists "
             "across restarts); SMP on udp:127.0.0.1:udp_port. A reset ends the process (exit status 1): restart it on "
             "the same flash file. No MCUboot: nothing swaps. In conf_files, smp_svr/ is Zephyr's "
             "samples/subsys/mgmt/mcumgr/smp_svr/. See tests/interop/README.md.",
    "fixtures": fixtures,
    "total_size_xz": sum(f["size_xz"] for f in fixtures.values()),
}
with open(path, "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
print("manifest: %d fixtures, %d bytes compressed in all" % (len(fixtures), doc["total_size_xz"]))
PY
