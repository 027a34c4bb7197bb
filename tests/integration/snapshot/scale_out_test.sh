#!/usr/bin/env bash
# Scale-out on loopback (ctest label `slow`): one snapshot builder and four readers behind nginx,
# the Snowflake SQL API emulator as the warehouse, s3rver behind the SigV4/conditional front as S3.
#   tests/integration/snapshot/scale_out_test.sh <frost> <snowflake_emulator>
# Checks: over several refresh intervals the emulator sees about one rollup statement per interval
# (not one per instance); every instance answers identical bytes (but the envelope's own `time_ms`)
# and the same X-Data-As-Of for the same request once it has the same X-Data-Version; requests
# through nginx succeed. Exit 77 (skipped) without nginx.
set -euo pipefail
frost=$(realpath "${1:?usage: scale_out_test.sh <frost> <snowflake_emulator>}")
emulator=$(realpath "${2:?usage: scale_out_test.sh <frost> <snowflake_emulator>}")
repo=$(cd "$(dirname "$0")/../../.." && pwd)
command -v nginx >/dev/null || { echo "SKIP: nginx is not installed (scripts/setup.sh --reliability)"; exit 77; }
say() { printf 'scale-out: %s\n' "$*" >&2; }
fail() { say "FAIL: $*"; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/nginx/logs/nginx.pid" ] && kill "$(cat "$work/nginx/logs/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() {  # wait_for <seconds> <command...>
  local until=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do [ $SECONDS -lt $until ] || return 1; sleep 0.2; done
}

"$frost" seed --out "$work/citibike.duckdb" --trips 20k >/dev/null 2>&1
openssl genrsa 2048 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$work/key.p8"
openssl pkey -in "$work/key.p8" -pubout -out "$work/key.pub"
"$emulator" --database "$work/citibike.duckdb" --public-key "$work/key.pub" --port 0 --port-file "$work/sf.port" \
  --partition-rows 5000 >"$work/emulator.log" 2>&1 &
pids+=($!)
wait_for 30 test -s "$work/sf.port" || fail "the Snowflake emulator did not start"
sf="http://127.0.0.1:$(cat "$work/sf.port")"

"$repo/tests/emulators/s3/run-s3rver.sh" "$work/s3" frost-scale >"$work/s3rver.log" 2>&1 &
pids+=($!)
wait_for 240 grep -q 'listening on' "$work/s3rver.log" || fail "s3rver did not start"
s3port=$(grep -o '127.0.0.1:[0-9]*' "$work/s3rver.log" | head -1 | cut -d: -f2)
python3 "$repo/tests/emulators/s3_conditional/front.py" --backend "http://127.0.0.1:$s3port" --key-id AKIDSCALE \
  --secret scale-secret --port-file "$work/front.port" >"$work/front.log" 2>&1 &
pids+=($!)
wait_for 30 test -s "$work/front.port" || fail "the S3 front did not start"

interval=3
export SNOWFLAKE_ACCOUNT=testorg-testaccount SNOWFLAKE_USER=frost SNOWFLAKE_PRIVATE_KEY_PATH="$work/key.p8" \
       SNOWFLAKE_HOST="$sf" AWS_ENDPOINT_URL_S3="http://127.0.0.1:$(cat "$work/front.port")" \
       AWS_ACCESS_KEY_ID=AKIDSCALE AWS_SECRET_ACCESS_KEY=scale-secret AWS_REGION=us-east-1
unset AWS_SESSION_TOKEN AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_WEB_IDENTITY_TOKEN_FILE
# Five configs: the Snowflake example with a short refresh, its own serving file, and a role.
make_config() {  # make_config <name> <role>
  sed -e "s|^  path: ../data/serving-snowflake.duckdb|  path: $work/serving-$1.duckdb\n  snapshots: {url: s3://frost-scale/scale/, role: $2, poll: 1s}|" \
      -e "s|^    refresh: [0-9]*m$|    refresh: ${interval}s|" \
      -e "s|^  workers: 16|  workers: 2|" \
      "$repo/config/snowflake.example.yaml" > "$work/$1.yaml"
  grep -q "role: $2" "$work/$1.yaml" && grep -q "refresh: ${interval}s" "$work/$1.yaml" || fail "could not derive the $1 config"
}
ports=()
start() {  # start <name> <role>
  make_config "$1" "$2"
  local port; port=$(free_port)
  FROST_PORT=$port "$frost" serve --config "$work/$1.yaml" >"$work/$1.log" 2>&1 &
  pids+=($!)
  ports+=("$port")
}
start builder builder
wait_for 60 curl -fs "http://127.0.0.1:${ports[0]}/trips/monthly" || { cat "$work/builder.log" >&2; fail "the builder does not answer"; }
for i in 1 2 3 4; do start "reader$i" reader; done
for p in "${ports[@]:1}"; do
  wait_for 60 curl -fs "http://127.0.0.1:$p/trips/monthly" || { tail -20 "$work"/reader*.log >&2; fail "reader on $p does not answer"; }
done
say "builder and four readers answer"

# nginx in front of all five (Debian's nginx-light, a plain round-robin upstream).
mkdir -p "$work/nginx/logs"
nginx_port=$(free_port)
{
  echo "worker_processes 1; pid logs/nginx.pid; error_log logs/error.log; events {}"
  echo "http { access_log off; upstream frost {"
  for p in "${ports[@]}"; do echo "  server 127.0.0.1:$p;"; done
  echo "} server { listen 127.0.0.1:$nginx_port; location / { proxy_pass http://frost; } } }"
} > "$work/nginx/nginx.conf"
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf"
wait_for 10 curl -fs "http://127.0.0.1:$nginx_port/trips/monthly" || fail "nginx does not answer"

# Warehouse statements over several intervals.
submits() { curl -fs "$sf/_emulator/log" | python3 -c '
import json, sys
print(sum(1 for e in json.load(sys.stdin) if e.get("kind") == "submit" and not e.get("retry")))'; }
# Every submit is a rollup statement: the test asks only rollup routes, and health checks never
# query Snowflake (docs/reliability.md).
before=$(submits)
t0=$SECONDS
rounds=4
sleep $((interval * rounds))
after=$(submits)
elapsed=$((SECONDS - t0))
n=$((after - before))
expected=$((elapsed / interval))
say "rollup statements: $n in ${elapsed}s with a ${interval}s refresh and 5 instances (expected about $expected, one per interval)"
[ "$n" -ge $((expected - 1)) ] && [ "$n" -le $((expected + 1)) ] || fail "expected about $expected rollup statements, saw $n"

# Identical bytes for the same version, on every instance and through nginx.
q="/trips/monthly?start_range=2019-05-01&end_range=2019-12-31"
declare -A body_of
agreements=0
for attempt in 1 2 3 4 5; do
  declare -A seen=()
  for p in "${ports[@]}"; do
    curl -fs -D "$work/h.$p" -o "$work/b.$p" "http://127.0.0.1:$p$q" || fail "instance $p failed"
    v=$(grep -i '^x-data-version:' "$work/h.$p" | tr -d '\r' | cut -d' ' -f2)
    [ -n "$v" ] || fail "instance $p sent no X-Data-Version"
    # The envelope's time_ms is each server's own latency: everything else must be byte-equal,
    # and so must the version's as-of time.
    asof=$(grep -i '^x-data-as-of:' "$work/h.$p" | tr -d '\r' | cut -d' ' -f2)
    sum=$( (echo "$asof"; sed -E 's/"time_ms":[0-9]+//' "$work/b.$p") | sha256sum | cut -d' ' -f1)
    if [ -n "${seen[$v]:-}" ] && [ "${seen[$v]}" != "$sum" ]; then fail "two instances differ at version $v"; fi
    seen[$v]=$sum
  done
  [ ${#seen[@]} -eq 1 ] && agreements=$((agreements + 1))
  sleep 0.7
done
[ "$agreements" -ge 1 ] || fail "the five instances never agreed on one version"
for i in $(seq 1 20); do curl -fs -o /dev/null "http://127.0.0.1:$nginx_port$q" || fail "request $i through nginx failed"; done
grep -q "snapshot .* published" "$work/builder.log" || fail "the builder never published"
for i in 1 2 3 4; do grep -q "snapshot .* installed" "$work/reader$i.log" || fail "reader$i never installed a snapshot"; done
say "identical bytes per X-Data-Version on all five ($agreements of 5 rounds on one version); 20 requests through nginx"
say "ok"
