#include "source/snowflake/response.hpp"

#include <boost/json.hpp>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include "codec/http_tokens.hpp"
#include "codec/utf8.hpp"

namespace frost::source::snowflake {

namespace json = boost::json;

namespace {

model::error malformed(const std::string& what) {
    return {model::error_code::source_error, "Snowflake sent an answer Frost cannot read: " + what, {}, {}};
}

model::result<json::value> parse_json(std::string_view body) {
    json::parse_options opts;
    opts.max_depth = 64;
    boost::system::error_code ec;
    json::value v = json::parse(body, ec, {}, opts);
    if (ec) return malformed("invalid JSON (" + ec.message() + ")");
    return v;
}

std::string text_field(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_string()) return {};
    return std::string(it->value().get_string());
}

std::optional<std::int64_t> int_field(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end()) return std::nullopt;
    const auto& v = it->value();
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return static_cast<std::int64_t>(v.get_uint64());
    if (v.is_string()) {  // tolerate numbers sent as text
        std::int64_t n = 0;
        const auto s = v.get_string();
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        if (ec == std::errc{} && p == s.data() + s.size()) return n;
    }
    return std::nullopt;
}

// Type names compare case-insensitively ("fixed" in captured bodies, "FIXED" in Snowflake's docs).
bool is(std::string_view type, std::string_view name) {
    return codec::iequals(type, name);
}

std::string lower(std::string_view s) {
    return codec::to_lower(s);
}

statement_status read_status(const json::object& o) {
    return {text_field(o, "code"), text_field(o, "sqlState"), text_field(o, "message"),
            text_field(o, "statementHandle"), text_field(o, "statementStatusUrl")};
}

// Canonical names for the types Snowflake (or a tolerant reading of it) may send.
std::string canonical_type(std::string_view raw) {
    auto t = lower(raw);
    if (is(t, "number") || is(t, "decimal") || is(t, "numeric") || is(t, "int") || is(t, "integer") ||
        is(t, "bigint") || is(t, "smallint") || is(t, "tinyint") || is(t, "byteint"))
        return "fixed";
    if (is(t, "float") || t == "float4" || t == "float8" || is(t, "double") || t == "double precision") return "real";
    if (is(t, "varchar") || is(t, "string") || is(t, "char") || is(t, "character")) return "text";
    if (is(t, "timestamp") || is(t, "datetime")) return "timestamp_ntz";
    if (is(t, "varbinary")) return "binary";
    return t;
}

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

// A plain decimal number: [+-]digits[.digits]. Returns sign, integer and fraction digits.
struct decimal_text {
    bool negative = false;
    std::string_view whole;
    std::string_view fraction;
};
std::optional<decimal_text> split_decimal(std::string_view s) {
    decimal_text d;
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
        d.negative = s[0] == '-';
        s.remove_prefix(1);
    }
    const auto dot = s.find('.');
    d.whole = s.substr(0, dot);
    d.fraction = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
    if (d.whole.empty() && d.fraction.empty()) return std::nullopt;
    if ((!d.whole.empty() && !all_digits(d.whole)) ||
        (dot != std::string_view::npos && !d.fraction.empty() && !all_digits(d.fraction)))
        return std::nullopt;
    if (d.whole.empty() && dot != std::string_view::npos && d.fraction.empty()) return std::nullopt;
    return d;
}

// digits -> int64, false on overflow.
bool accumulate(std::string_view digits, std::int64_t& acc) {
    for (char c : digits) {
        const int digit = c - '0';
        if (acc > (std::numeric_limits<std::int64_t>::max() - digit) / 10) return false;
        acc = acc * 10 + digit;
    }
    return true;
}

std::optional<double> parse_real(std::string_view s) {
    const auto l = lower(s);
    if (l == "nan" || l == "-nan" || l == "+nan") return std::numeric_limits<double>::quiet_NaN();
    if (l == "inf" || l == "+inf" || l == "infinity" || l == "+infinity")
        return std::numeric_limits<double>::infinity();
    if (l == "-inf" || l == "-infinity") return -std::numeric_limits<double>::infinity();
    std::string_view t = s;
    if (!t.empty() && t[0] == '+') t.remove_prefix(1);
    double d = 0;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), d);
    if (ec == std::errc::result_out_of_range) {
        // Denormals and overflow: keep the magnitude the way strtod would.
        std::string copy(t);
        return std::strtod(copy.c_str(), nullptr);
    }
    if (ec != std::errc{} || p != t.data() + t.size() || t.empty()) return std::nullopt;
    return d;
}

