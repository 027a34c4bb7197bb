// The default /trips/* routes answer from the trips_by_day rollup. These tests hold them to
// the seed's SQL asked of DuckDB directly (its C API, no Frost code) over the raw trips, for
// hundreds of random whole-day ranges, and count the source queries an API call makes.
#include <duckdb.h>
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <future>
#include <map>
#include <random>

#include "api/service.hpp"
#include "api/worker_pool.hpp"
#include "rollup/serving_store.hpp"
#include "source/duckdb/duckdb_source.hpp"
#include "support/sanitized.hpp"
#include "support/test_server.hpp"

namespace frost::testing {
namespace {

// One cell of the oracle's answer: integers stay integers; DECIMAL temperatures become doubles
// (JSON has one number type; the API writes `70.0`).
using cell = std::variant<std::monostate, std::int64_t, double, std::string>;
using rows = std::vector<std::vector<cell>>;

// DuckDB asked directly through its C API.
class oracle {
public:
    explicit oracle(const std::string& path) {
        duckdb_config cfg;
        duckdb_create_config(&cfg);
        duckdb_set_config(cfg, "access_mode", "READ_ONLY");
        char* err = nullptr;
        if (duckdb_open_ext(path.c_str(), &db_, cfg, &err) == DuckDBError) {
            std::string msg = err ? err : "open failed";
            duckdb_free(err);
            duckdb_destroy_config(&cfg);
            throw std::runtime_error(msg);
        }
        duckdb_destroy_config(&cfg);
        if (duckdb_connect(db_, &con_) == DuckDBError) throw std::runtime_error("connect failed");
    }
    ~oracle() {
        duckdb_disconnect(&con_);
        duckdb_close(&db_);
    }
    rows query(const std::string& sql) {
        duckdb_result res;
        if (duckdb_query(con_, sql.c_str(), &res) == DuckDBError) {
            std::string msg = duckdb_result_error(&res);
            duckdb_destroy_result(&res);
            throw std::runtime_error(msg + "\n" + sql);
        }
        rows out;
        const auto ncol = duckdb_column_count(&res), nrow = duckdb_row_count(&res);
        for (idx_t r = 0; r < nrow; ++r) {
            std::vector<cell> row;
            for (idx_t c = 0; c < ncol; ++c) {
                if (duckdb_value_is_null(&res, c, r)) {
                    row.emplace_back(std::monostate{});
                    continue;
                }
                switch (duckdb_column_type(&res, c)) {
                    case DUCKDB_TYPE_BIGINT:
                        row.emplace_back(duckdb_value_int64(&res, c, r));
                        break;
                    case DUCKDB_TYPE_DECIMAL:
                    case DUCKDB_TYPE_DOUBLE:
                        row.emplace_back(duckdb_value_double(&res, c, r));
                        break;
                    default: {
                        char* s = duckdb_value_varchar(&res, c, r);
                        row.emplace_back(std::string(s));
                        duckdb_free(s);
                    }
                }
            }
            out.push_back(std::move(row));
        }
        duckdb_destroy_result(&res);
        return out;
    }

private:
    duckdb_database db_ = nullptr;
    duckdb_connection con_ = nullptr;
};

// The seed's three reports (its Snowflake SQL, in DuckDB's words) over the raw trips, for the
// whole days [from, to].
std::string seed_sql(const std::string& report, const std::string& from, const std::string& to) {
    const std::string where = " where starttime >= DATE '" + from + "' and starttime < DATE '" + to + "' + 1";
    if (report == "monthly")
        return "select count(*)::BIGINT, ['Jan','Feb','Mar','Apr','May','Jun','Jul','Aug','Sep','Oct','Nov','Dec']"
               "[month(starttime)] from demo.trips" +
               where + " group by month(starttime) order by month(starttime)";
    if (report == "day_of_week")
        return "select count(*)::BIGINT, ['Sun','Mon','Tue','Wed','Thu','Fri','Sat'][dayofweek(starttime) + 1]"
               " from demo.trips" +
               where + " group by dayofweek(starttime) order by dayofweek(starttime)";
    return "with weather_trips as (select * from demo.trips t inner join demo.weather w"
           " on date_trunc('day', t.starttime) = w.observation_date)"
           " select round(temp_avg_f, -1), count(*)::BIGINT from weather_trips" +
           where + " group by round(temp_avg_f, -1) order by round(temp_avg_f, -1) asc";
}

rows api_rows(const std::string& body) {
    rows out;
    auto doc = boost::json::parse(body);
    for (const auto& r : doc.at("result").as_array()) {
        std::vector<cell> row;
        for (const auto& v : r.as_array()) {
            if (v.is_null())
                row.emplace_back(std::monostate{});
            else if (v.is_int64())
                row.emplace_back(v.as_int64());
            else if (v.is_uint64())
                row.emplace_back(static_cast<std::int64_t>(v.as_uint64()));
            else if (v.is_double())
                row.emplace_back(v.as_double());
            else
                row.emplace_back(std::string(v.as_string()));
        }
        out.push_back(std::move(row));
    }
    return out;
}

// JSON has one number type: `70`, `70.0` and the DECIMAL 70.0 are the same answer.
rows normalised(rows rs) {
    for (auto& r : rs)
        for (auto& c : r)
            if (const auto* d = std::get_if<double>(&c); d && *d == std::floor(*d) && std::fabs(*d) < 9e15)
                c = static_cast<std::int64_t>(*d);
    return rs;
}

std::string describe(const rows& rs) {
    std::string s;
    for (const auto& r : rs) {
        s += "[";
        for (const auto& c : r) {
            std::visit(
                [&](const auto& x) {
                    using T = std::decay_t<decltype(x)>;
                    if constexpr (std::is_same_v<T, std::monostate>)
                        s += "null";
                    else if constexpr (std::is_same_v<T, std::string>)
                        s += x;
                    else
                        s += std::to_string(x);
                },
                c);
            s += ",";
        }
        s += "] ";
    }
    return s;
}

std::string iso(model::date d) {
    return model::format_date(d);
}
std::string us_date(model::date d) {
    const auto c = model::civil_from_days(d.days);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%02u/%02u/%04d", c.month, c.day, c.year);
    return buf;
}

TEST(rollup_equivalence, trips_reports_match_the_seed_sql_over_raw_trips_for_random_ranges) {
    const auto db = sample_database(200'000);
    test_server server(default_config(db));
    oracle raw(db);
    // Each route's first read is answered by DuckDB and queues its prefix index; the ranges
    // below are asked once the indexes are built.
    const auto* store = server.service().serving_store();
    ASSERT_NE(store, nullptr);
    for (const std::string report : {"monthly", "day_of_week", "temperature"})
        ASSERT_EQ(server.get("/trips/" + report).status, 200);
    store->settle_prefix_sums();
    std::map<std::string, rollup::serving_store::answer_counts> before;
    for (const std::string report : {"monthly", "day_of_week", "temperature"})
        before[report] = store->answers("/trips/" + report);

    std::mt19937_64 rng(20261125);
    // Ranges inside, across and outside the data (2013-06-01 .. 2020-05-01).
    const auto lo = model::days_from_civil(2013, 4, 1), hi = model::days_from_civil(2020, 7, 31);
    std::uniform_int_distribution<std::int32_t> day(lo, hi);
    std::uniform_int_distribution<int> shape(0, 9);
    int compared = 0;
    for (int i = 0; i < frost::testing::rounds(210); ++i) {
        std::int32_t a = day(rng), b = day(rng);
        if (a > b) std::swap(a, b);
        switch (shape(rng)) {
            case 0:
                b = a;
                break;  // one day
            case 1:
                b = std::min(hi, a + 30);
                break;  // about a month
            case 2:
                b = std::min(hi, a + 364);
                break;  // a year (the load test's shape)
            default:
                break;
        }
        const model::date from{a}, to{b};
        const bool seed_format = i % 3 == 0;  // the seed's MM/DD/YYYY, with its `start`/`end` names
        const std::string query = seed_format ? "start=" + us_date(from) + "&end=" + us_date(to)
                                              : "start_range=" + iso(from) + "&end_range=" + iso(to);
        for (const std::string report : {"monthly", "day_of_week", "temperature"}) {
            auto got = server.get("/trips/" + report + "?" + query);
            ASSERT_EQ(got.status, 200) << report << "?" << query << ": " << got.body;
            ASSERT_EQ(got.header("x-data-version").rfind("trips_by_day@", 0), 0u) << got.header("x-data-version");
            const auto expected = normalised(raw.query(seed_sql(report, iso(from), iso(to))));
            const auto actual = normalised(api_rows(got.body));
            ASSERT_EQ(actual, expected) << report << "?" << query << "\n api:    " << describe(actual)
                                        << "\n oracle: " << describe(expected);
            ++compared;
        }
    }
    EXPECT_EQ(compared, 3 * frost::testing::rounds(210));  // 630 in the Release run
    // Every one of them was answered from the prefix sums of its endpoint's SQL, not by DuckDB.
    for (const std::string report : {"monthly", "day_of_week", "temperature"}) {
        const auto counts = store->answers("/trips/" + report);
        EXPECT_EQ(counts.prefix_sums - before[report].prefix_sums,
                  static_cast<std::uint64_t>(frost::testing::rounds(210)))
            << report;
        EXPECT_EQ(counts.duckdb, before[report].duckdb) << report;
    }

    // No range at all: every trip.
    for (const std::string report : {"monthly", "day_of_week", "temperature"}) {
        auto got = server.get("/trips/" + report);
        ASSERT_EQ(got.status, 200);
        EXPECT_EQ(normalised(api_rows(got.body)), normalised(raw.query(seed_sql(report, "1900-01-01", "2100-01-01"))))
            << report;
    }
}

// Endpoints whose SQL the prefix sums decline (one when parsed, one when built: a float sum)
// still answer, through DuckDB, exactly as the served one does.
TEST(rollup_equivalence, endpoints_the_prefix_sums_decline_answer_through_duckdb) {
    const auto db = sample_database(50'000);
    auto cfg = default_config(db);
    const config::endpoint_config* monthly = nullptr;
    for (const auto& e : cfg.endpoints)
        if (e.path == "/trips/monthly") monthly = &e;
    ASSERT_NE(monthly, nullptr);
    const std::string where =
        " from trips_by_day where ($start_range is null or day >= $start_range) and ($end_range is null or day <= "
        "$end_range) group by month_number";
    const std::vector<std::pair<std::string, std::string>> declined = {
        {"/trips/monthly_having", "select sum(trip_count)::BIGINT as trip_count, any_value(month_name) as month" +
                                      where + " having count(*) > 0 order by month_number"},
        {"/trips/monthly_float",
         "select sum(trip_count::DOUBLE)::BIGINT as trip_count, any_value(month_name) as month" + where +
             " order by month_number"},
    };
    auto base = *monthly;
    for (const auto& [path, sql] : declined) {
        auto e = base;
        e.path = path;
        for (auto& [dialect, text] : e.sql) text = sql;
        cfg.endpoints.push_back(std::move(e));
    }
    test_server server(cfg);
    const auto* store = server.service().serving_store();
    ASSERT_NE(store, nullptr);
    ASSERT_EQ(server.get("/trips/monthly").status, 200);  // DuckDB answers; the index is queued
    for (const auto& [path, sql] : declined) ASSERT_EQ(server.get(path).status, 200);
    store->settle_prefix_sums();
    const auto monthly_before = store->answers("/trips/monthly");
    std::mt19937_64 rng(5);
    std::uniform_int_distribution<std::int32_t> day(model::days_from_civil(2013, 4, 1),
                                                    model::days_from_civil(2020, 7, 31));
    const int calls = frost::testing::rounds(40);
    for (int i = 0; i < calls; ++i) {
        std::int32_t a = day(rng), b = day(rng);
        if (a > b) std::swap(a, b);
        const std::string query = "?start_range=" + iso({a}) + "&end_range=" + iso({b});
        auto expected = server.get("/trips/monthly" + query);
        ASSERT_EQ(expected.status, 200) << expected.body;
        for (const auto& [path, sql] : declined) {
            auto got = server.get(path + query);
            ASSERT_EQ(got.status, 200) << path << ": " << got.body;
            EXPECT_EQ(api_rows(got.body), api_rows(expected.body)) << path << query;
        }
    }
    EXPECT_EQ(store->answers("/trips/monthly").prefix_sums - monthly_before.prefix_sums,
              static_cast<std::uint64_t>(calls));
    EXPECT_EQ(store->answers("/trips/monthly").duckdb, monthly_before.duckdb);
    for (const auto& [path, sql] : declined) {
        EXPECT_EQ(store->answers(path).prefix_sums, 0u) << path;
        EXPECT_EQ(store->answers(path).duckdb, static_cast<std::uint64_t>(calls) + 1) << path;
    }
}

// Counts every query a source runs: the proof that rollup-backed routes never reach it.
class counting_source final : public frost::source::source {
public:
    explicit counting_source(std::shared_ptr<frost::source::source> inner) : inner_(std::move(inner)) {}
    std::string_view name() const override { return inner_->name(); }
    std::string_view dialect() const override { return inner_->dialect(); }
    model::result<model::table> run(const frost::source::query& q) override {
        calls.fetch_add(1);
        return inner_->run(q);
    }
    std::atomic<int> calls{0};

private:
    std::shared_ptr<frost::source::source> inner_;
};

TEST(rollup_routes, make_zero_source_queries_per_api_call) {
    const auto db = sample_database(200'000);
    auto cfg = default_config(db);
    auto local = frost::source::duckdb::duckdb_source::open("local", {db, true, {}});
    ASSERT_TRUE(local) << local.error().message;
    auto counted = std::make_shared<counting_source>(std::shared_ptr<frost::source::source>(std::move(local).value()));
    api::source_map sources{{"local", counted}};
    auto opened = rollup::open_serving(cfg, sources, {true, true, false});
    ASSERT_TRUE(opened) << opened.error().message;
    auto store = std::move(opened).value();
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(counted->calls.load(), 1);  // the one build at start-up
    EXPECT_EQ(store->source_queries(), 1u);

    api::worker_pool workers(2, 256);
    auto svc = api::service::create(std::make_shared<const config::config>(cfg), sources, workers, store);
    ASSERT_TRUE(svc) << svc.error().message;
    std::mt19937_64 rng(3);
    std::uniform_int_distribution<std::int32_t> day(model::days_from_civil(2013, 6, 1),
                                                    model::days_from_civil(2020, 4, 30));
    const auto reads_before = store->reads();
    int answered = 0;
    for (int i = 0; i < 100; ++i) {
        std::int32_t a = day(rng), b = day(rng);
        if (a > b) std::swap(a, b);
        for (const std::string report : {"monthly", "day_of_week", "temperature"}) {
            api::request r;
            r.target = "/trips/" + report + "?start_range=" + iso({a}) + "&end_range=" + iso({b});
            auto res = svc.value()->handle_sync(std::move(r));
            ASSERT_EQ(res.status, 200);
            ++answered;
        }
        api::request rnd;
        rnd.target = "/trips/monthly?random=true";  // cache bypassed: still no source query
        EXPECT_EQ(svc.value()->handle_sync(std::move(rnd)).status, 200);
        ++answered;
    }
    EXPECT_EQ(answered, 400);
    EXPECT_EQ(counted->calls.load(), 1);
    EXPECT_EQ(store->source_queries(), 1u);
    EXPECT_GE(store->reads() - reads_before, 300u);  // answered from the serving database

    // The live family does reach the source, once per call: the counter can move.
    api::request live;
    live.target = "/sqlapi/trips/monthly?start_range=2019-01-01&end_range=2019-12-31";
    EXPECT_EQ(svc.value()->handle_sync(std::move(live)).status, 200);
    EXPECT_EQ(counted->calls.load(), 2);
}

// A cache miss that an endpoint's prefix sums answer is filled on the calling thread: with the
// only worker busy, such misses are still answered (and cached), while a read that needs DuckDB
// waits for the worker, which shows the worker really was busy.
TEST(rollup_routes, cache_misses_the_prefix_sums_answer_need_no_worker) {
    const auto db = sample_database(200'000);
    auto cfg = default_config(db);
    auto local = frost::source::duckdb::duckdb_source::open("local", {db, true, {}});
    ASSERT_TRUE(local) << local.error().message;
    api::source_map sources{{"local", std::shared_ptr<frost::source::source>(std::move(local).value())}};
    auto opened = rollup::open_serving(cfg, sources, {true, true, false});
    ASSERT_TRUE(opened) << opened.error().message;
    auto store = std::move(opened).value();
    api::worker_pool workers(1, 16);
    auto svc = api::service::create(std::make_shared<const config::config>(cfg), sources, workers, store);
    ASSERT_TRUE(svc) << svc.error().message;
    auto get = [&](const std::string& target) {
        auto answered = std::make_shared<std::promise<api::response>>();
        auto future = answered->get_future();
        api::request r;
        r.target = target;
        svc.value()->handle(std::move(r), [answered](api::response res) { answered->set_value(std::move(res)); });
        return future;
    };
    const std::vector<std::string> reports{"monthly", "day_of_week", "temperature"};
    // Each SQL's first read is DuckDB's and queues its index: build them before the worker stops.
    for (const auto& report : reports) ASSERT_EQ(get("/trips/" + report).get().status, 200);
    store->settle_prefix_sums();

    std::promise<void> release;
    auto released = release.get_future().share();
    std::promise<void> busy;
    ASSERT_TRUE(workers.try_post([released, &busy] {
        busy.set_value();
        released.wait();
    }));
    busy.get_future().wait();

    std::mt19937_64 rng(11);
    std::uniform_int_distribution<std::int32_t> day(model::days_from_civil(2013, 6, 1),
                                                    model::days_from_civil(2020, 4, 30));
    std::map<std::string, std::string> bodies;
    for (int i = 0; i < 20; ++i) {
        std::int32_t a = day(rng), b = day(rng);
        if (a > b) std::swap(a, b);
        for (const auto& report : reports) {
            const auto target = "/trips/" + report + "?start_range=" + iso({a}) + "&end_range=" + iso({b});
            auto answer = get(target);
            ASSERT_EQ(answer.wait_for(std::chrono::seconds(10)), std::future_status::ready) << target;
            auto res = answer.get();
            ASSERT_EQ(res.status, 200) << target << ": " << res.body_view();
            EXPECT_EQ(res.header("X-Cache"), "miss") << target;
            bodies[target] = std::string(res.body_view());
            EXPECT_NE(bodies[target].find("\"result\""), std::string::npos) << target;
        }
    }
    auto live = get("/sqlapi/trips/monthly?start_range=2019-01-01&end_range=2019-01-31");
    EXPECT_EQ(live.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);

    release.set_value();
    EXPECT_EQ(live.get().status, 200);
    // The misses were cached: asked again, each is a hit with the same body.
    for (const auto& [target, body] : bodies) {
        auto res = get(target).get();
        EXPECT_EQ(res.header("X-Cache"), "hit") << target;
        EXPECT_EQ(res.body_view(), body) << target;
    }
}

// An answer from prefix sums too large to compress on the I/O thread (over 64 KiB: one row per
// day) is rendered there and stored by a worker: with the only worker busy it waits, and once the
// worker is free it is answered from the prefix sums, then cached.
TEST(rollup_routes, a_large_miss_from_prefix_sums_is_stored_by_a_worker) {
    const auto db = sample_database(200'000);
    auto cfg = default_config(db);
    auto daily = *std::find_if(cfg.endpoints.begin(), cfg.endpoints.end(),
                               [](const config::endpoint_config& e) { return e.path == "/trips/monthly"; });
    daily.path = "/trips/daily";
    for (auto& [dialect, sql] : daily.sql)
        sql =
            "select day, sum(trip_count)::BIGINT as trip_count, any_value(month_name) as month_name, "
            "any_value(weekday_name) as weekday_name from trips_by_day "
            "where ($start_range is null or day >= $start_range) and ($end_range is null or day <= $end_range) "
            "group by day order by day";
    cfg.endpoints.push_back(daily);
    auto local = frost::source::duckdb::duckdb_source::open("local", {db, true, {}});
    ASSERT_TRUE(local) << local.error().message;
    api::source_map sources{{"local", std::shared_ptr<frost::source::source>(std::move(local).value())}};
    auto opened = rollup::open_serving(cfg, sources, {true, true, false});
    ASSERT_TRUE(opened) << opened.error().message;
    auto store = std::move(opened).value();
    api::worker_pool workers(1, 16);
    auto svc = api::service::create(std::make_shared<const config::config>(cfg), sources, workers, store);
    ASSERT_TRUE(svc) << svc.error().message;
    auto get = [&](const std::string& target) {
        auto answered = std::make_shared<std::promise<api::response>>();
        auto future = answered->get_future();
        api::request r;
        r.target = target;
        svc.value()->handle(std::move(r), [answered](api::response res) { answered->set_value(std::move(res)); });
        return future;
    };
    ASSERT_EQ(get("/trips/daily?start_range=2014-01-01&end_range=2014-01-31").get().status, 200);
    store->settle_prefix_sums();

    std::promise<void> release;
    auto released = release.get_future().share();
    std::promise<void> busy;
    ASSERT_TRUE(workers.try_post([released, &busy] {
        busy.set_value();
        released.wait();
    }));
    busy.get_future().wait();
    const auto before = store->answers("/trips/daily");
    const std::string target = "/trips/daily?start_range=2013-06-01&end_range=2020-04-30";
    auto large = get(target);
    EXPECT_EQ(large.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
    release.set_value();
    auto res = large.get();
    ASSERT_EQ(res.status, 200) << res.body_view();
    EXPECT_GT(res.body_view().size(), std::size_t{64} * 1024);
    EXPECT_EQ(res.header("X-Cache"), "miss");
    EXPECT_EQ(store->answers("/trips/daily").prefix_sums - before.prefix_sums, 1u);
    EXPECT_EQ(store->answers("/trips/daily").duckdb, before.duckdb);
    auto again = get(target).get();
    EXPECT_EQ(again.header("X-Cache"), "hit");
    EXPECT_EQ(again.body_view(), res.body_view());
}

}  // namespace
}  // namespace frost::testing
