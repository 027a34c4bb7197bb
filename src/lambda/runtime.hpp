#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/service.hpp"
#include "lambda/event.hpp"
#include "lambda/runtime_client.hpp"
#include "lambda/telemetry.hpp"
#include "model/deadline.hpp"

namespace frost::lambda {

/// How the runtime loop answers events.
struct runtime_options {
    event_options events;
    /// Taken off Lambda's deadline so a query stopped at it still leaves time to post the
    /// 504 answer before Lambda ends the invocation.
    std::chrono::milliseconds deadline_margin{200};
    std::string function_name;  ///< the EMF `Service` dimension (AWS_LAMBDA_FUNCTION_NAME)
    /// Where EMF lines go; empty: stdout through `write_line`.
    std::function<void(std::string_view)> metrics_sink;
    /// Tried on an event that is not an HTTP event before it is refused (the scheduled `sync`
    /// event of snapshot publishing, docs/snapshots.md): the payload to answer, or nullopt
    /// when the event is not its kind.
    std::function<std::optional<std::string>(std::string_view payload)> other_events;
};

/// The steady-clock deadline for a Runtime API deadline in Unix epoch milliseconds, less
/// `margin`; no deadline (the API core's default applies) when `epoch_ms` is absent.
[[nodiscard]] model::deadline deadline_from_epoch_ms(std::optional<std::int64_t> epoch_ms,
                                                     std::chrono::milliseconds margin);

/// What to post for one invocation.
struct invocation_result {
    bool failed = false;  ///< post `error` to `/invocation/{id}/error` instead of a response
    std::string payload;  ///< the response payload when not failed
    function_error error;
    request_record record;  ///< for the EMF line
};

/// The Lambda transport: turns Runtime API events into `api::request`s for the same
/// `api::service` the HTTP server uses, and posts the answers back. One invocation at a
/// time, as Lambda delivers them. The constructor registers an observer on `svc` (call it
/// before serving starts); `svc` must outlive the runtime.
class runtime {
public:
    runtime(api::service& svc, runtime_options options);
    ~runtime();
    runtime(const runtime&) = delete;
    runtime& operator=(const runtime&) = delete;

    /// Answers one event. Never throws and never fails the process: an event that is not an
    /// HTTP event becomes a `Function.InvalidEvent` error for `/error`; an HTTP event with a
    /// bad part (e.g. invalid base64 body) a 400 answer; an answer over the payload limit a
    /// JSON error (see `encode_response`).
    [[nodiscard]] invocation_result handle(const invocation& inv);

    /// The loop: next → handle → response/error → EMF line, until the Runtime API cannot
    /// be reached (then it returns the error; the process should exit non-zero).
    [[nodiscard]] model::result<model::done> run(runtime_client& client);

    /// Invocations answered so far.
    [[nodiscard]] std::uint64_t answered() const noexcept { return answered_; }

    struct capture;

private:
    api::service& svc_;
    runtime_options options_;
    std::shared_ptr<capture> capture_;
    std::uint64_t answered_ = 0;
};

}  // namespace frost::lambda
