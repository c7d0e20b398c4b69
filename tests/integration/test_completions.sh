#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The shell completions. bash (completions/bash/smpctl) is driven as bash drives it: COMP_LINE,
# COMP_POINT and COMP_WORDS split at COMP_WORDBREAKS, then COMPREPLY is checked; once alone and once
# under the bash-completion package when it is installed. zsh (completions/zsh/_smpctl), when it is
# installed, runs in a real interactive zsh on a pseudo-terminal. Checked: commands, subcommands,
# global and per-command options, --mode values, files, --device candidates and image hashes asked
# from a simulated device; quiet and bounded when smpctl fails. Needs $SMPCTL and $SMPCTL_SIM (meson
# sets them). Prints TAP-like lines and "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
completion=$here/../../completions/bash/smpctl
dir=$(mktemp -d)
sim=
cleanup() {
    [[ -n $sim ]] && kill "$sim" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
PATH=$(dirname "$SMPCTL"):$PATH
unset SMPCTL_DEVICE
passed=0 failed=0

# Splits a command line into COMP_WORDS as readline does with the default COMP_WORDBREAKS: blanks
# separate words, and a run of ':' or '=' is a word of its own. The cursor is at the end of the line.
comp_words() {
    local line=$1 w="" c i c_breaks w_breaks
    COMP_WORDS=()
    for ((i = 0; i < ${#line}; i++)); do
        c=${line:i:1}
        c_breaks=0 w_breaks=0
        [[ $c == [:=] ]] && c_breaks=1
        [[ ${w: -1} == [:=] ]] && w_breaks=1
        if [[ $c == ' ' ]]; then
            [[ -n $w ]] && COMP_WORDS+=("$w")
            w=""
        elif [[ -n $w ]] && ((c_breaks != w_breaks)); then
            COMP_WORDS+=("$w")
            w=$c
        else
            w+=$c
        fi
    done
    COMP_WORDS+=("$w")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE=$line
    COMP_POINT=${#line}
}

# complete_line LINE: runs the completion (with PATH=$comp_path when that is set); the candidates
# land in COMPREPLY and $reply (one string), its stderr in $noise.
comp_path=
complete_line() {
    comp_words "$1"
    COMPREPLY=()
    if [[ -n $comp_path ]]; then
        PATH=$comp_path _smpctl 2>"$dir/stderr"
    else
        _smpctl 2>"$dir/stderr"
    fi
    reply=" ${COMPREPLY[*]} "
    noise=$(<"$dir/stderr")
}

# The arguments, sorted, on one line.
sorted() {
    (($#)) && printf '%s\n' "$@" | sort | tr '\n' ' '
}

# result STATUS MESSAGE: one check, passed when STATUS is 0.
result() {
    if [[ $1 == 0 ]]; then
        passed=$((passed + 1))
        echo "ok $((passed + failed)) - $2"
    else
        failed=$((failed + 1))
        echo "not ok $((passed + failed)) - $2"
    fi
}

# expect LINE WORD... : every WORD is a candidate; "!WORD" must not be one.
expect() {
    local line=$1 w status=0
    shift
    complete_line "$line"
    for w; do
        if [[ $w == !* ]]; then
            [[ $reply == *" ${w#!} "* ]] && status=1
        else
            [[ $reply == *" $w "* ]] || status=1
        fi
    done
    [[ -z $noise ]] || status=1
    result $status "'$line' -> [${reply# }]${noise:+ stderr: $noise}"
}

# expect_exactly LINE WORD... : the candidates are exactly these, in any order.
expect_exactly() {
    local line=$1
    shift
    complete_line "$line"
    local got want
    got=$(sorted "${COMPREPLY[@]}")
    want=$(sorted "$@")
    [[ $got == "$want" && -z $noise ]]
    result $? "'$line' -> [$got], want [$want]${noise:+ stderr: $noise}"
}

# shellcheck source=SCRIPTDIR/../../completions/bash/smpctl
source "$completion"

"$SMPCTL_SIM" --listen 127.0.0.1:0 --ready-file "$dir/ready" --time-scale 0 --stat-sample 2>/dev/null &
sim=$!
for _ in $(seq 100); do [[ -s $dir/ready ]] && break; sleep 0.05; done
dev="udp:127.0.0.1:$(cat "$dir/ready")"
hash=$("$SMPCTL" --device "$dev" complete hashes | head -n 1)
[[ $hash =~ ^[0-9a-f]{64}$ ]]
result $? "complete hashes gives a hash: '$hash'"

mkdir "$dir/files" "$dir/files/sub"
touch "$dir/files/app.bin" "$dir/files/app.hex" "$dir/files/app.zip" "$dir/files/notes.txt" "$dir/files/root.pem"

run_checks() {
    # Commands and subcommands (from 'smpctl complete commands').
    expect "smpctl ima" image
    expect_exactly "smpctl " echo reset params info datetime settings image dfu provision scan doctor complete \
        taskstat mpstat bootloader stat shell groups fs upload
    expect "smpctl upload --" --window --frame-size --force --upgrade --image --key --device !--mode
    expect_exactly "smpctl fs " upload download stat hash types close
    expect_exactly "smpctl fs hash /lfs1/x " sha256 crc32
    expect "smpctl fs upload x y --" --window --frame-size --force --device
    expect_exactly "smpctl image " list slots info upload test confirm erase
    expect_exactly "smpctl settings " erase read write delete commit load save
    expect "smpctl settings write prov/count 7 --" --type --width
    expect "smpctl image erase --" --slot --image --device !--mode
    expect "smpctl image test --" --image !--slot
    expect "smpctl settings read prov/serial --ty" --type
    expect_exactly "smpctl settings read prov/serial --type " hex string int uint
    expect_exactly "smpctl stat " list show
    expect_exactly "smpctl shell " exec
    expect_exactly "smpctl bootloader " info
    expect_exactly "smpctl datetime " set
    expect_exactly "smpctl datetime set " now
    expect_exactly "smpctl shell exec -- kernel "
    expect_exactly "smpctl complete " devices hashes stats commands
    expect "smpctl --timeout 3 --json ima" image
    expect_exactly "smpctl image erase " 0 1
    expect_exactly "smpctl echo "
    expect_exactly "smpctl image list " --image
    expect_exactly "smpctl image slots " --image
    expect_exactly "smpctl --timeout "

    # Options: global ones everywhere, each command's own after it.
    expect "smpctl --" --device --json --timeout --tries --reset-timeout --scan-timeout --adapter \
        --smp-version --quiet --help --version !--window !--mode
    expect "smpctl image upload --" --window --frame-size --force --upgrade --image --key --device !--mode
    expect "smpctl image upload x.bin --fr" --frame-size
    expect "smpctl dfu x.bin --" --mode --erase-settings --require-erase-settings --window --key --image
    expect "smpctl --json dfu x.bin --re" --require-erase-settings --reset-timeout
    expect_exactly "smpctl --tr" --tries
    expect_exactly "smpctl --sc" --scan-timeout
    expect_exactly "smpctl --tries 2 ima" image
    expect_exactly "smpctl --scan-timeout 5 image l" list
    expect_exactly "smpctl --scan-timeout "
    expect_exactly "smpctl reset --f" --force
    expect_exactly "smpctl reset " --force
    expect_exactly "smpctl info --fo" --format
    expect_exactly "smpctl image info x.bin --" --key --device --json --timeout --tries --verbose --quiet \
        --reset-timeout --scan-timeout --adapter --passkey --default-agent --smp-version --help --version \
        --devices --parallel --links-per-adapter --deadline
    expect "smpctl dfu x.bin --al" --allow-downgrade

    # Option values, also in the --opt=VALUE form (bash replaces what follows the '=').
    expect_exactly "smpctl dfu x.bin --mode " test-and-confirm confirm-only test-only upload-only
    expect_exactly "smpctl dfu --mode=co" confirm-only
    expect_exactly "smpctl dfu --mode=" =test-and-confirm =confirm-only =test-only =upload-only
    expect_exactly "smpctl --smp-version " 1 2

    # Files: images for upload, info and dfu; PEM keys for --key.
    expect_exactly "smpctl image upload $dir/files/" "$dir/files/app.bin" "$dir/files/app.hex" "$dir/files/sub"
    expect_exactly "smpctl image info $dir/files/a" "$dir/files/app.bin" "$dir/files/app.hex"
    expect_exactly "smpctl dfu --mode test-only $dir/files/app.b" "$dir/files/app.bin"
    expect_exactly "smpctl dfu $dir/files/app." "$dir/files/app.bin" "$dir/files/app.hex" "$dir/files/app.zip"
    expect_exactly "smpctl image info x.bin --key $dir/files/" "$dir/files/root.pem" "$dir/files/sub"
    expect_exactly "smpctl dfu x.bin --key=$dir/files/r" "$dir/files/root.pem"

    # --device: what 'smpctl complete devices' finds, and the address prefixes.
    expect "smpctl --device " udp: ble: ble:name=
    expect_exactly "smpctl -d ud" udp:
    expect_exactly "smpctl --device ble:" : :name=
    expect_exactly "smpctl --device=ud" udp:
    expect_exactly "smpctl --device seri" serial:
    expect_exactly "smpctl --device serial:/dev/null,f" /dev/null,framing=console /dev/null,framing=raw \
        /dev/null,framing=cobs /dev/null,flow=none /dev/null,flow=rtscts
    SMPCTL_DEVICE=udp:192.0.2.7 expect "smpctl --device udp" udp:192.0.2.7 udp:

    # Image hashes for test and confirm, from the device on the command line or SMPCTL_DEVICE.
    expect_exactly "smpctl --device $dev image test " "$hash"
    expect_exactly "smpctl --device=$dev --json image confirm ${hash:0:10}" "$hash"
    expect_exactly "smpctl image test -d $dev ${hash:0:4}" "$hash"
    SMPCTL_DEVICE=$dev expect_exactly "smpctl image confirm " "$hash"
    expect_exactly "smpctl --device $dev image test $hash " --image
    # Statistics groups for stat show, from the device.
    expect_exactly "smpctl --device $dev stat show " smp_svr_stats
    expect_exactly "smpctl --device $dev stat show smp_svr_stats "
}

echo "# bash completion without the bash-completion package"
run_checks

# A device that does not answer, or no smpctl at all: no candidates, no noise, no long wait.
start=$SECONDS
expect_exactly "smpctl --device udp:127.0.0.1:9 image test "
((SECONDS - start <= 6))
result $? "an unanswering device costs $((SECONDS - start)) s (at most 6)"
comp_path=/nonexistent
expect_exactly "smpctl image " list slots info upload test confirm erase
expect_exactly "smpctl --device $dev image test "
# smpctl named by its path on the command line is the one asked.
expect_exactly "$SMPCTL --device $dev image test " "$hash"
comp_path=

bash_completion=/usr/share/bash-completion/bash_completion
if [[ -r $bash_completion ]]; then
    echo "# bash completion with the bash-completion package"
    # shellcheck source=/dev/null
    source "$bash_completion"
    # shellcheck source=SCRIPTDIR/../../completions/bash/smpctl
    source "$completion"
    run_checks
else
    echo "# the bash-completion package is not installed: checked without it only"
fi

# The zsh completion, run by a real interactive zsh on a pseudo-terminal: a wrapped compadd prints
# every candidate it is given (after zsh's own matching), one line per completed command line. The
# markers are split in the typed text ("RE""ADY") so that the terminal's echo of it never matches.
zsh_driver() {
    cat <<'EOF'
zmodload zsh/zpty || exit 1
fdir=$1; shift
zpty -b z zsh -f -i
zpty -w z "PS1=''; RPS1=''; fpath=(${(q)fdir} \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z 'compadd() {
  if [[ ${(j: :)@} == *\ -[OAD]\ * || $1 == -[OAD] ]]; then builtin compadd "$@"; return; fi
  local -a __hits; builtin compadd -A __hits "$@"
  local h; for h in $__hits; do print -r -- "HI""T:$IPREFIX$h"; done
  builtin compadd "$@"
}'
zpty -w z 'end-of-completion() { print -r -- END-OF-""COMPLETION }; zle -N end-of-completion'
zpty -w z 'bindkey "^X" end-of-completion; print -r -- RE""ADY'
zpty -r z raw '*READY*'
for line in "$@"; do
  zpty -w -n z "$line"$'\t\x18'
  zpty -r z raw '*END-OF-COMPLETION*'
  out=()
  for l in ${(f)raw}; do [[ $l == *HIT:* ]] && out+=("${${l#*HIT:}%%$'\r'*}"); done
  print -r -- "${(j: :)${(u)out}}"
  zpty -w -n z $'\x15'
done
zpty -d z
EOF
}

# zsh_expect LINE WORD... : queued for zsh_run; the candidates must be exactly these.
zsh_lines=() zsh_wants=()
zsh_expect() {
    zsh_lines+=("$1")
    shift
    zsh_wants+=("$(sorted "$@")")
}

zsh_run() {
    local i got
    zsh_driver >"$dir/driver.zsh"
    mapfile -t got < <(cd "$dir/files" && timeout 120 zsh -f "$dir/driver.zsh" "$here/../../completions/zsh" \
        "${zsh_lines[@]}" 2>&1)
    for i in "${!zsh_lines[@]}"; do
        local want=${zsh_wants[i]} have
        # shellcheck disable=SC2086
        have=$(sorted ${got[i]-})
        [[ $have == "$want" ]]
        result $? "zsh: '${zsh_lines[i]}' -> [$have], want [$want]"
    done
}

if command -v zsh >/dev/null && zsh -fc 'zmodload zsh/zpty' 2>/dev/null; then
    echo "# zsh completion"
    zsh_expect "smpctl " complete datetime dfu doctor echo image info params provision reset scan settings \
        taskstat mpstat bootloader stat shell groups fs upload
    zsh_expect "smpctl fs " upload download stat hash types close
    zsh_expect "smpctl fs hash /lfs1/x " sha256 crc32
    zsh_expect "smpctl image " confirm erase info list slots test upload
    zsh_expect "smpctl settings " commit delete erase load read save write
    zsh_expect "smpctl stat " list show
    zsh_expect "smpctl shell " exec
    zsh_expect "smpctl bootloader " info
    zsh_expect "smpctl datetime " set
    zsh_expect "smpctl datetime set " now
    zsh_expect "smpctl --device $dev stat show " smp_svr_stats
    zsh_expect "smpctl complete " commands devices hashes stats
    zsh_expect "smpctl image erase " 0 1
    zsh_expect "smpctl echo "
    zsh_expect "smpctl --timeout 3 ima" image
    zsh_expect "smpctl image upload x.bin --" --adapter --deadline --default-agent --device --devices --force \
        --frame-size --help --image --json --key --links-per-adapter --parallel --passkey --quiet --reset-timeout --scan-timeout \
        --smp-version --timeout --tries --upgrade --verbose --version --window
    zsh_expect "smpctl --tr" --tries
    zsh_expect "smpctl --scan-timeout 5 ima" image
    zsh_expect "smpctl dfu x.bin --re" --require-erase-settings --reset-timeout
    zsh_expect "smpctl reset --f" --force
    zsh_expect "smpctl dfu x.bin --mode " confirm-only test-and-confirm test-only upload-only
    zsh_expect "smpctl dfu --mode=co" --mode=confirm-only
    zsh_expect "smpctl --smp-version " 1 2
    zsh_expect "smpctl dfu " app.bin app.hex app.zip sub
    zsh_expect "smpctl image info x.bin --key " root.pem sub
    zsh_expect "smpctl --device " ble: ble:name= serial: udp:
    zsh_expect "smpctl --device serial:/dev/null,fl" serial:/dev/null,flow=none serial:/dev/null,flow=rtscts
    zsh_expect "smpctl --device=ud" --device=udp:
    zsh_expect "smpctl --device $dev image test " "$hash"
    zsh_expect "smpctl --json image confirm -d $dev ${hash:0:6}" "$hash"
    zsh_expect "smpctl image confirm --device=$dev " "$hash"
    zsh_expect "smpctl --device udp:127.0.0.1:9 image test "
    zsh_run
    zsh_lines=("smpctl image test ") zsh_wants=("$(sorted "$hash")")
    SMPCTL_DEVICE=$dev zsh_run
else
    echo "# zsh (with zsh/zpty) is not installed: the zsh completion is not checked"
fi

echo "$passed passed, $failed failed"
((failed == 0))
