#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace frost::emulators::snowflake {

/// Verifies key-pair JWTs the way Snowflake documents them: RS256 signature
/// by a registered public key; `iss` = ACCOUNT.USER.SHA256:<that key's fingerprint>; `sub` =
/// ACCOUNT.USER; `iat`/`exp` in seconds or milliseconds; rejected when expired, older than one
/// hour, or issued more than 60 s in the future. Thread-safe after construction.
class jwt_verifier {
public:
    /// `account` and `user` as they must appear in claims (upper case). `public_keys_pem`:
    /// PEM SubjectPublicKeyInfo keys. Throws std::runtime_error for a key OpenSSL cannot read.
    jwt_verifier(std::string account, std::string user, const std::vector<std::string>& public_keys_pem);
    ~jwt_verifier();
    jwt_verifier(const jwt_verifier&) = delete;
    jwt_verifier& operator=(const jwt_verifier&) = delete;

    /// Empty when `token` is valid at `now`, otherwise why not (for the request log).
    [[nodiscard]] std::string check(const std::string& token, std::chrono::system_clock::time_point now) const;

    /// The fingerprints of the registered keys (`SHA256:...`).
    [[nodiscard]] std::vector<std::string> fingerprints() const;

private:
    struct key;
    std::string account_;
    std::string user_;
    std::vector<std::unique_ptr<key>> keys_;
};

}  // namespace frost::emulators::snowflake
