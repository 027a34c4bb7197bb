#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/response.hpp"

namespace frost::server {

/// What the server adds to a whole (not streamed) answer's head besides the service's fields.
struct head_framing {
    std::string_view request_id;  ///< written as `X-Request-Id` when not empty
    bool keep_alive = true;       ///< false: `Connection: close`
    bool head_request = false;    ///< HEAD: the `Content-Length` a GET would get, and no body
};

/// Writes the HTTP/1.1 status line and fields of `res` into `out` (cleared first, capacity kept),
/// the bytes Beast's serializer wrote for the same message (`Server: frost` first, a repeated
/// field name keeping its last value, then `X-Request-Id`, `Connection: close` when the
/// connection ends, and `Content-Length`, except on a GET's 1xx, 204 and 304, RFC 9110 §8.6),
/// with no per-field allocation. Framing is the server's: a service's `Content-Length`,
/// `Transfer-Encoding` or `Connection` field is not written, values lose the spaces and tabs
/// around them, and CR, LF and NUL in a value are written as spaces, so no value can start a field or a message of its
/// own. Returns whether the body follows the head (not for HEAD, 1xx, 204 or 304).
[[nodiscard]] bool write_response_head(std::string& out, const api::response& res, const head_framing& framing);

/// Writes the same bytes as `write_response_head`, keeping the field lines of the last head it
/// wrote: the leading fields of the next answer that equal the last one's (name, value and whether
/// written) are compared, not written again. A cache hit on the entry the connection's previous
/// answer came from differs only in its last fields (X-Cache, Server-Timing) and the request id.
/// One per connection; not thread-safe. Its memory is the longest field list it has written.
class response_head_writer {
public:
    /// As `write_response_head`.
    [[nodiscard]] bool write(std::string& out, const api::response& res, const head_framing& framing);

private:
    struct field {
        std::string name;
        std::string value;
        bool written = false;  ///< false: left out (framing, repeated later, the request id)
        std::size_t end = 0;   ///< where its line ends in `lines_` (where the previous one ended when not written)
    };
    std::vector<field> last_;  ///< the last head's fields, in order
    std::string lines_;        ///< the last head's service field lines, without `Server` and framing
};

}  // namespace frost::server
