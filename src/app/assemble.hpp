#pragma once

#include <functional>
#include <memory>
#include <string>

#include "api/service.hpp"
#include "api/worker_pool.hpp"
#include "app/guard_rails.hpp"
#include "auth/guard.hpp"
#include "config/config.hpp"
#include "rollup/serving_store.hpp"
#include "snapshot/sharing.hpp"

namespace frost::app {

/// What the serving store does while the application is assembled.
enum class rollup_mode {
    serve,     ///< build missing rollups (start-up fails when one cannot be built), refresh at start and on schedule
    lambda,    ///< serve persisted versions, build missing ones, refresh on schedule only (no scan at cold start)
    manual,    ///< serve persisted versions; the caller refreshes (`frost sync`, `frost check --build`)
    validate,  ///< check the rollups' sources and SQL only: no file is touched, nothing is built (`frost check`)
};

/// Which request guards the service gets.
enum class guard_mode {
    none,           ///< no auth (`frost openapi`, `frost sync`)
    request_guard,  ///< auth and rate limits only (Lambda has its own logs and metrics)
    rails,          ///< auth, rate limits, metrics, access log, `/metrics`, `/livez`, `/readyz` (`frost serve`)
};

struct application;

/// How `assemble` wires the application for one verb.
struct assemble_options {
    std::string host;  ///< overrides `server.host` when not empty (`--host`)
    int port = -1;     ///< overrides `server.port` when 0 or more (`--port`)
    rollup_mode rollups = rollup_mode::serve;
    guard_mode guards = guard_mode::rails;
    /// Called on the config after the environment overrides, before anything opens (Lambda
    /// moves the serving file out of its read-only package and fits threads to its vCPUs).
    std::function<model::result<model::done>(config::config&)> adjust;
    /// Open DuckDB sources on their first query rather than now (`frost lambda`: rollup
    /// endpoints are answered from the serving store; see `open_sources`).
    bool lazy_sources = false;
    /// With `rollup_mode::lambda`: answer from the answer index `<serving.path>.prefix` when it
    /// matches the serving file, opening that file's DuckDB instance on first need
    /// (`rollup::store_options::answer_index`; `frost lambda`).
    bool answer_index = false;
    /// For a reload: the running application, whose unchanged sources and serving store the new
    /// one reuses (`reload.hpp`); changed rollups reconfigure that store, a change to `serving:`
    /// is refused.
    const application* previous = nullptr;
    /// For a reloadable server: what the guard rails of its generations share.
    const rails_shared* shared_rails = nullptr;
};

/// The application, wired once: config, sources, serving store, worker pool, service and
/// guards. Transports (the HTTP listener, the Lambda loop) are added by the caller. Members
/// are destroyed in reverse order: guards first, then the service, its workers and sources.
struct application {
    std::shared_ptr<const config::config> cfg;
    api::source_map sources;                         ///< the config's `sources:`
    std::shared_ptr<rollup::serving_store> rollups;  ///< null when the config declares none
    /// Snapshot sharing (`serving.snapshots`), started, with `rollup_mode::serve` and `lambda`.
    std::shared_ptr<snapshot::snapshot_agent> snapshots;
    std::unique_ptr<api::worker_pool> workers;
    std::unique_ptr<api::service> service;
    std::shared_ptr<auth::request_guard> guard;  ///< set with `guard_mode::request_guard`
    std::unique_ptr<guard_rails> rails;          ///< set with `guard_mode::rails`
};

/// The query threads for `cfg`: `server.workers`, or one per core with at least two (a slow
/// query must not hold up every other one). Every verb uses this.
[[nodiscard]] unsigned worker_threads(const config::server_config& cfg);

/// Loads the config file, applies the `FROST_*` environment overrides and `opts`, and
/// assembles the application. Fails with the first problem, naming its file, line or
/// source: everything `serve` would refuse, `check` refuses too.
[[nodiscard]] model::result<application> assemble(const std::string& config_path, const assemble_options& opts);

/// Writes the answer index beside `store`'s serving file for the endpoints of `cfg` that read
/// rollups (`rollup::serving_store::write_answer_index`): `frost sync` and `frost check --build`
/// after their refreshes. Returns how many endpoints it answers.
model::result<std::size_t> write_answer_index(const config::config& cfg, rollup::serving_store& store);

/// Same, from a loaded config (tests; environment overrides are not applied).
[[nodiscard]] model::result<application> assemble(config::config cfg, const assemble_options& opts);

}  // namespace frost::app