// fixed / decfloat: int64 for whole numbers, decimal when a scale is needed, text when the
// value is wider than 64 bits, double for exponent notation.
model::result<model::value> decode_number(const column_meta& c, std::string_view s) {
    auto d = split_decimal(s);
    if (!d) {
        if (s.find_first_of("eE") != std::string_view::npos) {
            if (auto r = parse_real(s)) return model::value{*r};
        }
        return malformed("column " + c.name + ": \"" + std::string(s.substr(0, 40)) + "\" is not a number");
    }
    const std::size_t column_scale = c.scale && *c.scale > 0 ? static_cast<std::size_t>(*c.scale) : 0;
    // Trailing zeros past the column's scale carry no information.
    auto fraction = d->fraction;
    while (fraction.size() > column_scale && fraction.back() == '0') fraction.remove_suffix(1);
    const std::size_t scale = std::max(column_scale, fraction.size());
    // The magnitude in unsigned arithmetic, so -9223372036854775808 fits like Snowflake's NUMBER.
    const std::uint64_t limit =
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + (d->negative ? 1 : 0);
    std::uint64_t magnitude = 0;
    bool fits = scale <= 18;
    auto push = [&](int digit) {
        if (magnitude > (limit - static_cast<std::uint64_t>(digit)) / 10)
            fits = false;
        else
            magnitude = magnitude * 10 + static_cast<std::uint64_t>(digit);
    };
    for (char ch : d->whole)
        if (fits) push(ch - '0');
    for (char ch : fraction)
        if (fits) push(ch - '0');
    for (std::size_t i = fraction.size(); fits && i < scale; ++i) push(0);
    if (!fits) {
        // Wider than the model's decimal: keep the exact digits as text.
        std::string text = d->negative ? "-" : "";
        text += d->whole.empty() ? "0" : std::string(d->whole);
        if (!d->fraction.empty()) text += "." + std::string(d->fraction);
        return model::value{std::move(text)};
    }
    const std::int64_t unscaled =
        d->negative ? static_cast<std::int64_t>(0 - magnitude) : static_cast<std::int64_t>(magnitude);
    if (scale == 0) return model::value{unscaled};
    return model::value{model::decimal{unscaled, static_cast<std::uint8_t>(scale)}};
}

// Floor division, so instants before 1970 land on the right day and second.
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// "secs[.frac]" -> microseconds since the epoch (or midnight), rounded down; false when
// malformed or out of range (12 digits of seconds reach year 33658).
bool parse_seconds(std::string_view s, std::int64_t& micros) {
    auto d = split_decimal(s);
    if (!d || d->whole.empty() || d->whole.size() > 12) return false;
    std::int64_t secs = 0;
    accumulate(d->whole, secs);
    std::int64_t frac = 0;
    const auto f = d->fraction.substr(0, 6);
    accumulate(f, frac);
    for (std::size_t i = f.size(); i < 6; ++i) frac *= 10;
    const bool below_micro =
        d->fraction.size() > 6 && d->fraction.substr(6).find_first_not_of('0') != std::string_view::npos;
    micros = secs * 1'000'000 + frac;
    if (d->negative) micros = below_micro ? -micros - 1 : -micros;
    return true;
}

// A timestamp cell in any of the forms jsonv2 uses: seconds with a fraction, an integer of
// nanoseconds (more than 12 digits) or of seconds. Result in microseconds, rounded down.
bool parse_instant(std::string_view s, std::int64_t& micros) {
    std::string_view digits = s;
    if (!digits.empty() && digits[0] == '-') digits.remove_prefix(1);
    if (all_digits(digits) && digits.size() > 12) {
        std::int64_t n = 0;
        if (digits.size() > 19 || !accumulate(digits, n)) return false;
        micros = floor_div(s[0] == '-' ? -n : n, 1000);
        return true;
    }
    return parse_seconds(s, micros);
}

