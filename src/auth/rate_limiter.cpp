#include "auth/rate_limiter.hpp"

#include <cmath>
#include <functional>

namespace frost::auth {

std::optional<std::chrono::milliseconds> rate_limiter::take(std::string_view key,
                                                            const config::rate_limit_config& limit,
                                                            model::clock::time_point now) {
    if (!(limit.per_second > 0)) return std::nullopt;
    auto& s = shards_[std::hash<std::string_view>{}(key) % shard_count];
    std::lock_guard lock(s.mutex);
    auto it = s.buckets.find(std::string(key));
    if (it == s.buckets.end()) {
        if (s.buckets.size() >= max_per_shard_) prune(s, limit, now);
        it = s.buckets.emplace(std::string(key), bucket{limit.burst, now}).first;
    }
    auto& b = it->second;
    const double elapsed = std::chrono::duration<double>(now - b.updated).count();
    if (elapsed > 0) {
        b.tokens = std::min(limit.burst, b.tokens + elapsed * limit.per_second);
        b.updated = now;
    }
    if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        return std::nullopt;
    }
    const double wait_s = (1.0 - b.tokens) / limit.per_second;
    return std::chrono::milliseconds(static_cast<long long>(std::ceil(wait_s * 1000.0)));
}

void rate_limiter::prune(shard& s, const config::rate_limit_config& limit, model::clock::time_point now) {
    // A bucket that has refilled completely carries no state: forget it.
    std::erase_if(s.buckets, [&](const auto& kv) {
        const double elapsed = std::chrono::duration<double>(now - kv.second.updated).count();
        return kv.second.tokens + elapsed * limit.per_second >= limit.burst;
    });
    // Still full of active callers: drop the oldest half rather than grow without bound.
    if (s.buckets.size() >= max_per_shard_) {
        std::vector<model::clock::time_point> times;
        times.reserve(s.buckets.size());
        for (const auto& kv : s.buckets) times.push_back(kv.second.updated);
        std::nth_element(times.begin(), times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2), times.end());
        const auto cut = times[times.size() / 2];
        std::erase_if(s.buckets, [cut](const auto& kv) { return kv.second.updated <= cut; });
    }
}

std::size_t rate_limiter::size() const {
    std::size_t n = 0;
    for (const auto& s : shards_) {
        std::lock_guard lock(s.mutex);
        n += s.buckets.size();
    }
    return n;
}

}  // namespace frost::auth
