#!/usr/bin/env bash
# Builds every libFuzzer target with clang (ASan + UBSan) and fuzzes each for a while.
#   tests/fuzz/run.sh            # 60 s per target (CI runs 15 s: .ci/run)
#   FUZZ_SECONDS=1800 tests/fuzz/run.sh http_request   # one target, 30 min (nightly/manual)
#   FUZZ_JOBS=1 tests/fuzz/run.sh  # one fuzzer at a time (default: one per core)
# New interesting inputs go to build-fuzz/corpus/<name>/ (not into the repo); a crash leaves
# build-fuzz/artifacts/<name>/crash-* and fails the script: minimise it and add it to
# tests/fuzz/corpus/<name>/ with the fix, so the corpus ctest guards it from then on.
set -euo pipefail
cd "$(dirname "$0")/../.."
./scripts/setup.sh --fuzz
seconds="${FUZZ_SECONDS:-60}"
build="${FUZZ_BUILD_DIR:-build-fuzz}"
cxx="${CXX_FUZZ:-$(command -v clang++ || command -v clang++-14 || true)}"
[ -n "$cxx" ] || { echo "run.sh: clang++ is needed (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in tests/fuzz/*_fuzz.cpp; do n="$(basename "$f" _fuzz.cpp)"; targets+=("$n"); done
fi

cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DFROST_FUZZ=ON -DFROST_TESTS=ON >/dev/null
cmake --build "$build" --target $(printf '%s_fuzz ' "${targets[@]}")

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# One fuzzer per core at a time (FUZZ_JOBS): each is single-threaded. Results print in order.
jobs="${FUZZ_JOBS:-$(nproc)}"
fuzz_one() {
  local t=$1 work="$build/corpus/$1" art="$build/artifacts/$1/"
  mkdir -p "$work" "$art"
  # Fuzz into the scratch corpus, reading the checked-in one as seeds.
  if "$build/tests/fuzz/${t}_fuzz" "$work" "tests/fuzz/corpus/$t" -max_total_time="$seconds" -max_len=16384 \
       -timeout=30 -rss_limit_mb=2048 -artifact_prefix="$art" -print_final_stats=1 2>"$build/$t.log"; then
    echo ok >"$build/$t.status"
  else
    echo failed >"$build/$t.status"
  fi
}
echo "fuzzing ${#targets[@]} targets for ${seconds}s each, $jobs at a time"
running=0
for t in "${targets[@]}"; do
  rm -f "$build/$t.status"
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
  fuzz_one "$t" &
  running=$((running + 1))
done
wait
failed=0
for t in "${targets[@]}"; do
  echo "== $t: ${seconds}s"
  if [ "$(cat "$build/$t.status" 2>/dev/null)" = ok ]; then
    grep -E "stat::number_of_executed_units|cov:" "$build/$t.log" | tail -2
  else
    echo "!! $t failed: see $build/$t.log and $build/artifacts/$t/" >&2
    tail -40 "$build/$t.log" >&2
    failed=1
  fi
done
exit $failed
