#include <gtest/gtest.h>

#include "codec/duration.hpp"

namespace frost::codec {
namespace {

using namespace std::chrono_literals;

TEST(duration, parses_every_unit_the_config_documents) {
    EXPECT_EQ(parse_duration("250ms"), 250ms);
    EXPECT_EQ(parse_duration("500"), 500ms);  // a bare number is milliseconds
    EXPECT_EQ(parse_duration("30s"), 30s);
    EXPECT_EQ(parse_duration("60m"), 60min);
    EXPECT_EQ(parse_duration("1h"), 1h);
    EXPECT_EQ(parse_duration("24h"), 24h);
    EXPECT_EQ(parse_duration("0s"), 0ms);
    EXPECT_EQ(parse_duration("86400000"), 86'400'000ms);
    EXPECT_EQ(parse_duration("86400000h"), std::chrono::hours(86'400'000));
}

TEST(duration, rejects_everything_else) {
    for (const char* bad : {"", "s", "ms", "-1s", "+1s", "1.5s", "1 s", " 1s", "1s ", "1S", "1d", "1sec", "1min", "1hr",
                            "86400001", "99999999999999999999", "1e3", "0x10", "1h30m"}) {
        EXPECT_FALSE(parse_duration(bad)) << '"' << bad << '"';
    }
}

}  // namespace
}  // namespace frost::codec
