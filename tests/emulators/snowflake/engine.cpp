#include "emulators/snowflake/engine.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <stdexcept>

namespace frost::emulators::snowflake {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::string quote_ident(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

// Per-connection helpers that give DuckDB Snowflake's spelling of a few functions.
constexpr const char* setup_sql[] = {
    "SET TimeZone = 'UTC'",
    "CREATE OR REPLACE TEMP MACRO sf_monthname(x) AS strftime(x, '%b')",
    "CREATE OR REPLACE TEMP MACRO sf_dayname(x) AS strftime(x, '%a')",
    "CREATE OR REPLACE TEMP MACRO sf_iff(c, a, b) AS CASE WHEN c THEN a ELSE b END",
    "CREATE OR REPLACE TEMP MACRO sf_to_date(x) AS CAST(x AS DATE)",
    "CREATE OR REPLACE TEMP MACRO sf_dateadd_year(n, x) AS x + to_years(CAST(n AS INTEGER))",
    "CREATE OR REPLACE TEMP MACRO sf_dateadd_quarter(n, x) AS x + to_months(3 * CAST(n AS INTEGER))",
    "CREATE OR REPLACE TEMP MACRO sf_dateadd_month(n, x) AS x + to_months(CAST(n AS INTEGER))",
    "CREATE OR REPLACE TEMP MACRO sf_dateadd_week(n, x) AS x + to_weeks(CAST(n AS INTEGER))",
    "CREATE OR REPLACE TEMP MACRO sf_dateadd_day(n, x) AS x + to_days(CAST(n AS INTEGER))",
    "CREATE OR REPLACE TEMP MACRO sf_dateadd_hour(n, x) AS x + to_hours(CAST(n AS BIGINT))",
    "CREATE OR REPLACE TEMP MACRO sf_dateadd_minute(n, x) AS x + to_minutes(CAST(n AS BIGINT))",
    "CREATE OR REPLACE TEMP MACRO sf_dateadd_second(n, x) AS x + to_seconds(CAST(n AS DOUBLE))",
    // Seconds with 9 fraction digits from epoch microseconds (jsonv2 TIMESTAMP_* and TIME).
    "CREATE OR REPLACE TEMP MACRO sf_secs9(us) AS (CASE WHEN us < 0 THEN '-' ELSE '' END) || "
    "CAST(abs(us) // 1000000 AS VARCHAR) || '.' || lpad(CAST(abs(us) % 1000000 AS VARCHAR), 6, '0') || '000'",
};

std::string date_part(std::string_view raw) {
    static const std::map<std::string, std::string, std::less<>> parts = {
        {"year", "year"},      {"years", "year"},      {"y", "year"},         {"yy", "year"},
        {"yyyy", "year"},      {"yr", "year"},         {"yrs", "year"},       {"quarter", "quarter"},
        {"q", "quarter"},      {"qtr", "quarter"},     {"qtrs", "quarter"},   {"quarters", "quarter"},
        {"month", "month"},    {"months", "month"},    {"mm", "month"},       {"mon", "month"},
        {"mons", "month"},     {"week", "week"},       {"weeks", "week"},     {"w", "week"},
        {"wk", "week"},        {"weekofyear", "week"}, {"woy", "week"},       {"wy", "week"},
        {"day", "day"},        {"days", "day"},        {"d", "day"},          {"dd", "day"},
        {"dayofmonth", "day"}, {"hour", "hour"},       {"hours", "hour"},     {"h", "hour"},
        {"hh", "hour"},        {"hr", "hour"},         {"hrs", "hour"},       {"minute", "minute"},
        {"minutes", "minute"}, {"m", "minute"},        {"mi", "minute"},      {"min", "minute"},
        {"mins", "minute"},    {"second", "second"},   {"seconds", "second"}, {"s", "second"},
        {"sec", "second"},     {"secs", "second"}};
    auto it = parts.find(lower(raw));
    return it == parts.end() ? std::string() : it->second;
}

bool word_start(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$';
}

// Length of a literal, quoted identifier or comment starting at i, or 0.
std::size_t skip_quoted(std::string_view s, std::size_t i) {
    const char c = s[i];
    const char next = i + 1 < s.size() ? s[i + 1] : '\0';
    if (c == '\'' || c == '"') {
        std::size_t j = i + 1;
        while (j < s.size()) {
            if (c == '\'' && s[j] == '\\') {
                j += 2;
                continue;
            }
            if (s[j] == c) {
                if (j + 1 < s.size() && s[j + 1] == c) {
                    j += 2;
                    continue;
                }
                return j + 1 - i;
            }
            ++j;
        }
        return s.size() - i;
    }
    if ((c == '-' && next == '-') || (c == '/' && next == '/')) {
        const auto end = s.find('\n', i);
        return (end == std::string_view::npos ? s.size() : end) - i;
    }
    if (c == '/' && next == '*') {
        const auto end = s.find("*/", i + 2);
        return (end == std::string_view::npos ? s.size() : end + 2) - i;
    }
    return 0;
}

struct stmt_handle {
    duckdb_prepared_statement stmt = nullptr;
    ~stmt_handle() {
        if (stmt) duckdb_destroy_prepare(&stmt);
    }
};
struct result_handle {
    duckdb_result res{};
    bool filled = false;
    ~result_handle() {
        if (filled) duckdb_destroy_result(&res);
    }
};
struct type_handle {
    duckdb_logical_type t = nullptr;
    ~type_handle() {
        if (t) duckdb_destroy_logical_type(&t);
    }
};
struct value_handle {
    duckdb_value v = nullptr;
    ~value_handle() {
        if (v) duckdb_destroy_value(&v);
    }
};
struct chunk_handle {
    duckdb_data_chunk c = nullptr;
    ~chunk_handle() {
        if (c) duckdb_destroy_data_chunk(&c);
    }
};

execution failure(std::string code, std::string state, std::string message) {
    execution e;
    e.ok = false;
    e.error_code = std::move(code);
    e.sql_state = std::move(state);
    e.message = std::move(message);
    return e;
}

// DuckDB's error text -> the Snowflake code family it corresponds to.
execution sql_failure(const std::string& duck) {
    if (duck.starts_with("Parser Error")) return failure("001003", "42000", "SQL compilation error:\n" + duck);
    if (duck.starts_with("Catalog Error")) return failure("002003", "42S02", "SQL compilation error:\n" + duck);
    if (duck.starts_with("Binder Error")) return failure("000904", "42000", "SQL compilation error:\n" + duck);
    if (duck.starts_with("Conversion Error")) return failure("100038", "22018", duck);
    if (duck.starts_with("INTERRUPT")) return failure("000604", "57014", "SQL execution canceled");
    return failure("100090", "42000", duck);
}

bool parse_int(std::string_view s, long long& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && p == s.data() + s.size() && !s.empty();
}

long long floor_div(long long a, long long b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// Binds one documented binding (`{"type", "value"}`) to DuckDB parameter `index`; false when the value is
// not what its type requires.
bool bind_one(duckdb_prepared_statement st, idx_t index, const bind_value& b) {
    if (!b.value) return duckdb_bind_null(st, index) == DuckDBSuccess;
    const std::string type = upper(b.type);
    const std::string& v = *b.value;
    long long n = 0;
    if (type == "FIXED") {
        if (parse_int(v, n)) return duckdb_bind_int64(st, index, n) == DuckDBSuccess;
        return false;
    }
    if (type == "REAL" || type == "DECFLOAT") {
        double d = 0;
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
        if (ec != std::errc{} || p != v.data() + v.size() || v.empty()) return false;
        return duckdb_bind_double(st, index, d) == DuckDBSuccess;
    }
    if (type == "TEXT") return duckdb_bind_varchar_length(st, index, v.data(), v.size()) == DuckDBSuccess;
    if (type == "BOOLEAN") {
        const auto l = lower(v);
        if (l == "true" || l == "false") return duckdb_bind_boolean(st, index, l == "true") == DuckDBSuccess;
        return false;
    }
    if (type == "DATE") {
        if (!parse_int(v, n)) return false;
        value_handle h{duckdb_create_date(duckdb_date{static_cast<int32_t>(floor_div(n, 86'400'000))})};
        return duckdb_bind_value(st, index, h.v) == DuckDBSuccess;
    }
    if (type == "TIME") {
        if (!parse_int(v, n) || n < 0 || n >= 86'400'000'000'000LL) return false;
        value_handle h{duckdb_create_time(duckdb_time{n / 1000})};
        return duckdb_bind_value(st, index, h.v) == DuckDBSuccess;
    }
    if (type == "TIMESTAMP_NTZ" || type == "TIMESTAMP_LTZ") {
        if (!parse_int(v, n)) return false;
        return duckdb_bind_timestamp(st, index, duckdb_timestamp{floor_div(n, 1000)}) == DuckDBSuccess;
    }
    if (type == "TIMESTAMP_TZ") {
        const auto space = v.find(' ');
        if (space == std::string::npos || !parse_int(std::string_view(v).substr(0, space), n)) return false;
        long long biased = 0;
        if (!parse_int(std::string_view(v).substr(space + 1), biased)) return false;
        value_handle h{duckdb_create_timestamp_tz(duckdb_timestamp{floor_div(n, 1000)})};
        return duckdb_bind_value(st, index, h.v) == DuckDBSuccess;
    }
    if (type == "BINARY") {
        if (v.size() % 2) return false;
        std::string bytes;
        for (std::size_t i = 0; i < v.size(); i += 2) {
            unsigned x = 0;
            auto [p, ec] = std::from_chars(v.data() + i, v.data() + i + 2, x, 16);
            if (ec != std::errc{} || p != v.data() + i + 2) return false;
            bytes += static_cast<char>(x);
        }
        return duckdb_bind_blob(st, index, bytes.data(), bytes.size()) == DuckDBSuccess;
    }
    return false;
}

// How a DuckDB result column is described and encoded for jsonv2.
struct encoding {
    column_info info;
    std::string expr;  ///< SQL over column `c` producing VARCHAR
};

encoding encode(duckdb_logical_type t, const std::string& name, const std::string& c) {
    encoding e;
    e.info.name = name;
    const auto id = duckdb_get_type_id(t);
    switch (id) {
        case DUCKDB_TYPE_BOOLEAN:
            e.info.type = "boolean";
            e.expr = "CASE WHEN " + c + " THEN 'true' WHEN NOT " + c + " THEN 'false' END";
            break;
        case DUCKDB_TYPE_TINYINT:
        case DUCKDB_TYPE_SMALLINT:
        case DUCKDB_TYPE_INTEGER:
        case DUCKDB_TYPE_BIGINT:
        case DUCKDB_TYPE_UTINYINT:
        case DUCKDB_TYPE_USMALLINT:
        case DUCKDB_TYPE_UINTEGER:
        case DUCKDB_TYPE_UBIGINT:
        case DUCKDB_TYPE_HUGEINT:
        case DUCKDB_TYPE_UHUGEINT:
            e.info.type = "fixed";
            e.info.precision = 38;
            e.info.scale = 0;
            e.expr = "CAST(" + c + " AS VARCHAR)";
            break;
        case DUCKDB_TYPE_DECIMAL:
            e.info.type = "fixed";
            e.info.precision = duckdb_decimal_width(t);
            e.info.scale = duckdb_decimal_scale(t);
            e.expr = "CAST(" + c + " AS VARCHAR)";
            break;
        case DUCKDB_TYPE_FLOAT:
        case DUCKDB_TYPE_DOUBLE:
            e.info.type = "real";
            e.expr = "CAST(" + c + " AS VARCHAR)";
            break;
        case DUCKDB_TYPE_DATE:
            e.info.type = "date";
            e.expr = "CAST(" + c + " - DATE '1970-01-01' AS VARCHAR)";
            break;
        case DUCKDB_TYPE_TIME:
            e.info.type = "time";
            e.info.scale = 9;
            e.expr = "sf_secs9(CAST(hour(" + c + ") * 3600 + minute(" + c +
                     ") * 60 AS BIGINT) * 1000000 + microsecond(" + c + "))";
            break;
        case DUCKDB_TYPE_TIMESTAMP:
        case DUCKDB_TYPE_TIMESTAMP_S:
        case DUCKDB_TYPE_TIMESTAMP_MS:
        case DUCKDB_TYPE_TIMESTAMP_NS:
            e.info.type = "timestamp_ntz";
            e.info.scale = 9;
            e.expr = "sf_secs9(epoch_us(CAST(" + c + " AS TIMESTAMP)))";
            break;
        case DUCKDB_TYPE_TIMESTAMP_TZ:
            e.info.type = "timestamp_tz";
            e.info.scale = 9;
            e.expr = "sf_secs9(epoch_us(" + c + ")) || ' 1440'";  // session time zone is UTC: offset 0 + 1440
            break;
        case DUCKDB_TYPE_BLOB:
            e.info.type = "binary";
            e.info.length = 8388608;
            e.expr = "hex(" + c + ")";
            break;
        case DUCKDB_TYPE_LIST:
        case DUCKDB_TYPE_ARRAY:
            e.info.type = "array";
            e.expr = "CAST(to_json(" + c + ") AS VARCHAR)";
            break;
        case DUCKDB_TYPE_STRUCT:
        case DUCKDB_TYPE_MAP:
            e.info.type = "object";
            e.expr = "CAST(to_json(" + c + ") AS VARCHAR)";
            break;
        case DUCKDB_TYPE_UNION:
            e.info.type = "variant";
            e.expr = "CAST(to_json(" + c + ") AS VARCHAR)";
            break;
        case DUCKDB_TYPE_VARCHAR: {
            char* alias = duckdb_logical_type_get_alias(t);
            const bool is_json = alias && lower(alias) == "json";
            if (alias) duckdb_free(alias);
            e.info.type = is_json ? "variant" : "text";
            if (!is_json) e.info.length = 16777216;
            e.expr = "CAST(" + c + " AS VARCHAR)";
            break;
        }
        default:
            e.info.type = "text";
            e.info.length = 16777216;
            e.expr = "CAST(" + c + " AS VARCHAR)";
    }
    return e;
}

// Snowflake stores unquoted identifiers in upper case, so result columns come back that way.
std::string snowflake_name(const std::string& duck) {
    const bool plain = !duck.empty() && std::all_of(duck.begin(), duck.end(), [](char c) {
        return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_' ||
               c == '$';
    });
    return plain ? upper(duck) : duck;
}

}  // namespace

std::string engine::translate(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 64);
    std::size_t i = 0;
    while (i < s.size()) {
        if (auto q = skip_quoted(s, i)) {
            out.append(s.substr(i, q));
            i += q;
            continue;
        }
        if (!word_start(s[i]) || (i > 0 && word_char(s[i - 1]))) {
            out += s[i++];
            continue;
        }
        std::size_t j = i;
        while (j < s.size() && word_char(s[j])) ++j;
        const std::string word = lower(s.substr(i, j - i));
        std::size_t k = j;
        while (k < s.size() && std::isspace(static_cast<unsigned char>(s[k]))) ++k;
        const bool call = k < s.size() && s[k] == '(';
        if (!call) {
            out.append(s.substr(i, j - i));
            i = j;
            continue;
        }
        if (word == "monthname" || word == "dayname" || word == "iff" || word == "to_date") {
            out += "sf_" + word;
            i = j;
        } else if (word == "nvl") {
            out += "coalesce";
            i = j;
        } else if (word == "dateadd" || word == "timestampadd" || word == "date_trunc") {
            // First argument: a bare or quoted date part.
            std::size_t p = k + 1;
            while (p < s.size() && std::isspace(static_cast<unsigned char>(s[p]))) ++p;
            std::size_t e = p;
            std::string part;
            if (p < s.size() && (s[p] == '\'' || s[p] == '"')) {
                const char quote = s[p];
                e = s.find(quote, p + 1);
                if (e == std::string_view::npos) {
                    out.append(s.substr(i));
                    break;
                }
                part = std::string(s.substr(p + 1, e - p - 1));
                ++e;
            } else {
                while (e < s.size() && word_char(s[e])) ++e;
                part = std::string(s.substr(p, e - p));
            }
            std::size_t comma = e;
            while (comma < s.size() && std::isspace(static_cast<unsigned char>(s[comma]))) ++comma;
            const std::string canon = date_part(part);
            if (canon.empty() || comma >= s.size() || s[comma] != ',') {
                out.append(s.substr(i, j - i));
                i = j;
                continue;
            }
            if (word == "date_trunc") {
                out += "date_trunc('" + canon + "',";
            } else {
                out += "sf_dateadd_" + canon + "(";
            }
            i = comma + 1;
        } else {
            out.append(s.substr(i, j - i));
            i = j;
        }
    }
    return out;
}

engine::engine(const std::string& path, const std::string& database_name, bool writable)
    : database_name_(database_name) {
    char* err = nullptr;
    if (duckdb_open_ext(":memory:", &db_, nullptr, &err) == DuckDBError) {
        std::string m = err ? err : "unknown";
        if (err) duckdb_free(err);
        throw std::runtime_error("emulator: cannot open DuckDB: " + m);
    }
    duckdb_connection con = nullptr;
    if (duckdb_connect(db_, &con) == DuckDBError) {
        duckdb_close(&db_);
        throw std::runtime_error("emulator: cannot connect to DuckDB");
    }
    std::string escaped;
    for (char c : path) {
        if (c == '\'') escaped += '\'';
        escaped += c;
    }
    result_handle r;
    const std::string attach =
        "ATTACH '" + escaped + "' AS " + quote_ident(lower(database_name)) + (writable ? "" : " (READ_ONLY)");
    const bool failed = duckdb_query(con, attach.c_str(), &r.res) == DuckDBError;
    r.filled = true;
    if (failed) {
        std::string m = duckdb_result_error(&r.res);
        duckdb_disconnect(&con);
        duckdb_close(&db_);
        throw std::runtime_error("emulator: cannot attach " + path + ": " + m);
    }
    duckdb_disconnect(&con);  // pooled connections get the session setup in connect()
}

engine::~engine() {
    std::lock_guard lock(mutex_);
    for (auto& c : idle_) duckdb_disconnect(&c);
    idle_.clear();
    duckdb_close(&db_);
}

duckdb_connection engine::connect() {
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            auto c = idle_.back();
            idle_.pop_back();
            busy_.push_back(c);
            return c;
        }
    }
    duckdb_connection con = nullptr;
    if (duckdb_connect(db_, &con) == DuckDBError) return nullptr;
    for (const char* s : setup_sql) {
        result_handle r;
        const bool failed = duckdb_query(con, s, &r.res) == DuckDBError;
        r.filled = true;
        if (failed) {
            duckdb_disconnect(&con);
            return nullptr;
        }
    }
    std::lock_guard lock(mutex_);
    busy_.push_back(con);
    return con;
}

