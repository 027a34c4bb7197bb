#include "api/body_stream.hpp"

#include <algorithm>
#include <utility>

namespace frost::api {

bool body_stream::write(std::string bytes, model::deadline deadline) {
    std::function<void(piece)> ready;
    std::optional<piece> given;
    {
        std::unique_lock lock(mutex_);
        auto room = [this] { return cancelled_ || queued_bytes_ < max_buffered_; };
        if (deadline.at == model::clock::time_point::max()) {
            space_.wait(lock, room);
        } else if (!space_.wait_until(lock, deadline.at, room)) {
            return false;
        }
        if (cancelled_ || finished_ || failure_) return false;
        if (bytes.empty()) return true;
        queued_bytes_ += bytes.size();
        peak_ = std::max(peak_, queued_bytes_);
        queue_.push_back(std::move(bytes));
        if (waiting_) {
            given = take_locked();
            ready = std::exchange(waiting_, nullptr);
        }
    }
    data_.notify_one();
    if (ready && given) ready(std::move(*given));
    return true;
}

void body_stream::finish() {
    std::function<void(piece)> ready;
    std::optional<piece> given;
    {
        std::lock_guard lock(mutex_);
        if (finished_ || failure_) return;
        finished_ = true;
        if (waiting_) {
            given = take_locked();
            ready = std::exchange(waiting_, nullptr);
        }
    }
    data_.notify_one();
    if (ready && given) ready(std::move(*given));
}

void body_stream::fail(model::error e) {
    std::function<void(piece)> ready;
    std::optional<piece> given;
    {
        std::lock_guard lock(mutex_);
        if (finished_ || failure_) return;
        failure_ = std::move(e);
        if (waiting_) {
            given = take_locked();
            ready = std::exchange(waiting_, nullptr);
        }
    }
    data_.notify_one();
    if (ready && given) ready(std::move(*given));
}

std::optional<body_stream::piece> body_stream::take_locked() {
    if (!queue_.empty()) {
        piece p;
        p.state = piece::kind::bytes;
        if (queue_.size() == 1) {
            p.bytes = std::move(queue_.front());
        } else {
            p.bytes.reserve(queued_bytes_);
            for (auto& b : queue_) p.bytes += b;
        }
        queue_.clear();
        queued_bytes_ = 0;
        space_.notify_all();
        return p;
    }
    if (failure_ && !delivered_end_) {
        delivered_end_ = true;
        piece p;
        p.state = piece::kind::failed;
        p.error = *failure_;
        return p;
    }
    if (finished_ && !delivered_end_) {
        delivered_end_ = true;
        piece p;
        p.state = piece::kind::done;
        return p;
    }
    return std::nullopt;
}

void body_stream::pull(std::function<void(piece)> ready) {
    std::optional<piece> given;
    {
        std::lock_guard lock(mutex_);
        if (cancelled_) {
            piece p;
            p.state = piece::kind::failed;
            p.error = {model::error_code::timeout, "the stream was cancelled", {}, {}};
            given = std::move(p);
        } else {
            given = take_locked();
        }
        if (!given) {
            waiting_ = std::move(ready);
            return;
        }
    }
    ready(std::move(*given));
}

body_stream::piece body_stream::next() {
    std::unique_lock lock(mutex_);
    for (;;) {
        if (cancelled_) {
            piece p;
            p.state = piece::kind::failed;
            p.error = {model::error_code::internal, "the reader cancelled the stream", {}, {}};
            return p;
        }
        if (auto p = take_locked()) return std::move(*p);
        data_.wait(lock);
    }
}

void body_stream::cancel() {
    std::function<void(piece)> ready;
    {
        std::lock_guard lock(mutex_);
        if (cancelled_) return;
        cancelled_ = true;
        queue_.clear();
        queued_bytes_ = 0;
        ready = std::exchange(waiting_, nullptr);
    }
    space_.notify_all();
    data_.notify_all();
    if (ready) {
        piece p;
        p.state = piece::kind::failed;
        p.error = {model::error_code::timeout, "the stream was cancelled", {}, {}};
        ready(std::move(p));
    }
}

bool body_stream::cancelled() const {
    std::lock_guard lock(mutex_);
    return cancelled_;
}

std::size_t body_stream::buffered() const {
    std::lock_guard lock(mutex_);
    return queued_bytes_;
}

std::size_t body_stream::peak_buffered() const {
    std::lock_guard lock(mutex_);
    return peak_;
}

}  // namespace frost::api
