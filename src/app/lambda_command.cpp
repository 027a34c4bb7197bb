#include "app/lambda_command.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "app/assemble.hpp"
#include "app/snapshot_wiring.hpp"
#include "config/config.hpp"
#include "lambda/runtime.hpp"
#include "lambda/runtime_client.hpp"
#include "lambda/telemetry.hpp"
#include "rollup/serving_store.hpp"

namespace frost::app {

namespace {

std::string env_or(const char* name, std::string fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : std::move(fallback);
}

std::string resolve_config(const std::string& path) {
    namespace fs = std::filesystem;
    if (fs::path(path).is_absolute() || fs::exists(path)) return path;
    const auto root = env_or("LAMBDA_TASK_ROOT", "");
    if (!root.empty() && fs::exists(fs::path(root) / path)) return (fs::path(root) / path).string();
    return path;
}

// The deployment package (/var/task) is read-only on Lambda, and rollup refreshes write the
// serving database: when it lies inside the package, serve a copy in the temporary folder,
// seeded from the packaged file so init does not rebuild the rollups.
model::result<model::done> relocate_serving(config::config& cfg) {
    namespace fs = std::filesystem;
    const auto root = env_or("LAMBDA_TASK_ROOT", "");
    if (cfg.serving.path.empty() || root.empty()) return model::done{};
    std::error_code ec;
    const auto packaged = fs::weakly_canonical(cfg.serving.path, ec);
    const auto task = fs::weakly_canonical(root, ec);
    const auto rel = packaged.lexically_relative(task);
    if (rel.empty() || rel.native().starts_with("..")) return model::done{};
    const auto copy = fs::path(env_or("TMPDIR", "/tmp")) / ("frost-" + packaged.filename().string());
    if (fs::exists(packaged) && !fs::exists(copy)) {
        fs::copy_file(packaged, copy, ec);
        if (ec)
            return model::error{model::error_code::config_error,
                                "cannot copy the serving database to " + copy.string() + ": " + ec.message(),
                                {},
                                {}};
    }
    // Its answer index goes with it (0.4 MB for the seed); the store uses it only when it matches the
    // copy, so a copy already refreshed in this environment keeps being opened as before.
    const auto index = rollup::serving_store::answer_index_path(packaged.string());
    const auto index_copy = rollup::serving_store::answer_index_path(copy.string());
    if (fs::exists(index) && !fs::exists(index_copy)) fs::copy_file(index, index_copy, ec);
    cfg.serving.path = copy.string();
    return model::done{};
}

// Lambda gives a function one vCPU per 1,769 MB of memory (at most 6). DuckDB starts a thread
// per visible core; on a fraction of one vCPU those threads only wait for each other (measured
// in the emulator on a busy machine: init 282 ms with a thread per core, 56 ms with one).
// A `threads` setting in the config wins.
void fit_threads_to_lambda(config::config& cfg) {
    const auto memory_mb = std::strtoul(env_or("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1769").c_str(), nullptr, 10);
    const auto vcpus = std::to_string(std::clamp<unsigned long>(memory_mb / 1769, 1, 6));
    for (auto& s : cfg.sources)
        if (s.type == "duckdb" && !s.options.contains("threads")) s.options["threads"] = vcpus;
    if (!cfg.serving.options.contains("threads")) cfg.serving.options["threads"] = vcpus;
}

}  // namespace

bool started_by_lambda(int argc, char** argv) {
    const char* api = std::getenv("AWS_LAMBDA_RUNTIME_API");
    if (!api || !*api) return false;
    if (argc <= 1) return true;
    const char* handler = std::getenv("_HANDLER");
    return argc == 2 && handler && std::strcmp(argv[1], handler) == 0;
}

int run_lambda(const std::string& config_path) {
    const auto started = std::chrono::steady_clock::now();
    const auto api_address = env_or("AWS_LAMBDA_RUNTIME_API", "");
    if (api_address.empty()) {
        std::cerr
            << "frost lambda: AWS_LAMBDA_RUNTIME_API is not set; this verb runs inside AWS Lambda or its emulator "
               "(tests/emulators/lambda). Use `frost serve` for HTTP.\n";
        return 2;
    }
    auto client = lambda::runtime_client::create(api_address);
    if (!client) {
        std::cerr << "frost lambda: " << client.error().message << '\n';
        return 2;
    }
    const auto function_name = env_or("AWS_LAMBDA_FUNCTION_NAME", "frost");
    lambda::install_json_logs(function_name);

    auto init_failed = [&](const model::error& e) {
        spdlog::critical("init failed: {}{}", e.message, e.hint.empty() ? "" : " (" + e.hint + ")");
        if (auto posted = client.value()->post_init_error({"Runtime.ConfigInvalid", e.message}); !posted)
            spdlog::error("{}", posted.error().message);
        return 1;
    };

    const auto path = resolve_config(config_path);
    // The rollups were built when the package was made (or just now, when it carries none):
    // no refresh at start, whose source scan would compete with the first event for the CPU.
    // The same auth and rate limits as `frost serve`; Lambda has its own logs and metrics (EMF).
    assemble_options assembly;
    assembly.rollups = rollup_mode::lambda;
    assembly.guards = guard_mode::request_guard;
    // A DuckDB instance costs 20-30 ms of CPU (BENCHMARKS.md, issue 14): the source's is created
    // by the first live query or rollup refresh that needs it, not by every cold start.
    assembly.lazy_sources = true;
    // Likewise the serving file's: the answer index written with it answers the rollup
    // endpoints it holds until something else needs DuckDB (docs/deployment.md).
    assembly.answer_index = true;
    assembly.adjust = [](config::config& cfg) -> model::result<model::done> {
        if (auto moved = relocate_serving(cfg); !moved) return std::move(moved).error();
        fit_threads_to_lambda(cfg);
        return model::done{};
    };
    auto assembled = assemble(path, assembly);
    if (!assembled) return init_failed(assembled.error());
    auto& app = assembled.value();
    const auto& shared = app.cfg;

    lambda::runtime_options options;
    options.function_name = function_name;
    options.events.strip_prefix = env_or("FROST_LAMBDA_STRIP_PREFIX", "");
    // The snapshot builder's schedule (docs/snapshots.md): an EventBridge event refreshes and publishes.
    options.other_events = [&app](std::string_view payload) -> std::optional<std::string> {
        if (!is_sync_event(payload)) return std::nullopt;
        if (!app.rollups) return std::string(R"({"error":"the config declares no rollups"})");
        return run_sync_event(*app.rollups, app.snapshots.get());
    };
    lambda::runtime rt(*app.service, options);
    spdlog::info("frost lambda ready: {} endpoints from {}, init {:.1f} ms", shared->endpoints.size(), path,
                 std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
    auto stopped = rt.run(*client.value());
    spdlog::error("runtime loop ended after {} invocations: {}", rt.answered(),
                  stopped ? std::string("no error") : stopped.error().message);
    return stopped ? 0 : 1;
}

}  // namespace frost::app
