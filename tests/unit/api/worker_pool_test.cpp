#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "api/worker_pool.hpp"

namespace frost::api {
namespace {

TEST(worker_pool, runs_everything_queued) {
    std::atomic<int> ran{0};
    {
        worker_pool pool(2, 1000);
        for (int i = 0; i < 500; ++i) ASSERT_TRUE(pool.try_post([&] { ++ran; }));
    }
    EXPECT_EQ(ran.load(), 500);
}

TEST(worker_pool, a_full_queue_says_no_at_once) {
    std::promise<void> release;
    auto gate = release.get_future().share();
    worker_pool pool(1, 2);
    ASSERT_TRUE(pool.try_post([gate] { gate.wait(); }));
    // Wait until the worker holds the first job, so the queue is empty.
    while (pool.busy() == 0) std::this_thread::yield();
    EXPECT_TRUE(pool.try_post([gate] { gate.wait(); }));
    EXPECT_TRUE(pool.try_post([gate] { gate.wait(); }));
    const auto before = std::chrono::steady_clock::now();
    EXPECT_FALSE(pool.try_post([] {}));
    EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::milliseconds(50));
    EXPECT_EQ(pool.queued(), 2u);
    release.set_value();
}

}  // namespace
}  // namespace frost::api
