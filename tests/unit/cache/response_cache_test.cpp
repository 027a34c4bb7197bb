#include <gtest/gtest.h>

#include "cache/http_caching.hpp"
#include "cache/response_cache.hpp"
#include "codec/gzip.hpp"

namespace frost::cache {
namespace {

using namespace std::chrono_literals;

config::cache_policy policy(std::chrono::milliseconds ttl, std::chrono::milliseconds swr = 0ms,
                            std::chrono::milliseconds sie = 0ms) {
    config::cache_policy p;
    p.ttl = ttl;
    p.stale_while_revalidate = swr;
    p.stale_if_error = sie;
    return p;
}

std::shared_ptr<const entry> make(const std::string& key, std::size_t body_bytes, model::clock::time_point now,
                                  config::cache_policy p = policy(60s)) {
    return make_entry(key, 200, std::string(body_bytes, 'x'), {{"Content-Type", "application/json"}}, p, 1u << 30, now);
}

TEST(response_cache, ttl_then_stale_windows_then_gone) {
    response_cache c(1 << 20);
    const auto t0 = model::clock::now();
    c.insert(make("k", 10, t0, policy(100ms, 50ms, 200ms)));
    EXPECT_EQ(c.find("k", t0).state, freshness::fresh);
    EXPECT_EQ(c.find("k", t0 + 99ms).state, freshness::fresh);
    EXPECT_EQ(c.find("k", t0 + 100ms).state, freshness::stale_revalidate);
    EXPECT_EQ(c.find("k", t0 + 149ms).state, freshness::stale_revalidate);
    EXPECT_EQ(c.find("k", t0 + 150ms).state, freshness::stale_if_error);
    EXPECT_EQ(c.find("k", t0 + 299ms).state, freshness::stale_if_error);
    EXPECT_EQ(c.find("k", t0 + 300ms).state, freshness::absent);
    EXPECT_EQ(c.size(), 0u);  // dropped once past its last window
    EXPECT_EQ(c.bytes(), 0u);
}

TEST(response_cache, plain_ttl_expires) {
    response_cache c(1 << 20);
    const auto t0 = model::clock::now();
    c.insert(make("k", 10, t0, policy(1s)));
    EXPECT_TRUE(c.find("k", t0 + 999ms).e);
    EXPECT_FALSE(c.find("k", t0 + 1s).e);
}

TEST(response_cache, evicts_least_recently_used_by_bytes) {
    const auto t0 = model::clock::now();
    const auto one = make("a", 1000, t0)->footprint();
    response_cache c(one * 3 + one / 2);  // room for three entries of this size
    c.insert(make("a", 1000, t0));
    c.insert(make("b", 1000, t0));
    c.insert(make("c", 1000, t0));
    EXPECT_EQ(c.size(), 3u);
    ASSERT_TRUE(c.find("a", t0).e);  // a is now the most recently used; b the least
    c.insert(make("d", 1000, t0));
    EXPECT_EQ(c.size(), 3u);
    EXPECT_FALSE(c.find("b", t0).e);
    EXPECT_TRUE(c.find("a", t0).e);
    EXPECT_TRUE(c.find("c", t0).e);
    EXPECT_TRUE(c.find("d", t0).e);
    EXPECT_LE(c.bytes(), one * 3 + one / 2);
    EXPECT_EQ(c.evictions(), 1u);
    // A big entry pushes out as many as it needs.
    c.insert(make("big", 2500, t0));
    EXPECT_LE(c.bytes(), one * 3 + one / 2);
    EXPECT_TRUE(c.find("big", t0).e);
    EXPECT_FALSE(c.find("c", t0).e);
}

TEST(response_cache, bytes_track_inserts_replacements_and_an_oversized_entry_is_not_kept) {
    const auto t0 = model::clock::now();
    response_cache c(10'000);
    c.insert(make("a", 100, t0));
    const auto after_one = c.bytes();
    EXPECT_EQ(after_one, make("a", 100, t0)->footprint());
    c.insert(make("a", 300, t0));  // replace
    EXPECT_EQ(c.size(), 1u);
    EXPECT_EQ(c.bytes(), make("a", 300, t0)->footprint());
    c.insert(make("huge", 20'000, t0));
    EXPECT_FALSE(c.find("huge", t0).e);
    EXPECT_TRUE(c.find("a", t0).e);
}

TEST(response_cache, entries_hold_gzip_and_etags_consistently) {
    const auto t0 = model::clock::now();
    std::string body;
    for (int i = 0; i < 200; ++i) body += "[" + std::to_string(i) + ",\"Jan\"],";
    auto e = make_entry("k", 200, body, {{"Content-Type", "application/json"}}, policy(60s), 256, t0);
    ASSERT_TRUE(e->gzip_body);
    EXPECT_LT(e->gzip_body->size(), e->body->size());
    EXPECT_EQ(*codec::gunzip(*e->gzip_body, 1 << 24), *e->body);
    EXPECT_EQ(e->etag, strong_etag(*e->body));
    EXPECT_NE(e->etag, e->gzip_etag);
    auto has = [](const header_list& h, const std::string& k, const std::string& v) {
        for (const auto& [a, b] : h)
            if (a == k && b == v) return true;
        return false;
    };
    EXPECT_TRUE(has(e->gzip_headers, "Content-Encoding", "gzip"));
    EXPECT_TRUE(has(e->gzip_headers, "ETag", e->gzip_etag));
    EXPECT_TRUE(has(e->identity_headers, "ETag", e->etag));
    EXPECT_FALSE(has(e->identity_headers, "Content-Encoding", "gzip"));
    EXPECT_FALSE(has(e->not_modified_headers, "Content-Type", "application/json"));
    // Below the threshold: no gzip form at all.
    auto small = make_entry("s", 200, "{\"a\":1}", {}, policy(60s), 256, t0);
    EXPECT_FALSE(small->gzip_body);
}

}  // namespace
}  // namespace frost::cache
