#!/usr/bin/env bash
# Installs the benchmark tools once: wrk, nginx-light, gunicorn + Flask and gnuplot from Debian,
# artillery 2 from npm into bench/node_modules (git-ignored). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")"
PACKAGES=(wrk nginx-light gunicorn python3-flask gnuplot-nox curl)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench/setup: installing Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ! -x node_modules/.bin/artillery ]; then
  echo "bench/setup: installing artillery 2 from npm (no browser download)"
  # A dependency of artillery tries to fetch a browser; the benchmarks need none.
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-save --no-audit --no-fund --silent artillery@2 >/dev/null
fi
