#!/usr/bin/env bash
# What the access log costs on cache hits: the same binary with `server.access_log` on (stdout
# to a file) and off, alternating, wrk -t1 -c50 on /trips/monthly. Prints one row per run and the
# ratio on/off of each round. Give two binaries to compare builds in one run (before/after).
# Usage: bench/access_log_cost.sh DB DURATION ROUNDS FROST_BINARY [FROST_BINARY...]
set -euo pipefail
cd "$(dirname "$0")/.."
db=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); duration=$2; rounds=$3; shift 3
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"' EXIT
port=$((30000 + RANDOM % 20000))
wait_http() { for _ in $(seq 600); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; echo "never answered: $1" >&2; exit 1; }
rps() { awk '/Requests\/sec/ {print $2}'; }
echo "date $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg) (shared, noisy when > 1)"
i=0
declare -A ports
for bin in "$@"; do
  for log in on off; do
    i=$((i + 1)); p=$((port + i))
    flag=true; [ $log = off ] && flag=false
    sed -e "s#path: ../data/citibike.duckdb#path: $db#" -e "s#path: ../data/serving.duckdb#path: $work/serving-$i.duckdb#" \
        -e "s#^  port: 5000 .*#  port: $p\n  access_log: $flag#" config/frost.yaml >"$work/frost-$i.yaml"
    "$bin" serve --config "$work/frost-$i.yaml" >"$work/access-$i.log" 2>"$work/err-$i.log" & pids+=($!)
    wait_http "http://127.0.0.1:$p/trips/monthly"
    ports["$bin $log"]=$p
  done
done
for r in $(seq "$rounds"); do
  for bin in "$@"; do
    on=$(wrk -t1 -c50 -d"$duration" "http://127.0.0.1:${ports["$bin on"]}/trips/monthly" | rps)
    off=$(wrk -t1 -c50 -d"$duration" "http://127.0.0.1:${ports["$bin off"]}/trips/monthly" | rps)
    echo "round $r $bin: log on $on req/s, off $off req/s, on/off $(echo "scale=3; $on / $off" | bc), load $(cut -d' ' -f1 /proc/loadavg)"
  done
done
