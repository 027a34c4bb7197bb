#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "model/error.hpp"

namespace frost::data {

/// One file inside a zip archive, as its central directory describes it.
struct zip_member {
    std::string name;          ///< the path inside the archive, `/`-separated
    std::uint16_t method = 0;  ///< 0 stored, 8 deflated; others are refused at extraction
    std::uint32_t crc32 = 0;
    std::uint64_t compressed_size = 0;
    std::uint64_t uncompressed_size = 0;
    std::uint64_t local_header_offset = 0;
};

/// Lists the members of the zip archive at `path` from its central directory (zip64 included).
/// Fails with `bad_parameter` when the file is not a zip archive or its directory is damaged.
[[nodiscard]] model::result<std::vector<zip_member>> list_zip(const std::string& path);

/// Inflates one member of the archive at `path` into a new file `out_path`, checking its size
/// and CRC-32. Stops with an error when `cancel` becomes true. On any failure `out_path` is
/// removed, so no partial file is ever left. Reads and writes in 1 MiB blocks: constant memory.
[[nodiscard]] model::result<model::done> extract_zip_member(const std::string& path, const zip_member& member,
                                                            const std::string& out_path,
                                                            const std::atomic<bool>& cancel);

}  // namespace frost::data
