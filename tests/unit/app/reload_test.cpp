// Config reload (src/app/reload.hpp) through the real listener: an added endpoint answers at
// once, a removed one is a 404, a changed cache policy applies, unchanged sources are reused
// and changed ones opened anew, a bad config (YAML syntax, an unknown placeholder, changed
// rollups) is refused while the old one keeps serving, and a request in flight when the config
// is swapped finishes on the config it started with.

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
