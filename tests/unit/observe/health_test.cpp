#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "observe/health.hpp"

namespace {

using namespace std::chrono_literals;

// A source whose health the test controls.
class switchable_source final : public frost::source::source {
public:
    std::atomic<bool> up{true};
    std::atomic<int> probes{0};
    std::string_view name() const override { return "fake"; }
    std::string_view dialect() const override { return "duckdb"; }
    frost::model::result<frost::model::table> run(const frost::source::query&) override {
        ++probes;
        if (!up)
            return frost::model::error{frost::model::error_code::source_error, "database has been invalidated", {}, {}};
        return frost::model::table{};
    }
};

TEST(health, ready_follows_probes_real_queries_and_checks) {
    auto src = std::make_shared<switchable_source>();
    frost::api::source_map sources{{"fake", src}};
    frost::observe::health h(sources, 50ms);
    EXPECT_TRUE(h.ready());
    EXPECT_EQ(h.readyz().status, 200);
    EXPECT_EQ(h.livez().status, 200);

    src->up = false;  // every query fails from now on
    std::this_thread::sleep_for(200ms);
    EXPECT_FALSE(h.ready());
    auto r = h.readyz();
    EXPECT_EQ(r.status, 503);
    EXPECT_NE(r.body.find("invalidated"), std::string::npos);
    EXPECT_EQ(h.livez().status, 200) << "alive but not ready";

    src->up = true;
    std::this_thread::sleep_for(200ms);
    EXPECT_TRUE(h.ready());

    for (int i = 0; i < frost::observe::health::failures_to_unready; ++i) h.record_query("fake", false);
    EXPECT_FALSE(h.ready()) << "probes pass but real queries all fail";
    h.record_query("fake", true);
    EXPECT_TRUE(h.ready());

    bool rollups_ok = false;
    h.add_check("rollups", [&rollups_ok]() -> std::optional<std::string> {
        if (rollups_ok) return std::nullopt;
        return "trips_by_day never built";
    });
    EXPECT_FALSE(h.ready());
    EXPECT_NE(h.readyz().body.find("trips_by_day never built"), std::string::npos);
    rollups_ok = true;
    EXPECT_TRUE(h.ready());
}

// A warehouse-like source: probing it would bill for an awake warehouse.
class remote_source final : public frost::source::source {
public:
    std::atomic<int> runs{0};
    std::string_view name() const override { return "wh"; }
    std::string_view dialect() const override { return "snowflake"; }
    frost::model::result<frost::model::table> run(const frost::source::query&) override {
        ++runs;
        return frost::model::table{};
    }
};

TEST(health, remote_sources_are_judged_by_real_queries_only) {
    auto wh = std::make_shared<remote_source>();
    frost::api::source_map sources{{"wh", wh}};
    frost::observe::health h(sources, 20ms);
    std::this_thread::sleep_for(150ms);
    EXPECT_EQ(wh->runs, 0) << "never probed";
    EXPECT_TRUE(h.ready());
    for (int i = 0; i < frost::observe::health::failures_to_unready; ++i) h.record_query("wh", false);
    EXPECT_FALSE(h.ready());
    h.record_query("wh", true);
    EXPECT_TRUE(h.ready());
}

}  // namespace
