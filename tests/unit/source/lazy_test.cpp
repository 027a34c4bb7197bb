// The lazily opened source over a counting opener: nothing opens before the first call, racing
// first calls open once, a failed open fails the call with the opener's error and is retried,
// and a circuit breaker around it is seen through.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "source/breaker.hpp"
#include "source/lazy.hpp"

namespace {

namespace model = frost::model;
namespace source = frost::source;

// Answers every call with one row holding how many calls it has answered.
class counting_source final : public frost::source::source {
public:
    std::string_view name() const override { return "local"; }
    std::string_view dialect() const override { return "duckdb"; }
    model::result<model::table> run(const frost::source::query&) override {
        model::table t;
        t.columns = {{"n", model::column_type::integer}};
        t.rows.push_back({std::int64_t{++calls}});
        return t;
    }
    std::atomic<int> calls{0};
};

struct opener_state {
    std::atomic<int> opens{0};
    std::atomic<bool> fail{false};
    std::shared_ptr<counting_source> inner = std::make_shared<counting_source>();
};

source::lazy_source::opener opener_of(const std::shared_ptr<opener_state>& st) {
    return [st]() -> model::result<std::shared_ptr<source::source>> {
        ++st->opens;
        // Long enough for racing first calls to pile up behind the one that opens.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (st->fail)
            return model::error{model::error_code::source_unavailable, "source local: cannot open it", {}, {}};
        return std::shared_ptr<source::source>(st->inner);
    };
}

source::query any_query() {
    return {"select 1", {}, model::deadline::after(std::chrono::seconds(5)), "test", 10};
}

TEST(LazySource, NothingOpensBeforeTheFirstCallAndRacingFirstCallsOpenOnce) {
    auto st = std::make_shared<opener_state>();
    source::lazy_source lazy("local", "duckdb", opener_of(st));
    EXPECT_EQ(lazy.name(), "local");
    EXPECT_EQ(lazy.dialect(), "duckdb");
    EXPECT_EQ(st->opens, 0);
    EXPECT_EQ(lazy.state(), source::open_state::not_opened);
    EXPECT_EQ(source::state_name(lazy.state()), "not opened yet");
    EXPECT_EQ(lazy.opened(), nullptr);
    constexpr int threads = 8;
    std::atomic<int> answered{0};
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i)
        pool.emplace_back([&] {
            auto t = lazy.run(any_query());
            if (t && t.value().rows.size() == 1) ++answered;
        });
    for (auto& t : pool) t.join();
    EXPECT_EQ(st->opens, 1);
    EXPECT_EQ(answered, threads);
    EXPECT_EQ(st->inner->calls, threads);
    EXPECT_EQ(lazy.state(), source::open_state::open);
    EXPECT_EQ(lazy.opened(), st->inner);
}

TEST(LazySource, AFailedOpenFailsTheCallWithItsErrorAndTheNextCallTriesAgain) {
    auto st = std::make_shared<opener_state>();
    st->fail = true;
    source::lazy_source lazy("local", "duckdb", opener_of(st));
    for (int i = 1; i <= 2; ++i) {
        auto t = lazy.run(any_query());
        ASSERT_FALSE(t);
        EXPECT_EQ(t.error().code, model::error_code::source_unavailable);
        EXPECT_EQ(t.error().message, "source local: cannot open it");
        EXPECT_EQ(st->opens, i);
        EXPECT_EQ(lazy.state(), source::open_state::failed);
        EXPECT_EQ(lazy.last_error(), "source local: cannot open it");
    }
    st->fail = false;
    auto t = lazy.run(any_query());
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_EQ(lazy.state(), source::open_state::open);
    EXPECT_TRUE(lazy.last_error().empty());
    EXPECT_EQ(st->opens, 3);
}

TEST(LazySource, IsFoundBehindACircuitBreakerAndNotInOtherSources) {
    auto st = std::make_shared<opener_state>();
    auto lazy = std::make_shared<source::lazy_source>("local", "duckdb", opener_of(st));
    frost::config::breaker_config cfg;
    cfg.enabled = true;
    auto guarded = source::with_breaker(lazy, cfg);
    EXPECT_EQ(source::as_lazy(guarded.get()), lazy.get());
    EXPECT_EQ(source::as_lazy(lazy.get()), lazy.get());
    EXPECT_EQ(source::as_lazy(st->inner.get()), nullptr);
    EXPECT_EQ(st->opens, 0);
}

}  // namespace
