#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <pthread.h>
#include <unistd.h>
#include <atomic>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>

#include "app/assemble.hpp"
#include "app/lambda_command.hpp"
#include "app/load_command.hpp"
#include "app/reload.hpp"
#include "app/sync_command.hpp"
#include "app/web_wiring.hpp"
#include "config/config.hpp"
#include "curl/curl_api.hpp"
#include "data/generator.hpp"
#include "server/http_server.hpp"
#include "source/duckdb/c_api.hpp"

namespace {

using namespace frost;

std::atomic<bool> interrupted{false};

std::string default_config_path() {
    if (const char* v = std::getenv("FROST_CONFIG"); v && *v) return v;
    return "config/frost.yaml";
}

int fail(const model::error& e) {
    std::cerr << "frost: " << e.message << '\n';
    if (!e.hint.empty()) std::cerr << "  hint: " << e.hint << '\n';
    return 2;
}

// "10M", "250k", "100000000" -> a count.
std::optional<std::uint64_t> parse_count(std::string text) {
    std::uint64_t scale = 1;
    if (!text.empty()) {
        switch (text.back()) {
            case 'k':
            case 'K':
                scale = 1'000;
                break;
            case 'm':
            case 'M':
                scale = 1'000'000;
                break;
            case 'g':
            case 'G':
            case 'b':
            case 'B':
                scale = 1'000'000'000;
                break;
            default:
                break;
        }
        if (scale != 1) text.pop_back();
    }
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || p != text.data() + text.size() || text.empty()) return std::nullopt;
    return n * scale;
}

// Serves until SIGINT or SIGTERM; SIGHUP, and with `watch` a change of the config file (polled
// every second), reloads the config (src/app/reload.hpp): validated in full, swapped atomically,
// refused with a log line naming file:line when bad, and the running config keeps serving.
int run_serve(const std::string& config_path, const std::string& host, int port, const std::string& web_root,
              bool watch) {
    // Every thread started from here on inherits the mask: the signals wait for `sigtimedwait`
    // below instead of interrupting whichever thread they land on.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    app::assemble_options opts;
    opts.host = host;
    opts.port = port;
    auto live = app::reloadable_app::start(
        config_path, opts, [web_root](app::application& a) { app::mount_web(*a.service, a.sources, web_root); });
    if (!live) return fail(live.error());
    auto& served = *live.value();
    auto server = served.listen();
    if (!server) return fail(server.error());
    server.value()->start();
    {
        const auto first = served.current();  // not kept: it would hold the first generation forever
        spdlog::info("frost serving {} endpoints on http://{}:{}{}", first->cfg->endpoints.size(),
                     first->cfg->server.host, server.value()->port(), watch ? " (watching the config file)" : "");
    }
    std::cout << std::flush;

    app::file_watch file(config_path);
    for (;;) {
        timespec tick{1, 0};
        siginfo_t info{};
        const int sig = sigtimedwait(&signals, &info, &tick);
        if (sig == SIGINT || sig == SIGTERM) {
            spdlog::info("signal {}: shutting down", sig);
            break;
        }
        if (sig == SIGHUP) {
            spdlog::info("SIGHUP: reloading {}", config_path);
            (void)served.reload();
        } else if (watch && file.changed()) {
            spdlog::info("{} changed: reloading", config_path);
            (void)served.reload();
        }
    }
    const auto grace = served.current()->cfg->server.shutdown_grace;
    served.stop(grace);
    spdlog::info("frost stopped");
    return 0;
}

void draw_progress(std::uint64_t written, std::uint64_t total, std::chrono::steady_clock::time_point started) {
    static int last_permille = -1;
    const int permille = total ? static_cast<int>(written * 1000 / total) : 1000;
    if (permille == last_permille) return;
    last_permille = permille;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (isatty(STDERR_FILENO)) {
        const int width = 30, fill = permille * width / 1000;
        std::fprintf(stderr, "\r  [%.*s%*s] %5.1f%%  %llu / %llu trips  %.1fs", fill, "##############################",
                     width - fill, "", permille / 10.0, static_cast<unsigned long long>(written),
                     static_cast<unsigned long long>(total), secs);
        if (written == total) std::fputc('\n', stderr);
    } else if (permille % 100 == 0) {
        std::fprintf(stderr, "  %3d%%  %llu / %llu trips  %.1fs\n", permille / 10,
                     static_cast<unsigned long long>(written), static_cast<unsigned long long>(total), secs);
    }
}

