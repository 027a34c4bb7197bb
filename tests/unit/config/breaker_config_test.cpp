// `breaker:` on a source: the defaults per source type, every key, and refusals naming the
// file and line.

#include <gtest/gtest.h>

#include "config/config.hpp"

namespace {

using frost::config::load_text;

std::string with_breaker(const std::string& type_and_keys) {
    return "sources:\n  s:\n" + type_and_keys + "endpoints:\n  - path: /x\n    static: {a: 1}\n";
}

const char* duck = "    type: duckdb\n    path: \":memory:\"\n";
const char* snow =
    "    type: snowflake\n    account: a\n    user: u\n    private_key_path: /nonexistent\n    database: d\n"
    "    schema: s\n    warehouse: w\n";

TEST(BreakerConfig, OnForSnowflakeOffForDuckdbByDefault) {
    auto d = load_text(with_breaker(duck), "t.yaml", "/");
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_FALSE(d.value().sources[0].breaker.enabled);
    auto s = load_text(with_breaker(snow), "t.yaml", "/");
    ASSERT_TRUE(s) << s.error().message;
    const auto& b = s.value().sources[0].breaker;
    EXPECT_TRUE(b.enabled);
    EXPECT_EQ(b.failures, 5u);
    EXPECT_DOUBLE_EQ(b.error_ratio, 0.5);
    EXPECT_EQ(b.window, std::chrono::seconds(30));
    EXPECT_EQ(b.min_calls, 20u);
    EXPECT_EQ(b.cool_down, std::chrono::seconds(10));
}

TEST(BreakerConfig, EveryKey) {
    auto c = load_text(
        with_breaker(std::string(duck) + "    breaker: {failures: 3, error_ratio: 0.25, window: 1m, min_calls: 4, "
                                         "cool_down: 250ms}\n"),
        "t.yaml", "/");
    ASSERT_TRUE(c) << c.error().message;
    const auto& b = c.value().sources[0].breaker;
    EXPECT_TRUE(b.enabled) << "a breaker mapping on a duckdb source turns it on";
    EXPECT_EQ(b.failures, 3u);
    EXPECT_DOUBLE_EQ(b.error_ratio, 0.25);
    EXPECT_EQ(b.window, std::chrono::minutes(1));
    EXPECT_EQ(b.min_calls, 4u);
    EXPECT_EQ(b.cool_down, std::chrono::milliseconds(250));

    auto off = load_text(with_breaker(std::string(snow) + "    breaker: off\n"), "t.yaml", "/");
    ASSERT_TRUE(off) << off.error().message;
    EXPECT_FALSE(off.value().sources[0].breaker.enabled);
    auto disabled = load_text(with_breaker(std::string(snow) + "    breaker: {enabled: false}\n"), "t.yaml", "/");
    ASSERT_TRUE(disabled) << disabled.error().message;
    EXPECT_FALSE(disabled.value().sources[0].breaker.enabled);
}

TEST(BreakerConfig, RefusalsNameFileAndLine) {
    struct bad {
        std::string keys, says;
    };
    for (const auto& [keys, says] : std::vector<bad>{{"{failures: 0}", "failures"},
                                                     {"{error_ratio: 1.5}", "error_ratio"},
                                                     {"{error_ratio: 0}", "error_ratio"},
                                                     {"{cool_down: 1ms}", "cool_down"},
                                                     {"{window: 10ms}", "window"},
                                                     {"{retries: 3}", "unknown key \"retries\""}}) {
        SCOPED_TRACE(keys);
        auto c = load_text(with_breaker(std::string(duck) + "    breaker: " + keys + "\n"), "t.yaml", "/");
        ASSERT_FALSE(c);
        EXPECT_NE(c.error().message.find("t.yaml:5:"), std::string::npos) << c.error().message;
        EXPECT_NE(c.error().message.find(says), std::string::npos) << c.error().message;
    }
}

}  // namespace
