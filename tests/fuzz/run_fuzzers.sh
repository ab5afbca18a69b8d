#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every libFuzzer target for SECONDS on a scratch copy of its seed corpus,
# prints executions per second per target and exits non-zero if any target
# crashed, leaked, timed out or broke an invariant.
#
#   tests/fuzz/run_fuzzers.sh BUILD_DIR [SECONDS]
#
# BUILD_DIR was configured with -DMQ_BUILD_FUZZERS=ON (CXX=clang++). Inputs
# that fail are kept in BUILD_DIR/fuzz-artifacts/<target>/ and printed as hex.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 BUILD_DIR [SECONDS]" >&2
  exit 64
fi
build_dir=$(cd "$1" && pwd)
seconds=${2:-45}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
targets=(fuzz_decode fuzz_topic fuzz_properties fuzz_ndjson fuzz_config fuzz_url fuzz_predicate
  fuzz_server_session)

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
artifacts="$build_dir/fuzz-artifacts"

failed=0
printf '%-18s %8s %12s %10s  %s\n' target seconds executions exec/s result
for target in "${targets[@]}"; do
  bin="$build_dir/tests/fuzz/$target"
  if [[ ! -x $bin ]]; then
    echo "$target: not built ($bin missing)" >&2
    failed=1
    continue
  fi
  corpus="$scratch/$target"
  mkdir -p "$corpus" "$artifacts/$target"
  if [[ -d $here/corpus/$target ]]; then
    cp "$here/corpus/$target"/* "$corpus"/ 2>/dev/null || true
  fi
  log="$scratch/$target.log"
  rc=0
  "$bin" "$corpus" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
    -rss_limit_mb=2048 -max_len=4096 -artifact_prefix="$artifacts/$target/" \
    >"$log" 2>&1 || rc=$?

  units=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
  per_sec=$(sed -n 's/^stat::average_exec_per_sec: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
  if [[ -z $per_sec && -n $units && $seconds -gt 0 ]]; then
    per_sec=$((units / seconds))
  fi
  result=ok
  if [[ $rc -ne 0 ]]; then
    result="FAILED (exit $rc)"
    failed=1
  fi
  printf '%-18s %8s %12s %10s  %s\n' "$target" "$seconds" "${units:-?}" "${per_sec:-?}" "$result"
  if [[ $rc -ne 0 ]]; then
    echo "---- $target: last lines of the libFuzzer log ----" >&2
    tail -n 60 "$log" >&2
    for crash in "$artifacts/$target"/*; do
      [[ -f $crash ]] || continue
      echo "---- $crash ($(wc -c <"$crash") bytes) ----" >&2
      od -An -tx1 -v "$crash" | head -n 64 >&2
    done
  fi
done
exit "$failed"
