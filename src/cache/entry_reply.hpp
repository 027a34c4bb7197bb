#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "cache/response_cache.hpp"

namespace frost::cache {

/// How one request is answered from one stored entry.
struct reply {
    /// Fields `headers` has room for beyond the entry's own, so a caller adding its own (the
    /// service adds X-Cache and Server-Timing) does not make the list grow.
    static constexpr std::size_t added_fields = 2;

    int status = 200;
    header_list headers;                      ///< the chosen form's headers (a copy: the caller may add its own)
    std::shared_ptr<const std::string> body;  ///< shared with the entry, never copied; null for a 304
};

/// Answers a request from `e`, given the request's `If-None-Match` and `Accept-Encoding` values
/// (empty when absent):
/// - 304 with the entry's validator headers when `If-None-Match` matches the ETag of either
///   form; the ETag sent is that of the form this client would get;
/// - otherwise the entry's status with the gzip form when the entry has one and the client
///   accepts gzip (`accepts_gzip`), else the identity form, each with its own headers.
/// Thread-safe; `e` is immutable and the body is shared, so the reply may outlive `e`'s eviction.
[[nodiscard]] reply reply_from(const entry& e, std::string_view if_none_match, std::string_view accept_encoding);

}  // namespace frost::cache
