#include "app/guard_rails.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "app/cost_metrics.hpp"
#include "rollup/serving_store.hpp"
#include "source/breaker.hpp"
#include "source/lazy.hpp"

namespace frost::app {

namespace {

// The response cache's and the rollups' figures, and a readiness check per rollup: a rollup
// that was never built cannot answer its endpoints; a stale one still can (last good version).
void add_cache_and_rollup_gauges(api::service& svc, observe::metrics& m, observe::health& h) {
    const cache::response_cache* c = &svc.response_cache();
    m.add_gauge("frost_cache_bytes", "Bytes held by the response cache.", [c] { return double(c->bytes()); });
    m.add_gauge("frost_cache_entries", "Answers held by the response cache.", [c] { return double(c->size()); });
    m.add_counter(
        "frost_cache_lookups_total", "Response cache lookups, by outcome.", [c] { return double(c->hits()); },
        "outcome=\"hit\"");
    m.add_counter(
        "frost_cache_lookups_total", "Response cache lookups, by outcome.", [c] { return double(c->stale_hits()); },
        "outcome=\"stale\"");
    m.add_counter(
        "frost_cache_lookups_total", "Response cache lookups, by outcome.", [c] { return double(c->misses()); },
        "outcome=\"miss\"");
    m.add_counter("frost_cache_evictions_total", "Answers pushed out of the response cache.",
                  [c] { return double(c->evictions()); });
    m.add_gauge("frost_cache_hit_ratio", "Hits (fresh and stale) over all lookups since start.", [c] {
        const double hits = double(c->hits() + c->stale_hits()), all = hits + double(c->misses());
        return all > 0 ? hits / all : 0.0;
    });

    add_cost_metrics(svc, m);
    const rollup::serving_store* store = svc.serving_store();
    if (!store) return;
    m.add_counter(
        "frost_rollup_refreshes_total", "Rollup refreshes, by outcome.", [store] { return double(store->refreshes()); },
        "outcome=\"ok\"");
    m.add_counter(
        "frost_rollup_refreshes_total", "Rollup refreshes, by outcome.",
        [store] { return double(store->failed_refreshes()); }, "outcome=\"failed\"");
    m.add_counter("frost_rollup_persist_failures_total",
                  "Rollup versions served from memory whose serving file could not be written after the swap.",
                  [store] { return double(store->persist_failures()); });
    // How each rollup endpoint's uncached answers were computed (src/rollup/prefix_index.hpp).
    for (const auto& e : svc.configuration().endpoints) {
        if (e.rollup.empty()) continue;
        const std::string route = "route=\"" + observe::escape_label(e.path) + "\",by=";
        m.add_counter(
            "frost_rollup_answers_total", "Uncached answers of rollup endpoints, by how they were computed.",
            [store, path = e.path] { return double(store->answers(path).prefix_sums); }, route + "\"prefix_sums\"");
        m.add_counter(
            "frost_rollup_answers_total", "Uncached answers of rollup endpoints, by how they were computed.",
            [store, path = e.path] { return double(store->answers(path).duckdb); }, route + "\"duckdb\"");
    }
    // The generation's own rollups: a reload reconfigures the shared store only after this runs.
    const auto held = store->rollup_names();
    for (const auto& r : svc.configuration().rollups) {
        const std::string& name = r.name;
        const std::string labels = "rollup=\"" + observe::escape_label(name) + "\"";
        m.add_gauge(
            "frost_rollup_age_seconds", "Seconds since the served version of a rollup was read from its source.",
            [store, name] {
                const auto v = store->current(name);
                if (v.version == 0) return -1.0;
                return std::chrono::duration<double>(std::chrono::system_clock::now() - v.built_at).count();
            },
            labels);
        m.add_gauge(
            "frost_rollup_stale", "1 when the last refresh of a rollup failed and the previous version is served.",
            [store, name] { return store->current(name).stale ? 1.0 : 0.0; }, labels);
        // A rollup added by a reload is built in the background; its endpoints answer 503 until
        // then, but the others serve: it must not take the instance out of rotation.
        if (std::find(held.begin(), held.end(), name) == held.end()) continue;
        h.add_check("rollup:" + name, [store, name]() -> std::optional<std::string> {
            const auto v = store->current(name);
            // The reason is in the log; it may name files and libraries, which no body shows.
            if (v.version == 0)
                return std::string(v.last_error.empty() ? "never built" : "never built: the last build failed");
            return std::nullopt;
        });
    }
}

// Each source's circuit breaker: its state (0 closed, 1 half-open, 2 open), its transitions and
// the calls it refused, in /metrics; its state in /readyz (informative: it never fails readiness).
void add_breaker_gauges(api::service& svc, observe::metrics& m, observe::health& h) {
    for (const auto& [name, src] : svc.sources()) {
        // A source opened on its first query: "not opened yet" is not a failure (informative;
        // why an open failed is in the log and the failed call's answer).
        if (const source::lazy_source* l = source::as_lazy(src.get()))
            h.add_status("open:" + name, [l] { return std::string(source::state_name(l->state())); });
        const source::breaker* b = source::as_breaker(src.get());
        if (!b) continue;
        const std::string labels = "source=\"" + observe::escape_label(name) + "\"";
        m.add_gauge(
            "frost_source_breaker_state", "Circuit breaker of a source: 0 closed, 1 half-open, 2 open.",
            [b] { return double(static_cast<int>(b->state())); }, labels);
        for (auto to : {source::breaker_state::closed, source::breaker_state::half_open, source::breaker_state::open})
            m.add_counter(
                "frost_source_breaker_transitions_total", "Circuit breaker transitions, by the state entered.",
                [b, to] { return double(b->transitions(to)); },
                labels + ",to=\"" + std::string(source::state_name(to)) + "\"");
        m.add_counter(
            "frost_source_breaker_rejected_total", "Calls failed at once by an open (or probing) circuit breaker.",
            [b] { return double(b->rejected()); }, labels);
        h.add_status("breaker:" + name, [b] { return std::string(source::state_name(b->state())); });
    }
}

}  // namespace

guard_rails::~guard_rails() {
    if (admin_server_) admin_server_->stop(std::chrono::milliseconds(0));
}

void guard_rails::watch_listener(server::http_server& server) {
    auto& m = *metrics_;
    m.add_gauge("frost_open_connections", "Client connections open now.",
                [server = &server] { return double(server->stats().open); });
    m.add_gauge("frost_requests_in_flight", "Requests read and not yet answered.",
                [server = &server] { return double(server->stats().in_flight); });
    m.add_counter("frost_connections_total", "Client connections accepted.",
                  [server = &server] { return double(server->stats().accepted); });
    m.add_counter("frost_connections_refused_total", "Connections closed at once: over server.max_connections.",
                  [server = &server] { return double(server->stats().refused); });
    m.add_counter("frost_requests_rejected_total",
                  "Requests refused before routing: size limits, framing, smuggling shapes.",
                  [server = &server] { return double(server->stats().rejected); });
    m.add_counter("frost_requests_abandoned_total",
                  "Requests whose client closed the connection before the answer was written.",
                  [server = &server] { return double(server->stats().abandoned); });
    m.add_counter("frost_connection_timeouts_total", "Connections dropped at a read or write deadline.",
                  [server = &server] { return double(server->stats().timeouts); });
}

std::uint16_t guard_rails::admin_port() const noexcept {
    return admin_server_ ? admin_server_->port() : 0;
}

model::result<std::shared_ptr<auth::request_guard>> install_request_guard(std::shared_ptr<const config::config> cfg,
                                                                          api::service& svc) {
    auto created = auth::request_guard::create(std::move(cfg));
    if (!created) return std::move(created).error();
    std::shared_ptr<auth::request_guard> g = std::move(created).value();
    svc.add_guard([g](api::request& req, const config::endpoint_config& e) { return g->check(req, e); });
    return g;
}

model::result<std::unique_ptr<guard_rails>> install_guard_rails(const std::shared_ptr<const config::config>& cfg,
                                                                api::service& svc, api::worker_pool& workers,
                                                                server::http_server* server,
                                                                const rails_shared* shared) {
    std::unique_ptr<guard_rails> rails(new guard_rails());
    auto guard = install_request_guard(cfg, svc);
    if (!guard) return std::move(guard).error();
    rails->guard_ = std::move(guard).value();
    rails->metrics_ = std::make_shared<observe::metrics>();
    rails->requests_ = shared && shared->metrics ? shared->metrics : rails->metrics_;
    rails->health_ = std::make_shared<observe::health>(svc.sources(), std::chrono::seconds(5));
    if (cfg->server.access_log)
        rails->log_ = shared && shared->log ? shared->log : std::make_shared<observe::access_log>();

    svc.add_observer([m = rails->requests_, h = rails->health_, log = rails->log_](
                         const api::request& req, const api::response& res, const api::request_stats& stats) {
        using seconds = std::chrono::duration<double>;
        m->observe_request(stats.route, res.status, stats.cache, seconds(stats.elapsed()).count());
        if (!stats.source.empty() && stats.query_time.count() > 0) {
            // Only the upstream's own failures count against it; 4xx are the caller's.
            const bool ok = res.status < 500;
            m->observe_query(stats.source, ok, seconds(stats.query_time).count());
            h->record_answer(stats.source, res.status);
        }
        if (log) log->write(req, res, stats);
    });

    auto& m = *rails->metrics_;
    if (auto log = rails->log_) {
        m.add_counter("frost_access_log_dropped_total",
                      "Access log lines dropped because the queue to stdout was full (the writer never waits).",
                      [log] { return double(log->dropped()); });
        m.add_counter("frost_access_log_lines_total", "Access log lines written to stdout.",
                      [log] { return double(log->written()); });
    }
    api::worker_pool* pool = &workers;
    m.add_gauge("frost_worker_queue_depth", "Queries waiting for a worker thread.",
                [pool] { return double(pool->queued()); });
    m.add_gauge("frost_worker_busy", "Worker threads running a query now.", [pool] { return double(pool->busy()); });
    m.add_counter("frost_queries_abandoned_total",
                  "Queries dropped before they started: their client had closed the connection.",
                  [pool] { return double(pool->abandoned()); });
    m.add_counter("frost_queries_expired_total",
                  "Queries dropped before they started: their deadline passed while they waited for a worker.",
                  [pool] { return double(pool->expired()); });
    m.add_counter("frost_queries_interrupted_total",
                  "Queries whose client closed the connection while they ran; the source was told to stop them.",
                  [pool] { return double(pool->interrupted()); });
    m.add_gauge("frost_worker_queue_capacity", "Queries that may wait before new ones get 503.",
                [pool] { return double(pool->capacity()); });
    if (server) rails->watch_listener(*server);
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

    add_cache_and_rollup_gauges(svc, *rails->metrics_, *rails->health_);
    add_breaker_gauges(svc, *rails->metrics_, *rails->health_);

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
    admin->add_route("/metrics", [mp = rails->requests_, own = rails->metrics_](const api::request& req) {
        if (auto refused = observe::refuse_unless_get(req)) return std::move(*refused);
        api::response r;
        r.status = 200;
        r.body = mp->render(own.get());
        r.headers.emplace_back("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        r.headers.emplace_back("Cache-Control", "no-store");
        return r;
    });
    admin->add_route("/livez", [h = rails->health_](const api::request& req) { return h->livez(req); });
    admin->add_route("/readyz", [h = rails->health_](const api::request& req) { return h->readyz(req); });
    if (rails->admin_service_ && !(shared && shared->admin_listener_elsewhere)) {
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
