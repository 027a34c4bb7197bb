#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "model/error.hpp"

namespace frost::snapshot {

/// The object every reader polls.
inline constexpr std::string_view manifest_key = "latest.json";

/// `latest.json`: which snapshot is current. Snapshots themselves are immutable objects named
/// by version (`snapshots/<version>.duckdb`), so the manifest is the only object ever replaced.
struct manifest {
    std::string version;  ///< "<as_of epoch ms, 13 digits>-<first 16 hex of the SHA-256>": sorts by age
    std::chrono::system_clock::time_point as_of;   ///< the oldest source read among its rollups
    std::map<std::string, std::uint64_t> rollups;  ///< rollup name -> its version in the file
    std::string sha256;                            ///< of the whole file, lower-case hex
    std::uint64_t size = 0;                        ///< bytes
    /// The snapshot object's key, relative to the prefix.
    [[nodiscard]] std::string key() const { return "snapshots/" + version + ".duckdb"; }
};

/// The version name for a file read as of `as_of` with this digest.
[[nodiscard]] std::string version_name(std::chrono::system_clock::time_point as_of, std::string_view sha256);

/// Whether `a` is newer than `b`: later as-of time, then the larger version name (so two
/// builders agree on the winner whatever order they see them in).
[[nodiscard]] bool newer(const manifest& a, const manifest& b);

/// The manifest as JSON.
[[nodiscard]] std::string to_json(const manifest& m);

/// Parses and validates a manifest (version shape, 64 hex digits, a version that matches its
/// digest). Never throws, on any input.
[[nodiscard]] model::result<manifest> parse_manifest(std::string_view json);

}  // namespace frost::snapshot
