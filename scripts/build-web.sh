#!/usr/bin/env bash
# Builds the dashboard and API docs pages into .cache/web (git-ignored), which `frost serve`
# reads at start-up: Chart.js is bundled into the dashboard with esbuild, Swagger UI is copied
# from its npm package. Everything comes from the npm registry through web/package-lock.json;
# no CDN is used at run time. Safe to run again: it does nothing when its inputs are unchanged.
#   FROST_WEB_OUT=<dir>   build somewhere else (default .cache/web)
set -euo pipefail
cd "$(dirname "$0")/.."

out=${FROST_WEB_OUT:-.cache/web}
say() { printf '\033[1mbuild-web:\033[0m %s\n' "$*"; }

command -v npm >/dev/null 2>&1 || { echo "build-web: npm not found; run ./scripts/setup.sh" >&2; exit 1; }

inputs=(scripts/build-web.sh web/package.json web/package-lock.json web/src/*)
stamp=$(cat "${inputs[@]}" | sha256sum | cut -d' ' -f1)
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]; then
  exit 0
fi

# npm ci only when the installed tree does not match the lock file.
lock_hash=$(sha256sum web/package-lock.json | cut -d' ' -f1)
if [ "$(cat web/node_modules/.frost-lock 2>/dev/null)" != "$lock_hash" ]; then
  say "installing web dependencies from web/package-lock.json"
  (cd web && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$lock_hash" > web/node_modules/.frost-lock
fi

tmp="$out.partial"
rm -rf "$tmp"
mkdir -p "$tmp/assets/swagger-ui" "$tmp/assets/licenses"
web/node_modules/.bin/esbuild web/src/dashboard.js --bundle --minify --format=iife --target=es2020 \
  --legal-comments=eof --log-level=warning --outfile="$tmp/assets/dashboard.js"
cp web/src/dashboard.html web/src/docs.html "$tmp/"
cp web/src/dashboard.css web/src/docs.css web/src/docs.js "$tmp/assets/"
ui=web/node_modules/swagger-ui-dist
cp "$ui/swagger-ui-bundle.js" "$ui/swagger-ui.css" "$ui/favicon-32x32.png" "$tmp/assets/swagger-ui/"
cp "$ui/LICENSE" "$tmp/assets/licenses/swagger-ui-LICENSE.txt"
cp "$ui/NOTICE" "$tmp/assets/licenses/swagger-ui-NOTICE.txt"
cp web/node_modules/chart.js/LICENSE.md "$tmp/assets/licenses/chart.js-LICENSE.txt"
echo "$stamp" > "$tmp/.stamp"
rm -rf "$out" && mv "$tmp" "$out"
say "dashboard and docs pages ready in $out ($(du -sh "$out" | cut -f1))"