// "YYYY-MM-DD[ T]HH:MM:SS[.fff]" (formatted output): wall clock in microseconds.
std::optional<std::int64_t> parse_formatted_timestamp(std::string_view s) {
    if (s.size() < 19 || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':') return std::nullopt;
    auto day = model::parse_date(s.substr(0, 10));
    if (!day) return std::nullopt;
    auto two = [&](std::size_t at) -> int {
        if (!std::isdigit(static_cast<unsigned char>(s[at])) || !std::isdigit(static_cast<unsigned char>(s[at + 1])))
            return -1;
        return (s[at] - '0') * 10 + (s[at + 1] - '0');
    };
    const int h = two(11), m = two(14), sec = two(17);
    if (h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59) return std::nullopt;
    std::int64_t micros = 0;
    std::size_t at = 19;
    if (at < s.size() && s[at] == '.') {
        ++at;
        std::size_t n = 0;
        while (at < s.size() && std::isdigit(static_cast<unsigned char>(s[at]))) {
            if (n < 6) micros = micros * 10 + (s[at] - '0');
            ++n, ++at;
        }
        if (n == 0) return std::nullopt;
        for (; n < 6; ++n) micros *= 10;
    }
    if (at != s.size()) return std::nullopt;
    return static_cast<std::int64_t>(day->days) * 86'400'000'000 + (h * 3600 + m * 60 + sec) * 1'000'000LL + micros;
}

std::string clock_text(std::int64_t micros_of_day) {
    const auto secs = micros_of_day / 1'000'000;
    const auto frac = micros_of_day % 1'000'000;
    char buf[96];
    if (frac)
        std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld.%06lld", static_cast<long long>(secs / 3600),
                      static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60),
                      static_cast<long long>(frac));
    else
        std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(secs / 3600),
                      static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
    return buf;
}

model::result<model::value> decode_text_cell(const column_meta& c, std::string_view s) {
    const std::string& t = c.type;
    if (is(t, "fixed") || is(t, "decfloat")) return decode_number(c, s);
    if (is(t, "real")) {
        if (auto d = parse_real(s)) return model::value{*d};
        return malformed("column " + c.name + ": \"" + std::string(s.substr(0, 40)) + "\" is not a number");
    }
    if (is(t, "boolean")) {
        const auto l = lower(s);
        if (l == "true" || l == "1") return model::value{true};
        if (l == "false" || l == "0") return model::value{false};
        return malformed("column " + c.name + ": \"" + std::string(s.substr(0, 40)) + "\" is not a boolean");
    }
    if (is(t, "date")) {
        std::string_view digits = s;
        if (!digits.empty() && digits[0] == '-') digits.remove_prefix(1);
        if (all_digits(digits) && digits.size() <= 7) {
            std::int64_t n = 0;
            accumulate(digits, n);
            return model::value{model::date{static_cast<std::int32_t>(s[0] == '-' ? -n : n)}};
        }
        if (auto d = model::parse_date(s)) return model::value{*d};
        return malformed("column " + c.name + ": \"" + std::string(s.substr(0, 40)) + "\" is not a date");
    }
    if (is(t, "time")) {
        std::int64_t micros = 0;
        if (parse_seconds(s, micros) && micros >= 0 && micros < 86'400'000'000) return model::value{clock_text(micros)};
        if (s.size() >= 8 && s[2] == ':' && s[5] == ':') return model::value{std::string(s)};  // formatted output
        return malformed("column " + c.name + ": \"" + std::string(s.substr(0, 40)) + "\" is not a time");
    }
    if (is(t, "timestamp_ntz") || is(t, "timestamp_ltz")) {
        std::int64_t micros = 0;
        if (parse_instant(s, micros)) return model::value{model::timestamp{micros}};
        if (auto micros = parse_formatted_timestamp(s)) return model::value{model::timestamp{*micros}};
        return malformed("column " + c.name + ": \"" + std::string(s.substr(0, 40)) + "\" is not a timestamp");
    }
    if (is(t, "timestamp_tz")) {
        const auto space = s.find(' ');
        std::int64_t micros = 0;
        if (parse_instant(s.substr(0, space), micros)) {
            std::int64_t offset = 0;  // minutes east of UTC
            if (space != std::string_view::npos) {
                std::int64_t biased = 0;
                const auto tail = s.substr(space + 1);
                if (!all_digits(tail) || tail.size() > 5 || !accumulate(tail, biased))
                    return malformed("column " + c.name + ": bad time zone offset in \"" +
                                     std::string(s.substr(0, 40)) + "\"");
                offset = biased - 1440;
            }
            const std::int64_t local = micros + offset * 60'000'000;
            std::string text = model::format_timestamp(model::timestamp{local});
            const auto a = offset < 0 ? -offset : offset;
            char buf[48];
            std::snprintf(buf, sizeof buf, "%c%02lld:%02lld", offset < 0 ? '-' : '+', static_cast<long long>(a / 60),
                          static_cast<long long>(a % 60));
            return model::value{text + buf};
        }
        return model::value{std::string(s)};  // formatted output: keep Snowflake's text
    }
    if (is(t, "binary")) {
        if (s.size() % 2 != 0) return malformed("column " + c.name + ": odd-length hex");
        std::string out(s);
        for (auto& ch : out) {
            if (!std::isxdigit(static_cast<unsigned char>(ch))) return malformed("column " + c.name + ": not hex");
            ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        }
        return model::value{std::move(out)};
    }
    if (is(t, "variant") || is(t, "object") || is(t, "array") || is(t, "map") || is(t, "geography") ||
        is(t, "geometry") || is(t, "vector")) {
        // Pretty-printed or not (docs/snowflake.md §5): re-serialized compactly. Text that is not JSON (e.g. WKT
        // geography) becomes a JSON string, so the column is always valid JSON.
        json::parse_options opts;
        opts.max_depth = 64;
        boost::system::error_code ec;
        auto v = json::parse(s, ec, {}, opts);
        if (ec) return model::value{json::serialize(json::value(json::string(codec::utf8_or_replacement(s))))};
        // Compact form, unless it would not read back (numbers beyond double, e.g. 9E900,
        // serialize as non-JSON): then the text as sent, which the parser just proved valid.
        auto compact = json::serialize(v);
        (void)json::parse(compact, ec, {}, opts);
        return model::value{ec ? std::string(s) : std::move(compact)};
    }
    return model::value{std::string(s)};
}

model::result<model::done> decode_rows(const json::array& data, const std::vector<column_meta>& columns,
                                       std::vector<std::vector<model::value>>& out) {
    out.reserve(out.size() + data.size());
    std::string scratch;
    for (const auto& row_value : data) {
        if (!row_value.is_array()) return malformed("a row is not an array");
        const auto& row = row_value.get_array();
        if (row.size() != columns.size())
            return malformed("a row has " + std::to_string(row.size()) + " cells for " +
                             std::to_string(columns.size()) + " columns");
        std::vector<model::value> decoded;
        decoded.reserve(row.size());
        for (std::size_t i = 0; i < row.size(); ++i) {
            const auto& cell = row[i];
            std::optional<std::string_view> text;
            if (cell.is_string()) {
                text = std::string_view(cell.get_string());
            } else if (cell.is_null()) {
                text = std::nullopt;
            } else if (cell.is_number() || cell.is_bool()) {
                scratch = json::serialize(cell);  // tolerated: a typed cell instead of a string
                text = std::string_view(scratch);
            } else {
                return malformed("a cell of column " + columns[i].name + " is neither text nor null");
            }
            auto v = decode_cell(columns[i], text);
            if (!v) return std::move(v).error();
            decoded.push_back(std::move(v).value());
        }
        out.push_back(std::move(decoded));
    }
    return model::done{};
}

}  // namespace

