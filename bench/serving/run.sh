#!/usr/bin/env bash
# Frost's serving-speed benchmarks (issue 4), one command:   bench/serving/run.sh
#   P1 cache hit vs nginx serving the identical bytes        (wrk -t1 -c50, same run, alternating)
#   P4 cache hit vs the same JSON from Flask under gunicorn  (same wrk settings, same rounds)
#   P2 monthly report over random 1-year ranges, cache off, 100M trips (wrk + random_year.lua)
#   P6 Frost's RSS while serving 100M trips through the rollup (sampled during P2)
#   P3 live query path (/sqlapi) vs the same query through DuckDB's C API alone (serial)
#   the data guide's artillery scenarios all.yaml and monthly_random.yaml (target port only changed)
# Env: BUILD=build  DB=data/citibike-100m.duckdb (made with `frost seed --trips 100M` if missing)
#      RUNS=3  DURATION=10s  P2_CONNECTIONS=8  P2_SWEEP="2 4 6" (more P2 rounds at these
#      connection counts, alternating; empty skips)  ARTILLERY=1 (0 skips the two 2-minute scenarios)
#      OUT=bench/serving/results/<UTC time>
# Prints Markdown; writes raw outputs, summary.md and latency-percentiles.png into OUT.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${BUILD:-build}
DB=${DB:-data/citibike-100m.duckdb}
RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
P2_CONNECTIONS=${P2_CONNECTIONS:-8}
P2_SWEEP=${P2_SWEEP-2 4 6}
ARTILLERY=${ARTILLERY:-1}
OUT=${OUT:-bench/serving/results/$(date -u +%Y%m%dT%H%M%SZ)}
PORT_FROST=${PORT_FROST:-5391}; PORT_NGINX=$((PORT_FROST + 1)); PORT_FLASK=$((PORT_FROST + 2))
FROST=$BUILD/src/app/frost
RAW=$BUILD/bench/bench_duckdb_query

