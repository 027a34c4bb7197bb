#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace frost::auth {

/// The SHA-256 of `text`, as 64 lower-case hex digits (what the config stores for a key).
[[nodiscard]] std::string sha256_hex(std::string_view text);

/// The configured API keys, held as SHA-256 digests. Thread-safe (immutable).
class api_key_store {
public:
    explicit api_key_store(const std::vector<config::api_key_config>& keys);

    /// The key whose digest matches the SHA-256 of `presented`, or null. Every stored digest is
    /// compared in constant time, so timing reveals neither which key nor how much matched.
    [[nodiscard]] const config::api_key_config* match(std::string_view presented) const;

    /// Whether `key` may call the endpoint at `path`.
    [[nodiscard]] static bool allows(const config::api_key_config& key, std::string_view path);

    [[nodiscard]] bool empty() const noexcept { return keys_.empty(); }

private:
    struct entry {
        std::array<unsigned char, 32> digest{};
        config::api_key_config key;
    };
    std::vector<entry> keys_;
};

}  // namespace frost::auth
