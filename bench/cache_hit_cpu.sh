#!/usr/bin/env bash
# CPU a cache hit costs: CPU time of the whole server process (all threads, /proc/PID/stat utime +
# stime) per request under `wrk -t1 -c50` on /trips/monthly, cache hits with the access log on
# (stdout to a file), against nginx serving the same bytes with its access log on (to a file).
# Servers alternate within each round: nginx, then each Frost binary given (before/after).
# Prints one row per run (req/s, CPU µs per request) and the medians per server.
# Usage: bench/cache_hit_cpu.sh DB DURATION ROUNDS FROST_BINARY [FROST_BINARY...]
set -euo pipefail
cd "$(dirname "$0")/.."
db=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); duration=$2; rounds=$3; shift 3
work=$(mktemp -d); chmod 755 "$work"  # nginx's worker (nobody) reads www/
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
port=$((30000 + RANDOM % 20000))
url=/trips/monthly
wait_http() { for _ in $(seq 1200); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; echo "never answered: $1 (see $work)" >&2; exit 1; }
hz=$(getconf CLK_TCK)
# cpu_run NAME PID PORT -> "NAME rps cpu_us_per_req"
cpu_run() {
  local t0 t1 out rps n
  t0=$(awk '{print $14+$15}' "/proc/$2/stat")
  out=$(wrk -t1 -c50 -d"$duration" "http://127.0.0.1:$3$url")
  t1=$(awk '{print $14+$15}' "/proc/$2/stat")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}'); n=$(echo "$out" | awk '/requests in/ {print $1}')
  echo "$1 $rps $(echo "scale=2; ($t1 - $t0) * 1000000 / $hz / $n" | bc)"
}
echo "date $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg) (shared, noisy when > 1)"
i=0
names=(); srv_pids=(); srv_ports=()
for bin in "$@"; do
  i=$((i + 1)); p=$((port + i))
  sed -e "s#path: ../data/citibike.duckdb#path: $db#" -e "s#path: ../data/serving.duckdb#path: $work/serving-$i.duckdb#" \
      -e "s#^  port: 5000 .*#  port: $p#" config/frost.yaml >"$work/frost-$i.yaml"
  "$bin" serve --config "$work/frost-$i.yaml" >"$work/access-$i.log" 2>"$work/err-$i.log" & pids+=($!)
  wait_http "http://127.0.0.1:$p$url"
  names+=("frost$i"); srv_pids+=("${pids[-1]}"); srv_ports+=("$p")
done
mkdir -p "$work/www"
curl -sf "http://127.0.0.1:$((port + 1))$url" -o "$work/www/monthly.json"
pn=$((port + 100))
sed -e "s#@DIR@#$work#g" -e "s#@PORT@#$pn#g" -e "s#^    access_log off;#    access_log $work/nginx-access.log;#" \
    bench/serving/nginx.conf.in >"$work/nginx.conf"
nginx -c "$work/nginx.conf" -p "$work" 2>"$work/nginx.err" & pids+=($!)
wait_http "http://127.0.0.1:$pn$url"
# The nginx master forks one worker: measure the worker.
npid=$(pgrep -P "${pids[-1]}" | head -1)
# Each Frost caches its own answer, whose body carries the time its query took (`time_ms`): the
# same bytes but for that number.
same_answer() { cmp -s <(sed 's/"time_ms":[0-9]*/"time_ms":0/' "$1") <(sed 's/"time_ms":[0-9]*/"time_ms":0/' "$2"); }
for k in "${!srv_ports[@]}"; do
  curl -sf "http://127.0.0.1:${srv_ports[$k]}$url" -o "$work/answer-$k.json"
  same_answer "$work/answer-$k.json" "$work/www/monthly.json" || { echo "${names[$k]} serves another answer" >&2; exit 1; }
done
curl -sf "http://127.0.0.1:$pn$url" | cmp -s - "$work/www/monthly.json" || { echo "nginx serves other bytes" >&2; exit 1; }
names=(nginx "${names[@]}"); srv_pids=("$npid" "${srv_pids[@]}"); srv_ports=("$pn" "${srv_ports[@]}")
: >"$work/rows"
for r in $(seq "$rounds"); do
  for k in "${!names[@]}"; do
    row=$(cpu_run "${names[$k]}" "${srv_pids[$k]}" "${srv_ports[$k]}")
    echo "round $r $row load $(cut -d' ' -f1 /proc/loadavg)"
    echo "$row" >>"$work/rows"
  done
done
echo "medians (req/s, CPU µs/request):"
for name in "${names[@]}"; do
  awk -v n="$name" '$1 == n {print $2, $3}' "$work/rows" | sort -n -k1 | awk '{r[NR]=$1} END {printf "%s", r[int((NR+1)/2)]}' >"$work/m1"
  awk -v n="$name" '$1 == n {print $3}' "$work/rows" | sort -n | awk '{c[NR]=$1} END {printf "%s", c[int((NR+1)/2)]}' >"$work/m2"
  echo "  $name rps $(cat "$work/m1") cpu_us $(cat "$work/m2")"
done
for k in $(seq 1 $#); do echo "frost$k = ${!k}, access log lines $(wc -l <"$work/access-$k.log")"; done
echo "nginx access log lines $(wc -l <"$work/nginx-access.log")"