./bench/setup.sh
cmake --build "$BUILD" --target frost bench_duckdb_query >/dev/null
mkdir -p "$OUT/www" "$OUT/nginx-tmp"
OUT=$(cd "$OUT" && pwd)
DB=$(cd "$(dirname "$DB")" && pwd)/$(basename "$DB")
[ -f "$DB" ] || "$FROST" seed --trips 100M --out "$DB"
log() { printf '\033[1mbench:\033[0m %s\n' "$*" >&2; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
wait_http() { for _ in $(seq 600); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; echo "bench: $1 never answered" >&2; exit 1; }
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# Configs: the default one over the 100M file, its serving file in OUT, access log off (it is
# another feature's cost); the cache-off variant drops every `cache:` line.
sed -e "s#path: ../data/citibike.duckdb#path: $DB#" -e "s#path: ../data/serving.duckdb#path: $OUT/serving.duckdb#" \
    -e "s#^  port: 5000 .*#  port: $PORT_FROST\n  access_log: false#" config/frost.yaml >"$OUT/frost.yaml"
grep -v '^    cache: ' "$OUT/frost.yaml" >"$OUT/frost-nocache.yaml"

# wrk's --latency output -> "req/s p50 p90 p99" in ms.
wrk_row() {
  awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
       /Requests\/sec/ {rps=$2} $1=="50%" {p50=ms($2)} $1=="90%" {p90=ms($2)} $1=="99%" {p99=ms($2)}
       /Non-2xx/ {bad=$NF} END {printf "%s %.3f %.3f %.3f %d\n", rps, p50, p90, p99, bad}'
}
machine() {
  echo "- CPU: $(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2}'), $(nproc) cores; RAM $(free -g | awk '/Mem:/ {print $2}') GiB; $(uname -sr)"
  echo 'select count(*) from demo.trips' >"$OUT/count.sql"
  echo "- data: $(basename "$DB") ($(du -h "$DB" | cut -f1)), $("$RAW" "$DB" "$OUT/count.sql" 2000-01-01 2000-01-01 0 2>&1 >/dev/null | awk '/checksum/ {print $2}') trips"
  echo "- tools: $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), nginx $(nginx -v 2>&1 | cut -d/ -f2), gunicorn $(gunicorn --version | awk '{print $NF}' | tr -d ')'), artillery $(bench/node_modules/.bin/artillery version 2>/dev/null | awk '/Artillery/ {print $NF; exit}')"
}
load() { cut -d' ' -f1 /proc/loadavg; }

log "machine"; machine | tee "$OUT/machine.md" >&2
echo "load_before $(load)" >"$OUT/noise.txt"

# ---- P1 + P4: cache hits vs nginx vs Flask/gunicorn --------------------------------------
log "starting frost (rollup built or loaded from $OUT/serving.duckdb)"
t0=$(date +%s.%N)
"$FROST" serve --config "$OUT/frost.yaml" >"$OUT/frost.log" 2>&1 & frost=$!; pids+=("$frost")
wait_http "http://127.0.0.1:$PORT_FROST/"
echo "frost_ready_s $(echo "$(date +%s.%N) - $t0" | bc)" >>"$OUT/noise.txt"
URL=/trips/monthly
curl -sf "http://127.0.0.1:$PORT_FROST$URL" -o "$OUT/www/monthly.json"
curl -sfI "http://127.0.0.1:$PORT_FROST$URL" | grep -i '^x-cache' | grep -qi hit || { echo "bench: second call was not a cache hit" >&2; exit 1; }
sed -e "s#@DIR@#$OUT#g" -e "s#@PORT@#$PORT_NGINX#g" bench/serving/nginx.conf.in >"$OUT/nginx.conf"
nginx -c "$OUT/nginx.conf" -p "$OUT" & nginx_pid=$!; pids+=("$nginx_pid")
(cd bench/serving && FROST_BENCH_BODY="$OUT/www/monthly.json" exec gunicorn -w 2 -k gthread --threads 8 \
   -b "127.0.0.1:$PORT_FLASK" --log-level warning flask_app:app) >"$OUT/gunicorn.log" 2>&1 & flask_pid=$!; pids+=("$flask_pid")
wait_http "http://127.0.0.1:$PORT_NGINX$URL"; wait_http "http://127.0.0.1:$PORT_FLASK$URL"
for p in $PORT_FROST $PORT_NGINX $PORT_FLASK; do
  curl -sf "http://127.0.0.1:$p$URL" | cmp -s - "$OUT/www/monthly.json" || { echo "bench: port $p serves other bytes" >&2; exit 1; }
done
log "P1/P4: $RUNS rounds x (nginx, frost, flask), wrk -t1 -c50 -d$DURATION, $(wc -c <"$OUT/www/monthly.json") B body"
: >"$OUT/p1p4.tsv"
for r in $(seq "$RUNS"); do
  for s in nginx frost flask; do
    case $s in nginx) p=$PORT_NGINX ;; frost) p=$PORT_FROST ;; flask) p=$PORT_FLASK ;; esac
    wrk -t1 -c50 -d"$DURATION" --latency "http://127.0.0.1:$p$URL" >"$OUT/wrk-$s-$r.txt"
    echo "$s $r $(wrk_row <"$OUT/wrk-$s-$r.txt") $(load)" | tee -a "$OUT/p1p4.tsv" >&2
  done
done
stop "$nginx_pid"; stop "$flask_pid"

# ---- artillery: the guide's scenarios against the default config ------------------------
if [ "$ARTILLERY" = 1 ]; then
  for sc in all monthly_random; do
    log "artillery $sc.yaml (2 minutes + ~12 s of artillery's telemetry lookups)"
    rc=0
    bench/node_modules/.bin/artillery run --target "http://127.0.0.1:$PORT_FROST" --output "$OUT/artillery-$sc.json" \
      "bench/serving/$sc.yaml" >"$OUT/artillery-$sc.txt" 2>&1 || rc=$?
    echo "artillery_${sc}_exit $rc" >>"$OUT/noise.txt"
  done
fi
stop "$frost"

# ---- P2 + P6: random 1-year ranges, cache off, through the rollup ------------------------
log "P2/P6: frost with the cache off; waiting for its start-up refresh of the rollup to finish"
"$FROST" serve --config "$OUT/frost-nocache.yaml" >"$OUT/frost-nocache.log" 2>&1 & frost=$!; pids+=("$frost")
wait_http "http://127.0.0.1:$PORT_FROST/"
v0=$(curl -sfI "http://127.0.0.1:$PORT_FROST$URL" | awk -F': ' 'tolower($1)=="x-data-version" {print $2}' | tr -d '\r')
for _ in $(seq 300); do
  v=$(curl -sfI "http://127.0.0.1:$PORT_FROST$URL" | awk -F': ' 'tolower($1)=="x-data-version" {print $2}' | tr -d '\r')
  [ "$v" != "$v0" ] && break; sleep 0.2
