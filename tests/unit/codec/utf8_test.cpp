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

// Oracle for `append_utf8_or_replacement`: at a non-ASCII byte, the well-formed sequence there is
// the shortest run of 2 to 4 bytes Boost.JSON accepts as a string (no proper prefix of a sequence
// is accepted, and nothing longer is once the start is ill-formed); with none, that one byte
// becomes U+FFFD.
std::string replaced_by_oracle(const std::string& s) {
    std::string out;
    std::size_t i = 0;
    while (i < s.size()) {
        if (static_cast<unsigned char>(s[i]) < 0x80) {
            out += s[i++];
            continue;
        }
        std::size_t len = 0;
        for (std::size_t n = 2; n <= 4 && i + n <= s.size() && len == 0; ++n)
            if (json_accepts(s.substr(i, n))) len = n;
        if (len == 0) {
            out += "\xef\xbf\xbd";
            ++i;
        } else {
            out += s.substr(i, len);
            i += len;
        }
    }
    return out;
}

// Appends `s` a sequence at a time, as the JSON and CSV writers do, checking each step's count.
std::string appended(const std::string& s) {
    std::string out = "<";
    for (std::size_t i = 0; i < s.size();) {
        const auto before = out.size();
        const auto used = append_utf8_or_replacement(out, s, i);
        EXPECT_GE(used, 1u);
        EXPECT_LE(i + used, s.size());
        // A copied sequence is its own bytes; a replaced byte is U+FFFD alone.
        EXPECT_TRUE(out.compare(before, std::string::npos, s, i, used) == 0 ||
                    (used == 1 && out.compare(before, std::string::npos, "\xef\xbf\xbd") == 0))
            << testing::PrintToString(s) << " at " << i;
        i += used;
    }
    EXPECT_EQ(out[0], '<');  // appends, never overwrites
    return out.substr(1);
}

TEST(utf8, appending_agrees_with_the_oracle_on_random_bytes) {
    std::mt19937 rng(23);
    std::uniform_int_distribution<int> length(0, 24), byte(0, 255), high(0x80, 0xff), kind(0, 3);
    for (int i = 0; i < 20'000; ++i) {
        std::string s(static_cast<std::size_t>(length(rng)), '\0');
        // Mostly high bytes, so lead and continuation bytes meet often; some ASCII between them.
        for (auto& c : s) c = static_cast<char>(kind(rng) == 0 ? byte(rng) : high(rng));
        const auto got = appended(s);
        ASSERT_EQ(got, replaced_by_oracle(s)) << testing::PrintToString(s);
        ASSERT_TRUE(valid_utf8(got)) << testing::PrintToString(s);
        ASSERT_EQ(got, utf8_or_replacement(s));
        if (valid_utf8(s)) {
            ASSERT_EQ(got, s);
        }
    }
    // Well-formed text of every length class comes back unchanged.
    std::uniform_int_distribution<std::uint32_t> scalar(0, 0x10ffff - 0x800);
    for (int i = 0; i < 2'000; ++i) {
        std::string s;
        for (int k = 0; k < 6; ++k) {
            auto cp = scalar(rng);
            if (cp >= 0xd800) cp += 0x800;  // skip the surrogates
            s += encode(cp);
        }
        ASSERT_EQ(appended(s), s) << testing::PrintToString(s);
    }
}

// Each byte of an ill-formed stretch is replaced on its own: this is not Unicode's "maximal
// subpart" practice (which gives one U+FFFD for `E2 82`), and the JSON and CSV answers have
// always written it this way.
TEST(utf8, each_bad_byte_is_one_replacement_character) {
    const std::string r = "\xef\xbf\xbd";
    EXPECT_EQ(appended("\xe2\x82"), r + r);                               // cut short
    EXPECT_EQ(appended("\xf0\x9f\x9a"), r + r + r);                       // cut short
    EXPECT_EQ(appended("\xf0\x9f\x9a\xb2"), "\xf0\x9f\x9a\xb2");          // U+1F6B2 itself
    EXPECT_EQ(appended("\xed\xa0\x80"), r + r + r);                       // surrogate U+D800
    EXPECT_EQ(appended("\xc0\xaf"), r + r);                               // overlong '/'
    EXPECT_EQ(appended("\xf4\x90\x80\x80"), r + r + r + r);               // above U+10FFFF
    EXPECT_EQ(appended("a\xe2\x28\xa1"), "a" + r + "(" + r);              // a lead byte before ASCII
    EXPECT_EQ(appended("\xe2\x82\xe2\x82\xac"), r + r + "\xe2\x82\xac");  // then a whole euro sign
    EXPECT_EQ(appended("\x80\xbf\xff"), r + r + r);                       // stray continuations, FF
}

}  // namespace
}  // namespace frost::codec
