#include "auth/api_keys.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace frost::auth {

namespace {

std::array<unsigned char, 32> sha256(std::string_view text) {
    std::array<unsigned char, 32> out{};
    unsigned int len = 0;
    EVP_Digest(text.data(), text.size(), out.data(), &len, EVP_sha256(), nullptr);
    return out;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::string sha256_hex(std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : sha256(text)) {
        out.push_back(hex[b >> 4]);
        out.push_back(hex[b & 0xf]);
    }
    return out;
}

api_key_store::api_key_store(const std::vector<config::api_key_config>& keys) {
    for (const auto& k : keys) {
        entry e;
        e.key = k;
        bool valid = k.sha256.size() == 64;
        for (std::size_t i = 0; valid && i < 32; ++i) {
            const int hi = hex_value(k.sha256[2 * i]), lo = hex_value(k.sha256[2 * i + 1]);
            valid = hi >= 0 && lo >= 0;
            e.digest[i] = static_cast<unsigned char>((hi << 4) | (lo & 0xf));
        }
        if (valid) keys_.push_back(std::move(e));  // the config loader already rejected bad digests
    }
}

const config::api_key_config* api_key_store::match(std::string_view presented) const {
    if (presented.empty() || presented.size() > 512) return nullptr;
    const auto digest = sha256(presented);
    const config::api_key_config* found = nullptr;
    for (const auto& e : keys_) {
        // No early exit: every stored digest costs the same.
        const bool same = CRYPTO_memcmp(e.digest.data(), digest.data(), digest.size()) == 0;
        if (same && !found) found = &e.key;
    }
    return found;
}

bool api_key_store::allows(const config::api_key_config& key, std::string_view path) {
    if (key.endpoints.empty()) return true;
    for (const auto& p : key.endpoints)
        if (p == path) return true;
    return false;
}

}  // namespace frost::auth
