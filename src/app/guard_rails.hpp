#pragma once

#include <memory>

#include "api/service.hpp"
#include "api/worker_pool.hpp"
#include "auth/guard.hpp"
#include "config/config.hpp"
#include "observe/access_log.hpp"
#include "observe/health.hpp"
#include "observe/metrics.hpp"
#include "server/http_server.hpp"

namespace frost::app {

/// What the guard rails of successive generations of a reloadable server share, so request
/// counts survive a reload and the admin port is bound once. Each generation still has its own
/// gauges (its cache, workers, rollups), health checks and auth guard.
struct rails_shared {
    std::shared_ptr<observe::metrics> metrics;  ///< request and query histograms; rendered with each generation's
    std::shared_ptr<observe::access_log> log;   ///< written when the generation's `server.access_log` is on
    bool admin_listener_elsewhere = false;      ///< build the admin service but bind no listener for it
};

/// Everything that makes `frost serve` safe to expose and easy to watch, installed on a
/// service through its extension points: the auth and rate-limit guard, metrics and access
/// log observers, `/metrics`, `/livez`, `/readyz` (on `server.admin_port` when set, else on
/// the API port), and the gauges of the worker pool and the listener. Owns the admin listener,
/// the health prober and the JWKS refresher; destroy it before the service, worker pool and
/// server it was given. Not thread-safe to install; thread-safe once serving.
class guard_rails {
public:
    ~guard_rails();
    guard_rails(const guard_rails&) = delete;
    guard_rails& operator=(const guard_rails&) = delete;

    /// Adds the gauges of the HTTP listener (connections, requests in flight, refusals).
    /// `server` must outlive this object. Call before serving.
    void watch_listener(server::http_server& server);
    /// The admin listener's port, or 0 when admin routes share the API port.
    [[nodiscard]] std::uint16_t admin_port() const noexcept;
    /// The service answering `/metrics`, `/livez` and `/readyz` on `server.admin_port`, or null
    /// when they share the API port (a reloadable server binds its own admin listener to it).
    [[nodiscard]] api::service* admin_service() const noexcept { return admin_service_.get(); }
    /// The gauges and counters of this installation (cache, rollups, workers, auth, breakers).
    [[nodiscard]] const std::shared_ptr<observe::metrics>& metrics() const noexcept { return metrics_; }

private:
    friend model::result<std::unique_ptr<guard_rails>> install_guard_rails(const std::shared_ptr<const config::config>&,
                                                                           api::service&, api::worker_pool&,
                                                                           server::http_server*, const rails_shared*);
    guard_rails() = default;
    std::shared_ptr<observe::metrics> requests_;  ///< where requests are counted: `metrics_` or the shared one
    std::shared_ptr<observe::metrics> metrics_;
    std::shared_ptr<observe::health> health_;
    std::shared_ptr<auth::request_guard> guard_;
    std::shared_ptr<observe::access_log> log_;
    std::unique_ptr<api::worker_pool> admin_workers_;
    std::unique_ptr<api::service> admin_service_;
    std::unique_ptr<server::http_server> admin_server_;
};

/// Installs only the auth and rate-limit guard on `svc` (the Lambda transport, which has its
/// own logs and metrics). Keep the returned guard alive as long as `svc` serves. Fails with
/// `config_error` when the auth config is inconsistent.
[[nodiscard]] model::result<std::shared_ptr<auth::request_guard>> install_request_guard(
    std::shared_ptr<const config::config> cfg, api::service& svc);

/// Installs the guard rails on `svc` (before it serves). `server` may be null (Lambda, tests
/// without a listener): then no listener gauges. Fails with `config_error` when the auth
/// config is inconsistent or the admin port cannot be bound.
[[nodiscard]] model::result<std::unique_ptr<guard_rails>> install_guard_rails(
    const std::shared_ptr<const config::config>& cfg, api::service& svc, api::worker_pool& workers,
    server::http_server* server, const rails_shared* shared = nullptr);

}  // namespace frost::app
