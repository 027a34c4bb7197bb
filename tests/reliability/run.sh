#!/usr/bin/env bash
# The reliability suite of docs/reliability.md, one command.
#   tests/reliability/run.sh          # fast + slow
#   tests/reliability/run.sh fast     # what CI runs (< 1 min): ctest -L "reliability|fuzz|guard"
#   tests/reliability/run.sh slow     # B3 slowloris/slow body under a measuring client,
#                                     # B4 overload and a short soak (about 4 min; never in ctest)
# Env: BUILD_DIR (default build), DB (a sample DuckDB file; default data/citibike.duckdb, built
# with `frost seed -n 1M` into $BUILD_DIR when missing), SOAK_SECONDS (default 120),
# ATTACK_SECONDS (default 60). Needs wrk and slowhttptest (apt-get install wrk slowhttptest);
# nginx for the differential check (skipped without it).
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
part="${1:-all}"
build="${BUILD_DIR:-build}"
attack="${ATTACK_SECONDS:-60}"
soak="${SOAK_SECONDS:-120}"

run_fast() {
  cmake --build "$build" --target reliability_fast unit_auth unit_observe http_request_corpus params_corpus jwt_corpus
  (cd "$build" && ctest -L "reliability|fuzz|guard" --output-on-failure -j2)
}

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
fds() { ls "/proc/$1/fd" | wc -l; }
p99_of() { awk '/ 99%/ {print $2}' "$1"; }

run_slow() {
  ./scripts/setup.sh --reliability
  for tool in wrk slowhttptest; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool is needed (apt-get install $tool)" >&2; exit 2; }
  done
  cmake --build "$build" --target frost
  local frost="$root/$build/src/app/frost"
  work="$(mktemp -d)"
  trap 'kill "${server_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
  local db="${DB:-$root/data/citibike.duckdb}"
  if [ ! -f "$db" ]; then db="$root/$build/reliability-sample.duckdb"; "$frost" seed -o "$db" -n 1M --if-missing; fi
  local port=$((20000 + RANDOM % 20000))
  sed -e "s|path: ../data/citibike.duckdb|path: $db|" -e "s|path: ../data/serving.duckdb|path: $work/serving.duckdb|" \
      -e "s|port: 5000 |port: $port |" config/frost.yaml > "$work/frost.yaml"
  printf '  access_log: false\n' > "$work/extra"  # appended under server: below
  sed -i "/^  queue_capacity:/r $work/extra" "$work/frost.yaml"
  "$frost" serve -c "$work/frost.yaml" > "$work/serve.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
  local url="http://127.0.0.1:$port/trips/monthly?start_range=2019-06-01&end_range=2019-06-30"
  local out="$root/$build/reliability-results.txt"
  : > "$out"
  say() { echo "$*" | sed 's/\x1b\[[0-9;]*m//g' | tee -a "$out"; }

  say "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB; $(date -u +%FT%TZ); frost $(git rev-parse --short HEAD)"
  wrk -t2 -c16 -d10s --latency "$url" > "$work/base.txt"
  say "baseline (wrk -t2 -c16 -d10s, cached endpoint): $(awk '/Requests\/sec/ {print $2}' "$work/base.txt") req/s, p99 $(p99_of "$work/base.txt")"
  local rss0 fd0; rss0=$(rss_kb $server_pid); fd0=$(fds $server_pid)

  # B1.3 1000 pipelined requests in one write: all answered, in order, without the server
  # buffering them (it reads one request at a time).
  local rss_p0; rss_p0=$(rss_kb $server_pid)
  local piped; piped=$(python3 - "$port" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"".join(b"GET /trips/monthly HTTP/1.1\r\nHost: x\r\nX-Request-Id: q%d\r\n\r\n" % i for i in range(1000)))
data, want = b"", 1000
s.settimeout(10)
while data.count(b"HTTP/1.1 200") < want:
    chunk = s.recv(1 << 20)
    if not chunk: break
    data += chunk
ids = [int(x.split(b"\r\n")[0]) for x in data.split(b"X-Request-Id: q")[1:]]
print(f"{data.count(b'HTTP/1.1 200')} answers, in order: {ids == sorted(ids) and len(ids) == want}")
PY
)
  say "B1.3 1000 pipelined GETs in one write: $piped; server RSS $((rss_p0/1024)) -> $(($(rss_kb $server_pid)/1024)) MiB"

  # B1.4 differential: the smuggling vectors through nginx (Debian's, keep-alive upstream).
  if command -v nginx >/dev/null; then
    local nport=$((port + 1))
    mkdir -p "$work/nginx/logs"
    cat > "$work/nginx/nginx.conf" <<NGX
