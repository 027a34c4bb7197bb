#include <gtest/gtest.h>

#include <openssl/evp.h>

#include <random>
#include <string>

#include "codec/base64.hpp"

namespace frost::codec {
namespace {

using enum base64_alphabet;
using enum base64_padding;

// Oracle: OpenSSL's encoder (standard alphabet, padded).
std::string openssl_base64(const std::string& bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

TEST(base64, rfc_4648_test_vectors) {
    const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                           {"f", "Zg=="},
                                                           {"fo", "Zm8="},
                                                           {"foo", "Zm9v"},
                                                           {"foob", "Zm9vYg=="},
                                                           {"fooba", "Zm9vYmE="},
                                                           {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, text] : vectors) {
        EXPECT_EQ(base64_encode(plain), text);
        EXPECT_EQ(base64_decode(text), std::optional<std::string>(plain));
    }
    EXPECT_EQ(base64_encode("fo", url, forbidden), "Zm8");
    EXPECT_EQ(base64_encode("\xfb\xff", url, forbidden), "-_8");
    EXPECT_EQ(base64_encode("\xfb\xff"), "+/8=");
    EXPECT_EQ(base64_decode("-_8", url, forbidden), std::optional<std::string>("\xfb\xff"));
}

TEST(base64, matches_openssl_on_random_bytes_and_round_trips) {
    std::mt19937_64 rng(3);
    for (int i = 0; i < 3000; ++i) {
        std::string bytes(rng() % 70, '\0');
        for (auto& c : bytes) c = static_cast<char>(rng());
        const auto text = base64_encode(bytes);
        ASSERT_EQ(text, openssl_base64(bytes));
        ASSERT_EQ(base64_decode(text), bytes);
        const auto u = base64_encode(bytes, url, forbidden);
        ASSERT_EQ(u.find_first_of("+/="), std::string::npos);
        ASSERT_EQ(base64_decode(u, url, forbidden), bytes);
    }
}

TEST(base64, decoder_is_strict) {
    EXPECT_FALSE(base64_decode("Z"));                      // 4n+1 characters
    EXPECT_FALSE(base64_decode("Zm9v=", url, forbidden));  // JWS parts carry no padding
    EXPECT_FALSE(base64_decode("Zm8", standard, required));
    EXPECT_FALSE(base64_decode("Zm+v", url, forbidden));  // wrong alphabet
    EXPECT_FALSE(base64_decode("Zm-v"));
    EXPECT_FALSE(base64_decode("Zh==")) << "non-zero trailing bits: not the canonical form";
    EXPECT_FALSE(base64_decode("Zh", url, forbidden));
    EXPECT_FALSE(base64_decode("ab=c"));   // '=' inside
    EXPECT_FALSE(base64_decode("abc=="));  // padding past a multiple of 4
    EXPECT_FALSE(base64_decode("a==="));
    EXPECT_FALSE(base64_decode("ab\ncd"));  // no whitespace or line breaks
    EXPECT_FALSE(base64_decode(" Zm9v"));
    EXPECT_EQ(base64_decode(""), std::optional<std::string>(""));
}

// The Lambda adapter decodes request bodies with padding optional, laxer than `required` on
// purpose: API Gateway pads, but events built by hand (test tools, proxies re-encoding
// bodies) often do not, and both forms mean the same bytes, so refusing one would only turn
// a valid request into a 400.
TEST(base64, padding_optional_accepts_both_forms_and_nothing_else) {
    EXPECT_EQ(base64_decode("Zm8=", standard, optional), std::optional<std::string>("fo"));
    EXPECT_EQ(base64_decode("Zm8", standard, optional), std::optional<std::string>("fo"));
    EXPECT_EQ(base64_decode("Zg", standard, optional), std::optional<std::string>("f"));
    EXPECT_FALSE(base64_decode("Zm8==", standard, optional));
    EXPECT_FALSE(base64_decode("Zg=", standard, optional));
    EXPECT_FALSE(base64_decode("Z", standard, optional));
}

}  // namespace
}  // namespace frost::codec
