// Issue 11, deliverable 3: `/trips/export` of config/frost.yaml over the real server and a
// sample database. The oracle is DuckDB asked directly for the same day range.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <random>

#include "source/duckdb/duckdb_source.hpp"
#include "support/test_server.hpp"

namespace frost::server {
namespace {

struct trip_key {
    std::int64_t duration, bike;
    std::string start;
    auto operator<=>(const trip_key&) const = default;
};

TEST(export_route, every_trip_of_random_ranges_and_nothing_else) {
    const auto db = testing::sample_database();
    testing::test_server server(testing::default_config(db));
    auto oracle = source::duckdb::duckdb_source::open("oracle", {db, true, {}});
    ASSERT_TRUE(oracle) << oracle.error().message;
    std::mt19937 rng(7);
    const auto first = model::days_from_civil(2013, 6, 1), last = model::days_from_civil(2020, 12, 31);
    std::uniform_int_distribution<std::int32_t> day(first, last), span(1, 31);
    for (int round = 0; round < 6; ++round) {
        const auto a = day(rng), b = std::min(last, a + span(rng) - 1);
        const auto from = model::format_date({a}), to = model::format_date({b});
        auto answer = server.get("/trips/export?start=" + from + "&end=" + to + "&format=ndjson");
        ASSERT_EQ(answer.status, 200) << answer.body;
        EXPECT_EQ(answer.header("content-type"), "application/x-ndjson");
        std::vector<trip_key> got;
        std::size_t at = 0;
        while (at < answer.body.size()) {
            const auto eol = answer.body.find('\n', at);
            ASSERT_NE(eol, std::string::npos);
            auto o = boost::json::parse(answer.body.substr(at, eol - at)).as_object();
            got.push_back({o.at("tripduration").as_int64(), o.at("bikeid").as_int64(),
                           std::string(o.at("starttime").as_string())});
            at = eol + 1;
        }
        const std::vector<source::parameter> params{{"a", model::date{a}}, {"b", model::date{b}}};
        auto expected_rows =
            oracle.value()->run({"select tripduration, bikeid, starttime "
                                 "from demo.trips where starttime::date between $a and $b",
                                 params, model::deadline::after(std::chrono::seconds(30)), "oracle", 10'000'000});
        ASSERT_TRUE(expected_rows) << expected_rows.error().message;
        std::vector<trip_key> expected;
        for (const auto& r : expected_rows.value().rows)
            expected.push_back({std::get<std::int64_t>(r[0]), std::get<std::int64_t>(r[1]),
                                model::format_timestamp(std::get<model::timestamp>(r[2]))});
        std::sort(got.begin(), got.end());
        std::sort(expected.begin(), expected.end());
        EXPECT_EQ(got.size(), expected.size()) << from << " .. " << to;
        EXPECT_TRUE(got == expected) << from << " .. " << to;

        auto csv = server.get("/trips/export?start=" + from + "&end=" + to);
        ASSERT_EQ(csv.status, 200);
        EXPECT_EQ(static_cast<std::size_t>(std::count(csv.body.begin(), csv.body.end(), '\n')), expected.size() + 1);
        EXPECT_TRUE(csv.body.starts_with("tripduration,starttime,stoptime,")) << csv.body.substr(0, 60);
    }
}

TEST(export_route, the_range_is_required_and_at_most_31_days) {
    const auto db = testing::sample_database();
    testing::test_server server(testing::default_config(db));
    auto too_long = server.get("/trips/export?start=2019-06-01&end=2019-07-02");
    EXPECT_EQ(too_long.status, 400) << too_long.body;
    EXPECT_EQ(boost::json::parse(too_long.body).as_object().at("code").as_string(), "FR400");
    auto longest = server.get("/trips/export?start=2019-06-01&end=2019-07-01");
    EXPECT_EQ(longest.status, 200) << longest.body;
    auto missing = server.get("/trips/export");
    EXPECT_EQ(missing.status, 400) << missing.body;
    EXPECT_EQ(boost::json::parse(missing.body).as_object().at("code").as_string(), "FR402");
}

// The stream endpoint chooses with the same negotiation as every endpoint, among what it can
// stream, CSV first.
TEST(export_route, the_format_is_negotiated_among_the_export_formats) {
    const auto db = testing::sample_database();
    testing::test_server server(testing::default_config(db));
    const std::string target = "/trips/export?start=2019-06-01&end=2019-06-02";

    auto plain = server.get(target);
    ASSERT_EQ(plain.status, 200) << plain.body;
    EXPECT_EQ(plain.header("content-type"), "text/csv; charset=utf-8");
    EXPECT_TRUE(plain.body.starts_with("tripduration,")) << plain.body.substr(0, 60);
    for (const auto* any : {"*/*", "text/*", "text/html, */*;q=0.1"})
        EXPECT_EQ(server.get(target, {{"Accept", any}}).header("content-type"), "text/csv; charset=utf-8") << any;

    auto nd = server.get(target, {{"Accept", "application/x-ndjson"}});
    ASSERT_EQ(nd.status, 200) << nd.body;
    EXPECT_EQ(nd.header("content-type"), "application/x-ndjson");
    EXPECT_TRUE(boost::json::parse(nd.body.substr(0, nd.body.find('\n'))).as_object().contains("tripduration"));
    // q-values count, not the order of the list.
    EXPECT_EQ(server.get(target, {{"Accept", "text/csv;q=0.5, application/x-ndjson"}}).header("content-type"),
              "application/x-ndjson");
    EXPECT_EQ(server.get(target, {{"Accept", "application/*"}}).header("content-type"), "application/json");

    auto asked = server.get(target + "&format=ndjson", {{"Accept", "text/csv"}});
    ASSERT_EQ(asked.status, 200) << asked.body;
    EXPECT_EQ(asked.header("content-type"), "application/x-ndjson");

    auto refused = server.get(target, {{"Accept", "image/png"}});
    ASSERT_EQ(refused.status, 406) << refused.body;
    auto error = boost::json::parse(refused.body).as_object();
    EXPECT_EQ(error.at("code").as_string(), "FR406");
    EXPECT_EQ(error.at("details").as_string(),
              "offered: text/csv, application/json, application/vnd.frost.objects+json, application/x-ndjson");
    EXPECT_EQ(error.at("hint").as_string(),
              "send one of them in Accept, or choose with ?format=csv|json|objects|ndjson");

    auto unknown = server.get(target + "&format=xml");
    ASSERT_EQ(unknown.status, 400) << unknown.body;
    EXPECT_EQ(boost::json::parse(unknown.body).as_object().at("error").as_string(),
              "parameter format: expected csv, json, objects or ndjson, got \"xml\"");
}

}  // namespace
}  // namespace frost::server
