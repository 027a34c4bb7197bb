#include "model/value.hpp"

#include <cstdio>
#include <cstdlib>

namespace frost::model {

// Howard Hinnant's civil-calendar algorithms (public domain), exact for every day.
std::int32_t days_from_civil(int year, unsigned month, unsigned day) noexcept {
    year -= month <= 2 ? 1 : 0;
    const int era = (year >= 0 ? year : year - 399) / 400;
    const auto yoe = static_cast<unsigned>(year - era * 400);
    const unsigned doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int>(doe) - 719468;
}

civil_date civil_from_days(std::int32_t days) noexcept {
    const int z = days + 719468;
    const int era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int y = static_cast<int>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {y + (m <= 2 ? 1 : 0), m, d};
}

namespace {
bool all_digits(std::string_view s) noexcept {
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return !s.empty();
}
unsigned to_number(std::string_view s) noexcept {
    unsigned n = 0;
    for (char c : s) n = n * 10 + static_cast<unsigned>(c - '0');
    return n;
}
}  // namespace

std::optional<date> parse_date(std::string_view text) noexcept {
    std::string_view y, m, d;
    if (text.size() == 10 && text[4] == '-' && text[7] == '-') {
        y = text.substr(0, 4), m = text.substr(5, 2), d = text.substr(8, 2);
    } else if (text.size() == 10 && text[2] == '/' && text[5] == '/') {
        m = text.substr(0, 2), d = text.substr(3, 2), y = text.substr(6, 4);
    } else {
        return std::nullopt;
    }
    if (!all_digits(y) || !all_digits(m) || !all_digits(d)) return std::nullopt;
    const unsigned year = to_number(y), month = to_number(m), day = to_number(d);
    if (year < 1 || month < 1 || month > 12 || day < 1) return std::nullopt;
    static constexpr unsigned month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    const unsigned last = month == 2 && leap ? 29 : month_days[month - 1];
    if (day > last) return std::nullopt;
    return date{days_from_civil(static_cast<int>(year), month, day)};
}

std::string format_date(date d) {
    const auto c = civil_from_days(d.days);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", c.year, c.month, c.day);
    return buf;
}

std::string format_timestamp(timestamp t) {
    constexpr std::int64_t per_day = 86'400'000'000;
    std::int64_t day = t.micros / per_day;
    std::int64_t rest = t.micros % per_day;
    if (rest < 0) {
        rest += per_day;
        --day;
    }
    const auto c = civil_from_days(static_cast<std::int32_t>(day));
    const auto secs = rest / 1'000'000;
    const auto frac = rest % 1'000'000;
    char buf[48];
    if (frac == 0) {
        std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02lld:%02lld:%02lld", c.year, c.month, c.day,
                      static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                      static_cast<long long>(secs % 60));
    } else {
        std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02lld:%02lld:%02lld.%06lld", c.year, c.month,
                      c.day, static_cast<long long>(secs / 3600),
                      static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60),
                      static_cast<long long>(frac));
    }
    return buf;
}

std::string format_decimal(decimal d) {
    const bool negative = d.unscaled < 0;
    // Work in unsigned so INT64_MIN has a magnitude.
    std::uint64_t magnitude = negative ? 0 - static_cast<std::uint64_t>(d.unscaled)
                                       : static_cast<std::uint64_t>(d.unscaled);
    std::string digits = std::to_string(magnitude);
    if (d.scale > 0) {
        if (digits.size() <= d.scale) digits.insert(0, d.scale - digits.size() + 1, '0');
        digits.insert(digits.size() - d.scale, 1, '.');
    }
    if (negative) digits.insert(0, 1, '-');
    return digits;
}

}  // namespace frost::model
