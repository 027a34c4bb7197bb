#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace frost::codec {

/// The gzip form (RFC 1952; zlib's deflate at `level`, 1 fastest to 9 smallest, 6 by default)
/// of `bytes`. nullopt only when zlib cannot allocate or `bytes` passes 4 GiB. Thread-safe.
[[nodiscard]] std::optional<std::string> gzip(std::string_view bytes, int level = 6);

/// Decodes a gzip stream: one member or several concatenated (RFC 1952 §2.2), nothing after
/// the last. nullopt when the data is malformed, truncated, fails its CRC, or would decode to
/// more than `max_output` bytes (checked as it inflates, so a small bomb costs at most
/// `max_output` of memory). Thread-safe.
[[nodiscard]] std::optional<std::string> gunzip(std::string_view bytes, std::size_t max_output);

}  // namespace frost::codec
