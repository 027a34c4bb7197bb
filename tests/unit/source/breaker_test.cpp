// The circuit breaker over a scripted source and a clock the test moves by hand: every
// transition (closed -> open by failures in a row and by error ratio, open -> half-open after
// the cool-down, one probe, probe -> closed or open) and what does not count as a failure.

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <stop_token>
#include <thread>

#include "source/breaker.hpp"

namespace {

namespace model = frost::model;
namespace source = frost::source;
using source::breaker;
using source::breaker_state;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Answers each call with the next scripted error code, or rows when the script says `ok`;
// an empty script answers rows.
class scripted_source final : public frost::source::source {
public:
    std::string_view name() const override { return "warehouse"; }
    std::string_view dialect() const override { return "snowflake"; }
    model::result<model::table> run(const frost::source::query&) override {
        ++calls;
        std::optional<model::error_code> next;
        {
            std::lock_guard lock(mutex);
            if (!script.empty()) {
                next = script.front();
                script.pop_front();
            } else {
                next = fallback;
            }
        }
        if (!next) return model::table{};
        return model::error{*next, "scripted failure", {}, {}};
    }
    void push(std::optional<model::error_code> c, int n = 1) {
        std::lock_guard lock(mutex);
        for (int i = 0; i < n; ++i) script.push_back(c);
    }
    std::mutex mutex;
    std::deque<std::optional<model::error_code>> script;
    std::optional<model::error_code> fallback;  ///< after the script: nullopt answers rows
    std::atomic<int> calls{0};
};

constexpr auto down = model::error_code::source_unavailable;

class Breaker : public ::testing::Test {
protected:
    void SetUp() override {
        cfg.enabled = true;
        cfg.failures = 3;
        cfg.error_ratio = 0.5;
        cfg.window = seconds(10);
        cfg.min_calls = 10;
        cfg.cool_down = seconds(5);
        make();
    }
    void make() {
        inner = std::make_shared<scripted_source>();
        b = std::make_unique<breaker>(inner, cfg, [this] { return now; });
    }
    model::result<model::table> call(std::stop_token stop = {}) {
        return b->run({"select 1", {}, model::deadline::after(seconds(1)), "/t", 10, stop});
    }

    frost::config::breaker_config cfg;
    model::clock::time_point now = model::clock::time_point(seconds(1'000'000));
    std::shared_ptr<scripted_source> inner;
    std::unique_ptr<breaker> b;
};

TEST_F(Breaker, OpensAfterFailuresInARowAndThenFailsAtOnceWithRetryAfter) {
    inner->push(down, 2);
    EXPECT_FALSE(call());
    EXPECT_FALSE(call());
    EXPECT_EQ(b->state(), breaker_state::closed);
    inner->push(model::error_code::timeout);
    EXPECT_FALSE(call());
    EXPECT_EQ(b->state(), breaker_state::open);
    EXPECT_EQ(b->transitions(breaker_state::open), 1u);
    EXPECT_EQ(inner->calls, 3);

    now += seconds(2);
    auto r = call();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, model::error_code::source_unavailable);
    EXPECT_EQ(r.error().retry_after, seconds(3));  // the rest of the 5 s cool-down
    EXPECT_EQ(inner->calls, 3) << "an open breaker must not call the source";
    EXPECT_EQ(b->rejected(), 1u);
}

TEST_F(Breaker, ASuccessResetsTheRun) {
    inner->push(down, 2);
    inner->push(std::nullopt);
    inner->push(down, 2);
    for (int i = 0; i < 5; ++i) (void)call();
    EXPECT_EQ(b->state(), breaker_state::closed);
}

TEST_F(Breaker, SqlErrorsAndTooManyRowsDoNotCount) {
    inner->fallback = model::error_code::source_error;
    for (int i = 0; i < 20; ++i) EXPECT_FALSE(call());
    inner->fallback = model::error_code::result_too_large;
    for (int i = 0; i < 20; ++i) EXPECT_FALSE(call());
    EXPECT_EQ(b->state(), breaker_state::closed);
    EXPECT_EQ(inner->calls, 40);
}

TEST_F(Breaker, ACallWhoseClientLeftDoesNotCount) {
    std::stop_source gone;
    gone.request_stop();
    inner->fallback = model::error_code::timeout;
    for (int i = 0; i < 10; ++i) EXPECT_FALSE(call(gone.get_token()));
    EXPECT_EQ(b->state(), breaker_state::closed);
}

TEST_F(Breaker, OpensOnTheErrorRatioOverTheWindow) {
    cfg.failures = 100;  // only the ratio can open it
    make();
    // 9 calls, alternating: 5 failures of 9, but fewer than min_calls (10).
    for (int i = 0; i < 9; ++i) {
        inner->push(i % 2 == 0 ? std::optional(down) : std::nullopt);
        (void)call();
        now += milliseconds(100);
    }
    EXPECT_EQ(b->state(), breaker_state::closed);
    inner->push(std::nullopt);
    (void)call();  // 10 calls, 5 failures, but the last was a success: nothing decides on a success
    EXPECT_EQ(b->state(), breaker_state::closed);
    inner->push(down);
    (void)call();  // 11 calls, 6 failures >= 0.5
    EXPECT_EQ(b->state(), breaker_state::open);
}

