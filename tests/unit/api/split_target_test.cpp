// Issue 15, defect 6: an encoded slash is data in a path segment, never a separator.

#include <gtest/gtest.h>

#include "api/params.hpp"

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

}  // namespace
}  // namespace frost::api
