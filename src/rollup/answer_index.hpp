#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model/error.hpp"
#include "rollup/prefix_index.hpp"

namespace frost::rollup {

/// Which serving file an answer index belongs to: its size and a checksum of its bytes (XXH3,
/// 64 bits), computed when the index is written and again when it is read at a cold start.
struct file_identity {
    std::uint64_t size = 0;
    std::uint64_t checksum = 0;  ///< answer_index::checksum of the whole file
    friend bool operator==(const file_identity&, const file_identity&) = default;
};

/// The identity of the file at `path` (maps it whole, read-only).
[[nodiscard]] model::result<file_identity> identify_file(const std::string& path);

/// The answer index (`<serving.path>.prefix`, docs/caching.md "The answer index"): for each
/// endpoint SQL over a rollup that `prefix_index` serves, its index as built from one serving
/// file, with the versions of that file's rollups, so that `frost lambda` answers its first
/// requests without creating a DuckDB instance.
///
/// The file: the magic `FROSTAIX`, a format version (u32), the payload's length (u64) and its
/// `checksum` (u64), then the payload: the serving file's identity, the rollups (name, version,
/// as-of time in ms, SQL fingerprint) and the entries (endpoint SQL, rollup, serialized index).
struct answer_index {
    struct rollup_version {
        std::string name;
        std::uint64_t version = 0;
        std::int64_t built_at_ms = 0;
        std::string sql_hash;  ///< the rollup SQL's fingerprint, as in `frost_rollups`
    };
    struct entry {
        std::string sql;  ///< the endpoint's SQL, exactly as the service sends it
        std::string rollup;
        std::shared_ptr<const prefix_index> index;  ///< null in a lazily decoded index: see `serialized`
        std::string_view serialized;                ///< lazily decoded: the index's bytes, inside `file`
    };
    /// How much `decode` and `read` decode: every entry's index, or only the file's structure,
    /// leaving each index's bytes to `prefix_index::deserialize` on first use (a cold start
    /// answers one endpoint first; deserializing all was ≈ 0.5 ms of it).
    enum class entries_mode : std::uint8_t { decoded, lazy };
    /// 2: XXH3 checksums (1 had CRC-32 << 32 | Adler-32: 2.4 % of a cold start's samples).
    static constexpr std::uint32_t format_version = 2;

    file_identity serving;
    std::vector<rollup_version> rollups;
    std::vector<entry> entries;
    /// Read lazily: the mapped file the entries' `serialized` bytes lie in, kept while shared.
    std::shared_ptr<const void> file;

    /// XXH3-64 of `bytes`: the payload's checksum, and a file's identity. It catches a stale or
    /// damaged file, not a forged one (whoever can write the package can write both files).
    [[nodiscard]] static std::uint64_t checksum(std::string_view bytes);

    /// The file's bytes.
    [[nodiscard]] std::string encode() const;
    /// Parses `bytes`; fails with a message saying what is wrong (magic, version, length,
    /// checksum, any field), never crashes.
    /// With entries_mode::lazy, the entries' `serialized` views point into `bytes`.
    static model::result<answer_index> decode(std::string_view bytes, entries_mode mode = entries_mode::decoded);

    /// Writes `encode()` to `path` (through `path.tmp` and a rename: never half a file).
    [[nodiscard]] model::result<model::done> write(const std::string& path) const;
    /// Reads and decodes `path`, then checks that it belongs to `serving_file` (its identity).
    /// With entries_mode::lazy, `file` keeps the file mapped for the entries' `serialized` bytes.
    static model::result<answer_index> read(const std::string& path, const std::string& serving_file,
                                            entries_mode mode = entries_mode::decoded);
};

}  // namespace frost::rollup