worker_processes 1;
daemon off;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
  upstream frost { server 127.0.0.1:$port; keepalive 4; }
  server {
    listen 127.0.0.1:$nport;
    location / { proxy_pass http://frost; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_request_buffering off; }
  }
}
NGX
    nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" > "$work/nginx/out.log" 2>&1 &
    local ngx=$!
    sleep 1
    python3 tests/reliability/differential.py "$nport" "$port" > "$work/diff.txt" || true
    kill $ngx 2>/dev/null || true
    say "B1.4 differential through nginx $(nginx -v 2>&1 | sed 's|.*/||'): $(tail -1 "$work/diff.txt")"
  else
    say "B1.4 differential: skipped (apt-get install nginx-light)"
  fi

  # B3.6 slowloris while a normal client measures.
  slowhttptest -H -c 2000 -r 500 -i 10 -l "$attack" -u "$url" -p 3 -o "$work/slowloris" -g > "$work/slowloris.txt" 2>&1 &
  local st=$!
  sleep 5
  wrk -t2 -c16 -d"$((attack - 10))s" --latency "$url" > "$work/under.txt"
  local rss_peak; rss_peak=$(rss_kb $server_pid)
  wait $st || true
  say "B3.6 slowloris (slowhttptest -H -c 2000 -r 500 -i 10): normal client p99 $(p99_of "$work/under.txt"), $(awk '/Requests\/sec/ {print $2}' "$work/under.txt") req/s, socket errors: $(grep -c 'Socket errors' "$work/under.txt" || true) line(s), non-2xx: $(awk '/Non-2xx/ {print $NF}' "$work/under.txt")"
  say "  RSS before $((rss0/1024)) MiB, during $((rss_peak/1024)) MiB; slowhttptest: $(grep -E 'service available|closed' "$work/slowloris.txt" | tail -2 | tr -s ' ' | tr '\n' ' ')"
  sleep 12
  say "  fds before $fd0, 12 s after the attack $(fds $server_pid); slow connections: $(awk -F, 'NR > 1 { if (!c0 && $4 > 0) c0 = $1; if (!x0 && $2 > 0) x0 = $1; if ($2 + $4 > full) { full = $2 + $4; tf = $1 } if ($2 > last) { last = $2; tl = $1 } } END { printf "first connected at %ss, first closed at %ss; all %d connected by %ss, last closed at %ss", c0, x0, full, tf, tl }' "$work/slowloris.csv")"

  # B3.8 idle flood: 5000 silent connections against max_connections 4096 and a 10 s header deadline.
  wrk -t2 -c16 -d15s --latency "$url" > "$work/idle_wrk.txt" &
  local iw=$!
  python3 tests/reliability/idle_flood.py "$port" 5000 > "$work/idle.txt"
  wait $iw || true
  say "B3.8 idle flood (5000 silent connections): $(cat "$work/idle.txt"); normal client p99 $(p99_of "$work/idle_wrk.txt")"

  # B3.7 slow body: bodies are refused past max_body_bytes and cut at the header deadline.
  slowhttptest -B -c 500 -r 200 -i 10 -s 8192 -l 30 -u "$url" -p 3 > "$work/slowbody.txt" 2>&1 || true
  say "B3.7 slow body (slowhttptest -B -c 500 -i 10 -s 8192 -l 30): $(grep -E 'service available' "$work/slowbody.txt" | tail -1 | tr -s ' ')"

  # B3.7 slow read: tiny receive windows, read 32 bytes every 5 s.
  slowhttptest -X -c 500 -r 200 -w 512 -y 1024 -n 5 -z 32 -k 3 -l 30 -u "$url" -p 3 > "$work/slowread.txt" 2>&1 || true
  say "B3.7 slow read (slowhttptest -X -c 500 -w 512 -y 1024 -n 5 -z 32 -k 3 -l 30): $(grep -E 'service available' "$work/slowread.txt" | tail -1 | tr -s ' '); server fds at the end $(fds $server_pid) (baseline $fd0)"

  # B4.10 overload: uncached queries (random=true bypasses the cache) from 600 connections,
  # more than workers + queue_capacity (256): the excess must get a prompt 503.
  local hot="http://127.0.0.1:$port/trips/monthly?random=true"
  wrk -t2 -c600 -d30s --latency "$hot" > "$work/over.txt" &
  local wp=$!
  sleep 10
  for _ in $(seq 40); do curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$hot"; done > "$work/probe.txt"
  wait $wp || true
  say "B4.10 overload (wrk -t2 -c600 -d30s, uncached): $(awk '/Requests\/sec/ {print $2}' "$work/over.txt") req/s, p99 $(p99_of "$work/over.txt"), non-2xx $(awk '/Non-2xx/ {print $NF}' "$work/over.txt"), $(grep -o 'timeout [0-9]*' "$work/over.txt" || echo 'timeout 0')"
  # Server-side time of the 503s (from request read to answer ready), apart from the load
  # generator's share of the 2 cores: the histogram of /metrics.
  curl -s "http://127.0.0.1:$port/metrics" | awk '/^frost_http_request_duration_seconds_bucket/ && /status="503"/ {
      match($0, /le="[^"]*"/); n[substr($0, RSTART + 4, RLENGTH - 5)] += $NF }
    END { printf "%d %d %d\n", n["0.001"], n["0.005"], n["+Inf"] }' > "$work/h503.txt"
  say "  server-side: $(awk '{ if ($3 > 0) printf "%d 503s, %.2f%% ready within 1 ms, %.2f%% within 5 ms", $3, 100 * $1 / $3, 100 * $2 / $3; else print "no 503 recorded" }' "$work/h503.txt")"
  say "  probes during overload: $(awk '{n[$1]++; if ($1 == 503 && $2 > m) m = $2} END {for (k in n) printf "%s x%d, ", k, n[k]; printf "slowest 503 %.1f ms", m * 1000}' "$work/probe.txt")"
  sleep 2
  wrk -t2 -c16 -d5s --latency "$url" > "$work/after.txt"
  say "  5 s after: p99 $(p99_of "$work/after.txt")"

  # B4.11 soak (short): RSS drift after warm-up, fd count.
  wrk -t2 -c16 -d10s "$url" > /dev/null
  local rss_w fd_w; rss_w=$(rss_kb $server_pid); fd_w=$(fds $server_pid)
  wrk -t2 -c16 -d"${soak}s" --latency "$url" > "$work/soak.txt"
  local rss_e fd_e; rss_e=$(rss_kb $server_pid); fd_e=$(fds $server_pid)
  say "B4.11 soak ${soak}s (wrk -t2 -c16): $(awk '/Requests\/sec/ {print $2}' "$work/soak.txt") req/s, p99 $(p99_of "$work/soak.txt"), non-2xx $(awk '/Non-2xx/ {print $NF}' "$work/soak.txt"); RSS $((rss_w/1024)) -> $((rss_e/1024)) MiB, fds $fd_w -> $fd_e"
  kill -0 $server_pid && say "server still running: yes"
  kill $server_pid 2>/dev/null || true
  wait $server_pid 2>/dev/null || true

  # B6.19 rate-limit isolation: key B's latency alone, then while key A floods past its quota.
  local key_a="noisy-$RANDOM$RANDOM" key_b="quiet-$RANDOM$RANDOM"
  sed -e "s|path: $work/serving.duckdb|path: $work/serving-auth.duckdb|" "$work/frost.yaml" > "$work/auth.yaml"
  cat >> "$work/auth.yaml" <<AUTH

