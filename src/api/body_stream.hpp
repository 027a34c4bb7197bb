#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "model/deadline.hpp"
#include "model/error.hpp"

namespace frost::api {

/// A response body written while it is produced (streamed exports): a bounded queue of bytes
/// between one producer (a worker thread running the query) and one consumer (the transport
/// writing to the client). The producer blocks while `max_buffered` bytes wait, so a slow client
/// slows the query instead of growing memory. The producer ends the body with `finish` (complete)
/// or `fail` (incomplete: the transport must cut the response so the client can tell). The
/// consumer `cancel`s when the client has gone, which makes the producer's next `write` fail.
/// Thread-safe for one producer and one consumer.
class body_stream {
public:
    /// What the consumer gets from one `pull`.
    struct piece {
        enum class kind {
            bytes,   ///< more body; pull again after writing them
            done,    ///< the body is complete: end it properly (chunked: the zero-length chunk)
            failed,  ///< the body is incomplete: cut the connection, never end it properly
        };
        kind state = kind::bytes;
        std::string bytes;   ///< for `bytes`: what was queued, coalesced
        model::error error;  ///< for `failed`: why (for the log)
    };

    /// `max_buffered`: bytes queued before `write` blocks (one write may go past it once).
    explicit body_stream(std::size_t max_buffered = std::size_t{1} << 20) : max_buffered_(max_buffered) {}

    /// Producer: queues `bytes`, first waiting while the queue is full. False when the consumer
    /// has cancelled or `deadline` passed while waiting (the bytes are dropped then).
    [[nodiscard]] bool write(std::string bytes, model::deadline deadline = {});
    /// Producer: the body is complete. Later calls of `finish` and `fail` are ignored.
    void finish();
    /// Producer: the body ends here incomplete; queued bytes are still delivered first.
    void fail(model::error e);

    /// Consumer: calls `ready` once with the next piece: at once, on this thread, when one is
    /// available (`failed` when cancelled); otherwise later, on the producer's thread, or on the
    /// thread that calls `cancel`. One pull at a time; `ready` should post its work elsewhere.
    void pull(std::function<void(piece)> ready);
    /// Consumer: blocks until the next piece (transports that buffer, such as Lambda).
    [[nodiscard]] piece next();
    /// Consumer: the client has gone. Wakes a waiting producer (its `write` returns false),
    /// drops queued bytes and answers a pending pull with `failed`. Idempotent.
    void cancel();
    [[nodiscard]] bool cancelled() const;

    /// Bytes queued now (for tests of the bound).
    [[nodiscard]] std::size_t buffered() const;
    /// The most bytes ever queued at once (for tests of the bound).
    [[nodiscard]] std::size_t peak_buffered() const;

private:
    // The next piece if one can be given now; the lock is held.
    std::optional<piece> take_locked();

    const std::size_t max_buffered_;
    mutable std::mutex mutex_;
    std::condition_variable space_;
    std::condition_variable data_;
    std::deque<std::string> queue_;
    std::size_t queued_bytes_ = 0;
    std::size_t peak_ = 0;
    bool finished_ = false;
    bool cancelled_ = false;
    bool delivered_end_ = false;
    std::optional<model::error> failure_;
    std::function<void(piece)> waiting_;
};

}  // namespace frost::api
