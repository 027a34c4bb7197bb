#include <gtest/gtest.h>

#include "codec/fnv.hpp"

namespace frost::codec {
namespace {

// Reference values of 64-bit FNV-1a (Fowler, Noll, Vo; the draft-eastlake-fnv test suite).
TEST(fnv, known_vectors) {
    EXPECT_EQ(fnv1a_64(""), 0xcbf29ce484222325ull);
    EXPECT_EQ(fnv1a_64("a"), 0xaf63dc4c8601ec8cull);
    EXPECT_EQ(fnv1a_64("foobar"), 0x85944171f73967e8ull);
    static_assert(fnv1a_64("a") == 0xaf63dc4c8601ec8cull, "usable at compile time");
}

TEST(fnv, high_bytes_are_unsigned) {
    // A signed-char implementation would hash 0xff as 0xffffffffffffffff.
    EXPECT_NE(fnv1a_64("\xff"), fnv1a_64("\x7f"));
    std::uint64_t h = 0xcbf29ce484222325ull;
    h = (h ^ 0xffu) * 0x100000001b3ull;
    EXPECT_EQ(fnv1a_64("\xff"), h);
}

}  // namespace
}  // namespace frost::codec
