#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "model/error.hpp"

namespace frost::web {

/// One file of the web root, held in memory with what its HTTP answer needs.
struct asset {
    std::shared_ptr<const std::string> bytes;
    std::shared_ptr<const std::string> gzipped;  ///< null when gzip does not make it smaller
    std::string content_type;
    std::string etag;       ///< strong, quoted: a hash of the bytes
    std::string gzip_etag;  ///< the gzip form's own tag (a different representation)
};

/// The dashboard and docs files (`scripts/build-web.sh` output), read once at start-up.
/// Immutable after `load`, so lookups are thread-safe without locks.
class asset_store {
public:
    /// Reads every regular file under `root` (recursively; hidden files and symlinks that
    /// leave the root are skipped). Fails when `root` is not a readable folder or holds more
    /// than `max_total_bytes`.
    [[nodiscard]] static model::result<asset_store> load(const std::filesystem::path& root,
                                                         std::size_t max_total_bytes = 64u << 20);

    /// The file at `relative` (forward slashes, no leading slash), or null.
    [[nodiscard]] const asset* find(std::string_view relative) const;

    [[nodiscard]] const std::map<std::string, asset, std::less<>>& files() const noexcept { return files_; }
    [[nodiscard]] const std::filesystem::path& root() const noexcept { return root_; }

private:
    std::filesystem::path root_;
    std::map<std::string, asset, std::less<>> files_;
};

/// The gzip form of `bytes` when it is smaller than them, else null.
[[nodiscard]] std::shared_ptr<const std::string> gzip_if_smaller(std::string_view bytes);

/// The Content-Type for a file name, by extension (`application/octet-stream` when unknown).
[[nodiscard]] std::string_view content_type_for(std::string_view file_name) noexcept;

/// Where the built web files are: `explicit_root` when not empty; else `FROST_WEB_ROOT`;
/// else the first of `./.cache/web`, `<exe dir>/web` (a packaged binary), and `.cache/web`
/// in a parent of the executable's folder (a build tree inside the repository) that holds
/// `dashboard.html`. Nullopt when none does.
[[nodiscard]] std::optional<std::filesystem::path> find_web_root(const std::string& explicit_root);

}  // namespace frost::web
