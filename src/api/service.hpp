#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "api/formats.hpp"
#include "api/pagination.hpp"
#include "api/request.hpp"
#include "api/response.hpp"
#include "api/stream_export.hpp"
#include "api/worker_pool.hpp"
#include "cache/response_cache.hpp"
#include "cache/single_flight.hpp"
#include "config/config.hpp"
#include "source/source.hpp"

namespace frost::rollup {
class serving_store;
}

namespace frost::api {

/// The sources an API serves from, by configured name (the config's `sources:`; the
/// serving store of the rollups is passed apart, typed).
using source_map = source::source_map;

/// What happened to one request, for observers (metrics, access logs, EMF).
struct request_stats {
    std::string_view route;               ///< the matched route's path, or `(unmatched)`
    model::clock::time_point started;     ///< when `handle` was called
    model::clock::duration query_time{};  ///< time spent in the source, zero when none ran
    std::string_view cache = "none";      ///< cache outcome: none, hit, miss, stale, bypass
    std::string_view source;              ///< the source queried, empty when none ran
    /// When the answer was made: set once by the service as it replies, so Server-Timing, the
    /// metrics and the access log share one clock read. Zero before.
    model::clock::time_point answered{};

    /// From `started` to `answered` (to now while no answer is made yet).
    [[nodiscard]] model::clock::duration elapsed() const {
        return (answered == model::clock::time_point{} ? model::clock::now() : answered) - started;
    }
};

/// A route answered by code rather than config (OpenAPI, dashboard, metrics, health). Runs
/// on the I/O thread: it must be fast and must not block.
using builtin_handler = std::function<response(const request&)>;

/// A check before an endpoint's query (auth, rate limits): nullopt lets the request through,
/// a response stops it. It may set the request's `principal` and `fixed_params`. Runs on the
/// I/O thread; must not block.
using guard = std::function<std::optional<response>(request&, const config::endpoint_config&)>;

/// Told of every answered request, on the thread that completes it. Must be thread-safe.
using observer = std::function<void(const request&, const response&, const request_stats&)>;

/// The transport-free API core: routes a request to its endpoint, validates and binds its
/// parameters, runs the query on the worker pool and renders the JSON answer. The HTTP
/// server, the Lambda loop and tests all call `handle`. Thread-safe.
class service {
public:
    /// Resolves every endpoint's source and SQL. Endpoints that read a rollup run on `rollups`,
    /// the serving store (null when the config declares no rollups). Fails when the config
    /// names a source that is not in `sources`, reads a rollup with no store, or lacks SQL for
    /// its dialect. `workers` must outlive the service.
    /// Waits for the streamed exports still running on the workers: they read this service's
    /// routes after their answer's head went out, so they must finish before it goes.
    ~service();
    service(const service&) = delete;
    service& operator=(const service&) = delete;

    static model::result<std::unique_ptr<service>> create(std::shared_ptr<const config::config> cfg, source_map sources,
                                                          worker_pool& workers,
                                                          std::shared_ptr<rollup::serving_store> rollups = nullptr);

    /// Answers `req`. `done` is called exactly once: on the calling thread when the answer
    /// needs no query (errors, static routes), otherwise on a worker thread. Never throws: an
    /// exception anywhere on the way (a guard, a built-in route, binding, rendering) is logged
    /// with the request id and answered with `internal_error_response`; an observer's exception
    /// is logged and does not change the answer.
    void handle(request req, std::function<void(response)> done);

    /// Synchronous convenience for tools and tests: blocks until the answer is ready.
    [[nodiscard]] response handle_sync(request req);

    [[nodiscard]] const config::config& configuration() const noexcept { return *cfg_; }
    /// The sources it serves from (health probes, metrics).
    [[nodiscard]] const source_map& sources() const noexcept { return sources_; }

    /// Registers a built-in route; a config endpoint with the same path wins. Call before
    /// serving starts (not thread-safe).
    void add_route(std::string path, builtin_handler handler);
    /// Adds a guard, run in order before every configured endpoint. Call before serving.
    void add_guard(guard g);
    /// Adds an observer. Call before serving.
    void add_observer(observer o);

    /// The response cache (for metrics and tests).
    [[nodiscard]] const cache::response_cache& response_cache() const noexcept { return *cache_; }
    /// Misses that waited for another request's query instead of running their own.
    [[nodiscard]] std::uint64_t collapsed_misses() const { return flights_.collapsed(); }
    /// The serving database of the rollups, or null when the config declares none.
    [[nodiscard]] rollup::serving_store* serving_store() const noexcept { return serving_.get(); }

private:
    struct route {
        const config::endpoint_config* endpoint = nullptr;
        source::source* src = nullptr;
        std::string sql;
        std::shared_ptr<const std::string> static_body;
        rollup::serving_store* rollups = nullptr;  ///< set when the endpoint reads a rollup
    };

    /// One request on its way through the pipeline, shared by the steps and by the worker or
    /// single-flight callback that finishes it, so the last-resort catch can always answer it.
    struct exchange;
    using exchange_ptr = std::shared_ptr<exchange>;

    /// What one query produced, handed to every request waiting for it.
    struct cached_outcome {
        std::shared_ptr<const cache::entry> entry;  ///< null on failure
        std::optional<model::error> error;
        model::clock::duration query_time{};
    };
    /// How one request wants its rows rendered, chosen before the query (docs/formats.md).
    struct render_plan {
        output_format format = output_format::json;
        /// Set on a paginated endpoint: the page size, the cursor's context, the request target
        /// (for the next page's link).
        struct page {
            std::size_t limit = 0;
            std::string context;
            std::string target;
        };
        std::optional<page> paging;
    };
    /// A rendered answer with the headers that describe it (content type, data version).
    struct answer {
        int status = 200;
        std::string body;
        cache::header_list headers;
        model::clock::duration query_time{};
        std::optional<model::error> error;
        bool deferred = false;  ///< `inline_only` and the answer needs a query: nothing was done
    };

