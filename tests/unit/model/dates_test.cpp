#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <random>

#include "model/value.hpp"
#include "support/sanitized.hpp"

namespace frost::model {
namespace {

// Oracle: the C library's own calendar (timegm) for every day in a wide span.
TEST(dates, days_from_civil_matches_timegm) {
    for (int days = -800'000; days <= 800'000; days += 7) {
        const auto c = civil_from_days(days);
        std::tm tm{};
        tm.tm_year = c.year - 1900;
        tm.tm_mon = static_cast<int>(c.month) - 1;
        tm.tm_mday = static_cast<int>(c.day);
        ASSERT_EQ(timegm(&tm) / 86400, days) << c.year << '-' << c.month << '-' << c.day;
        ASSERT_EQ(days_from_civil(c.year, c.month, c.day), days);
    }
}

TEST(dates, parse_accepts_iso_and_seed_forms) {
    ASSERT_TRUE(parse_date("2013-06-01"));
    EXPECT_EQ(format_date(*parse_date("2013-06-01")), "2013-06-01");
    EXPECT_EQ(*parse_date("06/01/2013"), *parse_date("2013-06-01"));
    EXPECT_EQ(format_date(*parse_date("02/29/2016")), "2016-02-29");
    EXPECT_EQ(format_date(*parse_date("2000-02-29")), "2000-02-29");
}

TEST(dates, parse_rejects_impossible_and_malformed) {
    for (const char* bad : {"",
                            "2013-6-01",
                            "2013-06-1",
                            "2013/06/01",
                            "06-01-2013",
                            "2013-02-29",
                            "1900-02-29",
                            "2013-13-01",
                            "2013-00-10",
                            "2013-04-31",
                            "0000-01-01",
                            "13/01/2013",
                            "2013-06-01 ",
                            " 2013-06-01",
                            "2013-06-01T00:00",
                            "+013-06-01",
                            "2013-06-0a",
                            "２０13-06-01",
                            "01/32/2013",
                            "99999-01-01",
                            "2013-06-01\n"}) {
        EXPECT_FALSE(parse_date(bad)) << '"' << bad << '"';
    }
}

TEST(dates, parse_round_trips_every_day_of_four_centuries) {
    for (int d = days_from_civil(1800, 1, 1); d < days_from_civil(2200, 1, 1); ++d) {
        const auto text = format_date(date{d});
        auto parsed = parse_date(text);
        ASSERT_TRUE(parsed) << text;
        ASSERT_EQ(parsed->days, d);
    }
}

TEST(values, decimals_format_exactly) {
    EXPECT_EQ(format_decimal({700, 1}), "70.0");
    EXPECT_EQ(format_decimal({-25, 2}), "-0.25");
    EXPECT_EQ(format_decimal({5, 3}), "0.005");
    EXPECT_EQ(format_decimal({42, 0}), "42");
    EXPECT_EQ(format_decimal({INT64_MIN, 0}), "-9223372036854775808");
}

TEST(values, timestamps_format_with_fraction_only_when_present) {
    const std::int64_t day = static_cast<std::int64_t>(days_from_civil(2013, 6, 1)) * 86'400'000'000LL;
    EXPECT_EQ(format_timestamp({day}), "2013-06-01 00:00:00");
    EXPECT_EQ(format_timestamp({day + 3'723'000'001}), "2013-06-01 01:02:03.000001");
    EXPECT_EQ(format_timestamp({-1}), "1969-12-31 23:59:59.999999");
}

// The C library's printf of the civil fields: the form dates and timestamps always had.
std::string printf_timestamp(std::int64_t micros) {
    constexpr std::int64_t per_day = 86'400'000'000;
    std::int64_t day = micros / per_day, rest = micros % per_day;
    if (rest < 0) rest += per_day, --day;
    std::tm tm{};
    const std::time_t secs_since_epoch = static_cast<std::time_t>(day) * 86400 + rest / 1'000'000;
    gmtime_r(&secs_since_epoch, &tm);
    char buf[64];
    const long long frac = rest % 1'000'000;
    int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                          tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (frac) std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), ".%06lld", frac);
    return buf;
}

// Oracle: gmtime and printf, over random instants from year -300 to 12000 (four-digit years take
// the fast path, others the C library's form) and every fraction width.
TEST(values, dates_and_timestamps_equal_gmtime_and_printf_over_random_instants) {
    std::mt19937_64 rng(20261202);
    const std::int64_t lo = static_cast<std::int64_t>(days_from_civil(-300, 1, 1)) * 86'400'000'000LL;
    const std::int64_t hi = static_cast<std::int64_t>(days_from_civil(12000, 1, 1)) * 86'400'000'000LL;
    std::uniform_int_distribution<std::int64_t> instant(lo, hi);
    for (int i = 0; i < frost::testing::rounds(200'000); ++i) {
        std::int64_t micros = instant(rng);
        if (i % 3 == 0) micros -= micros % 1'000'000;  // whole seconds: no fraction
        if (i % 7 == 0) micros -= micros % 1'000;      // trailing zeros in the fraction stay
        const auto expected = printf_timestamp(micros);
        std::string appended = "x";
        append_timestamp(appended, timestamp{micros});
        ASSERT_EQ(appended, "x" + expected) << micros;
        ASSERT_EQ(format_timestamp(timestamp{micros}), expected);
        const auto days = static_cast<std::int32_t>(
            (micros - ((micros % 86'400'000'000LL) + 86'400'000'000LL) % 86'400'000'000LL) / 86'400'000'000LL);
        std::string d = "y";
        append_date(d, date{days});
        ASSERT_EQ(d, "y" + expected.substr(0, expected.find(' '))) << days;
        ASSERT_EQ(format_date(date{days}), expected.substr(0, expected.find(' ')));
    }
}

}  // namespace
}  // namespace frost::model