done
echo "rollup_versions $v0 $v" >>"$OUT/noise.txt"
echo "rss_after_refresh_kib $(awk '/VmRSS/ {print $2}' /proc/$frost/status) hwm_kib $(awk '/VmHWM/ {print $2}' /proc/$frost/status)" >>"$OUT/noise.txt"
: >"$OUT/p2.tsv"; : >"$OUT/rss.txt"
for r in $(seq "$RUNS"); do
  ( while kill -0 "$frost" 2>/dev/null; do awk '/VmRSS/ {print $2}' /proc/$frost/status >>"$OUT/rss.txt"; sleep 0.5; done ) & sampler=$!
  wrk -t1 -c"$P2_CONNECTIONS" -d"$DURATION" --latency -s bench/serving/random_year.lua "http://127.0.0.1:$PORT_FROST" >"$OUT/wrk-p2-$r.txt"
  kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
  echo "p2 $r $(wrk_row <"$OUT/wrk-p2-$r.txt") $(load)" | tee -a "$OUT/p2.tsv" >&2
done
: >"$OUT/p2-sweep.tsv"
if [ -n "$P2_SWEEP" ]; then
  log "P2 sweep: $RUNS rounds x connections ($P2_SWEEP)"
  for r in $(seq "$RUNS"); do
    for c in $P2_SWEEP; do
      wrk -t1 -c"$c" -d"$DURATION" --latency -s bench/serving/random_year.lua "http://127.0.0.1:$PORT_FROST" >"$OUT/wrk-sweep-c$c-$r.txt"
      echo "c$c $r $(wrk_row <"$OUT/wrk-sweep-c$c-$r.txt") $(load)" | tee -a "$OUT/p2-sweep.tsv" >&2
    done
  done
fi

# ---- P3: live path vs DuckDB's C API, serial, alternating --------------------------------
python3 - "$ROOT/config/frost.yaml" >"$OUT/monthly_raw.sql" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
block = text[text.index("- path: /sqlapi/trips/monthly"):]
sql = re.search(r"duckdb: \|\n((?:        .*\n)+)", block).group(1)
print("\n".join(l[8:] for l in sql.splitlines()))
PY
P3_START=2019-01-01; P3_END=2019-12-31
secs=${DURATION%s}
log "P3: $RUNS rounds x (frost /sqlapi live path, DuckDB C API), one request at a time, ${secs}s each"
: >"$OUT/p3.tsv"
for r in $(seq "$RUNS"); do
  wrk -t1 -c1 -d"$DURATION" --latency "http://127.0.0.1:$PORT_FROST/sqlapi$URL?start_range=$P3_START&end_range=$P3_END" >"$OUT/wrk-p3-$r.txt"
  echo "frost $r $(wrk_row <"$OUT/wrk-p3-$r.txt") $(load)" | tee -a "$OUT/p3.tsv" >&2
  "$RAW" "$DB" "$OUT/monthly_raw.sql" "$P3_START" "$P3_END" "$secs" >"$OUT/raw-p3-$r.txt" 2>/dev/null
  echo "raw $r $(python3 -c "
import sys, statistics as st
v = sorted(float(x) for x in open(sys.argv[1]))
q = lambda p: v[min(len(v) - 1, int(p * len(v)))]
print(f'{len(v) / sum(v) * 1000:.2f} {q(.5):.3f} {q(.9):.3f} {q(.99):.3f} 0')" "$OUT/raw-p3-$r.txt") $(load)" | tee -a "$OUT/p3.tsv" >&2
done
stop "$frost"
echo "load_after $(load)" >>"$OUT/noise.txt"

python3 bench/serving/summarize.py "$OUT" | tee "$OUT/summary.md"
gnuplot -e "out='$OUT/latency-percentiles.png'; data='$OUT/percentiles.dat'" bench/serving/plot.gp
log "results in $OUT (summary.md, latency-percentiles.png)"
