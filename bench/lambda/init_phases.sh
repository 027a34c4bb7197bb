#!/usr/bin/env bash
# Lambda cold start, phase by phase (issue 14): packages Frost like bench/lambda_cold_start.sh,
# then runs one cold start in the emulator under strace (timestamps of execve, openat, the
# serving-file copy, thread starts and the Runtime API calls) and one with LD_DEBUG=statistics,
# and prints the phases as a Markdown table. strace slows system calls, so the absolute times
# are inflated; the shares are what to read. Usage: bench/lambda/init_phases.sh [BUILD=build] [TRIPS=500k]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
trips=${2:-500k}
emulator="$PWD/$build/tests/emulators/lambda/frost-lambda-emulator"
[ -x "$emulator" ] || { echo "build the emulator first: cmake --build $build --target frost-lambda-emulator" >&2; exit 1; }
command -v strace >/dev/null || { echo "needs strace (apt-get install strace)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT  # KEEP=1: print the folder and keep it
[ "${KEEP:-0}" = 1 ] && { trap - EXIT; echo "work folder: $work" >&2; }
./scripts/package-lambda.sh --binary "$build/src/app/frost" --trips "$trips" --out "$work/frost-lambda.zip" 2>&1 | grep 'package-lambda:' >&2
mkdir "$work/task" "$work/tmp" && (cd "$work/task" && unzip -q ../frost-lambda.zip)
strace_bin=$(command -v strace)
# The package's bootstrap, its exec line prefixed by strace / LD_DEBUG.
sed -e "s#^exec #exec $strace_bin -f -ttt -e trace=execve,openat,clone,clone3,copy_file_range,sendfile,connect,sendto,sendmsg,write,writev -e signal=none -s 80 -o $work/trace.txt #" \
  "$work/task/bootstrap" >"$work/task/bootstrap-strace"
sed -e "s#^exec #LD_DEBUG=statistics LD_DEBUG_OUTPUT=$work/lddebug exec #" "$work/task/bootstrap" >"$work/task/bootstrap-lddebug"
chmod 755 "$work/task/bootstrap-strace" "$work/task/bootstrap-lddebug"
echo "machine: $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg) (shared, noisy when > 1)"
(cd "$work/task" && "$emulator" --clean-env --env "TMPDIR=$work/tmp" --cold-starts 3 --path /trips/monthly -- ./bootstrap) | sed 's/^/untraced: /'
rm -f "$work/tmp"/frost-*
(cd "$work/task" && "$emulator" --clean-env --env "TMPDIR=$work/tmp" --cold-starts 1 --path /trips/monthly -- ./bootstrap-lddebug) >/dev/null
rm -f "$work/tmp"/frost-*
(cd "$work/task" && "$emulator" --clean-env --env "TMPDIR=$work/tmp" --cold-starts 1 --path /trips/monthly -- ./bootstrap-strace) >/dev/null
echo
echo "LD_DEBUG=statistics (the loader's own count, untraced run):"
cat "$work"/lddebug.* | sed -n 's/^ *[0-9]*: *//p' | grep -E 'total startup time|time needed for relocation|number of relocations|objects loaded|final number' | sed 's/^/    /'
echo
opener="$PWD/$build/bench/bench_open_phases"
if [ -x "$opener" ]; then
  echo "DuckDB phases without a tracer (bench_open_phases: process CPU ms, fresh processes, same files,"
  echo "alternating: now = source opened lazily (not at init), eager = the source opened at init"
  echo "(issue 14's first change), floor = one in-memory DuckDB instance and nothing else):"
  for _ in 1 2 3 4 5; do
    echo "now:    $(FROST_LAZY=1 "$opener" "$work/task/data/citibike.duckdb" "$work/task/data/serving.duckdb" | tr '\n' ' ')"
    echo "eager:  $("$opener" "$work/task/data/citibike.duckdb" "$work/task/data/serving.duckdb" | tr '\n' ' ')"
    echo "floor:  $(FROST_FLOOR=1 "$opener" "$work/task/data/citibike.duckdb" "$work/task/data/serving.duckdb" | tr '\n' ' ')"
  done | sed 's/^/    /'
  echo
fi
python3 - "$work/trace.txt" "$work/task" <<'PY'
import re, sys
trace, task = sys.argv[1], sys.argv[2]
events = []
for line in open(trace):
    m = re.match(r"(\d+)\s+(\d+\.\d+)\s+(\w+)\((.*)", line)
    if m:
        events.append((float(m.group(2)), m.group(3), m.group(4), int(m.group(1))))
t0 = events[0][0]
def first(pred, after=0.0):
    for t, call, args, pid in events:
        if t >= after and pred(call, args):
            return t
    return None
def last(pred, before=1e18):
    found = None
    for t, call, args, pid in events:
        if t <= before and pred(call, args):
            found = t
    return found
is_open = lambda needle: (lambda c, a: c == "openat" and needle in a and "ENOENT" not in a)
milestones = []
def mark(name, t):
    if t is not None:
        milestones.append((t, name))
is_send = lambda needle: (lambda c, a: c in ("write", "writev", "sendto", "sendmsg") and needle in a)
t_config = first(is_open("config/frost.yaml"))
mark("last shared library opened (end of dynamic loading)", last(lambda c, a: c == "openat" and ".so" in a, before=t_config or 1e18))
mark("connected to the Runtime API (main started)", first(lambda c, a: c == "connect"))
mark("config file opened", t_config)
mark("first thread started (a DuckDB instance)", first(lambda c, a: c in ("clone", "clone3"), after=t_config or 0))
mark("packaged serving file opened for the copy", first(lambda c, a: c == "openat" and "/data/serving" in a))
mark("serving-file copy written", last(lambda c, a: c in ("copy_file_range", "sendfile")))
mark("source database file opened", first(lambda c, a: c == "openat" and "/data/" in a and "serving" not in a and ".duckdb" in a))
mark("serving database copy opened by DuckDB", first(lambda c, a: c == "openat" and "frost-serving" in a and "O_CREAT" not in a and ".wal" not in a and ".lock" not in a and ".next" not in a))
mark("ready: first /next sent", first(is_send("invocation/next")))
mark("first answer posted", first(is_send("/response")))
milestones.sort()
print("| milestone (strace -f -ttt, one cold start; times inflated by tracing) | at ms | since previous ms |")
print("|---|---:|---:|")
prev = t0
print("| exec of the bundled loader | 0.0 | |")
for t, name in milestones:
    print(f"| {name} | {(t - t0) * 1000:.1f} | {(t - prev) * 1000:.1f} |")
    prev = t
PY
