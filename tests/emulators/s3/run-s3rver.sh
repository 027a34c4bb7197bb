#!/usr/bin/env bash
# Starts s3rver (npm, pinned in package-lock.json) on a free loopback port, with one bucket:
#   tests/emulators/s3/run-s3rver.sh <data dir> <bucket>
# Installs the package into tests/emulators/s3/node_modules on first run (as the browser tests
# do) and prints s3rver's "S3rver listening on 127.0.0.1:<port>" line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: run-s3rver.sh <data dir> <bucket>}
bucket=${2:?usage: run-s3rver.sh <data dir> <bucket>}
lock_hash=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
# Tests start emulators in parallel (ctest -j): one installs, the others wait for it, since two
# `npm ci` in one folder delete each other's files.
exec 9>"${TMPDIR:-/tmp}/frost-s3rver-install.lock"
flock 9
if [ "$(cat "$here/node_modules/.frost-lock" 2>/dev/null)" != "$lock_hash" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$lock_hash" > "$here/node_modules/.frost-lock"
fi
flock -u 9
exec 9>&-
mkdir -p "$dir"
exec node "$here/node_modules/s3rver/bin/s3rver.js" -d "$dir" -a 127.0.0.1 -p 0 --silent --configure-bucket "$bucket"
