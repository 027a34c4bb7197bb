#pragma once

#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/deadline.hpp"

namespace frost::api {

/// A transport-neutral HTTP request: what the Beast server and the Lambda event adapters
/// both build, and what the API core reads. Header names are lower-case.
struct request {
    std::string method = "GET";
    std::string target;  ///< path and query as received, e.g. `/trips/monthly?start_range=...`
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string client_address;
    std::string request_id;
    model::deadline deadline;
    /// Parameter values fixed by a guard (JWT claims bound for row-level filtering). They
    /// replace any value of the same name in the query string: the caller cannot choose them.
    std::vector<std::pair<std::string, std::string>> fixed_params;
    /// Who the guards identified (API key name or token subject), for logs and metrics; empty
    /// when anonymous. Never a secret.
    std::string principal;
    /// Requested by the transport when the client has gone (closed or reset its connection)
    /// before its answer was written. A queued query for it is dropped, a running one
    /// interrupted. Default: never requested (Lambda, tests, background fills).
    std::stop_token stop{};

    /// The first header with this lower-case name, or empty.
    [[nodiscard]] std::string_view header(std::string_view lower_name) const noexcept {
        for (const auto& [k, v] : headers)
            if (k == lower_name) return v;
        return {};
    }
};

}  // namespace frost::api
