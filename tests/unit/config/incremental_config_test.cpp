// `incremental:` and `full_refresh:` of a rollup: parsed with days as a unit, and every mistake
// refused at load with the file, line and key at fault.
#include <gtest/gtest.h>

#include "config/config.hpp"

namespace frost::config {
namespace {

// A config whose one rollup has `extra` keys (indented for the rollup's mapping) and `sql`.
std::string with_rollup(const std::string& extra, const std::string& sql = "select day from t where day >= $since") {
    return "sources:\n"
           "  db: {type: duckdb, path: \":memory:\"}\n"
           "rollups:\n"
           "  daily:\n"
           "    source: db\n"
           "    sql: " +
           sql + "\n" + extra +
           "endpoints:\n"
           "  - path: /x\n"
           "    rollup: daily\n"
           "    sql: select * from daily\n";
}

TEST(incremental_config, parses_key_lookback_in_days_and_full_refresh) {
    auto cfg =
        load_text(with_rollup("    incremental: {key: day, lookback: 3d}\n    refresh: 5m\n    full_refresh: 24h\n"),
                  "t.yaml", "/");
    ASSERT_TRUE(cfg) << cfg.error().message;
    const auto& r = cfg.value().rollups.at(0);
    ASSERT_TRUE(r.incremental);
    EXPECT_EQ(r.incremental->key, "day");
    EXPECT_EQ(r.incremental->lookback, std::chrono::hours(72));
    EXPECT_EQ(r.refresh, std::chrono::minutes(5));
    ASSERT_TRUE(r.full_refresh);
    EXPECT_EQ(*r.full_refresh, std::chrono::hours(24));

    auto hours =
        load_text(with_rollup("    incremental: {key: day, lookback: 36h}\n    full_refresh: 7d\n"), "t.yaml", "/");
    ASSERT_TRUE(hours) << hours.error().message;
    EXPECT_EQ(hours.value().rollups.at(0).incremental->lookback, std::chrono::hours(36));
    EXPECT_EQ(*hours.value().rollups.at(0).full_refresh, std::chrono::hours(24 * 7));
}

TEST(incremental_config, a_plain_rollup_has_neither) {
    auto cfg = load_text(with_rollup("", "select 1 as day"), "t.yaml", "/");
    ASSERT_TRUE(cfg) << cfg.error().message;
    EXPECT_FALSE(cfg.value().rollups.at(0).incremental);
    EXPECT_FALSE(cfg.value().rollups.at(0).full_refresh);
}

struct bad_case {
    std::string extra;
    std::string sql;
    std::string where;  ///< `file:line` expected in the message
    std::string what;   ///< a part of the message
};

TEST(incremental_config, mistakes_are_refused_with_file_line_and_key) {
    const std::string since_sql = "select day from t where day >= $since";
    const std::vector<bad_case> cases = {
        {"    incremental: {key: day}\n", since_sql, "t.yaml:7:", "missing key \"lookback\""},
        {"    incremental: {lookback: 3d}\n", since_sql, "t.yaml:7:", "missing key \"key\""},
        {"    incremental: {key: day, lookback: 3d, window: 2}\n", since_sql, "t.yaml:7:", "unknown key \"window\""},
        {"    incremental: {key: day, lookback: 3 days}\n", since_sql,
         "t.yaml:7:", "rollups.daily.incremental.lookback"},
        {"    incremental: {key: day, lookback: 1000000d}\n", since_sql, "t.yaml:7:", "at most 99999d"},
        {"    incremental: {key: \"day; drop\", lookback: 3d}\n", since_sql, "t.yaml:7:", "expected a column name"},
        {"    incremental: day\n", since_sql, "t.yaml:7:", "expected a mapping"},
        {"    incremental: {key: day, lookback: 3d}\n", "select day from t", "t.yaml:6:", "filters on $since"},
        {"    incremental: {key: day, lookback: 3d}\n", "select day from t where day >= $since and x = $other",
         "t.yaml:6:", "$other is not allowed"},
        {"    full_refresh: 24h\n", "select 1 as day", "t.yaml:7:", "full_refresh needs incremental"},
        {"    incremental: {key: day, lookback: 3d}\n    refresh: 2h\n    full_refresh: 1h\n", since_sql,
         "t.yaml:9:", "must not be shorter than refresh"},
        {"", since_sql, "t.yaml:6:", "$since is not allowed"},  // $since without incremental
    };
    for (const auto& c : cases) {
        auto cfg = load_text(with_rollup(c.extra, c.sql), "t.yaml", "/");
        ASSERT_FALSE(cfg) << c.extra << c.sql;
        EXPECT_NE(cfg.error().message.find(c.where), std::string::npos) << cfg.error().message;
        EXPECT_NE(cfg.error().message.find(c.what), std::string::npos) << cfg.error().message;
    }
}

TEST(incremental_config, the_shipped_configs_refresh_trips_by_day_incrementally) {
    for (const char* file : {"/config/frost.yaml", "/config/snowflake.example.yaml"}) {
        auto cfg = load_file(std::string(FROST_SOURCE_DIR) + file);
        ASSERT_TRUE(cfg) << cfg.error().message;
        const auto* r = cfg.value().find_rollup("trips_by_day");
        ASSERT_NE(r, nullptr) << file;
        ASSERT_TRUE(r->incremental) << file;
        EXPECT_EQ(r->incremental->key, "day");
        EXPECT_TRUE(r->full_refresh) << file;
    }
}

}  // namespace
}  // namespace frost::config
