#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "model/error.hpp"

namespace frost::source::snowflake {

/// How Frost proves who it is to Snowflake (reference §6).
enum class auth_method {
    key_pair,  ///< RS256 JWT signed with the user's private key (`KEYPAIR_JWT`)
    oauth,     ///< an OAuth access token (`OAUTH`)
    pat,       ///< a programmatic access token (`PROGRAMMATIC_ACCESS_TOKEN`)
};

/// Everything a Snowflake source needs, resolved from the config file and the environment.
/// Holds secrets (`private_key_pem`, `passphrase`, `token`): never log or print it whole.
struct snowflake_settings {
    std::string account;  ///< as configured, e.g. `myorg-myaccount` or `xy12345.us-east-2.aws`
    std::string user;
    std::string base_url;  ///< scheme + host (+ port), no trailing slash
    std::string database;
    std::string schema;
    std::string warehouse;
    std::string role;  ///< empty: the user's default role

    auth_method auth = auth_method::key_pair;
    std::string private_key_pem;  ///< secret
    std::string passphrase;       ///< secret; for an encrypted PKCS#8 key
    std::string token;            ///< secret; OAuth or PAT

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
    std::size_t max_response_bytes = 512u * 1024 * 1024;
    std::string user_agent = "frost/0.1";
};

/// Looks up an environment variable; nullopt when unset or empty. Injected for tests.
using env_lookup = std::function<std::optional<std::string>(const std::string&)>;

/// The process environment.
[[nodiscard]] env_lookup process_environment();

/// Reads a `snowflake` source's settings. Each key may be written in the config file and is
/// overridden by the environment variable `<env_prefix><KEY>` when that is set (default prefix
/// `SNOWFLAKE_`), so the seed's variables work unchanged: SNOWFLAKE_ACCOUNT, _USER, _PRIVATE_KEY (PEM text),
/// _PRIVATE_KEY_PATH, _PRIVATE_KEY_PASSPHRASE, _DATABASE, _SCHEMA, _WAREHOUSE, _ROLE, _HOST,
/// _AUTHENTICATOR, _TOKEN, _TOKEN_PATH. Fails with `config_error` naming the source and the
/// key at fault; messages never contain a secret value. The private key is only loaded, not
/// parsed, here (see `key_pair::load`).
[[nodiscard]] model::result<snowflake_settings> read_settings(const config::source_config& source,
                                                              const env_lookup& env);

/// The API base URL for an account when no host is configured:
/// `https://<account>.snowflakecomputing.com` (lower case; reference §6.4).
[[nodiscard]] std::string default_base_url(std::string_view account);

/// The account as it must appear in JWT claims (reference §6.3): the text before `-` when it
/// contains `.global`, otherwise before the first `.`, upper-cased.
[[nodiscard]] std::string jwt_account(std::string_view account);

}  // namespace frost::source::snowflake
