#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "cache/http_caching.hpp"

namespace frost::cache {
namespace {

std::string random_json(std::mt19937_64& rng, std::size_t rows) {
    std::string s = "{\"result\":[";
    for (std::size_t i = 0; i < rows; ++i) s += (i ? "," : "") + std::string("[") + std::to_string(rng() % 100000) + ",\"Mon\"]";
    return s + "],\"time_ms\":3}";
}

// The system's gzip(1) is an oracle independent of our zlib calls.
std::optional<std::string> system_gunzip(const std::string& compressed) {
    const auto path = std::filesystem::temp_directory_path() / ("frost-gz-" + std::to_string(::getpid()) + ".gz");
    std::ofstream(path, std::ios::binary) << compressed;
    std::string cmd = "gzip -dc '" + path.string() + "' 2>/dev/null";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return std::nullopt;
    std::string out;
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    const int rc = ::pclose(p);
    std::filesystem::remove(path);
    if (rc != 0) return std::nullopt;
    return out;
}

TEST(gzip, decodes_to_the_identity_bytes) {
    std::mt19937_64 rng(7);
    for (std::size_t rows : {0u, 1u, 12u, 500u, 20000u}) {
        const auto body = random_json(rng, rows);
        auto z = gzip(body);
        ASSERT_TRUE(z);
        auto back = gunzip(*z);
        ASSERT_TRUE(back);
        EXPECT_EQ(*back, body);
        if (std::system("command -v gzip >/dev/null 2>&1") == 0) {
            auto sys = system_gunzip(*z);
            ASSERT_TRUE(sys) << "gzip(1) rejected our stream";
            EXPECT_EQ(*sys, body);
        }
    }
}

TEST(gzip, gunzip_rejects_garbage_and_truncation) {
    auto z = gzip(std::string(5000, 'a'));
    ASSERT_TRUE(z);
    EXPECT_FALSE(gunzip(z->substr(0, z->size() / 2)));
    EXPECT_FALSE(gunzip("not gzip at all"));
    EXPECT_FALSE(gunzip(""));
}

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

TEST(accept_encoding, honours_q_values) {
    EXPECT_TRUE(accepts_gzip("gzip"));
    EXPECT_TRUE(accepts_gzip("deflate, GZIP;q=0.5, br"));
    EXPECT_TRUE(accepts_gzip("x-gzip"));
    EXPECT_TRUE(accepts_gzip("*"));
    EXPECT_FALSE(accepts_gzip("gzip;q=0"));
    EXPECT_FALSE(accepts_gzip("gzip;q=0.000"));
    EXPECT_FALSE(accepts_gzip("*, gzip;q=0"));
    EXPECT_FALSE(accepts_gzip("identity"));
    EXPECT_FALSE(accepts_gzip(""));
    EXPECT_FALSE(accepts_gzip("br, deflate"));
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
