#!/usr/bin/env bash
# Installs what Frost needs to build, once: Debian packages (apt-get, with sudo when not root)
# and DuckDB 1.4.4 from its official npm packages into .cache/duckdb (git-ignored).
# Safe to run again: every step checks first and does nothing when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

DUCKDB_VERSION=1.4.4
DUCKDB_BINDINGS=@duckdb/node-bindings-linux-x64@1.4.4-r.4
PACKAGES=(build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libyaml-dev libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev libgtest-dev libgmock-dev
  libcurl4-openssl-dev libssl-dev openssl zlib1g-dev libxxhash-dev curl zip unzip)

# Extra tools for some scripts: `--fuzz` (tests/fuzz/run.sh: clang with libFuzzer),
# `--reliability` (tests/reliability/run.sh slow: load and slow-client tools),
# `--lint` (scripts/lint.sh: clang-format and clang-tidy, version 14 as .clang-tidy was chosen with),
# `--image` (scripts/build-image.sh and its test: podman builds the image, skopeo and umoci unpack it).
for arg in "$@"; do
  case "$arg" in
    --packaging) ;;  # zip and unzip are in the base list
    --fuzz) PACKAGES+=(clang libclang-rt-14-dev) ;;
    --lint) PACKAGES+=(clang-format-14 clang-tidy-14) ;;
    --reliability) PACKAGES+=(wrk slowhttptest nginx-light) ;;
    --image) PACKAGES+=(podman skopeo umoci uidmap) ;;
    *) echo "setup: unknown option $arg" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node.js may come from elsewhere (nvm, NodeSource): only ask Debian for it when npm is absent.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# DuckDB: a user's own installation wins (DUCKDB_ROOT with include/duckdb.h and lib/libduckdb.so).
if [ -n "${DUCKDB_ROOT:-}" ]; then
  [ -f "$DUCKDB_ROOT/include/duckdb.h" ] && [ -f "$DUCKDB_ROOT/lib/libduckdb.so" ] ||
    { echo "setup: DUCKDB_ROOT=$DUCKDB_ROOT lacks include/duckdb.h or lib/libduckdb.so" >&2; exit 1; }
  say "using DuckDB from DUCKDB_ROOT=$DUCKDB_ROOT"
  exit 0
fi
dest=.cache/duckdb
if [ -f "$dest/include/duckdb.h" ] && [ -f "$dest/lib/libduckdb.so" ] &&
   [ "$(cat "$dest/VERSION" 2>/dev/null)" = "$DUCKDB_VERSION" ]; then
  exit 0
fi
say "fetching DuckDB $DUCKDB_VERSION from npm into $dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "duckdb@$DUCKDB_VERSION" "$DUCKDB_BINDINGS" >/dev/null)
mkdir -p "$tmp/h" "$tmp/so"
tar -xzf "$tmp"/duckdb-"$DUCKDB_VERSION".tgz -C "$tmp/h" package/src/duckdb/src/include/duckdb.h
tar -xzf "$tmp"/duckdb-node-bindings-linux-x64-*.tgz -C "$tmp/so" package/libduckdb.so
rm -rf "$dest.partial" && mkdir -p "$dest.partial/include" "$dest.partial/lib"
cp "$tmp/h/package/src/duckdb/src/include/duckdb.h" "$dest.partial/include/"
cp "$tmp/so/package/libduckdb.so" "$dest.partial/lib/"
echo "$DUCKDB_VERSION" > "$dest.partial/VERSION"
rm -rf "$dest" && mv "$dest.partial" "$dest"
say "DuckDB $DUCKDB_VERSION ready"
