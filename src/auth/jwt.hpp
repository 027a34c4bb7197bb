#pragma once

#include <boost/json/object.hpp>
#include <optional>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "model/error.hpp"

#include <openssl/types.h>

namespace frost::auth {

/// A public signing key from a JWKS document, usable for exactly one algorithm.
struct public_key {
    std::string kid;
    std::string alg;                ///< `RS256` (RSA, at least 2048 bits) or `ES256` (EC P-256)
    std::shared_ptr<EVP_PKEY> key;  ///< owns the OpenSSL key
};

/// The keys of one JWKS document. Immutable once parsed; shared between threads.
struct key_set {
    std::vector<public_key> keys;
    [[nodiscard]] const public_key* find(std::string_view kid) const noexcept;
};

/// Parses a JWKS document (`{"keys":[...]}`, RFC 7517). RSA keys (`n`, `e`) become RS256 keys and
/// EC P-256 keys (`x`, `y`) ES256 keys; keys marked for another use (`use` other than `sig`), of
/// another type or curve, or with an `alg` that disagrees are skipped. Symmetric (`oct`) keys are
/// always skipped. Fails with `config_error` on malformed JSON or when no usable key remains.
[[nodiscard]] model::result<key_set> parse_jwks(std::string_view json);

/// Why a token was refused. `unknown_key` means the signature cannot be checked with the keys
/// held now: the caller may refetch the JWKS (rate-limited) and ask again later.
enum class jwt_failure {
    none,
    malformed,      ///< not three base64url parts of JSON, or too long
    bad_algorithm,  ///< `alg` not in the allow-list (`none`, HS256, ...) or `crit` present
    unknown_key,    ///< `kid` not in the key set
    bad_signature,
    expired,  ///< `exp` + leeway is past
    missing_exp,
    not_yet_valid,     ///< `nbf` - leeway is in the future
    issued_in_future,  ///< `iat` - leeway is in the future
    bad_issuer,
    bad_audience,
};

/// A short, fixed description of a failure, safe for responses and logs (never token text).
[[nodiscard]] std::string_view describe(jwt_failure f) noexcept;

/// The outcome of `verify_jwt`: the claims when `failure == none`.
struct jwt_outcome {
    jwt_failure failure = jwt_failure::none;
    boost::json::object claims;
};

/// Verifies a compact JWS `token` (RFC 7515/7519) against `keys` under `rules`: the header's
/// `alg` must be in `rules.algorithms` and match the key's; `exp` is required; `nbf`, `iat`
/// are checked with `rules.leeway`; `iss` must equal `rules.issuer` and `aud` (or Cognito's
/// `client_id`) must hold one of `rules.audience` when those are set. `now` is seconds since
/// the Unix epoch. Never throws; never reads more than 8 KiB of token. Thread-safe.
[[nodiscard]] jwt_outcome verify_jwt(std::string_view token, const key_set& keys, const config::jwt_config& rules,
                                     double now);

}  // namespace frost::auth
