#!/usr/bin/env bash
# Issue 15 defect 1: a full disk during a rollup refresh must never break the version being
# served. The serving file (about 150 KiB) lives on a 4 MiB tmpfs, room for the second copy a
# refresh writes (a private mount namespace: `unshare -rm`, no root needed where user
# namespaces are allowed); after a first good build the tmpfs is
# filled until ~100 KiB are free, so a refresh's writes or checkpoint fail. Rollup routes
# must keep answering 200 with `X-Data-Stale: true`, no body may hold a path or a stack
# trace, and once space returns the next refresh recovers without a restart. Also: a first
# build that cannot fit makes `frost serve` exit at start with a clear message.
# usage: disk_full_test.sh <path to frost>   (exit 77: skipped, no mount namespace here)
set -euo pipefail
frost="$(readlink -f "$1")"
if [ "${FROST_IN_NAMESPACE:-}" != 1 ]; then
  if ! unshare -rm true 2>/dev/null && ! unshare -m true 2>/dev/null; then
    echo "SKIP: no mount namespace (unshare) on this machine"; exit 77
  fi
  flags=-rm
  unshare -rm true 2>/dev/null || flags=-m
  FROST_IN_NAMESPACE=1 exec unshare "$flags" "$0" "$@"
fi
work="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  umount "$work/disk" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/disk"
mount -t tmpfs -o size=4m tmpfs "$work/disk" || { echo "SKIP: cannot mount a tmpfs"; exit 77; }

cat > "$work/frost.yaml" <<YAML
server: {host: 127.0.0.1, port: 0, workers: 2, io_threads: 1}
sources:
  mem: {type: duckdb, path: ':memory:', read_only: false}
serving:
  path: $work/disk/serving.duckdb
rollups:
  numbers:
    source: mem
    refresh: 1s
    sql: select range::BIGINT as i, (range * 7 % 1000)::BIGINT as j, 'row ' || range as label from range(2000)
endpoints:
  - path: /sum
    rollup: numbers
    sql: select count(*)::BIGINT as n, sum(j)::BIGINT as s from numbers
  - path: /cached
    rollup: numbers
    cache: {ttl: 1s}
    sql: select max(i)::BIGINT as m from numbers
YAML

fail() { echo "FAIL: $*"; echo "--- server log"; tail -40 "$work/out.log"; exit 1; }
start() {
  "$frost" serve -c "$work/frost.yaml" > "$work/out.log" 2>&1 &
  pid=$!
  port=""
  for _ in $(seq 200); do
    port="$(sed -n 's|.*serving .* on http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/out.log" | head -1)"
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
}
start
[ -n "$port" ] || fail "the server did not start"
base="http://127.0.0.1:$port"
# Every answer: status, stale flag, and a body with no path, library or stack frame.
check_answer() {
  local url="$1" want_stale="$2" hdr body status
  hdr="$(curl -s -D - -o "$work/body" "$base$url")"
  # Whole-input readers only after printf (no head, no grep -q): under pipefail, a reader that
  # leaves early can make printf die of SIGPIPE, and the script with it.
  status="$(printf %s "$hdr" | sed -n '1s/^[^ ]* \([0-9]*\).*/\1/p')"
  body="$(cat "$work/body")"
  [ "$status" = 200 ] || fail "$url: status $status, body: ${body:0:300}"
  if grep -qiE '/(tmp|work|usr|lib|home|root|var)/|\.so\b|\.duckdb|0x[0-9a-f]{6,}|fatal|stack trace' "$work/body"; then fail "$url: body leaks detail: ${body:0:300}"; fi
  if [ "$want_stale" = yes ]; then
    printf %s "$hdr" | grep -i '^x-data-stale: true' >/dev/null || fail "$url: not marked stale"
  elif [ "$want_stale" = no ]; then
    if printf %s "$hdr" | grep -i '^x-data-stale' >/dev/null; then fail "$url: still stale after space returned"; fi
  fi
}
check_answer /sum no
check_answer /cached no

# Fill the disk until about 100 KiB are free: a refresh's log (~50 KiB) still fits, a checkpoint
# of the new file (~140 KiB in 16 KiB blocks) does not (the reproduction of the defect: DuckDB
# then invalidates the database that failed).
avail_kib() { df -k --output=avail "$work/disk" | tail -1 | tr -d ' '; }
# A refresh may hold a second copy while we measure: top up until the free space stays low.
for _ in $(seq 20); do
  free=$(avail_kib)
  if [ "$free" -gt 130 ]; then
    dd if=/dev/zero of="$work/disk/filler" bs=1024 count=$(( free - 100 )) oflag=append conv=notrunc status=none 2>/dev/null || true
  fi
  sleep 0.15
done
[ "$(avail_kib)" -le 200 ] || fail "could not fill the disk"
# Several refresh cycles fail; every answer in between must stay good.
deadline=$(( SECONDS + 6 ))
saw_stale=no
while [ $SECONDS -lt $deadline ]; do
  for url in /sum /cached; do
    check_answer "$url" any
    grep -qi '^x-data-stale: true' <(curl -s -D - -o /dev/null "$base$url") && saw_stale=yes
  done
  sleep 0.2
done
[ "$saw_stale" = yes ] || fail "refreshes on a full disk were not reported as stale"
check_answer /sum yes
check_answer /cached yes
kill -0 "$pid" || fail "the server died"

# Space returns: the next refresh recovers, no restart.
rm -f "$work/disk/filler"
recovered=no
for _ in $(seq 60); do
  if ! grep -qi '^x-data-stale' <(curl -s -D - -o /dev/null "$base/sum"); then recovered=yes; break; fi
  sleep 0.2
done
[ "$recovered" = yes ] || fail "no recovery after space returned"
check_answer /sum no
check_answer /cached no
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""

# A first build that cannot fit: serve exits at start, naming the rollup; nothing listens.
rm -f "$work/disk/"serving.duckdb*
dd if=/dev/zero of="$work/disk/filler" bs=1024 count=$(( $(avail_kib) - 8 )) status=none 2>/dev/null || true
set +e
timeout 60 "$frost" serve -c "$work/frost.yaml" > "$work/out.log" 2>&1
rc=$?
set -e
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "serve must exit at start when no rollup version could ever be built (rc $rc)"
grep -q 'numbers' "$work/out.log" || fail "the start failure must name the rollup"
if grep -q 'serving .* on http' "$work/out.log"; then fail "serve listened without a rollup version"; fi
echo "ok: a full disk during refresh keeps serving the last good version, marked stale, and recovers"
