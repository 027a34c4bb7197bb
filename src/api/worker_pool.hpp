#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace frost::api {

/// A fixed set of threads that run blocking work (queries, upstream HTTP) off the I/O
/// threads, with a bounded queue: when it is full `try_post` says no at once, so the
/// caller can answer 503 instead of stalling. Thread-safe.
class worker_pool {
public:
    worker_pool(unsigned threads, std::size_t queue_capacity);
    ~worker_pool();  ///< runs what is queued, then joins
    worker_pool(const worker_pool&) = delete;
    worker_pool& operator=(const worker_pool&) = delete;

    /// Queues `job`; false when the queue is full or the pool is stopping.
    [[nodiscard]] bool try_post(std::function<void()> job);
    /// Jobs waiting (not yet running).
    [[nodiscard]] std::size_t queued() const;
    /// Jobs running now.
    [[nodiscard]] std::size_t busy() const;
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

private:
    void run();

    std::size_t capacity_;
    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::function<void()>> jobs_;
    std::size_t busy_ = 0;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace frost::api
