#!/usr/bin/env bash
# Lambda cold start in the emulator: packages Frost (scripts/package-lambda.sh), unzips it, and
# runs N fresh `bootstrap` processes under tests/emulators/lambda with a clean environment,
# reporting init (process start -> first /next), init CPU time and first response (invoke ->
# answer, init included). Alternates with a baseline: the same package and binary serving only
# the static `/` route (no DuckDB opened), so the cost of the data shows on its own.
# With EMPTY_RUNTIME=path (bench/lambda/empty_runtime.cpp, built as bench_empty_runtime), a third
# variant runs that runtime from the same package through the same bundled loader: the floor.
# Usage: bench/lambda_cold_start.sh [BUILD=build] [N=20] [TRIPS=500k]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
n=${2:-20}
trips=${3:-500k}
emulator="$PWD/$build/tests/emulators/lambda/frost-lambda-emulator"
[ -x "$emulator" ] || { echo "build the emulator first: cmake --build $build --target frost-lambda-emulator" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
./scripts/package-lambda.sh --binary "$build/src/app/frost" --trips "$trips" --out "$work/frost-lambda.zip" 2>&1 | grep 'package-lambda:' >&2
mkdir "$work/task" "$work/tmp" && (cd "$work/task" && unzip -q ../frost-lambda.zip)
if [ -n "${EMPTY_RUNTIME:-}" ]; then
  cp "$EMPTY_RUNTIME" "$work/task/bin/empty_runtime"
  # The package's own bootstrap, with the binary swapped: same loader, same library path.
  sed -e 's#"\$root/bin/frost" lambda --config .*#"$root/bin/empty_runtime"#' "$work/task/bootstrap" >"$work/task/bootstrap-empty"
  chmod 755 "$work/task/bootstrap-empty"
fi
printf 'endpoints:\n  - path: /\n    static: {result: Nothing to see here, time_ms: 0}\n' > "$work/task/config/static.yaml"
echo "machine: $(nproc) cores, $(uname -m), $(date -u '+%Y-%m-%d %H:%M UTC')"
for round in 1 2; do
  echo "== round $round: embedded data (/trips/monthly, $trips trips)"
  (cd "$work/task" && "$emulator" --clean-env --env "TMPDIR=$work/tmp" --cold-starts "$n" --path /trips/monthly -- ./bootstrap)
  echo "== round $round: baseline, same binary, static route only (no DuckDB)"
  (cd "$work/task" && "$emulator" --clean-env --env FROST_CONFIG=config/static.yaml --cold-starts "$n" --path / -- ./bootstrap)
  if [ -n "${EMPTY_RUNTIME:-}" ]; then
    echo "== round $round: empty runtime, same loader, answers {}"
    (cd "$work/task" && "$emulator" --clean-env --cold-starts "$n" --path / -- ./bootstrap-empty)
  fi
done
