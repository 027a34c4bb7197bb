#include "app/assemble.hpp"

#include <algorithm>
#include <thread>

#include "app/sources.hpp"

namespace frost::app {

unsigned worker_threads(const config::server_config& cfg) {
    return cfg.workers ? cfg.workers : std::max(2u, std::thread::hardware_concurrency());
}

model::result<application> assemble(const std::string& config_path, const assemble_options& opts) {
    auto cfg = config::load_file(config_path);
    if (!cfg) return std::move(cfg).error();
    if (auto env = config::apply_environment(cfg.value()); !env) return std::move(env).error();
    return assemble(std::move(cfg).value(), opts);
}

model::result<application> assemble(config::config cfg, const assemble_options& opts) {
    if (!opts.host.empty()) cfg.server.host = opts.host;
    if (opts.port >= 0) cfg.server.port = static_cast<std::uint16_t>(opts.port);
    if (opts.adjust) {
        if (auto adjusted = opts.adjust(cfg); !adjusted) return std::move(adjusted).error();
    }
    application app;
    app.cfg = std::make_shared<const config::config>(std::move(cfg));
    const auto& c = *app.cfg;

    auto sources = open_sources(c);
    if (!sources) return std::move(sources).error();
    app.sources = std::move(sources).value();

    rollup::store_options store;
    switch (opts.rollups) {
        case rollup_mode::serve:
            store.require_built = true;
            break;
        case rollup_mode::lambda:
            store.refresh_on_start = false;
            break;
        case rollup_mode::manual:
            store = {false, false, false, false};
            break;
        case rollup_mode::validate:
            store = {false, false, false, true};
            store.use_file = false;
            break;
    }
    // A snapshot reader serves what the builder published: it never scans sources at start.
    const bool shares = c.serving.snapshots && !c.rollups.empty() &&
                        (opts.rollups == rollup_mode::serve || opts.rollups == rollup_mode::lambda);
    if (shares && c.serving.snapshots->role != config::snapshot_role::builder) {
        store.build_missing = false;
        store.refresh_on_start = false;
        store.require_built = false;
        store.schedule = c.serving.snapshots->role == config::snapshot_role::both;
    }
    auto rollups = rollup::open_serving(c, app.sources, store);
    if (!rollups) return std::move(rollups).error();
    app.rollups = std::move(rollups).value();
    if (shares) {
        auto agent = snapshot::snapshot_agent::create(c, app.rollups);
        if (!agent) return std::move(agent).error();
        app.snapshots = std::move(agent).value();
        app.snapshots->start(true);
    }

    app.workers = std::make_unique<api::worker_pool>(worker_threads(c.server), c.server.queue_capacity);
    auto svc = api::service::create(app.cfg, app.sources, *app.workers, app.rollups);
    if (!svc) return std::move(svc).error();
    app.service = std::move(svc).value();

    switch (opts.guards) {
        case guard_mode::none:
            break;
        case guard_mode::request_guard: {
            auto g = install_request_guard(app.cfg, *app.service);
            if (!g) return std::move(g).error();
            app.guard = std::move(g).value();
            break;
        }
        case guard_mode::rails: {
            auto r = install_guard_rails(app.cfg, *app.service, *app.workers, nullptr);
            if (!r) return std::move(r).error();
            app.rails = std::move(r).value();
            break;
        }
    }
    return app;
}

}  // namespace frost::app
