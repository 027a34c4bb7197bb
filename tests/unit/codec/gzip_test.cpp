#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "codec/gzip.hpp"

namespace frost::codec {
namespace {

constexpr std::size_t big_cap = 1 << 26;

std::string random_json(std::mt19937_64& rng, std::size_t rows) {
    std::string s = "{\"result\":[";
    for (std::size_t i = 0; i < rows; ++i)
        s += (i ? "," : "") + std::string("[") + std::to_string(rng() % 100000) + ",\"Mon\"]";
    return s + "],\"time_ms\":3}";
}

// Runs a gzip(1) command over `input`: an oracle independent of our zlib calls.
std::optional<std::string> system_gzip(const std::string& args, const std::string& input) {
    const auto path = std::filesystem::temp_directory_path() / ("frost-gz-" + std::to_string(::getpid()));
    std::ofstream(path, std::ios::binary) << input;
    const std::string cmd = "gzip " + args + " < '" + path.string() + "' 2>/dev/null";
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

bool have_gzip() {
    return std::system("command -v gzip >/dev/null 2>&1") == 0;
}

TEST(gzip, decodes_to_the_identity_bytes_and_gzip_1_agrees) {
    std::mt19937_64 rng(7);
    for (std::size_t rows : {0u, 1u, 12u, 500u, 20000u}) {
        const auto body = random_json(rng, rows);
        auto z = gzip(body);
        ASSERT_TRUE(z);
        EXPECT_EQ(gunzip(*z, big_cap), body);
        if (have_gzip()) {
            EXPECT_EQ(system_gzip("-dc", *z), body) << "gzip(1) rejected our stream";
            auto theirs = system_gzip("-c", body);
            ASSERT_TRUE(theirs);
            EXPECT_EQ(gunzip(*theirs, big_cap), body) << "we rejected gzip(1)'s stream";
        }
    }
}

TEST(gzip, gunzip_rejects_garbage_truncation_and_trailing_bytes) {
    auto z = gzip(std::string(5000, 'a'));
    ASSERT_TRUE(z);
    EXPECT_FALSE(gunzip(z->substr(0, z->size() / 2), big_cap));
    EXPECT_FALSE(gunzip(z->substr(0, z->size() - 1), big_cap));  // CRC/length trailer cut
    EXPECT_FALSE(gunzip(*z + "junk", big_cap));
    EXPECT_FALSE(gunzip("not gzip at all", big_cap));
    EXPECT_FALSE(gunzip("", big_cap));
    auto damaged = *z;
    damaged[damaged.size() - 6] ^= 1;  // CRC32
    EXPECT_FALSE(gunzip(damaged, big_cap));
}

TEST(gzip, concatenated_members_decode_as_one_stream) {
    // RFC 1952 §2.2; gzip(1) writes this for `cat a.gz b.gz`.
    auto a = gzip("hello, "), b = gzip("world");
    ASSERT_TRUE(a && b);
    EXPECT_EQ(gunzip(*a + *b, big_cap), std::optional<std::string>("hello, world"));
}

TEST(gzip, the_output_cap_stops_a_bomb) {
    const std::string zeros(8 << 20, '\0');
    auto bomb = gzip(zeros, 9);
    ASSERT_TRUE(bomb);
    ASSERT_LT(bomb->size(), 64u << 10);
    EXPECT_FALSE(gunzip(*bomb, 1 << 20));
    EXPECT_FALSE(gunzip(*bomb, zeros.size() - 1));
    EXPECT_EQ(gunzip(*bomb, zeros.size()), zeros);
}

TEST(gzip, every_level_round_trips) {
    std::mt19937_64 rng(9);
    const auto body = random_json(rng, 300);
    for (int level = 1; level <= 9; ++level) {
        auto z = gzip(body, level);
        ASSERT_TRUE(z);
        EXPECT_EQ(gunzip(*z, big_cap), body);
    }
}

}  // namespace
}  // namespace frost::codec
