#!/usr/bin/env bash
# Runs every libFuzzer target for a budget, each from a copy of its committed corpus (tests/fuzz/corpus/),
# and prints per fuzzer: executions, coverage (libFuzzer's cov: edges, ft: features), corpus size, peak
# RSS, and crashes (with the reproducer's path; leaks and timeouts count as crashes, as libFuzzer stops
# on them). Issue 19: 0 crashes, 0 leaks, 0 timeouts.
#
#   bench/fuzz.sh [SECONDS [FUZZER...]]   (default 600: ten CPU-minutes per fuzzer, one process each;
#                                          FUZZER names such as fuzz-smp-response pick some, default all)
#
# Builds build-fuzz/ with clang (CC=clang meson setup build-fuzz -Dfuzz=true -Db_lundef=false) when it is
# not there. New inputs found stay in build-fuzz/fuzz-corpus/<fuzzer>/; to grow a committed corpus, merge
# them: build-fuzz/tests/fuzz/<fuzzer> -merge=1 tests/fuzz/corpus/<fuzzer> build-fuzz/fuzz-corpus/<fuzzer>
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
only=" $* "
build=build-fuzz

if [ ! -d "$build/meson-private" ]; then
  CC=clang meson setup "$build" -Dfuzz=true -Db_lundef=false >/dev/null || exit 1
fi
ninja -C "$build" >/dev/null || exit 1

printf '%-20s %12s %8s %8s %8s %8s  %s\n' fuzzer executions cov ft corpus rss_mb crashes
status=0
for fuzzer in "$build"/tests/fuzz/fuzz-*; do
  [ -f "$fuzzer" ] && [ -x "$fuzzer" ] || continue
  name=$(basename "$fuzzer")
  [ "$only" = "  " ] || [[ "$only" == *" $name "* ]] || continue
  corpus="$build/fuzz-corpus/$name"
  artifacts="$build/fuzz-artifacts/$name/"
  rm -rf "$artifacts"
  mkdir -p "$corpus" "$artifacts"
  cp -r "tests/fuzz/corpus/$name/." "$corpus/" 2>/dev/null || true
  log="$build/fuzz-$name.log"
  "$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts" "$corpus" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  units=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
  crashes=0
  found=$(ls "$artifacts" 2>/dev/null | head -5 | sed "s|^|$artifacts|" | tr '\n' ' ')
  [ -n "$found" ] && crashes=$(ls "$artifacts" | wc -l)
  if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes="exit $rc"; fi
  printf '%-20s %12s %8s %8s %8s %8s  %s %s\n' "$name" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${units:-?}" \
    "${rss:-?}" "$crashes" "$found"
  [ "$crashes" = 0 ] || status=1
done
exit $status
