// After `frost load` of fixture files in all five layouts (and a weather file), the seed's
// routes answer counts equal to counts taken straight from the files; a load after a rollup
// was built makes that rollup due at the next start.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <thread>

#include "app/sources.hpp"
#include "rollup/serving_store.hpp"
#include "support/test_server.hpp"
#include "unit/data/trip_fixtures.hpp"

namespace frost::data {
namespace {

using namespace fixtures;  // NOLINT: test helpers

constexpr const char* month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void load(const fs::path& db, file_kind kind, const std::vector<fs::path>& files) {
    load_options options;
    options.database = db.string();
    auto loader = file_loader::open(options);
    ASSERT_TRUE(loader) << loader.error().message;
    const std::atomic<bool> never{false};
    for (const auto& f : files) {
        auto r = loader.value()->load(kind, f.string(), {}, never);
        ASSERT_EQ(r.outcome, load_outcome::loaded) << f << ": " << r.message;
    }
}

// {month name -> trips} from a report's `result` rows ([count, name] or [name, count]).
std::map<std::string, std::uint64_t> report(const testing::http_answer& a, int count_col, int name_col) {
    std::map<std::string, std::uint64_t> out;
    const auto body = boost::json::parse(a.body).as_object();
    for (const auto& row : body.at("result").as_array()) {
        const auto& r = row.as_array();
        out[std::string(r[name_col].as_string())] = static_cast<std::uint64_t>(r[count_col].to_number<std::int64_t>());
    }
    return out;
}

struct loaded_files {
    temp_dir dir;
    fs::path db;
    std::map<std::string, std::uint64_t> per_day;
    std::uint64_t total = 0;
};

std::unique_ptr<loaded_files> load_all_layouts() {
    auto out = std::make_unique<loaded_files>();
    out->db = out->dir.path / "citibike.duckdb";
    const std::vector<std::tuple<trip_schema, int, int>> layouts{{trip_schema::lower_iso_2013, 2013, 7},
                                                                 {trip_schema::lower_us_2014, 2014, 9},
                                                                 {trip_schema::title_case_2016, 2016, 10},
                                                                 {trip_schema::lower_fractional_2018, 2018, 1},
                                                                 {trip_schema::ride_id_2021, 2021, 2}};
    std::vector<fs::path> files;
    int i = 0;
    for (const auto& [schema, year, month] : layouts) {
        const auto fx = make_trips(schema, 200 + 50 * i, year, month);
        const bool gz = ++i % 2 == 1;
        const auto path = out->dir.path / ("trips" + std::to_string(i) + (gz ? ".csv.gz" : ".csv"));
        if (gz)
            write_gz(path, fx.text);
        else
            write_file(path, fx.text);
        files.push_back(path);
        for (const auto& [d, n] : fx.per_day) out->per_day[d] += n;
        out->total += fx.rows;
    }
    load(out->db, file_kind::trips, files);
    // Weather for every day but the first: the temperature report is an inner join.
    std::string weather = "observation_date,temp_avg_f\n";
    bool first = true;
    for (const auto& [d, n] : out->per_day) {
        if (!std::exchange(first, false)) weather += d + "," + std::to_string(40 + (d.back() - '0') * 5) + "\n";
    }
    write_file(out->dir.path / "weather.csv", weather);
    load(out->db, file_kind::weather, {out->dir.path / "weather.csv"});
    return out;
}

TEST(frost_load_routes, reports_count_exactly_the_trips_of_the_files) {
    auto files = load_all_layouts();
    std::map<std::string, std::uint64_t> per_month;
    for (const auto& [d, n] : files->per_day) per_month[month_names[std::stoi(d.substr(5, 2)) - 1]] += n;

    testing::test_server server(testing::default_config(files->db.string()));
    for (const char* route : {"/trips/monthly", "/sqlapi/trips/monthly"}) {
        auto a = server.get(route);
        ASSERT_EQ(a.status, 200) << route << ": " << a.body;
        EXPECT_EQ(report(a, 0, 1), per_month) << route;
    }
    // A range: only the Feb 2021 (ride_id layout) days.
    auto feb = server.get("/trips/monthly?start_range=2021-02-01&end_range=2021-02-28");
    ASSERT_EQ(feb.status, 200) << feb.body;
    EXPECT_EQ(report(feb, 0, 1), (std::map<std::string, std::uint64_t>{{"Feb", per_month["Feb"]}}));

    // Day of week and temperature: totals (the buckets' own arithmetic is the rollup suite's).
    std::uint64_t weekdays = 0, with_weather = 0;
    for (const auto& [name, n] : report(server.get("/trips/day_of_week"), 0, 1)) weekdays += n;
    EXPECT_EQ(weekdays, files->total);
    const auto temp = boost::json::parse(server.get("/trips/temperature").body).as_object();
    for (const auto& row : temp.at("result").as_array())
        with_weather += static_cast<std::uint64_t>(row.as_array()[1].to_number<std::int64_t>());
    EXPECT_EQ(with_weather, files->total - files->per_day.begin()->second);
}

TEST(frost_load_routes, a_rollup_built_before_a_load_is_refreshed_at_the_next_start) {
    auto files = load_all_layouts();
    auto cfg = testing::default_config(files->db.string());
    cfg.serving.path = (files->dir.path / "serving.duckdb").string();
    auto plain = cfg;
    plain.rollups.clear();
    auto sum_of_rollup = [](rollup::serving_store& store) {
        const std::string sql = "select sum(trip_count)::BIGINT from trips_by_day";
        auto t = store.run({sql, {}, model::deadline::after(std::chrono::seconds(10)), "test", 10});
        return t ? std::get<std::int64_t>(t.value().rows.at(0).at(0)) : -1;
    };
    const rollup::store_options no_refresh_on_start{true, false, true, false};
    {
        auto sources = app::open_sources(plain);
        ASSERT_TRUE(sources) << sources.error().message;
        auto store = rollup::serving_store::open(cfg, sources.value(), no_refresh_on_start);
        ASSERT_TRUE(store) << store.error().message;
        EXPECT_EQ(store.value()->current("trips_by_day").version, 1u);
        EXPECT_EQ(sum_of_rollup(*store.value()), static_cast<std::int64_t>(files->total));
    }
    const auto more = make_trips(trip_schema::ride_id_2021, 321, 2022, 6);
    write_file(files->dir.path / "more.csv", more.text);
    load(files->db, file_kind::trips, {files->dir.path / "more.csv"});
    {
        auto sources = app::open_sources(plain);
        ASSERT_TRUE(sources) << sources.error().message;
        auto store = rollup::serving_store::open(cfg, sources.value(), no_refresh_on_start);
        ASSERT_TRUE(store) << store.error().message;
        // Without the load it would wait for its 60-minute interval; with it, it is due now.
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (store.value()->current("trips_by_day").version < 2 && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        EXPECT_EQ(store.value()->current("trips_by_day").version, 2u);
        EXPECT_EQ(sum_of_rollup(*store.value()), static_cast<std::int64_t>(files->total + more.rows));
    }
    {
        // Nothing loaded since: the persisted version is served without a rebuild.
        auto sources = app::open_sources(plain);
        auto store = rollup::serving_store::open(cfg, sources.value(), no_refresh_on_start);
        ASSERT_TRUE(store) << store.error().message;
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        EXPECT_EQ(store.value()->current("trips_by_day").version, 2u);
    }
}

}  // namespace
}  // namespace frost::data
