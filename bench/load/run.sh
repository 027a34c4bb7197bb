#!/usr/bin/env bash
# `frost load` against DuckDB's own read_csv + INSERT of the same CSV, alternating, same run.
# Usage: bench/load/run.sh [ROWS=10M] [RUNS=3]
#   (needs `make build` and the bench targets: cmake --build build --target frost load_baseline;
#    writes a ROWS-trip CSV, about 1.3 GB for 10M, and both databases into a temp folder
#    beside the build, or $TMPDIR_LOAD)
# Prints a Markdown table: seconds and rows/s of each, and the ratio (DuckDB's time / frost's:
# 1.0 means as fast as DuckDB alone; the goal is >= 0.8).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${1:-10M}
RUNS=${2:-3}
BUILD=${BUILD:-build}
n=$(python3 -c "s='$ROWS'.upper(); m={'K':10**3,'M':10**6,'G':10**9}; print(int(float(s[:-1])*m[s[-1]]) if s[-1] in m else int(s))")
tmp=$(mktemp -d "${TMPDIR_LOAD:-$BUILD}/bench-load-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
csv="$tmp/201801-citibike-tripdata.csv"
"$BUILD/bench/load_baseline" generate "$csv" "$n" >/dev/null
bytes=$(stat -c %s "$csv")
echo "input: $n rows, $((bytes / 1048576)) MiB ($csv); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
wall() {  # prints seconds of wall time of "$@"
  local s e
  s=$(date +%s.%N)
  "$@" >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
  e=$(date +%s.%N)
  python3 -c "print(f'{$e - $s:.2f}')"
}
echo "| run | frost load: s | frost rows/s | read_csv + INSERT: s | DuckDB rows/s | ratio (DuckDB s / frost s) |"
echo "|---|---:|---:|---:|---:|---:|"
ratios=()
for i in $(seq "$RUNS"); do
  rm -f "$tmp/frost.duckdb"* "$tmp/plain.duckdb"*
  f=$(wall "$BUILD/src/app/frost" load trips "$csv" --into "$tmp/frost.duckdb")
  b=$(wall "$BUILD/bench/load_baseline" insert "$csv" "$tmp/plain.duckdb")
  r=$(python3 -c "print(f'{$b / $f:.2f}')")
  ratios+=("$r")
  echo "| $i | $f | $(python3 -c "print(f'{$n / $f:,.0f}')") | $b | $(python3 -c "print(f'{$n / $b:,.0f}')") | $r |"
done
echo "median ratio: $(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
