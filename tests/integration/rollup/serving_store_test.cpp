// The serving store's promises: a refresh swaps a whole version in while readers run, a
// refresh that fails halfway leaves the last good version served (marked stale), and a
// restart serves the persisted version before any source query.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <mutex>
#include <thread>

#include "api/service.hpp"
#include "api/worker_pool.hpp"
#include "rollup/serving_store.hpp"

namespace frost::rollup {
namespace {

using namespace std::chrono_literals;

// A source whose answer the test sets: version n is `1000 + n` rows (k, v = n). It can fail
// outright, or return a table whose row 500 cannot be stored (a text in an integer column),
// which makes the build fail halfway through writing.
class scripted_source final : public frost::source::source {
public:
    enum class mode { good, fail, poisoned };
    std::string_view name() const override { return "scripted"; }
    std::string_view dialect() const override { return "duckdb"; }
    model::result<model::table> run(const frost::source::query&) override {
        calls.fetch_add(1);
        std::lock_guard lock(mutex);
        if (m == mode::fail) return model::error{model::error_code::source_unavailable, "warehouse is down", {}, {}};
        model::table t;
        t.columns = {{"k", model::column_type::integer}, {"v", model::column_type::integer}};
        for (std::int64_t i = 0; i < 1000 + n; ++i) {
            std::vector<model::value> row;
            row.emplace_back(i);
            if (m == mode::poisoned && i == 500)
                row.emplace_back(std::string("boom"));
            else
                row.emplace_back(n);
            t.rows.push_back(std::move(row));
        }
        return t;
    }
    void set(mode new_mode, std::int64_t new_n = 0) {
        std::lock_guard lock(mutex);
        m = new_mode;
        if (new_n) n = new_n;
    }
    std::atomic<int> calls{0};

private:
    std::mutex mutex;
    mode m = mode::good;
    std::int64_t n = 1;
};

config::config make_config(const std::string& serving_path, const std::string& rollup_sql = "select k, v from src") {
    auto text = R"(
sources:
  scripted: {type: duckdb, path: ":memory:"}
rollups:
  r:
    source: scripted
    refresh: 60m
    sql: ")" + rollup_sql +
                R"("
endpoints:
  - path: /r
    rollup: r
    sql: select count(*)::BIGINT as n, min(v) as lo, max(v) as hi from r
)";
    auto cfg = config::load_text(text, "store_test.yaml", "/");
    if (!cfg) throw std::runtime_error(cfg.error().message);
    cfg.value().serving.path = serving_path;
    return std::move(cfg).value();
}

struct reading {
    std::int64_t n = -1, lo = -1, hi = -1;
};

reading read_whole(serving_store& store, std::uint64_t* version) {
    const std::string sql = "select count(*)::BIGINT as n, min(v) as lo, max(v) as hi from r";
    frost::source::query q{sql, {}, model::deadline::after(10s), "test", 10};
    auto got = store.run_versioned(q, "r");
    if (!got) throw std::runtime_error(got.error().message);
    const auto& row = got.value().table.rows.at(0);
    if (version) *version = got.value().version.version;
    return {std::get<std::int64_t>(row[0]), std::get<std::int64_t>(row[1]), std::get<std::int64_t>(row[2])};
}

const store_options manual{true, false, false};  // build at open; no background refreshes

TEST(serving_store, refresh_swaps_whole_versions_under_16_concurrent_readers) {
    auto src = std::make_shared<scripted_source>();
    const auto cfg = make_config("");
    auto opened = serving_store::open(cfg, {{"scripted", src}}, manual);
    ASSERT_TRUE(opened) << opened.error().message;
    auto store = opened.value();
    ASSERT_EQ(store->current("r").version, 1u);

    // Half the readers go through the API core (header and body must agree), half straight to the store.
    auto shared_cfg = std::make_shared<const config::config>(cfg);
    api::worker_pool workers(4, 1024);
    auto svc = api::service::create(shared_cfg, {{"scripted", src}}, workers, store);
    ASSERT_TRUE(svc) << svc.error().message;

    std::atomic<bool> stop{false};
    std::atomic<int> reads{0}, torn{0};
    std::mutex failures_mutex;
    std::vector<std::string> failures;
    std::vector<std::thread> readers;
    for (int t = 0; t < 16; ++t) {
        readers.emplace_back([&, t] {
            while (!stop) {
                std::uint64_t version = 0;
                reading got;
                if (t % 2 == 0) {
                    got = read_whole(*store, &version);
                } else {
                    api::request req;
                    req.target = "/r";
                    auto res = svc.value()->handle_sync(std::move(req));
                    const std::string body(res.body_view());
                    const std::string tag(res.header("X-Data-Version"));
                    version = std::stoull(tag.substr(tag.find('@') + 1));
                    std::sscanf(body.c_str(), "{\"result\":[[%ld,%ld,%ld]]", &got.n, &got.lo, &got.hi);
                }
                reads.fetch_add(1);
                const auto v = static_cast<std::int64_t>(version);
                if (got.lo != v || got.hi != v || got.n != 1000 + v) {
                    torn.fetch_add(1);
                    std::lock_guard lock(failures_mutex);
                    if (failures.size() < 5)
                        failures.push_back("version " + std::to_string(v) + " read n=" + std::to_string(got.n) +
                                           " v=" + std::to_string(got.lo) + ".." + std::to_string(got.hi));
                }
            }
        });
    }
    for (std::int64_t n = 2; n <= 25; ++n) {
        src->set(scripted_source::mode::good, n);
        auto done = store->refresh("r");
        ASSERT_TRUE(done) << done.error().message;
        EXPECT_EQ(done.value().version, static_cast<std::uint64_t>(n));
        std::this_thread::sleep_for(5ms);
    }
    stop = true;
    for (auto& r : readers) r.join();
    EXPECT_GT(reads.load(), 100);
    EXPECT_EQ(torn.load(), 0) << (failures.empty() ? "" : failures.front());
    std::uint64_t version = 0;
    auto last = read_whole(*store, &version);
    EXPECT_EQ(version, 25u);
    EXPECT_EQ(last.n, 1025);
}

TEST(serving_store, a_refresh_that_fails_halfway_leaves_the_old_version_served_and_marked_stale) {
    auto src = std::make_shared<scripted_source>();
    const auto cfg = make_config("");
    auto opened = serving_store::open(cfg, {{"scripted", src}}, manual);
    ASSERT_TRUE(opened) << opened.error().message;
    auto store = opened.value();
    auto shared_cfg = std::make_shared<const config::config>(cfg);
    api::worker_pool workers(2, 64);
    auto svc = api::service::create(shared_cfg, {{"scripted", src}}, workers, store);
    ASSERT_TRUE(svc);

    // Poisoned at row 500 of 1002: the first 500 rows were written to staging when it fails.
    src->set(scripted_source::mode::poisoned, 2);
    auto failed = store->refresh("r");
    ASSERT_FALSE(failed);
    EXPECT_NE(failed.error().message.find("row 501"), std::string::npos) << failed.error().message;
    std::uint64_t version = 0;
    auto got = read_whole(*store, &version);
    EXPECT_EQ(version, 1u);
    EXPECT_EQ(got.n, 1001);
    EXPECT_EQ(got.lo, 1);
    EXPECT_EQ(got.hi, 1);
    EXPECT_TRUE(store->current("r").stale);
    EXPECT_EQ(store->failed_refreshes(), 1u);
    // No half-built table is left behind.
    frost::source::query q{"select count(*)::BIGINT from duckdb_tables() where table_name like 'frost_staging%'",
                           {},
                           model::deadline::after(5s),
                           "test",
                           10};
    auto staging = store->run(q);
    ASSERT_TRUE(staging);
    EXPECT_EQ(std::get<std::int64_t>(staging.value().rows[0][0]), 0);
    api::request req;
    req.target = "/r";
    auto res = svc.value()->handle_sync(std::move(req));
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.header("X-Data-Version"), "r@1");
    EXPECT_EQ(res.header("X-Data-Stale"), "true");

