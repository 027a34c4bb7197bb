#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "model/error.hpp"

namespace frost::server {

/// Bounds on one request's head and body (from `config::server_config`).
struct head_limits {
    std::size_t max_header_bytes = std::size_t{8} * 1024;  ///< request line + fields + CRLFs
    std::size_t max_url_bytes = std::size_t{4} * 1024;     ///< request-target
    std::size_t max_header_count = 100;
    std::size_t max_body_bytes = std::size_t{64} * 1024;
};

/// What the scanner decided about the bytes received so far.
struct head_scan {
    enum class state { need_more, complete, rejected };
    state status = state::need_more;
    std::size_t size = 0;  ///< bytes of the head, final CRLF included, when complete
    model::error error;    ///< when rejected: 400, 414 or 431 with a short message
};

/// Reads the raw bytes of a request head before Beast parses them and rejects what Boost
/// 1.81's parser tolerates but a smuggling-safe server must not: bare LF or CR line ends,
/// obs-fold continuation lines, NUL and other control bytes, empty lines before the request
/// line; and enforces the URL (414) and head size (431) limits as bytes arrive, so an
/// oversized head is refused without reading it all. Incremental: call `feed` with everything
/// received so far (the same prefix plus more). Not thread-safe; one per request.
class head_scanner {
public:
    explicit head_scanner(const head_limits& limits) : limits_(limits) {}
    [[nodiscard]] head_scan feed(std::string_view received);

private:
    head_limits limits_;
    std::size_t pos_ = 0;
    std::size_t line_start_ = 0;
    bool first_line_done_ = false;
};

/// The framing and size rules checked on a parsed head: no Transfer-Encoding at all (the API
/// takes no streamed bodies: this removes CL+TE, TE on HTTP/1.0 and every chunked vector),
/// at most one Content-Length of plain digits within `max_body_bytes` (413 before the body is
/// read), HTTP/1.0 or 1.1 only, exactly one Host on HTTP/1.1, at most `max_header_count`
/// fields (431) and a request-target within `max_url_bytes` (414). nullopt when acceptable.
[[nodiscard]] std::optional<model::error> check_head(const boost::beast::http::request_header<>& head,
                                                     const head_limits& limits);

/// A request-target in absolute-form (`http://host:port/path?query`), as RFC 9112 §3.2.2 says
/// a server must accept, turned into what Frost routes on. nullopt when `target` is not in
/// absolute form (origin-form and the rest are left to routing).
struct origin_target {
    std::string target;  ///< origin-form: the path (`/` when empty) and the query
    std::string host;    ///< the authority, which replaces the Host header (RFC 9112 §7.2)
};
/// Only `http` and `https` (any case), with a non-empty authority and no userinfo. The
/// authority must name the same host and port as `host` (the Host header; case-insensitive, a
/// scheme's default port may be left out on either side), or the request is a 400: the RFC has
/// the authority win, but a client that names two different hosts in one request is not one
/// Frost serves, and a proxy in front may have routed by the other (docs/security.md). An empty
/// `host` (HTTP/1.0 with no Host) matches any authority.
[[nodiscard]] model::result<std::optional<origin_target>> absolute_form_target(std::string_view target,
                                                                               std::string_view host);

/// A request read entirely from `bytes` by the same steps the server takes (scan, Beast
/// parse, `check_head`, an absolute-form target rewritten to origin-form with its authority as
/// Host, body): for tests and fuzzing. `consumed` is how many bytes the first
/// request used (the rest would be the next pipelined request).
struct parsed_request {
    boost::beast::http::request<boost::beast::http::string_body> message;
    std::size_t consumed = 0;
};
[[nodiscard]] model::result<parsed_request> parse_request(std::string_view bytes, const head_limits& limits);

}  // namespace frost::server
