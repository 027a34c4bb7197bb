// Issue 12: incremental against full rollup refreshes in ONE process, as a server runs them: the
// source's instance stays warm between refreshes and the serving store's reader and writer
// instances are created once (bench/rollup/incremental.sh runs one `frost sync` process per
// refresh, so each of its refreshes also pays the source's first query on a fresh instance).
// Alternates RUNS times an automatic refresh (incremental when the rollup is) and a full one,
// after one warm-up of each, and prints every refresh's phases (refresh_report), the process's
// CPU time during it (every thread's: DuckDB's workers too; less sensitive than wall time to
// other processes on a loaded machine), and the medians. `refresh` ends when the new version is
// visible; an incremental refresh on disk then writes the serving file (`persist`, not in it).
// Usage: bench_refresh_phases CONFIG [ROLLUP=trips_by_day] [RUNS=5]
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "app/assemble.hpp"
#include "rollup/serving_store.hpp"

namespace {

double ms(std::chrono::nanoseconds d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

double cpu_ms() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const auto n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s CONFIG [ROLLUP=trips_by_day] [RUNS=5]\n", argv[0]);
        return 2;
    }
    const std::string rollup = argc > 2 ? argv[2] : "trips_by_day";
    const int runs = argc > 3 ? std::atoi(argv[3]) : 5;
    frost::app::assemble_options opts;
    opts.rollups = frost::app::rollup_mode::manual;
    opts.guards = frost::app::guard_mode::none;
    auto assembled = frost::app::assemble(argv[1], opts);
    if (!assembled || !assembled.value().rollups) {
        std::fprintf(stderr, "cannot open %s: %s\n", argv[1],
                     assembled ? "no rollups" : assembled.error().message.c_str());
        return 2;
    }
    auto& store = *assembled.value().rollups;
    if (auto w = store.prepare_writer(); !w) std::fprintf(stderr, "writer: %s\n", w.error().message.c_str());
    struct figures {
        std::vector<double> total, source, merge, write, persist, cpu;
    } inc, full;
    std::printf("| run | kind | rows fetched | refresh ms | source ms | merge ms | write ms | persist ms | CPU ms |\n");
    std::printf("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = -1; i < runs; ++i) {  // run -1: a warm-up of each, not counted
        for (const auto kind : {frost::rollup::refresh_kind::automatic, frost::rollup::refresh_kind::full}) {
            const double cpu_before = cpu_ms();
            auto done = store.refresh(rollup, {}, kind);
            const double cpu = cpu_ms() - cpu_before;
            const auto r = store.stats(rollup).last;
            if (!done) {
                std::fprintf(stderr, "refresh failed: %s\n", done.error().message.c_str());
                return 1;
            }
            if (i < 0) continue;
            auto& f = r.incremental ? inc : full;
            f.total.push_back(ms(r.duration));
            f.source.push_back(ms(r.source_time));
            f.merge.push_back(ms(r.merge_time));
            f.write.push_back(ms(r.write_time));
            f.persist.push_back(ms(r.persist_time));
            f.cpu.push_back(cpu);
            if (!r.persisted) std::fprintf(stderr, "persist failed: %s\n", r.persist_error.c_str());
            std::printf("| %d | %s | %llu | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n", i + 1,
                        r.incremental ? "incremental" : "full", static_cast<unsigned long long>(r.rows_fetched),
                        ms(r.duration), ms(r.source_time), ms(r.merge_time), ms(r.write_time), ms(r.persist_time), cpu);
        }
    }
    if (inc.total.empty() || full.total.empty()) {
        std::fprintf(stderr, "no incremental or no full refresh ran (is the rollup incremental?)\n");
        return 1;
    }
    const double mi = median(inc.total), mf = median(full.total), ci = median(inc.cpu), cf = median(full.cpu);
    std::printf(
        "median refresh: incremental %.1f ms (source %.1f, merge %.1f, write %.1f; then persist %.1f), full %.1f "
        "ms (source %.1f, write %.1f): %.4fx (1/%.0f)\n",
        mi, median(inc.source), median(inc.merge), median(inc.write), median(inc.persist), mf, median(full.source),
        median(full.write), mi / mf, mf / mi);
    std::printf("median CPU time: incremental %.1f ms, full %.1f ms: %.4fx (1/%.0f)\n", ci, cf, ci / cf, cf / ci);
    return 0;
}
