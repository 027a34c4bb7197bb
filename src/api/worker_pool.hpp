#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

#include "model/deadline.hpp"

namespace frost::api {

/// A fixed set of threads that run blocking work (queries, upstream HTTP) off the I/O
/// threads, with a bounded queue: when it is full `try_post` says no at once, so the
/// caller can answer 503 instead of stalling. A job whose caller has gone (`stop` requested)
/// or whose deadline passed while it waited is not started: its `dropped` runs instead, so
/// abandoned work never delays the requests queued behind it. Thread-safe.
class worker_pool {
public:
    /// Why a queued job was not started.
    enum class drop_reason {
        abandoned,  ///< its `stop` was requested: nobody waits for the answer
        expired,    ///< its deadline passed in the queue
    };

    /// One unit of work and what ends it early.
    struct job {
        std::function<void()> run;
        /// Runs on a worker thread instead of `run` when the job is dropped (answer the caller
        /// there); may be empty.
        std::function<void(drop_reason)> dropped;
        model::deadline deadline{};  ///< queue wait counts against it
        std::stop_token stop{};      ///< default: never requested
    };

    worker_pool(unsigned threads, std::size_t queue_capacity);
    ~worker_pool();  ///< runs (or drops) what is queued, then joins
    worker_pool(const worker_pool&) = delete;
    worker_pool& operator=(const worker_pool&) = delete;

    /// Queues `j`; false when the queue is full or the pool is stopping (neither callback runs).
    [[nodiscard]] bool try_post(job j);
    /// Queues a job with no deadline and no stop token.
    [[nodiscard]] bool try_post(std::function<void()> run) { return try_post(job{std::move(run), {}, {}, {}}); }
    /// Jobs waiting (not yet running).
    [[nodiscard]] std::size_t queued() const;
    /// Jobs running now.
    [[nodiscard]] std::size_t busy() const;
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

    /// Jobs dropped before they started because their caller had gone.
    [[nodiscard]] std::uint64_t abandoned() const noexcept { return abandoned_.load(); }
    /// Jobs dropped before they started because their deadline passed in the queue.
    [[nodiscard]] std::uint64_t expired() const noexcept { return expired_.load(); }
    /// Jobs that started and whose caller went away before they finished (the source was
    /// asked to interrupt them).
    [[nodiscard]] std::uint64_t interrupted() const noexcept { return interrupted_.load(); }

private:
    void run();

    std::size_t capacity_;
    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<job> jobs_;
    std::size_t busy_ = 0;
    bool stopping_ = false;
    std::atomic<std::uint64_t> abandoned_{0};
    std::atomic<std::uint64_t> expired_{0};
    std::atomic<std::uint64_t> interrupted_{0};
    std::vector<std::thread> threads_;
};

}  // namespace frost::api
