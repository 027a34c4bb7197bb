// The cache key (cache/cache_key.hpp): equal exactly when the bound values, endpoint and data
// version are equal; the expected strings are written out by hand from the documented format.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "cache/cache_key.hpp"

namespace frost::cache {
namespace {

std::string key_of(std::string_view endpoint, const std::vector<source::parameter>& params,
                   std::optional<data_version> version = std::nullopt) {
    std::string key = "left over from an earlier request";
    encode_key(key, endpoint, params, version);
    return key;
}

TEST(cache_key, the_documented_format) {
    EXPECT_EQ(key_of("/e", {}), "/e\x1f");
    EXPECT_EQ(key_of("/e", {{"n", std::int64_t{5}}, {"s", std::string("ab")}, {"none", std::monostate{}}}),
              "/e\x1fn=i5\x1fs=s2:ab\x1fnone=~\x1f");
    EXPECT_EQ(key_of("/e", {{"d", model::date{15000}}, {"b", true}}),
              "/e\x1f"
              "d=D15000\x1f"
              "b=b1\x1f");
    EXPECT_EQ(key_of("/r", {}, data_version{12, false}), "/r\x1fi12");
    EXPECT_EQ(key_of("/r", {}, data_version{12, true}), "/r\x1fi12!");
}

TEST(cache_key, types_versions_and_separators_never_collide) {
    const std::vector<std::vector<source::parameter>> distinct = {
        {{"a", std::int64_t{1}}},
        {{"a", std::string("1")}},
        {{"a", 1.0}},
        {{"a", true}},
        {{"a", model::date{1}}},
        {{"a", model::timestamp{1}}},
        {{"a", model::decimal{1, 0}}},
        {{"a", model::decimal{10, 1}}},
        {{"a", std::monostate{}}},
        {{"a", std::string("")}},
        // A text value cannot imitate a second parameter.
        {{"a", std::string("x\x1f"
                           "b=i2")}},
        {{"a", std::string("x")}, {"b", std::int64_t{2}}},
    };
    std::set<std::string> keys;
    for (const auto& params : distinct) keys.insert(key_of("/e", params));
    EXPECT_EQ(keys.size(), distinct.size());
    EXPECT_NE(key_of("/e", {}, data_version{1, false}), key_of("/e", {}, data_version{2, false}));
    EXPECT_NE(key_of("/e", {}, data_version{1, false}), key_of("/e", {}, data_version{1, true}));
    EXPECT_NE(key_of("/e", {}), key_of("/f", {}));
    EXPECT_EQ(key_of("/e", distinct[1]), key_of("/e", distinct[1]));
}

}  // namespace
}  // namespace frost::cache
