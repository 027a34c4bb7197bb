#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace frost::snapshot {

/// One HTTP request for the object store or a credentials endpoint.
struct http_request {
    std::string method = "GET";  ///< GET, HEAD, PUT or POST
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;       ///< sent with PUT/POST when `body_file` is empty
    std::string body_file;  ///< PUT: the body is streamed from this file
    std::string sink_file;  ///< GET: a 200 body is written to this file instead of memory
    std::string aws_sigv4;  ///< libcurl's `CURLOPT_AWS_SIGV4` ("aws:amz:<region>:s3"); empty: unsigned
    std::string userpwd;    ///< "<key id>:<secret>" for signing; never logged
    std::chrono::milliseconds timeout{60'000};
    std::size_t max_body = 16u << 20;  ///< an in-memory body larger than this fails the exchange
};

/// What came back. `transport_error` is set (and `status` is 0) when no complete answer
/// arrived; it never holds header values, so no secret can leak through it.
struct http_reply {
    long status = 0;
    std::string body;                            ///< empty when written to `sink_file`
    std::map<std::string, std::string> headers;  ///< lower-case names, trimmed values
    std::string transport_error;
    [[nodiscard]] std::string header(const std::string& lower_name) const {
        auto it = headers.find(lower_name);
        return it == headers.end() ? std::string() : it->second;
    }
};

/// Performs one blocking exchange over libcurl (a fresh handle each time: snapshot traffic is
/// a few requests per poll interval). Thread-safe.
[[nodiscard]] http_reply perform(const http_request& req);

}  // namespace frost::snapshot
