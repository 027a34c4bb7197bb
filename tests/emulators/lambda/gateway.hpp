#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace frost::emulators::lambda {

/// The front doors whose events the emulator builds, written from the event shapes AWS documents
/// for each (independently of src/lambda, so tests compare two readings of the documentation).
enum class front_door { rest, http_api, function_url, alb, alb_multi_value };

[[nodiscard]] std::string_view door_name(front_door d);

/// An HTTP request as a client sends it to the front door.
struct http_call {
    std::string method = "GET";
    std::string target = "/";  ///< path and raw query, no stage
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool binary_body = false;  ///< send the body base64-encoded
    /// REST: the stage in `requestContext.path` (the event's `path` never has it).
    /// HTTP API: a named stage is put in front of `rawPath`; `$default` adds nothing.
    std::string stage;
};

/// The Lambda event the front door would deliver for `call`.
[[nodiscard]] std::string make_event(front_door door, const http_call& call);

/// What the client gets back once the front door has read the function's answer.
struct http_reply {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-cased
    std::string body;                                          ///< base64 already decoded
    std::string problem;  ///< why the answer was refused (then status 502), empty when valid

    [[nodiscard]] std::string header(std::string_view lower_name) const;
};

/// Reads the function's response payload as the front door does: a malformed answer is a
/// 502 `{"message":"Internal server error"}`; HTTP API / Function URL infer a 200 JSON answer
/// from JSON without `statusCode`; `cookies` and `multiValueHeaders` are expanded.
[[nodiscard]] http_reply read_reply(front_door door, std::string_view payload);

/// Standard base64, with padding.
[[nodiscard]] std::string to_base64(std::string_view s);
[[nodiscard]] std::string from_base64(std::string_view s);

}  // namespace frost::emulators::lambda
