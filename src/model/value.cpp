#include "model/value.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace frost::model {

// std::chrono's proleptic Gregorian calendar: exact for every day of an int32 day number
// whose year fits year_month_day (±32767).
std::int32_t days_from_civil(int year, unsigned month, unsigned day) noexcept {
    const std::chrono::sys_days d{std::chrono::year{year} / std::chrono::month{month} / std::chrono::day{day}};
    return static_cast<std::int32_t>(d.time_since_epoch().count());
}

civil_date civil_from_days(std::int32_t days) noexcept {
    const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{days}}};
    return {static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day())};
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
    if (year < 1) return std::nullopt;
    const std::chrono::year_month_day ymd{std::chrono::year{static_cast<int>(year)}, std::chrono::month{month},
                                          std::chrono::day{day}};
    if (!ymd.ok()) return std::nullopt;  // month 1..12, day within that month (leap years included)
    return date{static_cast<std::int32_t>(std::chrono::sys_days{ymd}.time_since_epoch().count())};
}

namespace {

// Writes `v` (0..99) as two digits at `p`.
char* put2(char* p, unsigned v) noexcept {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
    return p + 2;
}

// `YYYY-MM-DD` at `p` for a year of 0..9999; returns the end.
char* put_civil(char* p, const civil_date& c) noexcept {
    const auto y = static_cast<unsigned>(c.year);
    p = put2(p, y / 100);
    p = put2(p, y % 100);
    *p++ = '-';
    p = put2(p, c.month);
    *p++ = '-';
    return put2(p, c.day);
}

}  // namespace

void append_date(std::string& out, date d) {
    const auto c = civil_from_days(d.days);
    char buf[16];
    if (c.year < 0 || c.year > 9999) {
        // Outside four digits: the C library's form (`-001-01-01`, `10000-01-01`).
        const int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", c.year, c.month, c.day);
        out.append(buf, static_cast<std::size_t>(n));
        return;
    }
    out.append(buf, put_civil(buf, c));
}

void append_timestamp(std::string& out, timestamp t) {
    constexpr std::int64_t per_day = 86'400'000'000;
    std::int64_t day = t.micros / per_day;
    std::int64_t rest = t.micros % per_day;
    if (rest < 0) {
        rest += per_day;
        --day;
    }
    const auto c = civil_from_days(static_cast<std::int32_t>(day));
    const auto secs = static_cast<unsigned>(rest / 1'000'000);
    const auto frac = static_cast<unsigned>(rest % 1'000'000);
    char buf[48];
    char* p = buf;
    if (c.year < 0 || c.year > 9999) {
        p += std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", c.year, c.month, c.day);
    } else {
        p = put_civil(p, c);
    }
    *p++ = ' ';
    p = put2(p, secs / 3600);
    *p++ = ':';
    p = put2(p, secs / 60 % 60);
    *p++ = ':';
    p = put2(p, secs % 60);
    if (frac != 0) {
        *p++ = '.';
        p = put2(p, frac / 10'000);
        p = put2(p, frac / 100 % 100);
        p = put2(p, frac % 100);
    }
    out.append(buf, p);
}

std::string format_date(date d) {
    std::string out;
    append_date(out, d);
    return out;
}

std::string format_timestamp(timestamp t) {
    std::string out;
    append_timestamp(out, t);
    return out;
}

std::string format_decimal(decimal d) {
    const bool negative = d.unscaled < 0;
    // Work in unsigned so INT64_MIN has a magnitude.
    std::uint64_t magnitude =
        negative ? 0 - static_cast<std::uint64_t>(d.unscaled) : static_cast<std::uint64_t>(d.unscaled);
    std::string digits = std::to_string(magnitude);
    if (d.scale > 0) {
        if (digits.size() <= d.scale) digits.insert(0, d.scale - digits.size() + 1, '0');
        digits.insert(digits.size() - d.scale, 1, '.');
    }
    if (negative) digits.insert(0, 1, '-');
    return digits;
}

}  // namespace frost::model
