#!/usr/bin/env bash
# `frost sync` on an incremental rollup, end to end with the real binary: the first sync builds
# in full; after `frost load` appends one day, a plain sync fetches only the lookback window
# (3 days before the newest day held, plus the new day) and `--full` fetches every day. Each
# sync writes the answer index beside the serving file.
# `--publish` takes its snapshot URL from the config or FROST_SNAPSHOTS_URL.
set -euo pipefail
FROST=$1
SRC=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$FROST" seed --trips 50000 --out "$tmp/citibike.duckdb" >/dev/null 2>&1
sed -e "s|path: ../data/citibike.duckdb|path: $tmp/citibike.duckdb|" \
    -e "s|path: ../data/serving.duckdb|path: $tmp/serving.duckdb|" "$SRC/config/frost.yaml" >"$tmp/frost.yaml"

line() { "$FROST" sync --config "$tmp/frost.yaml" "$@" 2>&1 | grep trips_by_day | tail -1; }
fail() { echo "FAIL: $*" >&2; exit 1; }

first=$(line)
echo "$first"
grep -q "version 1 .*; full (no version held yet): [0-9]* rows" <<<"$first" || fail "first sync is not a full build"
# The answer index for `frost lambda` (docs/caching.md) is written beside the serving file, for
# the seed's three rollup reports, and rewritten by each sync for the file it leaves.
[ -s "$tmp/serving.duckdb.prefix" ] || fail "sync wrote no answer index"
[ "$(head -c 8 "$tmp/serving.duckdb.prefix")" = FROSTAIX ] || fail "the answer index has no magic"
first_index=$(cksum <"$tmp/serving.duckdb.prefix")

{
  echo "ride_id,rideable_type,started_at,ended_at,start_station_name,start_station_id,end_station_name,end_station_id,start_lat,start_lng,end_lat,end_lng,member_casual"
  for i in 1 2 3 4 5 6 7; do
    echo "R$i,classic_bike,2020-05-01 0$i:00:00,2020-05-01 0$i:10:00,A,100,B,200,40.7,-74.0,40.7,-74.0,member"
  done
} >"$tmp/day.csv"
"$FROST" load trips "$tmp/day.csv" --into "$tmp/citibike.duckdb" >/dev/null 2>&1

second=$(line)
echo "$second"
grep -q "version 2 .*; incremental since 2020-04-27: [1-5] rows" <<<"$second" || fail "second sync is not incremental over the window"
held=$(sed -E 's/.* ([0-9]+) held.*/\1/' <<<"$first")
grep -q " $((held + 1)) held" <<<"$second" || fail "the appended day is not held ($held before)"
[ "$(cksum <"$tmp/serving.duckdb.prefix")" != "$first_index" ] || fail "the second sync left the first answer index"

third=$(line --full)
echo "$third"
grep -q "version 3 .*; full (full refresh requested): $((held + 1)) rows" <<<"$third" || fail "--full did not fetch every day"

# `--publish` needs serving.snapshots, from the file or from FROST_SNAPSHOTS_URL as `serve` and
# `lambda` read it (it once ignored the variable). Nothing listens on port 9: the publish fails.
out=$(env -u FROST_SNAPSHOTS_URL "$FROST" sync --publish --config "$tmp/frost.yaml" 2>&1) && fail "--publish without snapshots succeeded"
grep -q "needs serving.snapshots" <<<"$out" || fail "--publish without snapshots: $out"
out=$(env -u AWS_SESSION_TOKEN FROST_SNAPSHOTS_URL=s3://frost-test/sync/ AWS_ENDPOINT_URL_S3=http://127.0.0.1:9 \
  AWS_ACCESS_KEY_ID=AKIDSYNC AWS_SECRET_ACCESS_KEY=sync-secret AWS_REGION=us-east-1 \
  "$FROST" sync --publish --config "$tmp/frost.yaml" 2>&1) && fail "a publish to a closed port succeeded"
grep -q "needs serving.snapshots" <<<"$out" && fail "sync --publish ignored FROST_SNAPSHOTS_URL"
grep -q "publish failed" <<<"$out" || fail "no publish attempt with FROST_SNAPSHOTS_URL: $out"
echo OK
