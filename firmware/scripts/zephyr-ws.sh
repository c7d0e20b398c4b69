# SPDX-License-Identifier: MIT
# Sourced by firmware/build.sh and tests/interop/build-fixtures.sh:
#   . zephyr-ws.sh ZEPHYR_WS_OR_MIRROR
# Sets up a Zephyr 4.1.0 workspace for a build without west (plain CMake and Ninja, Debian 12's cmake,
# ninja, host gcc and gcc-arm-none-eabi) and exports ZEPHYR_BASE, ZEPHYR_MODULES, SMPCTL_ZEPHYR_WS,
# SMPCTL_ZEPHYR_DESC (version and commit, for logs and manifests) and SMPCTL_PY. Never fetches anything.
#
# ZEPHYR_WS_OR_MIRROR is either
#   - a west workspace of Zephyr v4.1.0 (a directory with zephyr/VERSION, bootloader/mcuboot, modules/),
#     used in place; or
#   - a bare git directory of a vendored copy of such a workspace (the public repository
#     BurneyBian/zephyrproject is one: a `west update` tree of v4.1.0 committed as is). Its HEAD is
#     unpacked once to $SMPCTL_ZEPHYR_UNPACK (default ${TMPDIR:-/tmp}/smpctl-zephyr-ws-<commit>); blobs
#     absent from a partial clone are skipped (none of them is used by these builds).
#
# Repairs applied to the workspace (each idempotent, each a no-op on a clean upstream workspace unless
# said otherwise):
#   - NSOS (native_sim's offloaded sockets) answers one request late in 4.1.0:
#     nsos-unlock-while-polling.patch fixes zephyr/drivers/net/nsos_sockets.c. Applied to every
#     workspace, upstream ones included; only native_sim builds compile that file.
#   - the vendored BurneyBian copy adds an SoC layer (drivers/osal, drivers/oswl) and SA6920 pinctrl
#     and clock drivers that are on by default and break native_sim and nRF builds: dropped/opt-in;
#   - it lost every executable bit (imgtool.py needs one) and sysbuild's share/sysbuild/build/Kconfig
#     (kept out by a .gitignore): restored (the Kconfig with upstream v4.1.0's content).
# Host packages (Debian 12) it checks for: SMPCTL_APT=1 installs the missing ones with apt-get.

_smpctl_ws_arg=${1:?usage: . zephyr-ws.sh ZEPHYR_WS_OR_MIRROR}
_smpctl_scripts=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SMPCTL_PY=/usr/bin/python3

_smpctl_pkgs="gcc g++ gcc-arm-none-eabi libnewlib-arm-none-eabi cmake ninja-build gperf device-tree-compiler
  python3-yaml python3-pyelftools python3-packaging python3-jsonschema python3-pykwalify python3-dateutil
  python3-ruamel.yaml python3-intelhex python3-cbor2 python3-click python3-cryptography xz-utils"
