"""Turns one bench/serving/run.sh result folder into Markdown tables (medians of the runs,
ratios within the same round) and percentiles.dat for plot.gp. Usage: summarize.py OUT"""
import json
import os
import statistics as st
import sys

out = sys.argv[1]


def rows(name):
    path = os.path.join(out, name)
    if not os.path.exists(path):
        return []
    res = []
    for line in open(path):
        f = line.split()
        if len(f) >= 7:
            res.append({"who": f[0], "run": int(f[1]), "rps": float(f[2]), "p50": float(f[3]), "p90": float(f[4]),
                        "p99": float(f[5]), "bad": int(f[6]), "load": float(f[7]) if len(f) > 7 else 0.0})
    return res


def med(vals):
    return st.median(vals) if vals else float("nan")


def spread(vals):
    return (max(vals) - min(vals)) / med(vals) * 100 if len(vals) > 1 and med(vals) else 0.0


def pick(rs, who):
    return [r for r in rs if r["who"] == who]


noise = {}
for line in open(os.path.join(out, "noise.txt")):
    k, *v = line.split()
    noise[k] = v
print("## Serving speed: results of `bench/serving/run.sh`\n")
print(open(os.path.join(out, "machine.md")).read().strip())
print(f"- load average (1 min) before / after: {noise.get('load_before', ['?'])[0]} / {noise.get('load_after', ['?'])[0]}")
perc = []

p1 = rows("p1p4.tsv")
if p1:
    print("\n### P1 and P4: cache hit vs nginx vs Flask (wrk -t1 -c50, same rounds, alternating)\n")
    print("| server | req/s (median) | spread | p50 ms | p90 ms | p99 ms | non-2xx |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for who, label in (("nginx", "nginx 1 worker, static file"), ("frost", "Frost, cache hit"),
                       ("flask", "Flask, gunicorn 2 gthread workers x 8")):
        rs = pick(p1, who)
        print(f"| {label} | {med([r['rps'] for r in rs]):,.0f} | ±{spread([r['rps'] for r in rs]) / 2:.0f} % | "
              f"{med([r['p50'] for r in rs]):.2f} | {med([r['p90'] for r in rs]):.2f} | {med([r['p99'] for r in rs]):.2f} | "
              f"{sum(r['bad'] for r in rs)} |")
        perc.append((label.split(",")[0] + (" hit" if who == "frost" else ""), med([r['p50'] for r in rs]),
                     med([r['p90'] for r in rs]), med([r['p99'] for r in rs])))
    by_run = {}
    for r in p1:
        by_run.setdefault(r["run"], {})[r["who"]] = r["rps"]
    r1 = [v["frost"] / v["nginx"] for v in by_run.values() if "frost" in v and "nginx" in v]
    r4 = [v["frost"] / v["flask"] for v in by_run.values() if "frost" in v and "flask" in v]
    print(f"\nP1 Frost/nginx req/s, per round: {', '.join(f'{x:.2f}' for x in r1)}; median **{med(r1):.2f}** (target ≥ 0.8)  ")
    print(f"P4 Frost/Flask req/s, per round: {', '.join(f'{x:.1f}' for x in r4)}; median **{med(r4):.1f}×** (target ≥ 50×)")

