"""Issue 14's ratio table from one bench/run_all.sh result folder: prints Markdown, writes
latency.dat and cold-start.dat for the gnuplot scripts. Usage: summarize_ratios.py OUT"""
import os
import re
import statistics as st
import sys

out = sys.argv[1]


def read(name):
    path = os.path.join(out, name)
    return open(path).read() if os.path.exists(path) else ""


def med(vals):
    return st.median(vals) if vals else float("nan")


# Cold starts: per round, the median first response (init included) and init of each variant.
cold = {}  # (variant, round) -> {"first": ms, "init": ms, "cpu": ms}
variant = None
for line in read("cold-start.txt").splitlines():
    m = re.match(r"== round (\d+): (\w+)", line)
    if m:
        variant = (m.group(2), int(m.group(1)))
        cold[variant] = {}
        continue
    if variant is None:
        continue
    for key, pattern in (("first", r"^first response.*median ([\d.]+) ms"), ("init", r"^init \(process.*median ([\d.]+) ms"),
                         ("cpu", r"^init CPU.*median ([\d.]+) ms")):
        m = re.match(pattern, line)
        if m:
            cold[variant][key] = float(m.group(1))
rounds = sorted({r for _, r in cold})


def cold_ratio(num, den, key="first"):
    vals = [cold[(num, r)][key] / cold[(den, r)][key] for r in rounds
            if key in cold.get((num, r), {}) and key in cold.get((den, r), {})]
    return vals


rows = {}  # who -> list of (rps, p50, p90, p99)
for line in read("ratios.tsv").splitlines():
    f = line.split()
    if len(f) >= 7:
        rows.setdefault(f[0], []).append([float(x) for x in f[2:6]])


def per_round(num, den, col):
    return [a[col] / b[col] for a, b in zip(rows.get(num, []), rows.get(den, [])) if b[col]]


def show(vals, digits=2):
    if not vals:
        return "n/a"
    text = f"**{med(vals):.{digits}f}**"
    if len(vals) > 1:
        text += " (" + ", ".join(f"{v:.{digits}f}" for v in vals) + ")"
    return text


def met(vals, goal, higher):
    if not vals:
        return "n/a"
    ok = med(vals) >= goal if higher else med(vals) <= goal
    return "met" if ok else "**no**"


machine = dict(line.split(" ", 1) for line in read("machine.txt").splitlines() if " " in line)
r1 = cold_ratio("embedded", "baseline")
r2 = cold_ratio("embedded", "empty")
r1_cpu = cold_ratio("embedded", "baseline", "cpu")
r3 = per_round("frost_random_c8", "nginx_c8", 0)
r4 = per_round("frost_random_c8", "nginx_c8", 3)
r5 = per_round("frost_hit_log_c50", "nginx_log_c50", 0)
call = re.search(r"ratio reprepare/reused \(median\): ([\d.]+)", read("rollup-call.md"))

print("## Issue 14 ratio table (`make bench`)\n")
print(f"Run of {machine.get('date', '?')}; {machine.get('machine', '?')}; load average before "
      f"{machine.get('load_before', '?').split()[0]}, after {machine.get('load_after', '?').split()[0]}"
      f"{' (shared, noisy)' if float(machine.get('load_before', '0').split()[0]) > 1.0 else ''}; "
      f"data {machine.get('data', '?')}. Each ratio: median over rounds (each round's own ratio in brackets).\n")
print("| figure | today's ratio | goal | met? |")
print("|---|---:|---:|---|")
print(f"| R1 Lambda first answer with embedded data ÷ static-route package | {show(r1)} | ≤ 1.3× | {met(r1, 1.3, False)} |")
print(f"| R1' the same in init CPU time (all threads; less sensitive to other load; informational) | {show(r1_cpu)} | — | — |")
print(f"| R2 the same ÷ minimal custom runtime answering `{{}}` | {show(r2)} | ≤ 2× | {met(r2, 2.0, False)} |")
print(f"| R3 random 1-year `/trips/monthly`, cache off, req/s ÷ nginx static (8 conn.) | {show(r3, 3)} | ≥ 0.25 | {met(r3, 0.25, True)} |")
print(f"| R4 the same, p99 ÷ nginx's p99 | {show(r4)} | ≤ 1.5× | {met(r4, 1.5, False)} |")
print(f"| R5 cache hit with access log on ÷ nginx with access log on (50 conn.) | {show(r5)} | ≥ 1.0 | {met(r5, 1.0, True)} |")
if call:
    print(f"| R6 rollup call, DuckDB CPU: prepared per call ÷ prepared once (informational) | **{float(call.group(1)):.2f}** | — | — |")
print()
print("Absolute figures of this run (single observations, this machine and load):\n")
print("| run | req/s | p50 ms | p90 ms | p99 ms |")
print("|---|---:|---:|---:|---:|")
lat = []
for who, vals in rows.items():
    m = [med([v[i] for v in vals]) for i in range(4)]
    lat.append((who, m))
    print(f"| {who} | {m[0]:,.0f} | {m[1]:.2f} | {m[2]:.2f} | {m[3]:.2f} |")
print()
print("| cold start (emulator) | round | init median ms | init CPU ms | first answer median ms |")
print("|---|---:|---:|---:|---:|")
for (v, r), d in sorted(cold.items()):
    print(f"| {v} | {r} | {d.get('init', float('nan')):.1f} | {d.get('cpu', float('nan')):.1f} | {d.get('first', float('nan')):.1f} |")
lines = read("machine.txt")
m = re.search(r"access_log_lines (\d+) nginx_access_lines (\d+)", lines)
if m:
    print(f"\nAccess log lines written during the runs: frost {int(m.group(1)):,}, nginx {int(m.group(2)):,}. "
          f"{read('access-log-metrics.txt').strip().replace(chr(10), '; ')}")
summary = read("serving/summary.md")
if summary:
    print("\n" + summary)

with open(os.path.join(out, "latency.dat"), "w") as f:
    for who, m in lat:
        f.write(f"{who} {m[1]:.3f} {m[2]:.3f} {m[3]:.3f}\n")
with open(os.path.join(out, "cold-start.dat"), "w") as f:
    for (v, r), d in sorted(cold.items()):
        f.write(f"{v}-{r} {d.get('init', 0):.1f} {d.get('first', 0):.1f}\n")
