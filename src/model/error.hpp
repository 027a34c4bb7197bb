#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace frost::model {

/// Every error Frost can answer with. Grouped by layer; each has one stable wire code
/// (`code_name`) and one HTTP status (`http_status`): the one table from code to status.
enum class error_code {
    // request and parameters: the caller's fault (4xx)
    not_found,           // FR404
    method_not_allowed,  // FR405
    bad_parameter,       // FR400
    unknown_parameter,   // FR401
    missing_parameter,   // FR402
    bad_request,         // FR430 (was FR403 before issue 15: it read like Forbidden)
    payload_too_large,   // FR413
    uri_too_long,        // FR414
    headers_too_large,   // FR431
    unauthorized,        // FR301
    forbidden,           // FR302
    rate_limited,        // FR329
    not_acceptable,      // FR406
    // upstream and environment (5xx)
    source_error,        // FR502
    source_unavailable,  // FR503
    overloaded,          // FR504
    timeout,             // FR505
    result_too_large,    // FR507
    // configuration and invariants
    config_error,  // FR900
    internal,      // FR500
};

/// The wire code, e.g. `FR400`. Stable across releases: clients may match on it.
[[nodiscard]] std::string_view code_name(error_code code) noexcept;

/// The HTTP status a response carrying this error gets.
[[nodiscard]] int http_status(error_code code) noexcept;

/// A message for `code` that says what failed without saying how: what a public caller sees in
/// place of a server-side error's own text (a source's message may hold SQL, table names or
/// paths). Empty for the caller's own errors (4xx), whose messages tell them what to fix.
[[nodiscard]] std::string_view generic_message(error_code code) noexcept;

/// A failure that crosses a layer boundary. `message` is for people and never holds secrets;
/// `details` and `hint` are optional (PostgREST's error shape).
struct error {
    error_code code = error_code::internal;
    std::string message;
    std::string details;
    std::string hint;
    /// For errors answered 503: how long a client should wait before trying again
    /// (`Retry-After`, e.g. the rest of an open circuit breaker's cool-down); 0 means 1 s.
    std::chrono::seconds retry_after{0};
};

/// A value or an error. Deliberately small: `ok()`, `value()`, `error()`.
template <typename T>
class result {
public:
    result(T value) : state_(std::in_place_index<0>, std::move(value)) {}         // NOLINT: implicit by design
    result(model::error err) : state_(std::in_place_index<1>, std::move(err)) {}  // NOLINT

    [[nodiscard]] bool ok() const noexcept { return state_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }
    [[nodiscard]] T& value() & { return std::get<0>(state_); }
    [[nodiscard]] const T& value() const& { return std::get<0>(state_); }
    [[nodiscard]] T&& value() && { return std::get<0>(std::move(state_)); }
    [[nodiscard]] const model::error& error() const& { return std::get<1>(state_); }
    [[nodiscard]] model::error&& error() && { return std::get<1>(std::move(state_)); }

private:
    std::variant<T, model::error> state_;
};

/// Success without a value.
struct done {};

}  // namespace frost::model
