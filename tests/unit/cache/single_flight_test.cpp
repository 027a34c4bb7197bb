#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <thread>
#include <vector>

#include "cache/single_flight.hpp"

namespace frost::cache {
namespace {

TEST(single_flight, one_leader_and_every_waiter_gets_its_outcome) {
    single_flight<int> flights;
    constexpr int callers = 16;
    std::atomic<int> leaders{0}, delivered{0}, sum{0};
    std::barrier start(callers);
    std::vector<std::thread> threads;
    for (int i = 0; i < callers; ++i) {
        threads.emplace_back([&] {
            start.arrive_and_wait();
            const bool leader = flights.join("k", [&](const int& v) {
                delivered.fetch_add(1);
                sum.fetch_add(v);
            });
            if (leader) leaders.fetch_add(1);
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(leaders.load(), 1);
    EXPECT_EQ(delivered.load(), 0);
    EXPECT_TRUE(flights.running("k"));
    flights.complete("k", 7);
    EXPECT_EQ(delivered.load(), callers);
    EXPECT_EQ(sum.load(), 7 * callers);
    EXPECT_EQ(flights.collapsed(), static_cast<std::uint64_t>(callers - 1));
    EXPECT_FALSE(flights.running("k"));
    // The next join starts a new flight.
    EXPECT_TRUE(flights.join("k", {}));
}

TEST(single_flight, keys_are_independent) {
    single_flight<int> flights;
    EXPECT_TRUE(flights.join("a", {}));
    EXPECT_TRUE(flights.join("b", {}));
    EXPECT_FALSE(flights.join("a", {}));
    int got = 0;
    EXPECT_FALSE(flights.join("b", [&](const int& v) { got = v; }));
    flights.complete("a", 1);
    EXPECT_EQ(got, 0);
    flights.complete("b", 2);
    EXPECT_EQ(got, 2);
}

}  // namespace
}  // namespace frost::cache
