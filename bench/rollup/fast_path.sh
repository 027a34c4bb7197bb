#!/usr/bin/env bash
# Issue 14's R3/R4 with and without the prefix-sum answers of rollup endpoints, in one run:
# random one-year /trips/monthly with the cache off (wrk -c8, bench/serving/random_year.lua)
# on a frost server with the prefix sums (default) and on one with FROST_PREFIX_SUMS=off,
# against nginx serving the same answer as a static file (-c8), rounds alternating.
# Prints, per server, req/s / nginx req/s (R3) and p99 / nginx p99 (R4), medians over rounds.
# Env: BUILD=build  OUT=bench/results/fast-path-<UTC time>  ROUNDS=3  DURATION=10s
#      DB=<a citibike DuckDB file> (default: seed 200k trips into OUT; the rollup has the same
#      2,526 days whatever the trip count)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
OUT=${OUT:-bench/results/fast-path-$(date -u +%Y%m%dT%H%M%SZ)}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
PORT=${PORT:-$((20000 + RANDOM % 20000))}
P_ON=$PORT; P_OFF=$((PORT + 1)); P_NGINX=$((PORT + 2))
FROST=$BUILD/src/app/frost
log() { printf '\033[1mbench:\033[0m %s\n' "$*" >&2; }
load() { cut -d' ' -f1 /proc/loadavg; }

cmake --build "$BUILD" -j1 --target frost >/dev/null
mkdir -p "$OUT/www" "$OUT/nginx-tmp"
OUT=$(cd "$OUT" && pwd)
DB=${DB:-$OUT/citibike.duckdb}
if [ ! -f "$DB" ]; then
  log "seeding 200k trips into $DB"
  "$FROST" seed --trips 200k --out "$DB" >/dev/null
fi
{
  echo "date $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine $(nproc) cores, $(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2}'), $(uname -sr)"
  echo "load_before $(cat /proc/loadavg)"
} >"$OUT/machine.txt"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
wait_http() { for _ in $(seq 600); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; echo "bench: $1 never answered" >&2; exit 1; }
wrk_row() {
  awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
       /Requests\/sec/ {rps=$2} $1=="99%" {p99=ms($2)} /Non-2xx/ {bad=$NF} END {printf "%s %.3f %d\n", rps, p99, bad}'
}

# Two servers as run_all.sh's cache-off one: no response cache, no access log.
for variant in on off; do
  port=$P_ON; [ "$variant" = off ] && port=$P_OFF
  sed -e "s#path: ../data/citibike.duckdb#path: $DB#" -e "s#path: ../data/serving.duckdb#path: $OUT/serving-$variant.duckdb#" \
      -e "s#^  port: 5000 .*#  port: $port\n  access_log: false#" config/frost.yaml | grep -v '^    cache: ' >"$OUT/frost-$variant.yaml"
done
"$FROST" serve --config "$OUT/frost-on.yaml" >/dev/null 2>"$OUT/frost-on.err" & pids+=($!)
FROST_PREFIX_SUMS=off "$FROST" serve --config "$OUT/frost-off.yaml" >/dev/null 2>"$OUT/frost-off.err" & pids+=($!)
wait_http "http://127.0.0.1:$P_ON/"; wait_http "http://127.0.0.1:$P_OFF/"
URL=/trips/monthly
curl -sf "http://127.0.0.1:$P_ON$URL" -o "$OUT/www/monthly.json"
# The same answer from both (`time_ms` aside), also for a range.
for q in "" "?start_range=2016-03-05&end_range=2017-03-04"; do
  a=$(curl -sf "http://127.0.0.1:$P_ON$URL$q" | sed 's/"time_ms":[0-9]*//')
  b=$(curl -sf "http://127.0.0.1:$P_OFF$URL$q" | sed 's/"time_ms":[0-9]*//')
  [ "$a" = "$b" ] || { echo "bench: the two servers differ on $URL$q" >&2; exit 1; }
done
sed -e "s#@DIR@#$OUT#g" -e "s#@PORT@#$P_NGINX#g" bench/serving/nginx.conf.in >"$OUT/nginx.conf"
nginx -c "$OUT/nginx.conf" -p "$OUT" 2>"$OUT/nginx.err" & pids+=($!)
wait_http "http://127.0.0.1:$P_NGINX$URL"

log "$ROUNDS rounds x 3 runs of $DURATION (nginx, frost with prefix sums, frost without)"
: >"$OUT/runs.tsv"
for r in $(seq "$ROUNDS"); do
  wrk -t1 -c8 -d"$DURATION" --latency "http://127.0.0.1:$P_NGINX$URL" >"$OUT/wrk-nginx-$r.txt"
  echo "nginx $r $(wrk_row <"$OUT/wrk-nginx-$r.txt") $(load)" | tee -a "$OUT/runs.tsv" >&2
  wrk -t1 -c8 -d"$DURATION" --latency -s bench/serving/random_year.lua "http://127.0.0.1:$P_ON" >"$OUT/wrk-on-$r.txt"
  echo "prefix_sums $r $(wrk_row <"$OUT/wrk-on-$r.txt") $(load)" | tee -a "$OUT/runs.tsv" >&2
  wrk -t1 -c8 -d"$DURATION" --latency -s bench/serving/random_year.lua "http://127.0.0.1:$P_OFF" >"$OUT/wrk-off-$r.txt"
  echo "duckdb $r $(wrk_row <"$OUT/wrk-off-$r.txt") $(load)" | tee -a "$OUT/runs.tsv" >&2
done
curl -sf "http://127.0.0.1:$P_ON/metrics" | grep '^frost_rollup_answers_total' >"$OUT/answers-metrics.txt" || true
echo "load_after $(cat /proc/loadavg)" >>"$OUT/machine.txt"

python3 - "$OUT/runs.tsv" "$OUT/machine.txt" <<'PY' | tee "$OUT/table.md"
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, r, rps, p99, bad, load = line.split()
    runs.setdefault(name, []).append((float(rps), float(p99), int(bad), float(load)))
med = lambda xs: statistics.median(xs)
n_rps = med([x[0] for x in runs["nginx"]]); n_p99 = med([x[1] for x in runs["nginx"]])
machine = dict(l.split(" ", 1) for l in open(sys.argv[2]).read().splitlines())
print(f"{machine['date']}, {machine['machine']}; load before: {machine['load_before']}")
print()
print("| random one-year /trips/monthly, cache off, wrk -c8 | req/s | p99 ms | R3 req/s ÷ nginx | R4 p99 ÷ nginx | non-2xx | load (1 min) |")
print("|---|---|---|---|---|---|---|")
print(f"| nginx static | {n_rps:.0f} | {n_p99:.3f} | 1 | 1 | {sum(x[2] for x in runs['nginx'])} | {med([x[3] for x in runs['nginx']]):.2f} |")
for name, label in (("duckdb", "frost, DuckDB per call (FROST_PREFIX_SUMS=off)"), ("prefix_sums", "frost, prefix sums")):
    rps = med([x[0] for x in runs[name]]); p99 = med([x[1] for x in runs[name]])
    print(f"| {label} | {rps:.0f} | {p99:.3f} | {rps / n_rps:.3f} | {p99 / n_p99:.2f} | {sum(x[2] for x in runs[name])} | {med([x[3] for x in runs[name]]):.2f} |")
PY
