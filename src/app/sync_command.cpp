#include "app/sync_command.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>

#include "app/assemble.hpp"
#include "app/snapshot_wiring.hpp"
#include "codec/utc_time.hpp"
#include "config/config.hpp"
#include "rollup/serving_store.hpp"

namespace frost::app {

namespace {

const char* stage_text(rollup::refresh_stage s) {
    switch (s) {
        case rollup::refresh_stage::querying:
            return "querying the source";
        case rollup::refresh_stage::writing:
            return "writing the staging table";
        case rollup::refresh_stage::validating:
            return "validating";
        case rollup::refresh_stage::swapping:
            return "swapping in";
        case rollup::refresh_stage::persisting:
            return "writing the serving file";
        case rollup::refresh_stage::done:
            return "done";
        case rollup::refresh_stage::failed:
            return "failed";
    }
    return "";
}

// Draws one rollup's progress: a live line redrawn every 100 ms on a terminal (the source
// query gives no progress of its own, so the clock shows it is alive), one line per stage
// otherwise.
class progress_line {
public:
    explicit progress_line(std::string name) : name_(std::move(name)), tty_(isatty(STDERR_FILENO) != 0) {
        if (tty_) ticker_ = std::thread([this] { tick(); });
    }
    ~progress_line() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        cv_.notify_all();
        if (ticker_.joinable()) ticker_.join();
    }
    void update(rollup::refresh_stage stage, std::uint64_t rows) {
        std::lock_guard lock(mutex_);
        stage_ = stage;
        rows_ = rows;
        if (!tty_) draw_locked('\n');
    }
    void finish(const std::string& text) {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        if (tty_) std::fprintf(stderr, "\r\033[K");
        std::fprintf(stderr, "  %-20s %s\n", name_.c_str(), text.c_str());
    }

private:
    void draw_locked(char end) {
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
        static const char spin[] = "|/-\\";
        std::fprintf(stderr, "%s  %-20s %c %-26s %10llu rows %7.1fs%c", tty_ ? "\r\033[K" : "", name_.c_str(),
                     tty_ ? spin[frame_++ % 4] : '-', stage_text(stage_), static_cast<unsigned long long>(rows_), secs,
                     end);
        std::fflush(stderr);
    }
    void tick() {
        std::unique_lock lock(mutex_);
        while (!stopping_) {
            draw_locked(' ');
            cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stopping_; });
        }
    }

    std::string name_;
    bool tty_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false;
    rollup::refresh_stage stage_ = rollup::refresh_stage::querying;
    std::uint64_t rows_ = 0;
    unsigned frame_ = 0;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    std::thread ticker_;
};

// One refresh's figures, e.g. `incremental since 2020-04-27: 4 rows (96 B) fetched, 2530 held; source 0.010 s;
// merge 0.001 s; write 0.000 s; persist 0.040 s` (persist: the serving file written after the swap, not
// part of the refresh's time; `persist failed` when it could not be).
std::string figures(const rollup::refresh_report& r) {
    const auto secs = [](std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); };
    char times[128];
    std::snprintf(times, sizeof times, "source %.3f s; merge %.3f s; write %.3f s; persist %.3f s%s",
                  secs(r.source_time), secs(r.merge_time), secs(r.write_time), secs(r.persist_time),
                  r.persisted ? "" : " failed");
    std::string kind = r.incremental ? "incremental since " + r.since : std::string("full");
    if (!r.why_full.empty()) kind += " (" + r.why_full + ")";
    return kind + ": " + std::to_string(r.rows_fetched) + " rows (" + std::to_string(r.bytes_fetched) +
           " B) fetched, " + std::to_string(r.rows_held) + " held; " + times;
}

}  // namespace

