// The contract suite: every seed route answered over DuckDB directly and over Snowflake's SQL
// API (the emulator, on the same data) must give the same rows, for many random date ranges.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cctype>
#include <map>
#include <random>

#include "fixture.hpp"
#include "model/value.hpp"
#include "support/sanitized.hpp"

namespace {

namespace sft = frost::testing::snowflake;
using frost::testing::test_server;

const std::vector<std::string> routes = {
    "/trips/monthly",        "/trips/day_of_week",        "/trips/temperature",
    "/sqlapi/trips/monthly", "/sqlapi/trips/day_of_week", "/sqlapi/trips/temperature"};

// The rows of an answer: the envelope without its timing.
std::string rows_of(const frost::testing::http_answer& a) {
    const auto cut = a.body.rfind(",\"time_ms\":");
    return cut == std::string::npos ? a.body : a.body.substr(0, cut);
}

std::string format(frost::model::date d, bool us) {
    const auto c = frost::model::civil_from_days(d.days);
    char buf[16];
    if (us)
        std::snprintf(buf, sizeof buf, "%02u/%02u/%04d", c.month, c.day, c.year);
    else
        std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", c.year, c.month, c.day);
    return buf;
}

// Query strings: no range, edge cases, then random ranges over (and a little past) the data.
std::vector<std::string> queries(std::uint32_t seed, int random_ranges) {
    std::vector<std::string> out = {"",
                                    "?start_range=2013-06-01&end_range=2013-06-01",
                                    "?start_range=06/01/2013&end_range=06/30/2013",
                                    "?start_range=2016-02-29&end_range=2016-03-01",
                                    "?start_range=2020-04-01&end_range=2020-05-01",
                                    "?start_range=2009-01-01&end_range=2009-12-31",  // no trips
                                    "?start_range=2014-01-01&end_range=2013-01-01",  // start after end: 400
                                    "?start_range=2014-01-01",                       // one bound: 400
                                    "?start=2015-05-05&end=2015-06-06"};
    std::mt19937 rng(seed);
    const auto first = frost::model::days_from_civil(2013, 5, 1);
    const auto last = frost::model::days_from_civil(2020, 6, 1);
    std::uniform_int_distribution<int> day(first, last);
    std::uniform_int_distribution<int> len_kind(0, 3);
    for (int i = 0; i < random_ranges; ++i) {
        const int a = day(rng);
        int b = a;
        switch (len_kind(rng)) {
            case 0:
                b = a;
                break;  // one day
            case 1:
                b = a + std::uniform_int_distribution<int>(1, 31)(rng);
                break;  // up to a month
            case 2:
                b = a + std::uniform_int_distribution<int>(1, 400)(rng);
                break;
            default:
                b = std::uniform_int_distribution<int>(a, last)(rng);
        }
        const bool us = rng() % 2;
        out.push_back("?start_range=" + format({a}, us) + "&end_range=" + format({b}, us));
    }
    return out;
}

void expect_same_answers(test_server& duck, test_server& snow, const std::vector<std::string>& qs,
                         const std::vector<std::string>& paths) {
    int compared = 0;
    for (const auto& q : qs) {
        for (const auto& path : paths) {
            const auto a = duck.get(path + q);
            const auto b = snow.get(path + q);
            ASSERT_EQ(a.status, b.status) << path << q << "\nduckdb: " << a.body << "\nsnowflake: " << b.body;
            ASSERT_EQ(rows_of(a), rows_of(b)) << path << q;
            if (a.status == 200) ++compared;
        }
    }
    EXPECT_GE(compared, static_cast<int>((qs.size() - 2) * paths.size()));
}

class SnowflakeContract : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        db_ = new std::string(frost::testing::sample_database(sft::sample_trips));
        // Small partitions so the rollup's ~2,500 days arrive in several gzip partitions.
        emulator_ = sft::start_emulator(400).release();
        duck_ = new test_server(frost::testing::default_config(*db_));
    }
    static void TearDownTestSuite() {
        delete duck_;
        delete emulator_;
        delete db_;
    }
    static std::string* db_;
    static sft::emu::emulator* emulator_;
    static test_server* duck_;
};
std::string* SnowflakeContract::db_ = nullptr;
sft::emu::emulator* SnowflakeContract::emulator_ = nullptr;
test_server* SnowflakeContract::duck_ = nullptr;

