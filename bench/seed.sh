#!/usr/bin/env bash
# `frost seed` against the plain-SQL baseline (bench/seed_baseline.cpp), alternating, same run.
# Usage: bench/seed.sh [TRIPS=10M] [RUNS=3]   (needs `make build`; writes into a temp folder)
set -euo pipefail
cd "$(dirname "$0")/.."
TRIPS=${1:-10M}
RUNS=${2:-3}
BUILD=${BUILD:-build}
n=$(python3 -c "s='$TRIPS'.upper(); m={'K':10**3,'M':10**6,'G':10**9}; print(int(float(s[:-1])*m[s[-1]]) if s[-1] in m else int(s))")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
measure() {  # prints "seconds peak_MiB"
  /usr/bin/time -f '%e %M' -o "$tmp/time" "$@" >/dev/null 2>&1
  awk '{printf "%.1f %.0f\n", $1, $2/1024}' "$tmp/time"
}
echo "| run | frost seed: s | frost seed: peak MiB | plain SQL: s | plain SQL: peak MiB |"
echo "|---|---:|---:|---:|---:|"
for i in $(seq "$RUNS"); do
  f=$(measure "$BUILD/src/app/frost" seed --trips "$n" --out "$tmp/frost.duckdb")
  rm -f "$tmp/frost.duckdb"
  b=$(measure "$BUILD/bench/seed_baseline" "$tmp/plain.duckdb" "$n")
  rm -f "$tmp/plain.duckdb"*
  echo "| $i | ${f% *} | ${f#* } | ${b% *} | ${b#* } |"
done
