// Issue 11, deliverable 3: a Snowflake source streams its result partition by partition, in
// order, one at a time, against the SQL API emulator; a partition that fails after retries
// fails the stream after the partitions before it were delivered, never silently short.

#include <gtest/gtest.h>

#include "fixture.hpp"
#include "source/duckdb/duckdb_source.hpp"

namespace {

namespace sft = frost::testing::snowflake;
namespace emu = frost::emulators::snowflake;
namespace model = frost::model;
using frost::source::parameter;
using frost::source::snowflake::snowflake_source;

constexpr const char* snowflake_sql =
    "select to_date(starttime) as day, count(*) as n from demo.trips "
    "where ($since is null or starttime >= $since::date) group by 1 order by 1";
constexpr const char* duckdb_sql =
    "select starttime::date as day, count(*) as n from demo.trips "
    "where ($since is null or starttime >= $since::date) group by 1 order by 1";

// Keeps the rows; can act when a batch arrives (inject a fault before the next partition).
class recording_sink final : public frost::source::row_sink {
public:
    std::vector<model::column> columns;
    std::vector<std::vector<model::value>> rows_seen;
    std::vector<std::size_t> batch_sizes;
    std::function<void(std::size_t)> on_batch;

    bool begin(const std::vector<model::column>& c) override {
        columns = c;
        return true;
    }
    bool rows(std::vector<std::vector<model::value>>& batch) override {
        batch_sizes.push_back(batch.size());
        for (auto& r : batch) rows_seen.push_back(std::move(r));
        if (on_batch) on_batch(batch_sizes.size());
        return true;
    }
};

class SnowflakeStream : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        emulator_ = sft::start_emulator(300).release();
        auto duck = frost::source::duckdb::duckdb_source::open(
            "oracle", {frost::testing::sample_database(sft::sample_trips), true, {}});
        if (!duck) throw std::runtime_error(duck.error().message);
        oracle_ = duck.value().release();
    }
    static void TearDownTestSuite() {
        delete oracle_;
        delete emulator_;
    }
    void SetUp() override {
        emulator_->clear_faults();
        emulator_->clear_log();
        emulator_->set_partition_rows(300);
    }
    static std::unique_ptr<snowflake_source> source() {
        auto s = snowflake_source::open("warehouse", sft::resolved_settings(*emulator_, {{"max_attempts", "2"}}));
        if (!s) throw std::runtime_error(s.error().message);
        return std::move(s).value();
    }
    static model::table oracle(const model::value& since) {
        std::vector<parameter> params{{"since", since}};
        auto t =
            oracle_->run({duckdb_sql, params, model::deadline::after(std::chrono::seconds(30)), "oracle", 100'000});
        if (!t) throw std::runtime_error(t.error().message);
        return std::move(t).value();
    }
    static std::vector<std::string> partition_targets() {
        std::vector<std::string> out;
        for (const auto& e : emulator_->log())
            if (e.kind == "partition") out.push_back(e.target);
        return out;
    }

    static inline emu::emulator* emulator_ = nullptr;
    static inline frost::source::duckdb::duckdb_source* oracle_ = nullptr;
};

TEST_F(SnowflakeStream, partitions_arrive_in_order_one_batch_each_and_equal_duckdb) {
    for (const char* since : {"2013-06-01", "2015-01-01", "2019-03-15"}) {
        emulator_->clear_log();
        const model::value day = model::date{*model::parse_date(since)};
        const auto expected = oracle(day);
        auto src = source();
        recording_sink sink;
        std::vector<parameter> params{{"since", day}};
        auto r =
            src->stream({snowflake_sql, params, model::deadline::after(std::chrono::seconds(20)), "/s", 100'000}, sink);
        ASSERT_TRUE(r) << r.error().message << " | " << r.error().details;
        EXPECT_FALSE(r.value().stopped);
        EXPECT_EQ(r.value().rows, expected.rows.size());
        ASSERT_EQ(sink.columns.size(), 2u);
        EXPECT_EQ(sink.columns[0].type, model::column_type::date);
        ASSERT_EQ(sink.rows_seen.size(), expected.rows.size()) << since;
        for (std::size_t i = 0; i < expected.rows.size(); ++i) {
            EXPECT_EQ(std::get<model::date>(sink.rows_seen[i][0]), std::get<model::date>(expected.rows[i][0]));
            EXPECT_EQ(std::get<std::int64_t>(sink.rows_seen[i][1]), std::get<std::int64_t>(expected.rows[i][1]));
        }
        // One batch per partition, none larger than a partition: memory is one partition.
        const std::size_t partitions = (expected.rows.size() + 299) / 300;
        EXPECT_EQ(sink.batch_sizes.size(), partitions);
        for (auto n : sink.batch_sizes) EXPECT_LE(n, 300u);
        // Fetched in order, each once.
        const auto targets = partition_targets();
        ASSERT_EQ(targets.size(), partitions - 1);
        for (std::size_t i = 0; i < targets.size(); ++i)
            EXPECT_NE(targets[i].find("partition=" + std::to_string(i + 1)), std::string::npos) << targets[i];
    }
}

TEST_F(SnowflakeStream, a_partition_that_fails_ends_the_stream_after_the_ones_before_it) {
    const model::value all{};
    const auto expected = oracle(all);
    ASSERT_GT(expected.rows.size(), 1500u) << "the test needs several partitions";
    auto src = source();
    recording_sink sink;
    constexpr std::size_t k = 3;  // partition 3 (the fourth batch) fails, whatever the retries
    sink.on_batch = [&](std::size_t batches) {
        if (batches != k) return;
        emu::fault f;
        f.target = emu::fault_target::partition;
        f.action = emu::fault_action::status;
        f.count = -1;
        f.status = 503;
        emulator_->add_fault(f);
    };
    std::vector<parameter> params{{"since", all}};
    auto r =
        src->stream({snowflake_sql, params, model::deadline::after(std::chrono::seconds(20)), "/s", 100'000}, sink);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("partition 3"), std::string::npos) << r.error().message;
    EXPECT_EQ(sink.batch_sizes.size(), k);
    EXPECT_EQ(sink.rows_seen.size(), k * 300);
}

TEST_F(SnowflakeStream, over_max_rows_fails_before_any_row) {
    auto src = source();
    recording_sink sink;
    std::vector<parameter> params{{"since", model::value{}}};
    auto r = src->stream({snowflake_sql, params, model::deadline::after(std::chrono::seconds(20)), "/s", 100}, sink);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, model::error_code::result_too_large);
    EXPECT_TRUE(sink.columns.empty());
    EXPECT_TRUE(partition_targets().empty());
}

}  // namespace
