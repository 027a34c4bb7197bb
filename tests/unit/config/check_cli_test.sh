#!/usr/bin/env bash
# The real binary, as an operator runs it: a config whose SQL names an undeclared `$placeholder`
# is refused by `frost check` and by `frost serve` at start (no listening), naming file:line and
# the placeholder. A good config passes `frost check` without creating any file (the serving
# database included); `frost check --build` builds the rollups.
# usage: check_cli_test.sh <path to frost>
set -euo pipefail
frost="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; cat "$work/out.log" 2>/dev/null || true; exit 1; }

cat > "$work/bad.yaml" <<'YAML'
server: {host: 127.0.0.1, port: 0, workers: 1, io_threads: 1}
sources:
  mem: {type: duckdb, path: ':memory:', read_only: false}
endpoints:
  - path: /hello
    source: mem
    params: [{name: who, type: string}]
    sql: |
      select $who as hello,
             $whom as typo
YAML
for verb in check serve; do
  set +e
  timeout 20 "$frost" "$verb" -c "$work/bad.yaml" > "$work/out.log" 2>&1
  rc=$?
  set -e
  [ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "frost $verb must refuse the config (rc $rc)"
  grep -q "bad.yaml:10:" "$work/out.log" || fail "frost $verb must name file and line"
  grep -q '\$whom' "$work/out.log" || fail "frost $verb must name the placeholder"
  if grep -q "serving .* on http" "$work/out.log"; then fail "frost $verb listened"; fi
done

# A Snowflake source's keys are checked at load too: a misspelt key names file:line and the key;
# a missing key is found once the environment is applied; no message shows a secret. The prefix
# keeps a developer's SNOWFLAKE_* variables out.
cat > "$work/sf.yaml" <<'YAML'
server: {host: 127.0.0.1, port: 0, workers: 1, io_threads: 1}
sources:
  warehouse:
    type: snowflake
    env_prefix: FROST_TEST_UNSET_
    account: myorg-myaccount
    user: frost
    database: DB
    schema: S
    warehouse: W
    private_key_passphrase: PASS-S3CRET
    pol_max: 2s
endpoints:
  - path: /x
    source: warehouse
    sql: select 1
YAML
set +e
"$frost" check -c "$work/sf.yaml" > "$work/out.log" 2>&1
rc=$?
set -e
[ "$rc" != 0 ] || fail "frost check must refuse an unknown snowflake key"
grep -q 'sf.yaml:12:5: sources.warehouse: unknown key "pol_max"' "$work/out.log" || fail "must name file:line and the key"
sed -i '/pol_max/d' "$work/sf.yaml"
set +e
"$frost" check -c "$work/sf.yaml" > "$work/out.log" 2>&1
rc=$?
set -e
[ "$rc" != 0 ] || fail "frost check must refuse a snowflake source without a key"
grep -q 'sf.yaml:4:5: source warehouse: missing the private key' "$work/out.log" || fail "must name the missing key"
if grep -q 'S3CRET' "$work/out.log"; then fail "a secret was printed"; fi

mkdir "$work/state"
cat > "$work/good.yaml" <<'YAML'
server: {host: 127.0.0.1, port: 0, workers: 1, io_threads: 1}
sources:
  mem: {type: duckdb, path: ':memory:', read_only: false}
serving:
  path: state/serving.duckdb
rollups:
  numbers:
    source: mem
    sql: select range::BIGINT as i from range(10)
endpoints:
  - path: /count
    rollup: numbers
    sql: select count(*)::BIGINT as n from numbers
YAML
"$frost" check -c "$work/good.yaml" > "$work/out.log" 2>&1 || fail "frost check refused a good config"
[ -z "$(ls -A "$work/state")" ] || fail "frost check created files: $(ls "$work/state")"
[ ! -e "$work/state/serving.duckdb" ] || fail "frost check created the serving file"
"$frost" check --build -c "$work/good.yaml" > "$work/out.log" 2>&1 || fail "frost check --build failed"
grep -q "rollup numbers: built" "$work/out.log" || fail "frost check --build must build the rollup"
[ -e "$work/state/serving.duckdb" ] || fail "frost check --build must write the serving file"
echo "ok: undeclared placeholders are refused at start with file:line; frost check creates no file"