int run_seed(const std::string& out, const std::string& trips_text, std::uint64_t seed, bool if_missing,
             const std::string& memory_limit) {
    if (if_missing && std::filesystem::exists(out)) return 0;
    auto trips = parse_count(trips_text);
    if (!trips || *trips == 0) {
        std::cerr << "frost seed: --trips expects a count such as 200000, 10M or 100M\n";
        return 2;
    }
    std::signal(SIGINT, [](int) { interrupted = true; });
    std::signal(SIGTERM, [](int) { interrupted = true; });
    std::cerr << "Creating the sample Citi Bike database " << out << " (" << *trips << " trips)\n";
    const auto started = std::chrono::steady_clock::now();
    data::seed_options options{out, *trips, seed, memory_limit, 0};
    auto done = data::build_sample_database(
        options, [&](std::uint64_t w, std::uint64_t t) { draw_progress(w, t, started); }, interrupted);
    if (!done) {
        if (interrupted) {
            std::cerr << "\nfrost seed: interrupted; nothing was left at " << out << '\n';
            return 130;
        }
        return fail(done.error());
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::cerr << "Done in " << secs << " s: " << out << '\n';
    return 0;
}

// Validates what `serve` validates (config, sources, auth and JWKS, rollup references and
// SQL) without building rollups or creating any file; `build` also builds every rollup.
int run_check(const std::string& config_path, bool build) {
    app::assemble_options opts;
    opts.rollups = build ? app::rollup_mode::manual : app::rollup_mode::validate;
    opts.guards = app::guard_mode::request_guard;
    auto assembled = app::assemble(config_path, opts);
    if (!assembled) return fail(assembled.error());
    const auto& a = assembled.value();
    int failures = 0;
    if (build && a.rollups) {
        for (const auto& name : a.rollups->rollup_names()) {
            auto built = a.rollups->refresh(name);
            if (built) {
                std::cout << "  rollup " << name << ": built, version " << built.value().version << '\n';
            } else {
                ++failures;
                std::cout << "  rollup " << name << ": FAILED: " << built.error().message << '\n';
            }
        }
    }
    if (build && a.rollups && failures == 0 && !a.cfg->serving.path.empty()) {
        // The package's serving file gets its answer index (scripts/package-lambda.sh).
        auto indexed = app::write_answer_index(*a.cfg, *a.rollups);
        if (indexed)
            std::cout << "  answer index: " << indexed.value() << " endpoints\n";
        else
            std::cout << "  answer index not written: " << indexed.error().message << '\n';
    }
    std::cout << config_path << ": " << (failures ? "FAILED" : "ok") << ", " << a.cfg->sources.size() << " sources, "
              << a.cfg->rollups.size() << " rollups, " << a.cfg->endpoints.size() << " endpoints\n";
    for (const auto& e : a.cfg->endpoints)
        std::cout << "  GET " << e.path << (e.summary.empty() ? "" : "  " + e.summary) << '\n';
    return failures ? 1 : 0;
}

// `frost libraries`: the libraries loaded with dlopen, which `ldd frost` cannot list, one path a
// line, so that scripts/lib/bundle.sh packages them and what they need. Fails when one is missing.
int run_libraries() {
    int failures = 0;
    for (auto [path, failure] : {std::pair{source::duckdb::c_api::library_path(), source::duckdb::c_api::load()},
                                 std::pair{curl::library_path(), curl::load()}}) {
        if (path.empty()) {
            std::fprintf(stderr, "frost: %s\n", failure.c_str());
            ++failures;
        } else {
            std::cout << path << '\n';
        }
    }
    return failures ? 1 : 0;
}

// The verbs; `main` only adds the exception barrier.
int run(int argc, char** argv) {
    // Lambda reads its config at each cold start and ignores reloads: SIGHUP must not end it.
    if (app::started_by_lambda(argc, argv)) {
        std::signal(SIGHUP, SIG_IGN);
        return app::run_lambda(default_config_path());
    }
    CLI::App cli{"Frost: fast, secure HTTP JSON APIs over SQL warehouses"};
    cli.require_subcommand(1);
    std::string config_path = default_config_path();

    auto* serve = cli.add_subcommand("serve", "Serve the configured API over HTTP");
    std::string host;
    int port = -1;
    serve->add_option("-c,--config", config_path, "Config file (env FROST_CONFIG)");
    serve->add_option("--host", host, "Address to listen on (env FROST_HOST; default 127.0.0.1)");
    serve->add_option("--port", port, "Port (env FROST_PORT; default 5000; 0 picks a free one)")
        ->check(CLI::Range(0, 65535));
    std::string web_root;
    serve->add_option("--web-root", web_root, "Built dashboard/docs files (env FROST_WEB_ROOT; default: found)");
    bool watch = false;
    serve->add_flag("--watch", watch, "Reload the config when the file changes (polled every second; development)");

    auto* seed = cli.add_subcommand("seed", "Create the sample Citi Bike database");
    std::string out = "data/citibike.duckdb", trips = "10M", memory_limit = "2GB";
    std::uint64_t seed_value = 42;
    bool if_missing = false;
    seed->add_option("-o,--out", out, "Database file to create");
    seed->add_option("-n,--trips", trips, "Number of trips, e.g. 200k, 10M, 100M");
    seed->add_option("--seed", seed_value, "Random seed (same seed, same data)");
    seed->add_option("--memory-limit", memory_limit, "DuckDB memory limit while building");
    seed->add_flag("--if-missing", if_missing, "Do nothing when the file exists");

    auto* check = cli.add_subcommand("check", "Validate the config and open its sources (creates no file)");
    check->add_option("-c,--config", config_path, "Config file (env FROST_CONFIG)");
    bool check_build = false;
    check->add_flag("--build", check_build, "Also build every rollup into the serving database");

    auto* sync = cli.add_subcommand("sync", "Refresh the config's rollups now, with progress");
    sync->add_option("-c,--config", config_path, "Config file (env FROST_CONFIG)");
    std::vector<std::string> sync_only;
    sync->add_option("-r,--rollup", sync_only, "Only this rollup (repeatable); default all");
    bool sync_publish = false;
    sync->add_flag("--publish", sync_publish, "Then publish the serving file to serving.snapshots (S3)");
    bool sync_full = false;
    sync->add_flag("--full", sync_full, "Rebuild incremental rollups whole instead of their lookback window");

    auto* lambda =
        cli.add_subcommand("lambda", "Answer AWS Lambda events (automatic when AWS_LAMBDA_RUNTIME_API is set)");
    lambda->add_option("-c,--config", config_path, "Config file (env FROST_CONFIG)");

    app::openapi_verb_options openapi_options;
    auto* openapi = app::add_openapi_verb(cli, config_path, openapi_options);

    app::load_verb_options load_options;
    auto* load = app::add_load_verb(cli, load_options);

    auto* libraries = cli.add_subcommand(
        "libraries", "Print the shared libraries Frost loads on first use (DuckDB, libcurl), for packaging");

    CLI11_PARSE(cli, argc, argv);
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

    if (*serve) return run_serve(config_path, host, port, web_root, watch);
    if (*seed) return run_seed(out, trips, seed_value, if_missing, memory_limit);
    if (*check) return run_check(config_path, check_build);
    if (*lambda) {
        std::signal(SIGHUP, SIG_IGN);
        return app::run_lambda(config_path);
    }
    if (*sync) return app::run_sync(config_path, sync_only, sync_full, sync_publish);
    if (*openapi) return app::run_openapi_verb(config_path, openapi_options);
    if (*load) return app::run_load_verb(*load, load_options);
    if (*libraries) return run_libraries();
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    // Verbs report expected failures as exit codes; this catches the rest (std::filesystem, CLI11
    // setup, logger setup, bad_alloc) so the user sees the message instead of std::terminate.
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "frost: fatal error: %s\n", e.what());
    } catch (...) {
        std::fputs("frost: fatal error: unknown exception\n", stderr);
    }
    return 1;
}
