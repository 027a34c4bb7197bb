#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace frost::cache {

/// Collapses concurrent work for one key into one run: the first caller to `join` a key
/// becomes its leader and must run the work and call `complete` once; callers that join
/// while it runs only wait. Every joined callback is called exactly once, by `complete`, on
/// the completing thread, outside the lock. Thread-safe.
template <typename Outcome>
class single_flight {
public:
    using waiter = std::function<void(const Outcome&)>;

    /// Adds `w` to the key's waiters; true when the caller is the leader. An empty `w` only
    /// claims leadership (a background refresh that nobody waits for).
    bool join(std::string_view key, waiter w) {
        std::lock_guard lock(mutex_);
        auto [it, leader] = flights_.try_emplace(std::string(key));
        if (w) it->second.push_back(std::move(w));
        if (!leader) ++collapsed_;
        return leader;
    }

    /// Whether work for `key` is running.
    [[nodiscard]] bool running(std::string_view key) const {
        std::lock_guard lock(mutex_);
        return flights_.find(std::string(key)) != flights_.end();
    }

    /// Ends the flight for `key` and hands `outcome` to every waiter. Only the leader calls it.
    void complete(std::string_view key, const Outcome& outcome) {
        std::vector<waiter> waiters;
        {
            std::lock_guard lock(mutex_);
            auto it = flights_.find(std::string(key));
            if (it == flights_.end()) return;
            waiters = std::move(it->second);
            flights_.erase(it);
        }
        for (auto& w : waiters) w(outcome);
    }

    /// Callers that waited on another caller's run instead of starting their own.
    [[nodiscard]] std::uint64_t collapsed() const {
        std::lock_guard lock(mutex_);
        return collapsed_;
    }

private:
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::vector<waiter>> flights_;
    std::uint64_t collapsed_ = 0;
};

}  // namespace frost::cache
