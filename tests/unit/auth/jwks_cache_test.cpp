#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "auth/jwks_cache.hpp"
#include "support/jwt_tokens.hpp"

namespace {

using namespace std::chrono_literals;

TEST(cache_lifetime, reads_cache_control) {
    using frost::auth::cache_lifetime;
    EXPECT_EQ(cache_lifetime("public, max-age=3600").value(), 3600s);
    EXPECT_EQ(cache_lifetime("s-maxage=60").value(), 60s);
    EXPECT_EQ(cache_lifetime("no-cache").value(), 0s);
    EXPECT_EQ(cache_lifetime(" Max-Age=10 , must-revalidate").value(), 10s);
    EXPECT_FALSE(cache_lifetime("public").has_value());
    EXPECT_FALSE(cache_lifetime("max-age=abc").has_value());
    EXPECT_FALSE(cache_lifetime("").has_value());
}

struct jwks_file : ::testing::Test {
    std::filesystem::path path = std::filesystem::temp_directory_path() /
                                 ("frost-jwks-" + std::to_string(::getpid()) + "-" +
                                  ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".json");
    void write(const std::string& text) { std::ofstream(path) << text; }
    ~jwks_file() override { std::filesystem::remove(path); }
};

TEST_F(jwks_file, unknown_kid_refetch_is_rate_limited_and_picks_up_rotation) {
    auto k1 = frost::testing::signing_key::p256("k1");
    auto k2 = frost::testing::signing_key::p256("k2");
    write(frost::testing::jwks({&k1}));
    frost::config::jwt_config cfg;
    cfg.jwks_file = path.string();
    cfg.refetch_interval = 400ms;
    auto cache = frost::auth::jwks_cache::start(cfg, "/");
    ASSERT_TRUE(cache->keys());
    EXPECT_EQ(cache->fetches(), 1u);
    write(frost::testing::jwks({&k1, &k2}));  // the issuer rotates
    // A flood of unknown kids right after a fetch: nothing happens before the interval ends.
    for (int i = 0; i < 1000; ++i) cache->request_refetch();
    std::this_thread::sleep_for(150ms);
    EXPECT_EQ(cache->fetches(), 1u);
    EXPECT_EQ(cache->keys()->find("k2"), nullptr);
    std::this_thread::sleep_for(600ms);
    EXPECT_EQ(cache->fetches(), 2u) << "exactly one refetch for the whole flood";
    EXPECT_NE(cache->keys()->find("k2"), nullptr);
}

TEST_F(jwks_file, keeps_last_good_keys_when_the_source_breaks) {
    auto k1 = frost::testing::signing_key::p256("k1");
    write(frost::testing::jwks({&k1}));
    frost::config::jwt_config cfg;
    cfg.jwks_file = path.string();
    cfg.refetch_interval = 50ms;
    auto cache = frost::auth::jwks_cache::start(cfg, "/");
    write("{ this is not json");
    cache->request_refetch();
    std::this_thread::sleep_for(300ms);
    EXPECT_GE(cache->failures(), 1u);
    ASSERT_TRUE(cache->keys());
    EXPECT_NE(cache->keys()->find("k1"), nullptr);
}

TEST(jwks_url, unreachable_at_start_fails_closed_within_the_timeout) {
    frost::config::jwt_config cfg;
    cfg.jwks_url = "http://127.0.0.1:9/jwks.json";  // discard port: refused
    cfg.fetch_timeout = 300ms;
    const auto t0 = std::chrono::steady_clock::now();
    auto cache = frost::auth::jwks_cache::start(cfg, "/");
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
    EXPECT_FALSE(cache->keys());
    EXPECT_EQ(cache->failures(), 1u);
}

}  // namespace
