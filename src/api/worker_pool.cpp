#include "api/worker_pool.hpp"

#include <algorithm>

namespace frost::api {

worker_pool::worker_pool(unsigned threads, std::size_t queue_capacity) : capacity_(queue_capacity) {
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    threads_.reserve(threads);
    for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

worker_pool::~worker_pool() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    ready_.notify_all();
    for (auto& t : threads_) t.join();
}

bool worker_pool::try_post(job j) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || jobs_.size() >= capacity_) return false;
        jobs_.push_back(std::move(j));
    }
    ready_.notify_one();
    return true;
}

std::size_t worker_pool::queued() const {
    std::lock_guard lock(mutex_);
    return jobs_.size();
}

std::size_t worker_pool::busy() const {
    std::lock_guard lock(mutex_);
    return busy_;
}

void worker_pool::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // stopping and drained
        auto j = std::move(jobs_.front());
        jobs_.pop_front();
        ++busy_;
        lock.unlock();
        // Checked when the job would start, not when it was queued: a burst of clients that
        // left costs each a check here instead of a query.
        if (j.stop.stop_requested()) {
            ++abandoned_;
            if (j.dropped) j.dropped(drop_reason::abandoned);
        } else if (j.deadline.expired()) {
            ++expired_;
            if (j.dropped) j.dropped(drop_reason::expired);
        } else {
            j.run();
            if (j.stop.stop_requested()) ++interrupted_;
        }
        j = job{};  // captures (the request, its callback) are released before the next wait
        lock.lock();
        --busy_;
    }
}

}  // namespace frost::api
