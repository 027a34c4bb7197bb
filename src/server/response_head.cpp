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

void append_status_line(std::string& out, int status) {
    out += "HTTP/1.1 ";
    append_number(out, static_cast<std::size_t>(status));
    out += ' ';
    out += http::obsolete_reason(http::int_to_status(static_cast<unsigned>(status)));
    out += "\r\n";
}

// Which of the service's fields are written, and whether `Server` is the server's. A later field
// of the same name replaces an earlier one (Beast's `set`), so a field is written where its last
// occurrence is; `Server` is the server's unless the service names it.
struct field_fates {
    const api::response& res;
    bool request_id;

    [[nodiscard]] bool server_named() const {
        for (const auto& [k, v] : res.headers)
            if (codec::iequals(k, "server")) return true;
        return false;
    }
    [[nodiscard]] bool written(std::size_t i) const {
        const auto& fields = res.headers;
        const auto& name = fields[i].first;
        if (framing_field(name) || (request_id && codec::iequals(name, "x-request-id"))) return false;
        for (auto j = i + 1; j < fields.size(); ++j)
            if (codec::iequals(fields[j].first, name)) return false;
        return true;
    }
};

// The fields after the service's: the request id, `Connection: close`, `Content-Length`, the
// empty line. Returns whether the body follows.
bool append_framing(std::string& out, const api::response& res, const head_framing& framing) {
    if (!framing.request_id.empty()) append_field(out, "X-Request-Id", framing.request_id);
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

}  // namespace

bool write_response_head(std::string& out, const api::response& res, const head_framing& framing) {
    out.clear();
    append_status_line(out, res.status);
    const field_fates fates{res, !framing.request_id.empty()};
    if (!fates.server_named()) append_field(out, "Server", "frost");
    for (std::size_t i = 0; i < res.headers.size(); ++i)
        if (fates.written(i)) append_field(out, res.headers[i].first, res.headers[i].second);
    return append_framing(out, res, framing);
}

bool response_head_writer::write(std::string& out, const api::response& res, const head_framing& framing) {
    out.clear();
    append_status_line(out, res.status);
    const field_fates fates{res, !framing.request_id.empty()};
    if (!fates.server_named()) append_field(out, "Server", "frost");
    const auto& fields = res.headers;
    // The leading fields equal to the last head's, with the same fate, keep their bytes.
    std::size_t same = 0;
    for (; same < fields.size() && same < last_.size(); ++same) {
        const auto& was = last_[same];
        if (was.name != fields[same].first || was.value != fields[same].second || was.written != fates.written(same))
            break;
    }
    lines_.resize(same ? last_[same - 1].end : 0);
    for (auto i = same; i < fields.size(); ++i) {
        const bool written = fates.written(i);
        if (written) append_field(lines_, fields[i].first, fields[i].second);
        if (i == last_.size()) last_.emplace_back();
        // Assigned in place: a field that changes every time (Server-Timing) reuses its strings.
        auto& now = last_[i];
        now.name = fields[i].first;
        now.value = fields[i].second;
        now.written = written;
        now.end = lines_.size();
    }
    last_.resize(fields.size());
    out += lines_;
    return append_framing(out, res, framing);
}

}  // namespace frost::server
