#include "web/assets.hpp"

#include <array>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

#include "cache/http_caching.hpp"
#include "codec/gzip.hpp"

namespace frost::web {

namespace fs = std::filesystem;

namespace {

bool compressible(std::string_view type) {
    return type.starts_with("text/") || type.starts_with("application/javascript") ||
           type.starts_with("application/json") || type.starts_with("image/svg");
}

}  // namespace

std::shared_ptr<const std::string> gzip_if_smaller(std::string_view bytes) {
    auto z = codec::gzip(bytes);
    if (!z || z->size() >= bytes.size()) return nullptr;
    return std::make_shared<const std::string>(std::move(*z));
}

std::string_view content_type_for(std::string_view name) noexcept {
    struct entry {
        std::string_view ext, type;
    };
    static constexpr std::array<entry, 14> types{{
        {".html", "text/html; charset=utf-8"},
        {".js", "application/javascript; charset=utf-8"},
        {".mjs", "application/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".woff", "font/woff"},
        {".txt", "text/plain; charset=utf-8"},
        {".webp", "image/webp"},
        {".jpg", "image/jpeg"},
    }};
    for (const auto& t : types)
        if (name.ends_with(t.ext)) return t.type;
    return "application/octet-stream";
}

model::result<asset_store> asset_store::load(const fs::path& root, std::size_t max_total_bytes) {
    auto fail = [&](std::string what) {
        return model::error{model::error_code::config_error,
                            "web root " + root.string() + ": " + std::move(what),
                            {},
                            "build the web files with ./scripts/build-web.sh"};
    };
    std::error_code ec;
    const auto canonical_root = fs::weakly_canonical(root, ec);
    if (ec || !fs::is_directory(canonical_root, ec)) return fail("not a folder");
    asset_store store;
    store.root_ = canonical_root;
    std::size_t total = 0;
    fs::recursive_directory_iterator it(canonical_root, fs::directory_options::skip_permission_denied, ec);
    if (ec) return fail(ec.message());
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) return fail(ec.message());
        const auto& entry = *it;
        const auto file_name = entry.path().filename().string();
        if (!file_name.empty() && file_name[0] == '.') {
            if (entry.is_directory(ec)) it.disable_recursion_pending();
            continue;
        }
        if (!entry.is_regular_file(ec)) continue;
        const auto real = fs::weakly_canonical(entry.path(), ec);
        if (ec) continue;
        auto rel = real.lexically_relative(canonical_root).generic_string();
        if (rel.empty() || rel.starts_with("..")) continue;  // a link out of the root
        std::ifstream in(real, std::ios::binary);
        if (!in) return fail("cannot read " + rel);
        std::ostringstream buf;
        buf << in.rdbuf();
        auto bytes = std::move(buf).str();
        total += bytes.size();
        if (total > max_total_bytes)
            return fail("more than " + std::to_string(max_total_bytes >> 20) + " MiB of files");
        asset a;
        a.content_type = std::string(content_type_for(rel));
        a.etag = cache::strong_etag(bytes);
        if (compressible(a.content_type) && bytes.size() > 1024) a.gzipped = gzip_if_smaller(bytes);
        if (a.gzipped) a.gzip_etag = cache::strong_etag(bytes, "-gz");
        a.bytes = std::make_shared<const std::string>(std::move(bytes));
        store.files_.emplace(std::move(rel), std::move(a));
    }
    return store;
}

const asset* asset_store::find(std::string_view relative) const {
    auto it = files_.find(relative);
    return it == files_.end() ? nullptr : &it->second;
}

std::optional<fs::path> find_web_root(const std::string& explicit_root) {
    if (!explicit_root.empty()) return fs::path(explicit_root);
    if (const char* v = std::getenv("FROST_WEB_ROOT"); v && *v) return fs::path(v);
    std::error_code ec;
    auto has_pages = [&](const fs::path& p) { return fs::is_regular_file(p / "dashboard.html", ec); };
    if (has_pages(".cache/web")) return fs::path(".cache/web");
    const auto exe = fs::read_symlink("/proc/self/exe", ec);
    if (ec) return std::nullopt;
    auto dir = exe.parent_path();
    if (has_pages(dir / "web")) return dir / "web";
    for (int up = 0; up < 5 && dir.has_parent_path() && dir != dir.root_path(); ++up) {
        dir = dir.parent_path();
        if (has_pages(dir / ".cache/web")) return dir / ".cache/web";
    }
    return std::nullopt;
}

}  // namespace frost::web
