#include <gtest/gtest.h>

#include <ctime>
#include <random>

#include "codec/utc_time.hpp"

namespace frost::codec {
namespace {

using namespace std::chrono;

// Oracle: the C library's gmtime_r and strftime.
std::string c_library_utc(std::int64_t ms) {
    const std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return buf;
}

TEST(utc_time, known_instants) {
    const system_clock::time_point t{sys_days{2026y / November / 25} + 1h + 2min + 3s + 45ms};
    EXPECT_EQ(format_utc(t), "2026-11-25T01:02:03Z");
    EXPECT_EQ(format_utc(t, utc_precision::milliseconds), "2026-11-25T01:02:03.045Z");
    EXPECT_EQ(format_utc(system_clock::time_point{}), "1970-01-01T00:00:00Z");
    // Before the epoch the instant is truncated toward the past, not toward zero.
    EXPECT_EQ(format_utc(system_clock::time_point{-1ms}, utc_precision::milliseconds), "1969-12-31T23:59:59.999Z");
    EXPECT_EQ(format_utc(system_clock::time_point{sys_days{2016y / February / 29}}), "2016-02-29T00:00:00Z");
}

TEST(utc_time, matches_gmtime_over_random_instants) {
    std::mt19937_64 rng(17);
    // 1900-01-01 .. 2255: system_clock counts nanoseconds in 64 bits, so it ends in 2262.
    std::uniform_int_distribution<std::int64_t> pick(-2'208'988'800'000, 9'000'000'000'000);
    for (int i = 0; i < 50'000; ++i) {
        const auto ms = pick(rng);
        const system_clock::time_point t{milliseconds(ms)};
        const auto expected = c_library_utc(ms);
        ASSERT_EQ(format_utc(t), expected + "Z") << ms;
        char frac[8];
        std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(((ms % 1000) + 1000) % 1000));
        ASSERT_EQ(format_utc(t, utc_precision::milliseconds), expected + frac + "Z") << ms;
    }
}

// The per-thread cached form against `format_utc` itself: random instants, and runs of instants
// within one second and across second boundaries (where the cache must be replaced), before
// the epoch too.
TEST(utc_time, append_utc_millis_matches_format_utc) {
    std::mt19937_64 rng(29);
    std::uniform_int_distribution<std::int64_t> pick(-2'208'988'800'000'000, 9'000'000'000'000'000);  // µs
    std::uniform_int_distribution<std::int64_t> step(0, 1'500'000);                                   // µs
    std::string out = "prefix";
    for (int i = 0; i < 20'000; ++i) {
        auto us = pick(rng);
        for (int j = 0; j < 8; ++j, us += step(rng)) {
            const system_clock::time_point t{duration_cast<system_clock::duration>(microseconds(us))};
            out.resize(6);
            append_utc_millis(out, t);
            ASSERT_EQ(out, "prefix" + format_utc(t, utc_precision::milliseconds)) << us;
        }
    }
}

}  // namespace
}  // namespace frost::codec