model::column_type column_kind(const column_meta& c) {
    const std::string& t = c.type;
    if (is(t, "fixed")) return c.scale && *c.scale > 0 ? model::column_type::decimal : model::column_type::integer;
    if (is(t, "decfloat")) return model::column_type::decimal;
    if (is(t, "real")) return model::column_type::real;
    if (is(t, "boolean")) return model::column_type::boolean;
    if (is(t, "date")) return model::column_type::date;
    if (is(t, "time")) return model::column_type::time;
    if (is(t, "timestamp_ntz") || is(t, "timestamp_ltz") || is(t, "timestamp_tz")) return model::column_type::timestamp;
    if (is(t, "binary")) return model::column_type::binary;
    if (is(t, "variant") || is(t, "object") || is(t, "array") || is(t, "map") || is(t, "geography") ||
        is(t, "geometry") || is(t, "vector"))
        return model::column_type::json;
    return model::column_type::text;
}

model::result<model::value> decode_cell(const column_meta& column, const std::optional<std::string_view>& cell) {
    if (!cell) return model::value{std::monostate{}};
    return decode_text_cell(column, *cell);
}

model::result<statement_status> parse_status(std::string_view body) {
    auto v = parse_json(body);
    if (!v) return std::move(v).error();
    if (!v.value().is_object()) return malformed("the answer is not a JSON object");
    return read_status(v.value().get_object());
}

