#!/usr/bin/env bash
# Incremental vs full rollup refresh (issue 12): rows fetched from the source per refresh and
# refresh time, on a `frost seed` database plus one appended day (2020-05-01, loaded with
# `frost load` as a Citi Bike file of the current layout).
#
# Usage: bench/rollup/incremental.sh [TRIPS=10M] [RUNS=3]   (needs `make build`; temp folder)
#        DB=/work/data/trips100m.duckdb bench/rollup/incremental.sh 100M 5
#   DB: a database to reuse (seeded with TRIPS trips when it does not exist yet, kept after the
#   run). The appended day is loaded once: `frost load` skips a file it already loaded.
#
# Steps: seed TRIPS trips; `frost sync` (first build: full); append one day; then RUNS times,
# alternating: `frost sync` (incremental: the 3-day lookback window) and `frost sync --full`.
# Prints each refresh's figures and the medians' ratio. The rollup is config/frost.yaml's
# trips_by_day (key day, lookback 3d).
set -euo pipefail
cd "$(dirname "$0")/../.."
TRIPS=${1:-10M}
RUNS=${2:-3}
BUILD=${BUILD:-build}
FROST="$BUILD/src/app/frost"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

DB=${DB:-$tmp/citibike.duckdb}
[ -f "$DB" ] || "$FROST" seed --trips "$TRIPS" --out "$DB" >/dev/null 2>&1
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# The shipped config, pointed at this database and a serving file in the temp folder.
sed -e "s|path: ../data/citibike.duckdb|path: $DB|" \
    -e "s|path: ../data/serving.duckdb|path: $tmp/serving.duckdb|" config/frost.yaml >"$tmp/frost.yaml"
grep -q "path: $DB" "$tmp/frost.yaml" || { echo "config/frost.yaml: source path not found" >&2; exit 1; }

sync() {  # prints: kind rows_fetched refresh_seconds source_seconds write_seconds persist_seconds
  local line
  line=$("$FROST" sync --config "$tmp/frost.yaml" "$@" 2>&1 | grep trips_by_day | tail -1)
  echo "$line" >&2
  local kind rows secs source write persist
  kind=$(sed -E 's/.*; (incremental|full).*/\1/' <<<"$line")
  rows=$(sed -E 's/.*: ([0-9]+) rows \(.*/\1/' <<<"$line")
  secs=$(sed -E 's/.* in ([0-9.]+) s;.*/\1/' <<<"$line")
  source=$(sed -E 's/.*; source ([0-9.]+) s;.*/\1/' <<<"$line")
  write=$(sed -E 's/.*; write ([0-9.]+) s;.*/\1/' <<<"$line")
  persist=$(sed -E 's/.*; persist ([0-9.]+) s.*/\1/' <<<"$line")
  echo "$kind $rows $secs $source $write $persist"
}

sync >/dev/null  # the first build is full

# One more day of trips: about the seed's daily average, in the ride_id layout (Feb 2021 on).
n=$(python3 -c "s='$TRIPS'.upper(); m={'K':10**3,'M':10**6,'G':10**9}; print(int(float(s[:-1])*m[s[-1]]) if s[-1] in m else int(s))")
per_day=$((n / 2526 + 1))
{
  echo "ride_id,rideable_type,started_at,ended_at,start_station_name,start_station_id,end_station_name,end_station_id,start_lat,start_lng,end_lat,end_lng,member_casual"
  awk -v n="$per_day" 'BEGIN { for (i = 0; i < n; i++) {
      s = int(i * 86000 / n); e = s + 600;
      printf "R%08d,classic_bike,2020-05-01 %02d:%02d:%02d,2020-05-01 %02d:%02d:%02d,A,%d,B,%d,40.7,-74.0,40.7,-74.0,member\n",
        i, s / 3600, (s % 3600) / 60, s % 60, e / 3600 % 24, (e % 3600) / 60, e % 60, 100 + i % 50, 200 + i % 50 } }'
} >"$tmp/202005-day.csv"
"$FROST" load trips "$tmp/202005-day.csv" --into "$tmp/citibike.duckdb" >/dev/null 2>&1

# The refresh time ends when the new version is visible; an incremental refresh on disk then
# writes the serving file (persist), outside that time.
echo "| run | incremental: rows fetched | incremental: refresh s | incremental: source s | incremental: write s | incremental: persist s | full: rows fetched | full: refresh s | full: source s | full: write s |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
inc_times=() full_times=() inc_src=() full_src=() inc_wr=() full_wr=() inc_ps=()
for i in $(seq "$RUNS"); do
  read -r ik ir is isrc iwr ips < <(sync)
  read -r fk fr fs fsrc fwr _ < <(sync --full)
  [ "$ik" = incremental ] && [ "$fk" = full ] || { echo "unexpected refresh kinds: $ik $fk" >&2; exit 1; }
  inc_times+=("$is") full_times+=("$fs") inc_src+=("$isrc") full_src+=("$fsrc") inc_wr+=("$iwr") full_wr+=("$fwr") inc_ps+=("$ips")
  echo "| $i | $ir | $is | $isrc | $iwr | $ips | $fr | $fs | $fsrc | $fwr |"
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "${inc_times[*]}" "${full_times[*]}" "${inc_src[*]}" "${full_src[*]}" "${inc_wr[*]}" "${full_wr[*]}" "${inc_ps[*]}" <<'PY'
import statistics, sys
med = lambda s: statistics.median(float(x) for x in s.split())
mi, mf, si, sf, wi, wf, pi = (med(a) for a in sys.argv[1:8])
print(f"median refresh: incremental {mi:.3f} s, full {mf:.3f} s: {mi / mf:.4f}x (1/{mf / mi:.1f})")
print(f"median source time: incremental {si:.3f} s, full {sf:.3f} s: {si / sf:.4f}x (1/{sf / max(si, 0.0005):.1f})")
print(f"median write time: incremental {wi:.3f} s, full {wf:.3f} s; incremental persist (after the swap) {pi:.3f} s")
PY
