#include "cache/http_caching.hpp"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>

namespace frost::cache {

namespace {

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

// RAII for a z_stream set up by deflateInit2/inflateInit2.
struct z_stream_owner {
    z_stream z{};
    bool deflating;
    explicit z_stream_owner(bool d) : deflating(d) {}
    ~z_stream_owner() { deflating ? deflateEnd(&z) : inflateEnd(&z); }
    z_stream_owner(const z_stream_owner&) = delete;
    z_stream_owner& operator=(const z_stream_owner&) = delete;
};

// The q-value of one Accept-Encoding member's parameters (`;q=0.5`), 1 when absent.
double q_value(std::string_view params) noexcept {
    while (!params.empty()) {
        auto semi = params.find(';');
        auto p = trim(params.substr(0, semi));
        params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
        if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            auto v = p.substr(2);
            // q-values are 0, 1 or 0.xxx: anything with a non-zero digit is > 0.
            return v.find_first_of("123456789") == std::string_view::npos ? 0.0 : 1.0;
        }
    }
    return 1.0;
}

}  // namespace

std::optional<std::string> gzip(std::string_view bytes) {
    z_stream_owner s(true);
    // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
    // deflateEnd on a stream whose init failed is a harmless Z_STREAM_ERROR.
    if (deflateInit2(&s.z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return std::nullopt;
    std::string out;
    out.resize(deflateBound(&s.z, static_cast<uLong>(bytes.size())));
    s.z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    s.z.avail_in = static_cast<uInt>(bytes.size());
    s.z.next_out = reinterpret_cast<Bytef*>(out.data());
    s.z.avail_out = static_cast<uInt>(out.size());
    if (deflate(&s.z, Z_FINISH) != Z_STREAM_END) return std::nullopt;
    out.resize(s.z.total_out);
    return out;
}

std::optional<std::string> gunzip(std::string_view bytes) {
    z_stream_owner s(false);
    if (inflateInit2(&s.z, 15 + 16) != Z_OK) return std::nullopt;
    std::string out;
    s.z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    s.z.avail_in = static_cast<uInt>(bytes.size());
    char chunk[16384];
    for (;;) {
        s.z.next_out = reinterpret_cast<Bytef*>(chunk);
        s.z.avail_out = sizeof chunk;
        const int rc = inflate(&s.z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) return std::nullopt;
        out.append(chunk, sizeof chunk - s.z.avail_out);
        if (rc == Z_STREAM_END) return s.z.avail_in == 0 ? std::optional<std::string>(std::move(out)) : std::nullopt;
        if (s.z.avail_in == 0 && s.z.avail_out != 0) return std::nullopt;  // truncated
    }
}

std::string strong_etag(std::string_view bytes, std::string_view suffix) {
    std::uint64_t h = 14695981039346656037ull;
    for (unsigned char c : bytes) {
        h ^= c;
        h *= 1099511628211ull;
    }
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
        t = trim(t);
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

bool accepts_gzip(std::string_view header) noexcept {
    bool gzip_ok = false, gzip_named = false, star_ok = false;
    while (!header.empty()) {
        const auto comma = header.find(',');
        auto member = header.substr(0, comma);
        header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
        const auto semi = member.find(';');
        const auto coding = trim(member.substr(0, semi));
        const double q = semi == std::string_view::npos ? 1.0 : q_value(member.substr(semi + 1));
        if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) {
            gzip_named = true;
            gzip_ok = q > 0;
        } else if (coding == "*") {
            star_ok = q > 0;
        }
    }
    return gzip_named ? gzip_ok : star_ok;
}

std::string cache_control(const config::cache_policy& policy) {
    using std::chrono::duration_cast;
    using std::chrono::seconds;
    if (policy.ttl.count() <= 0) return "no-store";
    std::string out = policy.shared ? "public" : "private";
    out += ", max-age=" + std::to_string(duration_cast<seconds>(policy.ttl).count());
    if (policy.stale_while_revalidate.count() > 0)
        out += ", stale-while-revalidate=" + std::to_string(duration_cast<seconds>(policy.stale_while_revalidate).count());
    if (policy.stale_if_error.count() > 0)
        out += ", stale-if-error=" + std::to_string(duration_cast<seconds>(policy.stale_if_error).count());
    return out;
}

}  // namespace frost::cache
