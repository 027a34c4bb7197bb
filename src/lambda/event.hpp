#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "api/request.hpp"
#include "api/response.hpp"
#include "model/error.hpp"

namespace frost::lambda {

/// Which front door an HTTP event came through; it decides the shape of the answer.
enum class event_kind {
    rest_v1,       ///< API Gateway REST API (or HTTP API with payload 1.0), Lambda proxy integration
    http_v2,       ///< API Gateway HTTP API, payload 2.0
    function_url,  ///< Lambda Function URL (payload 2.0 shape)
    alb,           ///< Application Load Balancer target group
};

[[nodiscard]] std::string_view kind_name(event_kind kind) noexcept;

/// Lambda's synchronous response limit: 6 MB (6 MiB). The Runtime API refuses more.
inline constexpr std::size_t max_response_bytes = std::size_t{6} * 1024 * 1024;
/// ALB refuses a Lambda response JSON larger than 1 MB.
inline constexpr std::size_t max_alb_response_bytes = std::size_t{1024} * 1024;

/// How events are turned into requests.
struct event_options {
    /// A base path to remove from the front of every request path, e.g. `/api` for a
    /// custom domain with a base-path mapping. Empty: none.
    std::string strip_prefix;
};

/// One HTTP request delivered as a Lambda event, and what is needed to answer it.
struct http_event {
    event_kind kind = event_kind::rest_v1;
    api::request request;            ///< method, target (path + query), lower-case headers, body
    bool multi_value = true;         ///< answer with `multiValueHeaders` (REST; ALB in multi-value mode)
    std::string gateway_request_id;  ///< API Gateway's `requestContext.requestId`, for logs
};

/// Parses an API Gateway (REST v1, HTTP API v2), Function URL or ALB event into a request.
/// REST: `path` (stage-free) with `multiValueHeaders`/`multiValueQueryStringParameters`
/// preferred; v2: `rawPath` minus a named stage, `rawQueryString`, `cookies` folded into a
/// `cookie` header; ALB: query values are passed through as sent. A base64 body is decoded.
/// Fails with `bad_request` (and a message naming the field) for anything that is not JSON,
/// not one of these shapes, or has a field of the wrong type. Never throws.
[[nodiscard]] model::result<http_event> parse_event(std::string_view json, const event_options& options = {});

/// A Lambda response payload and the HTTP status it carries.
struct encoded_response {
    std::string payload;
    int status = 0;           ///< may differ from the API's when the answer was too large
    bool compressed = false;  ///< gzip was applied here to fit the limit
};

/// The Lambda response payload for `res`, shaped for the event's front door: `statusCode`,
/// headers (`multiValueHeaders` for REST, `cookies` for v2, `statusDescription` for ALB),
/// `body`, and `isBase64Encoded` for compressed or non-text bodies. A HEAD request gets an
/// empty body. When the payload would pass `limit` (0: the front door's own limit) it is
/// first gzip-compressed if the caller accepts gzip, and otherwise replaced by a JSON
/// `result_too_large` error that fits: an oversize answer never becomes a Lambda failure.
[[nodiscard]] encoded_response encode_response(const http_event& event, const api::response& res,
                                               std::size_t limit = 0);

}  // namespace frost::lambda
