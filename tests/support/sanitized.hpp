// Fewer rounds under the sanitizers. With AddressSanitizer every memory access is checked and a
// test runs 5-20x slower; the tests that repeat one check over many random inputs (or push a
// volume through) run a fifth of their rounds there. The Release run (`make test`) does them
// all, and the sanitizers still see every code path. Test names give the Release counts.
#pragma once

#include <algorithm>
#include <cstddef>

namespace frost::testing {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool under_sanitizers = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool under_sanitizers = true;
#else
inline constexpr bool under_sanitizers = false;
#endif
#else
inline constexpr bool under_sanitizers = false;
#endif

/// `full` in the Release run; a fifth of it (at least one) under the sanitizers.
template <typename N>
constexpr N rounds(N full) {
    return under_sanitizers ? std::max<N>(1, full / 5) : full;
}

}  // namespace frost::testing