    // The source itself down: same outcome.
    src->set(scripted_source::mode::fail);
    EXPECT_FALSE(store->refresh("r"));
    EXPECT_EQ(read_whole(*store, &version).n, 1001);
    EXPECT_EQ(version, 1u);

    // Back to health: the next refresh swaps in version 2 and clears the stale mark.
    src->set(scripted_source::mode::good, 3);
    auto ok = store->refresh("r");
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok.value().version, 2u);
    EXPECT_FALSE(store->current("r").stale);
    EXPECT_EQ(read_whole(*store, &version).n, 1003);
}

TEST(serving_store, a_restart_serves_the_persisted_version_without_asking_the_source) {
    const auto dir = std::filesystem::temp_directory_path() / ("frost-serving-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto path = (dir / "serving.duckdb").string();
    auto src = std::make_shared<scripted_source>();
    src->set(scripted_source::mode::good, 7);
    {
        auto store = serving_store::open(make_config(path), {{"scripted", src}}, manual);
        ASSERT_TRUE(store) << store.error().message;
        EXPECT_EQ(store.value()->current("r").version, 1u);
        src->set(scripted_source::mode::good, 8);
        ASSERT_TRUE(store.value()->refresh("r"));
    }
    src->set(scripted_source::mode::fail);
    const int calls_before = src->calls.load();
    {
        auto store = serving_store::open(make_config(path), {{"scripted", src}}, manual);
        ASSERT_TRUE(store) << store.error().message;
        EXPECT_EQ(src->calls.load(), calls_before);  // served from the file, no source query
        std::uint64_t version = 0;
        auto got = read_whole(*store.value(), &version);
        EXPECT_EQ(version, 2u);
        EXPECT_EQ(got.n, 1008);
        EXPECT_EQ(got.lo, 8);
    }
    // A changed rollup SQL invalidates the persisted table: rebuilt, and numbering keeps rising.
    src->set(scripted_source::mode::good, 9);
    {
        auto store =
            serving_store::open(make_config(path, "select k, v from src where k >= 0"), {{"scripted", src}}, manual);
        ASSERT_TRUE(store) << store.error().message;
        std::uint64_t version = 0;
        auto got = read_whole(*store.value(), &version);
        EXPECT_EQ(version, 3u);
        EXPECT_EQ(got.lo, 9);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

// Issue 15 defect 1, in one process: a refresh whose writes fail (here every file is capped at
// 64 KiB with RLIMIT_FSIZE, as a full disk would stop them) must not touch the version being
// served: it stays readable, marked stale, no half-written generation is left, and the next
// refresh after the cap is lifted succeeds without reopening the store.
TEST(serving_store, a_refresh_that_cannot_write_leaves_the_served_file_untouched) {
    const auto dir = std::filesystem::temp_directory_path() / ("frost-serving-full-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto path = (dir / "serving.duckdb").string();
    auto src = std::make_shared<scripted_source>();
    auto opened = serving_store::open(make_config(path), {{"scripted", src}}, manual);
    ASSERT_TRUE(opened) << opened.error().message;
    auto store = opened.value();
    ASSERT_EQ(store->current("r").version, 1u);

    src->set(scripted_source::mode::good, 20'000);
    std::signal(SIGXFSZ, SIG_IGN);  // a write past the cap fails with EFBIG instead of killing the process
    rlimit old{};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
    rlimit capped = old;
    capped.rlim_cur = 64 * 1024;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &capped), 0);
    auto failed = store->refresh("r");
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
    ASSERT_FALSE(failed);

    std::uint64_t version = 0;
    auto got = read_whole(*store, &version);
    EXPECT_EQ(version, 1u);
    EXPECT_EQ(got.n, 1001);
    EXPECT_TRUE(store->current("r").stale);
    EXPECT_FALSE(std::filesystem::exists(path + ".next"));
    EXPECT_FALSE(std::filesystem::exists(path + ".next.wal"));

    auto ok = store->refresh("r");
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok.value().version, 2u);
    EXPECT_FALSE(store->current("r").stale);
    EXPECT_EQ(read_whole(*store, &version).n, 21'000);
    EXPECT_EQ(version, 2u);

    // A second process (here: a second store) cannot write generations over this one's.
    auto second = serving_store::open(make_config(path), {{"scripted", src}}, manual);
    ASSERT_FALSE(second);
    EXPECT_NE(second.error().message.find("locked"), std::string::npos) << second.error().message;
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

// A source that holds its answer until released: a refresh through it is "in progress" for as
// long as the test needs.
class held_source final : public frost::source::source {
public:
    std::string_view name() const override { return "held"; }
    std::string_view dialect() const override { return "duckdb"; }
    model::result<model::table> run(const frost::source::query& q) override {
        {
            std::unique_lock lock(mutex);
            waiting = true;
            changed.notify_all();
            changed.wait(lock, [this] { return released; });
        }
        return inner.run(q);
    }
    void wait_until_asked() {
        std::unique_lock lock(mutex);
        changed.wait(lock, [this] { return waiting; });
    }
    void release() {
        std::lock_guard lock(mutex);
        released = true;
        changed.notify_all();
    }
    scripted_source inner;

private:
    std::mutex mutex;
    std::condition_variable changed;
    bool waiting = false, released = false;
};

// Config reload (docs/operations.md, Reloading the config, item 6): a reconfigure while the
// rollup is being refreshed from its old definition does not wait for that refresh, the
// refresh finishes on the old source without harm, and the rollup stays stale until a refresh
// with the new definition and the new source succeeds; a removed rollup is forgotten.
TEST(serving_store, a_reconfigure_during_a_refresh_keeps_the_rollup_stale_until_rebuilt_from_its_new_definition) {
    auto old_src = std::make_shared<held_source>();
    old_src->release();
    auto opened = serving_store::open(make_config(""), {{"scripted", old_src}}, manual);
    ASSERT_TRUE(opened) << opened.error().message;
    auto store = opened.value();
    ASSERT_EQ(store->current("r").version, 1u);

    auto held = std::make_shared<held_source>();
    held->inner.set(scripted_source::mode::good, 2);
    ASSERT_TRUE(store->reconfigure(make_config(""), {{"scripted", held}}));
    EXPECT_TRUE(store->current("r").stale) << "a new source object is a changed definition";
    std::thread refreshing([&] { EXPECT_TRUE(store->refresh("r")); });
    held->wait_until_asked();

    // The refresh waits in `held`; the definition changes under it.
    auto fresh = std::make_shared<scripted_source>();
    fresh->set(scripted_source::mode::good, 5);
    ASSERT_TRUE(store->reconfigure(make_config("", "select k, v from src where v > 0"), {{"scripted", fresh}}));
    auto v = store->current("r");
    EXPECT_EQ(v.version, 1u);
    EXPECT_TRUE(v.stale);
    held->release();
    refreshing.join();

    // The old definition's rows went in (version 2), still stale: not built from the new one.
    std::uint64_t version = 0;
    EXPECT_EQ(read_whole(*store, &version).lo, 2);
    EXPECT_EQ(version, 2u);
    EXPECT_TRUE(store->current("r").stale);
    EXPECT_EQ(fresh->calls.load(), 0);

    auto rebuilt = store->refresh("r");
    ASSERT_TRUE(rebuilt) << rebuilt.error().message;
    EXPECT_EQ(rebuilt.value().version, 3u);
    EXPECT_FALSE(store->current("r").stale);
    EXPECT_EQ(read_whole(*store, &version).lo, 5);
    EXPECT_EQ(fresh->calls.load(), 1);

    // Unchanged: the version and the stale mark are left alone.
    ASSERT_TRUE(store->reconfigure(make_config("", "select k, v from src where v > 0"), {{"scripted", fresh}}));
    EXPECT_EQ(store->current("r").version, 3u);
    EXPECT_FALSE(store->current("r").stale);

    // A rollup naming a source that is not open: refused, nothing changed.
    EXPECT_FALSE(store->reconfigure(make_config("", "select 1"), {}));
    EXPECT_EQ(store->rollup_names(), std::vector<std::string>{"r"});

    // Removed: forgotten; its readers are told it is not built.
    auto none = make_config("");
    none.rollups.clear();
    ASSERT_TRUE(store->reconfigure(none, {}));
    EXPECT_TRUE(store->rollup_names().empty());
    EXPECT_EQ(store->current("r").version, 0u);
    frost::source::query q{"select 1", {}, model::deadline::after(5s), "test", 10};
    EXPECT_FALSE(store->run_versioned(q, "r"));
}

}  // namespace
}  // namespace frost::rollup
