#include "codec/duration.hpp"

#include <charconv>

namespace frost::codec {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) noexcept {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    long long n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + digits, n);
    // The cap keeps every unit far inside milliseconds' range (86.4M hours < 2^63 ms).
    if (digits == 0 || ec != std::errc{} || n > 86'400'000) return std::nullopt;
    const auto unit = text.substr(digits);
    if (unit.empty() || unit == "ms") return std::chrono::milliseconds(n);
    if (unit == "s") return std::chrono::seconds(n);
    if (unit == "m") return std::chrono::minutes(n);
    if (unit == "h") return std::chrono::hours(n);
    return std::nullopt;
}

}  // namespace frost::codec
