#!/usr/bin/env bash
# The style checks CI runs before the tests (docs/contributing.md, "Style and lint"):
#   1. clang-format in check mode over the C++ files of src/, tests/ and bench/ (.clang-format);
#   2. clang-tidy over the translation units of src/ (checks in .clang-tidy), in parallel, every
#      finding an error.
# Exits non-zero on any finding. Needs clang-format-14 and clang-tidy-14 (scripts/setup.sh --lint)
# and the build dependencies (clang-tidy parses the code with the project's include paths).
#
# Usage: scripts/lint.sh [--format | --tidy] [-j N] [--changed-since REV] [FILE...]
#   --format / --tidy   run only that half
#   -j N                clang-tidy processes at once (default 2: CI machines have two cores)
#   --changed-since REV clang-tidy only the translation units of src/ that changed since REV or
#                       include (directly or not) a header of src/ that did; all of them when
#                       REV is unknown (a shallow clone) or .clang-tidy or the top CMakeLists.txt
#                       changed (a changed src/DIR/CMakeLists.txt counts as all of src/DIR changed)
#   FILE...             limit both halves to these files (tidy: only the .cpp files of src/)
# Environment: LINT_BUILD (default build-lint), the directory configured to get
# compile_commands.json; CLANG_FORMAT, CLANG_TIDY to use other binaries.
set -euo pipefail
cd "$(dirname "$0")/.."

do_format=1 do_tidy=1 jobs=2 files=() since=
while [ $# -gt 0 ]; do
  case "$1" in
    --format) do_tidy=0 ;;
    --tidy) do_format=0 ;;
    -j) jobs=$2; shift ;;
    --changed-since) since=$2; shift ;;
    -j*) jobs=${1#-j} ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "lint: unknown option $1" >&2; exit 2 ;;
    *) files+=("$1") ;;
  esac
  shift
done

# The check set in .clang-tidy was chosen with LLVM 14 (Debian 12); another major version has
# other checks under the same globs, so it is used only when asked for by name.
pick() {
  local var=$1 tool=$2
  if [ -n "${!var:-}" ]; then echo "${!var}"; return; fi
  for t in "$tool-14" "$tool"; do
    if command -v "$t" >/dev/null 2>&1 && "$t" --version | grep -q 'version 14\.'; then echo "$t"; return; fi
  done
  echo "lint: $tool 14 not found: run scripts/setup.sh --lint (or set $var)" >&2
  exit 2
}

say() { printf '\033[1mlint:\033[0m %s\n' "$*"; }
status=0

# Tracked and new (not ignored) files, so a file not yet added to git is checked too.
cxx_files() {
  git ls-files --cached --others --exclude-standard -- "$@" | sort -u | while read -r f; do [ -f "$f" ] && echo "$f"; done
}

