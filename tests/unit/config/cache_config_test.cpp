// The config keys of caching and rollups: what loads, and that mistakes name the key at fault.
#include <gtest/gtest.h>

#include "config/config.hpp"

namespace frost::config {
namespace {

const std::string base = R"(
sources:
  db: {type: duckdb, path: ":memory:"}
)";

model::result<config> load(const std::string& rest) {
    return load_text(base + rest, "t.yaml", "/srv/frost");
}

TEST(cache_config, loads_policies_rollups_and_the_serving_database) {
    auto cfg = load(R"(
cache: {max_bytes: 1048576, min_gzip_bytes: 100}
serving: {path: data/serving.duckdb, options: {threads: 1}}
rollups:
  per_day:
    source: db
    refresh: 15m
    sql: select 1 as x
endpoints:
  - path: /a
    rollup: per_day
    cache: {ttl: 60s, stale_while_revalidate: 30s, stale_if_error: 10m, shared: false}
    sql: select x from per_day
  - path: /b
    source: db
    sql: select 1
)");
    ASSERT_TRUE(cfg) << cfg.error().message;
    const auto& c = cfg.value();
    EXPECT_EQ(c.cache.max_bytes, 1048576u);
    EXPECT_EQ(c.cache.min_gzip_bytes, 100u);
    EXPECT_EQ(c.serving.path, "/srv/frost/data/serving.duckdb");
    EXPECT_EQ(c.serving.options.at("threads"), "1");
    ASSERT_EQ(c.rollups.size(), 1u);
    EXPECT_EQ(c.rollups[0].name, "per_day");
    EXPECT_EQ(c.rollups[0].refresh, std::chrono::minutes(15));
    EXPECT_EQ(c.endpoints[0].rollup, "per_day");
    EXPECT_EQ(c.endpoints[0].cache.ttl, std::chrono::seconds(60));
    EXPECT_EQ(c.endpoints[0].cache.stale_while_revalidate, std::chrono::seconds(30));
    EXPECT_EQ(c.endpoints[0].cache.stale_if_error, std::chrono::minutes(10));
    EXPECT_FALSE(c.endpoints[0].cache.shared);
    EXPECT_EQ(c.endpoints[1].cache.ttl.count(), 0);  // not cached unless asked
    EXPECT_TRUE(c.endpoints[1].rollup.empty());
}

TEST(cache_config, mistakes_name_the_key) {
    struct bad {
        std::string yaml;
        std::string expected;
    };
    const std::vector<bad> cases = {
        {"endpoints:\n  - {path: /a, rollup: nope, sql: select 1}\n", "no rollup named \"nope\""},
        {"rollups:\n  r: {source: db, sql: select 1}\nendpoints:\n  - {path: /a, rollup: r, source: db, sql: select "
         "1}\n",
         "either a rollup or a source"},
        {"endpoints:\n  - {path: /a, source: db, sql: select 1, cache: {stale_if_error: 5s}}\n",
         "stale windows need a ttl"},
        {"endpoints:\n  - {path: /a, source: db, sql: select 1, cache: {ttl: 5 minutes}}\n", ".cache.ttl"},
        {"endpoints:\n  - {path: /a, source: db, sql: select 1, cache: {tll: 5s}}\n", "unknown key \"tll\""},
        {"rollups:\n  r: {source: elsewhere, sql: select 1}\nendpoints:\n  - {path: /a, source: db, sql: select 1}\n",
         "rollups.r.source"},
        {"rollups:\n  frost_x: {source: db, sql: select 1}\nendpoints:\n  - {path: /a, source: db, sql: select 1}\n",
         "do not start with frost_"},
        {"rollups:\n  r: {source: db, sql: select 1, refresh: 10ms}\nendpoints:\n  - {path: /a, source: db, sql: "
         "select 1}\n",
         "at most once a second"},
        {"rollups:\n  r: {source: db}\nendpoints:\n  - {path: /a, source: db, sql: select 1}\n", "missing key \"sql\""},
        {"cache: {max_bytes: lots}\nendpoints:\n  - {path: /a, source: db, sql: select 1}\n", "cache.max_bytes"},
    };
    for (const auto& c : cases) {
        auto cfg = load(c.yaml);
        ASSERT_FALSE(cfg) << c.yaml;
        EXPECT_NE(cfg.error().message.find(c.expected), std::string::npos) << cfg.error().message;
        EXPECT_EQ(cfg.error().message.rfind("t.yaml:", 0), 0u) << cfg.error().message;  // file:line first
    }
}

}  // namespace
}  // namespace frost::config
