#!/usr/bin/env bash
# `make bench`: issue 14's ratio table and P1-P6 of bench/serving/run.sh, one command, one run.
# Every goal is a ratio of two figures measured in this run (alternating rounds), so the table
# holds on any machine; absolute figures are labelled with the date and the load average.
#   R1 Lambda cold start, first answer with embedded data / the same package serving a static `/`
#   R2 the same / a minimal custom runtime answering `{}` (bench/lambda/empty_runtime.cpp)
#   R3 random one-year /trips/monthly, cache off, wrk -c8: req/s / nginx static req/s (same c8)
#   R4 the same: p99 / nginx's p99
#   R5 cache hit with the access log on (stdout to a file) / nginx with its access log on, -c50
#   R6 per-call DuckDB cost of a rollup answer: a statement prepared per call / prepared once
#      (bench/rollup/call_cost.cpp; informational, thread CPU time)
#   then bench/serving/run.sh (P1-P4, P6, artillery) with reduced rounds.
# Env: BUILD=build  OUT=bench/results/<UTC time>  ROUNDS=3  DURATION=10s  COLD_N=10  COLD_ROUNDS=6
#      DB=data/citibike.duckdb (made with `frost seed --trips $BENCH_TRIPS` if missing, 10M)
#      COLD_TRIPS=500k: the sample packaged for the cold starts (a 10M package is over Lambda's
#      250 MB limit; the rollup, and so the first answer, is the same size at any trip count)
#      BENCH_QUICK=1: a smoke run of about two minutes (1 round, 2 s runs, 3 cold starts,
#      200k trips in OUT, P1-P6 at 1 round without artillery). SERVING=0 skips bench/serving/run.sh.
# Prints the Markdown table; writes raw outputs, table.md, latency.png and cold-start.png to OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
QUICK=${BENCH_QUICK:-0}
OUT=${OUT:-bench/results/$(date -u +%Y%m%dT%H%M%SZ)}
if [ "$QUICK" = 1 ]; then
  ROUNDS=${ROUNDS:-1}; DURATION=${DURATION:-2s}; COLD_N=${COLD_N:-3}; COLD_ROUNDS=${COLD_ROUNDS:-2}; BENCH_TRIPS=${BENCH_TRIPS:-200k}; COLD_TRIPS=${COLD_TRIPS:-200k}
  DB=${DB:-$OUT/citibike-quick.duckdb}; ARTILLERY=${ARTILLERY:-0}; P2_SWEEP=${P2_SWEEP-}; CALL_SECONDS=1
else
  ROUNDS=${ROUNDS:-3}; DURATION=${DURATION:-10s}; COLD_N=${COLD_N:-10}; COLD_ROUNDS=${COLD_ROUNDS:-6}; BENCH_TRIPS=${BENCH_TRIPS:-10M}; COLD_TRIPS=${COLD_TRIPS:-500k}
  DB=${DB:-data/citibike.duckdb}; ARTILLERY=${ARTILLERY:-1}; P2_SWEEP=${P2_SWEEP-}; CALL_SECONDS=6
fi
SERVING=${SERVING:-1}
PORT=${PORT:-$((20000 + RANDOM % 20000))}
P_NOCACHE=$PORT; P_CACHE=$((PORT + 1)); P_NGINX=$((PORT + 2)); P_NGINX_LOG=$((PORT + 3))
FROST=$BUILD/src/app/frost
log() { printf '\033[1mbench:\033[0m %s\n' "$*" >&2; }
load() { cut -d' ' -f1 /proc/loadavg; }

./bench/setup.sh
log "building frost, the Lambda emulator and the bench programs"
cmake --build "$BUILD" -j1 --target frost frost-lambda-emulator bench_duckdb_query bench_rollup_call bench_empty_runtime >/dev/null
mkdir -p "$OUT/www" "$OUT/nginx-tmp"
OUT=$(cd "$OUT" && pwd)
if [ ! -f "$DB" ]; then
  log "seeding $BENCH_TRIPS trips into $DB"
  mkdir -p "$(dirname "$DB")"
  "$FROST" seed --trips "$BENCH_TRIPS" --out "$DB" >/dev/null
