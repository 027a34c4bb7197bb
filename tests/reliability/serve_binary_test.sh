#!/usr/bin/env bash
# The real `frost serve` binary with an auth section: proves run_serve installs the guard
# rails (401 without a key, 200 with it, /readyz, /metrics, the access log) end to end.
# usage: serve_binary_test.sh <path to frost>
set -euo pipefail
frost="$1"
work="$(mktemp -d)"
trap 'kill "${pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
key="test-key-$RANDOM$RANDOM"
hash="$(printf %s "$key" | sha256sum | cut -d' ' -f1)"
cat > "$work/frost.yaml" <<YAML
server: {host: 127.0.0.1, port: 0, workers: 1, io_threads: 1}
sources:
  mem: {type: duckdb, path: ':memory:', read_only: false}
auth:
  default: api_key
  api_keys:
    - {name: ci, sha256: $hash}
endpoints:
  - path: /hello
    source: mem
    sql: select 'world' as hello
  - path: /open
    auth: none
    static: {ok: true}
YAML
"$frost" serve -c "$work/frost.yaml" > "$work/out.log" 2>&1 &
pid=$!
port=""
for _ in $(seq 100); do
  port="$(sed -n 's|.*serving .* on http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/out.log" | head -1)"
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/out.log"; echo "FAIL: the server did not start"; exit 1; }
base="http://127.0.0.1:$port"
fail() { echo "FAIL: $*"; cat "$work/out.log"; exit 1; }
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

[ "$(code "$base/hello")" = 401 ] || fail "no key must be 401"
curl -s -D - -o /dev/null "$base/hello" | grep -qi '^www-authenticate: Bearer realm="frost"' || fail "401 without WWW-Authenticate"
[ "$(code -H "X-Api-Key: wrong" "$base/hello")" = 401 ] || fail "a wrong key must be 401"
[ "$(code -H "X-Api-Key: $key" "$base/hello")" = 200 ] || fail "the key must be accepted"
curl -s -H "Authorization: Bearer $key" "$base/hello" | grep -q world || fail "bearer key: no answer"
[ "$(code "$base/open")" = 200 ] || fail "auth: none must stay public"
[ "$(code "$base/readyz")" = 200 ] || fail "/readyz must be 200"
# Read the page whole first: with pipefail, `curl | grep -q` fails when grep stops reading early.
metrics="$(curl -s "$base/metrics")"
grep -q 'frost_auth_refused_total{status="401"} 3' <<<"$metrics" || fail "/metrics must count the 401s"
sleep 0.2
grep -q '"principal":"key:ci"' "$work/out.log" || fail "the access log must name the key"
if grep -q "$key" "$work/out.log"; then fail "the key leaked into the log"; fi
echo "ok: frost serve enforces API keys, serves /readyz and /metrics, logs without secrets"
