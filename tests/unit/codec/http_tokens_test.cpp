#include <gtest/gtest.h>

#include "codec/http_tokens.hpp"

namespace frost::codec {
namespace {

TEST(http_tokens, compare_trim_lower) {
    EXPECT_TRUE(iequals("Content-Encoding", "content-encoding"));
    EXPECT_TRUE(iequals("", ""));
    EXPECT_FALSE(iequals("gzip", "gzip "));
    EXPECT_FALSE(iequals("\xc3\xa9", "\xc3\x89"));  // only ASCII folds
    EXPECT_EQ(trim(" \t gzip;q=1 \t"), "gzip;q=1");
    EXPECT_EQ(trim(" \t "), "");
    EXPECT_EQ(trim("a\r"), "a\r");  // CR is not OWS
    EXPECT_EQ(to_lower("X-GZip \xc3\x89"), "x-gzip \xc3\x89");
}

struct accept_case {
    const char* header;
    bool gzip;
};

// RFC 9110 §12.5.3, case by case. The old copies disagreed on the marked rows: the Lambda
// adapter took the first of `gzip` or `*` and did not know `x-gzip`.
TEST(accept_encoding, follows_rfc_9110) {
    const accept_case cases[] = {
        {"gzip", true},
        {"GZIP", true},
        {"gzip, deflate, br", true},
        {"deflate, GZIP;q=0.5, br", true},
        {"x-gzip", true},  // Lambda said no
        {"*", true},
        {"*;q=0.1", true},
        {"gzip;q=0", false},
        {"gzip;q=0.000", false},
        {"gzip; q=0", false},
        {"gzip;Q=0", false},
        {"*, gzip;q=0", false},  // Lambda said yes
        {"gzip;q=0, *", false},
        {"*;q=0", false},
        {"x-gzip;q=0, *", false},
        {"identity", false},
        {"", false},
        {" , ,", false},
        {"br, deflate", false},
        {"gzip;q=0.5, identity", false},  // identity preferred
        {"identity;q=0.5, gzip", true},
        {"identity;q=0", false},  // refuses both: identity anyway (SHOULD)
        {"identity;q=0, gzip;q=0.1", true},
        {"identity;q=0, *", true},
        {"gzip;q=0.3, *;q=0.5", false},  // * sets identity's preference too
        {"gzip;q=1.0", true},
        {"gzip;q=2", false},  // malformed q: member ignored
        {"gzip;q=0.0001", false},
        {"gzip;q=abc", false},
        {"gzip;level=1", true},
        {"gzip;level=1;q=0", false},
        {"gzipx", false},
        {"compress, gzip;q=0.001", true},
    };
    for (const auto& c : cases) EXPECT_EQ(accepts_gzip(c.header), c.gzip) << '"' << c.header << '"';
}

TEST(http_tokens, accept_ranges_parse_with_their_weights) {
    const auto r =
        parse_accept("text/csv;q=0.5, application/*;charset=utf-8;q=0.25;ext=1 , */*;q=0, bad, a/b;q=2, ,x/*");
    ASSERT_EQ(r.size(), 4u);
    EXPECT_EQ(r[0].type, "text");
    EXPECT_EQ(r[0].subtype, "csv");
    EXPECT_EQ(r[0].q, 500);
    EXPECT_EQ(r[1].subtype, "*");
    EXPECT_EQ(r[1].q, 250);
    EXPECT_EQ(r[2].q, 0);
    EXPECT_EQ(r[3].type, "x");
    EXPECT_EQ(r[3].q, 1000);
    EXPECT_TRUE(parse_accept("").empty());
    EXPECT_TRUE(parse_accept("*/json, text/").empty());  // `*/x` and an empty subtype are not media ranges
}

TEST(http_tokens, the_most_specific_range_gives_the_quality) {
    const auto r = parse_accept("*/*;q=0.1, text/*;q=0.5, text/csv;q=0, application/json");
    EXPECT_EQ(accept_quality(r, "text", "csv"), 0);  // refused by name, despite text/* and */*
    EXPECT_EQ(accept_quality(r, "text", "plain"), 500);
    EXPECT_EQ(accept_quality(r, "application", "x-ndjson"), 100);
    EXPECT_EQ(accept_quality(r, "APPLICATION", "JSON"), 1000);
    const auto none = parse_accept("image/png");
    EXPECT_EQ(accept_quality(none, "text", "csv"), -1);
    const auto twice = parse_accept("text/csv;q=0.2, text/csv;q=0.7");
    EXPECT_EQ(accept_quality(twice, "text", "csv"), 700);
}

}  // namespace
}  // namespace frost::codec
