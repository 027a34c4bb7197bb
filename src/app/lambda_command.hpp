#pragma once

#include <string>

namespace frost::app {

/// True when AWS Lambda (or its emulator) started the binary without a verb: the
/// `AWS_LAMBDA_RUNTIME_API` variable is set and the only argument, if any, is the
/// function's handler (`_HANDLER`). `frost` then behaves as `frost lambda`.
[[nodiscard]] bool started_by_lambda(int argc, char** argv);

/// `frost lambda`: loads the config (a relative path is also tried under
/// `LAMBDA_TASK_ROOT`), opens its sources and answers events from the Runtime API at
/// `AWS_LAMBDA_RUNTIME_API` through the same API core as `frost serve`, until that API goes
/// away. Logs are JSON lines with the request id; each request adds one EMF line. An init
/// failure is posted to `/runtime/init/error`. Returns the process exit code.
[[nodiscard]] int run_lambda(const std::string& config_path);

}  // namespace frost::app
