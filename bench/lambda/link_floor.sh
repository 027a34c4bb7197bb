#!/usr/bin/env bash
# What process start costs for each layer of libraries Frost links, before any of Frost's code
# runs (issue 14, goal R2: a cold start within 2x of an empty runtime). Builds
# bench/lambda/link_floor.cpp once per layer, linked as Frost links it (shared libraries), plus
# one variant with every library but libc linked statically and neither libcurl nor libduckdb
# loaded (what a build that loads the warehouse clients on first use would start with), and
# measures each with `perf stat -r RUNS` (task-clock: CPU time, which the load inflates far less
# than wall time), alternating the variants in each of ROUNDS rounds.
# Usage: bench/lambda/link_floor.sh [RUNS=40] [ROUNDS=3]; DUCKDB_ROOT as for the build.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-40}
rounds=${2:-3}
duckdb=${DUCKDB_ROOT:-$PWD/.cache/duckdb}
command -v perf >/dev/null || { echo "needs perf (apt-get install linux-perf)" >&2; exit 1; }
[ -f "$duckdb/include/duckdb.h" ] || { echo "no DuckDB at $duckdb: run scripts/setup.sh or set DUCKDB_ROOT" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cxx=${CXX:-c++}
src=bench/lambda/link_floor.cpp
flags=(-O2 -std=c++20)
mid=(-lyaml-cpp -lboost_url -lboost_json -lspdlog -lfmt -lcrypto -lz)
build() { # name layer link-args...
  local name=$1 layer=$2
  shift 2
  "$cxx" "${flags[@]}" -DFLOOR_LAYER="$layer" "$src" -o "$work/$name" "$@"
}
build empty 0
build libstdcxx 1
build common 2 "${mid[@]}"
build curl 3 "${mid[@]}" -lcurl
build frost_set 4 -I"$duckdb/include" "${mid[@]}" -lcurl -L"$duckdb/lib" -Wl,-rpath,"$duckdb/lib" -lduckdb
build static_common 2 -DSPDLOG_HEADER_ONLY -DFMT_HEADER_ONLY -static-libstdc++ -static-libgcc \
  -Wl,-Bstatic -lyaml-cpp -lboost_url -lboost_json -lcrypto -lz -Wl,-Bdynamic
variants=(empty libstdcxx static_common common curl frost_set)
declare -A label=(
  [empty]="no library but libc (the empty runtime's floor)"
  [libstdcxx]="+ libstdc++"
  [static_common]="libstdc++, yaml-cpp, Boost.JSON/URL, spdlog, fmt, libcrypto, zlib linked statically"
  [common]="+ yaml-cpp, Boost.JSON/URL, spdlog, fmt, libcrypto, zlib (shared)"
  [curl]="+ libcurl and its TLS and auth libraries"
  [frost_set]="+ libduckdb: every library frost links today"
)
echo "machine: $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg) (shared, noisy when > 1)"
for v in "${variants[@]}"; do : >"$work/$v.ms"; done
for round in $(seq "$rounds"); do
  for v in "${variants[@]}"; do
    perf stat -x, -e task-clock -r "$runs" "$work/$v" 2>&1 >/dev/null | awk -F, '/task-clock/ {print $1}' >>"$work/$v.ms"
  done
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
base=$(median "$work/empty.ms")
echo
echo "| libraries loaded | shared objects | task-clock ms (median of $rounds rounds of $runs) | ÷ empty |"
echo "|---|---:|---:|---:|"
for v in "${variants[@]}"; do
  m=$(median "$work/$v.ms")
  n=$(ldd "$work/$v" | grep -c '=>' || true)
  printf '| %s | %s | %.2f | %.1f |\n' "${label[$v]}" "$n" "$m" "$(awk -v a="$m" -v b="$base" 'BEGIN {print a / b}')"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
