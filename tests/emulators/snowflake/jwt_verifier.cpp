#include "emulators/snowflake/jwt_verifier.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <boost/json.hpp>

#include <array>
#include <optional>
#include <stdexcept>

namespace frost::emulators::snowflake {

namespace {

std::optional<std::string> base64url_decode(std::string_view in) {
    static const auto table = [] {
        std::array<int, 256> t{};
        t.fill(-1);
        const std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for (std::size_t i = 0; i < alphabet.size(); ++i)
            t[static_cast<unsigned char>(alphabet[i])] = static_cast<int>(i);
        return t;
    }();
    std::string out;
    unsigned buffer = 0;
    int bits = 0;
    for (char c : in) {
        const int v = table[static_cast<unsigned char>(c)];
        if (v < 0) return std::nullopt;
        buffer = (buffer << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> bits) & 0xFF);
        }
    }
    if (in.size() % 4 == 1) return std::nullopt;
    return out;
}

std::string std_base64(const unsigned char* data, std::size_t n) {
    static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (std::size_t i = 0; i < n; i += 3) {
        const unsigned a = data[i], b = i + 1 < n ? data[i + 1] : 0, c = i + 2 < n ? data[i + 2] : 0;
        const unsigned triple = (a << 16) | (b << 8) | c;
        out += alphabet[(triple >> 18) & 63];
        out += alphabet[(triple >> 12) & 63];
        out += i + 1 < n ? alphabet[(triple >> 6) & 63] : '=';
        out += i + 2 < n ? alphabet[triple & 63] : '=';
    }
    return out;
}

// Seconds since the epoch from a claim in seconds or milliseconds (> 10^12 means ms).
std::optional<double> epoch_seconds(const boost::json::object& o, std::string_view name) {
    auto it = o.find(name);
    if (it == o.end()) return std::nullopt;
    double v = 0;
    if (it->value().is_int64())
        v = static_cast<double>(it->value().get_int64());
    else if (it->value().is_uint64())
        v = static_cast<double>(it->value().get_uint64());
    else if (it->value().is_double())
        v = it->value().get_double();
    else
        return std::nullopt;
    return v > 1e12 ? v / 1000.0 : v;
}

}  // namespace

struct jwt_verifier::key {
    EVP_PKEY* pkey = nullptr;
    std::string fingerprint;
    ~key() { EVP_PKEY_free(pkey); }
};

jwt_verifier::jwt_verifier(std::string account, std::string user, const std::vector<std::string>& public_keys_pem)
    : account_(std::move(account)), user_(std::move(user)) {
    for (const auto& pem : public_keys_pem) {
        BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
        auto k = std::make_unique<key>();
        k->pkey = bio ? PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr) : nullptr;
        BIO_free(bio);
        if (!k->pkey) throw std::runtime_error("emulator: cannot read a registered public key");
        unsigned char* der = nullptr;
        const int len = i2d_PUBKEY(k->pkey, &der);
        if (len <= 0) throw std::runtime_error("emulator: cannot encode a registered public key");
        unsigned char digest[SHA256_DIGEST_LENGTH];
        SHA256(der, static_cast<std::size_t>(len), digest);
        OPENSSL_free(der);
        k->fingerprint = "SHA256:" + std_base64(digest, sizeof digest);
        keys_.push_back(std::move(k));
    }
}

jwt_verifier::~jwt_verifier() = default;

std::vector<std::string> jwt_verifier::fingerprints() const {
    std::vector<std::string> out;
    for (const auto& k : keys_) out.push_back(k->fingerprint);
    return out;
}

std::string jwt_verifier::check(const std::string& token, std::chrono::system_clock::time_point now) const {
    const auto first = token.find('.');
    const auto second = first == std::string::npos ? std::string::npos : token.find('.', first + 1);
    if (second == std::string::npos || token.find('.', second + 1) != std::string::npos) return "not three parts";
    auto header_text = base64url_decode(std::string_view(token).substr(0, first));
    auto payload_text = base64url_decode(std::string_view(token).substr(first + 1, second - first - 1));
    auto signature = base64url_decode(std::string_view(token).substr(second + 1));
    if (!header_text || !payload_text || !signature) return "bad base64url";
    boost::system::error_code ec;
    auto header = boost::json::parse(*header_text, ec);
    if (ec || !header.is_object()) return "header is not JSON";
    auto payload = boost::json::parse(*payload_text, ec);
    if (ec || !payload.is_object()) return "payload is not JSON";
    const auto* alg = header.get_object().if_contains("alg");
    if (!alg || !alg->is_string() || alg->get_string() != "RS256") return "alg is not RS256";

    const std::string signed_part = token.substr(0, second);
    const key* signer = nullptr;
    for (const auto& k : keys_) {
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        const bool ok =
            ctx && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, k->pkey) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature->data()), signature->size(),
                             reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) == 1;
        EVP_MD_CTX_free(ctx);
        if (ok) {
            signer = k.get();
            break;
        }
    }
    if (!signer) return "signature does not match a registered key";

    const auto& claims = payload.get_object();
    const auto* iss = claims.if_contains("iss");
    const auto* sub = claims.if_contains("sub");
    const std::string subject = account_ + "." + user_;
    if (!sub || !sub->is_string() || sub->get_string() != subject) return "wrong sub";
    if (!iss || !iss->is_string() || iss->get_string() != subject + "." + signer->fingerprint) return "wrong iss";
    auto iat = epoch_seconds(claims, "iat");
    auto exp = epoch_seconds(claims, "exp");
    if (!iat || !exp) return "missing iat or exp";
    const double t = std::chrono::duration<double>(now.time_since_epoch()).count();
    if (t > *exp) return "expired";
    if (t > *iat + 3600) return "older than one hour";
    if (*iat > t + 60) return "issued in the future";
    return {};
}

}  // namespace frost::emulators::snowflake
