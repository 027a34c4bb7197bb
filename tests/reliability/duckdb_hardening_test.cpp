// B7.24 of docs/reliability.md, as far as it applies: callers never send
// SQL, but a read-only (serving) DuckDB source must still refuse to reach files, the network
// or its own settings, and a runaway query must stop at its deadline without harming the
// next one on the same source.

#include <gtest/gtest.h>

#include <filesystem>

#include "source/duckdb/duckdb_source.hpp"

namespace {

using namespace std::chrono_literals;
namespace duck = frost::source::duckdb;

struct hardened : ::testing::Test {
    static inline std::string path;
    static inline std::unique_ptr<duck::duckdb_source> src;
    static void SetUpTestSuite() {
        path = (std::filesystem::temp_directory_path() / ("frost-hardening-" + std::to_string(::getpid()) + ".duckdb"))
                   .string();
        {
            auto db = duck::database::open(path);
            ASSERT_TRUE(db.ok()) << db.error().message;
            auto con = duck::connection::open(*db.value());
            ASSERT_TRUE(con.ok());
            ASSERT_TRUE(con.value()->execute("create table t as select range as n from range(1000)").ok());
        }
        auto s = duck::duckdb_source::open("local", {path, true, {}});
        ASSERT_TRUE(s.ok()) << s.error().message;
        src = std::move(s).value();
    }
    static void TearDownTestSuite() {
        src.reset();
        std::filesystem::remove(path);
    }
    static frost::model::result<frost::model::table> run(const std::string& sql,
                                                         std::chrono::milliseconds budget = 5s) {
        frost::source::query q{sql, {}, frost::model::deadline::after(budget), "test", 1000};
        return src->run(q);
    }
};

TEST_F(hardened, serves_its_own_data) {
    auto r = run("select count(*) as c from t");
    ASSERT_TRUE(r.ok()) << r.error().message;
}

TEST_F(hardened, sql_cannot_reach_files_network_or_settings) {
    const std::vector<std::string> hostile = {
        "select * from read_csv('/etc/passwd')",
        "select * from read_text('/etc/hostname')",
        "select * from read_csv('http://127.0.0.1:9/x.csv')",
        "copy t to '/tmp/frost-hardening-leak.csv'",
        "attach '/tmp/frost-hardening-other.duckdb' as other",
        "install httpfs",
        "load httpfs",
        "set enable_external_access = true",
        "set memory_limit = '100GB'",
        "select 1; drop table t",
    };
    for (const auto& sql : hostile) {
        auto r = run(sql);
        EXPECT_FALSE(r.ok()) << "accepted: " << sql;
    }
    EXPECT_FALSE(std::filesystem::exists("/tmp/frost-hardening-leak.csv"));
    EXPECT_FALSE(std::filesystem::exists("/tmp/frost-hardening-other.duckdb"));
    EXPECT_TRUE(run("select count(*) from t").ok()) << "the table survived";
}

TEST_F(hardened, runaway_query_stops_at_its_deadline_and_the_next_one_runs) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = run("select count(*) from range(1000000000000) a, range(10) b where a.range % 7 = b.range", 500ms);
    const auto took = std::chrono::steady_clock::now() - t0;
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, frost::model::error_code::timeout) << r.error().message;
    EXPECT_LT(took, 1500ms) << "interrupted within a second of the deadline";
    RecordProperty("b7_interrupt_ms", std::to_string(std::chrono::duration<double, std::milli>(took).count()));
    EXPECT_TRUE(run("select count(*) from t").ok());
}

}  // namespace
