#include "api/render.hpp"

#include <charconv>
#include <cmath>

#include "codec/utf8.hpp"

namespace frost::api {

void append_json_string(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    std::size_t i = 0;
    while (i < s.size()) {
        // A run of printable ASCII other than a quote or a backslash goes out as it is, in one append.
        std::size_t run = i;
        while (run < s.size()) {
            const auto b = static_cast<unsigned char>(s[run]);
            if (b < 0x20 || b >= 0x7f || b == '"' || b == '\\') break;
            ++run;
        }
        if (run > i) {
            out.append(s.data() + i, run - i);
            i = run;
            if (i == s.size()) break;
        }
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            switch (c) {
                case '"':
                    out += "\\\"";
                    break;
                case '\\':
                    out += "\\\\";
                    break;
                case '\n':
                    out += "\\n";
                    break;
                case '\r':
                    out += "\\r";
                    break;
                case '\t':
                    out += "\\t";
                    break;
                default:
                    if (c < 0x20 || c == 0x7f) {
                        out += "\\u00";
                        out += hex[c >> 4];
                        out += hex[c & 0xf];
                    } else {
                        out += static_cast<char>(c);
                    }
            }
            ++i;
            continue;
        }
        i += codec::append_utf8_or_replacement(out, s, i);
    }
    out += '"';
}

void append_json_value(std::string& out, const model::value& v, model::column_type type) {
    struct visitor {
        std::string& out;
        model::column_type type;
        void operator()(std::monostate) const { out += "null"; }
        void operator()(bool b) const { out += b ? "true" : "false"; }
        void operator()(std::int64_t i) const {
            char buf[24];
            auto [p, ec] = std::to_chars(buf, buf + sizeof buf, i);
            out.append(buf, p);
        }
        void operator()(double d) const {
            if (!std::isfinite(d)) {
                out += "null";
                return;
            }
            char buf[32];
            auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);
            out.append(buf, p);
        }
        void operator()(const model::decimal& d) const { out += model::format_decimal(d); }
        void operator()(const model::date& d) const {
            out += '"';
            model::append_date(out, d);
            out += '"';
        }
        void operator()(const model::timestamp& t) const {
            out += '"';
            model::append_timestamp(out, t);
            out += '"';
        }
        void operator()(const std::string& s) const {
            if (type == model::column_type::json) {
                out += s;  // validated by the source that produced it
            } else {
                append_json_string(out, s);
            }
        }
    };
    std::visit(visitor{out, type}, v);
}

void append_rows(std::string& out, const model::table& t, config::row_format format) {
    out += '[';
    bool first_row = true;
    for (const auto& row : t.rows) {
        if (!first_row) out += ',';
        first_row = false;
        out += format == config::row_format::arrays ? '[' : '{';
        for (std::size_t c = 0; c < row.size(); ++c) {
            if (c) out += ',';
            if (format == config::row_format::objects) {
                append_json_string(out, t.columns[c].name);
                out += ':';
            }
            append_json_value(out, row[c], t.columns[c].type);
        }
        out += format == config::row_format::arrays ? ']' : '}';
    }
    out += ']';
}

std::string render_envelope(const model::table& t, config::row_format format, long long time_ms) {
    std::string out;
    out.reserve(64 + t.rows.size() * 24);
    out += "{\"result\":";
    append_rows(out, t, format);
    out += ",\"time_ms\":";
    out += std::to_string(time_ms);
    out += '}';
    return out;
}

std::string render_error(const model::error& e, std::string_view request_id) {
    std::string out = "{\"error\":";
    append_json_string(out, e.message);
    out += ",\"code\":";
    append_json_string(out, model::code_name(e.code));
    if (!e.details.empty()) {
        out += ",\"details\":";
        append_json_string(out, e.details);
    }
    if (!e.hint.empty()) {
        out += ",\"hint\":";
        append_json_string(out, e.hint);
    }
    if (!request_id.empty()) {
        out += ",\"request_id\":";
        append_json_string(out, request_id);
    }
    out += '}';
    return out;
}

}  // namespace frost::api
