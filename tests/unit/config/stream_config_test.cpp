// The config keys of streamed exports (issue 11.3): what loads, and that mistakes name the
// file, line and key at fault.
#include <gtest/gtest.h>

#include "config/config.hpp"

namespace frost::config {
namespace {

const std::string base = R"(
sources:
  db: {type: duckdb, path: ":memory:"}
endpoints:
)";

model::result<config> load(const std::string& rest) {
    return load_text(base + rest, "t.yaml", "/srv/frost");
}

void expect_error(const std::string& rest, const std::string& where, const std::string& what) {
    auto cfg = load(rest);
    ASSERT_FALSE(cfg) << rest;
    EXPECT_NE(cfg.error().message.find(where), std::string::npos) << cfg.error().message;
    EXPECT_NE(cfg.error().message.find(what), std::string::npos) << cfg.error().message;
}

TEST(stream_config, loads_stream_max_export_rows_and_max_days) {
    auto cfg = load(R"(
  - path: /export
    source: db
    stream: true
    max_export_rows: 5000
    date_range: {start: a, end: b, max_days: 31}
    sql: select $a, $b
  - path: /plain
    source: db
    sql: select 1
)");
    ASSERT_TRUE(cfg) << cfg.error().message;
    const auto& e = cfg.value().endpoints.at(0);
    EXPECT_TRUE(e.stream);
    EXPECT_EQ(e.max_export_rows, 5000u);
    ASSERT_TRUE(e.date_range && e.date_range->max_days);
    EXPECT_EQ(*e.date_range->max_days, 31);
    const auto& p = cfg.value().endpoints.at(1);
    EXPECT_FALSE(p.stream);
    EXPECT_EQ(p.max_export_rows, 10'000'000u);
    EXPECT_FALSE(p.date_range);
}

TEST(stream_config, mistakes_name_the_line_and_key) {
    expect_error(R"(
  - path: /x
    source: db
    max_export_rows: 10
    sql: select 1
)",
                 "t.yaml:8", "only for endpoints with stream: true");
    expect_error(R"(
  - path: /x
    source: db
    stream: true
    max_rows: 10
    sql: select 1
)",
                 "max_rows", "max_export_rows");
    expect_error(R"(
  - path: /x
    source: db
    stream: true
    cache: {ttl: 60s}
    sql: select 1
)",
                 "cache", "never cached");
    expect_error(R"(
  - path: /x
    source: db
    stream: maybe
    sql: select 1
)",
                 "stream", "");
    expect_error(R"(
  - path: /x
    source: db
    stream: true
    max_export_rows: 0
    sql: select 1
)",
                 "max_export_rows", "whole number");
    expect_error(R"(
  - path: /x
    source: db
    date_range: {max_days: 31, random: {from: 2019-01-01, to: 2019-12-31}}
    sql: select 1
)",
                 "max_days", "exclude");
}

}  // namespace
}  // namespace frost::config
