// The warehouse circuit breaker through the real server, with the Snowflake emulator's fault
// modes: with the warehouse down, live calls fail fast (p99 < 50 ms over 50 calls, 503 JSON with
// Retry-After) while the rollup routes keep answering from their last version, marked stale;
// once the warehouse is back, live calls answer again within one cool-down.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <thread>

#include "fixture.hpp"
#include "rollup/serving_store.hpp"
#include "source/breaker.hpp"

namespace {

namespace sft = frost::testing::snowflake;
using frost::testing::test_server;
using ms = std::chrono::milliseconds;

TEST(WarehouseBreaker, FailsFastWhileDownServesRollupsStaleAndRecoversWithinACoolDown) {
    auto emulator = sft::start_emulator(1000);
    auto cfg = frost::testing::default_config(frost::testing::sample_database(sft::sample_trips));
    frost::config::source_config warehouse;
    warehouse.name = "warehouse";
    warehouse.type = "snowflake";
    warehouse.snowflake = sft::resolved_settings(*emulator, {{"max_attempts", "2"}});
    warehouse.breaker.enabled = true;
    warehouse.breaker.failures = 3;
    warehouse.breaker.cool_down = ms(1000);
    cfg.sources.push_back(warehouse);
    cfg.serving.path.clear();
    cfg.server.request_timeout = ms(5000);
    for (auto& r : cfg.rollups) r.source = "warehouse";
    for (auto& e : cfg.endpoints)
        if (e.path.starts_with("/sqlapi/")) e.source = "warehouse";
    test_server srv(std::move(cfg));
    const auto* b = frost::source::as_breaker(srv.service().sources().at("warehouse").get());
    ASSERT_NE(b, nullptr);

    // A live route, uncached, with a different range each call.
    int n = 0;
    auto live = [&] {
        ++n;
        const int day = 1 + n % 28;
        return srv.get("/sqlapi/trips/monthly?start_range=2015-02-" + std::string(day < 10 ? "0" : "") +
                       std::to_string(day) + "&end_range=2015-03-31");
    };
    ASSERT_EQ(live().status, 200);
    ASSERT_EQ(srv.get("/trips/monthly").status, 200);

    // The warehouse goes down: every request is reset.
    emulator->add_fault({sft::emu::fault_target::any, sft::emu::fault_action::reset, -1, 0, {}, {}});
    for (int i = 0; i < 3; ++i) EXPECT_EQ(live().status, 503);
    ASSERT_EQ(b->state(), frost::source::breaker_state::open);
    const auto submits_when_open = emulator->log().size();

    std::vector<double> took;
    for (int i = 0; i < 50; ++i) {
        const auto start = std::chrono::steady_clock::now();
        auto a = live();
        took.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
        ASSERT_EQ(a.status, 503) << a.body;
        EXPECT_EQ(boost::json::parse(a.body).at("code").as_string(), "FR503");
        EXPECT_EQ(a.header("content-type"), "application/json");
        EXPECT_FALSE(a.header("retry-after").empty());
        EXPECT_LE(std::stoi(a.header("retry-after")), 1);
    }
    std::sort(took.begin(), took.end());
    const double p99 = took[static_cast<std::size_t>(0.99 * static_cast<double>(took.size() - 1))];
    EXPECT_LT(p99, 50.0) << "p99 of a live call with the breaker open, ms";
    std::printf("breaker open: live call p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", took[took.size() / 2], p99,
                took.back());
    EXPECT_LE(emulator->log().size(), submits_when_open + 2) << "at most the half-open probe reached the warehouse";

    // A rollup refresh fails through the open breaker: the rollup keeps answering its last
    // version, marked stale.
    auto* store = srv.service().serving_store();
    ASSERT_NE(store, nullptr);
    for (const auto& name : store->rollup_names()) EXPECT_FALSE(store->refresh(name));
    auto cached = srv.get("/trips/day_of_week?start_range=2015-01-01&end_range=2015-12-31");
    EXPECT_EQ(cached.status, 200) << cached.body;
    EXPECT_EQ(cached.header("x-data-stale"), "true");

    // The warehouse comes back: within one cool-down (plus the probe's own time) live calls answer.
    emulator->clear_faults();
    const auto back = std::chrono::steady_clock::now();
    int status = 0;
    while (std::chrono::steady_clock::now() - back < ms(3000)) {
        status = live().status;
        if (status == 200) break;
        std::this_thread::sleep_for(ms(20));
    }
    const auto recovered = std::chrono::steady_clock::now() - back;
    EXPECT_EQ(status, 200);
    EXPECT_LT(recovered, ms(1000 + 500)) << "recovery took longer than one cool-down";
    EXPECT_EQ(b->state(), frost::source::breaker_state::closed);
    EXPECT_GE(b->transitions(frost::source::breaker_state::half_open), 1u);
}

}  // namespace