auth:
  default: api_key
  rate_limit: {per_second: 100, burst: 100}
  api_keys:
    - {name: noisy, sha256: $(printf %s "$key_a" | sha256sum | cut -d' ' -f1)}
    - {name: quiet, sha256: $(printf %s "$key_b" | sha256sum | cut -d' ' -f1)}
AUTH
  "$frost" serve -c "$work/auth.yaml" > "$work/serve-auth.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
  # The quiet key stays under its quota: 2 connections, 40 ms between requests (about 50/s).
  echo 'delay = function() return 40 end' > "$work/pace.lua"
  wrk -t1 -c2 -d10s --latency -s "$work/pace.lua" -H "X-Api-Key: $key_b" "$url" > "$work/quiet_alone.txt"
  wrk -t1 -c32 -d12s -H "X-Api-Key: $key_a" "$url" > "$work/noisy.txt" &
  local nw=$!
  sleep 1
  wrk -t1 -c2 -d10s --latency -s "$work/pace.lua" -H "X-Api-Key: $key_b" "$url" > "$work/quiet_flood.txt"
  wait $nw || true
  say "B6.19 rate-limit isolation (100/s per key): quiet key alone p99 $(p99_of "$work/quiet_alone.txt"), $(awk '/Non-2xx/ {print $NF}' "$work/quiet_alone.txt") non-2xx; while the noisy key floods ($(awk '/Requests\/sec/ {print $2}' "$work/noisy.txt") req/s, $(awk '/Non-2xx/ {print $NF}' "$work/noisy.txt") answered 429): quiet key p99 $(p99_of "$work/quiet_flood.txt"), $(awk '/Non-2xx/ {print $NF}' "$work/quiet_flood.txt") non-2xx"
  echo "results: $out"
}

case "$part" in
  fast) run_fast ;;
  slow) run_slow ;;
  all) run_fast; run_slow ;;
  *) echo "usage: $0 [fast|slow|all]" >&2; exit 2 ;;
esac
