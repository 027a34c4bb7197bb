#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "model/error.hpp"

namespace frost::source::snowflake {

/// How Frost proves who it is to Snowflake (parsed at config load).
using auth_method = config::snowflake_auth;

/// Everything a Snowflake source needs: the `snowflake_config` parsed and checked at config load,
/// with the key or token file read by `load_secrets`. Holds secrets (`private_key_pem`,
/// `passphrase`, `token`): never log or print it whole.
using snowflake_settings = config::snowflake_config;

/// Looks up an environment variable; nullopt when unset or empty. Injected for tests.
using env_lookup = config::env_lookup;

/// Reads the files a resolved config names: `private_key_path` into `private_key_pem`,
/// `token_path` into `token` (trailing white space dropped). Which key and which method are
/// used was checked at load; this is only the I/O on secrets, done when the source opens.
/// Fails with `config_error` naming the source, the key and the path, never the content.
[[nodiscard]] model::result<snowflake_settings> load_secrets(const std::string& source_name,
                                                             snowflake_settings settings);

/// The API base URL for an account when no host is configured:
/// `https://<account>.snowflakecomputing.com` (lower case; docs/snowflake.md).
[[nodiscard]] std::string default_base_url(std::string_view account);

/// The account as it must appear in JWT claims (docs/snowflake.md): the text before `-` when it
/// contains `.global`, otherwise before the first `.`, upper-cased.
[[nodiscard]] std::string jwt_account(std::string_view account);

}  // namespace frost::source::snowflake
