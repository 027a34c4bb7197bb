#!/usr/bin/env bash
# Every seed route under wrk: req/s, p50/p99 and errors, one Markdown table row per route.
# Usage: bench/routes.sh [DURATION=30s] [CONNECTIONS=64] [THREADS=2]
# Env: FROST (binary), CONFIG, PORT. The server is started here and stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-30s}
CONNECTIONS=${2:-64}
THREADS=${3:-2}
FROST=${FROST:-build/src/app/frost}
CONFIG=${CONFIG:-config/frost.yaml}
PORT=${PORT:-5093}
command -v wrk >/dev/null || { echo "bench: wrk missing (apt-get install wrk)" >&2; exit 1; }

"$FROST" serve --config "$CONFIG" --port "$PORT" >/tmp/frost-bench-routes.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/" >/dev/null && break; sleep 0.1; done

routes=(/ /trips/monthly /trips/day_of_week /trips/temperature
        "/trips/monthly?start_range=2013-06-01&end_range=2013-07-31"
        /sqlapi/trips/monthly /sqlapi/trips/day_of_week /sqlapi/trips/temperature
        "/sqlapi/trips/monthly?start_range=2019-01-01&end_range=2019-12-31")
echo "| route | req/s | p50 | p99 | non-2xx | socket errors |"
echo "|---|---:|---:|---:|---:|---:|"
for r in "${routes[@]}"; do
  # The client waits as long as the server's own request deadline (29 s), so a slow live
  # query counts as slow, not as an error.
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 30s --latency "http://127.0.0.1:$PORT$r")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
  sock=$(awk '/Socket errors/ {gsub(",", ""); print $4+$6+$8+$10}' <<<"$out"); sock=${sock:-0}
  echo "| \`$r\` | $rps | $p50 | $p99 | $non2xx | $sock |"
done
