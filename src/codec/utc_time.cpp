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

}  // namespace frost::codec
