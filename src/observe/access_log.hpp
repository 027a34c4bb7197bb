#pragma once

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "api/service.hpp"

namespace frost::observe {

/// One JSON object per answered request, one per line (for CloudWatch, Loki, jq):
/// time, request id, method, path, status, bytes, durations, route, cache outcome, client
/// address and principal (API key name or token subject). Never headers, never credentials;
/// the query string is kept (credentials are not accepted there) but cut at 512 bytes.
///
/// Asynchronous and batched: `write` formats the line on the caller's thread (into a buffer the
/// thread keeps) and appends it to a bounded queue (one string of joined lines) under a short lock; one drain thread
/// writes whatever has queued up with one `fwrite` and one `fflush` per batch, at most one batch every 5 ms. The
/// calling (I/O) thread never waits for the output: when `capacity` lines are already queued the line is dropped and
/// counted (`dropped`). The destructor writes every line queued before it. Thread-safe.
class access_log {
public:
    /// Lines that may wait for the drain thread before new ones are dropped (about 200 bytes
    /// each, so at most ~13 MiB queued, plus the batch being written).
    static constexpr std::size_t default_capacity = 65536;

    /// Writes to `out` (stdout by default); the stream must outlive the log. `capacity` >= 1.
    explicit access_log(std::FILE* out = stdout, std::size_t capacity = default_capacity);
    /// Writes every queued line, then stops the drain thread.
    ~access_log();
    access_log(const access_log&) = delete;
    access_log& operator=(const access_log&) = delete;

    /// The line for one request, without the newline.
    [[nodiscard]] static std::string format(const api::request& req, const api::response& res,
                                            const api::request_stats& stats);
    /// The same line, appended to `out` (no newline).
    static void format_to(std::string& out, const api::request& req, const api::response& res,
                          const api::request_stats& stats);

    /// Formats the line and queues it; drops it (counted) when the queue is full. Never blocks
    /// on the output.
    void write(const api::request& req, const api::response& res, const api::request_stats& stats);
    /// Queues (copies) one finished line (no newline); the same contract as `write`. Returns
    /// false when it was dropped.
    bool enqueue(std::string_view line);

    /// Blocks until every line queued before the call has been written and flushed (tests,
    /// shutdown of a transport that outlives the log's owner).
    void flush();

    /// Lines dropped because the queue was full.
    [[nodiscard]] std::uint64_t dropped() const;
    /// Lines written to the output.
    [[nodiscard]] std::uint64_t written() const;

private:
    void drain_loop();

    std::FILE* out_;
    const std::size_t capacity_;
    mutable std::mutex mutex_;
    std::condition_variable work_cv_;  ///< the drain thread waits here for lines or stop
    std::condition_variable done_cv_;  ///< `flush` waits here for `written_`
    std::string pending_;              ///< queued lines, each with its newline, not yet taken by the drain thread
    std::size_t pending_lines_ = 0;    ///< how many lines `pending_` holds
    std::uint64_t accepted_ = 0;       ///< lines ever queued
    std::uint64_t written_ = 0;
    std::uint64_t dropped_ = 0;
    bool stopping_ = false;
    bool idle_ = false;    ///< the drain thread waits for a first line (not in its batch window)
    std::thread drainer_;  ///< last member: starts after the others exist
};

/// `text` as a JSON string literal, control bytes and invalid UTF-8 escaped.
[[nodiscard]] std::string json_string(std::string_view text);

}  // namespace frost::observe
