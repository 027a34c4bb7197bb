#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "data/generator.hpp"
#include "source/duckdb/duckdb_source.hpp"

namespace frost::source::duckdb {
namespace {

std::unique_ptr<duckdb_source> memory_source() {
    auto src = duckdb_source::open("mem", {":memory:", false, {}});
    if (!src) throw std::runtime_error(src.error().message);
    return std::move(src).value();
}

model::result<model::table> run(duckdb_source& s, const std::string& sql, std::vector<parameter> params = {},
                                model::deadline d = {}, std::size_t max_rows = 100'000) {
    query q{sql, params, d, "test", max_rows};
    return s.run(q);
}

TEST(duckdb_source, binds_every_value_type) {
    auto s = memory_source();
    auto r = run(*s,
                 "select $i + 1 as i, $d::double * 2 as d, $t || '!' as t, $b as b, $day + 1 as day, "
                 "$n is null as n, $ts as ts",
                 {{"i", std::int64_t{41}},
                  {"d", 1.25},
                  {"t", std::string("hi")},
                  {"b", true},
                  {"day", model::date{15857}},
                  {"n", std::monostate{}},
                  {"ts", model::timestamp{1'370'044'800'000'000}}});
    ASSERT_TRUE(r) << r.error().message;
    const auto& row = r.value().rows.at(0);
    EXPECT_EQ(std::get<std::int64_t>(row[0]), 42);
    EXPECT_DOUBLE_EQ(std::get<double>(row[1]), 2.5);
    EXPECT_EQ(std::get<std::string>(row[2]), "hi!");
    EXPECT_EQ(std::get<bool>(row[3]), true);
    EXPECT_EQ(std::get<model::date>(row[4]), model::date{15858});
    EXPECT_EQ(std::get<bool>(row[5]), true);
    EXPECT_EQ(model::format_timestamp(std::get<model::timestamp>(row[6])), "2013-06-01 00:00:00");
}

TEST(duckdb_source, bound_text_is_data_never_sql) {
    auto s = memory_source();
    // One statement per query: a stacked second statement is refused outright.
    EXPECT_FALSE(run(*s, "create table t(x varchar); insert into t values ('a')"));
    ASSERT_TRUE(run(*s, "create table t(x varchar)"));
    ASSERT_TRUE(run(*s, "insert into t values ('a')"));
    const std::string attack = "a'); drop table t; --";
    auto r = run(*s, "select count(*) from t where x = $v", {{"v", attack}});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(std::get<std::int64_t>(r.value().rows.at(0).at(0)), 0);
    auto still = run(*s, "select count(*) from t");
    ASSERT_TRUE(still);
    EXPECT_EQ(std::get<std::int64_t>(still.value().rows.at(0).at(0)), 1);
}

TEST(duckdb_source, decimals_keep_their_scale_and_nulls_stay_null) {
    auto s = memory_source();
    auto r = run(
        *s,
        "select 72.4::decimal(5,1), round(65.0::decimal(5,1), -1), null::integer, 12345678901234.5678::decimal(18,4)");
    ASSERT_TRUE(r) << r.error().message;
    const auto& row = r.value().rows.at(0);
    EXPECT_EQ(model::format_decimal(std::get<model::decimal>(row[0])), "72.4");
    EXPECT_TRUE(std::holds_alternative<std::monostate>(row[2]));
    EXPECT_EQ(model::format_decimal(std::get<model::decimal>(row[3])), "12345678901234.5678");
    EXPECT_EQ(r.value().columns[0].type, model::column_type::decimal);
}

TEST(duckdb_source, a_missing_parameter_is_a_config_error) {
    auto s = memory_source();
    auto r = run(*s, "select $nope");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, model::error_code::config_error);
}

TEST(duckdb_source, sql_errors_are_source_errors) {
    auto s = memory_source();
    auto r = run(*s, "select * from no_such_table");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, model::error_code::source_error);
    EXPECT_EQ(model::http_status(r.error().code), 502);
}

TEST(duckdb_source, too_many_rows_is_an_error_not_a_silent_cut) {
    auto s = memory_source();
    auto r = run(*s, "select * from range(5000)", {}, {}, 4999);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, model::error_code::result_too_large);
    EXPECT_TRUE(run(*s, "select * from range(5000)", {}, {}, 5000));
}

TEST(duckdb_source, a_query_is_stopped_at_its_deadline) {
    auto s = memory_source();
    const auto started = model::clock::now();
    auto r = run(*s, "select count(*) from range(100000000000) a where a.range % 7 = 3", {},
                 model::deadline::after(std::chrono::milliseconds(200)));
    const auto took = model::clock::now() - started;
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, model::error_code::timeout);
    EXPECT_LT(took, std::chrono::seconds(5));
    // The connection is reusable afterwards.
    auto after = run(*s, "select 1");
    ASSERT_TRUE(after) << after.error().message;
}

TEST(duckdb_source, concurrent_queries_each_get_their_own_answer) {
    auto s = memory_source();
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 50; ++i) {
                const std::int64_t v = t * 1000 + i;
                auto r = run(*s, "select $v * 2", {{"v", v}});
                if (!r || std::get<std::int64_t>(r.value().rows.at(0).at(0)) != v * 2) ++wrong;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(wrong.load(), 0);
}

TEST(duckdb_source, read_only_sources_refuse_writes) {
    const auto path =
        (std::filesystem::temp_directory_path() / ("frost-ro-" + std::to_string(::getpid()) + ".duckdb")).string();
    {
        auto rw = duckdb_source::open("rw", {path, false, {}});
        ASSERT_TRUE(rw);
        ASSERT_TRUE(run(*rw.value(), "create table t as select 1 as x"));
    }
    {
        auto ro = duckdb_source::open("ro", {path, true, {}});
        ASSERT_TRUE(ro) << ro.error().message;
        auto w = run(*ro.value(), "insert into t values (2)");
        EXPECT_FALSE(w);
    }
    std::filesystem::remove(path);
}

TEST(sample_data, is_deterministic_complete_and_atomic) {
    const auto dir = std::filesystem::temp_directory_path() / ("frost-seed-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto a = (dir / "a.duckdb").string(), b = (dir / "b.duckdb").string(), c = (dir / "c.duckdb").string();
    std::atomic<bool> cancel{false};
    ASSERT_TRUE(data::build_sample_database({a, 50'000, 9, "1GB", 1}, nullptr, cancel));
    ASSERT_TRUE(data::build_sample_database({b, 50'000, 9, "1GB", 1}, nullptr, cancel));
    EXPECT_FALSE(std::filesystem::exists(a + ".building"));

    auto src = duckdb_source::open("a", {a, true, {}});
    ASSERT_TRUE(src);
    auto summary = run(*src.value(),
                       "select count(*), min(starttime)::date::varchar, max(starttime)::date::varchar, "
                       "(select count(*) from demo.weather), count(distinct usertype), "
                       "sum(hash(tripduration, starttime, start_station_id, bikeid)) from demo.trips");
    ASSERT_TRUE(summary) << summary.error().message;
    const auto& row = summary.value().rows.at(0);
    EXPECT_EQ(std::get<std::int64_t>(row[0]), 50'000);
    EXPECT_EQ(std::get<std::string>(row[1]), "2013-06-01");
    EXPECT_EQ(std::get<std::string>(row[2]), "2020-04-30");
    EXPECT_EQ(std::get<std::int64_t>(row[3]), 2526);
    EXPECT_EQ(std::get<std::int64_t>(row[4]), 2);
    auto other = duckdb_source::open("b", {b, true, {}});
    ASSERT_TRUE(other);
    auto hash_b =
        run(*other.value(), "select sum(hash(tripduration, starttime, start_station_id, bikeid)) from demo.trips");
    ASSERT_TRUE(hash_b);
    EXPECT_EQ(model::format_decimal({0, 0}), "0");
    EXPECT_EQ(hash_b.value().rows.at(0).at(0).index(), row[5].index());
    EXPECT_TRUE(hash_b.value().rows.at(0).at(0) == row[5]) << "same seed must give the same rows";

    // Interrupted: nothing is left where the database is expected.
    std::atomic<bool> stop{true};
    EXPECT_FALSE(data::build_sample_database({c, 50'000, 9, "1GB", 1}, nullptr, stop));
    EXPECT_FALSE(std::filesystem::exists(c));
    EXPECT_FALSE(std::filesystem::exists(c + ".building"));
    std::filesystem::remove_all(dir);
}

TEST(sample_data, daily_counts_sum_exactly_and_follow_the_seasons) {
    const auto days = data::trips_per_day(10'000'000, 42);
    ASSERT_EQ(days.size(), 2526u);
    std::uint64_t total = 0;
    for (auto d : days) total += d;
    EXPECT_EQ(total, 10'000'000u);
    // July 2019 is far busier than January 2019; 2019 busier than 2014.
    auto sum_range = [&](const char* from, const char* to) {
        std::uint64_t s = 0;
        for (int d = model::parse_date(from)->days; d <= model::parse_date(to)->days; ++d)
            s += days[d - data::first_day.days];
        return s;
    };
    EXPECT_GT(sum_range("2019-07-01", "2019-07-31"), 2 * sum_range("2019-01-01", "2019-01-31"));
    EXPECT_GT(sum_range("2019-01-01", "2019-12-31"), sum_range("2014-01-01", "2014-12-31"));
}

}  // namespace
}  // namespace frost::source::duckdb
