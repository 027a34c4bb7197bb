#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace frost::cache {

/// The gzip form (RFC 1952, zlib's deflate at level 6) of `bytes`. Fails only when zlib
/// cannot allocate; thread-safe.
[[nodiscard]] std::optional<std::string> gzip(std::string_view bytes);

/// Decodes a gzip stream (for tests and tools). nullopt on malformed input.
[[nodiscard]] std::optional<std::string> gunzip(std::string_view bytes);

/// A strong entity tag for `bytes`: a quoted 64-bit FNV-1a hash of the bytes plus `suffix`
/// (e.g. `"9f2c...-gz"` for the gzip form), so different representations never share one.
[[nodiscard]] std::string strong_etag(std::string_view bytes, std::string_view suffix = {});

/// Whether an `If-None-Match` header value matches `etag` (RFC 9110 §13.1.2: weak comparison,
/// `*` matches any, a comma-separated list matches when any member does).
[[nodiscard]] bool if_none_match(std::string_view header, std::string_view etag) noexcept;

/// Whether an `Accept-Encoding` header value accepts gzip (`gzip`, `x-gzip` or `*` with a
/// non-zero q-value, and gzip not refused with `q=0`).
[[nodiscard]] bool accepts_gzip(std::string_view header) noexcept;

/// The `Cache-Control` value of a policy, e.g. `public, max-age=60, stale-while-revalidate=30`.
/// `no-store` when the policy does not cache.
[[nodiscard]] std::string cache_control(const config::cache_policy& policy);

}  // namespace frost::cache