fi
DB=$(cd "$(dirname "$DB")" && pwd)/$(basename "$DB")
{
  echo "date $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine $(nproc) cores, $(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2}'), $(uname -sr)"
  echo "load_before $(cat /proc/loadavg)"
  echo "data $(basename "$DB") $(du -h "$DB" | cut -f1)"
} >"$OUT/machine.txt"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
wait_http() { for _ in $(seq 600); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; echo "bench: $1 never answered" >&2; exit 1; }
# wrk --latency output -> "req/s p50 p90 p99 non2xx" (ms).
wrk_row() {
  awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
       /Requests\/sec/ {rps=$2} $1=="50%" {p50=ms($2)} $1=="90%" {p90=ms($2)} $1=="99%" {p99=ms($2)}
       /Non-2xx/ {bad=$NF} END {printf "%s %.3f %.3f %.3f %d\n", rps, p50, p90, p99, bad}'
}

# ---- R1, R2: cold starts ------------------------------------------------------------------
log "R1/R2: Lambda cold starts in the emulator ($COLD_N per variant, $COLD_ROUNDS rounds, alternating)"
EMPTY_RUNTIME="$BUILD/bench/bench_empty_runtime" ROUNDS="$COLD_ROUNDS" bench/lambda_cold_start.sh "$BUILD" "$COLD_N" "$COLD_TRIPS" \
  >"$OUT/cold-start.txt" 2>"$OUT/cold-start.err" || { cat "$OUT/cold-start.err" >&2; exit 1; }

# ---- R3-R5: frost vs nginx, alternating ----------------------------------------------------
# Both Frost servers get one I/O thread, as nginx gets one worker process: with wrk on the same
# two cores, a second event-loop thread only waits for the scheduler (CFS hands a core over in
# ~3 ms slices: Frost's p99 was 3.5 ms with two I/O threads, 0.3 ms with one, the same run).
sed -e "s#path: ../data/citibike.duckdb#path: $DB#" -e "s#path: ../data/serving.duckdb#path: $OUT/serving.duckdb#" \
    -e "s#^  port: 5000 .*#  port: $P_CACHE\n  io_threads: 1#" config/frost.yaml >"$OUT/frost-cache.yaml"
sed -e "s#^  port: $P_CACHE#  port: $P_NOCACHE\n  access_log: false#" -e "s#path: $OUT/serving.duckdb#path: $OUT/serving-nocache.duckdb#" \
    "$OUT/frost-cache.yaml" | grep -v '^    cache: ' >"$OUT/frost-nocache.yaml"
log "starting two frost servers (cache on + access log on; cache off + log off) and nginx"
"$FROST" serve --config "$OUT/frost-cache.yaml" >"$OUT/frost-access.log" 2>"$OUT/frost-cache.err" & pids+=($!)
wait_http "http://127.0.0.1:$P_CACHE/"
"$FROST" serve --config "$OUT/frost-nocache.yaml" >/dev/null 2>"$OUT/frost-nocache.err" & pids+=($!)
wait_http "http://127.0.0.1:$P_NOCACHE/"
URL=/trips/monthly
curl -sf "http://127.0.0.1:$P_CACHE$URL" -o "$OUT/www/monthly.json"
sed -e "s#@DIR@#$OUT#g" -e "s#@PORT@#$P_NGINX#g" bench/serving/nginx.conf.in >"$OUT/nginx.conf"
# A second server block, identical but for its access log (nginx's default combined format).
python3 - "$OUT/nginx.conf" "$P_NGINX" "$P_NGINX_LOG" "$OUT/nginx-access.log" <<'PY'
import re, sys
path, port, port_log, access = sys.argv[1:]
text = open(path).read()
block = text[text.index("    server {"):text.rindex("}")]
logged = block.replace("listen 127.0.0.1:%s;" % port, "listen 127.0.0.1:%s;\n        access_log %s;" % (port_log, access))
open(path, "w").write(text[:text.rindex("}")] + logged + "}\n")
PY
nginx -c "$OUT/nginx.conf" -p "$OUT" 2>"$OUT/nginx.err" & pids+=($!)
wait_http "http://127.0.0.1:$P_NGINX$URL"; wait_http "http://127.0.0.1:$P_NGINX_LOG$URL"
for p in $P_CACHE $P_NGINX $P_NGINX_LOG; do
  curl -sf "http://127.0.0.1:$p$URL" | cmp -s - "$OUT/www/monthly.json" || { echo "bench: port $p serves other bytes" >&2; exit 1; }
