#!/usr/bin/env bash
# Validates the generated OpenAPI document with Redocly's linter (ctest label `openapi`):
#   tests/browser/lint-openapi.sh <path to the frost binary> [config files...]
# Default: the repository's config and tests/browser/fixtures/auth.yaml (auth, claims, rate
# limits, caching, every parameter type). `frost openapi --no-describe` needs no database, so
# this runs on a fresh checkout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
frost=$(realpath "${1:?usage: lint-openapi.sh <frost binary> [config...]}")
shift
configs=("$@")
[ ${#configs[@]} -gt 0 ] || configs=("$repo/config/frost.yaml" "$here/fixtures/auth.yaml")

lock_hash=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$here/node_modules/.frost-lock" 2>/dev/null)" != "$lock_hash" ]; then
  (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$lock_hash" > "$here/node_modules/.frost-lock"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
rc=0
for config in "${configs[@]}"; do
  name=$(basename "$config" .yaml)
  "$frost" openapi --config "$config" --no-describe --out "$tmp/$name.openapi.json"
  node "$here/node_modules/@redocly/cli/bin/cli.js" lint --config "$here/redocly.yaml" --format=stylish \
    "$tmp/$name.openapi.json" >"$tmp/lint.log" 2>&1 || rc=1
  grep -v '[║╔╚]' "$tmp/lint.log" || true
done
exit "$rc"
