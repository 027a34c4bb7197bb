#include "source/lazy.hpp"

#include "source/breaker.hpp"

namespace frost::source {

std::string_view state_name(open_state s) noexcept {
    switch (s) {
        case open_state::not_opened:
            return "not opened yet";
        case open_state::open:
            return "open";
        case open_state::failed:
            return "failed to open";
    }
    return "unknown";
}

lazy_source::lazy_source(std::string name, std::string dialect, opener open)
    : name_(std::move(name)), dialect_(std::move(dialect)), open_(std::move(open)) {}

model::result<std::shared_ptr<source>> lazy_source::get() {
    if (auto src = opened()) return src;
    std::lock_guard opening(open_mutex_);
    if (auto src = opened()) return src;  // another call opened it while this one waited
    auto result = open_();
    std::lock_guard lock(mutex_);
    if (!result) {
        last_error_ = result.error().message;
        return std::move(result).error();
    }
    inner_ = std::move(result).value();
    last_error_.clear();
    return inner_;
}

model::result<model::table> lazy_source::run(const query& q) {
    auto src = get();
    if (!src) return std::move(src).error();
    return src.value()->run(q);
}

model::result<model::table> lazy_source::run_detached(const query& q) {
    auto src = get();
    if (!src) return std::move(src).error();
    return src.value()->run_detached(q);
}

model::result<stream_summary> lazy_source::stream(const query& q, row_sink& sink) {
    auto src = get();
    if (!src) return std::move(src).error();
    return src.value()->stream(q, sink);
}

open_state lazy_source::state() const {
    std::lock_guard lock(mutex_);
    if (inner_) return open_state::open;
    return last_error_.empty() ? open_state::not_opened : open_state::failed;
}

std::shared_ptr<source> lazy_source::opened() const {
    std::lock_guard lock(mutex_);
    return inner_;
}

std::string lazy_source::last_error() const {
    std::lock_guard lock(mutex_);
    return last_error_;
}

const lazy_source* as_lazy(const source* src) noexcept {
    if (const auto* b = as_breaker(src)) src = b->inner().get();
    return dynamic_cast<const lazy_source*>(src);
}

}  // namespace frost::source