// default_config with a Snowflake source: the rollup behind /trips/* is built through the SQL
// API and /sqlapi/trips/* run on it live.
TEST_F(SnowflakeContract, DefaultConfigOverTheSqlApiGivesTheSameRows) {
    auto cfg = frost::testing::default_config(*db_);
    frost::config::source_config warehouse;
    warehouse.name = "warehouse";
    warehouse.type = "snowflake";
    warehouse.snowflake = sft::resolved_settings(*emulator_);
    cfg.sources.push_back(warehouse);
    int pointed = 0;
    for (auto& r : cfg.rollups) r.source = "warehouse", ++pointed;
    for (auto& e : cfg.endpoints)
        if (e.path.starts_with("/sqlapi/")) e.source = "warehouse", ++pointed;
    ASSERT_GE(pointed, 4) << "default_config no longer has the seed's rollup and /sqlapi routes";
    emulator_->clear_log();
    test_server snow(std::move(cfg));

    const auto seed = static_cast<std::uint32_t>(std::random_device{}());
    SCOPED_TRACE("random seed " + std::to_string(seed));
    const std::size_t n = frost::testing::rounds<std::size_t>(110);
    expect_same_answers(*duck_, snow, queries(seed, n), routes);

    // The answers really came through the SQL API, with partitions.
    std::size_t submits = 0, partitions = 0;
    for (const auto& e : emulator_->log()) {
        submits += e.kind == "submit";
        partitions += e.kind == "partition";
    }
    EXPECT_GE(submits, 3u * n);
    EXPECT_GE(partitions, 5u);
}

// The shipped config/snowflake.example.yaml, as a user runs it, against the embedded default.
TEST_F(SnowflakeContract, ExampleConfigGivesTheSameRowsAsTheEmbeddedDefault) {
    auto loaded = frost::config::load_file(std::string(FROST_SOURCE_DIR) + "/config/snowflake.example.yaml");
    ASSERT_TRUE(loaded) << loaded.error().message;
    auto cfg = std::move(loaded).value();
    cfg.server.port = 0;
    cfg.server.io_threads = 2;
    cfg.server.workers = 2;
    cfg.serving.path.clear();
    ASSERT_EQ(cfg.sources.size(), 1u);
    // The emulator's account, key and host come in as the seed's SNOWFLAKE_* variables would,
    // over the file's keys (which name the same database, schema and warehouse).
    std::map<std::string, std::string> env;
    for (auto& [k, v] : sft::source_settings(*emulator_)) {
        std::string var = "SNOWFLAKE_";
        for (char c : k) var += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (k != "env_prefix") env[var] = v;
    }
    auto applied = frost::config::apply_environment(cfg, [&](const std::string& name) -> std::optional<std::string> {
        auto it = env.find(name);
        if (it == env.end()) return std::nullopt;
        return it->second;
    });
    ASSERT_TRUE(applied) << applied.error().message;
    test_server snow(std::move(cfg));

    const auto seed = static_cast<std::uint32_t>(std::random_device{}());
    SCOPED_TRACE("random seed " + std::to_string(seed));
    expect_same_answers(*duck_, snow, queries(seed, 30), routes);
    // The static root takes no parameters (with a date range it is a 400 on both): compared bare.
    const auto root_duck = duck_->get("/"), root_snow = snow.get("/");
    EXPECT_EQ(root_duck.status, 200);
    EXPECT_EQ(root_snow.status, root_duck.status);
    EXPECT_EQ(root_snow.body, root_duck.body);
}

}  // namespace

