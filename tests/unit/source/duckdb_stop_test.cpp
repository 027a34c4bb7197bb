// Issue 15, defect 2: a DuckDB query whose client went away is interrupted (duckdb_interrupt)
// at once, not at its deadline; one that has not started does not start.

#include <gtest/gtest.h>

#include <chrono>
#include <stop_token>
#include <thread>

#include "source/duckdb/duckdb_source.hpp"

namespace frost::source::duckdb {
namespace {

using namespace std::chrono_literals;

constexpr const char* endless = "select count(*) as n from range(0, 100000000000) t(i) where (i * 7) % 13 = 5";

std::unique_ptr<duckdb_source> open_memory() {
    auto s = duckdb_source::open("mem", {":memory:", false, {}});
    EXPECT_TRUE(s.ok());
    return std::move(s).value();
}

TEST(duckdb_stop, a_running_query_is_interrupted_when_stop_is_requested) {
    auto src = open_memory();
    std::stop_source caller;
    std::thread leaver([&] {
        std::this_thread::sleep_for(150ms);
        caller.request_stop();
    });
    const auto started = std::chrono::steady_clock::now();
    auto r = src->run(query{endless, {}, model::deadline::after(60s), "test", 10, caller.get_token()});
    const auto took = std::chrono::steady_clock::now() - started;
    leaver.join();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, model::error_code::timeout);
    EXPECT_NE(r.error().message.find("client went away"), std::string::npos) << r.error().message;
    EXPECT_LT(took, 5s);
    // The source still answers afterwards.
    auto after = src->run(query{"select 42 as x", {}, model::deadline::after(10s), "test", 10, {}});
    ASSERT_TRUE(after.ok()) << after.error().message;
}

TEST(duckdb_stop, a_query_whose_client_left_before_it_started_does_not_run) {
    auto src = open_memory();
    std::stop_source caller;
    caller.request_stop();
    const auto started = std::chrono::steady_clock::now();
    auto r = src->run(query{endless, {}, model::deadline::after(60s), "test", 10, caller.get_token()});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, model::error_code::timeout);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
}

TEST(duckdb_stop, an_unrequested_token_changes_nothing) {
    auto src = open_memory();
    std::stop_source caller;
    auto r = src->run(query{"select 1 as one", {}, model::deadline::after(10s), "test", 10, caller.get_token()});
    ASSERT_TRUE(r.ok()) << r.error().message;
    caller.request_stop();  // after the query: no effect on later ones
    auto again = src->run(query{"select 2 as two", {}, model::deadline::after(10s), "test", 10, {}});
    ASSERT_TRUE(again.ok()) << again.error().message;
}

}  // namespace
}  // namespace frost::source::duckdb
