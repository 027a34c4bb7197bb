#pragma once

// Test-only token minting: RSA and P-256 keys made at run time, JWKS documents and compact
// JWS tokens signed with OpenSSL directly (an oracle independent of src/auth).

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace frost::testing {

inline std::string b64url(std::string_view raw) {
    std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()));
    out.resize(static_cast<std::size_t>(n));
    while (!out.empty() && out.back() == '=') out.pop_back();
    for (auto& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
    return out;
}

/// A signing key pair with its kid and algorithm.
struct signing_key {
    std::string kid;
    std::string alg;  // RS256 or ES256
    std::shared_ptr<EVP_PKEY> key;

    static signing_key rsa(std::string kid, unsigned bits = 2048) {
        EVP_PKEY* k = EVP_RSA_gen(bits);
        if (!k) throw std::runtime_error("RSA keygen failed");
        return {std::move(kid), "RS256", std::shared_ptr<EVP_PKEY>(k, EVP_PKEY_free)};
    }
    static signing_key p256(std::string kid) {
        EVP_PKEY* k = EVP_EC_gen("P-256");
        if (!k) throw std::runtime_error("EC keygen failed");
        return {std::move(kid), "ES256", std::shared_ptr<EVP_PKEY>(k, EVP_PKEY_free)};
    }

    /// This key's public half as one JWK object (JSON text).
    [[nodiscard]] std::string jwk() const {
        if (alg == "RS256") {
            BIGNUM *n = nullptr, *e = nullptr;
            EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_RSA_N, &n);
            EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_RSA_E, &e);
            std::string nb(static_cast<std::size_t>(BN_num_bytes(n)), '\0'),
                eb(static_cast<std::size_t>(BN_num_bytes(e)), '\0');
            BN_bn2bin(n, reinterpret_cast<unsigned char*>(nb.data()));
            BN_bn2bin(e, reinterpret_cast<unsigned char*>(eb.data()));
            BN_free(n);
            BN_free(e);
            return R"({"kty":"RSA","use":"sig","alg":"RS256","kid":")" + kid + R"(","n":")" + b64url(nb) +
                   R"(","e":")" + b64url(eb) + R"("})";
        }
        unsigned char pub[65];
        std::size_t len = 0;
        EVP_PKEY_get_octet_string_param(key.get(), OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub, &len);
        std::string x(reinterpret_cast<char*>(pub) + 1, 32), y(reinterpret_cast<char*>(pub) + 33, 32);
        return R"({"kty":"EC","use":"sig","crv":"P-256","alg":"ES256","kid":")" + kid + R"(","x":")" + b64url(x) +
               R"(","y":")" + b64url(y) + R"("})";
    }

    /// PEM of the public key (what an HS256 confusion attack uses as the HMAC secret).
    [[nodiscard]] std::string public_pem() const {
        BIO* bio = BIO_new(BIO_s_mem());
        PEM_write_bio_PUBKEY(bio, key.get());
        char* data = nullptr;
        const long n = BIO_get_mem_data(bio, &data);
        std::string out(data, static_cast<std::size_t>(n));
        BIO_free(bio);
        return out;
    }

    /// Signs `header_json.payload_json` with this key.
    [[nodiscard]] std::string sign(const std::string& header_json, const std::string& payload_json) const {
        const std::string input = b64url(header_json) + "." + b64url(payload_json);
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        std::size_t len = 0;
        EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key.get());
        EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
        std::string sig(len, '\0');
        EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size());
        sig.resize(len);
        EVP_MD_CTX_free(ctx);
        if (alg == "ES256") {  // DER -> r || s
            const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
            ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
            std::string raw(64, '\0');
            BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()), 32);
            BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
            ECDSA_SIG_free(es);
            sig = raw;
        }
        return input + "." + b64url(sig);
    }

    /// A token with the standard header for this key and `payload_json` as claims.
    [[nodiscard]] std::string token(const std::string& payload_json) const {
        return sign(R"({"alg":")" + alg + R"(","typ":"JWT","kid":")" + kid + R"("})", payload_json);
    }
};

/// A JWKS document holding these keys.
inline std::string jwks(const std::vector<const signing_key*>& keys) {
    std::string out = R"({"keys":[)";
    for (std::size_t i = 0; i < keys.size(); ++i) out += (i ? "," : "") + keys[i]->jwk();
    return out + "]}";
}

/// An HS256 token whose HMAC secret is `secret` (the RS/HS confusion attack).
inline std::string hs256_token(const std::string& kid, const std::string& payload_json, const std::string& secret) {
    const std::string input =
        b64url(R"({"alg":"HS256","typ":"JWT","kid":")" + kid + R"("})") + "." + b64url(payload_json);
    unsigned char mac[32];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
    return input + "." + b64url(std::string(reinterpret_cast<char*>(mac), len));
}

/// An unsigned `alg: none` token.
inline std::string none_token(const std::string& payload_json) {
    return b64url(R"({"alg":"none","typ":"JWT"})") + "." + b64url(payload_json) + ".";
}

/// Seconds since the Unix epoch, now.
inline long long unix_now() {
    return static_cast<long long>(std::time(nullptr));
}

}  // namespace frost::testing
