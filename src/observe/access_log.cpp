#include "observe/access_log.hpp"

#include <chrono>
#include <cstdio>

#include "codec/utc_time.hpp"

namespace frost::observe {

std::string json_string(std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "\"";
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '"')
            out += "\\\"";
        else if (c == '\\')
            out += "\\\\";
        else if (c < 0x20 || c == 0x7f || c >= 0x80) {
            // Bytes >= 0x80 are escaped one by one: the line stays ASCII and valid JSON
            // whatever a client sent.
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 0xf];
        } else {
            out += static_cast<char>(c);
        }
    }
    out += '"';
    return out;
}

std::string access_log::format(const api::request& req, const api::response& res, const api::request_stats& stats) {
    using namespace std::chrono;
    const auto when = codec::format_utc(system_clock::now(), codec::utc_precision::milliseconds);
    char numbers[96];
    std::snprintf(numbers, sizeof numbers, R"("duration_ms":%.3f,"query_ms":%.3f)",
                  duration<double, std::milli>(model::clock::now() - stats.started).count(),
                  duration<double, std::milli>(stats.query_time).count());
    std::string line = R"({"time":")";
    line += when;
    line += R"(","request_id":)" + json_string(req.request_id);
    line += ",\"method\":" + json_string(req.method.substr(0, 16));
    line += ",\"target\":" + json_string(std::string_view(req.target).substr(0, 512));
    line += ",\"status\":" + std::to_string(res.status);
    line += ",\"bytes\":" + std::to_string(res.body_view().size());
    line += ",";
    line += numbers;
    line += ",\"route\":" + json_string(stats.route);
    line += ",\"cache\":" + json_string(stats.cache);
    if (!stats.source.empty()) line += ",\"source\":" + json_string(stats.source);
    line += ",\"client\":" + json_string(req.client_address);
    if (!req.principal.empty()) line += ",\"principal\":" + json_string(req.principal);
    line += "}";
    return line;
}

void access_log::write(const api::request& req, const api::response& res, const api::request_stats& stats) {
    auto line = format(req, res, stats);
    line += '\n';
    std::lock_guard lock(mutex_);
    std::fwrite(line.data(), 1, line.size(), out_);
    std::fflush(out_);
}

}  // namespace frost::observe
