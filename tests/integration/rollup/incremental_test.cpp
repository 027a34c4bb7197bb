// Incremental rollups (issue 12): a refresh that fetches only `key >= watermark - lookback`
// and replaces those keys must leave the same table as a full rebuild. The oracle is a second
// rollup in the same store over the same source, without incremental refresh and with SQL that
// has no `$since` at all, rebuilt in full every round. Run on a DuckDB source and on the
// Snowflake SQL API emulator over a small writable database.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "api/service.hpp"
#include "api/worker_pool.hpp"
#include "app/guard_rails.hpp"
#include "emulators/snowflake/emulator.hpp"
#include "integration/snowflake/fixture.hpp"
#include "rollup/serving_store.hpp"
#include "source/duckdb/duckdb_source.hpp"
#include "source/snowflake/snowflake_source.hpp"
#include "source/usage.hpp"
#include "support/sanitized.hpp"

namespace frost::rollup {
namespace {

using namespace std::chrono_literals;
namespace sft = frost::testing::snowflake;
namespace emu = frost::emulators::snowflake;

// A temporary folder, removed at the end of the test.
struct temp_dir {
    std::filesystem::path path;
    explicit temp_dir(const std::string& tag)
        : path(std::filesystem::temp_directory_path() / ("frost-incr-" + tag + "-" + std::to_string(::getpid()))) {
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

// DuckDB 1.4's perfect-hash aggregate trusts column statistics that in-process DELETEs and
// INSERTs on the same file can leave too narrow ("aggregate group 32 exceeded total groups 32");
// the test changes its source in place all the time, so it turns that strategy off.
const std::map<std::string, std::string> test_settings{{"perfect_ht_threshold", "0"}};

// Runs one statement on a source, failing the test when it fails.
model::table exec(frost::source::source& src, const std::string& sql) {
    frost::source::query q{sql, {}, model::deadline::after(30s), "test", 1'000'000};
    auto r = src.run(q);
    if (!r) throw std::runtime_error(sql + ": " + r.error().message);
    return std::move(r).value();
}

// A small "warehouse": demo.events(day DATE, v BIGINT) in a DuckDB file, rows 2020-01-01 + 0..29.
std::string make_events_db(const std::filesystem::path& dir) {
    const auto path = (dir / "events.duckdb").string();
    auto db = frost::source::duckdb::duckdb_source::open("setup", {path, false, test_settings});
    if (!db) throw std::runtime_error(db.error().message);
    exec(*db.value(), "create schema demo");
    exec(*db.value(), "create table demo.events (day DATE, v BIGINT)");
    exec(*db.value(),
         "insert into demo.events select DATE '2020-01-01' + (i % 30)::INTEGER, i from range(0, 300) t(i)");
    return path;
}

// The store's config: `inc` refreshes incrementally (lookback 2d), `oracle` always in full.
config::config make_config(const std::string& serving_path) {
    const std::string text = R"(
server: {access_log: false}
sources:
  wh: {type: duckdb, path: ":memory:"}
rollups:
  inc:
    source: wh
    incremental: {key: day, lookback: 2d}
    refresh: 60m
    full_refresh: 24h
    sql:
      duckdb: select day, count(*)::BIGINT as n, sum(v)::BIGINT as total from demo.events where day >= $since group by day order by day
      snowflake: select day, count(*) as n, sum(v) as total from demo.events where day >= $since group by day order by day
  oracle:
    source: wh
    refresh: 60m
    sql:
      duckdb: select day, count(*)::BIGINT as n, sum(v)::BIGINT as total from demo.events group by all order by 1
      snowflake: select day, count(*) as n, sum(v) as total from demo.events group by day order by day
endpoints:
  - path: /inc
    rollup: inc
    sql: select * from inc where day >= '2020-01-01'::DATE
  - path: /live
    source: wh
    sql:
      duckdb: select count(*)::BIGINT as n from demo.events
      snowflake: select count(*) as n from demo.events
)";
    auto cfg = config::load_text(text, "incremental_test.yaml", "/");
    if (!cfg) throw std::runtime_error(cfg.error().message);
    cfg.value().serving.path = serving_path;
    cfg.value().serving.options = {{"threads", "1"}};  // a generation per refresh: no thread pool to spin up
    return std::move(cfg).value();
}

// A rollup's rows as text lines, ordered by day: the comparison is of values, not of types.
std::vector<std::string> lines(serving_store& store, const std::string& rollup) {
    const std::string sql =
        "select day::VARCHAR || '|' || n::VARCHAR || '|' || total::VARCHAR from " + rollup + " order by day";
    frost::source::query q{sql, {}, model::deadline::after(10s), "test", 100'000};
    auto t = store.run(q);
    if (!t) throw std::runtime_error(t.error().message);
    std::vector<std::string> out;
    for (const auto& row : t.value().rows) out.push_back(std::get<std::string>(row[0]));
    return out;
}

std::string day_text(std::int32_t d) {
    return "DATE '" + model::format_date(model::date{d}) + "'";
}

// 100 rounds of random changes to the source, each followed by an incremental refresh of
// `inc` and a full rebuild of `oracle`, which must then hold the same rows. Changes: inserts
// inside the lookback window, new days after the watermark, deletes inside the window (of
// whole days too, so keys disappear). Every tenth round also inserts before the window: by
// design the incremental refresh does not see it (that is what `full_refresh` is for), which
// the test checks, and then a full refresh must restore equality.
// `swapped`, when set, is told each version of `inc` and its rows, after its refresh.
void run_rounds(frost::source::source& src, serving_store& store, std::uint64_t seed,
                const std::function<void(std::uint64_t, const std::vector<std::string>&)>& swapped = {}) {
    std::mt19937_64 rng(seed);
    const std::int32_t first = model::days_from_civil(2020, 1, 1);
    std::int32_t last = first + 29;  // the source's largest day, tracked here
    std::int64_t next_v = 1000;
    ASSERT_EQ(lines(store, "inc"), lines(store, "oracle"));
    const auto ledger_before =
        frost::source::process_usage().total(src.name(), frost::source::purpose::rollup_incremental);
    int incremental_refreshes = 0;
    for (int round = 0; round < frost::testing::rounds(100); ++round) {
        const std::int32_t watermark = last;  // what `inc` holds now
        const std::int32_t since = watermark - 2;
        std::string values;
        const int inserts = std::uniform_int_distribution<int>(0, 6)(rng);
        for (int i = 0; i < inserts; ++i) {
            const bool new_day = std::uniform_int_distribution<int>(0, 2)(rng) == 0;
            const std::int32_t d = new_day ? watermark + std::uniform_int_distribution<int>(1, 3)(rng)
                                           : std::uniform_int_distribution<std::int32_t>(since, watermark)(rng);
            last = std::max(last, d);
            values +=
                (values.empty() ? "" : ", ") + std::string("(") + day_text(d) + ", " + std::to_string(next_v++) + ")";
        }
        if (!values.empty()) exec(src, "insert into demo.events values " + values);
        if (std::uniform_int_distribution<int>(0, 2)(rng) == 0) {
            // Delete inside the window: a whole day (its key disappears) or some of its rows.
            const std::int32_t d = std::uniform_int_distribution<std::int32_t>(since, watermark)(rng);
            const bool whole = std::uniform_int_distribution<int>(0, 1)(rng) == 0;
            exec(src, "delete from demo.events where day = " + day_text(d) + (whole ? "" : " and v % 2 = 0"));
        }
        // The source's largest day now (a delete may have removed the last one).
        {
            auto t = exec(src, "select max(day) from demo.events");
            last = std::get<model::date>(t.rows.at(0).at(0)).days;
        }
        const bool old_insert = round % 10 == 9;
        const std::int32_t old_day = first + std::uniform_int_distribution<std::int32_t>(0, 10)(rng);
        if (old_insert) exec(src, "insert into demo.events values (" + day_text(old_day) + ", 7)");

        auto inc = store.refresh("inc");
        ASSERT_TRUE(inc) << "round " << round << ": " << inc.error().message;
        const auto report = store.stats("inc").last;
        ASSERT_TRUE(report.incremental) << "round " << round << ": " << report.why_full;
        EXPECT_TRUE(report.persisted) << "round " << round << ": " << report.persist_error;
        if (!store.serving_file().empty()) {
            // Built in memory and swapped in; the file was written after the swap.
            EXPECT_EQ(report.write_time.count(), 0) << "round " << round;
            EXPECT_GT(report.persist_time.count(), 0) << "round " << round;
        }
        ++incremental_refreshes;
        // Only the window's days were fetched: one row per day from `since` on.
        auto window_days =
            exec(src, "select count(distinct day)::VARCHAR from demo.events where day >= " + day_text(since));
        EXPECT_EQ(std::to_string(report.rows_fetched), std::get<std::string>(window_days.rows.at(0).at(0)))
            << "round " << round;
        EXPECT_EQ(report.since, model::format_date(model::date{since})) << "round " << round;
        ASSERT_TRUE(store.refresh("oracle", {}, refresh_kind::full)) << "round " << round;

        auto got = lines(store, "inc");
        auto want = lines(store, "oracle");
        if (swapped) swapped(store.current("inc").version, got);
        if (!old_insert) {
            ASSERT_EQ(got, want) << "round " << round;
            continue;
        }
        // The insert before the window differs, and only there, until a full refresh.
        ASSERT_EQ(got.size(), want.size()) << "round " << round;
        std::size_t differing = 0;
        for (std::size_t i = 0; i < got.size(); ++i) {
            if (got[i] == want[i]) continue;
            ++differing;
            EXPECT_EQ(got[i].substr(0, 10), model::format_date(model::date{old_day})) << "round " << round;
        }
        EXPECT_EQ(differing, 1u) << "round " << round;
        auto full = store.refresh("inc", {}, refresh_kind::full);
        ASSERT_TRUE(full) << full.error().message;
        if (swapped) swapped(store.current("inc").version, lines(store, "inc"));
        EXPECT_FALSE(store.stats("inc").last.incremental);
        ASSERT_EQ(lines(store, "inc"), want) << "round " << round << " after the full refresh";
    }
    const auto stats = store.stats("inc");
    EXPECT_EQ(stats.incremental_ok, static_cast<std::uint64_t>(incremental_refreshes));
    EXPECT_EQ(stats.incremental_failed, 0u);
    const auto ledger_after =
        frost::source::process_usage().total(src.name(), frost::source::purpose::rollup_incremental);
    EXPECT_EQ(ledger_after.statements - ledger_before.statements, static_cast<std::uint64_t>(incremental_refreshes));
}

// `inc` read by an API reader, with the version it was read from.
std::pair<std::uint64_t, std::vector<std::string>> read_inc(serving_store& store) {
    const std::string sql = "select day::VARCHAR || '|' || n::VARCHAR || '|' || total::VARCHAR from inc order by day";
    frost::source::query q{sql, {}, model::deadline::after(10s), "test", 100'000};
    auto got = store.run_versioned(q, "inc");
    if (!got) throw std::runtime_error(got.error().message);
    std::vector<std::string> out;
    for (const auto& row : got.value().table.rows) out.push_back(std::get<std::string>(row.at(0)));
    return {got.value().version.version, out};
}

const store_options manual{true, false, false};  // build at open; no background refreshes

TEST(incremental_rollup, equals_a_full_rebuild_over_100_random_rounds_on_duckdb) {
    temp_dir dir("duckdb");
    const auto db = make_events_db(dir.path);
    auto wh = frost::source::duckdb::duckdb_source::open("wh", {db, false, test_settings});
    ASSERT_TRUE(wh) << wh.error().message;
    std::shared_ptr<frost::source::source> src(std::move(wh).value());
    // In memory, for speed: each refresh writes a whole generation; the file path is tested below.
    auto opened = serving_store::open(make_config(""), {{"wh", src}}, manual);
    ASSERT_TRUE(opened) << opened.error().message;
    auto store = opened.value();
    EXPECT_FALSE(store->stats("inc").last.incremental);  // the first build is full
    EXPECT_EQ(store->stats("inc").last.why_full, "no version held yet");
    run_rounds(*src, *store, 12);
}

// On disk an incremental refresh builds the new version in memory, swaps it in, then writes the
// generation file and swaps that in: the same rounds, through that path, while a reader thread
// reads `inc` all along (each read must be exactly one version's rows: never a half-merged one,
// never an error), and the file reopened at the end.
TEST(incremental_rollup, equals_a_full_rebuild_over_100_random_rounds_on_disk_swapped_in_from_memory) {
    temp_dir dir("disk");
    const auto db = make_events_db(dir.path);
    auto wh = frost::source::duckdb::duckdb_source::open("wh", {db, false, test_settings});
    ASSERT_TRUE(wh) << wh.error().message;
    std::shared_ptr<frost::source::source> src(std::move(wh).value());
    const auto serving = (dir.path / "serving.duckdb").string();
    std::vector<std::string> served;
    std::uint64_t version = 0;
    {
        auto opened = serving_store::open(make_config(serving), {{"wh", src}}, manual);
        ASSERT_TRUE(opened) << opened.error().message;
        std::mutex mutex;
        std::map<std::uint64_t, std::vector<std::string>> versions;
        versions[opened.value()->current("inc").version] = lines(*opened.value(), "inc");
        std::vector<std::pair<std::uint64_t, std::vector<std::string>>> seen;
        std::atomic<bool> stop{false};
        std::string reader_error;
        std::thread reader([&] {
            while (!stop.load()) {
                try {
                    auto got = read_inc(*opened.value());
                    std::lock_guard lock(mutex);
                    seen.push_back(std::move(got));
                } catch (const std::exception& e) {
                    reader_error = e.what();
                    return;
                }
            }
        });
        run_rounds(*src, *opened.value(), 56, [&](std::uint64_t v, const std::vector<std::string>& rows) {
            std::lock_guard lock(mutex);
            versions[v] = rows;
        });
        stop = true;
        reader.join();
        EXPECT_EQ(reader_error, "");
        EXPECT_GT(seen.size(), 100u);
        std::set<std::uint64_t> distinct;
        for (const auto& [v, rows] : seen) {
            distinct.insert(v);
            auto it = versions.find(v);
            ASSERT_NE(it, versions.end()) << "a read of version " << v << ", which no refresh reported";
            ASSERT_EQ(rows, it->second) << "version " << v << " read with other rows than it holds";
        }
        EXPECT_GT(distinct.size(), 10u);  // the reader ran across many swaps
        EXPECT_EQ(opened.value()->persist_failures(), 0u);
        served = lines(*opened.value(), "inc");
        version = opened.value()->current("inc").version;
    }
    // The file holds what was served last.
    auto reopened = serving_store::open(make_config(serving), {{"wh", src}}, manual);
    ASSERT_TRUE(reopened) << reopened.error().message;
    EXPECT_EQ(reopened.value()->current("inc").version, version);
    EXPECT_EQ(lines(*reopened.value(), "inc"), served);
}

TEST(incremental_rollup, equals_a_full_rebuild_over_100_random_rounds_on_the_snowflake_emulator) {
    temp_dir dir("snowflake");
    emu::emulator_options o;
    o.database_path = make_events_db(dir.path);
    o.writable = true;
    o.public_keys_pem = {frost::testing::snowflake_keys::keys().public_pem};
    o.sync_wait = 200ms;
    emu::emulator e(o);
    auto wh = frost::source::snowflake::snowflake_source::open("wh", sft::resolved_settings(e));
    ASSERT_TRUE(wh) << wh.error().message;
    std::shared_ptr<frost::source::source> src(std::move(wh).value());
    exec(*src, "set global perfect_ht_threshold = 0");  // the emulator runs on DuckDB too (see test_settings)
    auto opened = serving_store::open(make_config(""), {{"wh", src}}, manual);
    ASSERT_TRUE(opened) << opened.error().message;
    run_rounds(*src, *opened.value(), 34);

    // The emulator saw each incremental statement with the watermark bound, never pasted.
    bool saw_binding = false;
    for (const auto& entry : e.log())
        if (entry.kind == "submit" && entry.body.find("where day >= ?") != std::string::npos &&
            entry.body.find("\"bindings\"") != std::string::npos)
            saw_binding = true;
    EXPECT_TRUE(saw_binding);
}

TEST(incremental_rollup, a_restart_refreshes_incrementally_from_the_persisted_watermark) {
    temp_dir dir("restart");
    const auto db = make_events_db(dir.path);
    auto wh = frost::source::duckdb::duckdb_source::open("wh", {db, false, test_settings});
    ASSERT_TRUE(wh) << wh.error().message;
    std::shared_ptr<frost::source::source> src(std::move(wh).value());
    const auto serving = (dir.path / "serving.duckdb").string();
    {
        auto store = serving_store::open(make_config(serving), {{"wh", src}}, manual);
        ASSERT_TRUE(store) << store.error().message;
    }
    exec(*src, "insert into demo.events values (DATE '2020-01-31', 5), (DATE '2020-01-30', 6)");
    auto store = serving_store::open(make_config(serving), {{"wh", src}}, manual);
    ASSERT_TRUE(store) << store.error().message;
    auto done = store.value()->refresh("inc");
    ASSERT_TRUE(done) << done.error().message;
    const auto report = store.value()->stats("inc").last;
    EXPECT_TRUE(report.incremental);
    EXPECT_EQ(report.since, "2020-01-28");  // watermark 2020-01-30 held, minus 2 days
    EXPECT_EQ(report.rows_fetched, 4u);     // 01-28, 01-29, 01-30 and the new 01-31
    ASSERT_TRUE(store.value()->refresh("oracle"));
    EXPECT_EQ(lines(*store.value(), "inc"), lines(*store.value(), "oracle"));
}

// The value of one series in a /metrics text (-1 when absent).
double metric(const std::string& text, const std::string& series) {
    const auto at = text.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + series.size() + 2));
}

// The oracle of the tests below: `inc`'s rows as `lines` prints them, asked of the source itself.
std::vector<std::string> source_lines(frost::source::source& src) {
    auto t = exec(src,
                  "select day::VARCHAR || '|' || count(*)::VARCHAR || '|' || sum(v)::VARCHAR from demo.events "
                  "group by day order by day");
    std::vector<std::string> out;
    for (const auto& row : t.rows) out.push_back(std::get<std::string>(row.at(0)));
    return out;
}

// The serving file's inode: a new generation is renamed over the path, so it changes when one is written.
ino_t inode(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// The new version is visible to readers as soon as it is swapped in from memory, while its
// generation file is still being written (a hook holds the write back); the file then holds it.
TEST(incremental_rollup, on_disk_the_new_version_is_served_before_its_file_is_written) {
    temp_dir dir("before-persist");
    const auto db = make_events_db(dir.path);
    auto wh = frost::source::duckdb::duckdb_source::open("wh", {db, false, test_settings});
    ASSERT_TRUE(wh) << wh.error().message;
    std::shared_ptr<frost::source::source> src(std::move(wh).value());
    const auto serving = (dir.path / "serving.duckdb").string();
    std::uint64_t v1 = 0;
    std::vector<std::string> want;
    {
        auto opened = serving_store::open(make_config(serving), {{"wh", src}}, manual);
        ASSERT_TRUE(opened) << opened.error().message;
        auto store = opened.value();
        v1 = store->current("inc").version;
        const auto old_lines = source_lines(*src);
        exec(*src, "insert into demo.events values (DATE '2020-01-31', 5), (DATE '2020-01-29', 6)");
        want = source_lines(*src);
        ASSERT_NE(want, old_lines);
        const auto file_before = inode(serving);
        ASSERT_NE(file_before, 0u);

        // An endpoint SQL the prefix sums answer: its index, built for the version in memory, must
        // be carried to the file generation that replaces it (same rows), not built again.
        const std::string summed =
            "select sum(total)::BIGINT as t, sum(n)::BIGINT as c from inc where ($a is null or day >= $a) and "
            "($b is null or day <= $b)";
        const std::vector<frost::source::parameter> open_range{{"a", std::monostate{}}, {"b", std::monostate{}}};
        auto sum_read = [&] {
            auto got = store->run_versioned({summed, open_range, model::deadline::after(10s), "/sum", 10}, "inc");
            if (!got) throw std::runtime_error(got.error().message);
            return std::get<std::int64_t>(got.value().table.rows.at(0).at(0));
        };
        int hook_calls = 0;
        std::pair<std::uint64_t, std::vector<std::string>> seen;
        ino_t file_during = 0;
        std::int64_t sum_during = 0;
        store->set_persist_hook([&] {
            ++hook_calls;
            file_during = inode(serving);
            // Another thread reads meanwhile, as an API worker would: never blocked by the write.
            std::thread reader([&] {
                seen = read_inc(*store);
                sum_during = sum_read();  // DuckDB answers, and queues the index for this version
            });
            reader.join();
            store->settle_prefix_sums();
        });
        auto done = store->refresh("inc");
        ASSERT_TRUE(done) << done.error().message;
        ASSERT_EQ(hook_calls, 1);
        EXPECT_EQ(file_during, file_before) << "the file was written before the new version was served";
        EXPECT_EQ(seen.first, v1 + 1);
        EXPECT_EQ(seen.second, want);
        const auto report = store->stats("inc").last;
        EXPECT_TRUE(report.incremental);
        EXPECT_TRUE(report.persisted) << report.persist_error;
        EXPECT_NE(inode(serving), file_before);
        EXPECT_EQ(read_inc(*store), std::make_pair(v1 + 1, want));
        const auto oracle_sum = exec(*src, "select sum(v)::BIGINT from demo.events");
        EXPECT_EQ(sum_during, std::get<std::int64_t>(oracle_sum.rows.at(0).at(0)));
        EXPECT_EQ(sum_read(), sum_during);
        EXPECT_EQ(store->answers("/sum").duckdb, 1u) << "the index was not carried to the file generation";
        EXPECT_EQ(store->answers("/sum").prefix_sums, 1u);
        store->set_persist_hook({});
    }
    auto reopened = serving_store::open(make_config(serving), {{"wh", src}}, manual);
    ASSERT_TRUE(reopened) << reopened.error().message;
    EXPECT_EQ(read_inc(*reopened.value()), std::make_pair(v1 + 1, want));
}

// Writing the file after the swap fails (every file capped at 16 KiB with RLIMIT_FSIZE, as a full
// disk would stop it): the new version, whose data is right, keeps serving and is not stale; the
// failure is counted in /metrics; the file stays the previous, complete generation; the next
// refresh writes a whole generation again.
TEST(incremental_rollup, a_failed_persist_keeps_the_new_version_served_and_the_next_refresh_writes_the_file) {
    temp_dir dir("persist-fails");
    const auto db = make_events_db(dir.path);
    auto wh = frost::source::duckdb::duckdb_source::open("wh", {db, false, test_settings});
    ASSERT_TRUE(wh) << wh.error().message;
    std::shared_ptr<frost::source::source> src(std::move(wh).value());
    const auto serving = (dir.path / "serving.duckdb").string();
    auto cfg = std::make_shared<const config::config>(make_config(serving));
    std::uint64_t v1 = 0;
    std::vector<std::string> want2;
    {
        auto opened = serving_store::open(*cfg, {{"wh", src}}, manual);
        ASSERT_TRUE(opened) << opened.error().message;
        auto store = opened.value();
        api::worker_pool workers(2, 64);
        auto svc = api::service::create(cfg, {{"wh", src}}, workers, store);
        ASSERT_TRUE(svc) << svc.error().message;
        auto rails = app::install_guard_rails(cfg, *svc.value(), workers, nullptr);
        ASSERT_TRUE(rails) << rails.error().message;
        auto failures = [&] {
            api::request r;
            r.target = "/metrics";
            return metric(std::string(svc.value()->handle_sync(std::move(r)).body_view()),
                          "frost_rollup_persist_failures_total");
        };
        EXPECT_EQ(failures(), 0.0);
        v1 = store->current("inc").version;
        const auto file_before = inode(serving);

        exec(*src, "insert into demo.events values (DATE '2020-01-31', 5), (DATE '2020-01-30', 6)");
        const auto want = source_lines(*src);
        std::signal(SIGXFSZ, SIG_IGN);  // a write past the cap fails with EFBIG instead of killing the process
        rlimit old{};
        ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
        rlimit capped = old;
        capped.rlim_cur = 16 * 1024;
        ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &capped), 0);
        auto done = store->refresh("inc");
        ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
        ASSERT_TRUE(done) << done.error().message;
        auto report = store->stats("inc").last;
        EXPECT_TRUE(report.ok);
        EXPECT_TRUE(report.incremental);
        EXPECT_FALSE(report.persisted);
        EXPECT_FALSE(report.persist_error.empty());
        EXPECT_EQ(store->persist_failures(), 1u);
        EXPECT_EQ(failures(), 1.0);
        EXPECT_FALSE(store->current("inc").stale);
        EXPECT_EQ(read_inc(*store), std::make_pair(v1 + 1, want));
        EXPECT_EQ(inode(serving), file_before) << "the served file must stay the previous generation";
        EXPECT_FALSE(std::filesystem::exists(serving + ".next"));
        EXPECT_FALSE(std::filesystem::exists(serving + ".next.wal"));

        // Space returns: the next refresh builds from the version in memory and writes the file.
        exec(*src, "insert into demo.events values (DATE '2020-02-01', 8)");
        want2 = source_lines(*src);
        auto again = store->refresh("inc");
        ASSERT_TRUE(again) << again.error().message;
        report = store->stats("inc").last;
        EXPECT_TRUE(report.incremental);
        EXPECT_TRUE(report.persisted) << report.persist_error;
        EXPECT_EQ(failures(), 1.0);
        EXPECT_NE(inode(serving), file_before);
        EXPECT_EQ(read_inc(*store), std::make_pair(v1 + 2, want2));
    }
    auto reopened = serving_store::open(make_config(serving), {{"wh", src}}, manual);
    ASSERT_TRUE(reopened) << reopened.error().message;
    EXPECT_EQ(read_inc(*reopened.value()), std::make_pair(v1 + 2, want2));
}

TEST(incremental_rollup, a_corrupt_serving_file_is_set_aside_and_rebuilt_in_full) {
    temp_dir dir("corrupt");
    const auto db = make_events_db(dir.path);
    auto wh = frost::source::duckdb::duckdb_source::open("wh", {db, false, test_settings});
    ASSERT_TRUE(wh) << wh.error().message;
    std::shared_ptr<frost::source::source> src(std::move(wh).value());
    const auto serving = (dir.path / "serving.duckdb").string();
    {
        std::ofstream garbage(serving, std::ios::binary);
        for (int i = 0; i < 10'000; ++i) garbage.put(static_cast<char>(i * 7919 % 251));
    }
    auto opts = manual;
    opts.memory_fallback = false;  // no silent fall back to memory: the file itself must be rebuilt
    auto store = serving_store::open(make_config(serving), {{"wh", src}}, opts);
    ASSERT_TRUE(store) << store.error().message;
    EXPECT_EQ(store.value()->current("inc").version, 1u);
    EXPECT_FALSE(store.value()->stats("inc").last.incremental);
    EXPECT_TRUE(std::filesystem::exists(serving + ".corrupt"));
    EXPECT_EQ(lines(*store.value(), "inc"), lines(*store.value(), "oracle"));
    EXPECT_EQ(lines(*store.value(), "inc").size(), 30u);
}

TEST(incremental_rollup, sql_that_ignores_since_is_refused_rather_than_merged_twice) {
    temp_dir dir("nosince");
    const auto db = make_events_db(dir.path);
    auto wh = frost::source::duckdb::duckdb_source::open("wh", {db, false, test_settings});
    ASSERT_TRUE(wh) << wh.error().message;
    std::shared_ptr<frost::source::source> src(std::move(wh).value());
    auto cfg = make_config("");
    // Mentions $since but does not filter on it.
    cfg.rollups[0].sql["duckdb"] =
        "select day, count(*)::BIGINT as n, sum(v)::BIGINT as total from demo.events where $since is not null "
        "group by day";
    auto store = serving_store::open(cfg, {{"wh", src}}, manual);
    ASSERT_TRUE(store) << store.error().message;
    EXPECT_EQ(store.value()->current("inc").version, 1u);
    auto again = store.value()->refresh("inc");
    ASSERT_FALSE(again);
    EXPECT_NE(again.error().message.find("must filter on $since"), std::string::npos) << again.error().message;
    EXPECT_EQ(store.value()->stats("inc").incremental_failed, 1u);
    EXPECT_EQ(lines(*store.value(), "inc"), lines(*store.value(), "oracle"));  // the old version is served
}

// The known gap of issue 12: a Snowflake-backed rollup whose first build fails must be retried
// after 1 s, 2 s, 4 s ... (up to the refresh interval), not at the next scheduled refresh.
TEST(incremental_rollup, a_failed_first_build_is_retried_with_backoff_from_one_second) {
    temp_dir dir("retry");
    emu::emulator_options o;
    o.database_path = make_events_db(dir.path);
    o.public_keys_pem = {frost::testing::snowflake_keys::keys().public_pem};
    o.sync_wait = 200ms;
    emu::emulator e(o);
    e.add_fault({emu::fault_target::submit, emu::fault_action::status, -1, 403, {}, 0ms});
    auto wh = frost::source::snowflake::snowflake_source::open("wh", sft::resolved_settings(e));
    ASSERT_TRUE(wh) << wh.error().message;
    std::shared_ptr<frost::source::source> src(std::move(wh).value());
    store_options opts;  // as a Lambda or a tolerant server opens it: build, schedule, do not require
    opts.refresh_on_start = false;
    auto cfg = make_config("");
    cfg.rollups.pop_back();  // only `inc`, refresh 60m
    const auto started = std::chrono::steady_clock::now();
    auto store = serving_store::open(cfg, {{"wh", src}}, opts);
    ASSERT_TRUE(store) << store.error().message;
    EXPECT_EQ(store.value()->current("inc").version, 0u);
    std::this_thread::sleep_for(2500ms);
    // Tried at open, after 1 s and after 2 s more (3 s): at least two attempts by 2.5 s.
    EXPECT_GE(store.value()->stats("inc").full_failed, 2u);
    e.clear_faults();
    while (store.value()->current("inc").version == 0 && std::chrono::steady_clock::now() - started < 15s)
        std::this_thread::sleep_for(50ms);
    EXPECT_EQ(store.value()->current("inc").version, 1u);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);  // not the 60 minutes of `refresh`
}

// Issue 12's goal, stated in docs/operations.md: rollup-backed calls make 0 warehouse statements.
// The emulator's own execution count is the oracle; /metrics must agree with it.
TEST(rollup_cost, rollup_routes_make_zero_warehouse_statements_and_metrics_count_the_rest) {
    temp_dir dir("cost");
    emu::emulator_options o;
    o.database_path = make_events_db(dir.path);
    o.public_keys_pem = {frost::testing::snowflake_keys::keys().public_pem};
    o.sync_wait = 200ms;
    emu::emulator e(o);
    auto wh = frost::source::snowflake::snowflake_source::open("wh", sft::resolved_settings(e));
    ASSERT_TRUE(wh) << wh.error().message;
    std::shared_ptr<frost::source::source> src(std::move(wh).value());
    const auto cfg = std::make_shared<const config::config>(make_config(""));
    auto opened = serving_store::open(*cfg, {{"wh", src}}, manual);
    ASSERT_TRUE(opened) << opened.error().message;
    auto store = opened.value();
    api::worker_pool workers(2, 64);
    auto svc = api::service::create(cfg, {{"wh", src}}, workers, store);
    ASSERT_TRUE(svc) << svc.error().message;
    auto rails = app::install_guard_rails(cfg, *svc.value(), workers, nullptr);
    ASSERT_TRUE(rails) << rails.error().message;
    auto scrape = [&] {
        api::request r;
        r.target = "/metrics";
        return std::string(svc.value()->handle_sync(std::move(r)).body_view());
    };
    const std::string live = R"(frost_warehouse_statements_total{source="wh",purpose="live"})";
    const std::string full = R"(frost_warehouse_statements_total{source="wh",purpose="rollup_full"})";
    const std::string incremental = R"(frost_warehouse_statements_total{source="wh",purpose="rollup_incremental"})";

    const auto executions = e.executions();
    const auto before = scrape();
    EXPECT_GE(metric(before, full), 2.0);  // the two first builds
    for (int i = 0; i < 200; ++i) {
        api::request r;
        r.target = "/inc";
        const auto res = svc.value()->handle_sync(std::move(r));
        ASSERT_EQ(res.status, 200);
        ASSERT_EQ(res.header("X-Data-Version"), "inc@1");
    }
    EXPECT_EQ(e.executions(), executions);  // not one statement reached the warehouse
    const auto after = scrape();
    EXPECT_EQ(metric(after, live), metric(before, live));
    EXPECT_EQ(metric(after, full), metric(before, full));
    EXPECT_EQ(metric(after, incremental), metric(before, incremental));

    // A live call is one statement, an incremental refresh another: both counted, by purpose.
    api::request r;
    r.target = "/live";
    ASSERT_EQ(svc.value()->handle_sync(std::move(r)).status, 200);
    ASSERT_TRUE(store->refresh("inc"));
    EXPECT_EQ(e.executions(), executions + 2);
    const auto last = scrape();
    EXPECT_EQ(metric(last, live), metric(before, live) + 1);
    EXPECT_EQ(metric(last, incremental), metric(before, incremental) + 1);
    EXPECT_EQ(metric(last, R"(frost_rollup_refresh_outcomes_total{rollup="inc",kind="incremental",outcome="ok"})"),
              1.0);
    EXPECT_EQ(metric(last, R"(frost_rollup_refresh_outcomes_total{rollup="inc",kind="full",outcome="ok"})"), 1.0);
    EXPECT_EQ(metric(last, R"(frost_rollup_last_refresh_rows_fetched{rollup="inc"})"), 3.0);  // days 28..30
    EXPECT_EQ(metric(last, R"(frost_rollup_last_refresh_ok{rollup="inc"})"), 1.0);
    EXPECT_GE(metric(last, R"(frost_rollup_last_refresh_seconds{rollup="inc"})"), 0.0);
    EXPECT_GE(metric(last, R"(frost_rollup_age_seconds{rollup="inc"})"), 0.0);
    EXPECT_GT(metric(last, R"(frost_warehouse_rows_received_total{source="wh",purpose="rollup_incremental"})"), 0.0);
    EXPECT_GT(metric(last, R"(frost_warehouse_bytes_received_total{source="wh",purpose="rollup_full"})"), 0.0);
    EXPECT_GT(metric(last, R"(frost_warehouse_seconds_total{source="wh",purpose="live"})"), 0.0);
}

}  // namespace
}  // namespace frost::rollup