int run_sync(const std::string& config_path, const std::vector<std::string>& only, bool full, bool publish) {
    auto loaded = config::load_file(config_path);
    if (loaded) {
        // FROST_SNAPSHOTS_URL can be what turns snapshots on, as it does for `serve` and `lambda`.
        if (auto env = config::apply_environment(loaded.value()); !env) loaded = std::move(env).error();
    }
    if (!loaded) {
        std::cerr << "frost sync: " << loaded.error().message << '\n';
        return 2;
    }
    if (publish && !loaded.value().serving.snapshots) {
        std::cerr << "frost sync: --publish needs serving.snapshots in " << config_path << " (docs/snapshots.md)\n";
        return 2;
    }
    if (loaded.value().rollups.empty()) {
        std::cerr << "frost sync: " << config_path << " declares no rollups; nothing to do\n";
        return 0;
    }
    for (const auto& name : only) {
        if (!loaded.value().find_rollup(name)) {
            std::cerr << "frost sync: no rollup named \"" << name << "\" in " << config_path << '\n';
            return 2;
        }
    }
    // The serving store is opened without building or scheduling; the refreshes run here.
    assemble_options opts;
    opts.rollups = rollup_mode::manual;
    opts.guards = guard_mode::none;
    auto assembled = assemble(config_path, opts);
    if (!assembled) {
        std::cerr << "frost sync: " << assembled.error().message << '\n';
        if (!assembled.error().hint.empty()) std::cerr << "  hint: " << assembled.error().hint << '\n';
        return 2;
    }
    const auto& cfg = *assembled.value().cfg;
    const auto& store = assembled.value().rollups;
    std::cerr << "Refreshing rollups into "
              << (cfg.serving.path.empty() ? std::string("memory (serving.path is not set)") : cfg.serving.path)
              << '\n';
    // Once per process, not in the first refresh's time (a server keeps it between refreshes).
    if (auto w = store->prepare_writer(); !w) std::cerr << "frost sync: " << w.error().message << '\n';
    int failures = 0;
    for (const auto& name : store->rollup_names()) {
        if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) continue;
        const auto started = std::chrono::steady_clock::now();
        progress_line line(name);
        auto done = store->refresh(
            name, [&](std::string_view, rollup::refresh_stage s, std::uint64_t rows) { line.update(s, rows); },
            full ? rollup::refresh_kind::full : rollup::refresh_kind::automatic);
        const auto report = store->stats(name).last;
        // Until the new version was visible (`duration`): a file written after the swap is `persist`.
        const double secs = done ? std::chrono::duration<double>(report.duration).count()
                                 : std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        char timing[32];
        std::snprintf(timing, sizeof timing, "%.3f s", secs);
        if (done && !report.persisted) {
            // The version existed only in this process's memory: it ends with it.
            ++failures;
            line.finish("FAILED to write version " + std::to_string(done.value().version) +
                        " to the serving file after " + std::string(timing) + " (" + figures(report) +
                        "): " + report.persist_error + " (the previous version is kept)");
        } else if (done) {
            line.finish("version " + std::to_string(done.value().version) + " as of " +
                        codec::format_utc(done.value().built_at) + " in " + timing + "; " + figures(report));
        } else {
            ++failures;
            line.finish("FAILED after " + std::string(timing) + " (" + (report.incremental ? "incremental" : "full") +
                        ", " + std::to_string(report.rows_fetched) + " rows fetched): " + done.error().message +
                        " (the previous version, if any, is kept)");
        }
    }
    if (failures == 0 && !cfg.serving.path.empty()) {
        // For `frost lambda`'s cold start (docs/deployment.md); `frost serve` does not read it.
        auto indexed = write_answer_index(cfg, *store);
        if (indexed)
            std::cerr << "Answer index: " << indexed.value() << " endpoints in "
                      << rollup::serving_store::answer_index_path(cfg.serving.path) << '\n';
        else
            std::cerr << "frost sync: answer index not written: " << indexed.error().message << '\n';
    }
    if (publish && failures == 0) return publish_snapshot(cfg, store);
    return failures ? 1 : 0;
}

}  // namespace frost::app
