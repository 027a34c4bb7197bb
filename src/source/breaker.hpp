#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "source/source.hpp"

namespace frost::source {

/// Where a circuit breaker stands. The numbers are what `/metrics` exports.
enum class breaker_state { closed = 0, half_open = 1, open = 2 };

/// The state's name as `/readyz` and the logs show it: closed, half-open, open.
[[nodiscard]] std::string_view state_name(breaker_state s) noexcept;

/// A circuit breaker around another source (Envoy's circuit breaking and outlier detection,
/// per source). Closed, it passes every call through and counts availability failures: the
/// source unreachable (`source_unavailable`) or past the deadline (`timeout`); SQL the source
/// rejects, too many rows, and calls whose client left do not count, the source answered them.
/// It opens after `failures` such failures in a row, or when at least `min_calls` calls in the
/// last `window` failed at a share of `error_ratio` or more. Open, every call fails at once
/// with `source_unavailable` and a `retry_after` of the rest of the cool-down, so a warehouse
/// outage costs callers microseconds instead of the request deadline. After `cool_down` the
/// first call is let through as the one probe (half-open; the others still fail at once): an
/// answer closes the breaker, an availability failure opens it for another cool-down.
/// Thread-safe: `run` is called concurrently from the worker pool and rollup refreshes.
class breaker final : public source {
public:
    /// The time source; injected by tests for a deterministic clock.
    using clock_fn = std::function<model::clock::time_point()>;

    /// Wraps `inner` (not null), which the breaker shares. `now` defaults to the steady clock.
    breaker(std::shared_ptr<source> inner, config::breaker_config cfg, clock_fn now = {});

    [[nodiscard]] std::string_view name() const override { return inner_->name(); }
    [[nodiscard]] std::string_view dialect() const override { return inner_->dialect(); }
    [[nodiscard]] model::result<model::table> run(const query& q) override;
    [[nodiscard]] model::result<model::table> run_detached(const query& q) override;
    /// A streamed export counts like a call: a source that fails mid-stream failed.
    [[nodiscard]] model::result<stream_summary> stream(const query& q, row_sink& sink) override;

    /// The state as of the last call (an open breaker turns half-open when a call arrives after
    /// its cool-down: that call is the probe).
    [[nodiscard]] breaker_state state() const;
    /// Times the breaker moved into `to` since it was created.
    [[nodiscard]] std::uint64_t transitions(breaker_state to) const noexcept;
    /// Calls refused at once because it was open (or half-open with its probe out).
    [[nodiscard]] std::uint64_t rejected() const noexcept { return rejected_.load(); }
    /// The source it guards.
    [[nodiscard]] const std::shared_ptr<source>& inner() const noexcept { return inner_; }
    [[nodiscard]] const config::breaker_config& settings() const noexcept { return cfg_; }

    /// What one call's result says of the source.
    enum class outcome { answered, failed, unknown };

private:
    /// Calls and failures of one slice of the window (a tenth of it).
    struct bucket {
        std::int64_t slice = -1;
        std::uint32_t calls = 0;
        std::uint32_t failures = 0;
    };
    /// Whether a call may go through; on refusal, the error to answer. `epoch` receives the
    /// state generation the call was admitted in, `probe` whether it is the half-open probe.
    [[nodiscard]] std::optional<model::error> admit(std::uint64_t& epoch, bool& probe);
    void record(outcome result, std::uint64_t epoch, bool probe);
    template <typename Call>
    auto guarded(const query& q, Call&& call) -> decltype(call());

    void move_to(breaker_state to, model::clock::time_point now);  ///< holds `mutex_`
    void count(bool failed, model::clock::time_point now);         ///< holds `mutex_`
    [[nodiscard]] std::int64_t slice_of(model::clock::time_point now) const;

    std::shared_ptr<source> inner_;
    config::breaker_config cfg_;
    clock_fn now_;

    mutable std::mutex mutex_;
    breaker_state state_ = breaker_state::closed;
    std::uint64_t epoch_ = 0;  ///< bumped at every transition: late outcomes of an older state are ignored
    unsigned failures_in_row_ = 0;
    bool probe_out_ = false;
    model::clock::time_point opened_at_{};
    std::array<bucket, 10> window_{};

    std::array<std::atomic<std::uint64_t>, 3> transitions_{};
    std::atomic<std::uint64_t> rejected_{0};
};

/// `src` behind a breaker when `cfg.enabled`, else `src` itself.
[[nodiscard]] std::shared_ptr<source> with_breaker(std::shared_ptr<source> src, const config::breaker_config& cfg);

/// The breaker `src` is, or null when it is not behind one.
[[nodiscard]] const breaker* as_breaker(const source* src) noexcept;

}  // namespace frost::source
