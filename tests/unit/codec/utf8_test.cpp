#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <random>
#include <string>

#include "codec/utf8.hpp"

namespace frost::codec {
namespace {

// Oracle: Boost.JSON's parser, which refuses ill-formed UTF-8 inside a string literal.
// Only bytes >= 0x80 are fed to it, so JSON escaping never matters.
bool json_accepts(const std::string& bytes) {
    boost::system::error_code ec;
    (void)boost::json::parse("\"" + bytes + "\"", ec);
    return !ec;
}

// An independent encoder: the RFC 3629 §3 table.
std::string encode(std::uint32_t cp) {
    std::string s;
    if (cp < 0x80) {
        s += static_cast<char>(cp);
    } else if (cp < 0x800) {
        s += static_cast<char>(0xc0 | cp >> 6);
        s += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        s += static_cast<char>(0xe0 | cp >> 12);
        s += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
        s += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        s += static_cast<char>(0xf0 | cp >> 18);
        s += static_cast<char>(0x80 | (cp >> 12 & 0x3f));
        s += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
        s += static_cast<char>(0x80 | (cp & 0x3f));
    }
    return s;
}

TEST(utf8, every_scalar_value_is_valid_and_every_surrogate_is_not) {
    for (std::uint32_t cp = 0; cp <= 0x10ffff; ++cp) {
        const auto s = encode(cp);
        const bool surrogate = cp >= 0xd800 && cp <= 0xdfff;
        ASSERT_EQ(valid_utf8(s), !surrogate) << std::hex << cp;
        ASSERT_EQ(utf8_sequence_length(s, 0), surrogate ? 0 : s.size()) << std::hex << cp;
    }
}

TEST(utf8, rejects_what_rfc_3629_forbids) {
    for (const char* bad : {"\xc0\xaf",                                                  // overlong '/'
                            "\xc1\xbf", "\xe0\x80\xaf",                                  // overlong
                            "\xf0\x80\x80\xaf",                                          // overlong
                            "\xed\xa0\x80", "\xed\xbf\xbf",                              // surrogates U+D800, U+DFFF
                            "\xf4\x90\x80\x80",                                          // U+110000
                            "\xf5\x80\x80\x80", "\xf8\x88\x80\x80\x80", "\xfe", "\xff",  // lead bytes F5..FF
                            "\x80", "\xbf",                                              // stray continuation bytes
                            "\xe2\x82", "\xf0\x9f\x9a",                                  // cut short
                            "\xc3\x28", "a\xe2\x28\xa1"}) {
        EXPECT_FALSE(valid_utf8(bad)) << testing::PrintToString(std::string(bad));
        EXPECT_FALSE(json_accepts(bad)) << "oracle disagrees on " << testing::PrintToString(std::string(bad));
    }
    EXPECT_TRUE(valid_utf8(""));
    EXPECT_TRUE(valid_utf8("caf\xc3\xa9 \xf0\x9f\x9a\xb2 \xef\xbf\xbd \xf4\x8f\xbf\xbf"));
    EXPECT_TRUE(valid_utf8(std::string("a\0b", 3)));  // NUL is UTF-8; callers refuse control bytes themselves
}

TEST(utf8, agrees_with_an_independent_validator_on_every_short_sequence) {
    // Every two-byte string of non-ASCII bytes, and random three- and four-byte ones.
    for (int a = 0x80; a <= 0xff; ++a) {
        for (int b = 0x80; b <= 0xff; ++b) {
            const std::string s{static_cast<char>(a), static_cast<char>(b)};
            ASSERT_EQ(valid_utf8(s), json_accepts(s)) << std::hex << a << ' ' << b;
        }
    }
    std::mt19937 rng(11);
    std::uniform_int_distribution<int> high(0x80, 0xff);
    for (int i = 0; i < 200'000; ++i) {
        std::string s;
        const int n = 3 + i % 2;
        for (int k = 0; k < n; ++k) s += static_cast<char>(high(rng));
        ASSERT_EQ(valid_utf8(s), json_accepts(s)) << testing::PrintToString(s);
    }
}

TEST(utf8, replacement_makes_any_bytes_valid_and_keeps_valid_text) {
    EXPECT_EQ(utf8_or_replacement("caf\xc3\xa9"), "caf\xc3\xa9");
    EXPECT_EQ(utf8_or_replacement("a\xed\xa0\x80z"), "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz");
    EXPECT_EQ(utf8_or_replacement("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd");
    std::mt19937 rng(5);
    for (int i = 0; i < 2000; ++i) {
        std::string s(rng() % 16, '\0');
        for (auto& c : s) c = static_cast<char>(rng());
        EXPECT_TRUE(valid_utf8(utf8_or_replacement(s)));
    }
}

}  // namespace
}  // namespace frost::codec