done
# Warm-up, not recorded: a server's first requests build its steady state (Frost builds an SQL's
# prefix-sum index in the background after DuckDB answers it first; nginx's file is already in the
# page cache from the checks above). R3-R5 measure the steady state.
log "warm-up: 2 s per server, not recorded"
wrk -t1 -c8 -d2s -s bench/serving/random_year.lua "http://127.0.0.1:$P_NOCACHE" >/dev/null
for p in $P_NGINX $P_NGINX_LOG $P_CACHE; do wrk -t1 -c8 -d2s "http://127.0.0.1:$p$URL" >/dev/null; done
log "R3-R5: $ROUNDS rounds x 4 runs of $DURATION"
: >"$OUT/ratios.tsv"
for r in $(seq "$ROUNDS"); do
  wrk -t1 -c8 -d"$DURATION" --latency "http://127.0.0.1:$P_NGINX$URL" >"$OUT/wrk-nginx-c8-$r.txt"
  echo "nginx_c8 $r $(wrk_row <"$OUT/wrk-nginx-c8-$r.txt") $(load)" | tee -a "$OUT/ratios.tsv" >&2
  wrk -t1 -c8 -d"$DURATION" --latency -s bench/serving/random_year.lua "http://127.0.0.1:$P_NOCACHE" >"$OUT/wrk-random-$r.txt"
  echo "frost_random_c8 $r $(wrk_row <"$OUT/wrk-random-$r.txt") $(load)" | tee -a "$OUT/ratios.tsv" >&2
  wrk -t1 -c50 -d"$DURATION" --latency "http://127.0.0.1:$P_NGINX_LOG$URL" >"$OUT/wrk-nginx-log-$r.txt"
  echo "nginx_log_c50 $r $(wrk_row <"$OUT/wrk-nginx-log-$r.txt") $(load)" | tee -a "$OUT/ratios.tsv" >&2
  wrk -t1 -c50 -d"$DURATION" --latency "http://127.0.0.1:$P_CACHE$URL" >"$OUT/wrk-frost-log-$r.txt"
  echo "frost_hit_log_c50 $r $(wrk_row <"$OUT/wrk-frost-log-$r.txt") $(load)" | tee -a "$OUT/ratios.tsv" >&2
done
curl -sf "http://127.0.0.1:$P_CACHE/metrics" | grep '^frost_access_log' >"$OUT/access-log-metrics.txt" || true
cleanup; pids=()
echo "access_log_lines $(wc -l <"$OUT/frost-access.log") nginx_access_lines $(wc -l <"$OUT/nginx-access.log")" >>"$OUT/machine.txt"

# ---- R6: per-call cost of a rollup answer --------------------------------------------------
log "R6: rollup per-call cost (bench_rollup_call, ${CALL_SECONDS}s)"
"$BUILD/bench/bench_rollup_call" "$CALL_SECONDS" >"$OUT/rollup-call.md"

# ---- P1-P6: the existing suite, reduced rounds ---------------------------------------------
if [ "$SERVING" = 1 ]; then
  log "P1-P6: bench/serving/run.sh (RUNS=$ROUNDS DURATION=$DURATION ARTILLERY=$ARTILLERY)"
  BUILD=$BUILD DB=$DB RUNS=$ROUNDS DURATION=$DURATION ARTILLERY=$ARTILLERY P2_SWEEP=$P2_SWEEP OUT=$OUT/serving \
    PORT_FROST=$((PORT + 10)) bench/serving/run.sh >"$OUT/serving.md" 2>"$OUT/serving.err" ||
    { tail -20 "$OUT/serving.err" >&2; echo "bench: bench/serving/run.sh failed" >&2; exit 1; }
fi
echo "load_after $(cat /proc/loadavg)" >>"$OUT/machine.txt"

python3 bench/summarize_ratios.py "$OUT" | tee "$OUT/table.md"
gnuplot -e "out='$OUT/latency.png'; data='$OUT/latency.dat'" bench/latency.gp
gnuplot -e "out='$OUT/cold-start.png'; data='$OUT/cold-start.dat'" bench/cold_start.gp
log "results in $OUT (table.md, latency.png, cold-start.png, raw outputs)"
