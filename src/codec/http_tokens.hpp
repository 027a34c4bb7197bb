#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

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

/// One well-formed member of an `Accept` header (RFC 9110 §12.5.1): `type/subtype`, either of
/// which may be `*` (`*/subtype` is not well-formed), and its q-value in thousandths (1000 when
/// absent). Views into the header text.
struct media_range {
    std::string_view type;
    std::string_view subtype;
    int q = 1000;
};

/// The well-formed members of an `Accept` header value, in order. Members that are not
/// `type/subtype` tokens or carry a malformed q-value are left out, as are empty members.
/// Parameters other than `q` are read past and ignored, and so is everything after `q` (accept
/// extensions). Pure; thread-safe; the result views into `accept`.
[[nodiscard]] std::vector<media_range> parse_accept(std::string_view accept);

/// The q-value (thousandths) that `ranges` give the media type `type/subtype` (compared
/// ignoring ASCII case): that of the most specific range that matches it, `type/subtype` before
/// `type/*` before `*/*`, the highest when several of the same rank match; -1 when none matches.
[[nodiscard]] int accept_quality(std::span<const media_range> ranges, std::string_view type,
                                 std::string_view subtype) noexcept;

}  // namespace frost::codec
