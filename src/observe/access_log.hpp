#pragma once

#include <cstdio>
#include <mutex>
#include <string>

#include "api/service.hpp"

namespace frost::observe {

/// One JSON object per answered request, one per line (for CloudWatch, Loki, jq):
/// time, request id, method, path, status, bytes, durations, route, cache outcome, client
/// address and principal (API key name or token subject). Never headers, never credentials;
/// the query string is kept (credentials are not accepted there) but cut at 512 bytes.
/// Thread-safe.
class access_log {
public:
    /// Writes to `out` (stdout by default); the stream must outlive the log.
    explicit access_log(std::FILE* out = stdout) : out_(out) {}

    /// The line for one request, without the newline.
    [[nodiscard]] static std::string format(const api::request& req, const api::response& res,
                                            const api::request_stats& stats);

    /// Formats and writes the line.
    void write(const api::request& req, const api::response& res, const api::request_stats& stats);

private:
    std::FILE* out_;
    std::mutex mutex_;
};

/// `text` as a JSON string literal, control bytes and invalid UTF-8 escaped.
[[nodiscard]] std::string json_string(std::string_view text);

}  // namespace frost::observe
