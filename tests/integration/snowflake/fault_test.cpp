// Every upstream fault the emulator can inject, with its expected outcome: exactly the rows
// DuckDB gives for the same question, or a clean error in time; never part of a result.

#include <gtest/gtest.h>

#include <set>
#include <stop_token>
#include <thread>

#include "fixture.hpp"
#include "source/duckdb/duckdb_source.hpp"

namespace {

namespace sft = frost::testing::snowflake;
namespace emu = frost::emulators::snowflake;
namespace model = frost::model;
using frost::source::parameter;
using frost::source::snowflake::snowflake_source;
using ms = std::chrono::milliseconds;

// ~2,500 rows: several partitions at 300 rows each.
constexpr const char* snowflake_sql =
    "select to_date(starttime) as day, count(*) as n from demo.trips "
    "where ($since is null or starttime >= $since::date) group by 1 order by 1";
constexpr const char* duckdb_sql =
    "select starttime::date as day, count(*) as n from demo.trips "
    "where ($since is null or starttime >= $since::date) group by 1 order by 1";

struct outcome {
    model::result<model::table> result;
    ms elapsed;
};

class SnowflakeFaults : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        emulator_ = sft::start_emulator(300).release();
        auto duck = frost::source::duckdb::duckdb_source::open(
            "oracle", {frost::testing::sample_database(sft::sample_trips), true, {}});
        if (!duck) throw std::runtime_error(duck.error().message);
        oracle_ = duck.value().release();
        std::vector<parameter> params{{"since", model::value{}}};
        auto t =
            oracle_->run({duckdb_sql, params, model::deadline::after(std::chrono::seconds(30)), "oracle", 100'000});
        if (!t) throw std::runtime_error(t.error().message);
        expected_ = new model::table(std::move(t).value());
    }
    static void TearDownTestSuite() {
        delete expected_;
        delete oracle_;
        delete emulator_;
    }
    void SetUp() override {
        emulator_->clear_faults();
        emulator_->clear_log();
        emulator_->set_partition_rows(300);
    }

    static std::unique_ptr<snowflake_source> source(std::map<std::string, std::string> changes = {}) {
        auto s = snowflake_source::open("warehouse", sft::resolved_settings(*emulator_, changes));
        if (!s) throw std::runtime_error(s.error().message);
        return std::move(s).value();
    }

    static outcome run(snowflake_source& src, ms budget = ms(10'000), std::size_t max_rows = 100'000) {
        std::vector<parameter> params{{"since", model::value{}}};
        const auto start = model::clock::now();
        auto r = src.run({snowflake_sql, params, model::deadline::after(budget), "/faults", max_rows});
        return {std::move(r), std::chrono::duration_cast<ms>(model::clock::now() - start)};
    }

    static void expect_exact(const outcome& o) {
        ASSERT_TRUE(o.result) << o.result.error().message << " | " << o.result.error().details;
        const auto& t = o.result.value();
        ASSERT_EQ(t.columns.size(), 2u);
        EXPECT_EQ(t.columns[0].name, "DAY");
        EXPECT_EQ(t.columns[0].type, model::column_type::date);
        EXPECT_EQ(t.columns[1].type, model::column_type::integer);
        ASSERT_EQ(t.rows.size(), expected_->rows.size());
        EXPECT_EQ(t.rows, expected_->rows);
    }

    static std::vector<emu::log_entry> of_kind(const std::string& kind) {
        std::vector<emu::log_entry> out;
        for (auto& e : emulator_->log())
            if (e.kind == kind) out.push_back(e);
        return out;
    }

    static void add(emu::fault_target target, emu::fault_action action, int count = 1, int status = 503,
                    std::string retry_after = {}, ms delay = ms(0)) {
        emulator_->add_fault({target, action, count, status, std::move(retry_after), delay});
    }

    static emu::emulator* emulator_;
    static frost::source::duckdb::duckdb_source* oracle_;
    static model::table* expected_;
};
emu::emulator* SnowflakeFaults::emulator_ = nullptr;
frost::source::duckdb::duckdb_source* SnowflakeFaults::oracle_ = nullptr;
model::table* SnowflakeFaults::expected_ = nullptr;

TEST_F(SnowflakeFaults, NoFaultExactRowsAndTheDocumentedRequests) {
    ASSERT_GT(expected_->rows.size(), 2000u);
    auto src = source();
    expect_exact(run(*src));
    const auto submits = of_kind("submit");
    ASSERT_EQ(submits.size(), 1u);
    EXPECT_TRUE(submits[0].async);
    EXPECT_FALSE(submits[0].retry);
    EXPECT_EQ(submits[0].request_id.size(), 36u);
    EXPECT_EQ(submits[0].token_type, "KEYPAIR_JWT");
    EXPECT_NE(submits[0].accept_encoding.find("gzip"), std::string::npos);
    EXPECT_FALSE(submits[0].user_agent.empty());
    EXPECT_NE(submits[0].body.find("\"QUERY_TAG\":\"/faults\""), std::string::npos);
    const auto parts = of_kind("partition");
    EXPECT_EQ(parts.size(), (expected_->rows.size() + 299) / 300 - 1);
    std::set<std::string> targets;
    for (const auto& p : parts) {
        EXPECT_EQ(p.status, 200);
        EXPECT_EQ(p.handle, submits[0].handle);
        targets.insert(p.target);
    }
    EXPECT_EQ(targets.size(), parts.size()) << "a partition was fetched twice";
    EXPECT_TRUE(of_kind("cancel").empty());
}

// Sequential statements go over one kept-alive connection: no TCP or TLS set-up per call.
TEST_F(SnowflakeFaults, KeepAliveReusesTheConnection) {
    auto src = source();
    std::vector<parameter> none;
    for (int i = 0; i < 5; ++i) {
        auto r =
            src->run({"select 1 as one", none, model::deadline::after(std::chrono::seconds(10)), "/keepalive", 10});
        ASSERT_TRUE(r) << r.error().message;
    }
    std::set<std::uint64_t> connections;
    std::size_t requests = 0;
    for (const auto& e : emulator_->log()) connections.insert(e.connection), ++requests;
    EXPECT_GE(requests, 10u);
    EXPECT_EQ(connections.size(), 1u);
}

TEST_F(SnowflakeFaults, RetryableStatusesOnSubmitReuseTheRequestId) {
    for (int status : {429, 500, 502, 503, 504}) {
        SCOPED_TRACE(status);
        SetUp();
        auto src = source();
        const auto before = emulator_->executions();
        add(emu::fault_target::submit, emu::fault_action::status, 2, status);
        expect_exact(run(*src));
        const auto submits = of_kind("submit");
        ASSERT_EQ(submits.size(), 3u);
        EXPECT_EQ(submits[0].status, status);
        EXPECT_EQ(submits[1].status, status);
        EXPECT_EQ(submits[2].status, 202);
        EXPECT_FALSE(submits[0].retry);
        EXPECT_TRUE(submits[1].retry);
        EXPECT_TRUE(submits[2].retry);
        EXPECT_EQ(submits[1].request_id, submits[0].request_id);
        EXPECT_EQ(submits[2].request_id, submits[0].request_id);
        EXPECT_EQ(emulator_->executions(), before + 1);
        EXPECT_EQ(src->client().counters().retries.load(), 2u);
    }
}

TEST_F(SnowflakeFaults, RetryAfterIsHonoured) {
    auto src = source();
    add(emu::fault_target::submit, emu::fault_action::status, 1, 429, "1");
    const auto o = run(*src);
    expect_exact(o);
    EXPECT_GE(o.elapsed, ms(1000));
    EXPECT_LT(o.elapsed, ms(3000));
}

TEST_F(SnowflakeFaults, RetryAfterPastTheDeadlineFailsAtOnce) {
    auto src = source();
    add(emu::fault_target::submit, emu::fault_action::status, 1, 503, "30");
    const auto o = run(*src, ms(2000));
    ASSERT_FALSE(o.result);
    EXPECT_EQ(o.result.error().code, model::error_code::source_unavailable);
    EXPECT_LT(o.elapsed, ms(1000));
}

TEST_F(SnowflakeFaults, ConnectionResetOnSubmitIsRetried) {
    auto src = source();
    add(emu::fault_target::submit, emu::fault_action::reset, 2);
    expect_exact(run(*src));
    const auto submits = of_kind("submit");
    ASSERT_EQ(submits.size(), 3u);
    EXPECT_TRUE(submits[2].retry);
}

// The statement ran but the answer was lost: the resubmission (same requestId, retry=true)
// finds it and Snowflake does not run it again (documented for retry=true).
TEST_F(SnowflakeFaults, LostAnswerAfterExecutionNeverRunsTwice) {
    auto src = source();
    const auto before = emulator_->executions();
    add(emu::fault_target::submit, emu::fault_action::reset_after_execute, 1);
    expect_exact(run(*src));
    EXPECT_EQ(emulator_->executions(), before + 1);
    const auto submits = of_kind("submit");
    ASSERT_EQ(submits.size(), 2u);
    EXPECT_TRUE(submits[0].executed);
    EXPECT_FALSE(submits[1].executed);
    EXPECT_TRUE(submits[1].retry);
    EXPECT_EQ(submits[1].handle, submits[0].handle);
}

TEST_F(SnowflakeFaults, PollFaultsAreRetried) {
    for (auto action : {emu::fault_action::status, emu::fault_action::truncate, emu::fault_action::malformed,
                        emu::fault_action::reset}) {
        SCOPED_TRACE(static_cast<int>(action));
        SetUp();
        auto src = source();
        add(emu::fault_target::poll, action, 2, 503);
        expect_exact(run(*src));
        EXPECT_EQ(of_kind("submit").size(), 1u);
    }
}

TEST_F(SnowflakeFaults, PartitionFaultsAreRetriedAndRowsStayExact) {
    for (auto action :
         {emu::fault_action::status, emu::fault_action::reset, emu::fault_action::truncate,
          emu::fault_action::short_partition, emu::fault_action::bad_gzip, emu::fault_action::malformed}) {
        SCOPED_TRACE(static_cast<int>(action));
        SetUp();
        auto src = source();
        add(emu::fault_target::partition, action, 2, 500);
        expect_exact(run(*src));
    }
}

TEST_F(SnowflakeFaults, APartitionThatNeverComesFailsWholeAndInTime) {
    auto src = source({{"max_attempts", "4"}});
    add(emu::fault_target::partition, emu::fault_action::status, -1, 503);
    const auto o = run(*src, ms(5000));
    ASSERT_FALSE(o.result);
    EXPECT_EQ(o.result.error().code, model::error_code::source_unavailable);
    EXPECT_NE(o.result.error().message.find("partition"), std::string::npos) << o.result.error().message;
    EXPECT_LT(o.elapsed, ms(5500));
}

TEST_F(SnowflakeFaults, DamagedPartitionEveryTimeIsAnErrorNotFewerRows) {
    auto src = source({{"max_attempts", "3"}});
    add(emu::fault_target::partition, emu::fault_action::short_partition, -1);
    const auto o = run(*src);
    ASSERT_FALSE(o.result);
    EXPECT_EQ(o.result.error().code, model::error_code::source_unavailable);
}

TEST_F(SnowflakeFaults, SlowStatementIsPolledToCompletion) {
    auto src = source();
    add(emu::fault_target::submit, emu::fault_action::slow_statement, 1, 0, {}, ms(400));
    const auto o = run(*src);
    expect_exact(o);
    EXPECT_GE(o.elapsed, ms(400));
    std::size_t running = 0;
    for (const auto& p : of_kind("poll")) running += p.status == 202;
    EXPECT_GE(running, 2u);
}

TEST_F(SnowflakeFaults, StatementThatNeverFinishesIsCancelledOnceAtTheDeadline) {
    auto src = source();
    add(emu::fault_target::submit, emu::fault_action::never_finish, 1);
    const auto o = run(*src, ms(1500));
    ASSERT_FALSE(o.result);
    EXPECT_EQ(o.result.error().code, model::error_code::timeout);
    EXPECT_EQ(model::http_status(o.result.error().code), 504);
    EXPECT_GE(o.elapsed, ms(1400));
    EXPECT_LT(o.elapsed, ms(3000));  // the deadline plus at most the cancel's own 1 s budget
    const auto cancels = of_kind("cancel");
    ASSERT_EQ(cancels.size(), 1u);
    EXPECT_EQ(cancels[0].status, 200);
    EXPECT_EQ(cancels[0].handle, of_kind("submit").at(0).handle);
}

// Issue 15, defect 2: when the client goes away the statement is cancelled at once, not at
// its deadline 20 s later.
TEST_F(SnowflakeFaults, StatementWhoseClientLeftIsCancelledAtOnce) {
    auto src = source();
    add(emu::fault_target::submit, emu::fault_action::never_finish, 1);
    std::stop_source caller;
    std::thread leaver([&] {
        std::this_thread::sleep_for(ms(300));
        caller.request_stop();
    });
    std::vector<parameter> params{{"since", model::value{}}};
    const auto start = model::clock::now();
    auto r =
        src->run({snowflake_sql, params, model::deadline::after(ms(20'000)), "/faults", 100'000, caller.get_token()});
    const auto elapsed = std::chrono::duration_cast<ms>(model::clock::now() - start);
    leaver.join();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, model::error_code::timeout);
    EXPECT_NE(r.error().message.find("client went away"), std::string::npos) << r.error().message;
    EXPECT_LT(elapsed, ms(3000));  // the stop plus at most the cancel's own 1 s budget
    const auto cancels = of_kind("cancel");
    ASSERT_EQ(cancels.size(), 1u);
    EXPECT_EQ(cancels[0].handle, of_kind("submit").at(0).handle);
}

TEST_F(SnowflakeFaults, SqlErrorIsCleanAndNeverRetried) {
    auto src = source();
    std::vector<parameter> none;
    auto r = src->run(
        {"select no_such_column from demo.trips", none, model::deadline::after(std::chrono::seconds(10)), "/x", 10});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, model::error_code::source_error);
    EXPECT_NE(r.error().details.find("000904"), std::string::npos) << r.error().details;
    EXPECT_NE(r.error().message.find("no_such_column"), std::string::npos);
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
    EXPECT_EQ(of_kind("submit").size(), 1u);
    EXPECT_EQ(src->client().counters().retries.load(), 0u);
}

TEST_F(SnowflakeFaults, StatementTimeoutIsATimeoutAndNotRetried) {
    auto src = source({{"statement_timeout", "1s"}});
    add(emu::fault_target::submit, emu::fault_action::slow_statement, 1, 0, {}, ms(5000));
    const auto o = run(*src, ms(10'000));
    ASSERT_FALSE(o.result);
    EXPECT_EQ(o.result.error().code, model::error_code::timeout);
    EXPECT_NE(o.result.error().details.find("408"), std::string::npos) << o.result.error().details;
    EXPECT_LT(o.elapsed, ms(3000));
    EXPECT_EQ(of_kind("submit").size(), 1u);
    EXPECT_TRUE(of_kind("cancel").empty());
}

TEST_F(SnowflakeFaults, Unauthorized401RenewsTheTokenOnce) {
    auto src = source();
    add(emu::fault_target::submit, emu::fault_action::status, 1, 401);
    expect_exact(run(*src));
    EXPECT_EQ(of_kind("submit").size(), 2u);
    EXPECT_EQ(src->client().counters().token_renewals.load(), 1u);

    SetUp();
    auto again = source();
    add(emu::fault_target::submit, emu::fault_action::status, -1, 401);
    const auto o = run(*again);
    ASSERT_FALSE(o.result);
    EXPECT_EQ(o.result.error().code, model::error_code::source_unavailable);
    EXPECT_EQ(of_kind("submit").size(), 2u) << "401 must renew once, not loop";
}

TEST_F(SnowflakeFaults, PersistentOverloadFailsCleanlyWithinTheDeadline) {
    auto src = source({{"retry_base", "100ms"}, {"retry_cap", "400ms"}});
    add(emu::fault_target::submit, emu::fault_action::status, -1, 503);
    const auto o = run(*src, ms(1500));
    ASSERT_FALSE(o.result);
    EXPECT_EQ(o.result.error().code, model::error_code::source_unavailable);
    EXPECT_EQ(model::http_status(o.result.error().code), 503);
    EXPECT_LE(o.elapsed, ms(2000));
    EXPECT_LE(of_kind("submit").size(), 6u);
}

TEST_F(SnowflakeFaults, UpstreamSlowerThanTheDeadline) {
    auto src = source();
    add(emu::fault_target::submit, emu::fault_action::delay, 1, 0, {}, ms(3000));
    const auto o = run(*src, ms(800));
    ASSERT_FALSE(o.result);
    EXPECT_TRUE(o.result.error().code == model::error_code::timeout ||
                o.result.error().code == model::error_code::source_unavailable);
    EXPECT_LT(o.elapsed, ms(1800));
}

TEST_F(SnowflakeFaults, TooManyRowsFailsBeforeFetchingPartitions) {
    auto src = source();
    const auto o = run(*src, ms(10'000), 100);
    ASSERT_FALSE(o.result);
    EXPECT_EQ(o.result.error().code, model::error_code::result_too_large);
    EXPECT_TRUE(of_kind("partition").empty());
    const auto submits = of_kind("submit");
    ASSERT_EQ(submits.size(), 1u);
    EXPECT_NE(submits[0].body.find("\"ROWS_PER_RESULTSET\":\"101\""), std::string::npos);
}

TEST_F(SnowflakeFaults, WrongKeyIsRefusedByTheServerAndReportedCleanly) {
    auto src = source({{"private_key", frost::testing::snowflake_keys::keys().other_private}});
    const auto o = run(*src);
    ASSERT_FALSE(o.result);
    EXPECT_EQ(o.result.error().code, model::error_code::source_unavailable);
    EXPECT_NE(o.result.error().details.find("390144"), std::string::npos) << o.result.error().details;
    const auto submits = of_kind("submit");
    ASSERT_EQ(submits.size(), 2u);  // the renewal attempt, then give up
    EXPECT_EQ(submits[0].auth_error, "signature does not match a registered key");
}

TEST_F(SnowflakeFaults, OAuthAndPatTokensCarryTheirType) {
    for (const auto* method : {"oauth", "programmatic_access_token"}) {
        SetUp();
        auto src = source({{"authenticator", method}, {"token", "test-oauth-token"}, {"private_key", ""}});
        expect_exact(run(*src));
        EXPECT_EQ(of_kind("submit").at(0).token_type,
                  method == std::string("oauth") ? "OAUTH" : "PROGRAMMATIC_ACCESS_TOKEN");
    }
}

TEST_F(SnowflakeFaults, ConcurrentQueriesUnderRandomFaults) {
    // Worst case one exchange meets every queued fault in a row (4 + 4): 10 attempts always suffice.
    auto src = source({{"max_attempts", "10"}});
    add(emu::fault_target::any, emu::fault_action::status, 4, 503);
    add(emu::fault_target::partition, emu::fault_action::reset, 4);
    add(emu::fault_target::poll, emu::fault_action::truncate, 4);
    std::vector<std::thread> threads;
    std::atomic<int> exact{0};
    for (int t = 0; t < 6; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 4; ++i) {
                auto o = run(*src, ms(15'000));
                if (o.result && o.result.value().rows == expected_->rows) ++exact;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(exact.load(), 24);
}

}  // namespace