void engine::release(duckdb_connection con) {
    std::lock_guard lock(mutex_);
    busy_.erase(std::remove(busy_.begin(), busy_.end(), con), busy_.end());
    idle_.push_back(con);
}

void engine::interrupt_all() {
    std::lock_guard lock(mutex_);
    for (auto c : busy_) duckdb_interrupt(c);
}

execution engine::run(const std::string& sql, const std::vector<bind_value>& bindings, const std::string& database,
                      const std::string& schema, std::size_t max_rows) {
    if (!database.empty() && lower(database) != lower(database_name_))
        return failure("002043", "02000",
                       "SQL compilation error:\nDatabase '" + database + "' does not exist or not authorized.");
    duckdb_connection con = connect();
    if (!con) return failure("390201", "08001", "The requested warehouse does not exist or not authorized.");
    struct releaser {
        engine* e;
        duckdb_connection c;
        ~releaser() { e->release(c); }
    } release_guard{this, con};

    auto exec = [&](const std::string& text) -> std::optional<std::string> {
        result_handle r;
        const bool failed = duckdb_query(con, text.c_str(), &r.res) == DuckDBError;
        r.filled = true;
        if (failed) return std::string(duckdb_result_error(&r.res));
        return std::nullopt;
    };
    std::string use = "USE " + quote_ident(lower(database_name_));
    if (!schema.empty()) use += "." + quote_ident(lower(schema));
    if (exec(use))
        return failure(
            "002043", "02000",
            "SQL compilation error:\nSchema '" + database + "." + schema + "' does not exist or not authorized.");

    std::string text = translate(sql);
    while (!text.empty() && (std::isspace(static_cast<unsigned char>(text.back())) || text.back() == ';'))
        text.pop_back();

    // Prepares `q`, binds every `?`, and returns the executed result.
    auto run_bound = [&](const std::string& q, result_handle& out) -> std::optional<execution> {
        stmt_handle st;
        if (duckdb_prepare(con, q.c_str(), &st.stmt) == DuckDBError) return sql_failure(duckdb_prepare_error(st.stmt));
        const idx_t n = duckdb_nparams(st.stmt);
        if (bindings.size() < n)
            return failure("002049", "42601",
                           "SQL compilation error: error line 1 at position 0\nBind variable ? not set.");
        for (idx_t i = 1; i <= n; ++i) {
            const auto& b = bindings[i - 1];
            if (!bind_one(st.stmt, i, b))
                return failure("100037", "22018",
                               b.type + " value '" + b.value.value_or("null").substr(0, 64) + "' is not recognized");
        }
        const bool failed = duckdb_execute_prepared(st.stmt, &out.res) == DuckDBError;
        out.filled = true;
        if (failed) return sql_failure(duckdb_result_error(&out.res));
        return std::nullopt;
    };

    // Statements other than queries: run them and answer with Snowflake's status row.
    {
        stmt_handle st;
        if (duckdb_prepare(con, text.c_str(), &st.stmt) == DuckDBError)
            return sql_failure(duckdb_prepare_error(st.stmt));
        if (duckdb_prepared_statement_type(st.stmt) != DUCKDB_STATEMENT_TYPE_SELECT) {
            result_handle r;
            if (auto e = run_bound(text, r)) return *e;
            execution ok;
            ok.ok = true;
            ok.columns.push_back({"status", "text", std::nullopt, std::nullopt, 16777216});
            ok.rows.push_back({std::string("Statement executed successfully.")});
            return ok;
        }
    }

    // Learn the result's types cheaply, then let DuckDB encode every cell as jsonv2 text.
    result_handle probe;
    if (auto e = run_bound("SELECT * FROM (" + text + "\n) AS sf_probe LIMIT 0", probe)) return *e;
    const idx_t ncols = duckdb_column_count(&probe.res);
    std::vector<encoding> encodings;
    std::string aliases, select;
    for (idx_t c = 0; c < ncols; ++c) {
        type_handle t{duckdb_column_logical_type(&probe.res, c)};
        const std::string col = "sf_c" + std::to_string(c);
        encodings.push_back(encode(t.t, snowflake_name(duckdb_column_name(&probe.res, c)), col));
        aliases += (c ? ", " : "") + col;
        select += (c ? ", " : "") + encodings.back().expr;
    }
    std::string wrapped = "SELECT " + select + " FROM (" + text + "\n) AS sf_q(" + aliases + ")";
    if (max_rows > 0) wrapped += " LIMIT " + std::to_string(max_rows);
    result_handle res;
    if (auto e = run_bound(wrapped, res)) return *e;

    execution out;
    out.ok = true;
    for (auto& e : encodings) out.columns.push_back(e.info);
    for (;;) {
        chunk_handle chunk{duckdb_fetch_chunk(res.res)};
        if (!chunk.c) break;
        const idx_t n = duckdb_data_chunk_get_size(chunk.c);
        if (n == 0) break;
        const std::size_t first = out.rows.size();
        out.rows.resize(first + n, std::vector<std::optional<std::string>>(ncols));
        for (idx_t c = 0; c < ncols; ++c) {
            duckdb_vector vec = duckdb_data_chunk_get_vector(chunk.c, c);
            auto* data = static_cast<duckdb_string_t*>(duckdb_vector_get_data(vec));
            std::uint64_t* validity = duckdb_vector_get_validity(vec);
            for (idx_t r = 0; r < n; ++r) {
                if (validity && !duckdb_validity_row_is_valid(validity, r)) continue;
                out.rows[first + r][c] = std::string(duckdb_string_t_data(&data[r]), duckdb_string_t_length(data[r]));
            }
        }
    }
    return out;
}

}  // namespace frost::emulators::snowflake