TEST_F(Breaker, OldCallsLeaveTheWindow) {
    cfg.failures = 100;
    make();
    inner->push(down, 9);
    for (int i = 0; i < 9; ++i) (void)call();
    now += seconds(11);  // the window is 10 s: those nine are forgotten
    inner->push(std::nullopt, 9);
    for (int i = 0; i < 9; ++i) (void)call();
    inner->push(down);
    (void)call();  // 10 calls in the window, 1 failure
    EXPECT_EQ(b->state(), breaker_state::closed);
}

TEST_F(Breaker, HalfOpenLetsOneProbeThroughAndItsAnswerCloses) {
    inner->push(down, 3);
    for (int i = 0; i < 3; ++i) (void)call();
    ASSERT_EQ(b->state(), breaker_state::open);
    now += seconds(5);
    inner->push(std::nullopt);
    EXPECT_TRUE(call());  // the probe
    EXPECT_EQ(b->state(), breaker_state::closed);
    EXPECT_EQ(b->transitions(breaker_state::half_open), 1u);
    EXPECT_EQ(b->transitions(breaker_state::closed), 1u);
    EXPECT_TRUE(call());
    EXPECT_EQ(inner->calls, 5);
}

TEST_F(Breaker, AFailedProbeReopensForAnotherCoolDown) {
    inner->push(down, 4);
    for (int i = 0; i < 3; ++i) (void)call();
    now += seconds(6);
    EXPECT_FALSE(call());  // the probe fails
    EXPECT_EQ(b->state(), breaker_state::open);
    EXPECT_EQ(b->transitions(breaker_state::open), 2u);
    now += seconds(4);
    EXPECT_FALSE(call());
    EXPECT_EQ(inner->calls, 4) << "still cooling down: no call reaches the source";
    now += seconds(1);
    EXPECT_TRUE(call());  // the next probe: the source answers again (script empty)
    EXPECT_EQ(b->state(), breaker_state::closed);
}

TEST_F(Breaker, ASqlErrorOnTheProbeClosesToo) {
    inner->push(down, 3);
    for (int i = 0; i < 3; ++i) (void)call();
    now += seconds(5);
    inner->push(model::error_code::source_error);
    EXPECT_FALSE(call());
    EXPECT_EQ(b->state(), breaker_state::closed) << "the warehouse answered; the SQL was at fault";
}

// While the probe is out, every other call fails at once.
class blocking_source final : public frost::source::source {
public:
    std::string_view name() const override { return "warehouse"; }
    std::string_view dialect() const override { return "snowflake"; }
    model::result<model::table> run(const frost::source::query&) override {
        ++calls;
        std::unique_lock lock(mutex);
        entered = true;
        cv.notify_all();
        cv.wait(lock, [this] { return release; });
        if (fail) return model::error{down, "down", {}, {}};
        return model::table{};
    }
    std::mutex mutex;
    std::condition_variable cv;
    bool entered = false, release = false, fail = true;
    std::atomic<int> calls{0};
};

TEST_F(Breaker, OnlyOneProbeAtATime) {
    auto slow = std::make_shared<blocking_source>();
    breaker br(slow, cfg, [this] { return now; });
    auto q = [&] { return br.run({"select 1", {}, model::deadline::after(seconds(1)), "/t", 10}); };
    std::vector<std::thread> first;
    for (int i = 0; i < 3; ++i) first.emplace_back([&] { (void)q(); });
    {
        std::unique_lock lock(slow->mutex);
        slow->cv.wait(lock, [&] { return slow->calls == 3; });
        slow->release = true;
        slow->cv.notify_all();
    }
    for (auto& t : first) t.join();
    ASSERT_EQ(br.state(), breaker_state::open);

    now += seconds(5);
    {
        std::lock_guard lock(slow->mutex);
        slow->release = false;
        slow->entered = false;
        slow->fail = false;
    }
    std::thread probe([&] { EXPECT_TRUE(q()); });
    {
        std::unique_lock lock(slow->mutex);
        slow->cv.wait(lock, [&] { return slow->entered; });
    }
    EXPECT_EQ(br.state(), breaker_state::half_open);
    for (int i = 0; i < 5; ++i) {
        auto r = q();
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, model::error_code::source_unavailable);
    }
    EXPECT_EQ(slow->calls, 4);
    {
        std::lock_guard lock(slow->mutex);
        slow->release = true;
    }
    slow->cv.notify_all();
    probe.join();
    EXPECT_EQ(br.state(), breaker_state::closed);
}

TEST(BreakerWrap, OnlyWhenEnabled) {
    auto inner = std::make_shared<scripted_source>();
    frost::config::breaker_config off;
    EXPECT_EQ(source::with_breaker(inner, off).get(), inner.get());
    EXPECT_EQ(source::as_breaker(inner.get()), nullptr);
    frost::config::breaker_config on;
    on.enabled = true;
    auto wrapped = source::with_breaker(inner, on);
    ASSERT_NE(source::as_breaker(wrapped.get()), nullptr);
    EXPECT_EQ(wrapped->name(), "warehouse");
    EXPECT_EQ(wrapped->dialect(), "snowflake");
}

}  // namespace
