#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/body_stream.hpp"

namespace frost::api {

/// A transport-neutral HTTP response. The body is either owned (`body`) or shared with a
/// cache entry (`shared_body`), so a cache hit copies no bytes; or, for a streamed export,
/// produced while it is written (`stream`): the transport then ignores `body` and writes what
/// the stream yields (HTTP: chunked transfer), cutting the response when the stream fails.
struct response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::shared_ptr<const std::string> shared_body;
    std::shared_ptr<body_stream> stream;  ///< set only for streamed answers

    [[nodiscard]] std::string_view body_view() const noexcept {
        return shared_body ? std::string_view(*shared_body) : std::string_view(body);
    }
    void set_header(std::string name, std::string value) {
        for (auto& [k, v] : headers) {
            if (k == name) {
                v = std::move(value);
                return;
            }
        }
        headers.emplace_back(std::move(name), std::move(value));
    }
    [[nodiscard]] std::string_view header(std::string_view name) const noexcept {
        for (const auto& [k, v] : headers)
            if (k == name) return v;
        return {};
    }
};

}  // namespace frost::api
