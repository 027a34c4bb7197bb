// Config is checked once, at load: every `$name` in an endpoint's or rollup's SQL must be a
// declared parameter, date-range name or claim, or loading fails naming file:line and the
// placeholder (before, the first request failed with a 500).
#include <gtest/gtest.h>

#include <string>

#include "config/config.hpp"

namespace frost::config {
namespace {

std::string config_with(const std::string& endpoint_yaml, const std::string& rollup_yaml = "") {
    return "sources:\n  mem: {type: duckdb, path: ':memory:', read_only: false}\n" + rollup_yaml + "endpoints:\n" +
           endpoint_yaml;
}

TEST(placeholders, an_undeclared_one_fails_naming_file_line_and_name) {
    const auto text = config_with(R"(  - path: /a
    source: mem
    params: [{name: city, type: string}]
    sql: |
      select 1 as one
      where $city = 'x'
        and $town = 'y'
)");
    auto cfg = load_text(text, "api.yaml", "/");
    ASSERT_FALSE(cfg);
    // Line 10 of the file: `and $town = 'y'` (the `sql: |` indicator is on line 7).
    EXPECT_NE(cfg.error().message.find("api.yaml:10:"), std::string::npos) << cfg.error().message;
    EXPECT_NE(cfg.error().message.find("$town"), std::string::npos) << cfg.error().message;
    EXPECT_NE(cfg.error().message.find("city"), std::string::npos) << "lists what is declared: " << cfg.error().message;
}

TEST(placeholders, an_inline_sql_names_its_own_line) {
    auto cfg = load_text(config_with("  - path: /a\n    source: mem\n    sql: select $nope as x\n"), "b.yaml", "/");
    ASSERT_FALSE(cfg);
    EXPECT_NE(cfg.error().message.find("b.yaml:6:"), std::string::npos) << cfg.error().message;
    EXPECT_NE(cfg.error().message.find("$nope"), std::string::npos) << cfg.error().message;
}

TEST(placeholders, each_dialect_is_checked) {
    auto cfg = load_text(config_with(R"(  - path: /a
    source: mem
    params: [{name: n, type: integer}]
    sql:
      duckdb: select $n as x
      snowflake: select $m as x
)"),
                         "c.yaml", "/");
    ASSERT_FALSE(cfg);
    EXPECT_NE(cfg.error().message.find("c.yaml:9:"), std::string::npos) << cfg.error().message;
    EXPECT_NE(cfg.error().message.find("$m"), std::string::npos) << cfg.error().message;
}

TEST(placeholders, params_date_ranges_and_claims_are_declared) {
    auto cfg = load_text(config_with(R"(  - path: /a
    source: mem
    auth: jwt
    params: [{name: n, type: integer, aliases: [num]}, {name: who, type: string}]
    claims: {who: sub}
    date_range: {start: since, end: until}
    sql: select $n as n, $who as w, $since as s, $until as u
)") + "auth:\n  jwt: {jwks_file: /nowhere/jwks.json}\n",
                         "d.yaml", "/");
    EXPECT_TRUE(cfg) << cfg.error().message;
}

TEST(placeholders, dollars_in_quotes_comments_and_dollar_strings_are_data) {
    auto cfg = load_text(config_with(R"(  - path: /a
    source: mem
    sql: |
      select '$price' as a, "$col" as b, $$ $x $$ as c -- $comment
      /* $block
         $more */ , 1 as d
)"),
                         "e.yaml", "/");
    EXPECT_TRUE(cfg) << cfg.error().message;
}

TEST(placeholders, a_rollup_takes_none) {
    auto cfg = load_text(config_with("  - path: /a\n    rollup: r\n    sql: select * from r\n",
                                     "rollups:\n  r:\n    source: mem\n    sql: select $x as x\n"),
                         "f.yaml", "/");
    ASSERT_FALSE(cfg);
    EXPECT_NE(cfg.error().message.find("f.yaml:6:"), std::string::npos) << cfg.error().message;
    EXPECT_NE(cfg.error().message.find("$x"), std::string::npos) << cfg.error().message;
}

TEST(placeholders, sql_is_chosen_per_dialect_in_one_place) {
    const std::map<std::string, std::string> both{{"", "any"}, {"duckdb", "duck"}};
    EXPECT_EQ(*sql_for(both, "duckdb"), "duck");
    EXPECT_EQ(*sql_for(both, "snowflake"), "any");
    EXPECT_EQ(sql_for({{"duckdb", "duck"}}, "snowflake"), nullptr);
}

}  // namespace
}  // namespace frost::config
