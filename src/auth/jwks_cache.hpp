#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "auth/jwt.hpp"
#include "config/config.hpp"
#include "model/deadline.hpp"

namespace frost::auth {

/// Signing keys from a JWKS URL or file, kept fresh by one background thread: refreshed when
/// `Cache-Control: max-age` (else `cache_default`) runs out; an unknown `kid` asks for a refetch
/// that happens at most once per `refetch_interval` (a flood of made-up kids costs one fetch a
/// minute); a failed fetch keeps the last good keys. Fetches are bounded by `fetch_timeout` and
/// 150,000 bytes. Guards never wait for a fetch. Thread-safe.
class jwks_cache {
public:
    /// Loads the keys once (bounded by `fetch_timeout`) and starts the refresher. A failed first
    /// load is not fatal: requests fail closed until a fetch succeeds. `base_dir` resolves a
    /// relative `jwks_file`.
    static std::unique_ptr<jwks_cache> start(const config::jwt_config& cfg, const std::string& base_dir);
    ~jwks_cache();
    jwks_cache(const jwks_cache&) = delete;
    jwks_cache& operator=(const jwks_cache&) = delete;

    /// The keys held now; null before the first successful load.
    [[nodiscard]] std::shared_ptr<const key_set> keys() const;

    /// Asks for an early refetch (a token named an unknown `kid`). Never blocks.
    void request_refetch();

    /// Fetches attempted and failed so far (for metrics).
    [[nodiscard]] std::uint64_t fetches() const noexcept { return fetches_; }
    [[nodiscard]] std::uint64_t failures() const noexcept { return failures_; }

private:
    jwks_cache(config::jwt_config cfg, std::string file);
    /// One fetch and parse; on success replaces the keys and returns the lifetime to keep them.
    std::optional<std::chrono::milliseconds> load();
    void run();

    config::jwt_config cfg_;
    std::string file_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::shared_ptr<const key_set> keys_;
    bool stopping_ = false;
    bool refetch_wanted_ = false;
    model::clock::time_point last_attempt_{};
    model::clock::time_point next_refresh_{};
    std::atomic<std::uint64_t> fetches_{0};
    std::atomic<std::uint64_t> failures_{0};
    std::thread thread_;
};

/// The `max-age` (or `s-maxage`) of a Cache-Control value; zero for `no-cache`, `no-store` or
/// `must-revalidate` without max-age; nullopt when it says nothing about lifetime.
[[nodiscard]] std::optional<std::chrono::seconds> cache_lifetime(std::string_view cache_control);

}  // namespace frost::auth
