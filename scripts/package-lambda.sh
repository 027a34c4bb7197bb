#!/usr/bin/env bash
# Builds frost-lambda.zip, an AWS Lambda deployment package for the `provided.al2023` custom
# runtime:
#
#   bootstrap            /bin/sh script Lambda runs: the bundled loader starts bin/frost
#   bin/frost            the same binary as `frost serve`, run as `frost lambda`
#   lib/                 every shared library it needs, libduckdb.so, libc and the loader
#                        itself (the build machine's glibc is newer than Amazon Linux 2023's 2.34)
#   config/frost.yaml    the config it serves
#   data/                the DuckDB files the config reads (a small sample database and its
#                        prebuilt rollups), or nothing with --no-data (a Snowflake config)
#
# Usage: scripts/package-lambda.sh [--binary build/src/app/frost] [--config config/frost.yaml]
#          [--out frost-lambda.zip] [--trips 1M | --data FILE... | --no-data] [--keep DIR]
# The packaged config must name its files as ../data/<name>, as config/frost.yaml does.
# Checks Lambda's limits: 50 MB zipped (direct upload) and 250 MB unzipped.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/bundle.sh

binary=build/src/app/frost
config=config/frost.yaml
out=frost-lambda.zip
trips=1M
data=()
no_data=0
keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --config) config=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --trips) trips=$2; shift 2 ;;
    --data) data+=("$2"); shift 2 ;;
    --no-data) no_data=1; shift ;;
    --keep) keep=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "package-lambda: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1mpackage-lambda:\033[0m %s\n' "$*" >&2; }
die() { echo "package-lambda: $*" >&2; exit 1; }

[ -x "$binary" ] || die "$binary is not built: run \`make build\` (or pass --binary)"
[ -f "$config" ] || die "no config at $config"
{ command -v zip && command -v unzip; } >/dev/null 2>&1 || ./scripts/setup.sh --packaging
command -v zip >/dev/null 2>&1 || die "zip is not installed"

case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
case "$binary" in /*) ;; *) binary="$PWD/$binary" ;; esac
mkdir -p "$(dirname "$out")"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib" "$stage/config" "$stage/data"

# The binary, without symbols (they are most of its size and Lambda never reads them).
cp "$binary" "$stage/bin/frost"
command -v strip >/dev/null 2>&1 && strip --strip-unneeded "$stage/bin/frost"

# Every library the loader resolves for it, the loader itself and libc included.
bundle_libraries "$binary" "$stage/lib" || die "cannot bundle the libraries of $binary"
loader=$BUNDLED_LOADER

cp "$config" "$stage/config/frost.yaml"

if [ "$no_data" = 1 ]; then
  say "no data files (--no-data): the config must read a remote source such as Snowflake"
elif [ ${#data[@]} -gt 0 ]; then
  for f in "${data[@]}"; do cp "$f" "$stage/data/"; done
else
  say "building a sample database with $trips trips"
  "$binary" seed --trips "$trips" --out "$stage/data/citibike.duckdb" >&2
fi
if [ "$no_data" = 0 ]; then
  # `check --build` builds the rollups into the serving database, so the function starts
  # with them instead of building them during its init.
  (cd "$stage" && "$binary" check --build --config config/frost.yaml >&2) ||
    die "the packaged config does not open: its files must be named ../data/<name>"
  rm -f "$stage"/data/*.wal "$stage"/data/*.lock
fi

cat > "$stage/bootstrap" <<EOF
#!/bin/sh
# AWS Lambda runs this file. The bundled loader starts bin/frost with the bundled libraries
# only (--library-path replaces LD_LIBRARY_PATH), so the binary never meets the system's
# older glibc. Frost then talks to the Runtime API at \$AWS_LAMBDA_RUNTIME_API.
root="\${LAMBDA_TASK_ROOT:-\$(cd "\$(dirname "\$0")" && pwd)}"
# Amazon Linux keeps its CA bundle here; the bundled libraries were built to look elsewhere.
if [ -z "\${SSL_CERT_FILE:-}" ] && [ -f /etc/pki/tls/certs/ca-bundle.crt ]; then
  export SSL_CERT_FILE=/etc/pki/tls/certs/ca-bundle.crt CURL_CA_BUNDLE=/etc/pki/tls/certs/ca-bundle.crt
fi
exec "\$root/lib/$loader" --library-path "\$root/lib" "\$root/bin/frost" lambda --config "\${FROST_CONFIG:-\$root/config/frost.yaml}"
EOF
chmod 755 "$stage/bootstrap" "$stage/bin/frost"

unzipped=$(du -sb "$stage" | cut -f1)
rm -f "$out"
(cd "$stage" && zip -q -r -X "$out" bootstrap bin lib config data)
zipped=$(stat -c %s "$out")
[ -n "$keep" ] && { rm -rf "$keep"; cp -a "$stage" "$keep"; }

arch=$(uname -m)
say "$(basename "$out"): $((zipped / 1024 / 1024)) MB zipped, $((unzipped / 1024 / 1024)) MB unzipped, $(ls "$stage/lib" | wc -l) libraries, $arch"
[ "$unzipped" -le 262144000 ] || die "unzipped size $unzipped bytes is over Lambda's 250 MB limit"
if [ "$zipped" -gt 52428800 ]; then
  say "warning: $zipped bytes zipped is over the 50 MB limit of a direct upload; deploy through S3 (serverless and sam do)"
fi
echo "$out"