    // The pipeline, in request order (docs/architecture.md): route, admit (method and guards),
    // bind, then a static answer, the cache with single-flight, or a live query; each step
    // either answers the exchange or hands it to the next.
    void dispatch(const exchange_ptr& x);
    [[nodiscard]] const route* find_route(std::string_view path) const;
    void serve_builtin(exchange& x, const std::string& path);
    [[nodiscard]] bool admit(exchange& x, const route& rt);
    void serve_cached(const exchange_ptr& x, const route& rt, std::vector<source::parameter> params,
                      const render_plan& plan);
    void serve_live(const exchange_ptr& x, const route& rt, std::vector<source::parameter> params,
                    const render_plan& plan);
    /// A `stream: true` endpoint: the rows go out as the source produces them (never cached).
    void serve_stream(const exchange_ptr& x, const route& rt, std::vector<source::parameter> params, export_format f);
    /// Posts the fill of `key` to a worker: `fill`, or, given an answer already `rendered`,
    /// only `store_fill`.
    void launch_fill(const route& rt, const std::string& key, std::vector<source::parameter> params,
                     model::deadline deadline, model::clock::time_point started, std::string request_id,
                     const render_plan& plan, std::optional<answer> rendered = std::nullopt);
    /// One cache fill: runs the query, then `store_fill`. With `inline_only` (an I/O thread) it
    /// takes only an answer from prefix sums, and returns false, having done nothing, when the
    /// query needs a worker; an answer over 64 KiB it hands to a worker to store.
    bool fill(const route& rt, const std::string& key, const std::vector<source::parameter>& params,
              model::deadline deadline, model::clock::time_point started, std::string_view request_id,
              const render_plan& plan, bool inline_only);
    /// Stores a fill's answer in the cache and completes the key's flight, which answers every
    /// caller waiting on it.
    void store_fill(const route& rt, const std::string& key, answer a, const render_plan& plan,
                    std::string_view request_id);
    /// Runs the route's query and renders its answer. `inline_only` (on an I/O thread): only a
    /// rollup read answered from its prefix sums, in microseconds; anything that would query
    /// returns `deferred` at once, for a worker.
    answer run_query(const route& rt, const std::vector<source::parameter>& params, std::string_view request_id,
                     model::deadline deadline, model::clock::time_point started, std::stop_token stop,
                     const render_plan& plan, bool inline_only = false) const;

    /// Sends `res` unless the exchange was answered already: Server-Timing, observers, `done`.
    void reply(exchange& x, response res) const;
    /// An error as this server shows it to callers (`server.expose_errors`).
    void reply_error(exchange& x, const model::error& e) const;
    /// Runs one step behind the last-resort catch: an exception becomes a logged 500.
    template <typename Step>
    void guarded(exchange& x, Step&& step) const;
    void fail(exchange& x, const std::exception_ptr& failure) const;

    /// Streamed exports posted and not yet finished or dropped (see `~service`).
    std::mutex streams_mutex_;
    std::condition_variable streams_done_;
    std::size_t streams_running_ = 0;

    service(std::shared_ptr<const config::config> cfg, source_map sources, worker_pool& workers)
        : cfg_(std::move(cfg)), sources_(std::move(sources)), workers_(workers) {}

    std::shared_ptr<const config::config> cfg_;
    source_map sources_;
    worker_pool& workers_;

    std::unordered_map<std::string, route> routes_;
    std::unordered_map<std::string, builtin_handler> builtins_;
    std::vector<guard> guards_;
    std::vector<observer> observers_;
    std::unique_ptr<cache::response_cache> cache_;
    cache::single_flight<cached_outcome> flights_;
    std::shared_ptr<rollup::serving_store> serving_;
    std::unique_ptr<cursor_signer> cursors_;  ///< set when an endpoint paginates
};

/// A JSON response with the seed's headers (content type, CORS).
[[nodiscard]] response json_response(int status, std::string body);

/// Sets `Server-Timing` (total, query, cache outcome) from what `stats` recorded so far.
void add_server_timing(response& res, const request_stats& stats);

/// The error response for `e`, with `Retry-After` on 503s.
[[nodiscard]] response error_response(const model::error& e);

/// The error response a caller sees for `e` on request `request_id`. A server-side error (5xx)
/// carries the request id in its body, and unless `expose_detail` its message is the code's
/// generic one (`model::generic_message`) without details or hint: the original text, which may
/// name SQL, tables or paths, belongs in the log under the same id. The caller's own errors
/// (4xx) are unchanged: they say what to fix.
[[nodiscard]] response error_response(const model::error& e, std::string_view request_id, bool expose_detail);

/// The answer to a request that failed unexpectedly (an exception): 500 `FR500` with the
/// request id. The HTTP path and the Lambda loop both answer with it.
[[nodiscard]] response internal_error_response(std::string_view request_id);

/// The answer to `req` from a stored entry (`cache::reply_from`): 304 when `If-None-Match`
/// matches, else the gzip or identity form. Shares the entry's bytes.
[[nodiscard]] response cached_response(const cache::entry& e, const request& req);

}  // namespace frost::api
