#include "snapshot/manifest.hpp"

#include <boost/json.hpp>

#include <cctype>
#include <cstdio>

#include "codec/utc_time.hpp"

namespace frost::snapshot {

namespace {

model::error manifest_error(std::string message) {
    return {model::error_code::source_error, "snapshot manifest: " + std::move(message), {}, {}};
}

bool lower_hex(std::string_view s) {
    for (unsigned char c : s)
        if (!(std::isdigit(c) || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

long long epoch_ms(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string version_name(std::chrono::system_clock::time_point as_of, std::string_view sha256) {
    char ms[32];
    std::snprintf(ms, sizeof ms, "%013lld", std::max(0LL, epoch_ms(as_of)));
    return std::string(ms) + "-" + std::string(sha256.substr(0, 16));
}

bool newer(const manifest& a, const manifest& b) {
    if (a.as_of != b.as_of) return a.as_of > b.as_of;
    return a.version > b.version;
}

std::string to_json(const manifest& m) {
    boost::json::object o;
    o["format"] = 1;
    o["version"] = m.version;
    o["as_of"] = codec::format_utc(m.as_of);
    o["as_of_ms"] = epoch_ms(m.as_of);
    boost::json::object rollups;
    for (const auto& [name, v] : m.rollups) rollups[name] = v;
    o["rollups"] = std::move(rollups);
    o["sha256"] = m.sha256;
    o["size"] = m.size;
    o["key"] = m.key();
    return boost::json::serialize(o) + "\n";
}

model::result<manifest> parse_manifest(std::string_view json) {
    boost::system::error_code ec;
    auto v = boost::json::parse(json, ec);
    if (ec || !v.is_object()) return manifest_error("not a JSON object");
    const auto& o = v.as_object();
    manifest m;
    const auto* format = o.if_contains("format");
    if (!format || !format->is_int64() || format->as_int64() != 1) return manifest_error("unknown format (expected 1)");
    const auto* version = o.if_contains("version");
    const auto* sha = o.if_contains("sha256");
    const auto* size = o.if_contains("size");
    const auto* as_of = o.if_contains("as_of_ms");
    const auto* rollups = o.if_contains("rollups");
    if (!version || !version->is_string() || !sha || !sha->is_string() || !size || !as_of || !as_of->is_int64() ||
        !rollups || !rollups->is_object())
        return manifest_error("version, as_of_ms, rollups, sha256 and size are required");
    m.sha256 = std::string(sha->as_string());
    if (m.sha256.size() != 64 || !lower_hex(m.sha256)) return manifest_error("sha256 is not 64 hex digits");
    if (size->is_int64() && size->as_int64() > 0)
        m.size = static_cast<std::uint64_t>(size->as_int64());
    else if (size->is_uint64() && size->as_uint64() > 0)
        m.size = size->as_uint64();
    else
        return manifest_error("size is not a positive whole number");
    // system_clock counts nanoseconds in 64 bits: it ends in 2262, so later times cannot be held.
    if (as_of->as_int64() < 0 || as_of->as_int64() > 7'258'118'400'000)
        return manifest_error("as_of_ms is outside 1970-2200");
    m.as_of = std::chrono::system_clock::time_point(std::chrono::milliseconds(as_of->as_int64()));
    m.version = std::string(version->as_string());
    // The version names the file's digest, so a manifest cannot point at another file's name.
    if (m.version != version_name(m.as_of, m.sha256))
        return manifest_error("version does not match as_of_ms and sha256");
    for (const auto& [name, rv] : rollups->as_object()) {
        if (!rv.is_int64() || rv.as_int64() <= 0) return manifest_error("rollup versions must be positive numbers");
        m.rollups[std::string(name)] = static_cast<std::uint64_t>(rv.as_int64());
    }
    return m;
}

}  // namespace frost::snapshot
