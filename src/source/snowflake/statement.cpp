#include "source/snowflake/statement.hpp"

#include <cctype>
#include <charconv>
#include <cmath>

namespace frost::source::snowflake {

namespace {

bool ident_start(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool ident_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$';
}

model::error sql_error(std::string message) {
    return {model::error_code::config_error, std::move(message), {}, {}};
}

std::string to_text(std::int64_t n) {
    char buf[24];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, n);
    return std::string(buf, p);
}

}  // namespace

model::result<positional_sql> to_positional(std::string_view sql) {
    positional_sql out;
    out.sql.reserve(sql.size());
    std::size_t i = 0;
    const std::size_t n = sql.size();
    auto copy_until = [&](std::size_t end) {
        out.sql.append(sql.substr(i, end - i));
        i = end;
    };
    while (i < n) {
        const char c = sql[i];
        const char next = i + 1 < n ? sql[i + 1] : '\0';
        if (c == '\'') {
            std::size_t j = i + 1;
            for (;;) {
                if (j >= n) return sql_error("the SQL has an unterminated string literal");
                if (sql[j] == '\\') {
                    j += 2;
                } else if (sql[j] == '\'') {
                    if (j + 1 < n && sql[j + 1] == '\'')
                        j += 2;
                    else
                        break;
                } else {
                    ++j;
                }
            }
            copy_until(j + 1);
        } else if (c == '"') {
            std::size_t j = i + 1;
            for (;;) {
                if (j >= n) return sql_error("the SQL has an unterminated quoted identifier");
                if (sql[j] == '"') {
                    if (j + 1 < n && sql[j + 1] == '"')
                        j += 2;
                    else
                        break;
                } else {
                    ++j;
                }
            }
            copy_until(j + 1);
        } else if (c == '$' && next == '$') {
            const auto end = sql.find("$$", i + 2);
            if (end == std::string_view::npos) return sql_error("the SQL has an unterminated $$ string");
            copy_until(end + 2);
        } else if ((c == '-' && next == '-') || (c == '/' && next == '/')) {
            const auto end = sql.find('\n', i);
            copy_until(end == std::string_view::npos ? n : end);
        } else if (c == '/' && next == '*') {
            const auto end = sql.find("*/", i + 2);
            if (end == std::string_view::npos) return sql_error("the SQL has an unterminated /* comment");
            copy_until(end + 2);
        } else if (c == '$' && ident_start(next) && (i == 0 || !ident_char(sql[i - 1]))) {
            std::size_t j = i + 1;
            while (j < n && (std::isalnum(static_cast<unsigned char>(sql[j])) || sql[j] == '_')) ++j;
            out.names.emplace_back(sql.substr(i + 1, j - i - 1));
            out.sql += '?';
            i = j;
        } else if (c == '?') {
            return sql_error("the SQL contains a bare ?; write parameters as $name");
        } else if (ident_char(c)) {
            // Whole identifiers at once, so a `$` inside one (a$b) is never a placeholder.
            std::size_t j = i + 1;
            while (j < n && ident_char(sql[j])) ++j;
            copy_until(j);
        } else {
            out.sql += c;
            ++i;
        }
    }
    return out;
}

binding to_binding(const model::value& v) {
    struct visitor {
        binding operator()(std::monostate) const { return {"TEXT", std::nullopt}; }
        binding operator()(bool b) const { return {"BOOLEAN", b ? "true" : "false"}; }
        binding operator()(std::int64_t i) const { return {"FIXED", to_text(i)}; }
        binding operator()(double d) const {
            if (std::isnan(d)) return {"TEXT", "NaN"};
            if (std::isinf(d)) return {"TEXT", d > 0 ? "inf" : "-inf"};
            char buf[32];
            auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);
            return {"REAL", std::string(buf, p)};
        }
        binding operator()(const model::decimal& d) const {
            if (d.scale == 0) return {"FIXED", to_text(d.unscaled)};
            return {"TEXT", model::format_decimal(d)};  // exact; Snowflake casts numeric text
        }
        binding operator()(const model::date& d) const {
            return {"DATE", to_text(static_cast<std::int64_t>(d.days) * 86'400'000)};
        }
        binding operator()(const model::timestamp& t) const {
            constexpr std::int64_t limit = 9'223'372'036'854'775;  // micros that fit as nanos
            if (t.micros > limit || t.micros < -limit) return {"TEXT", model::format_timestamp(t)};
            return {"TIMESTAMP_NTZ", to_text(t.micros * 1000)};
        }
        binding operator()(const std::string& s) const { return {"TEXT", s}; }
    };
    return std::visit(visitor{}, v);
}

}  // namespace frost::source::snowflake
