#include "app/load_command.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <mutex>

#include "data/citibike_files.hpp"

namespace frost::app {

namespace {

std::atomic<bool> load_interrupted{false};

extern "C" void on_load_signal(int) {
    load_interrupted = true;
    // A second Ctrl-C ends the process at once; the open transaction then never commits either.
    std::signal(SIGINT, SIG_DFL);
}

std::string human_bytes(std::uint64_t b) {
    char buf[32];
    if (b >= (1ULL << 30))
        std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(b) / (1ULL << 30));
    else if (b >= (1ULL << 20))
        std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(b) / (1ULL << 20));
    else
        std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(b) / 1024);
    return buf;
}

// Draws the progress of the file being loaded: a bar redrawn in place on a terminal, a line
// every 10 % otherwise (logs stay short).
class progress_display {
public:
    progress_display() : tty_(isatty(STDERR_FILENO) != 0) {}
    void begin(const std::string& file) {
        started_ = std::chrono::steady_clock::now();
        last_decile_ = -1;
        if (!tty_) std::fprintf(stderr, "  %s\n", file.c_str());
    }
    void update(const data::load_progress& p) {
        std::lock_guard lock(mutex_);
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
        const double frac =
            p.bytes_total ? static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total) : 1.0;
        if (tty_) {
            const int width = 24, fill = static_cast<int>(frac * width);
            std::fprintf(stderr, "\r\033[K  [%.*s%*s] %3.0f%%  %s / %s  ~%llu rows  %.1fs", fill,
                         "########################", width - fill, "", frac * 100, human_bytes(p.bytes_done).c_str(),
                         human_bytes(p.bytes_total).c_str(), static_cast<unsigned long long>(p.rows), secs);
            std::fflush(stderr);
        } else if (const int decile = static_cast<int>(frac * 10); decile > last_decile_) {
            last_decile_ = decile;
            std::fprintf(stderr, "    %3d%%  %s / %s  ~%llu rows  %.1fs\n", decile * 10,
                         human_bytes(p.bytes_done).c_str(), human_bytes(p.bytes_total).c_str(),
                         static_cast<unsigned long long>(p.rows), secs);
        }
    }
    void end() {
        if (tty_) std::fprintf(stderr, "\r\033[K");
    }
    [[nodiscard]] double seconds() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    }

private:
    bool tty_;
    std::mutex mutex_;
    int last_decile_ = -1;
    std::chrono::steady_clock::time_point started_;
};

}  // namespace

CLI::App* add_load_verb(CLI::App& cli, load_verb_options& opts) {
    auto* load =
        cli.add_subcommand("load", "Load the public Citi Bike trip or weather files into the embedded database");
    load->require_subcommand(1);
    auto common = [&](CLI::App* sub) {
        sub->add_option("--into", opts.into, "Database file to load into (created when missing)");
        sub->add_flag("--replace", opts.replace, "Load a file again that was loaded before, replacing its rows");
        sub->add_option("--max-bad-rows", opts.max_bad_rows,
                        "Bad rows a file may have: a share (0.1%) or a count (25)");
        sub->add_option("--memory-limit", opts.memory_limit, "DuckDB memory limit while loading (default: DuckDB's)");
    };
    auto* trips = load->add_subcommand("trips", "Trip files: .csv, .csv.gz or .zip, any layout from 2013 on");
    trips->add_option("files", opts.trip_files, "Trip files")->required()->check(CLI::ExistingFile);
    common(trips);
    auto* weather =
        load->add_subcommand("weather", "A daily weather CSV in the seed's WEATHER shape (docs/loading.md)");
    weather->add_option("file", opts.weather_file, "Weather file")->required()->check(CLI::ExistingFile);
    common(weather);
    return load;
}

int run_load_verb(const CLI::App& load, const load_verb_options& opts) {
    const bool trips = load.got_subcommand("trips");
    auto limit = data::parse_bad_row_limit(opts.max_bad_rows);
    if (!limit) {
        std::cerr << "frost load: --max-bad-rows expects a share such as 0.1% or a count such as 25\n";
        return 2;
    }
    data::load_options options;
    options.database = opts.into;
    options.replace = opts.replace;
    options.max_bad_rows = *limit;
    options.memory_limit = opts.memory_limit;
    auto loader = data::file_loader::open(options);
    if (!loader) {
        std::cerr << "frost load: " << loader.error().message << '\n';
        if (!loader.error().hint.empty()) std::cerr << "  hint: " << loader.error().hint << '\n';
        return 2;
    }
    std::signal(SIGINT, on_load_signal);
    std::signal(SIGTERM, on_load_signal);

    const std::vector<std::string> files = trips ? opts.trip_files : std::vector<std::string>{opts.weather_file};
    std::cerr << "Loading " << files.size() << (trips ? " trip" : " weather")
              << (files.size() == 1 ? " file" : " files") << " into " << opts.into << '\n';
    progress_display display;
    int failed = 0;
    std::uint64_t loaded_rows = 0;
    for (const auto& file : files) {
        if (load_interrupted) break;
        display.begin(file);
        auto report = loader.value()->load(
            trips ? data::file_kind::trips : data::file_kind::weather, file,
            [&](const data::load_progress& p) { display.update(p); }, load_interrupted);
        display.end();
        char timing[32];
        std::snprintf(timing, sizeof timing, "%.2f s", display.seconds());
        switch (report.outcome) {
            case data::load_outcome::loaded:
                loaded_rows += report.rows;
                std::cerr << "  " << file << ": " << report.rows << (report.rows == 1 ? " row (" : " rows (")
                          << report.schema << ") in " << timing;
                if (report.bad_rows)
                    std::cerr << ", " << report.bad_rows << (report.bad_rows == 1 ? " bad row" : " bad rows")
                              << " skipped";
                std::cerr << '\n';
                break;
            case data::load_outcome::skipped:
                std::cerr << "  " << file << ": " << report.message << '\n';
                break;
            case data::load_outcome::failed:
                ++failed;
                std::cerr << "  " << file << ": FAILED: " << report.message << '\n';
                break;
            case data::load_outcome::interrupted:
                std::cerr << "  " << file << ": " << report.message << '\n';
                break;
        }
        for (const auto& b : report.first_bad)
            std::cerr << "    " << b.file << ":" << b.line << ": " << b.message << '\n';
        if (report.bad_rows > report.first_bad.size())
            std::cerr << "    ... and " << report.bad_rows - report.first_bad.size() << " more bad rows\n";
    }
    if (load_interrupted) {
        std::cerr << "frost load: interrupted; files loaded before the interrupted one are kept\n";
        return 130;
    }
    if (auto c = loader.value()->checkpoint(); !c) std::cerr << "frost load: checkpoint: " << c.error().message << '\n';
    if (loaded_rows > 0)
        std::cerr << "Rollups built from " << opts.into
                  << " are refreshed by `frost sync`, or by `frost serve` when it starts\n";
    return failed ? 1 : 0;
}

}  // namespace frost::app
