#pragma once

#include <array>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "config/config.hpp"
#include "model/deadline.hpp"

namespace frost::auth {

/// Token buckets by caller key (e.g. `endpoint|key:name` or `endpoint|ip:1.2.3.4`). Each bucket
/// holds up to `burst` tokens and refills at `per_second`; a request takes one. Memory is
/// bounded: past `max_buckets`, buckets that are full again (indistinguishable from new ones)
/// are dropped. Thread-safe (sharded locks).
class rate_limiter {
public:
    explicit rate_limiter(std::size_t max_buckets = 200'000) : max_per_shard_(max_buckets / shard_count + 1) {}

    /// Takes a token from `key`'s bucket. nullopt: allowed. Otherwise the wait until the next
    /// token (what `Retry-After` says).
    [[nodiscard]] std::optional<std::chrono::milliseconds> take(std::string_view key,
                                                                const config::rate_limit_config& limit,
                                                                model::clock::time_point now);

    /// Buckets held now.
    [[nodiscard]] std::size_t size() const;

private:
    static constexpr std::size_t shard_count = 16;
    struct bucket {
        double tokens;
        model::clock::time_point updated;
    };
    struct shard {
        mutable std::mutex mutex;
        std::unordered_map<std::string, bucket> buckets;
    };
    void prune(shard& s, const config::rate_limit_config& limit, model::clock::time_point now);

    std::size_t max_per_shard_;
    std::array<shard, shard_count> shards_;
};

}  // namespace frost::auth
