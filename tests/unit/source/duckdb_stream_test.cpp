// Issue 11, deliverable 3: `duckdb_source::stream` hands DuckDB's result over chunk by chunk.
// The oracle is the same question asked through `run` (a whole table) and a COUNT(*).

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>
#include <stop_token>
#include <thread>

#include "source/duckdb/duckdb_source.hpp"
#include "support/sanitized.hpp"

namespace frost::source::duckdb {
namespace {

using namespace std::chrono_literals;

constexpr const char* endless = "select i, i * 7 % 13 as k from range(0, 100000000000) t(i)";

// Keeps every row, and what the batches looked like.
class collecting_sink final : public row_sink {
public:
    std::vector<model::column> columns;
    std::vector<std::vector<model::value>> rows_seen;
    std::size_t batches = 0;
    std::size_t largest_batch = 0;
    std::size_t stop_after = 0;  ///< 0: never stop
    bool keep = true;
    std::uint64_t counted = 0;

    bool begin(const std::vector<model::column>& c) override {
        columns = c;
        return true;
    }
    bool rows(std::vector<std::vector<model::value>>& batch) override {
        EXPECT_FALSE(batch.empty());
        ++batches;
        counted += batch.size();
        largest_batch = std::max(largest_batch, batch.size());
        if (keep)
            for (auto& r : batch) rows_seen.push_back(std::move(r));
        return stop_after == 0 || batches < stop_after;
    }
};

std::unique_ptr<duckdb_source> fixture_source() {
    auto s = duckdb_source::open("mem", {":memory:", false, {{"threads", "2"}}});
    if (!s) throw std::runtime_error(s.error().message);
    auto src = std::move(s).value();
    // 300,000 rows over 1,000 days, with text, NULLs and decimals.
    auto made =
        src->run(query{"create table t as select i, (i * 7919) % 1000 as k, 'row ' || i as s, "
                       "case when i % 11 = 0 then null else (i % 97)::decimal(8,2) / 4 end as d, "
                       "date '2013-06-01' + (i % 1000)::int as day from range(0, 300000) r(i)",
                       {},
                       {},
                       "test",
                       10});
    if (!made) throw std::runtime_error(made.error().message);
    return src;
}

std::int64_t as_int(const model::value& v) {
    return std::get<std::int64_t>(v);
}

TEST(duckdb_stream, rows_equal_the_whole_query_over_random_ranges) {
    auto src = fixture_source();
    std::mt19937 rng(11);
    std::uniform_int_distribution<int> day(0, 999);
    const std::string sql = "select i, k, s, d, day from t where day between $a and $b";
    for (int round = 0; round < frost::testing::rounds(12); ++round) {
        int a = day(rng), b = day(rng);
        if (b < a) std::swap(a, b);
        const std::vector<parameter> params{{"a", model::date{model::days_from_civil(2013, 6, 1) + a}},
                                            {"b", model::date{model::days_from_civil(2013, 6, 1) + b}}};
        collecting_sink sink;
        auto streamed = src->stream(query{sql, params, model::deadline::after(30s), "test", 1'000'000}, sink);
        ASSERT_TRUE(streamed) << streamed.error().message;
        EXPECT_FALSE(streamed.value().stopped);
        EXPECT_EQ(streamed.value().rows, sink.rows_seen.size());

        auto count = src->run(query{"select count(*) as n from t where day between $a and $b", params,
                                    model::deadline::after(30s), "test", 10});
        ASSERT_TRUE(count) << count.error().message;
        EXPECT_EQ(static_cast<std::int64_t>(sink.rows_seen.size()), as_int(count.value().rows.at(0).at(0)));

        auto whole = src->run(query{sql, params, model::deadline::after(30s), "test", 1'000'000});
        ASSERT_TRUE(whole) << whole.error().message;
        ASSERT_EQ(sink.columns.size(), whole.value().columns.size());
        for (std::size_t c = 0; c < sink.columns.size(); ++c) {
            EXPECT_EQ(sink.columns[c].name, whole.value().columns[c].name);
            EXPECT_EQ(sink.columns[c].type, whole.value().columns[c].type);
        }
        auto by_i = [](const auto& x, const auto& y) { return as_int(x[0]) < as_int(y[0]); };
        auto expected = whole.value().rows;
        std::sort(expected.begin(), expected.end(), by_i);
        std::sort(sink.rows_seen.begin(), sink.rows_seen.end(), by_i);
        EXPECT_TRUE(expected == sink.rows_seen) << "range " << a << ".." << b;
    }
}

TEST(duckdb_stream, memory_is_one_chunk_at_a_time) {
    auto src = fixture_source();
    collecting_sink sink;
    sink.keep = false;
    auto streamed = src->stream(query{"select * from t", {}, model::deadline::after(30s), "test", 1'000'000}, sink);
    ASSERT_TRUE(streamed) << streamed.error().message;
    EXPECT_EQ(sink.counted, 300'000u);
    // DuckDB's vector size: a batch never holds more than one chunk, so the sink's memory is
    // bounded whatever the result's size.
    EXPECT_LE(sink.largest_batch, 2048u);
    EXPECT_GE(sink.batches, 300'000u / 2048);
}

TEST(duckdb_stream, an_empty_result_still_has_its_columns) {
    auto src = fixture_source();
    collecting_sink sink;
    auto streamed =
        src->stream(query{"select i, s from t where i < 0", {}, model::deadline::after(30s), "test", 10}, sink);
    ASSERT_TRUE(streamed) << streamed.error().message;
    EXPECT_EQ(streamed.value().rows, 0u);
    ASSERT_EQ(sink.columns.size(), 2u);
    EXPECT_EQ(sink.columns[1].name, "s");
    EXPECT_EQ(sink.batches, 0u);
}

TEST(duckdb_stream, a_sink_that_stops_ends_an_endless_query_and_the_source_still_answers) {
    auto src = fixture_source();
    collecting_sink sink;
    sink.keep = false;
    sink.stop_after = 3;
    const auto started = std::chrono::steady_clock::now();
    auto streamed = src->stream(query{endless, {}, model::deadline::after(60s), "test", ~std::size_t{0}}, sink);
    ASSERT_TRUE(streamed) << streamed.error().message;
    EXPECT_TRUE(streamed.value().stopped);
    EXPECT_EQ(sink.batches, 3u);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
    auto after = src->run(query{"select count(*) as n from t", {}, model::deadline::after(10s), "test", 10});
    ASSERT_TRUE(after) << after.error().message;
    EXPECT_EQ(as_int(after.value().rows.at(0).at(0)), 300'000);
}

TEST(duckdb_stream, a_stop_request_interrupts_a_running_stream) {
    auto src = fixture_source();
    collecting_sink sink;
    sink.keep = false;
    std::stop_source caller;
    std::thread leaver([&] {
        std::this_thread::sleep_for(200ms);
        caller.request_stop();
    });
    const auto started = std::chrono::steady_clock::now();
    auto streamed =
        src->stream(query{endless, {}, model::deadline::after(60s), "test", ~std::size_t{0}, caller.get_token()}, sink);
    leaver.join();
    ASSERT_FALSE(streamed);
    EXPECT_EQ(streamed.error().code, model::error_code::timeout);
    EXPECT_NE(streamed.error().message.find("client went away"), std::string::npos) << streamed.error().message;
    EXPECT_GT(sink.counted, 0u);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST(duckdb_stream, the_deadline_interrupts_a_running_stream) {
    auto src = fixture_source();
    collecting_sink sink;
    sink.keep = false;
    const auto started = std::chrono::steady_clock::now();
    auto streamed = src->stream(query{endless, {}, model::deadline::after(300ms), "test", ~std::size_t{0}}, sink);
    ASSERT_FALSE(streamed);
    EXPECT_EQ(streamed.error().code, model::error_code::timeout);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
    auto after = src->run(query{"select 42 as x", {}, model::deadline::after(10s), "test", 10});
    ASSERT_TRUE(after) << after.error().message;
}

TEST(duckdb_stream, past_max_rows_it_fails_after_delivering_at_most_max_rows) {
    auto src = fixture_source();
    collecting_sink sink;
    sink.keep = false;
    auto streamed = src->stream(query{"select * from t", {}, model::deadline::after(30s), "test", 10'000}, sink);
    ASSERT_FALSE(streamed);
    EXPECT_EQ(streamed.error().code, model::error_code::result_too_large);
    EXPECT_LE(sink.counted, 10'000u);
}

TEST(duckdb_stream, an_sql_error_comes_before_any_row) {
    auto src = fixture_source();
    collecting_sink sink;
    auto streamed = src->stream(query{"select nope from t", {}, model::deadline::after(30s), "test", 10}, sink);
    ASSERT_FALSE(streamed);
    EXPECT_EQ(streamed.error().code, model::error_code::source_error);
    EXPECT_TRUE(sink.columns.empty());
}

// The fixture's table in a file, opened read-only (the serving case) with `options`; the file
// goes when the fixture does.
struct file_fixture {
    std::string path;
    std::unique_ptr<duckdb_source> src;

    explicit file_fixture(std::map<std::string, std::string> options = {}) {
        static int count = 0;
        path = (std::filesystem::temp_directory_path() /
                ("frost-stream-" + std::to_string(::getpid()) + "-" + std::to_string(count++) + ".duckdb"))
                   .string();
        {
            auto rw = duckdb_source::open("rw", {path, false, {}});
            if (!rw) throw std::runtime_error(rw.error().message);
            auto made =
                rw.value()->run(query{"create table t as select i, (i * 7919) % 1000 as k, 'row ' || i as s, "
                                      "date '2013-06-01' + (i % 1000)::int as day from range(0, 1000000) r(i)",
                                      {},
                                      {},
                                      "test",
                                      10});
            if (!made) throw std::runtime_error(made.error().message);
        }
        auto ro = duckdb_source::open("ro", {path, true, std::move(options)});
        if (!ro) throw std::runtime_error(ro.error().message);
        src = std::move(ro).value();
    }
    ~file_fixture() {
        src.reset();
        std::filesystem::remove(path);
    }
    // What the source's own instance holds of the table's blocks now.
    std::int64_t cached_table_bytes() const {
        auto r =
            src->run(query{"select coalesce(sum(memory_usage_bytes), 0)::BIGINT as b from duckdb_memory() "
                           "where tag = 'BASE_TABLE'",
                           {},
                           model::deadline::after(10s),
                           "test",
                           10});
        if (!r) throw std::runtime_error(r.error().message);
        return as_int(r.value().rows.at(0).at(0));
    }
};

TEST(duckdb_stream, over_a_read_only_file_an_export_leaves_no_blocks_in_the_sources_buffer_pool) {
    // Without the export's own instance (export_memory_limit 0) the scan's blocks stay cached in
    // the source's instance: the contrast shows the measure sees them.
    file_fixture shared({{std::string(export_memory_limit_option), "0"}});
    const auto opened_shared = shared.cached_table_bytes();  // what opening read (metadata)
    collecting_sink first;
    first.keep = false;
    ASSERT_TRUE(
        shared.src->stream(query{"select * from t", {}, model::deadline::after(30s), "test", ~std::size_t{0}}, first));
    EXPECT_EQ(first.counted, 1'000'000u);
    EXPECT_GT(shared.cached_table_bytes(), opened_shared + (1 << 20));

    file_fixture own;  // the default: an instance of its own per export
    const auto opened_own = own.cached_table_bytes();
    collecting_sink second;
    second.keep = false;
    ASSERT_TRUE(
        own.src->stream(query{"select * from t", {}, model::deadline::after(30s), "test", ~std::size_t{0}}, second));
    EXPECT_EQ(second.counted, 1'000'000u);
    EXPECT_EQ(own.cached_table_bytes(), opened_own);
}

TEST(duckdb_stream, over_a_read_only_file_rows_equal_the_whole_query_and_stops_still_stop) {
    file_fixture f({{std::string(export_memory_limit_option), "16MB"}, {"threads", "2"}});
    const std::string sql = "select i, k, s, day from t where k between $a and $b";
    const std::vector<parameter> params{{"a", std::int64_t{100}}, {"b", std::int64_t{180}}};
    collecting_sink sink;
    auto streamed = f.src->stream(query{sql, params, model::deadline::after(30s), "test", 1'000'000}, sink);
    ASSERT_TRUE(streamed) << streamed.error().message;
    auto whole = f.src->run(query{sql, params, model::deadline::after(30s), "test", 1'000'000});
    ASSERT_TRUE(whole) << whole.error().message;
    auto by_i = [](const auto& x, const auto& y) { return as_int(x[0]) < as_int(y[0]); };
    auto expected = whole.value().rows;
    std::sort(expected.begin(), expected.end(), by_i);
    std::sort(sink.rows_seen.begin(), sink.rows_seen.end(), by_i);
    EXPECT_EQ(expected.size(), 81'000u);
    EXPECT_TRUE(expected == sink.rows_seen);

    // The deadline watchdog and the client's stop reach the export's own connection.
    const std::string slow = "select a.i, b.i from t a, t b";
    collecting_sink timed;
    timed.keep = false;
    auto started = std::chrono::steady_clock::now();
    auto late = f.src->stream(query{slow, {}, model::deadline::after(300ms), "test", ~std::size_t{0}}, timed);
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error().code, model::error_code::timeout);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);

    collecting_sink left;
    left.keep = false;
    std::stop_source caller;
    std::thread leaver([&] {
        std::this_thread::sleep_for(200ms);
        caller.request_stop();
    });
    started = std::chrono::steady_clock::now();
    auto gone =
        f.src->stream(query{slow, {}, model::deadline::after(60s), "test", ~std::size_t{0}, caller.get_token()}, left);
    leaver.join();
    ASSERT_FALSE(gone);
    EXPECT_NE(gone.error().message.find("client went away"), std::string::npos) << gone.error().message;
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST(duckdb_stream, a_bad_export_memory_limit_stops_the_source_from_opening) {
    file_fixture f;  // the file, and a source over it with the default limit
    for (const std::string bad : {"lots", "16 parsecs", ""}) {
        auto opened = duckdb_source::open("ro2", {f.path, true, {{std::string(export_memory_limit_option), bad}}});
        ASSERT_FALSE(opened) << '"' << bad << '"';
        EXPECT_EQ(opened.error().code, model::error_code::config_error);
        EXPECT_NE(opened.error().message.find("export_memory_limit"), std::string::npos) << opened.error().message;
        EXPECT_NE(opened.error().message.find("source ro2"), std::string::npos) << opened.error().message;
    }
    for (const std::string good : {"0", "16MB", "1GB"})
        EXPECT_TRUE(duckdb_source::open("ro3", {f.path, true, {{std::string(export_memory_limit_option), good}}}))
            << good;
}

}  // namespace
}  // namespace frost::source::duckdb
