#!/usr/bin/env bash
# A streamed CSV export through `frost serve` against DuckDB's own COPY ... TO of the same rows.
# Usage: bench/export/run.sh [ROWS=1M] [RUNS=3]
#   (needs the build: cmake --build build --target frost export_baseline; seeds a ROWS-trip
#    database and runs Frost on 127.0.0.1 with a bench config whose /bench/export streams the
#    whole trips table with the columns of /trips/export; temp files beside the build)
# Prints a Markdown table: rows/s and MB/s of each, the ratio (COPY's time / Frost's: the goal
# is >= 0.5), Frost's RSS idle (VmRSS before) and peak (VmHWM after), and the COPY process's
# peak. SOURCE_OPTIONS='{memory_limit: 100MB}' passes DuckDB settings to the source (DuckDB keeps
# the table's blocks it read cached up to its memory_limit, in Frost as in COPY). On a shared
# machine keep ROWS small; the 10M figure is for a quiet machine. TRIPS_DB=path reuses a database
# `frost seed --trips ROWS` made before (seeding 10M takes ~30 s); it is seeded there when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${1:-1M}
RUNS=${2:-3}
BUILD=${BUILD:-build}
n=$(python3 -c "s='$ROWS'.upper(); m={'K':10**3,'M':10**6,'G':10**9}; print(int(float(s[:-1])*m[s[-1]]) if s[-1] in m else int(s))")
tmp=$(realpath "$(mktemp -d "${TMPDIR_EXPORT:-$BUILD}/bench-export-XXXXXX")")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
db=${TRIPS_DB:-$tmp/trips.duckdb}
[ -f "$db" ] || "$BUILD/src/app/frost" seed --trips "$n" --out "$db" >/dev/null 2>&1
db=$(realpath "$db")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$tmp/bench.yaml" <<YAML
server: {host: 127.0.0.1, port: $port, request_timeout: 600s, access_log: false}
sources:
  local: {type: duckdb, path: $db, read_only: true${SOURCE_OPTIONS:+, options: $SOURCE_OPTIONS}}
endpoints:
  - path: /bench/export
    source: local
    stream: true
    max_export_rows: 100000000
    sql: |
      select tripduration, starttime, stoptime, start_station_id, end_station_id, bikeid,
             usertype, birth_year, gender
      from demo.trips
YAML
"$BUILD/src/app/frost" serve --config "$tmp/bench.yaml" >"$tmp/frost.log" 2>&1 &
sleep 0.2; kill -0 $! 2>/dev/null || { cat "$tmp/frost.log" >&2; exit 1; }
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/livez" -o /dev/null --max-time 1 2>/dev/null && break; sleep 0.1; done
sleep 0.5
kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$pid/status"; }
idle=$(kib VmRSS)
echo "rows: $n; load average before: $(cut -d' ' -f1-3 /proc/loadavg); Frost idle RSS: $((idle / 1024)) MiB"
echo "| run | Frost: s | Frost rows/s | Frost MB/s | COPY: s | COPY rows/s | COPY MB/s | ratio (COPY s / Frost s) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
ratios=()
copy_peak=0
for i in $(seq "$RUNS"); do
  s=$(date +%s.%N)
  code=0
  curl -sS -o "$tmp/frost.csv" "http://127.0.0.1:$port/bench/export?format=csv" || code=$?
  e=$(date +%s.%N)
  [ "$code" = 0 ] || { echo "curl failed: $code" >&2; exit 1; }
  fs=$(python3 -c "print(f'{$e - $s:.3f}')")
  fbytes=$(stat -c %s "$tmp/frost.csv")
  lines=$(($(wc -l < "$tmp/frost.csv") - 1))
  [ "$lines" = "$n" ] || { echo "Frost exported $lines rows, expected $n" >&2; exit 1; }
  /usr/bin/time -f %M -o "$tmp/copy.rss" "$BUILD/bench/export_baseline" "$db" "$tmp/copy.csv" >"$tmp/copy.out"
  read -r cs cbytes <"$tmp/copy.out"
  kb=$(tail -1 "$tmp/copy.rss")
  if [ "$kb" -gt "$copy_peak" ]; then copy_peak=$kb; fi
  rm -f "$tmp/frost.csv" "$tmp/copy.csv"
  r=$(python3 -c "print(f'{$cs / $fs:.2f}')")
  ratios+=("$r")
  echo "| $i | $fs | $(python3 -c "print(f'{$n / $fs:,.0f}')") | $(python3 -c "print(f'{$fbytes / $fs / 1e6:.1f}')") | $cs | $(python3 -c "print(f'{$n / $cs:,.0f}')") | $(python3 -c "print(f'{$cbytes / $cs / 1e6:.1f}')") | $r |"
done
peak=$(kib VmHWM)
echo "median ratio: $(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
echo "Frost RSS: idle $((idle / 1024)) MiB, peak $((peak / 1024)) MiB (+$(((peak - idle) / 1024)) MiB); COPY's process peak: $((copy_peak / 1024)) MiB; load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
