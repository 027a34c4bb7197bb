#include <gtest/gtest.h>

#include "cache/http_caching.hpp"

namespace frost::cache {
namespace {

TEST(etag, is_strong_quoted_and_depends_on_bytes_and_form) {
    const auto a = strong_etag("abc"), b = strong_etag("abd"), gz = strong_etag("abc", "-gz");
    EXPECT_EQ(a.front(), '"');
    EXPECT_EQ(a.back(), '"');
    EXPECT_NE(a.substr(0, 2), "W/");
    EXPECT_NE(a, b);
    EXPECT_NE(a, gz);
    EXPECT_EQ(a, strong_etag("abc"));
}

TEST(if_none_match, follows_rfc_9110) {
    const std::string tag = "\"abc\"";
    EXPECT_TRUE(if_none_match("\"abc\"", tag));
    EXPECT_TRUE(if_none_match("W/\"abc\"", tag));  // weak comparison
    EXPECT_TRUE(if_none_match("\"x\", \"abc\"", tag));
    EXPECT_TRUE(if_none_match("*", tag));
    EXPECT_FALSE(if_none_match("\"abcd\"", tag));
    EXPECT_FALSE(if_none_match("abc", tag));
    EXPECT_FALSE(if_none_match("", tag));
    EXPECT_FALSE(if_none_match(",,,", tag));
}

TEST(cache_control, follows_the_policy) {
    config::cache_policy p;
    EXPECT_EQ(cache_control(p), "no-store");
    p.ttl = std::chrono::seconds(60);
    EXPECT_EQ(cache_control(p), "public, max-age=60");
    p.stale_while_revalidate = std::chrono::seconds(30);
    p.stale_if_error = std::chrono::minutes(10);
    p.shared = false;
    EXPECT_EQ(cache_control(p), "private, max-age=60, stale-while-revalidate=30, stale-if-error=600");
}

}  // namespace
}  // namespace frost::cache
