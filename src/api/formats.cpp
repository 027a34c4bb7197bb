#include "api/formats.hpp"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <variant>

#include "api/render.hpp"
#include "codec/http_tokens.hpp"
#include "codec/utf8.hpp"

namespace frost::api {

namespace {

bool needs_quotes(std::string_view s) noexcept {
    return s.empty() || s.find_first_of(",\"\r\n") != std::string_view::npos;
}

// Appends `s` with each byte that is not part of a well-formed UTF-8 sequence replaced by U+FFFD,
// and, when `quoted`, each double quote doubled.
void append_clean(std::string& out, std::string_view s, bool quoted) {
    std::size_t i = 0;
    while (i < s.size()) {
        // A run of ASCII that needs nothing done goes out as it is, in one append.
        std::size_t run = i;
        while (run < s.size()) {
            const auto b = static_cast<unsigned char>(s[run]);
            if (b >= 0x80 || (quoted && b == '"')) break;
            ++run;
        }
        if (run > i) {
            out.append(s.data() + i, run - i);
            i = run;
            if (i == s.size()) break;
        }
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            out += static_cast<char>(c);
            if (quoted && c == '"') out += '"';
            ++i;
            continue;
        }
        i += codec::append_utf8_or_replacement(out, s, i);
    }
}

// The names of `formats` in their order: `sep` between them, `last_sep` before the last.
std::string format_names(format_offer formats, std::string_view sep, std::string_view last_sep) {
    std::string out;
    for (std::size_t k = 0; k < formats.size(); ++k) {
        if (k) out += k + 1 == formats.size() ? last_sep : sep;
        out += format_name(formats[k]);
    }
    return out;
}

}  // namespace

std::string_view format_name(output_format f) noexcept {
    switch (f) {
        case output_format::json:
            return "json";
        case output_format::objects:
            return "objects";
        case output_format::ndjson:
            return "ndjson";
        case output_format::csv:
            return "csv";
    }
    return "json";
}

std::optional<output_format> parse_format_name(std::string_view name) noexcept {
    for (auto f : all_output_formats)
        if (format_name(f) == name) return f;
    return std::nullopt;
}

std::string_view media_type(output_format f) noexcept {
    switch (f) {
        case output_format::json:
            return "application/json";
        case output_format::objects:
            return "application/vnd.frost.objects+json";
        case output_format::ndjson:
            return "application/x-ndjson";
        case output_format::csv:
            return "text/csv";
    }
    return "application/json";
}

std::string_view content_type(output_format f) noexcept {
    return f == output_format::csv ? "text/csv; charset=utf-8" : media_type(f);
}

format_offer offered_formats(const config::endpoint_config& e) noexcept {
    return e.stream ? format_offer(export_formats) : format_offer(all_output_formats);
}

std::string offered_media_types(format_offer offered) {
    std::string out;
    for (auto f : offered) {
        if (!out.empty()) out += ", ";
        out += media_type(f);
    }
    return out;
}

model::result<output_format> negotiate_format(std::string_view accept, std::optional<std::string_view> format_value,
                                              format_offer offered) {
    assert(!offered.empty());
    if (format_value) {
        if (auto f = parse_format_name(*format_value);
            f && std::find(offered.begin(), offered.end(), *f) != offered.end())
            return *f;
        std::string shown(format_value->substr(0, 32));
        if (!codec::valid_utf8(shown)) shown = "(not UTF-8)";
        return model::error{
            model::error_code::bad_parameter,
            "parameter format: expected " + format_names(offered, ", ", " or ") + ", got \"" + shown + "\"",
            {},
            "leave it out to choose by the Accept header"};
    }
    const auto ranges = codec::parse_accept(accept);
    if (ranges.empty()) return offered.front();
    int best_q = 0;
    std::optional<output_format> best;
    for (auto f : offered) {
        const auto type = media_type(f);
        const auto slash = type.find('/');
        const int q = codec::accept_quality(ranges, type.substr(0, slash), type.substr(slash + 1));
        if (q > best_q) {
            best_q = q;
            best = f;
        }
    }
    if (best) return *best;
    return model::error{model::error_code::not_acceptable, "none of the media types in Accept can be served here",
                        "offered: " + offered_media_types(offered),
                        "send one of them in Accept, or choose with ?format=" + format_names(offered, "|", "|")};
}

void append_csv_text(std::string& out, std::string_view s) {
    if (!needs_quotes(s)) {
        append_clean(out, s, false);
        return;
    }
    out += '"';
    append_clean(out, s, true);
    out += '"';
}

