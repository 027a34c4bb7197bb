#pragma once

#include <cstdint>
#include <string_view>

namespace frost::codec {

/// The 64-bit FNV-1a hash of `bytes` (offset basis 14695981039346656037, prime 1099511628211).
/// Fast and stable across builds and machines, so it may be stored (rollup SQL fingerprints)
/// or sent (ETags); not collision-resistant against an adversary. Pure; thread-safe.
[[nodiscard]] constexpr std::uint64_t fnv1a_64(std::string_view bytes) noexcept {
    std::uint64_t h = 14695981039346656037ull;
    for (char c : bytes) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return h;
}

}  // namespace frost::codec
