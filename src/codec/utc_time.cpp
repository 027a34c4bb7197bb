#include "codec/utc_time.hpp"

#include <cstdio>

namespace frost::codec {

std::string format_utc(std::chrono::system_clock::time_point t, utc_precision precision) {
    using namespace std::chrono;
    const auto ms = floor<milliseconds>(t);
    const auto day = floor<days>(ms);
    const year_month_day ymd{day};
    const hh_mm_ss clock{ms - day};
    char buf[40];
    const int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02lld", static_cast<int>(ymd.year()),
                                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                                static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                                static_cast<long long>(clock.seconds().count()));
    std::string out(buf, static_cast<std::size_t>(n));
    if (precision == utc_precision::milliseconds) {
        std::snprintf(buf, sizeof buf, ".%03lld", static_cast<long long>(clock.subseconds().count()));
        out += buf;
    }
    out += 'Z';
    return out;
}

void append_utc_millis(std::string& out, std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    thread_local sys_seconds cached_second = sys_seconds::min();
    thread_local std::string cached_text;  // `2026-11-25T01:02:03`, without the `Z`
    const auto ms = floor<milliseconds>(t);
    const auto second = floor<seconds>(ms);
    if (second != cached_second) {
        cached_text = format_utc(second, utc_precision::seconds);
        cached_text.pop_back();
        cached_second = second;
    }
    const auto sub = static_cast<unsigned>((ms - second).count());  // 0..999, floored as in format_utc
    out += cached_text;
    const char fraction[] = {'.', static_cast<char>('0' + sub / 100), static_cast<char>('0' + sub / 10 % 10),
                             static_cast<char>('0' + sub % 10), 'Z'};
    out.append(fraction, sizeof fraction);
}

}  // namespace frost::codec
