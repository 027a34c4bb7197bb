#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace frost::codec {

/// The length (1 to 4) of the well-formed UTF-8 sequence that starts at `s[at]`, or 0 when
/// the bytes there are not one (RFC 3629 §4): a stray continuation byte, a lead byte C0, C1 or
/// F5–FF, an overlong form, a UTF-16 surrogate (U+D800–DFFF), a code point above U+10FFFF, or
/// a sequence cut short by the end of `s`. `at` must be < `s.size()`. Pure; thread-safe.
[[nodiscard]] std::size_t utf8_sequence_length(std::string_view s, std::size_t at) noexcept;

/// Whether all of `s` is well-formed UTF-8 (RFC 3629). The empty string is.
[[nodiscard]] bool valid_utf8(std::string_view s) noexcept;

/// Appends to `out` the well-formed UTF-8 sequence that starts at `s[at]`, or U+FFFD (`EF BF BD`)
/// when the bytes there are not one; returns how many bytes of `s` that used: the sequence's
/// length, or 1. So each byte of an ill-formed stretch is replaced on its own (`E2 82` is two
/// U+FFFD, not one as in Unicode's "maximal subpart" practice). `at` must be < `s.size()`.
/// Thread-safe.
std::size_t append_utf8_or_replacement(std::string& out, std::string_view s, std::size_t at);

/// `s` with each byte that does not start a well-formed sequence replaced by U+FFFD, so the
/// result is always valid UTF-8 (and may become a JSON string). Well-formed input is returned
/// unchanged.
[[nodiscard]] std::string utf8_or_replacement(std::string_view s);

}  // namespace frost::codec
