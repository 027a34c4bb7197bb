#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "model/error.hpp"

namespace frost::lambda {

/// One event handed out by `GET /2018-06-01/runtime/invocation/next`.
struct invocation {
    std::string request_id;                   ///< `Lambda-Runtime-Aws-Request-Id`
    std::string payload;                      ///< the event JSON, as sent
    std::optional<std::int64_t> deadline_ms;  ///< `Lambda-Runtime-Deadline-Ms`: Unix epoch milliseconds
    std::string function_arn;                 ///< `Lambda-Runtime-Invoked-Function-Arn`
    std::string trace_id;                     ///< `Lambda-Runtime-Trace-Id`
};

/// The error shape of the Runtime API: `{"errorMessage", "errorType", "stackTrace": []}`,
/// with `type` also sent as `Lambda-Runtime-Function-Error-Type` (`Category.Reason`).
struct function_error {
    std::string type;
    std::string message;
};

/// The error body the Runtime API documents for `e`.
[[nodiscard]] std::string error_body(const function_error& e);

/// A client of the Lambda Runtime API at `AWS_LAMBDA_RUNTIME_API` (`host:port`, no scheme),
/// over one kept-alive HTTP/1.1 connection. Not thread-safe: one loop owns it.
class runtime_client {
public:
    /// Checks the address; connects lazily. Fails with `config_error` on a malformed address.
    static model::result<std::unique_ptr<runtime_client>> create(std::string_view address);
    ~runtime_client();
    runtime_client(const runtime_client&) = delete;
    runtime_client& operator=(const runtime_client&) = delete;

    /// Long-polls for the next event, with no timeout (the sandbox may be frozen between
    /// events). Retries a failed connection or a non-2xx answer three times, then fails with
    /// `source_unavailable`: the caller should exit. An answer without a request id is a failure.
    [[nodiscard]] model::result<invocation> next();

    /// Posts the function result for `request_id`. Fails when the API refuses it (the error's
    /// message holds the status and the API's own `errorType`) or cannot be reached.
    [[nodiscard]] model::result<model::done> post_response(const std::string& request_id, std::string_view body);

    /// Reports that handling `request_id` failed.
    [[nodiscard]] model::result<model::done> post_error(const std::string& request_id, const function_error& e);

    /// Reports that initialization failed; the process should exit afterwards.
    [[nodiscard]] model::result<model::done> post_init_error(const function_error& e);

    struct impl;

private:
    explicit runtime_client(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

}  // namespace frost::lambda
