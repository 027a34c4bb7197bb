#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace frost::emulators::lambda {

/// Settings of one emulated function.
struct emulator_options {
    std::chrono::milliseconds timeout{3000};  ///< the function timeout (AWS_LAMBDA_FUNCTION_TIMEOUT)
    std::string function_name = "test_function";
    unsigned memory_mb = 3008;
    bool echo_output = false;  ///< copy the runtime's output and START/END/REPORT lines to stderr
};

/// A runtime process to start: the packaged `bootstrap`, or any command.
struct process_spec {
    std::vector<std::string> argv;  ///< argv[0] is the program path
    /// The whole environment of the process ("NAME=value"), nothing inherited. The emulator
    /// adds AWS_LAMBDA_RUNTIME_API and the Lambda variables that are missing (_HANDLER,
    /// LAMBDA_TASK_ROOT, AWS_LAMBDA_FUNCTION_*, AWS_REGION, TZ, PATH).
    std::vector<std::string> env;
    std::string cwd;  ///< also LAMBDA_TASK_ROOT when that is not given
};

/// What the invoker gets, as the Runtime Interface Emulator answers it.
struct invoke_result {
    int status = 0;    ///< 200; 502 after a crash or init error; 400 when busy
    std::string body;  ///< the function's payload, its error body, or the emulator's own
    std::string request_id;
    std::string error_type;       ///< from `/error` or `/init/error`, or Runtime.ExitError / Sandbox.Timedout
    bool function_error = false;  ///< the runtime posted `/error` (real Lambda: X-Amz-Function-Error)
    bool timed_out = false;
    bool crashed = false;
    std::chrono::microseconds duration{};  ///< invoke received to answer
    /// Cold invokes only: process start to its first `/next` (the runtime's init).
    std::optional<std::chrono::microseconds> init_duration;
    /// Cold invokes only: CPU time the runtime's threads had used by its first `/next`
    /// (from /proc/<pid>/task/*/schedstat), a figure that a busy machine does not inflate.
    std::optional<std::chrono::microseconds> init_cpu;
};

/// Per-invoke settings.
struct invoke_options {
    std::optional<std::chrono::milliseconds> timeout;  ///< overrides the function timeout
    std::string trace_id = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
};

/// The Lambda Runtime API (2018-06-01) as documented, with the Runtime Interface
/// Emulator's behaviour: one invoke at a time, a long-polling `next`, 202 for answers,
/// 400 `InvalidRequestID`, 413 past 6 MiB + 100 bytes, 403 for calls out of order,
/// deadlines in `Lambda-Runtime-Deadline-Ms`, timeouts that kill and reset the runtime,
/// crash detection (`Runtime.ExitError`), and lazy start of the runtime process on the first
/// invoke. Without a `process_spec` it serves a runtime loop running in-process (tests).
/// Thread-safe.
class runtime_emulator {
public:
    explicit runtime_emulator(emulator_options options = {});
    ~runtime_emulator();  ///< kills the runtime process and stops serving
    runtime_emulator(const runtime_emulator&) = delete;
    runtime_emulator& operator=(const runtime_emulator&) = delete;

    /// `host:port` of the Runtime API, the value of AWS_LAMBDA_RUNTIME_API.
    [[nodiscard]] std::string runtime_api() const;

    /// The process to start on the next invoke (and after each crash or timeout).
    void set_process(process_spec spec);

    /// Delivers `payload` as one event and waits for the answer, the deadline, or the
    /// runtime's death.
    [[nodiscard]] invoke_result invoke(std::string payload, const invoke_options& options = {});

    /// Lines the runtime process wrote to stdout and stderr so far.
    [[nodiscard]] std::vector<std::string> output() const;

    /// Stops serving: pending `next` calls are cut off, so an in-process loop ends.
    void stop();

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

}  // namespace frost::emulators::lambda
