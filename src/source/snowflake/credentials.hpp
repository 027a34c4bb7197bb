#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "model/error.hpp"
#include "source/snowflake/settings.hpp"

struct evp_pkey_st;

namespace frost::source::snowflake {

/// An RSA private key (RAII over OpenSSL's `EVP_PKEY`). Immutable after `load`; its const
/// members may be called from any thread.
class key_pair {
public:
    /// Parses a PEM private key: PKCS#8 (`PRIVATE KEY`), encrypted PKCS#8 (`ENCRYPTED PRIVATE
    /// KEY`, with `passphrase`) or PKCS#1 (`RSA PRIVATE KEY`). Fails with `config_error` when the
    /// text is not such a key, the passphrase is missing or wrong, the key is not RSA, or it is
    /// shorter than 2048 bits. Messages never quote the key or the passphrase.
    static model::result<key_pair> load(std::string_view pem, std::string_view passphrase);

    key_pair(key_pair&&) noexcept;
    key_pair& operator=(key_pair&&) noexcept;
    ~key_pair();

    /// `SHA256:` + standard base64 of SHA-256 over the DER SubjectPublicKeyInfo: what
    /// `DESCRIBE USER` shows as `RSA_PUBLIC_KEY_FP` (docs/snowflake.md §1).
    [[nodiscard]] const std::string& fingerprint() const noexcept { return fingerprint_; }

    /// The public key as PEM (`-----BEGIN PUBLIC KEY-----`), for `ALTER USER ... SET RSA_PUBLIC_KEY`.
    [[nodiscard]] std::string public_key_pem() const;

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `data`: the raw signature bytes.
    [[nodiscard]] model::result<std::string> sign_rs256(std::string_view data) const;

private:
    explicit key_pair(evp_pkey_st* key);
    evp_pkey_st* key_ = nullptr;
    std::string fingerprint_;
};

/// The claims of a Snowflake key-pair JWT, in seconds since the epoch.
struct jwt_claims {
    std::string issuer;   ///< `ACCOUNT.USER.SHA256:<fingerprint>`
    std::string subject;  ///< `ACCOUNT.USER`
    std::int64_t issued_at = 0;
    std::int64_t expires_at = 0;
};

/// Signs `{"alg":"RS256","typ":"JWT"}`.`claims` with `key`.
[[nodiscard]] model::result<std::string> sign_jwt(const key_pair& key, const jwt_claims& claims);

/// A bearer token and its `X-Snowflake-Authorization-Token-Type`.
struct bearer {
    std::string token;
    std::string_view type;  ///< KEYPAIR_JWT, OAUTH or PROGRAMMATIC_ACCESS_TOKEN
};

/// Hands out the token for each request. For key pairs it signs a JWT valid for
/// `jwt_lifetime` and signs a new one `jwt_renew_before` ahead of expiry or after the server
/// rejected the current one. Thread-safe.
class credentials {
public:
    using wall_clock = std::function<std::chrono::system_clock::time_point()>;

    /// Loads the key (key pair) or keeps the token (OAuth, PAT). Fails like `key_pair::load`.
    static model::result<std::unique_ptr<credentials>> create(const snowflake_settings& settings,
                                                              wall_clock now = std::chrono::system_clock::now);

    /// The token to send now.
    [[nodiscard]] model::result<bearer> current();

    /// The server answered 401 to `token`: the next `current` signs a fresh JWT (unless another
    /// thread already did). Static tokens cannot be renewed; nothing happens.
    void reject(const std::string& token);

    /// `ACCOUNT.USER`, the JWT subject (empty for static tokens).
    [[nodiscard]] const std::string& subject() const noexcept { return subject_; }
    /// `SHA256:...` of the key (empty for static tokens).
    [[nodiscard]] std::string fingerprint() const { return key_ ? key_->fingerprint() : std::string(); }

private:
    credentials() = default;

    auth_method method_ = auth_method::key_pair;
    std::unique_ptr<key_pair> key_;
    std::string subject_;
    std::chrono::seconds lifetime_{3540};
    std::chrono::seconds renew_before_{300};
    wall_clock now_;

    std::mutex mutex_;
    std::string token_;  ///< current JWT or the static token
    std::chrono::system_clock::time_point renew_at_{};
};

}  // namespace frost::source::snowflake
