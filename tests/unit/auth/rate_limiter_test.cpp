#include <gtest/gtest.h>

#include "auth/rate_limiter.hpp"

namespace {

using namespace std::chrono_literals;

TEST(rate_limiter, bucket_allows_burst_then_refills_at_rate) {
    frost::auth::rate_limiter limiter;
    frost::config::rate_limit_config limit{2.0, 5.0};  // 2/s, burst 5
    const auto t0 = frost::model::clock::now();
    for (int i = 0; i < 5; ++i) EXPECT_FALSE(limiter.take("a", limit, t0).has_value()) << i;
    auto wait = limiter.take("a", limit, t0);
    ASSERT_TRUE(wait.has_value());
    EXPECT_EQ(wait->count(), 500);  // one token at 2/s
    EXPECT_TRUE(limiter.take("a", limit, t0 + 499ms).has_value());
    // 1.1 s after emptying: 2.2 tokens (refused calls take none).
    EXPECT_FALSE(limiter.take("a", limit, t0 + 1100ms).has_value());
    EXPECT_FALSE(limiter.take("a", limit, t0 + 1100ms).has_value());
    EXPECT_TRUE(limiter.take("a", limit, t0 + 1100ms).has_value());
}

TEST(rate_limiter, callers_are_isolated) {
    frost::auth::rate_limiter limiter;
    frost::config::rate_limit_config limit{1.0, 1.0};
    const auto t0 = frost::model::clock::now();
    EXPECT_FALSE(limiter.take("noisy", limit, t0).has_value());
    for (int i = 0; i < 100; ++i) EXPECT_TRUE(limiter.take("noisy", limit, t0).has_value());
    EXPECT_FALSE(limiter.take("quiet", limit, t0).has_value());
}

TEST(rate_limiter, memory_stays_bounded) {
    frost::auth::rate_limiter limiter(1600);
    frost::config::rate_limit_config limit{1.0, 10.0};
    const auto t0 = frost::model::clock::now();
    for (int i = 0; i < 100'000; ++i) (void)limiter.take("ip:" + std::to_string(i), limit, t0);
    EXPECT_LE(limiter.size(), 1600u + 16u);
}

TEST(rate_limiter, zero_rate_means_no_limit) {
    frost::auth::rate_limiter limiter;
    const auto t0 = frost::model::clock::now();
    for (int i = 0; i < 1000; ++i) EXPECT_FALSE(limiter.take("x", {}, t0).has_value());
    EXPECT_EQ(limiter.size(), 0u);
}

}  // namespace
