#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# firmware/build.sh ZEPHYR_WS_OR_MIRROR BOARD [BUILD_DIR] [-- EXTRA CMAKE ARGS...]
#
# Builds this firmware without west, with plain CMake and Ninja (README.md, "Building without west"):
#   - nrf52833dk/nrf52833, custom_nrf52833 (the template in boards/smpctl/, BOARD_ROOT is set to this
#     directory): sysbuild, MCUboot + the application, signed (sysbuild.conf);
#   - native_sim/native/64: the application alone (no MCUboot), SMP over UDP on the host's sockets.
# ZEPHYR_WS_OR_MIRROR: a Zephyr v4.1.0 west workspace, or a bare git directory holding one (see
# scripts/zephyr-ws.sh, which also repairs what Zephyr 4.1.0 gets wrong on native_sim). Nothing is
# fetched. Default BUILD_DIR: build-<board> in the current directory (removed and rebuilt).
# Toolchain: the host gcc for native_sim; for ARM boards ZEPHYR_TOOLCHAIN_VARIANT if set (e.g.
# zephyr, with the Zephyr SDK), else Debian's gcc-arm-none-eabi (cross-compile).
# Prints each image's memory lines (FLASH/RAM), the images built, and the wall time; exits 1 when the
# configuration or the build fails, or when a compiler warning names a file of this directory.
set -u
if [ $# -lt 2 ]; then
  sed -n '3,15p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
FW=$(cd "$(dirname "$0")" && pwd)
WS_ARG=$1 BOARD=$2
shift 2
B=build-$(echo "$BOARD" | tr '/' '_')
if [ $# -gt 0 ] && [ "$1" != "--" ]; then B=$1; shift; fi
[ $# -gt 0 ] && [ "$1" = "--" ] && shift
start=$(date +%s)
. "$FW/scripts/zephyr-ws.sh" "$WS_ARG" || exit 1

case $BOARD in
  native_sim*)
    export ZEPHYR_TOOLCHAIN_VARIANT=host
    src=(-S "$FW") ;;
  *)
    if [ -z "${ZEPHYR_TOOLCHAIN_VARIANT:-}" ]; then
      export ZEPHYR_TOOLCHAIN_VARIANT=cross-compile CROSS_COMPILE=/usr/bin/arm-none-eabi-
    fi
    src=(-S "$ZEPHYR_BASE/share/sysbuild" -DAPP_DIR="$FW") ;;
esac
case $BOARD in
  custom_nrf52833*) src+=(-DBOARD_ROOT="$FW") ;;
esac
# An unpacked workspace is not a git repository: name the version (Zephyr's banner) instead of letting
# the build warn. (Sysbuild images do not take it from the command line; they still warn, harmlessly.)
extra=()
if ! git -C "$ZEPHYR_BASE" rev-parse --git-dir >/dev/null 2>&1; then
  case $BOARD in native_sim*) extra+=(-DBUILD_VERSION="v$(echo "$SMPCTL_ZEPHYR_DESC" | awk '{print $2}')") ;; esac
fi

rm -rf "$B"
mkdir -p "$B"
B=$(cd "$B" && pwd)
echo "$SMPCTL_ZEPHYR_DESC, $BOARD -> $B" >&2
if ! cmake -GNinja -B "$B" "${src[@]}" -DBOARD="$BOARD" -DPython3_EXECUTABLE="$SMPCTL_PY" "${extra[@]}" "$@" \
    >"$B/cmake.log" 2>&1; then
  grep -n -i -B2 -A12 'error' "$B/cmake.log" | head -80 >&2
  echo "configure failed (log: $B/cmake.log)" >&2
  exit 1
fi
if ! ninja -C "$B" >"$B/ninja.log" 2>&1; then
  grep -n -B2 -A12 -m8 -E 'error:|FAILED:|overflowed|undefined reference' "$B/ninja.log" | head -100 >&2
  echo "build failed (log: $B/ninja.log)" >&2
  exit 1
fi
# Memory lines per image (sysbuild prints one block for MCUboot, one for the application)
awk '/Performing build step for/ {n=$0; sub(/.*for ./, "", n); sub(/.$/, "", n); print "== " n} /^ *(FLASH|RAM):/ {print}' "$B/ninja.log"
find "$B" -maxdepth 3 \( -name zephyr.signed.bin -o -name zephyr.exe \) | sed 's/^/image: /'
echo "wall time: $(( $(date +%s) - start )) s"
# No warning from this directory: the compiler's (paths under firmware/) or dtc's (the devicetree the
# board and the overlays make; Zephyr's own nRF boards raise none)
if grep -E "^$FW/[^ ]*:[0-9]+:[0-9]+: warning:" "$B/ninja.log" "$B/cmake.log" ||
   grep -A8 "dtc raised one or more warnings" "$B/cmake.log"; then
  echo "warnings from $FW (see above)" >&2
  exit 1
fi
exit 0