p2 = rows("p2.tsv")
if p2:
    rss = [int(x) for x in open(os.path.join(out, "rss.txt")) if x.strip()]
    print("\n### P2 and P6: monthly report over random 1-year ranges, cache off, through the rollup\n")
    print("| run | req/s | p50 ms | p90 ms | p99 ms | non-2xx | load |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in p2:
        print(f"| {r['run']} | {r['rps']:,.0f} | {r['p50']:.2f} | {r['p90']:.2f} | {r['p99']:.2f} | {r['bad']} | {r['load']} |")
    m = {k: med([r[k] for r in p2]) for k in ("rps", "p50", "p90", "p99")}
    print(f"| **median** | **{m['rps']:,.0f}** | {m['p50']:.2f} | {m['p90']:.2f} | **{m['p99']:.2f}** | | |")
    print(f"\nP2 targets: p99 ≤ 5 ms, ≥ 2,000 req/s.  ")
    after = noise.get("rss_after_refresh_kib", ["0", "hwm_kib", "0"])
    if rss:
        print(f"P6 RSS while serving (sampled every 0.5 s during P2): max **{max(rss) / 1024:.0f} MiB**, median "
              f"{med(rss) / 1024:.0f} MiB (target ≤ 150 MB); right after the start-up refresh of the rollup: "
              f"{int(after[0]) / 1024:.0f} MiB, peak since start (VmHWM, includes scanning 100M trips for that refresh): "
              f"{int(after[2]) / 1024:.0f} MiB.")
    perc.append(("P2 random years", m["p50"], m["p90"], m["p99"]))
    sweep = rows("p2-sweep.tsv")
    if sweep:
        print("\nThe same at other connection counts (medians of the rounds):\n")
        print("| connections | req/s | p50 ms | p90 ms | p99 ms |")
        print("|---:|---:|---:|---:|---:|")
        for who in sorted({r["who"] for r in sweep}, key=lambda w: int(w[1:])):
            rs = pick(sweep, who)
            print(f"| {who[1:]} | {med([r['rps'] for r in rs]):,.0f} | {med([r['p50'] for r in rs]):.2f} | "
                  f"{med([r['p90'] for r in rs]):.2f} | {med([r['p99'] for r in rs]):.2f} |")

p3 = rows("p3.tsv")
if p3:
    print("\n### P3: live query path vs DuckDB's C API, the same query, one at a time\n")
    print("Query: `/sqlapi/trips/monthly` over 2019-01-01..2019-12-31 (raw trips, no rollup, no cache).\n")
    print("| run | Frost p50 ms | DuckDB C API p50 ms | ratio | Frost p99 ms | C API p99 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    ratios = []
    for run in sorted({r["run"] for r in p3}):
        f = [r for r in p3 if r["run"] == run and r["who"] == "frost"]
        c = [r for r in p3 if r["run"] == run and r["who"] == "raw"]
        if f and c:
            ratios.append(f[0]["p50"] / c[0]["p50"])
            print(f"| {run} | {f[0]['p50']:.1f} | {c[0]['p50']:.1f} | {ratios[-1]:.3f} | {f[0]['p99']:.1f} | {c[0]['p99']:.1f} |")
    print(f"\nP3 median ratio **{med(ratios):.3f}×** (target ≤ 1.1×)")
    for who, label in (("frost", "P3 Frost live"), ("raw", "P3 DuckDB C API")):
        rs = pick(p3, who)
        perc.append((label, med([r['p50'] for r in rs]), med([r['p90'] for r in rs]), med([r['p99'] for r in rs])))

arts = []
for sc in ("all", "monthly_random"):
    path = os.path.join(out, f"artillery-{sc}.json")
    if not os.path.exists(path):
        continue
    agg = json.load(open(path))["aggregate"]
    rt = agg.get("summaries", {}).get("http.response_time", {})
    c = agg.get("counters", {})
    errors = sum(v for k, v in c.items() if k.startswith("errors."))
    non200 = sum(v for k, v in c.items() if k.startswith("http.codes.") and k != "http.codes.200")
    arts.append((sc, c.get("http.requests", 0), c.get("http.codes.200", 0), non200, errors, rt,
                 noise.get(f"artillery_{sc}_exit", ["?"])[0]))
    perc.append((f"artillery {sc}", rt.get("p50", 0), rt.get("p95", 0), rt.get("p99", 0)))
if arts:
    print("\n### The data guide's artillery scenarios (phases and `ensure` as in seed-system.md §2; target port only)\n")
    print("| scenario | requests | 200 | other codes | errors | p50 ms | p95 ms | p99 ms | max ms | artillery exit |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for sc, n, ok, other, err, rt, rc in arts:
        print(f"| `{sc}.yaml` | {n} | {ok} | {other} | {err} | {rt.get('p50', 0)} | {rt.get('p95', 0)} | {rt.get('p99', 0)} | "
              f"{rt.get('max', 0)} | {rc} |")
    print("\n(artillery reports whole milliseconds: 0 means under 1 ms.)")

with open(os.path.join(out, "percentiles.dat"), "w") as f:
    f.write("# label p50 p90_or_p95 p99 (ms)\n")
    for label, a, b, c in perc:
        f.write(f"\"{label}\" {max(a, 0.05)} {max(b, 0.05)} {max(c, 0.05)}\n")
