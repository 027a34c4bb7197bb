#!/usr/bin/env bash
# The real `frost` binary loads libduckdb.so and libcurl on first use (src/source/duckdb/c_api.hpp,
# src/curl/curl_api.hpp): ldd lists neither, `frost libraries` names both, a running `frost serve`
# with static routes only maps neither, and one over a DuckDB source maps libduckdb, not libcurl.
# usage: lazy_libraries_test.sh <path to frost>
set -euo pipefail
frost="$1"
work="$(mktemp -d)"
trap 'if [ -n "${pid:-}" ]; then kill "$pid" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

linked=$(ldd "$frost" | awk '{print $1}')
if grep -Eq 'libduckdb|libcurl' <<<"$linked"; then fail "frost links them: $(grep -E 'libduckdb|libcurl' <<<"$linked" | tr '\n' ' ')"; fi
libraries=$("$frost" libraries) || fail "frost libraries failed"
[ "$(wc -l <<<"$libraries")" = 2 ] || fail "frost libraries printed: $libraries"
grep -q 'libduckdb' <<<"$libraries" || fail "no libduckdb in: $libraries"
grep -q 'libcurl' <<<"$libraries" || fail "no libcurl in: $libraries"
while read -r file; do [ -f "$file" ] || fail "$file does not exist"; done <<<"$libraries"

# `frost serve` opens its sources at start: a static-only config must never map libduckdb (nor
# libcurl); one with a DuckDB source maps libduckdb, and still not libcurl.
cat >"$work/static.yaml" <<'YAML'
server: {host: 127.0.0.1, port: 0, workers: 1, io_threads: 1}
endpoints:
  - path: /open
    static: {ok: true}
YAML
cat >"$work/duckdb.yaml" <<'YAML'
server: {host: 127.0.0.1, port: 0, workers: 1, io_threads: 1}
sources:
  mem: {type: duckdb, path: ':memory:', read_only: false}
endpoints:
  - path: /hello
    source: mem
    sql: select 'world' as hello
YAML
serve() { # config path -> sets pid and port
  "$frost" serve -c "$1" >"$work/out.log" 2>&1 &
  pid=$!
  port=""
  for _ in $(seq 100); do
    port=$(sed -n 's|.*serving .* on http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/out.log" | head -1)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$work/out.log" >&2; fail "frost serve did not start"; }
}
# grep reads the file itself: `cat | grep -q` under pipefail fails when grep stops early (SIGPIPE).
mapped() { grep -q "$1" "/proc/$pid/maps"; }

serve "$work/static.yaml"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/open")" = 200 ] || fail "/open did not answer 200"
if mapped libduckdb; then fail "a static-only frost serve mapped libduckdb"; fi
if mapped libcurl; then fail "a static-only frost serve mapped libcurl"; fi
kill "$pid"; wait "$pid" 2>/dev/null || true

serve "$work/duckdb.yaml"
body=$(curl -s "http://127.0.0.1:$port/hello")
grep -q '"world"' <<<"$body" || fail "/hello did not answer from DuckDB: $body"
mapped libduckdb || fail "frost serve over a DuckDB source did not map libduckdb"
if mapped libcurl; then fail "frost serve over a DuckDB source mapped libcurl"; fi
echo "ok: libduckdb and libcurl load on first use"
