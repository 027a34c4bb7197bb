// Config reload (src/app/reload.hpp) through the real listener: an added endpoint answers at
// once, a removed one is a 404, a changed cache policy applies, unchanged sources are reused
// and changed ones opened anew, a bad config (YAML syntax, an unknown placeholder, rollups
// added where there were none, a changed serving path) is refused while the old one keeps
// serving, and a request in flight when the config is swapped finishes on the config it
// started with. A changed rollup serves its old version, marked stale, until its background
// rebuild succeeds, on the same serving store.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <thread>

#include "app/reload.hpp"
#include "support/test_server.hpp"

namespace {

namespace fs = std::filesystem;
using frost::testing::http_get;

const char* head = R"(server:
  port: 0
  io_threads: 2
  workers: 2
  access_log: false
sources:
  mem:
    type: duckdb
    path: ":memory:"
    read_only: false
  other:
    type: duckdb
    path: ":memory:"
    read_only: false
endpoints:
  - path: /live
    source: mem
    sql: select 42 as answer
  - path: /slow
    source: mem
    sql: select sum(i) as total from range(60000000) t(i)
)";

const char* cached = R"(  - path: /cached
    source: mem
    sql: select 'cached' as what
    cache: {ttl: 60s}
)";

const char* added = R"(  - path: /added
    source: other
    sql: select 'new' as what
)";

class Reload : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("frost-reload-" + std::to_string(std::random_device{}()));
        fs::create_directories(dir_);
        path_ = (dir_ / "frost.yaml").string();
        write(std::string(head) + cached);
        auto started = frost::app::reloadable_app::start(path_, {});
        ASSERT_TRUE(started) << started.error().message;
        app_ = std::move(started).value();
        auto server = app_->listen();
        ASSERT_TRUE(server) << server.error().message;
        server.value()->start();
        port_ = server.value()->port();
    }
    void TearDown() override {
        if (app_) app_->stop(std::chrono::milliseconds(2000));
        app_.reset();
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }
    void write(const std::string& text) {
        std::ofstream out(path_, std::ios::trunc);
        out << text;
    }
    frost::testing::http_answer get(const std::string& target) const { return http_get(port_, target); }

    fs::path dir_;
    std::string path_;
    std::unique_ptr<frost::app::reloadable_app> app_;
    std::uint16_t port_ = 0;
};

TEST_F(Reload, AddsAnEndpointAtOnceAndRemovesAnother) {
    EXPECT_EQ(get("/live").status, 200);
    EXPECT_EQ(get("/cached").status, 200);
    EXPECT_EQ(get("/added").status, 404);

    write(std::string(head) + added);
    const auto signal = std::chrono::steady_clock::now();
    auto outcome = app_->reload();
    ASSERT_TRUE(outcome.applied) << outcome.message;
    auto a = get("/added");
    const auto took = std::chrono::steady_clock::now() - signal;
    EXPECT_EQ(a.status, 200) << a.body;
    EXPECT_NE(a.body.find("\"new\""), std::string::npos) << a.body;
    EXPECT_LT(took, std::chrono::seconds(1));
    EXPECT_EQ(get("/cached").status, 404);
    EXPECT_EQ(get("/live").status, 200);
    EXPECT_EQ(app_->reloads(true), 1u);
}

TEST_F(Reload, ReusesUnchangedSourcesAndReopensChangedOnes) {
    auto before = app_->current();
    const auto* mem = before->sources.at("mem").get();
    const auto* other = before->sources.at("other").get();
    before.reset();
    std::string text = std::string(head) + cached;
    text.replace(
        text.find("  other:\n    type: duckdb\n    path: \":memory:\"\n    read_only: false\n"),
        std::string("  other:\n    type: duckdb\n    path: \":memory:\"\n    read_only: false\n").size(),
        "  other:\n    type: duckdb\n    path: \":memory:\"\n    read_only: false\n    options: {threads: 1}\n");
    write(text);
    ASSERT_TRUE(app_->reload().applied);
    auto after = app_->current();
    EXPECT_EQ(after->sources.at("mem").get(), mem);
    EXPECT_NE(after->sources.at("other").get(), other);
}

