// The API's answers against an independent oracle: the seed's SQL, written the way Snowflake
// runs it (MONTHNAME/DAYNAME labels, date_trunc join, whole-day inclusive bounds), asked of
// DuckDB directly over the raw trips for hundreds of random date ranges.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <random>

#include "source/duckdb/duckdb_source.hpp"
#include "support/test_server.hpp"

namespace frost::testing {
namespace {

using row = std::vector<std::string>;  // every cell as canonical text

std::string canonical_number(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6f", v);
    return buf;
}

std::vector<row> api_rows(const std::string& body) {
    std::vector<row> out;
    const auto parsed = boost::json::parse(body);
    for (const auto& r : parsed.at("result").as_array()) {
        row cells;
        for (const auto& c : r.as_array()) {
            if (c.is_string())
                cells.emplace_back(c.as_string());
            else if (c.is_int64())
                cells.push_back(canonical_number(static_cast<double>(c.as_int64())));
            else
                cells.push_back(canonical_number(c.to_number<double>()));
        }
        out.push_back(std::move(cells));
    }
    return out;
}

std::vector<row> oracle_rows(source::duckdb::connection& con, const std::string& sql) {
    auto res = con.execute(sql);
    if (!res) throw std::runtime_error(res.error().message);
    auto table = res.value().to_table(1000);
    if (!table) throw std::runtime_error(table.error().message);
    std::vector<row> out;
    for (const auto& r : table.value().rows) {
        row cells;
        for (const auto& v : r) {
            if (auto* s = std::get_if<std::string>(&v))
                cells.push_back(*s);
            else if (auto* i = std::get_if<std::int64_t>(&v))
                cells.push_back(canonical_number(static_cast<double>(*i)));
            else if (auto* d = std::get_if<model::decimal>(&v))
                cells.push_back(canonical_number(std::stod(model::format_decimal(*d))));
            else if (auto* f = std::get_if<double>(&v))
                cells.push_back(canonical_number(*f));
            else
                throw std::runtime_error("unexpected oracle type");
        }
        out.push_back(std::move(cells));
    }
    return out;
}

// The seed's three queries. `filter` is empty or a literal whole-day range.
std::string seed_sql(const std::string& report, const std::string& filter) {
    if (report == "monthly")
        return "select count(*) as trip_count, strftime(starttime, '%b') as month from demo.trips " + filter +
               " group by month(starttime), strftime(starttime, '%b') order by month(starttime)";
    if (report == "day_of_week")
        return "select count(*) as trip_count, strftime(starttime, '%a') as day_of_week from demo.trips " + filter +
               " group by dayofweek(starttime), strftime(starttime, '%a') order by dayofweek(starttime)";
    return "with weather_trips as (select * from demo.trips t inner join demo.weather w "
           "on date_trunc('day', t.starttime) = w.observation_date) "
           "select round(temp_avg_f, -1) as temp, count(*) as trip_count from weather_trips " +
           filter + " group by round(temp_avg_f, -1) order by round(temp_avg_f, -1) asc";
}

class oracle : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        db_path_ = sample_database();
        srv_ = std::make_unique<test_server>(default_config(db_path_));
        auto db = source::duckdb::database::open(db_path_, {{"access_mode", "READ_ONLY"}});
        if (!db) throw std::runtime_error(db.error().message);
        db_ = std::move(db).value();
        auto con = source::duckdb::connection::open(*db_);
        if (!con) throw std::runtime_error(con.error().message);
        con_ = std::move(con).value();
    }
    static void TearDownTestSuite() {
        con_.reset();
        db_.reset();
        srv_.reset();
    }
    static std::string db_path_;
    static std::unique_ptr<test_server> srv_;
    static std::unique_ptr<source::duckdb::database> db_;
    static std::unique_ptr<source::duckdb::connection> con_;
};
std::string oracle::db_path_;
std::unique_ptr<test_server> oracle::srv_;
std::unique_ptr<source::duckdb::database> oracle::db_;
std::unique_ptr<source::duckdb::connection> oracle::con_;

TEST_F(oracle, unfiltered_reports_match) {
    for (const std::string report : {"monthly", "day_of_week", "temperature"}) {
        for (const std::string family : {"/trips/", "/sqlapi/trips/"}) {
            auto r = srv_->get(family + report);
            ASSERT_EQ(r.status, 200) << r.body;
            EXPECT_EQ(api_rows(r.body), oracle_rows(*con_, seed_sql(report, ""))) << family << report;
        }
    }
}

TEST_F(oracle, random_whole_day_ranges_match) {
    std::mt19937 rng(20260601);
    // Ranges that start before, inside and after the data (2013-06-01 .. 2020-04-30).
    const int lo = model::parse_date("2013-04-01")->days, hi = model::parse_date("2020-07-01")->days;
    std::uniform_int_distribution<int> day(lo, hi);
    const char* reports[] = {"monthly", "day_of_week", "temperature"};
    int compared = 0;
    for (int i = 0; i < 240; ++i) {
        int a = day(rng), b = i % 5 == 0 ? a : day(rng);  // every fifth range is one day
        if (b < a) std::swap(a, b);
        const auto from = model::format_date({a}), to = model::format_date({b});
        // Half in the seed's MM/DD/YYYY form, half ISO.
        auto form = [&](const std::string& iso) {
            return i % 2 ? iso.substr(5, 2) + "/" + iso.substr(8, 2) + "/" + iso.substr(0, 4) : iso;
        };
        const std::string report = reports[i % 3];
        const std::string family = i % 4 == 3 ? "/sqlapi/trips/" : "/trips/";
        auto r = srv_->get(family + report + "?start_range=" + form(from) + "&end_range=" + form(to));
        ASSERT_EQ(r.status, 200) << r.body;
        const auto filter = "where starttime::date between date '" + from + "' and date '" + to + "'";
        ASSERT_EQ(api_rows(r.body), oracle_rows(*con_, seed_sql(report, filter)))
            << family << report << ' ' << from << ".." << to;
        ++compared;
    }
    EXPECT_EQ(compared, 240);
}

TEST_F(oracle, random_true_answers_lie_inside_the_load_test_window) {
    // The counts of a random range can never exceed the counts over the whole window.
    const auto window = oracle_rows(
        *con_, seed_sql("monthly", "where starttime::date between date '2019-05-01' and date '2020-04-30'"));
    for (int i = 0; i < 30; ++i) {
        auto r = srv_->get("/trips/monthly?random=true");
        ASSERT_EQ(r.status, 200);
        for (const auto& cells : api_rows(r.body)) {
            auto it = std::find_if(window.begin(), window.end(), [&](const row& w) { return w[1] == cells[1]; });
            ASSERT_NE(it, window.end()) << cells[1];
            EXPECT_LE(std::stod(cells[0]), std::stod((*it)[0]));
        }
    }
}

}  // namespace
}  // namespace frost::testing
