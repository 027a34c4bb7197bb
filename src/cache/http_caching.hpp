#pragma once

#include <string>
#include <string_view>

#include "config/config.hpp"

namespace frost::cache {

/// A strong entity tag for `bytes`: a quoted 64-bit FNV-1a hash (codec/fnv.hpp) of the bytes plus `suffix`
/// (e.g. `"9f2c...-gz"` for the gzip form), so different representations never share one.
[[nodiscard]] std::string strong_etag(std::string_view bytes, std::string_view suffix = {});

/// Whether an `If-None-Match` header value matches `etag` (RFC 9110 §13.1.2: weak comparison,
/// `*` matches any, a comma-separated list matches when any member does).
[[nodiscard]] bool if_none_match(std::string_view header, std::string_view etag) noexcept;

/// The `Cache-Control` value of a policy, e.g. `public, max-age=60, stale-while-revalidate=30`.
/// `no-store` when the policy does not cache.
[[nodiscard]] std::string cache_control(const config::cache_policy& policy);

}  // namespace frost::cache
