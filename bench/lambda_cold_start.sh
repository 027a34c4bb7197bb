#!/usr/bin/env bash
# Lambda cold start in the emulator: packages Frost (scripts/package-lambda.sh), unzips it, and
# runs N fresh `bootstrap` processes under tests/emulators/lambda with a clean environment,
# reporting init (process start -> first /next), init CPU time and first response (invoke ->
# answer, init included). Alternates with a baseline: the same package and binary serving only
# the static `/` route (no DuckDB opened), so the cost of the data shows on its own.
# With EMPTY_RUNTIME=path (bench/lambda/empty_runtime.cpp, built as bench_empty_runtime), a third
# variant runs that runtime from the same package through the same bundled loader: the floor.
# With SNAPSHOT=1, a snapshot variant (docs/snapshots.md): s3rver behind
# tests/emulators/s3_conditional/front.py, started as the tests start them; a copy of the package
# publishes one snapshot (`frost sync --publish` with FROST_SNAPSHOTS_URL); then the same package
# without its serving file cold-starts with FROST_SNAPSHOTS_URL, so its rollups can only come from
# S3. Each of its cold starts must log the snapshot's installation and answer 200 with the body of
# the embedded variant (but its `time_ms`). In this mode the embedded and snapshot rounds give each
# cold start an empty TMPDIR (a new execution environment's /tmp; the default run shares one), and
# a summary prints both medians and the ratio snapshot/embedded, per round.
# With BEFORE=path (another build's `frost`, e.g. main's), a variant runs the same package with
# that binary (stripped as the package's is) in place of bin/frost, so one run compares two
# builds; a summary prints both medians and the ratio after/before, per round.
# ROUNDS=k (default 2): k rounds of N cold starts per variant, alternating. The machine's speed
# drifts within seconds; more, shorter rounds keep a round's variants under the same conditions
# (make bench: 6 rounds of 10), and each ratio is then taken per round.
# Usage: [SNAPSHOT=1] [EMPTY_RUNTIME=path] [BEFORE=path] [ROUNDS=2] bench/lambda_cold_start.sh [BUILD=build] [N=20] [TRIPS=500k]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
n=${2:-20}
trips=${3:-500k}
rounds=${ROUNDS:-2}
emulator="$PWD/$build/tests/emulators/lambda/frost-lambda-emulator"
[ -x "$emulator" ] || { echo "build the emulator first: cmake --build $build --target frost-lambda-emulator" >&2; exit 1; }
work=$(mktemp -d)
s3_pids=()
cleanup() {
  for pid in "${s3_pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
./scripts/package-lambda.sh --binary "$build/src/app/frost" --trips "$trips" --out "$work/frost-lambda.zip" 2>&1 | grep 'package-lambda:' >&2
mkdir "$work/task" "$work/tmp" && (cd "$work/task" && unzip -q ../frost-lambda.zip)
if [ -n "${EMPTY_RUNTIME:-}" ]; then
  cp "$EMPTY_RUNTIME" "$work/task/bin/empty_runtime"
  # The package's own bootstrap, with the binary swapped: same loader, same library path.
  sed -e 's#"\$root/bin/frost" lambda --config .*#"$root/bin/empty_runtime"#' "$work/task/bootstrap" >"$work/task/bootstrap-empty"
  chmod 755 "$work/task/bootstrap-empty"
fi
if [ -n "${BEFORE:-}" ]; then
  cp -a "$work/task" "$work/before"
  cp "$BEFORE" "$work/before/bin/frost"
  command -v strip >/dev/null 2>&1 && strip --strip-unneeded "$work/before/bin/frost"
fi
printf 'endpoints:\n  - path: /\n    static: {result: Nothing to see here, time_ms: 0}\n' > "$work/task/config/static.yaml"

snapshot=${SNAPSHOT:-0}
tmp_args=(--env "TMPDIR=$work/tmp")
if [ "$snapshot" = 1 ]; then
  tmp_args=(--fresh-tmpdir "$work/tmp")
  # Started as tests/support/s3_emulator.hpp starts them; each prints "listening on 127.0.0.1:<port>".
  listening_port() {  # <log file> <seconds>
    local i
    for ((i = 0; i < $2 * 10; i++)); do
      if grep -q 'listening on 127.0.0.1:' "$1"; then
        grep -o 'listening on 127.0.0.1:[0-9]*' "$1" | head -1 | sed 's/.*://'
        return 0
      fi
      sleep 0.1
    done
    echo "no listening line in $1:" >&2 && cat "$1" >&2 && return 1
  }
  bucket=frost-bench key_id=AKIDCOLDSTART secret=cold-start-secret
  tests/emulators/s3/run-s3rver.sh "$work/s3" "$bucket" >"$work/s3rver.log" 2>&1 &
  s3_pids+=($!)
  s3rver_port=$(listening_port "$work/s3rver.log" 240)
  python3 tests/emulators/s3_conditional/front.py --backend "http://127.0.0.1:$s3rver_port" \
    --key-id "$key_id" --secret "$secret" >"$work/front.log" 2>&1 &
  s3_pids+=($!)
  snapshots_url="s3://$bucket/cold-start/"
  s3_env=("AWS_ENDPOINT_URL_S3=http://127.0.0.1:$(listening_port "$work/front.log" 30)" "AWS_ACCESS_KEY_ID=$key_id"
    "AWS_SECRET_ACCESS_KEY=$secret" "AWS_REGION=us-east-1" "FROST_SNAPSHOTS_URL=$snapshots_url")
  # The builder: a copy of the package refreshes its rollups and publishes them, with the packaged
  # binary through the bundled loader, as the `sync` event would.
  cp -a "$work/task" "$work/builder"
  loader=$(cd "$work/builder/lib" && ls ld-linux*.so.*)
  if ! (cd "$work/builder" && env -i PATH=/usr/bin:/bin "TMPDIR=$work/tmp" "${s3_env[@]}" \
    "lib/$loader" --library-path lib bin/frost sync --publish --config config/frost.yaml) >"$work/publish.log" 2>&1; then
    cat "$work/publish.log" >&2 && exit 1
  fi
  grep -i 'published' "$work/publish.log" >&2
  # The reader: the same package without its serving file.
  cp -al "$work/task" "$work/reader"
  rm "$work/reader/data/serving.duckdb"
  snapshot_args=(--expect-log "first poll of $snapshots_url: installed " --print-answer)
  for e in "${s3_env[@]}"; do snapshot_args+=(--env "$e"); done
fi

echo "machine: $(nproc) cores, $(uname -m), $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
median() { grep "^$2" "$1" | sed 's/.*median \([0-9.]*\) ms.*/\1/'; }  # <emulator output> <figure>
first_answer() { grep '^first answer:' "$1" | sed 's/"time_ms":[0-9]*//'; }  # but the envelope's own time
# The variants of one round; an even round runs them in the reverse order, so that none is
# always the first after a pause.
run_embedded() {
  echo "== round $round: embedded data (/trips/monthly, $trips trips)"
  answer_args=()
  [ "$snapshot" = 1 ] && answer_args=(--print-answer)
  (cd "$work/task" && "$emulator" --clean-env "${tmp_args[@]}" "${answer_args[@]}" --cold-starts "$n" \
    --path /trips/monthly -- ./bootstrap) | tee "$work/embedded-$round.out"
  if [ "$snapshot" = 1 ]; then
    echo "== round $round: rollups from an S3 snapshot ($snapshots_url), no packaged serving file"
    (cd "$work/reader" && "$emulator" --clean-env "${tmp_args[@]}" "${snapshot_args[@]}" --cold-starts "$n" \
      --path /trips/monthly -- ./bootstrap) | tee "$work/snapshot-$round.out"
    cmp -s <(first_answer "$work/embedded-$round.out") <(first_answer "$work/snapshot-$round.out") ||
      { echo "the snapshot's answer differs from the embedded one" >&2; exit 1; }
  fi
  if [ -n "${BEFORE:-}" ]; then
    echo "== round $round: embedded data, the BEFORE binary ($BEFORE)"
    (cd "$work/before" && "$emulator" --clean-env "${tmp_args[@]}" --cold-starts "$n" \
      --path /trips/monthly -- ./bootstrap) | tee "$work/before-$round.out"
  fi
  return 0
}
run_baseline() {
  echo "== round $round: baseline, same binary, static route only (no DuckDB)"
  (cd "$work/task" && "$emulator" --clean-env --env FROST_CONFIG=config/static.yaml --cold-starts "$n" --path / -- ./bootstrap)
}
run_empty() {
  [ -n "${EMPTY_RUNTIME:-}" ] || return 0
  echo "== round $round: empty runtime, same loader, answers {}"
  (cd "$work/task" && "$emulator" --clean-env --cold-starts "$n" --path / -- ./bootstrap-empty)
}
for round in $(seq "$rounds"); do
  if [ $((round % 2)) = 1 ]; then run_embedded; run_baseline; run_empty; else run_empty; run_baseline; run_embedded; fi
done
if [ -n "${BEFORE:-}" ]; then
  echo "== this build / BEFORE (medians)"
  printf '%-6s %-16s %10s %10s %7s\n' round figure before after ratio
  for round in $(seq "$rounds"); do
    for figure in 'init (' 'init CPU' 'first response'; do
      b=$(median "$work/before-$round.out" "$figure") a=$(median "$work/embedded-$round.out" "$figure")
      printf '%-6s %-16s %8s ms %8s ms %6.2fx\n' "$round" "${figure% (}" "$b" "$a" "$(awk "BEGIN {print $a / $b}")"
    done
  done
fi
if [ "$snapshot" = 1 ]; then
  echo "== snapshot / embedded (medians; every answer HTTP 200, first answers equal)"
  printf '%-6s %-16s %10s %10s %7s\n' round figure embedded snapshot ratio
  for round in $(seq "$rounds"); do
    for figure in 'init (' 'init CPU' 'first response'; do
      e=$(median "$work/embedded-$round.out" "$figure") s=$(median "$work/snapshot-$round.out" "$figure")
      printf '%-6s %-16s %8s ms %8s ms %6.2fx\n' "$round" "${figure% (}" "$e" "$s" "$(awk "BEGIN {print $s / $e}")"
    done
  done
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
