#!/usr/bin/env bash
# Browser tests of the dashboard and the docs page (ctest label `browser`):
#   tests/browser/run.sh <path to the frost binary>
# Installs what it needs when missing (Debian's chromium through apt-get, playwright-core from
# tests/browser/package-lock.json, the web pages through scripts/build-web.sh), creates a small
# sample database in a temporary folder, starts `frost serve` on a free port, and runs
# tests/browser/*.test.mjs with Node's test runner against it.
#   FROST_SCREENSHOT_DIR=docs/img   also (re)writes dashboard.png and docs.png there
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
frost=$(realpath "${1:?usage: run.sh <frost binary>}")
say() { printf 'browser-tests: %s\n' "$*"; }

if ! command -v chromium >/dev/null 2>&1 && [ -z "${CHROMIUM:-}" ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  say "installing Debian's chromium"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

lock_hash=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$here/node_modules/.frost-lock" 2>/dev/null)" != "$lock_hash" ]; then
  say "installing playwright-core and the OpenAPI linter"
  (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$lock_hash" > "$here/node_modules/.frost-lock"
fi
"$repo/scripts/build-web.sh"

tmp=$(mktemp -d)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
# The default config with its relative paths (../data/...) landing in the temporary folder.
mkdir -p "$tmp/config" "$tmp/data"
cp "$repo/config/frost.yaml" "$tmp/config/frost.yaml"
"$frost" seed --trips 300k --out "$tmp/data/citibike.duckdb" >/dev/null 2>&1

"$frost" serve --config "$tmp/config/frost.yaml" --host 127.0.0.1 --port 0 --web-root "$repo/.cache/web" \
  >"$tmp/serve.log" 2>&1 &
server=$!
port=""
for _ in $(seq 1 300); do
  port=$(sed -n 's|.*frost serving .* on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$tmp/serve.log" | head -1)
  [ -n "$port" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$tmp/serve.log" >&2; say "frost serve exited"; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { cat "$tmp/serve.log" >&2; say "frost serve did not start in 30 s"; exit 1; }
grep -q "dashboard at /dashboard" "$tmp/serve.log" || { cat "$tmp/serve.log" >&2; say "pages not served"; exit 1; }

say "testing http://127.0.0.1:$port"
cd "$here"
FROST_URL="http://127.0.0.1:$port" node --test --test-concurrency=1 --test-reporter=spec ./*.test.mjs
