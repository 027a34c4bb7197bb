#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "model/error.hpp"

namespace frost::snapshot {

/// One set of AWS credentials. `expiration` is the epoch for long-lived keys.
struct aws_credentials {
    std::string access_key_id;
    std::string secret_access_key;
    std::string session_token;  ///< temporary credentials only
    std::chrono::system_clock::time_point expiration{};
    std::string origin;  ///< "environment", "container" or "web identity" (for logs; never secret)
    [[nodiscard]] bool expires() const noexcept { return expiration != std::chrono::system_clock::time_point{}; }
};

/// Where the credentials chain looks: the process environment in production; tests pass
/// their own lookup and loopback endpoints.
struct credential_sources {
    std::function<std::string(std::string_view)> env;  ///< reads a variable ("" when unset)
    std::string ecs_base = "http://169.254.170.2";     ///< prefix of AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
    std::string region = "us-east-1";                  ///< for STS's regional endpoint
    std::chrono::milliseconds timeout{5'000};
    /// The process environment: `getenv`, region from AWS_REGION / AWS_DEFAULT_REGION.
    static credential_sources from_environment();
};

/// Parses the container endpoint's JSON answer (`AccessKeyId`, `SecretAccessKey`, `Token`,
/// `Expiration`). Never throws; the error never quotes the body (it holds secrets).
[[nodiscard]] model::result<aws_credentials> parse_container_credentials(std::string_view json);

/// Parses STS's `AssumeRoleWithWebIdentityResponse` XML. Never throws; the error quotes at
/// most STS's own `<Code>` and `<Message>`.
[[nodiscard]] model::result<aws_credentials> parse_sts_credentials(std::string_view xml);

/// An ISO 8601 UTC time ("2026-12-02T01:00:00Z", fractions allowed) as a time point.
[[nodiscard]] std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text);

/// The standard AWS credentials chain, in order: environment, container endpoint (ECS
/// relative URI, or full URI with an authorization token or token file), web identity (STS
/// AssumeRoleWithWebIdentity). Temporary credentials are cached and fetched again
/// `refresh_margin` before they expire. Thread-safe. Messages never contain a secret.
class credentials_chain {
public:
    explicit credentials_chain(credential_sources sources,
                               std::chrono::seconds refresh_margin = std::chrono::minutes(5));

    /// The current credentials, fetching or refreshing them when needed. Fails when no link of
    /// the chain is configured, or the configured one fails.
    [[nodiscard]] model::result<aws_credentials> get();

private:
    model::result<aws_credentials> resolve();
    model::result<aws_credentials> from_container();
    model::result<aws_credentials> from_web_identity();

    credential_sources sources_;
    std::chrono::seconds refresh_margin_;
    std::mutex mutex_;
    std::optional<aws_credentials> cached_;
};

}  // namespace frost::snapshot
