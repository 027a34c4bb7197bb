// Issue 15, defect 6: an encoded slash is data in a path segment, never a separator.

#include <gtest/gtest.h>

#include <boost/url/parse.hpp>
#include <random>

#include "api/params.hpp"
#include "support/sanitized.hpp"

namespace frost::api {
namespace {

std::string path_of(std::string_view target) {
    auto r = split_target(target);
    EXPECT_TRUE(r.ok()) << target;
    return r ? r.value().first : std::string();
}

TEST(split_target_path, keeps_encoded_slashes_as_data) {
    EXPECT_EQ(path_of("/trips%2Fmonthly"), "/trips%2Fmonthly");
    EXPECT_EQ(path_of("/trips%2fmonthly"), "/trips%2Fmonthly");
    EXPECT_NE(path_of("/trips%2Fmonthly?x=1"), "/trips/monthly");
}

TEST(split_target_path, decodes_every_other_escape) {
    EXPECT_EQ(path_of("/trips/monthly"), "/trips/monthly");
    EXPECT_EQ(path_of("/trips/%6Donthly"), "/trips/monthly");
    EXPECT_EQ(path_of("/a%20b"), "/a b");
    EXPECT_EQ(path_of("/%25"), "/%");
    EXPECT_EQ(path_of("/%252F"), "/%2F");  // a literal "%2F" in the path: still no separator
}

TEST(split_target_path, query_values_still_decode_slashes) {
    auto r = split_target("/trips/monthly?name=a%2Fb");
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r.value().second.size(), 1u);
    EXPECT_EQ(r.value().second[0].second, "a/b");
}

// Oracle: Boost.URL itself. Plain paths (unreserved characters and slashes, answered without a
// parse) and targets one character away from plain (a query, an escape, a reserved or invalid
// character, a missing leading slash): accepted exactly when Boost.URL accepts them, and when
// plain, the path is Boost.URL's path and there is no query.
TEST(split_target_path, agrees_with_boost_url_on_5000_random_targets) {
    std::mt19937_64 rng(1202);
    static constexpr std::string_view plain_chars = "/aZ09-._~";
    static constexpr std::string_view odd_chars = "?%&=+ #:@!$'()*,;[]\"\\\x7f\x80";
    for (int round = 0; round < frost::testing::rounds(5000); ++round) {
        std::string target = rng() % 8 ? "/" : "";
        for (auto n = rng() % 24; n > 0; --n) target += plain_chars[rng() % plain_chars.size()];
        const bool odd = rng() % 2;
        if (odd) target.insert(rng() % (target.size() + 1), 1, odd_chars[rng() % odd_chars.size()]);
        const auto parsed = boost::urls::parse_origin_form(target);
        const auto r = split_target(target);
        ASSERT_EQ(r.ok(), parsed.has_value()) << target;
        if (!r.ok() || odd) continue;
        EXPECT_EQ(r.value().first, std::string_view(parsed->encoded_path())) << target;
        EXPECT_TRUE(r.value().second.empty()) << target;
    }
}

}  // namespace
}  // namespace frost::api