void append_csv_value(std::string& out, const model::value& v, model::column_type type) {
    std::visit(
        [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::monostate>) {
                return;  // NULL: an empty field
            } else if constexpr (std::is_same_v<T, std::string>) {
                append_csv_text(out, x);
            } else if constexpr (std::is_same_v<T, model::date>) {
                model::append_date(out, x);
            } else if constexpr (std::is_same_v<T, model::timestamp>) {
                model::append_timestamp(out, x);
            } else if constexpr (std::is_same_v<T, double>) {
                // JSON has no NaN or infinity and answers null; CSV says the same with an empty field.
                if (std::isfinite(x)) append_json_value(out, v, type);
            } else {
                // Numbers, decimals and booleans: JSON's text never holds a comma, quote or newline.
                append_json_value(out, v, type);
            }
        },
        v);
}

void append_json_object(std::string& out, std::span<const model::column> columns, std::span<const model::value> row) {
    out += '{';
    for (std::size_t c = 0; c < row.size(); ++c) {
        if (c) out += ',';
        append_json_string(out, columns[c].name);
        out += ':';
        append_json_value(out, row[c], columns[c].type);
    }
    out += '}';
}

row_encoder::row_encoder(output_format format, config::row_format shape) noexcept
    : format_(format), shape_(format == output_format::objects ? config::row_format::objects : shape) {}

void row_encoder::begin(std::string& out, std::span<const model::column> columns) {
    first_row_ = true;
    switch (format_) {
        case output_format::json:
        case output_format::objects:
            out += "{\"result\":[";
            break;
        case output_format::ndjson:
            break;
        case output_format::csv:
            for (std::size_t c = 0; c < columns.size(); ++c) {
                if (c) out += ',';
                append_csv_text(out, columns[c].name);
            }
            out += "\r\n";
            break;
    }
}

void row_encoder::row(std::string& out, std::span<const model::column> columns, std::span<const model::value> row) {
    switch (format_) {
        case output_format::json:
        case output_format::objects:
            if (!first_row_) out += ',';
            if (shape_ == config::row_format::objects) {
                append_json_object(out, columns, row);
            } else {
                out += '[';
                for (std::size_t c = 0; c < row.size(); ++c) {
                    if (c) out += ',';
                    append_json_value(out, row[c], columns[c].type);
                }
                out += ']';
            }
            break;
        case output_format::ndjson:
            append_json_object(out, columns, row);
            out += '\n';
            break;
        case output_format::csv:
            for (std::size_t c = 0; c < row.size(); ++c) {
                if (c) out += ',';
                append_csv_value(out, row[c], columns[c].type);
            }
            out += "\r\n";
            break;
    }
    first_row_ = false;
}

void row_encoder::rows(std::string& out, const model::table& t, std::size_t first, std::size_t last) {
    last = std::min(last, t.rows.size());
    for (std::size_t r = first; r < last; ++r) row(out, t.columns, t.rows[r]);
}

void row_encoder::end(std::string& out, long long time_ms, std::string_view next) {
    switch (format_) {
        case output_format::json:
        case output_format::objects:
            out += ']';
            if (!next.empty()) {
                out += ",\"next\":";
                append_json_string(out, next);
            }
            out += ",\"time_ms\":";
            out += std::to_string(time_ms);
            out += '}';
            break;
        case output_format::ndjson:
            if (!next.empty()) {
                out += "{\"@next\":";
                append_json_string(out, next);
                out += "}\n";
            }
            break;
        case output_format::csv:
            break;
    }
}

namespace {

void append_integer(std::string& out, std::int64_t i) {
    char buf[24];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, i);
    out.append(buf, p);
}

// A real as `append_json_value` writes it, or nothing (CSV) / `null` (JSON) when not finite.
void append_real(std::string& out, double d, bool json) {
    if (!std::isfinite(d)) {
        if (json) out += "null";
        return;
    }
    char buf[32];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);
    out.append(buf, p);
}

template <typename T>
T cell_of(const model::column_vector& v, std::size_t row) noexcept {
    T x;
    std::memcpy(&x, static_cast<const char*>(v.data) + row * sizeof(T), sizeof(T));
    return x;
}

