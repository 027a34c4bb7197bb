#include "app/guard_rails.hpp"

#include <spdlog/spdlog.h>

namespace frost::app {

guard_rails::~guard_rails() {
    if (admin_server_) admin_server_->stop(std::chrono::milliseconds(0));
}

std::uint16_t guard_rails::admin_port() const noexcept {
    return admin_server_ ? admin_server_->port() : 0;
}

model::result<std::unique_ptr<guard_rails>> install_guard_rails(std::shared_ptr<const config::config> cfg,
                                                                api::service& svc, api::worker_pool& workers,
                                                                server::http_server* server) {
    std::unique_ptr<guard_rails> rails(new guard_rails());
    auto guard = auth::request_guard::create(cfg);
    if (!guard) return std::move(guard).error();
    rails->guard_ = std::move(guard).value();
    rails->metrics_ = std::make_shared<observe::metrics>();
    rails->health_ = std::make_shared<observe::health>(svc.sources(), std::chrono::seconds(5));
    if (cfg->server.access_log) rails->log_ = std::make_shared<observe::access_log>();

    svc.add_guard(
        [g = rails->guard_](api::request& req, const config::endpoint_config& e) { return g->check(req, e); });
    svc.add_observer([m = rails->metrics_, h = rails->health_, log = rails->log_](
                         const api::request& req, const api::response& res, const api::request_stats& stats) {
        using seconds = std::chrono::duration<double>;
        m->observe_request(stats.route, res.status, stats.cache, seconds(model::clock::now() - stats.started).count());
        if (!stats.source.empty() && stats.query_time.count() > 0) {
            // Only the upstream's own failures count against it; 4xx are the caller's.
            const bool ok = res.status < 500;
            m->observe_query(stats.source, ok, seconds(stats.query_time).count());
            h->record_query(stats.source, ok);
        }
        if (log) log->write(req, res, stats);
    });

    auto& m = *rails->metrics_;
    api::worker_pool* pool = &workers;
    m.add_gauge("frost_worker_queue_depth", "Queries waiting for a worker thread.",
                [pool] { return double(pool->queued()); });
    m.add_gauge("frost_worker_busy", "Worker threads running a query now.", [pool] { return double(pool->busy()); });
    m.add_gauge("frost_worker_queue_capacity", "Queries that may wait before new ones get 503.",
                [pool] { return double(pool->capacity()); });
    if (server) {
        m.add_gauge("frost_open_connections", "Client connections open now.",
                    [server] { return double(server->stats().open); });
        m.add_gauge("frost_requests_in_flight", "Requests read and not yet answered.",
                    [server] { return double(server->stats().in_flight); });
        m.add_counter("frost_connections_total", "Client connections accepted.",
                      [server] { return double(server->stats().accepted); });
        m.add_counter("frost_connections_refused_total", "Connections closed at once: over server.max_connections.",
                      [server] { return double(server->stats().refused); });
        m.add_counter("frost_requests_rejected_total",
                      "Requests refused before routing: size limits, framing, smuggling shapes.",
                      [server] { return double(server->stats().rejected); });
        m.add_counter("frost_connection_timeouts_total", "Connections dropped at a read or write deadline.",
                      [server] { return double(server->stats().timeouts); });
    }
    auto g = rails->guard_;
    m.add_counter(
        "frost_auth_refused_total", "Requests refused by auth or rate limits.",
        [g] { return double(g->counters().unauthorized.load()); }, "status=\"401\"");
    m.add_counter(
        "frost_auth_refused_total", "Requests refused by auth or rate limits.",
        [g] { return double(g->counters().forbidden.load()); }, "status=\"403\"");
    m.add_counter(
        "frost_auth_refused_total", "Requests refused by auth or rate limits.",
        [g] { return double(g->counters().rate_limited.load()); }, "status=\"429\"");
    m.add_gauge("frost_rate_limit_buckets", "Callers with a live rate-limit bucket.",
                [g] { return double(g->rate_buckets()); });
    if (g->jwks()) {
        m.add_counter("frost_jwks_fetches_total", "JWKS loads attempted.",
                      [g] { return double(g->jwks()->fetches()); });
        m.add_counter("frost_jwks_fetch_failures_total", "JWKS loads that failed (last good keys kept).",
                      [g] { return double(g->jwks()->failures()); });
        rails->health_->add_check("jwt_keys", [g]() -> std::optional<std::string> {
            if (g->jwks()->keys()) return std::nullopt;
            return "no JWT signing keys loaded yet";
        });
    }

    api::service* admin = &svc;
    if (cfg->server.admin_port) {
        auto admin_cfg = std::make_shared<config::config>(*cfg);
        admin_cfg->endpoints.clear();
        admin_cfg->server.port = *cfg->server.admin_port;
        admin_cfg->server.io_threads = 1;
        rails->admin_workers_ = std::make_unique<api::worker_pool>(1, 1);
        auto s = api::service::create(admin_cfg, {}, *rails->admin_workers_);
        if (!s) return std::move(s).error();
        rails->admin_service_ = std::move(s).value();
        admin = rails->admin_service_.get();
    }
    admin->add_route("/metrics", [mp = rails->metrics_](const api::request&) {
        api::response r;
        r.status = 200;
        r.body = mp->render();
        r.headers.emplace_back("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        r.headers.emplace_back("Cache-Control", "no-store");
        return r;
    });
    admin->add_route("/livez", [h = rails->health_](const api::request&) { return h->livez(); });
    admin->add_route("/readyz", [h = rails->health_](const api::request&) { return h->readyz(); });
    if (rails->admin_service_) {
        auto listener =
            server::http_server::bind(rails->admin_service_->configuration().server, *rails->admin_service_);
        if (!listener) return std::move(listener).error();
        rails->admin_server_ = std::move(listener).value();
        rails->admin_server_->start();
        spdlog::info("frost admin routes (/metrics, /livez, /readyz) on http://{}:{}", cfg->server.host,
                     rails->admin_server_->port());
    }
    return rails;
}

}  // namespace frost::app
