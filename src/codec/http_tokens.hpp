#pragma once

#include <string>
#include <string_view>

namespace frost::codec {

/// Whether `a` and `b` are equal ignoring ASCII case (header names, tokens, codings). Bytes
/// outside ASCII compare exactly. Pure; thread-safe.
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;

/// `s` without leading and trailing optional whitespace (OWS: spaces and tabs, RFC 9110 §5.6.3).
[[nodiscard]] std::string_view trim(std::string_view s) noexcept;

/// `s` with ASCII letters lowered; other bytes unchanged.
[[nodiscard]] std::string to_lower(std::string_view s);

/// Whether a response with an `Accept-Encoding` request header value of `accept_encoding`
/// should be sent gzip-compressed when a gzip form is available (RFC 9110 §12.5.3):
/// - `gzip` and `x-gzip` name the same coding; `*` stands for every coding not named;
/// - a q-value of 0 refuses a coding; malformed q-values make their member ignored;
/// - gzip is chosen when its q-value is above 0 and at least identity's; identity takes its
///   q-value from `identity;q=…`, else from `*;q=…`, else it is the least preferred, so
///   `gzip;q=0.5` compresses while `gzip;q=0.5, identity` does not;
/// - an empty or absent header gets identity, as does one that refuses both (the RFC's
///   "SHOULD send a response without any content coding").
/// The one negotiation used by the HTTP server's cache path, the web assets and the Lambda
/// adapter, so every transport picks the same encoding. Pure; thread-safe.
[[nodiscard]] bool accepts_gzip(std::string_view accept_encoding) noexcept;

}  // namespace frost::codec
