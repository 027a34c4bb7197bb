#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "model/deadline.hpp"

namespace frost::source::snowflake {

/// One HTTP exchange's outcome. `transport_error` is set when no complete answer arrived
/// (connect failure, reset, timeout, bad gzip, body over the size cap); `status` is then 0.
struct http_answer {
    long status = 0;
    std::string body;             ///< decoded (gzip removed)
    std::string retry_after;      ///< the Retry-After header, if any
    std::string transport_error;  ///< curl's description; never contains headers or tokens
    bool timed_out = false;       ///< the transport error was our own time limit
};

/// A blocking HTTPS client over libcurl with keep-alive connection reuse: easy handles are
/// pooled, and each keeps its connections open between exchanges. Thread-safe; each call
/// uses its own handle.
class http_client {
public:
    /// `max_body`: answers larger than this (after decoding) fail as transport errors.
    http_client(std::chrono::milliseconds connect_timeout, std::size_t max_body, std::string user_agent);
    ~http_client();
    http_client(const http_client&) = delete;
    http_client& operator=(const http_client&) = delete;

    /// Sends `method` `url` with `headers` and `body` (for POST), waiting at most `limit`.
    /// Asks for gzip and decodes it whatever `Content-Encoding` the answer carries.
    [[nodiscard]] http_answer send(const std::string& method, const std::string& url,
                                   const std::vector<std::pair<std::string, std::string>>& headers,
                                   const std::string& body, std::chrono::milliseconds limit);

private:
    struct handle;
    std::unique_ptr<handle> borrow();
    void give_back(std::unique_ptr<handle> h);

    std::chrono::milliseconds connect_timeout_;
    std::size_t max_body_;
    std::string user_agent_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<handle>> idle_;
};

}  // namespace frost::source::snowflake
