#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "api/request.hpp"
#include "api/response.hpp"
#include "auth/api_keys.hpp"
#include "auth/jwks_cache.hpp"
#include "auth/rate_limiter.hpp"
#include "config/config.hpp"

namespace frost::auth {

/// Counters of what the guard refused, for metrics.
struct guard_counters {
    std::atomic<std::uint64_t> unauthorized{0};  ///< 401
    std::atomic<std::uint64_t> forbidden{0};     ///< 403
    std::atomic<std::uint64_t> rate_limited{0};  ///< 429
    std::atomic<std::uint64_t> unknown_kid{0};
};

/// Caller authentication (API keys, JWT) and per-caller rate limits for configured endpoints,
/// as one `api::guard`: identify the caller, check scope, bind claims, take a token.
/// Answers 401 (with `WWW-Authenticate`), 403, 429 (with `Retry-After`) or 503 when no JWT keys
/// could be loaded yet. Credentials never reach logs or error messages. Thread-safe.
class request_guard {
public:
    /// Fails with `config_error` when an endpoint needs a kind of credential the config does
    /// not provide (JWT without `auth.jwt`, API keys with none configured).
    static model::result<std::unique_ptr<request_guard>> create(std::shared_ptr<const config::config> cfg);

    /// The check itself (see `api::guard`).
    [[nodiscard]] std::optional<api::response> check(api::request& req, const config::endpoint_config& endpoint);

    [[nodiscard]] const guard_counters& counters() const noexcept { return counters_; }
    [[nodiscard]] const jwks_cache* jwks() const noexcept { return jwks_.get(); }
    [[nodiscard]] std::size_t rate_buckets() const { return limiter_.size(); }

    /// The client address rate limits use: the peer, or the last X-Forwarded-For hop when
    /// `auth.trust_forwarded_for` is on.
    [[nodiscard]] std::string client_ip(const api::request& req) const;

private:
    explicit request_guard(std::shared_ptr<const config::config> cfg);

    std::shared_ptr<const config::config> cfg_;
    api_key_store keys_;
    std::unique_ptr<jwks_cache> jwks_;
    rate_limiter limiter_;
    guard_counters counters_;
};

}  // namespace frost::auth