model::result<result_set> parse_result_set(std::string_view body) {
    auto parsed = parse_json(body);
    if (!parsed) return std::move(parsed).error();
    if (!parsed.value().is_object()) return malformed("the answer is not a JSON object");
    const auto& o = parsed.value().get_object();
    result_set rs;
    rs.status = read_status(o);

    auto meta_it = o.find("resultSetMetaData");
    if (meta_it == o.end() || !meta_it->value().is_object()) return malformed("no resultSetMetaData");
    const auto& meta = meta_it->value().get_object();
    auto row_type = meta.find("rowType");
    if (row_type == meta.end() || !row_type->value().is_array()) return malformed("no resultSetMetaData.rowType");
    for (const auto& col : row_type->value().get_array()) {
        if (!col.is_object()) return malformed("a rowType entry is not an object");
        const auto& co = col.get_object();
        column_meta c;
        c.name = text_field(co, "name");
        auto type = co.find("type");
        if (type == co.end() || !type->value().is_string()) return malformed("column " + c.name + " has no type");
        c.type = canonical_type(type->value().get_string());
        c.scale = int_field(co, "scale");
        c.precision = int_field(co, "precision");
        if (c.scale && (*c.scale < 0 || *c.scale > 38))
            return malformed("column " + c.name + " has scale out of range");
        rs.columns.push_back(std::move(c));
    }

    auto data_it = o.find("data");
    const json::array empty;
    const json::array* data = &empty;
    if (data_it != o.end()) {
        if (data_it->value().is_array())
            data = &data_it->value().get_array();
        else if (!data_it->value().is_null())
            return malformed("data is not an array");
    }

    if (auto parts = meta.find("partitionInfo");
        parts != meta.end() && parts->value().is_array() && !parts->value().get_array().empty()) {
        for (const auto& p : parts->value().get_array()) {
            if (!p.is_object()) return malformed("a partitionInfo entry is not an object");
            auto rows = int_field(p.get_object(), "rowCount");
            if (!rows || *rows < 0) return malformed("a partition has no rowCount");
            rs.partition_rows.push_back(*rows);
        }
    } else {
        rs.partition_rows.push_back(static_cast<std::int64_t>(data->size()));
    }
    if (rs.partition_rows[0] != static_cast<std::int64_t>(data->size()))
        return malformed("partition 0 should hold " + std::to_string(rs.partition_rows[0]) + " rows but holds " +
                         std::to_string(data->size()));
    std::int64_t total = 0;
    for (auto n : rs.partition_rows) {
        if (n > std::numeric_limits<std::int64_t>::max() - total) return malformed("partition row counts overflow");
        total += n;
    }
    rs.num_rows = int_field(meta, "numRows").value_or(total);
    if (rs.num_rows != total)
        return malformed("numRows is " + std::to_string(rs.num_rows) + " but the partitions hold " +
                         std::to_string(total));

    for (const auto& c : rs.columns) rs.first.columns.push_back({c.name, column_kind(c)});
    auto rows = decode_rows(*data, rs.columns, rs.first.rows);
    if (!rows) return std::move(rows).error();
    return rs;
}

model::result<model::done> parse_partition(std::string_view body, const std::vector<column_meta>& columns,
                                           std::int64_t expected_rows, std::vector<std::vector<model::value>>& out) {
    auto parsed = parse_json(body);
    if (!parsed) return std::move(parsed).error();
    if (!parsed.value().is_object()) return malformed("a partition is not a JSON object");
    const auto& o = parsed.value().get_object();
    auto data = o.find("data");
    if (data == o.end() || !data->value().is_array()) return malformed("a partition has no data array");
    const auto& rows = data->value().get_array();
    if (static_cast<std::int64_t>(rows.size()) != expected_rows)
        return malformed("a partition holds " + std::to_string(rows.size()) + " rows instead of " +
                         std::to_string(expected_rows));
    return decode_rows(rows, columns, out);
}

std::string sanitize_message(std::string_view message, std::size_t limit) {
    std::string out;
    out.reserve(std::min(limit, message.size()));
    bool space = false;
    for (char ch : message) {
        const auto u = static_cast<unsigned char>(ch);
        if (u < 0x20 || u == 0x7f || ch == ' ') {
            space = !out.empty();
            continue;
        }
        if (space) {
            out += ' ';
            space = false;
        }
        out += ch;
        if (out.size() >= limit) break;
    }
    if (out.size() > limit) out.resize(limit);
    // Do not end inside a UTF-8 sequence.
    std::size_t cut = out.size();
    std::size_t back = 0;
    while (cut > 0 && back < 4 && (static_cast<unsigned char>(out[cut - 1]) & 0xC0) == 0x80) --cut, ++back;
    if (cut > 0 && static_cast<unsigned char>(out[cut - 1]) >= 0xC0) {
        const auto lead = static_cast<unsigned char>(out[cut - 1]);
        const std::size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
        if (back + 1 < need) out.resize(cut - 1);
    }
    return out;
}

}  // namespace frost::source::snowflake
