#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace frost::config {

/// How Frost proves who it is to Snowflake (docs/snowflake.md).
enum class snowflake_auth {
    key_pair,  ///< RS256 JWT signed with the user's private key (`KEYPAIR_JWT`)
    oauth,     ///< an OAuth access token (`OAUTH`)
    pat,       ///< a programmatic access token (`PROGRAMMATIC_ACCESS_TOKEN`)
};

/// A `snowflake` source's settings, parsed and checked once, at config load: the file's keys,
/// then the `<env_prefix><KEY>` environment overrides (`apply_environment`). The key and token
/// files named by `private_key_path` and `token_path` are read when the source opens, into
/// `private_key_pem` and `token`. Holds secrets (`private_key_pem`, `passphrase`, `token`):
/// never log or print it whole.
struct snowflake_config {
    std::string account;  ///< as configured, e.g. `myorg-myaccount` or `xy12345.us-east-2.aws`
    std::string user;
    std::string base_url;  ///< scheme + host (+ port), no trailing slash; from `host` or the account
    std::string database;
    std::string schema;
    std::string warehouse;
    std::string role;  ///< empty: the user's default role

    snowflake_auth auth = snowflake_auth::key_pair;
    std::string authenticator;     ///< as written (empty: snowflake_jwt), for messages
    std::string private_key_pem;   ///< secret; `\n` written as two characters already unescaped
    std::string private_key_path;  ///< read at open into `private_key_pem`
    std::string passphrase;        ///< secret; for an encrypted PKCS#8 key
    std::string token;             ///< secret; OAuth or PAT
    std::string token_path;        ///< read at open into `token`

    std::chrono::seconds statement_timeout{60};  ///< the body's `timeout`, enforced by Snowflake
    std::chrono::seconds jwt_lifetime{3540};     ///< 59 min: Snowflake honours at most 1 h
    std::chrono::seconds jwt_renew_before{300};  ///< renew this long before expiry
    std::chrono::milliseconds poll_initial{50};  ///< first wait between status polls
    std::chrono::milliseconds poll_max{2000};    ///< polls back off up to this
    std::chrono::milliseconds retry_base{250};   ///< full-jitter exponential backoff base
    std::chrono::milliseconds retry_cap{8000};   ///< and cap (always clipped to the deadline)
    std::chrono::milliseconds connect_timeout{10000};
    std::chrono::milliseconds cancel_timeout{2000};  ///< budget of the one /cancel call at the deadline
    unsigned max_attempts = 6;                       ///< per HTTP exchange, first try included
    unsigned partition_parallelism = 4;              ///< partitions fetched at once
    std::size_t max_response_bytes = std::size_t{512} * 1024 * 1024;
    std::string user_agent = "frost/0.1";

    std::string env_prefix = "SNOWFLAKE_";  ///< environment overrides are `<env_prefix><KEY>`
    /// True once the environment is applied and the whole is checked (`resolve_snowflake`).
    bool resolved = false;
};

/// The keys a `snowflake` source accepts, in documentation order.
[[nodiscard]] std::span<const std::string_view> snowflake_keys();

/// Parses one key's value into `cfg`: the one parser of Snowflake settings, used for the file's
/// keys and for their environment overrides. An empty value leaves the key unset. Returns what
/// is wrong (never the value itself: it may be a secret), or nullopt.
[[nodiscard]] std::optional<std::string> set_snowflake_key(snowflake_config& cfg, std::string_view key,
                                                           const std::string& value);

/// The API base URL for an account when no host is configured:
/// `https://<account>.snowflakecomputing.com` (lower case; docs/snowflake.md).
[[nodiscard]] std::string default_snowflake_base_url(std::string_view account);

}  // namespace frost::config
