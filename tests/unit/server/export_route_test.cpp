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

}  // namespace
}  // namespace frost::server
