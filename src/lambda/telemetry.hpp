#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace frost::lambda {

/// What the Lambda loop records about one answered request.
struct request_record {
    std::string request_id;  ///< Lambda's request id
    std::string method;
    std::string path;            ///< request path without the query
    std::string route;           ///< the matched endpoint, or `(unmatched)` / `(bad event)`
    std::string event_kind;      ///< rest, http, function_url, alb
    std::string cache = "none";  ///< cache outcome reported by the API core
    int status = 0;              ///< HTTP status sent back through the front door
    double latency_ms = 0;       ///< event received to response encoded
    double upstream_ms = 0;      ///< time spent in the source (warehouse or DuckDB)
    std::size_t response_bytes = 0;
    bool cold_start = false;  ///< the first request of this process
};

/// One CloudWatch Embedded Metric Format document on a single line: namespace `Frost`,
/// dimensions {Service, Route} and {Service}; metrics Latency and UpstreamTime (ms),
/// Requests, ClientErrors, ServerErrors, CacheHits and ColdStart (counts). Status, method,
/// path, cache outcome and request id are kept as log properties (not dimensions: a request id
/// as a dimension would create one metric per request).
[[nodiscard]] std::string emf_line(const request_record& r, std::string_view service, std::int64_t timestamp_ms);

/// Writes `line` and a newline to stdout in one piece and flushes it: EMF documents and log
/// lines must never interleave. Thread-safe.
void write_line(std::string_view line);

/// Routes spdlog to stdout as one JSON object per line
/// (`{"timestamp","level","requestId","function","message"}`), the structured form CloudWatch
/// Logs Insights queries. Call once, before the loop starts.
void install_json_logs(std::string function_name);

/// The request id stamped on log lines from now on (empty between requests). Thread-safe.
void set_log_request_id(std::string id);

}  // namespace frost::lambda
