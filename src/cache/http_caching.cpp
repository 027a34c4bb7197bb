#include "cache/http_caching.hpp"

#include <chrono>
#include <cstdint>

#include "codec/fnv.hpp"
#include "codec/http_tokens.hpp"

namespace frost::cache {

std::string strong_etag(std::string_view bytes, std::string_view suffix) {
    std::uint64_t h = codec::fnv1a_64(bytes);
    char hex[17];
    static constexpr char digits[] = "0123456789abcdef";
    for (int i = 15; i >= 0; --i, h >>= 4) hex[i] = digits[h & 15];
    hex[16] = '\0';
    std::string tag;
    tag.reserve(20 + suffix.size());
    tag += '"';
    tag.append(hex, 16);
    tag += suffix;
    tag += '"';
    return tag;
}

bool if_none_match(std::string_view header, std::string_view etag) noexcept {
    auto bare = [](std::string_view t) {
        t = codec::trim(t);
        if (t.size() >= 2 && t[0] == 'W' && t[1] == '/') t.remove_prefix(2);
        return t;
    };
    const auto want = bare(etag);
    while (!header.empty()) {
        const auto comma = header.find(',');
        const auto member = bare(header.substr(0, comma));
        header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
        if (member == "*" || (!member.empty() && member == want)) return true;
    }
    return false;
}

std::string cache_control(const config::cache_policy& policy) {
    using std::chrono::duration_cast;
    using std::chrono::seconds;
    if (policy.ttl.count() <= 0) return "no-store";
    std::string out = policy.shared ? "public" : "private";
    out += ", max-age=" + std::to_string(duration_cast<seconds>(policy.ttl).count());
    if (policy.stale_while_revalidate.count() > 0)
        out +=
            ", stale-while-revalidate=" + std::to_string(duration_cast<seconds>(policy.stale_while_revalidate).count());
    if (policy.stale_if_error.count() > 0)
        out += ", stale-if-error=" + std::to_string(duration_cast<seconds>(policy.stale_if_error).count());
    return out;
}

}  // namespace frost::cache
