// Issue 15, defect 2: the worker pool drops jobs whose caller has gone or whose deadline passed
// while they waited, and counts them.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <stop_token>
#include <vector>

#include "api/worker_pool.hpp"

namespace frost::api {
namespace {

using namespace std::chrono_literals;

// Holds the pool's only worker until released, so jobs queue behind it.
struct held_worker {
    std::promise<void> release;
    std::shared_future<void> gate = release.get_future().share();
    explicit held_worker(worker_pool& pool) {
        EXPECT_TRUE(pool.try_post([g = gate] { g.wait(); }));
        while (pool.busy() == 0) std::this_thread::yield();
    }
    void let_go() { release.set_value(); }
};

TEST(worker_pool_drop, a_job_whose_caller_left_is_dropped_not_run) {
    worker_pool pool(1, 100);
    held_worker held(pool);
    std::stop_source caller;
    std::atomic<int> ran{0};
    std::promise<worker_pool::drop_reason> why;
    ASSERT_TRUE(
        pool.try_post({[&] { ++ran; }, [&](worker_pool::drop_reason r) { why.set_value(r); }, {}, caller.get_token()}));
    caller.request_stop();
    held.let_go();
    auto f = why.get_future();
    ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(f.get(), worker_pool::drop_reason::abandoned);
    EXPECT_EQ(ran.load(), 0);
    EXPECT_EQ(pool.abandoned(), 1u);
    EXPECT_EQ(pool.expired(), 0u);
}

TEST(worker_pool_drop, a_job_whose_deadline_passed_in_the_queue_is_dropped_not_run) {
    worker_pool pool(1, 100);
    held_worker held(pool);
    std::atomic<int> ran{0};
    std::promise<worker_pool::drop_reason> why;
    ASSERT_TRUE(pool.try_post(
        {[&] { ++ran; }, [&](worker_pool::drop_reason r) { why.set_value(r); }, model::deadline::after(20ms), {}}));
    std::this_thread::sleep_for(40ms);
    held.let_go();
    auto f = why.get_future();
    ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(f.get(), worker_pool::drop_reason::expired);
    EXPECT_EQ(ran.load(), 0);
    EXPECT_EQ(pool.expired(), 1u);
}

TEST(worker_pool_drop, live_jobs_run_and_a_stop_while_running_counts_as_interrupted) {
    worker_pool pool(1, 100);
    std::stop_source caller;
    std::promise<void> started, finish;
    auto finish_gate = finish.get_future().share();
    std::atomic<bool> dropped{false};
    ASSERT_TRUE(pool.try_post({[&, finish_gate] {
                                   started.set_value();
                                   finish_gate.wait();
                               },
                               [&](worker_pool::drop_reason) { dropped = true; }, model::deadline::after(10s),
                               caller.get_token()}));
    started.get_future().wait();
    caller.request_stop();
    finish.set_value();
    while (pool.busy() > 0 || pool.queued() > 0) std::this_thread::yield();
    std::this_thread::sleep_for(10ms);
    EXPECT_FALSE(dropped.load());
    EXPECT_EQ(pool.interrupted(), 1u);
    EXPECT_EQ(pool.abandoned(), 0u);
}

// The burst of the probe in miniature: 300 abandoned jobs of 20 ms each queued on 2 workers
// would take 3 s; dropped, they cost nothing and the next live job runs at once.
TEST(worker_pool_drop, a_burst_of_abandoned_jobs_does_not_delay_the_next_one) {
    worker_pool pool(2, 1000);
    std::atomic<int> ran{0};
    std::vector<std::stop_source> callers(300);
    std::atomic<int> dropped{0};
    for (auto& c : callers)
        ASSERT_TRUE(pool.try_post({[&] {
                                       std::this_thread::sleep_for(20ms);
                                       ++ran;
                                   },
                                   [&](worker_pool::drop_reason) { ++dropped; },
                                   {},
                                   c.get_token()}));
    for (auto& c : callers) c.request_stop();
    const auto posted = std::chrono::steady_clock::now();
    std::promise<void> live;
    ASSERT_TRUE(pool.try_post([&] { live.set_value(); }));
    ASSERT_EQ(live.get_future().wait_for(5s), std::future_status::ready);
    EXPECT_LT(std::chrono::steady_clock::now() - posted, 200ms);
    EXPECT_LE(ran.load(), 4);  // at most the ones already running when the callers left
    EXPECT_GE(dropped.load(), 296);
    EXPECT_EQ(pool.abandoned(), static_cast<std::uint64_t>(dropped.load()));
}

TEST(worker_pool_drop, jobs_without_deadline_or_stop_always_run) {
    std::atomic<int> ran{0};
    {
        worker_pool pool(2, 100);
        for (int i = 0; i < 50; ++i) ASSERT_TRUE(pool.try_post([&] { ++ran; }));
    }
    EXPECT_EQ(ran.load(), 50);
}

}  // namespace
}  // namespace frost::api
