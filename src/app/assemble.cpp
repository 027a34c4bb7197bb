#include "app/assemble.hpp"

#include <algorithm>
#include <thread>

#include "app/reload.hpp"
#include "app/sources.hpp"

namespace frost::app {

namespace {
model::result<application> finish_assembly(application app, std::shared_ptr<rollup::serving_store> rollups,
                                           const assemble_options& opts);
}  // namespace

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

    auto sources = opts.previous ? reuse_sources(*opts.previous, c) : open_sources(c, opts.lazy_sources);
    if (!sources) return std::move(sources).error();
    app.sources = std::move(sources).value();

    if (opts.previous) {
        // Never a second store on the running one's file: it would fight it for its lock and
        // its generations. The running store is kept, and reconfigured when rollups changed.
        const auto& before = *opts.previous->cfg;
        if (!same_serving(before, c))
            return model::error{model::error_code::config_error,
                                c.file + ": serving: changed (path, options or snapshots); it applies at a restart",
                                {},
                                "restart frost serve to open the new serving database"};
        bool changed = !same_rollups(before, c);
        for (const auto& r : c.rollups) {
            auto now = app.sources.find(r.source);
            auto was = opts.previous->sources.find(r.source);
            changed = changed || now == app.sources.end() || was == opts.previous->sources.end() ||
                      now->second != was->second;
        }
        if (changed && c.serving.snapshots)
            return model::error{model::error_code::config_error,
                                c.file + ": rollups changed while serving.snapshots is set; they apply at a restart",
                                {},
                                "restart every instance sharing the snapshots with the new config"};
        if (changed && !opts.previous->rollups && !c.rollups.empty())
            return model::error{model::error_code::config_error,
                                c.file + ": rollups added to a config that had none; they apply at a restart",
                                {},
                                "restart frost serve to open the serving database"};
        auto assembled = finish_assembly(std::move(app), opts.previous->rollups, opts);
        if (!assembled) return assembled;
        // Last, once nothing else can refuse the reload: the store is shared with the running
        // generation, which keeps serving if this fails (reconfigure changes nothing then).
        auto& next = assembled.value();
        if (changed && next.rollups) {
            if (auto applied = next.rollups->reconfigure(c, next.sources); !applied) return std::move(applied).error();
        }
        // The snapshot agent feeds the store this generation keeps: it carries over too.
        next.snapshots = opts.previous->snapshots;
        return assembled;
    }

    rollup::store_options store;
    switch (opts.rollups) {
        case rollup_mode::serve:
            store.require_built = true;
            break;
        case rollup_mode::lambda:
            store.refresh_on_start = false;
            store.answer_index = opts.answer_index;
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
    auto assembled = finish_assembly(std::move(app), std::move(rollups).value(), opts);
    if (!assembled || !shares) return assembled;
    auto agent = snapshot::snapshot_agent::create(c, assembled.value().rollups);
    if (!agent) return std::move(agent).error();
    assembled.value().snapshots = std::move(agent).value();
    assembled.value().snapshots->start(true);
    return assembled;
}

model::result<std::size_t> write_answer_index(const config::config& cfg, rollup::serving_store& store) {
    std::vector<rollup::endpoint_sql> endpoints;
    for (const auto& e : cfg.endpoints) {
        if (e.rollup.empty()) continue;
        // The SQL the service sends the store (api::service::create): the store's dialect.
        if (const auto* sql = config::sql_for(e.sql, store.dialect())) endpoints.push_back({*sql, e.rollup, e.path});
    }
    return store.write_answer_index(endpoints);
}

namespace {

// The workers, the service and its guards, over the sources and store already in `app`.
model::result<application> finish_assembly(application app, std::shared_ptr<rollup::serving_store> rollups,
                                           const assemble_options& opts) {
    app.rollups = std::move(rollups);
    const auto& c = *app.cfg;
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
            auto r = install_guard_rails(app.cfg, *app.service, *app.workers, nullptr, opts.shared_rails);
            if (!r) return std::move(r).error();
            app.rails = std::move(r).value();
            break;
        }
    }
    return app;
}

}  // namespace

}  // namespace frost::app