if [ "$do_format" = 1 ]; then
  clang_format=$(pick CLANG_FORMAT clang-format)
  if [ ${#files[@]} -gt 0 ]; then
    mapfile -t fmt < <(printf '%s\n' "${files[@]}" | grep -E '\.(cpp|hpp)$' || true)
  else
    mapfile -t fmt < <(cxx_files 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'tests/*.hpp' 'bench/*.cpp' 'bench/*.hpp')
  fi
  say "clang-format: ${#fmt[@]} files"
  [ ${#fmt[@]} -gt 0 ] || fmt=(/dev/null)  # with no file, clang-format would read stdin
  # One pass over all files; each difference is reported as FILE:LINE:COL: error: ...
  fmt_rc=0
  fmt_out=$("$clang_format" --dry-run -Werror --ferror-limit=1 "${fmt[@]}" 2>&1) || fmt_rc=$?
  mapfile -t bad < <(printf '%s\n' "$fmt_out" | grep -o -E '^[^:]+:[0-9]+:[0-9]+: error' | cut -d: -f1 | sort -u)
  if [ ${#bad[@]} -gt 0 ]; then
    printf '%s\n' "$fmt_out" | head -n 60
    say "clang-format: ${#bad[@]} files differ from .clang-format (first difference of each above; fix: $clang_format -i FILE):"
    printf '  %s\n' "${bad[@]}"
    status=1
  elif [ "$fmt_rc" != 0 ]; then
    printf '%s\n' "$fmt_out"
    say "clang-format failed (exit $fmt_rc)"
    status=1
  else
    say "clang-format: clean"
  fi
fi

if [ "$do_tidy" = 1 ]; then
  clang_tidy=$(pick CLANG_TIDY clang-tidy)
  build=${LINT_BUILD:-build-lint}
  # Configuring only (no compiling) writes compile_commands.json in a few seconds; its own
  # directory, so the build that `make test` configures keeps its own options. The code
  # generates no headers, so nothing needs building first.
  if [ ! -f "$build/compile_commands.json" ] || [ CMakeLists.txt -nt "$build/compile_commands.json" ] ||
     [ -n "$(find src tests bench -name CMakeLists.txt -newer "$build/compile_commands.json" -print -quit)" ]; then
    say "configuring $build for compile_commands.json"
    mkdir -p "$build"
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release ${DUCKDB_ROOT:+-DDUCKDB_ROOT="$DUCKDB_ROOT"} \
      >"$build/configure.log" 2>&1 || { cat "$build/configure.log" >&2; exit 2; }
  fi
  # Every .cpp under src/ the build compiles; tests/ and bench/ are left out for CI's time budget
  # (docs/contributing.md). Headers are checked through them (HeaderFilterRegex).
  # A file compiled into several targets (the fuzzers' corpus runners build some of src/ again)
  # has several entries, and clang-tidy checks it once per entry: keep the first of each, in a
  # database of their own.
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
  mkdir -p "$out/db"
  tidy_files=("${files[@]}")
  if [ -n "$since" ] && [ ${#files[@]} -eq 0 ]; then
    if ! git rev-parse --verify --quiet "$since^{commit}" >/dev/null; then
      say "clang-tidy: $since is not in this clone's history: every translation unit"
    elif [ -n "$(git diff --name-only "$since" -- .clang-tidy CMakeLists.txt cmake)" ]; then
      say "clang-tidy: .clang-tidy or the top CMakeLists.txt changed since $since: every translation unit"
    else
      # The changed files of src/ (committed since REV, modified, or new), then every .cpp of src/
      # that includes one of them, directly or through other headers ("dir/file.hpp" from src/).
      # A changed src/DIR/CMakeLists.txt counts as a change of every file under src/DIR (its
      # flags reach the files that include its headers). tests/ and bench/ do not compile src/'s
      # translation units, so their CMakeLists.txt do not count.
      mapfile -t tidy_files < <({ git diff --name-only "$since" -- src; git ls-files --others --exclude-standard -- src; } |
        python3 -c '
import os, re, sys
changed = {l.strip() for l in sys.stdin if l.strip()}
for c in [c for c in changed if os.path.basename(c) == "CMakeLists.txt"]:
    for d, _, names in os.walk(os.path.dirname(c)):
        changed.update(os.path.join(d, n) for n in names if n.endswith((".cpp", ".hpp")))
inc = re.compile(r"^\s*#\s*include\s+\"([^\"]+)\"", re.M)
users = {}  # header (path under src/) -> files of src/ that include it
for d, _, names in os.walk("src"):
    for n in names:
        if n.endswith((".cpp", ".hpp")):
            f = os.path.join(d, n)
            for h in inc.findall(open(f, errors="replace").read()):
                users.setdefault(os.path.join("src", h), set()).add(f)
todo, seen = [c for c in changed if os.path.exists(c)], set()
while todo:
    f = todo.pop()
    if f in seen: continue
    seen.add(f)
    todo.extend(users.get(f, ()))
for f in sorted(f for f in seen if f.endswith(".cpp")): print(f)
')
      say "clang-tidy: ${#tidy_files[@]} translation units of src/ changed since $since or include a header that did"
      [ ${#tidy_files[@]} -gt 0 ] || tidy_files=(/nonexistent)  # none: check nothing, not everything
    fi
  fi
  mapfile -t tus < <(python3 - "$build/compile_commands.json" "$PWD" "$out/db/compile_commands.json" "${tidy_files[@]}" <<'EOF'
import json, os, sys
db, root, dest, only = sys.argv[1], sys.argv[2], sys.argv[3], {os.path.abspath(f) for f in sys.argv[4:]}
seen, kept = set(), []
for e in json.load(open(db)):
    f = os.path.normpath(os.path.join(e["directory"], e["file"]))
    if f.startswith(os.path.join(root, "src") + os.sep) and f not in seen and (not only or f in only):
        seen.add(f)
        kept.append(e)
        print(f)
json.dump(kept, open(dest, "w"))
EOF
  )
  say "clang-tidy: ${#tus[@]} translation units of src/, $jobs at a time"
  if [ ${#tus[@]} -gt 0 ]; then
    start=$(date +%s)
    # The compile commands are GCC's: clang does not know -Wno-restrict, and says so.
    printf '%s\n' "${tus[@]}" | xargs -P "$jobs" -I{} sh -c \
      '"$1" -p "$2" --quiet --extra-arg=-Wno-unknown-warning-option "$3" >"$4/$(echo "$3" | tr / _).log" 2>&1 ||
       echo "$3" >>"$4/failed"' _ "$clang_tidy" "$out/db" {} "$out"
    # clang-tidy prints "N warnings generated" and suppression notes even when clean; keep findings.
    cat "$out"/*.log | grep -v -E '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$|^Suppressed [0-9]+ warnings|^Use -header-filter|^$' >"$out/all" || true
    if [ -s "$out/failed" ]; then
      cat "$out/all"
      # A finding in a header is reported by every translation unit that includes it: count it once.
      grep -E '(warning|error): .*\[[a-zA-Z0-9.,-]+\]$' "$out/all" | sed 's/,-warnings-as-errors\]$/]/' | sort -u >"$out/findings" || true
      say "clang-tidy: $(wc -l <"$out/findings") findings, $(wc -l <"$out/failed") translation units failed ($(($(date +%s) - start)) s); by check:"
      grep -o -E '\[[a-zA-Z0-9.,-]+\]$' "$out/findings" | sort | uniq -c | sort -rn || true
      status=1
    else
      say "clang-tidy: clean ($(($(date +%s) - start)) s)"
    fi
  fi
fi
exit $status
