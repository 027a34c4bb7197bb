#include "server/response_head.hpp"

#include <boost/beast/http/status.hpp>

#include <array>
#include <charconv>

#include "codec/http_tokens.hpp"

namespace frost::server {

namespace {

namespace http = boost::beast::http;

bool framing_field(std::string_view name) {
    return codec::iequals(name, "content-length") || codec::iequals(name, "transfer-encoding") ||
           codec::iequals(name, "connection");
}

// A field value without the optional whitespace around it (RFC 9110 §5.5).
std::string_view trimmed(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
    value = trimmed(value);
    out += name;
    out += ": ";
    const auto start = out.size();
    out += value;
    for (auto i = start; i < out.size(); ++i)
        if (out[i] == '\r' || out[i] == '\n' || out[i] == '\0') out[i] = ' ';
    out += "\r\n";
}

void append_number(std::string& out, std::size_t n) {
    std::array<char, 24> digits{};
    const auto r = std::to_chars(digits.data(), digits.data() + digits.size(), n);
    out.append(digits.data(), r.ptr);
}

}  // namespace

bool write_response_head(std::string& out, const api::response& res, const head_framing& framing) {
    out.clear();
    out += "HTTP/1.1 ";
    append_number(out, static_cast<std::size_t>(res.status));
    out += ' ';
    out += http::obsolete_reason(http::int_to_status(static_cast<unsigned>(res.status)));
    out += "\r\n";

    // A later field of the same name replaces an earlier one (Beast's `set`), so a field is
    // written where its last occurrence is; `Server` is the server's unless the service names it.
    const auto& fields = res.headers;
    const auto repeated_later = [&](std::size_t i) {
        for (auto j = i + 1; j < fields.size(); ++j)
            if (codec::iequals(fields[j].first, fields[i].first)) return true;
        return false;
    };
    const auto named = [&](std::string_view name) {
        for (const auto& [k, v] : fields)
            if (codec::iequals(k, name)) return true;
        return false;
    };
    const bool request_id = !framing.request_id.empty();
    if (!named("server")) append_field(out, "Server", "frost");
    for (std::size_t i = 0; i < fields.size(); ++i) {
        const auto& [name, value] = fields[i];
        if (framing_field(name) || repeated_later(i) || (request_id && codec::iequals(name, "x-request-id"))) continue;
        append_field(out, name, value);
    }
    if (request_id) append_field(out, "X-Request-Id", framing.request_id);

    const bool bodiless = res.status / 100 == 1 || res.status == 204 || res.status == 304;
    const auto length = res.body_view().size();
    if (!framing.keep_alive) out += "Connection: close\r\n";
    if (framing.head_request || !bodiless) {
        out += "Content-Length: ";
        append_number(out, length);
        out += "\r\n";
    }
    out += "\r\n";
    return !framing.head_request && !bodiless;
}

}  // namespace frost::server
