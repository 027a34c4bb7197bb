#!/usr/bin/env bash
# Issue 12: 20 config reloads (SIGHUP) under load. wrk drives a cached and an uncached route
# that every config keeps, while each reload adds an endpoint, removes one and changes a cache
# policy. Pass: 0 non-2xx and 0 socket errors on the unchanged routes, each added endpoint
# answering within 1 s of its signal, each removed one 404, and 20 reloads counted as ok.
# usage: reload_under_load.sh <path to frost> [reloads (20)]   (needs wrk and curl:
# `scripts/setup.sh --reliability` installs wrk)
set -euo pipefail
frost="$1"
reloads="${2:-20}"
command -v wrk > /dev/null || { echo "SKIP: wrk is not installed (scripts/setup.sh --reliability)"; exit 77; }
work="$(mktemp -d)"
trap 'kill "${pid:-0}" "${w1:-0}" "${w2:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

# Config number $1: the unchanged routes, a cache policy that alternates, /added_$1 added and
# /added_$(($1-1)) gone.
write_config() {
  local n="$1" ttl
  if (( n % 2 )); then ttl=30s; else ttl=60s; fi
  cat > "$work/next.yaml" <<YAML
server: {host: 127.0.0.1, port: 0, workers: 2, io_threads: 2, access_log: false}
sources:
  mem: {type: duckdb, path: ':memory:', read_only: false}
endpoints:
  - path: /cached
    source: mem
    sql: select 'cached' as what, 42 as n
    cache: {ttl: 60s}
  - path: /uncached
    source: mem
    sql: select 'live' as what, 7 as n
  - path: /policy
    source: mem
    sql: select 'policy' as what
    cache: {ttl: $ttl}
  - path: /added_$n
    source: mem
    sql: select $n as generation
YAML
  mv "$work/next.yaml" "$work/frost.yaml"
}

write_config 0
"$frost" serve -c "$work/frost.yaml" > "$work/out.log" 2>&1 &
pid=$!
port=""
for _ in $(seq 100); do
  port="$(sed -n 's|.*serving .* on http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/out.log" | head -1)"
  [ -n "$port" ] && break
  sleep 0.1
done
fail() { echo "FAIL: $*"; tail -40 "$work/out.log"; exit 1; }
[ -n "$port" ] || fail "the server did not start"
base="http://127.0.0.1:$port"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code "$base/added_0")" = 200 ] || fail "/added_0 must answer before the first reload"

seconds=$(( reloads * 6 / 10 + 4 ))
wrk -t1 -c4 -d"${seconds}s" "$base/cached" > "$work/wrk_cached.txt" 2>&1 &
w1=$!
wrk -t1 -c4 -d"${seconds}s" "$base/uncached" > "$work/wrk_uncached.txt" 2>&1 &
w2=$!
sleep 1

worst_ms=0
for n in $(seq 1 "$reloads"); do
  write_config "$n"
  start=$(date +%s%N)
  kill -HUP "$pid"
  ok=""
  while (( ($(date +%s%N) - start) / 1000000 < 3000 )); do
    if [ "$(code "$base/added_$n")" = 200 ]; then ok=1; break; fi
    sleep 0.01
  done
  took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  [ -n "$ok" ] || fail "reload $n: /added_$n did not answer within 3 s"
  (( took_ms <= 1000 )) || fail "reload $n: /added_$n answered after $took_ms ms (> 1 s)"
  (( took_ms > worst_ms )) && worst_ms=$took_ms
  [ "$(code "$base/added_$((n - 1))")" = 404 ] || fail "reload $n: /added_$((n - 1)) must be gone"
  [ "$(code "$base/policy")" = 200 ] || fail "reload $n: /policy must answer"
  sleep 0.3
done

wait "$w1" "$w2"
metrics="$(curl -s "$base/metrics")"
grep -q "frost_config_reloads_total{outcome=\"ok\"} $reloads" <<<"$metrics" || fail "metrics must count $reloads reloads"
status=0
for route in cached uncached; do
  out="$work/wrk_$route.txt"
  requests="$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$out")"
  echo "/$route: ${requests:-?} requests; $(grep -E 'Latency|Requests/sec' "$out" | tr -s ' ' | tr '\n' ';')"
  if grep -q 'Non-2xx' "$out"; then echo "FAIL: /$route: $(grep 'Non-2xx' "$out")"; status=1; fi
  if grep -q 'Socket errors' "$out"; then echo "FAIL: /$route: $(grep 'Socket errors' "$out")"; status=1; fi
  [ "${requests:-0}" -gt 0 ] || { echo "FAIL: /$route: wrk made no request"; status=1; }
done
(( status == 0 )) || fail "errors on unchanged routes"
echo "ok: $reloads reloads under load: 0 non-2xx and 0 socket errors on /cached and /uncached;" \
     "added endpoints answered within $worst_ms ms of SIGHUP (worst)"