// Appends cell `row` of `v` (a valid one) as `append_csv_value` (`json` false) or
// `append_json_value` (`json` true) would write `v.cell(row)`.
void append_vector_cell(std::string& out, const model::column_vector& v, std::size_t row, model::column_type type,
                        bool json) {
    using model::cell_layout;
    switch (v.layout) {
        case cell_layout::boolean:
            out += cell_of<bool>(v, row) ? "true" : "false";
            return;
        case cell_layout::int8:
            return append_integer(out, cell_of<std::int8_t>(v, row));
        case cell_layout::int16:
            return append_integer(out, cell_of<std::int16_t>(v, row));
        case cell_layout::int32:
            return append_integer(out, cell_of<std::int32_t>(v, row));
        case cell_layout::int64:
            return append_integer(out, cell_of<std::int64_t>(v, row));
        case cell_layout::uint8:
            return append_integer(out, cell_of<std::uint8_t>(v, row));
        case cell_layout::uint16:
            return append_integer(out, cell_of<std::uint16_t>(v, row));
        case cell_layout::uint32:
            return append_integer(out, cell_of<std::uint32_t>(v, row));
        case cell_layout::float32:
            return append_real(out, double{cell_of<float>(v, row)}, json);
        case cell_layout::float64:
            return append_real(out, cell_of<double>(v, row), json);
        case cell_layout::decimal16:
            out += model::format_decimal({cell_of<std::int16_t>(v, row), v.scale});
            return;
        case cell_layout::decimal32:
            out += model::format_decimal({cell_of<std::int32_t>(v, row), v.scale});
            return;
        case cell_layout::decimal64:
            out += model::format_decimal({cell_of<std::int64_t>(v, row), v.scale});
            return;
        case cell_layout::date32:
            if (json) out += '"';
            model::append_date(out, model::date{cell_of<std::int32_t>(v, row)});
            if (json) out += '"';
            return;
        case cell_layout::timestamp_us:
        case cell_layout::timestamp_s:
        case cell_layout::timestamp_ms:
        case cell_layout::timestamp_ns: {
            auto t = cell_of<std::int64_t>(v, row);
            if (v.layout == cell_layout::timestamp_s) t *= 1'000'000;
            if (v.layout == cell_layout::timestamp_ms) t *= 1'000;
            if (v.layout == cell_layout::timestamp_ns) t /= 1'000;
            if (json) out += '"';
            model::append_timestamp(out, model::timestamp{t});
            if (json) out += '"';
            return;
        }
        case cell_layout::string16: {
            const auto s = model::string16_at(v.data, row);
            if (!json) return append_csv_text(out, s);
            if (type == model::column_type::json) {
                out += s;  // as `append_json_value`: validated by the source that produced it
                return;
            }
            return append_json_string(out, s);
        }
        case cell_layout::other:
            break;
    }
    const auto cell = v.read(v, row);
    if (json) {
        append_json_value(out, cell, type);
    } else {
        append_csv_value(out, cell, type);
    }
}

}  // namespace

void row_encoder::batch(std::string& out, std::span<const model::column> columns, const model::column_batch& batch) {
    assert(batch.columns.size() == columns.size());
    const auto& vectors = batch.columns;
    const std::size_t ncols = vectors.size();
    const bool csv = format_ == output_format::csv;
    const bool objects = format_ == output_format::ndjson || shape_ == config::row_format::objects;
    // Each object's keys, `"name":`, written once for the batch.
    std::vector<std::string> keys;
    if (!csv && objects) {
        keys.resize(ncols);
        for (std::size_t c = 0; c < ncols; ++c) {
            append_json_string(keys[c], columns[c].name);
            keys[c] += ':';
        }
    }
    for (std::size_t r = 0; r < batch.rows; ++r) {
        if (csv) {
            for (std::size_t c = 0; c < ncols; ++c) {
                if (c) out += ',';
                if (vectors[c].valid(r)) append_vector_cell(out, vectors[c], r, columns[c].type, false);
            }
            out += "\r\n";
            continue;
        }
        if (format_ != output_format::ndjson && !first_row_) out += ',';
        first_row_ = false;
        out += objects ? '{' : '[';
        for (std::size_t c = 0; c < ncols; ++c) {
            if (c) out += ',';
            if (objects) out += keys[c];
            if (vectors[c].valid(r)) {
                append_vector_cell(out, vectors[c], r, columns[c].type, true);
            } else {
                out += "null";
            }
        }
        out += objects ? '}' : ']';
        if (format_ == output_format::ndjson) out += '\n';
    }
    if (batch.rows) first_row_ = false;
}

std::string encode_table(const model::table& t, output_format format, config::row_format shape, long long time_ms,
                         std::string_view next) {
    std::string out;
    out.reserve(64 + t.rows.size() * (16 + 8 * t.columns.size()));
    row_encoder e(format, shape);
    e.begin(out, t.columns);
    e.rows(out, t, 0, t.rows.size());
    e.end(out, time_ms, next);
    return out;
}

}  // namespace frost::api
