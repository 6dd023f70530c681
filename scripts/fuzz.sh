#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer targets with clang (build-fuzz/, -DKVS_FUZZ=ON) and
# runs each for FUZZ_SECONDS seconds on a copy of its seed corpus, then prints one line
# per target. Exits non-zero if any target found a crash (an input that violates an
# invariant, trips a sanitizer, leaks, or times out); see docs/TESTING.md, "Fuzzing".
#
# Environment: FUZZ_SECONDS (default 60) per target, FUZZ_TARGETS (default: all five),
# FUZZ_BUILD (default build-fuzz), JOBS (build parallelism, default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
build=${FUZZ_BUILD:-build-fuzz}
jobs=${JOBS:-$(nproc)}
read -r -a targets <<< "${FUZZ_TARGETS:-frame message resp wal config}"

# clang and its libFuzzer runtime, installed like every other dependency.
scripts/install-deps.sh clang libclang-rt-14-dev

clangxx=${FUZZ_CXX:-clang++}
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -DCMAKE_CXX_COMPILER="$clangxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DKVS_FUZZ=ON
fi
cmake --build "$build" -j "$jobs" --target "${targets[@]/#/fuzz_}"

summary=()
crashed=()
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t"
  artifacts="$build/artifacts/$t"
  log="$build/logs/$t.log"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  # The repository's seeds (and the crashes added to it) join what earlier runs found.
  cp -n tests/fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
  before=$(ls "$artifacts" | sort)
  echo "== fuzz_$t: ${seconds}s on $corpus (log: $log)"
  status=0
  "./$build/fuzz_$t" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
    -artifact_prefix="$artifacts/" "$corpus" > "$log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  new=$(comm -13 <(echo "$before") <(ls "$artifacts" | sort) | sed '/^$/d' || true)
  crashes=$(printf '%s' "$new" | grep -c . || true)
  if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then
    crashes=1  # failed without writing an artifact: see the log
  fi
  summary+=("$(printf '%-8s inputs tried: %-10s corpus: %-5s crashes: %s' "$t" "${runs:-?}" \
    "$(ls "$corpus" | wc -l)" "$crashes")")
  if [ "$crashes" -ne 0 ]; then
    crashed+=("$t")
    tail -n 40 "$log" | grep -E 'invariant|check:|ERROR|SUMMARY|Test unit written' || true
    for f in $new; do summary+=("         artifact: $artifacts/$f"); done
    [ -n "$new" ] || summary+=("         no artifact written; see $log")
  fi
done

echo
echo "fuzz summary (${seconds}s per target):"
printf '%s\n' "${summary[@]}"
if [ ${#crashed[@]} -ne 0 ]; then
  echo
  echo "crashes in: ${crashed[*]}. Replay one (prints the failed invariant or the sanitizer report):"
  echo "  ./$build/fuzz_TARGET $build/artifacts/TARGET/crash-HASH"
  echo "or with GCC, without libFuzzer: ./build/fuzz_replay_TARGET FILE"
  echo "Once fixed, copy the input into tests/fuzz/corpus/TARGET/ so make test replays it."
  exit 1
fi
