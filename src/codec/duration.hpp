#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace frost::codec {

/// Parses a configured duration: decimal digits then a unit, `ms`, `s`, `m` or `h`, or no
/// unit for milliseconds (`250ms`, `30s`, `60m`, `24h`, `500`). No sign, spaces, fractions or
/// other units; the number is at most 86,400,000. nullopt otherwise. Range checks for a
/// particular setting are the caller's. Pure; thread-safe.
[[nodiscard]] std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) noexcept;

}  // namespace frost::codec
