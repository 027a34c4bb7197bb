#include "source/breaker.hpp"

#include <spdlog/spdlog.h>

#include <cmath>

namespace frost::source {

namespace {

// What a call's result says of the source: it answered (rows, or SQL it rejected, or too many
// rows), it could not be used (unreachable, past the deadline), or nothing (the client left and
// the call was stopped: that ends as `timeout` too, through no fault of the source).
template <typename T>
breaker::outcome judge(const model::result<T>& r, const query& q) {
    if (r) return breaker::outcome::answered;
    if (q.stop.stop_requested()) return breaker::outcome::unknown;
    const auto code = r.error().code;
    if (code == model::error_code::source_unavailable || code == model::error_code::timeout)
        return breaker::outcome::failed;
    return breaker::outcome::answered;
}

std::size_t index_of(breaker_state s) {
    return static_cast<std::size_t>(s);
}

}  // namespace

std::string_view state_name(breaker_state s) noexcept {
    switch (s) {
        case breaker_state::closed:
            return "closed";
        case breaker_state::half_open:
            return "half-open";
        case breaker_state::open:
            return "open";
    }
    return "closed";
}

breaker::breaker(std::shared_ptr<source> inner, config::breaker_config cfg, clock_fn now)
    : inner_(std::move(inner)), cfg_(cfg), now_(now ? std::move(now) : clock_fn([] { return model::clock::now(); })) {}

breaker_state breaker::state() const {
    std::lock_guard lock(mutex_);
    return state_;
}

std::uint64_t breaker::transitions(breaker_state to) const noexcept {
    return transitions_[index_of(to)].load();
}

std::int64_t breaker::slice_of(model::clock::time_point now) const {
    const auto slice = std::max<std::int64_t>(1, cfg_.window.count() / static_cast<std::int64_t>(window_.size()));
    return std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() / slice;
}

void breaker::move_to(breaker_state to, model::clock::time_point now) {
    if (to == state_) return;
    const auto from = state_;
    state_ = to;
    ++epoch_;
    ++transitions_[index_of(to)];
    probe_out_ = false;
    if (to == breaker_state::open) {
        opened_at_ = now;
        spdlog::warn("source {}: circuit breaker open ({} -> open) for {} ms: calls fail at once until a probe passes",
                     inner_->name(), state_name(from), cfg_.cool_down.count());
    } else if (to == breaker_state::closed) {
        failures_in_row_ = 0;
        window_.fill({});
        spdlog::info("source {}: circuit breaker closed: the probe call was answered", inner_->name());
    } else {
        spdlog::info("source {}: circuit breaker half-open: one probe call goes through", inner_->name());
    }
}

void breaker::count(bool failed, model::clock::time_point now) {
    const auto slice = slice_of(now);
    auto& b = window_[static_cast<std::size_t>(slice) % window_.size()];
    if (b.slice != slice) b = {slice, 0, 0};
    ++b.calls;
    if (failed) ++b.failures;
}

std::optional<model::error> breaker::admit(std::uint64_t& epoch, bool& probe) {
    const auto now = now_();
    std::lock_guard lock(mutex_);
    probe = false;
    if (state_ == breaker_state::open && now - opened_at_ >= cfg_.cool_down) move_to(breaker_state::half_open, now);
    if (state_ == breaker_state::half_open && !probe_out_) {
        probe_out_ = true;
        probe = true;
    }
    epoch = epoch_;
    if (state_ == breaker_state::closed || probe) return std::nullopt;
    ++rejected_;
    const auto left = state_ == breaker_state::open ? cfg_.cool_down - (now - opened_at_) : cfg_.cool_down;
    const auto seconds = std::chrono::duration<double>(left).count();
    model::error e{model::error_code::source_unavailable,
                   "source " + std::string(inner_->name()) + " is unavailable: its circuit breaker is " +
                       std::string(state_name(state_)) + " after repeated failures",
                   {},
                   "retry after the cool-down"};
    e.retry_after = std::chrono::seconds(std::max<long long>(1, static_cast<long long>(std::ceil(seconds))));
    return e;
}

void breaker::record(outcome result, std::uint64_t epoch, bool probe) {
    const auto now = now_();
    std::lock_guard lock(mutex_);
    if (epoch != epoch_) return;  // admitted under an older state: the probe or the reopening decides now
    if (probe) {
        if (result == outcome::unknown) {
            probe_out_ = false;  // the next call probes instead
            return;
        }
        move_to(result == outcome::failed ? breaker_state::open : breaker_state::closed, now);
        return;
    }
    if (state_ != breaker_state::closed || result == outcome::unknown) return;
    const bool failed = result == outcome::failed;
    count(failed, now);
    failures_in_row_ = failed ? failures_in_row_ + 1 : 0;
    if (!failed) return;
    if (failures_in_row_ >= cfg_.failures) return move_to(breaker_state::open, now);
    const auto current = slice_of(now);
    std::uint64_t calls = 0, failures = 0;
    for (const auto& b : window_) {
        if (b.slice < 0 || current - b.slice >= static_cast<std::int64_t>(window_.size())) continue;
        calls += b.calls;
        failures += b.failures;
    }
    if (calls >= cfg_.min_calls && static_cast<double>(failures) >= cfg_.error_ratio * static_cast<double>(calls))
        move_to(breaker_state::open, now);
}

template <typename Call>
auto breaker::guarded(const query& q, Call&& call) -> decltype(call()) {
    std::uint64_t epoch = 0;
    bool probe = false;
    if (auto refused = admit(epoch, probe)) return std::move(*refused);
    try {
        auto r = std::forward<Call>(call)();
        record(judge(r, q), epoch, probe);
        return r;
    } catch (...) {
        // A source that throws has not said whether it is up; a probe must not stay out forever.
        record(outcome::unknown, epoch, probe);
        throw;
    }
}

model::result<model::table> breaker::run(const query& q) {
    return guarded(q, [&] { return inner_->run(q); });
}

model::result<model::table> breaker::run_detached(const query& q) {
    return guarded(q, [&] { return inner_->run_detached(q); });
}

model::result<stream_summary> breaker::stream(const query& q, row_sink& sink) {
    return guarded(q, [&] { return inner_->stream(q, sink); });
}

std::shared_ptr<source> with_breaker(std::shared_ptr<source> src, const config::breaker_config& cfg) {
    if (!cfg.enabled || !src) return src;
    return std::make_shared<breaker>(std::move(src), cfg);
}

const breaker* as_breaker(const source* src) noexcept {
    return dynamic_cast<const breaker*>(src);
}

}  // namespace frost::source
