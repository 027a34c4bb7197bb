#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/response.hpp"
#include "api/service.hpp"

namespace frost::observe {

/// The 405 a read-only built-in route (`/livez`, `/readyz`, `/metrics`) gives a method other
/// than GET or HEAD, with `Allow`; nullopt for GET and HEAD.
[[nodiscard]] std::optional<api::response> refuse_unless_get(const api::request& req);

/// Liveness and readiness. `/livez` says the process answers. `/readyz` says it can serve:
/// the config loaded, every local (DuckDB) source answers a cheap probe query (`select 1`, run
/// by a background thread, never on the I/O thread), real queries on a source are not all
/// failing (deadline misses do not count), and every registered check (rollups, JWT keys)
/// passes. Remote sources (Snowflake) are never probed, so health checks do not keep a billed
/// warehouse awake: their real queries speak for them. Thread-safe.
class health {
public:
    /// A readiness check: nullopt when fine, else why not (short, no secrets). Must be fast.
    using check = std::function<std::optional<std::string>()>;

    /// Probes each source once now (bounded by `probe_timeout`), then every `interval` on a
    /// background thread. `sources` must outlive this object.
    health(const api::source_map& sources, std::chrono::milliseconds interval,
           std::chrono::milliseconds probe_timeout = std::chrono::milliseconds(2000));
    ~health();
    health(const health&) = delete;
    health& operator=(const health&) = delete;

    /// Adds a named readiness check (the rollup store registers one). Call before serving.
    void add_check(std::string name, check c);

    /// A state shown in `/readyz`'s checks that never makes it unready (a source's circuit
    /// breaker: every instance sees the same warehouse, and taking them all out of rotation would
    /// stop the rollup routes that still answer). Must be fast. Call before serving.
    using status = std::function<std::string()>;
    void add_status(std::string name, status s);

    /// Feeds the outcome of a real query: `failures_to_unready` upstream failures in a row with
    /// no success make the source unready until a query succeeds or `failure_memory` passes
    /// without a new failure (so a source that recovers while drained of traffic comes back).
    void record_query(std::string_view source, bool ok);
    /// Feeds the HTTP status of an answer that ran a query on `source`. Only the source's own
    /// failures count against it (5xx other than 504): a deadline miss (504) says the instance
    /// is busy, not that the source is broken, and is left to metrics. Taking a busy instance
    /// out of rotation would push its load onto the others (issue 15, defect 8); a source that
    /// really hangs fails its own probe, which is not queued behind user work.
    void record_answer(std::string_view source, int status);

    [[nodiscard]] api::response livez() const;
    [[nodiscard]] api::response readyz() const;
    /// The routes as served: GET and HEAD only, anything else 405 with `Allow`.
    [[nodiscard]] api::response livez(const api::request& req) const;
    [[nodiscard]] api::response readyz(const api::request& req) const;
    [[nodiscard]] bool ready() const;

    static constexpr int failures_to_unready = 5;
    static constexpr std::chrono::seconds failure_memory{30};

private:
    struct source_state {
        std::string probe_error;  ///< empty when the last probe passed
        bool probed = false;
        int failures_in_row = 0;
        std::chrono::steady_clock::time_point last_failure{};
    };
    void probe_all();
    /// Each failing part, by name.
    std::map<std::string, std::string> problems() const;

    const api::source_map& sources_;
    std::chrono::milliseconds interval_;
    std::chrono::milliseconds probe_timeout_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::map<std::string, source_state, std::less<>> states_;
    std::vector<std::pair<std::string, check>> checks_;
    std::vector<std::pair<std::string, status>> statuses_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace frost::observe