namespace {

// Upstream trouble as callers see it through the real server: a clean JSON error in time.
TEST_F(SnowflakeContract, UpstreamFaultsBecomeCleanJsonErrorsInTime) {
    auto cfg = frost::testing::default_config(*db_);
    frost::config::source_config warehouse;
    warehouse.name = "warehouse";
    warehouse.type = "snowflake";
    warehouse.snowflake = sft::resolved_settings(*emulator_, {{"max_attempts", "3"}});
    cfg.sources.push_back(warehouse);
    cfg.server.request_timeout = std::chrono::milliseconds(1500);
    for (auto& e : cfg.endpoints) {
        if (e.path == "/sqlapi/trips/monthly") e.source = "warehouse";
        if (e.path == "/sqlapi/trips/temperature") {
            e.source = "warehouse";
            e.sql["snowflake"] = "select no_such_column from demo.trips";
        }
    }
    test_server snow(std::move(cfg));
    emulator_->clear_faults();
    auto body = [](const frost::testing::http_answer& a) { return boost::json::parse(a.body).as_object(); };

    // A statement that never finishes: cancelled at the deadline, 504.
    emulator_->add_fault({sft::emu::fault_target::submit, sft::emu::fault_action::never_finish, 1, 0, {}, {}});
    auto start = std::chrono::steady_clock::now();
    auto a = snow.get("/sqlapi/trips/monthly");
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(a.status, 504) << a.body;
    EXPECT_EQ(body(a).at("code").as_string(), "FR505");
    EXPECT_EQ(a.header("content-type"), "application/json");
    EXPECT_LT(took, std::chrono::milliseconds(3000));

    // Snowflake overloaded past the retries: 503 with Retry-After.
    emulator_->add_fault({sft::emu::fault_target::submit, sft::emu::fault_action::status, -1, 503, {}, {}});
    a = snow.get("/sqlapi/trips/monthly?start_range=2014-01-01&end_range=2014-01-31");
    EXPECT_EQ(a.status, 503) << a.body;
    EXPECT_EQ(body(a).at("code").as_string(), "FR503");
    EXPECT_FALSE(a.header("retry-after").empty());
    emulator_->clear_faults();

    // A SQL error: 502, nothing retried. Snowflake's text (its code, the column) is in the log
    // under the request id, not in the body (`server.expose_errors` is off).
    a = snow.get("/sqlapi/trips/temperature", {{"X-Request-Id", "sql-error-1"}});
    EXPECT_EQ(a.status, 502) << a.body;
    const auto err = body(a);
    EXPECT_EQ(err.at("code").as_string(), "FR502");
    EXPECT_EQ(err.at("request_id").as_string(), "sql-error-1");
    EXPECT_FALSE(err.contains("details"));
    for (const char* secret : {"000904", "no_such_column", "demo.trips", "Snowflake"})
        EXPECT_EQ(a.body.find(secret), std::string::npos) << secret << " reached the client: " << a.body;

    // With `server.expose_errors: true` (development), the caller sees Snowflake's own text.
    {
        auto dev = frost::testing::default_config(*db_);
        frost::config::source_config w = warehouse;
        dev.sources.push_back(w);
        dev.server.expose_errors = true;
        for (auto& e : dev.endpoints)
            if (e.path == "/sqlapi/trips/temperature") {
                e.source = "warehouse";
                e.sql["snowflake"] = "select no_such_column from demo.trips";
            }
        test_server exposed(std::move(dev));
        auto d = exposed.get("/sqlapi/trips/temperature", {{"X-Request-Id", "sql-error-2"}});
        EXPECT_EQ(d.status, 502) << d.body;
        const auto shown = body(d);
        EXPECT_EQ(shown.at("code").as_string(), "FR502");
        EXPECT_EQ(shown.at("request_id").as_string(), "sql-error-2");
        EXPECT_NE(std::string(shown.at("details").as_string()).find("000904"), std::string::npos) << d.body;
        EXPECT_EQ(std::string(shown.at("error").as_string()).find('\n'), std::string::npos);
    }

    // And then it works again, with the same rows as DuckDB.
    a = snow.get("/sqlapi/trips/monthly?start_range=2014-01-01&end_range=2014-01-31");
    EXPECT_EQ(a.status, 200) << a.body;
    EXPECT_EQ(rows_of(a), rows_of(duck_->get("/sqlapi/trips/monthly?start_range=2014-01-01&end_range=2014-01-31")));
}

}  // namespace