TEST_F(Reload, ChangesACachePolicy) {
    auto first = get("/cached");
    auto second = get("/cached");
    EXPECT_EQ(first.header("x-cache"), "miss");
    EXPECT_EQ(second.header("x-cache"), "hit");
    std::string text = std::string(head) + cached;
    text.replace(text.find("cache: {ttl: 60s}"), std::string("cache: {ttl: 60s}").size(), "cache: {ttl: 0s}");
    write(text);
    ASSERT_TRUE(app_->reload().applied);
    auto uncached = get("/cached");
    EXPECT_EQ(uncached.status, 200);
    EXPECT_EQ(uncached.header("x-cache"), "") << "ttl 0: not cached any more";
    EXPECT_EQ(get("/cached").header("x-cache"), "");
}

TEST_F(Reload, RefusesABadConfigAndKeepsServingTheOldOne) {
    // A YAML syntax error: refused, naming the file and line.
    write(std::string(head) + cached + "  - path: /broken\n    source: [mem\n");
    auto outcome = app_->reload();
    EXPECT_FALSE(outcome.applied);
    EXPECT_NE(outcome.message.find(path_ + ":"), std::string::npos) << outcome.message;
    EXPECT_EQ(get("/cached").status, 200);
    EXPECT_EQ(get("/live").status, 200);

    // An unknown placeholder: refused, naming the line of the SQL.
    write(std::string(head) + cached + "  - path: /bad\n    source: mem\n    sql: select $nope as x\n");
    outcome = app_->reload();
    EXPECT_FALSE(outcome.applied);
    EXPECT_NE(outcome.message.find(path_ + ":"), std::string::npos) << outcome.message;
    EXPECT_NE(outcome.message.find("nope"), std::string::npos) << outcome.message;
    EXPECT_EQ(get("/bad").status, 404);
    EXPECT_EQ(get("/cached").status, 200);

    // An endpoint naming a source that does not exist.
    write(std::string(head) + "  - path: /x\n    source: nowhere\n    sql: select 1\n");
    EXPECT_FALSE(app_->reload().applied);
    EXPECT_EQ(get("/cached").status, 200);
    EXPECT_EQ(app_->reloads(false), 3u);
    EXPECT_EQ(app_->reloads(true), 0u);
}

TEST_F(Reload, RefusesChangedRollups) {
    write(std::string(head) + cached +
          "rollups:\n  r1:\n    source: mem\n    sql: select 1 as one\nserving:\n  path: \"\"\n");
    auto outcome = app_->reload();
    EXPECT_FALSE(outcome.applied);
    EXPECT_NE(outcome.message.find("restart"), std::string::npos) << outcome.message;
    EXPECT_EQ(get("/cached").status, 200);
}