_smpctl_missing=$(for p in $_smpctl_pkgs; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done | tr '\n' ' ')
if [ -n "${_smpctl_missing// /}" ]; then
  if [ "${SMPCTL_APT:-0}" = 1 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $_smpctl_missing >/dev/null
  else
    echo "missing Debian packages: $_smpctl_missing(apt-get install them, or rerun with SMPCTL_APT=1)" >&2
    return 1 2>/dev/null || exit 1
  fi
fi

if [ -f "$_smpctl_ws_arg/zephyr/VERSION" ]; then
  SMPCTL_ZEPHYR_WS=$(cd "$_smpctl_ws_arg" && pwd)
  _smpctl_commit=$(git -C "$SMPCTL_ZEPHYR_WS/zephyr" rev-parse HEAD 2>/dev/null || echo unknown)
  [ -f "$SMPCTL_ZEPHYR_WS/.smpctl-source-commit" ] && _smpctl_commit=$(cat "$SMPCTL_ZEPHYR_WS/.smpctl-source-commit")
elif git --git-dir="$_smpctl_ws_arg" rev-parse --verify -q HEAD >/dev/null 2>&1; then
  _smpctl_commit=$(git --git-dir="$_smpctl_ws_arg" rev-parse HEAD)
  SMPCTL_ZEPHYR_WS=${SMPCTL_ZEPHYR_UNPACK:-${TMPDIR:-/tmp}/smpctl-zephyr-ws-${_smpctl_commit:0:12}}
  if [ ! -f "$SMPCTL_ZEPHYR_WS/.smpctl-source-commit" ]; then
    echo "unpacking $_smpctl_ws_arg ($_smpctl_commit) to $SMPCTL_ZEPHYR_WS" >&2
    mkdir -p "$SMPCTL_ZEPHYR_WS"
    # git archive stops at the first blob a partial clone lacks: write blob by blob, skip absent ones
    "$SMPCTL_PY" - "$_smpctl_ws_arg" "$SMPCTL_ZEPHYR_WS" zephyr bootloader/mcuboot modules/hal/nordic \
        modules/hal/cmsis modules/lib/cmsis_6 modules/crypto modules/debug/segger modules/lib/zcbor \
        modules/lib/picolibc modules/fs/littlefs <<'PY' || { return 1 2>/dev/null || exit 1; }
import os, subprocess, sys
gitdir, dest, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
out = subprocess.run(["git", "--git-dir", gitdir, "ls-tree", "-r", "-z", "HEAD", "--"] + paths,
                     capture_output=True, check=True).stdout.split(b"\0")
cat = subprocess.Popen(["git", "--git-dir", gitdir, "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
n = missing = 0
for entry in out:
    if not entry:
        continue
    meta, path = entry.split(b"\t", 1)
    mode, kind, sha = meta.split()
    if kind != b"blob":
        continue
    n += 1
    cat.stdin.write(sha + b"\n"); cat.stdin.flush()
    header = cat.stdout.readline().split()
    if header[1] == b"missing":
        missing += 1
        continue
    data = cat.stdout.read(int(header[2])); cat.stdout.read(1)
    target = os.path.join(dest, path.decode())
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if mode == b"120000":
        if os.path.lexists(target):
            os.unlink(target)
        os.symlink(data.decode(), target)
    else:
        with open(target, "wb") as f:
            f.write(data)
        if mode == b"100755":
            os.chmod(target, 0o755)
cat.stdin.close(); cat.wait()
sys.stderr.write("%d files, %d absent from the snapshot (unused)\n" % (n, missing))
PY
    echo "$_smpctl_commit" >"$SMPCTL_ZEPHYR_WS/.smpctl-source-commit"
  fi
else
  echo "$_smpctl_ws_arg: neither a Zephyr workspace (no zephyr/VERSION) nor a git directory" >&2
  return 1 2>/dev/null || exit 1
fi

_z=$SMPCTL_ZEPHYR_WS/zephyr
if ! grep -q '^VERSION_MAJOR = 4$' "$_z/VERSION" || ! grep -q '^VERSION_MINOR = 1$' "$_z/VERSION"; then
  echo "warning: $_z is not Zephyr 4.1 (firmware/ is pinned to v4.1.0)" >&2
fi
# Repairs (see the top of this file)
sed -i '/^add_subdirectory(osal)$/d;/^add_subdirectory(oswl)$/d' "$_z/drivers/CMakeLists.txt"
for _f in "$_z/drivers/pinctrl/Kconfig.sa6920" "$_z/drivers/clock_control/Kconfig.sa6920"; do
  [ -f "$_f" ] && sed -i 's/^\tdefault y$/\tdefault n/' "$_f"
done
[ -f "$SMPCTL_ZEPHYR_WS/bootloader/mcuboot/scripts/imgtool.py" ] && chmod +x "$SMPCTL_ZEPHYR_WS/bootloader/mcuboot/scripts/imgtool.py"
if ! grep -q 'test-harness patch' "$_z/drivers/net/nsos_sockets.c"; then
  echo "patching $_z/drivers/net/nsos_sockets.c (firmware/scripts/nsos-unlock-while-polling.patch)" >&2
  patch -d "$_z" -p1 -s <"$_smpctl_scripts/nsos-unlock-while-polling.patch" || { return 1 2>/dev/null || exit 1; }
fi
if [ ! -f "$_z/share/sysbuild/build/Kconfig" ]; then
  mkdir -p "$_z/share/sysbuild/build"
  printf '%s\n' '# Copyright (c) 2024 Nordic Semiconductor' '#' '# SPDX-License-Identifier: Apache-2.0' '' \
    'config COMPILER_WARNINGS_AS_ERRORS' '	bool "Treat warnings as errors"' '	help' \
    '	  Turn on "warning as error" toolchain flags for all images if set.' \
    >"$_z/share/sysbuild/build/Kconfig"
fi

export ZEPHYR_BASE=$_z SMPCTL_ZEPHYR_WS
ZEPHYR_MODULES=
for _m in bootloader/mcuboot modules/hal/nordic modules/hal/cmsis modules/lib/cmsis_6 modules/crypto/mbedtls \
    modules/crypto/tinycrypt modules/debug/segger modules/lib/zcbor modules/lib/picolibc modules/fs/littlefs; do
  [ -d "$SMPCTL_ZEPHYR_WS/$_m" ] && ZEPHYR_MODULES="$ZEPHYR_MODULES${ZEPHYR_MODULES:+;}$SMPCTL_ZEPHYR_WS/$_m"
done
export ZEPHYR_MODULES
SMPCTL_ZEPHYR_DESC="Zephyr $(awk '/^VERSION_MAJOR/{a=$3}/^VERSION_MINOR/{b=$3}/^PATCHLEVEL/{c=$3}END{print a"."b"."c}' "$_z/VERSION") (workspace commit $_smpctl_commit)"
SMPCTL_ZEPHYR_COMMIT=$_smpctl_commit
# Zephyr's CMake scripts need Debian's python3 with the packages above (not a pyenv shim)
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
unset PYENV_VERSION
# mcuboot.cmake signs only when `python3 -m west topdir` works: a west workspace (.west/) answers with
# west itself; any other directory gets the stub (west-stub/), which prints SMPCTL_ZEPHYR_WS
if [ ! -d "$SMPCTL_ZEPHYR_WS/.west" ] || ! "$SMPCTL_PY" -c 'import west' 2>/dev/null; then
  export PYTHONPATH=$_smpctl_scripts/west-stub${PYTHONPATH:+:$PYTHONPATH}
fi
