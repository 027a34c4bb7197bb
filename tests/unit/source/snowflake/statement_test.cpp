#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <regex>

#include "source/snowflake/snowflake_source.hpp"
#include "source/snowflake/sql_api_client.hpp"

namespace sf = frost::source::snowflake;
namespace model = frost::model;

namespace {

sf::positional_sql positional(std::string_view sql) {
    auto r = sf::to_positional(sql);
    EXPECT_TRUE(r) << sql << ": " << (r ? "" : r.error().message);
    return r ? r.value() : sf::positional_sql{};
}

}  // namespace

TEST(SnowflakePlaceholders, NamesBecomePositionalInOrder) {
    auto p = positional("select * from t where ($start is null or d >= $start::date) and d < dateadd(day, 1, $end)");
    EXPECT_EQ(p.sql, "select * from t where (? is null or d >= ?::date) and d < dateadd(day, 1, ?)");
    EXPECT_EQ(p.names, (std::vector<std::string>{"start", "start", "end"}));
}

TEST(SnowflakePlaceholders, QuotesAndCommentsAreLeftAlone) {
    const std::string sql =
        "select '$a', 'it''s $b', 'c\\'$d', \"$e col\", $$ $f $$ -- $g\n"
        "// $h\n/* $i */ $real from t$x where a$b = $j";
    auto p = positional(sql);
    EXPECT_EQ(p.sql,
              "select '$a', 'it''s $b', 'c\\'$d', \"$e col\", $$ $f $$ -- $g\n"
              "// $h\n/* $i */ ? from t$x where a$b = ?");
    EXPECT_EQ(p.names, (std::vector<std::string>{"real", "j"}));
}

TEST(SnowflakePlaceholders, ColumnReferencesAndPrices) {
    auto p = positional("select $1, $2 from @stage where x = $name_2");
    EXPECT_EQ(p.sql, "select $1, $2 from @stage where x = ?");
    EXPECT_EQ(p.names, (std::vector<std::string>{"name_2"}));
}

TEST(SnowflakePlaceholders, RefusesWhatItCannotBindSafely) {
    EXPECT_FALSE(sf::to_positional("select 'open"));
    EXPECT_FALSE(sf::to_positional("select \"open"));
    EXPECT_FALSE(sf::to_positional("select $$ open"));
    EXPECT_FALSE(sf::to_positional("select /* open"));
    EXPECT_FALSE(sf::to_positional("select * from t where a = ?"));
    EXPECT_TRUE(sf::to_positional("select '?' -- ?\n"));
}

TEST(SnowflakeBindings, TypedPerDocumentedFormats) {
    auto b = [](const model::value& v) { return sf::to_binding(v); };
    EXPECT_EQ(b(std::int64_t{-42}).type, "FIXED");
    EXPECT_EQ(b(std::int64_t{-42}).value, "-42");
    EXPECT_EQ(b(true).type, "BOOLEAN");
    EXPECT_EQ(b(true).value, "true");
    EXPECT_EQ(b(0.25).type, "REAL");
    EXPECT_EQ(b(0.25).value, "0.25");
    EXPECT_EQ(b(model::decimal{1999, 2}).type, "TEXT");  // exact; FIXED is integer-only
    EXPECT_EQ(b(model::decimal{1999, 2}).value, "19.99");
    EXPECT_EQ(b(model::decimal{7, 0}).type, "FIXED");
    // DATE: milliseconds since the epoch, as Snowflake binds it; 2021-01-01 = day 18628.
    EXPECT_EQ(b(model::date{18628}).type, "DATE");
    EXPECT_EQ(b(model::date{18628}).value, "1609459200000");
    EXPECT_EQ(b(model::date{-1}).value, "-86400000");
    // TIMESTAMP_NTZ: nanoseconds since the epoch.
    EXPECT_EQ(b(model::timestamp{1'611'871'777'123'456}).type, "TIMESTAMP_NTZ");
    EXPECT_EQ(b(model::timestamp{1'611'871'777'123'456}).value, "1611871777123456000");
    EXPECT_EQ(b(std::string("O'Brien")).type, "TEXT");
    EXPECT_EQ(b(std::string("O'Brien")).value, "O'Brien");
    EXPECT_EQ(b(model::value{}).type, "TEXT");
    EXPECT_FALSE(b(model::value{}).value.has_value());
}

TEST(SnowflakeRequest, BodyCarriesEverythingAndSplicesNothing) {
    sf::snowflake_settings s;
    s.database = "DATA_APPS_DEMO";
    s.schema = "DEMO";
    s.warehouse = "DATA_APPS_DEMO";
    s.role = "ANALYST";
    sf::statement_request r;
    r.sql = "select ? as x";
    r.bindings = {{"TEXT", std::string("'; drop table trips; --")}, {"DATE", std::nullopt}};
    r.query_tag = "/trips/monthly";
    r.max_rows = 1000;
    const auto body = boost::json::parse(sf::statement_body(s, r, std::chrono::seconds(31))).as_object();
    EXPECT_EQ(body.at("statement").as_string(), "select ? as x");
    EXPECT_EQ(body.at("timeout").as_int64(), 31);
    EXPECT_EQ(body.at("database").as_string(), "DATA_APPS_DEMO");
    EXPECT_EQ(body.at("schema").as_string(), "DEMO");
    EXPECT_EQ(body.at("warehouse").as_string(), "DATA_APPS_DEMO");
    EXPECT_EQ(body.at("role").as_string(), "ANALYST");
    const auto& bindings = body.at("bindings").as_object();
    EXPECT_EQ(bindings.at("1").at("type").as_string(), "TEXT");
    EXPECT_EQ(bindings.at("1").at("value").as_string(), "'; drop table trips; --");
    EXPECT_TRUE(bindings.at("2").at("value").is_null());
    const auto& params = body.at("parameters").as_object();
    EXPECT_EQ(params.at("QUERY_TAG").as_string(), "/trips/monthly");
    EXPECT_EQ(params.at("ROWS_PER_RESULTSET").as_string(), "1001");  // upper-case keys, string values

    s.role.clear();
    r.bindings.clear();
    const auto plain = boost::json::parse(sf::statement_body(s, r, std::chrono::seconds(1))).as_object();
    EXPECT_FALSE(plain.contains("role"));
    EXPECT_FALSE(plain.contains("bindings"));
}

TEST(SnowflakeRequest, RequestIdsAreVersion4Uuids) {
    const std::regex uuid("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        auto id = sf::random_uuid();
        EXPECT_TRUE(std::regex_match(id, uuid)) << id;
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 1000u);
}