TEST_F(Reload, AnInFlightRequestFinishesOnTheConfigItStartedWith) {
    auto slow = std::async(std::launch::async, [this] { return get("/slow"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    write(std::string(head).substr(0, std::string(head).find("  - path: /slow")) + added);  // /slow removed
    ASSERT_TRUE(app_->reload().applied);
    EXPECT_EQ(get("/slow").status, 404);
    auto answer = slow.get();
    EXPECT_EQ(answer.status, 200) << answer.body;
    // The old generation closes once its last request is answered.
    for (int i = 0; i < 200 && app_->generations_alive() > 1; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(app_->generations_alive(), 1u);
}

TEST_F(Reload, MetricsCountReloadsByOutcome) {
    write(std::string(head) + added);
    ASSERT_TRUE(app_->reload().applied);
    write("server: [\n");
    ASSERT_FALSE(app_->reload().applied);
    auto m = get("/metrics");
    ASSERT_EQ(m.status, 200);
    EXPECT_NE(m.body.find("frost_config_reloads_total{outcome=\"ok\"} 1\n"), std::string::npos) << m.body;
    EXPECT_NE(m.body.find("frost_config_reloads_total{outcome=\"refused\"} 1\n"), std::string::npos);
    EXPECT_NE(m.body.find("frost_config_generation 2\n"), std::string::npos);
    // Request counts survive the reload: /live was not asked, /metrics is counted by route.
    EXPECT_NE(m.body.find("frost_worker_busy"), std::string::npos) << "the generation's own gauges are rendered too";
}

// A config with rollup `r` (and whatever else the test adds), served from a file in the test's
// directory.
std::string rollup_config(const std::string& r_sql, const std::string& serving_path,
                          const std::string& more_rollups = {}, const std::string& more_endpoints = {}) {
    return R"(server:
  port: 0
  io_threads: 2
  workers: 2
  access_log: false
sources:
  mem:
    type: duckdb
    path: ":memory:"
    read_only: false
rollups:
  r:
    source: mem
    refresh: 60m
    sql: ")" +
           r_sql + "\"\n" + more_rollups + "serving:\n  path: \"" + serving_path + R"("
endpoints:
  - path: /r
    rollup: r
    sql: select k, v from r order by k
)" + more_endpoints;
}

const char* old_rows = "select * from (values (1, 'old'), (2, 'old')) t(k, v)";

class ReloadRollups : public Reload {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("frost-reload-rollups-" + std::to_string(std::random_device{}()));
        fs::create_directories(dir_);
        path_ = (dir_ / "frost.yaml").string();
        serving_ = (dir_ / "serving.duckdb").string();
        write(rollup_config(old_rows, serving_));
        auto started = frost::app::reloadable_app::start(path_, {});
        ASSERT_TRUE(started) << started.error().message;
        app_ = std::move(started).value();
        auto server = app_->listen();
        ASSERT_TRUE(server) << server.error().message;
        server.value()->start();
        port_ = server.value()->port();
    }
    // Asks `target` until `done` holds for its answer (60 s at most); returns the last answer.
    template <class Done>
    frost::testing::http_answer get_until(const std::string& target, Done done) const {
        auto a = get(target);
        for (int i = 0; i < 6000 && !done(a); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            a = get(target);
        }
        return a;
    }
    static bool has(const frost::testing::http_answer& a, const std::string& text) {
        return a.body.find(text) != std::string::npos;
    }

    std::string serving_;
};

TEST_F(ReloadRollups, AChangedRollupServesItsOldVersionStaleUntilItsRebuildIsDone) {
    auto first = get("/r");
    ASSERT_EQ(first.status, 200) << first.body;
    EXPECT_TRUE(has(first, "\"old\"")) << first.body;
    EXPECT_EQ(first.header("x-data-stale"), "");
    EXPECT_EQ(first.header("x-data-version"), "r@1");
    const auto* store = app_->current()->rollups.get();
    ASSERT_NE(store, nullptr);

    // The new SQL scans 250 million rows first: its rebuild takes a while on any machine.
    write(
        rollup_config("select k, v from (values (1, 'new'), (2, 'new'), (3, 'new')) t(k, v), "
                      "(select sum(i) as s from range(250000000) r(i)) where s > 0",
                      serving_));
    auto outcome = app_->reload();
    ASSERT_TRUE(outcome.applied) << outcome.message;
    EXPECT_EQ(app_->current()->rollups.get(), store) << "the running store is kept, not a second one on the file";

    // The rebuild is still running: the old rows answer, marked stale.
    auto during = get("/r");
    EXPECT_EQ(during.status, 200) << during.body;
    EXPECT_TRUE(has(during, "\"old\"")) << during.body;
    EXPECT_FALSE(has(during, "\"new\"")) << during.body;
    EXPECT_EQ(during.header("x-data-stale"), "true");
    EXPECT_EQ(during.header("x-data-version"), "r@1");

    auto after = get_until("/r", [](const auto& a) { return a.status == 200 && a.header("x-data-stale").empty(); });
    EXPECT_EQ(after.status, 200) << after.body;
    EXPECT_EQ(after.header("x-data-stale"), "");
    EXPECT_EQ(after.header("x-data-version"), "r@2");
    EXPECT_TRUE(has(after, "\"new\"")) << after.body;
    EXPECT_FALSE(has(after, "\"old\"")) << after.body;
    EXPECT_TRUE(has(after, "3")) << after.body;
    EXPECT_EQ(app_->current()->rollups->current("r").version, 2u);
}

TEST_F(ReloadRollups, ARollupWhoseNewSqlFailsKeepsServingItsOldVersionStale) {
    ASSERT_EQ(get("/r").status, 200);
    auto store = app_->current()->rollups;
    const auto failed_before = store->failed_refreshes();
    write(rollup_config("select k, v from no_such_table", serving_));
    auto outcome = app_->reload();
    ASSERT_TRUE(outcome.applied) << outcome.message;
    for (int i = 0; i < 1000 && store->failed_refreshes() == failed_before; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_GT(store->failed_refreshes(), failed_before) << "the rebuild was never tried";
    auto a = get("/r");
    EXPECT_EQ(a.status, 200) << a.body;
    EXPECT_TRUE(has(a, "\"old\"")) << a.body;
    EXPECT_EQ(a.header("x-data-stale"), "true");
    EXPECT_EQ(a.header("x-data-version"), "r@1");
    const auto v = store->current("r");
    EXPECT_TRUE(v.stale);
    EXPECT_NE(v.last_error.find("no_such_table"), std::string::npos) << v.last_error;

    // Fixed by the next reload: rebuilt, and no longer stale.
    write(rollup_config("select * from (values (5, 'fixed')) t(k, v)", serving_));
    ASSERT_TRUE(app_->reload().applied);
    auto fixed = get_until("/r", [](const auto& r) { return r.header("x-data-stale").empty(); });
    EXPECT_EQ(fixed.status, 200) << fixed.body;
    EXPECT_TRUE(has(fixed, "\"fixed\"")) << fixed.body;
    EXPECT_EQ(fixed.header("x-data-stale"), "");
}

TEST_F(ReloadRollups, AnAddedRollupAnswersOnceBuiltAndTheOthersKeepTheirVersions) {
    ASSERT_EQ(get("/r").header("x-data-version"), "r@1");
    EXPECT_EQ(get("/r2").status, 404);
    write(rollup_config(old_rows, serving_, "  r2:\n    source: mem\n    sql: select 7 as seven\n",
                        "  - path: /r2\n    rollup: r2\n    sql: select seven from r2\n"));
    ASSERT_TRUE(app_->reload().applied);
    EXPECT_EQ(get("/readyz").status, 200) << "a rollup still building does not take the instance out of rotation";
    auto added = get_until("/r2", [](const auto& a) { return a.status == 200; });
    EXPECT_EQ(added.status, 200) << added.body;
    EXPECT_TRUE(has(added, "7")) << added.body;
    EXPECT_EQ(added.header("x-data-version"), "r2@1");
    auto unchanged = get("/r");
    EXPECT_EQ(unchanged.status, 200);
    EXPECT_EQ(unchanged.header("x-data-version"), "r@1") << "an unchanged rollup is not rebuilt";
    EXPECT_EQ(unchanged.header("x-data-stale"), "");
    EXPECT_TRUE(has(unchanged, "\"old\""));
    // Its figures are in /metrics (its refresh counts are recorded just after the swap).
    const std::string refreshed = "frost_rollup_last_refresh_ok{rollup=\"r2\"} 1\n";
    const auto metrics = get_until("/metrics", [&](const auto& a) { return has(a, refreshed); }).body;
    EXPECT_NE(metrics.find(refreshed), std::string::npos) << metrics;
    EXPECT_NE(metrics.find("frost_rollup_stale{rollup=\"r2\"} 0\n"), std::string::npos) << metrics;

    // Removed again: its endpoint goes, the other rollup still serves.
    write(rollup_config(old_rows, serving_));
    ASSERT_TRUE(app_->reload().applied);
    EXPECT_EQ(get("/r2").status, 404);
    EXPECT_EQ(get("/r").header("x-data-version"), "r@1");
    EXPECT_EQ(app_->current()->rollups->rollup_names(), std::vector<std::string>{"r"});
    EXPECT_EQ(get("/metrics").body.find("rollup=\"r2\""), std::string::npos);
}

TEST_F(ReloadRollups, AChangedServingPathIsRefused) {
    write(rollup_config(old_rows, (dir_ / "elsewhere.duckdb").string()));
    auto outcome = app_->reload();
    EXPECT_FALSE(outcome.applied);
    EXPECT_NE(outcome.message.find("serving"), std::string::npos) << outcome.message;
    EXPECT_NE(outcome.message.find("restart"), std::string::npos) << outcome.message;
    EXPECT_FALSE(fs::exists(dir_ / "elsewhere.duckdb"));
    auto a = get("/r");
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.header("x-data-stale"), "");
}

TEST(FileWatch, SeesAChangeOfTheBytes) {
    const auto path = (fs::temp_directory_path() / ("frost-watch-" + std::to_string(std::random_device{}()))).string();
    { std::ofstream(path) << "a: 1\n"; }
    frost::app::file_watch w(path);
    EXPECT_FALSE(w.changed());
    { std::ofstream(path) << "a: 2\n"; }
    EXPECT_TRUE(w.changed());
    EXPECT_FALSE(w.changed());
    fs::remove(path);
    EXPECT_FALSE(w.changed()) << "a missing file is not a change";
}

}  // namespace

namespace {

// The breaker's wiring through `frost serve`'s assembly: a DuckDB source with a breaker that
// opens at the first timeout; its state in /metrics and /readyz, and live calls refused at once
// with 503 and Retry-After while it is open.
TEST(BreakerWiring, StateInMetricsAndReadyzAndFastFailures) {
    const auto dir = fs::temp_directory_path() / ("frost-breaker-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir);
    const auto path = (dir / "frost.yaml").string();
    std::ofstream(path) << R"(server: {port: 0, io_threads: 1, workers: 2, access_log: false, request_timeout: 100ms}
sources:
  mem:
    type: duckdb
    path: ":memory:"
    read_only: false
    breaker: {failures: 1, cool_down: 30s}
endpoints:
  - path: /live
    source: mem
    sql: select 42 as answer
  - path: /slow
    source: mem
    sql: select sum(i) as total from range(100000000000) t(i)
)";
    auto started = frost::app::reloadable_app::start(path, {});
    ASSERT_TRUE(started) << started.error().message;
    auto app = std::move(started).value();
    auto server = app->listen();
    ASSERT_TRUE(server) << server.error().message;
    server.value()->start();
    const auto port = server.value()->port();

    EXPECT_EQ(http_get(port, "/live").status, 200);
    auto m = http_get(port, "/metrics").body;
    EXPECT_NE(m.find("frost_source_breaker_state{source=\"mem\"} 0\n"), std::string::npos) << m;
    EXPECT_NE(http_get(port, "/readyz").body.find("\"breaker:mem\":\"closed\""), std::string::npos);

    EXPECT_EQ(http_get(port, "/slow").status, 504);  // a timeout: the breaker opens
    auto refused = http_get(port, "/live");
    EXPECT_EQ(refused.status, 503) << refused.body;
    EXPECT_NE(refused.body.find("\"FR503\""), std::string::npos);
    const auto retry = refused.header("retry-after");
    ASSERT_FALSE(retry.empty());
    EXPECT_GE(std::stoi(retry), 29);
    EXPECT_LE(std::stoi(retry), 30);

    m = http_get(port, "/metrics").body;
    EXPECT_NE(m.find("frost_source_breaker_state{source=\"mem\"} 2\n"), std::string::npos) << m;
    EXPECT_NE(m.find("frost_source_breaker_transitions_total{source=\"mem\",to=\"open\"} 1\n"), std::string::npos);
    EXPECT_NE(m.find("frost_source_breaker_rejected_total{source=\"mem\"} 1\n"), std::string::npos);
    const auto ready = http_get(port, "/readyz");
    EXPECT_NE(ready.body.find("\"breaker:mem\":\"open\""), std::string::npos) << ready.body;

    // A reload that leaves the source unchanged keeps the breaker (and its state).
    std::ofstream(path, std::ios::app) << "  - path: /more\n    static: {a: 1}\n";
    ASSERT_TRUE(app->reload().applied);
    EXPECT_EQ(http_get(port, "/more").status, 200);
    EXPECT_EQ(http_get(port, "/live").status, 503);
    app->stop(std::chrono::milliseconds(1000));
    std::error_code ignored;
    fs::remove_all(dir, ignored);
}

}  // namespace
