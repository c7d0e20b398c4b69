#!/usr/bin/env bash
# The bash completion: commands, subcommands, per-command options, and hashes asked from the device.
dir=$(mktemp -d)
trap 'kill $sim 2>/dev/null; rm -rf "$dir"' EXIT
PATH=$(dirname "$SMPCTL"):$PATH
source "$(dirname "$0")/../../completions/bash/smpctl"
fails=0
check() { # check "words" index expected-substring
  COMP_WORDS=($1); [[ $1 == *" " ]] && COMP_WORDS+=(""); COMP_CWORD=$2; COMPREPLY=()
  _smpctl
  if [[ " ${COMPREPLY[*]} " != *"$3"* ]]; then echo "not ok: '$1' -> '${COMPREPLY[*]}' lacks '$3'"; fails=1; fi
}
"$SMPCTL_SIM" --listen 127.0.0.1:0 --ready-file "$dir/ready" --time-scale 0 & sim=$!
for _ in $(seq 100); do [ -s "$dir/ready" ] && break; sleep 0.05; done
dev="udp:127.0.0.1:$(cat "$dir/ready")"
check "smpctl ima" 1 "image"
check "smpctl image " 2 "upload"
check "smpctl image upload --" 3 "--window"
check "smpctl dfu x.bin --mode " 4 "confirm-only"
check "smpctl dfu x.bin --" 3 "--erase-settings"
hash=$("$SMPCTL" --device "$dev" complete hashes | head -1)
[ ${#hash} -eq 64 ] || { echo "not ok: complete hashes gave '$hash'"; fails=1; }
check "smpctl --device $dev image test " 5 "$hash"
[ $fails -eq 0 ] && echo "completions ok"
exit $fails
