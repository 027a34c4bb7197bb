#include "source/duckdb/database.hpp"

#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>

namespace frost::source::duckdb {

namespace {

model::error source_error(std::string message) {
    return {model::error_code::source_error, std::move(message), {}, {}};
}

struct config_handle {
    duckdb_config cfg = nullptr;
    ~config_handle() {
        if (cfg) duckdb_destroy_config(&cfg);
    }
};

struct logical_type_handle {
    duckdb_logical_type type = nullptr;
    ~logical_type_handle() {
        if (type) duckdb_destroy_logical_type(&type);
    }
};

struct chunk_handle {
    duckdb_data_chunk chunk = nullptr;
    ~chunk_handle() {
        if (chunk) duckdb_destroy_data_chunk(&chunk);
    }
};

struct value_handle {
    duckdb_value v = nullptr;
    ~value_handle() {
        if (v) duckdb_destroy_value(&v);
    }
};

// How one result column is read out of a vector.
struct column_reader {
    duckdb_type type = DUCKDB_TYPE_INVALID;
    duckdb_type decimal_storage = DUCKDB_TYPE_INVALID;
    std::uint8_t scale = 0;
    model::column_type kind = model::column_type::text;
};

model::result<column_reader> reader_for(duckdb_result* res, idx_t col) {
    logical_type_handle lt{duckdb_column_logical_type(res, col)};
    column_reader r;
    r.type = duckdb_get_type_id(lt.type);
    switch (r.type) {
        case DUCKDB_TYPE_BOOLEAN:
            r.kind = model::column_type::boolean;
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
            r.kind = model::column_type::integer;
            break;
        case DUCKDB_TYPE_FLOAT:
        case DUCKDB_TYPE_DOUBLE:
            r.kind = model::column_type::real;
            break;
        case DUCKDB_TYPE_DECIMAL:
            r.kind = model::column_type::decimal;
            r.scale = duckdb_decimal_scale(lt.type);
            r.decimal_storage = duckdb_decimal_internal_type(lt.type);
            break;
        case DUCKDB_TYPE_VARCHAR:
            r.kind = model::column_type::text;
            break;
        case DUCKDB_TYPE_DATE:
            r.kind = model::column_type::date;
            break;
        case DUCKDB_TYPE_TIMESTAMP:
        case DUCKDB_TYPE_TIMESTAMP_S:
        case DUCKDB_TYPE_TIMESTAMP_MS:
        case DUCKDB_TYPE_TIMESTAMP_NS:
            r.kind = model::column_type::timestamp;
            break;
        case DUCKDB_TYPE_SQLNULL:
            r.kind = model::column_type::text;
            break;
        default:
            return source_error("column \"" + std::string(duckdb_column_name(res, col)) +
                                "\" has a type Frost does not render; cast it in the SQL "
                                "(e.g. ::VARCHAR or ::DOUBLE)");
    }
    return r;
}

model::value hugeint_value(duckdb_hugeint h) {
    // Counts and sums fit in 64 bits in practice; beyond that, a double keeps the magnitude.
    if ((h.upper == 0 && h.lower <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) ||
        (h.upper == -1 && h.lower >= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::min()))) {
        return static_cast<std::int64_t>(h.lower);
    }
    return static_cast<double>(h.upper) * 18446744073709551616.0 + static_cast<double>(h.lower);
}

model::value read_cell(const column_reader& r, void* data, idx_t row) {
    switch (r.type) {
        case DUCKDB_TYPE_BOOLEAN:
            return static_cast<bool*>(data)[row];
        case DUCKDB_TYPE_TINYINT:
            return std::int64_t{static_cast<std::int8_t*>(data)[row]};
        case DUCKDB_TYPE_SMALLINT:
            return std::int64_t{static_cast<std::int16_t*>(data)[row]};
        case DUCKDB_TYPE_INTEGER:
            return std::int64_t{static_cast<std::int32_t*>(data)[row]};
        case DUCKDB_TYPE_BIGINT:
            return static_cast<std::int64_t*>(data)[row];
        case DUCKDB_TYPE_UTINYINT:
            return std::int64_t{static_cast<std::uint8_t*>(data)[row]};
        case DUCKDB_TYPE_USMALLINT:
            return std::int64_t{static_cast<std::uint16_t*>(data)[row]};
        case DUCKDB_TYPE_UINTEGER:
            return std::int64_t{static_cast<std::uint32_t*>(data)[row]};
        case DUCKDB_TYPE_UBIGINT: {
            const auto v = static_cast<std::uint64_t*>(data)[row];
            if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return static_cast<double>(v);
            return static_cast<std::int64_t>(v);
        }
        case DUCKDB_TYPE_HUGEINT:
            return hugeint_value(static_cast<duckdb_hugeint*>(data)[row]);
        case DUCKDB_TYPE_FLOAT:
            return double{static_cast<float*>(data)[row]};
        case DUCKDB_TYPE_DOUBLE:
            return static_cast<double*>(data)[row];
        case DUCKDB_TYPE_DECIMAL: {
            switch (r.decimal_storage) {
                case DUCKDB_TYPE_SMALLINT:
                    return model::decimal{static_cast<std::int16_t*>(data)[row], r.scale};
                case DUCKDB_TYPE_INTEGER:
                    return model::decimal{static_cast<std::int32_t*>(data)[row], r.scale};
                case DUCKDB_TYPE_BIGINT:
                    return model::decimal{static_cast<std::int64_t*>(data)[row], r.scale};
                default: {
                    auto wide = hugeint_value(static_cast<duckdb_hugeint*>(data)[row]);
                    if (auto* i = std::get_if<std::int64_t>(&wide)) return model::decimal{*i, r.scale};
                    return std::get<double>(wide) / std::pow(10.0, r.scale);
                }
            }
        }
        case DUCKDB_TYPE_VARCHAR: {
            auto* s = &static_cast<duckdb_string_t*>(data)[row];
            return std::string(duckdb_string_t_data(s), duckdb_string_t_length(*s));
        }
        case DUCKDB_TYPE_DATE:
            return model::date{static_cast<duckdb_date*>(data)[row].days};
        case DUCKDB_TYPE_TIMESTAMP:
            return model::timestamp{static_cast<duckdb_timestamp*>(data)[row].micros};
        case DUCKDB_TYPE_TIMESTAMP_S:
            return model::timestamp{static_cast<std::int64_t*>(data)[row] * 1'000'000};
        case DUCKDB_TYPE_TIMESTAMP_MS:
            return model::timestamp{static_cast<std::int64_t*>(data)[row] * 1'000};
        case DUCKDB_TYPE_TIMESTAMP_NS:
            return model::timestamp{static_cast<std::int64_t*>(data)[row] / 1'000};
        default:
            return std::monostate{};
    }
}

duckdb_state bind_one(duckdb_prepared_statement stmt, idx_t index, const model::value& v) {
    struct binder {
        duckdb_prepared_statement stmt;
        idx_t index;
        duckdb_state operator()(std::monostate) const { return duckdb_bind_null(stmt, index); }
        duckdb_state operator()(bool b) const { return duckdb_bind_boolean(stmt, index, b); }
        duckdb_state operator()(std::int64_t i) const { return duckdb_bind_int64(stmt, index, i); }
        duckdb_state operator()(double d) const { return duckdb_bind_double(stmt, index, d); }
        duckdb_state operator()(const model::decimal& d) const {
            return duckdb_bind_decimal(stmt, index, to_duckdb_decimal(d));
        }
        duckdb_state operator()(const model::date& d) const {
            // A typed DATE value, so `$end + INTERVAL 1 DAY` stays date arithmetic.
            value_handle v{duckdb_create_date(duckdb_date{d.days})};
            return duckdb_bind_value(stmt, index, v.v);
        }
        duckdb_state operator()(const model::timestamp& t) const {
            return duckdb_bind_timestamp(stmt, index, duckdb_timestamp{t.micros});
        }
        duckdb_state operator()(const std::string& s) const {
            return duckdb_bind_varchar_length(stmt, index, s.data(), s.size());
        }
    };
    return std::visit(binder{stmt, index}, v);
}

}  // namespace

namespace {
std::atomic<std::uint64_t> opened_count{0};  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables): a counter
}  // namespace

model::result<model::done> database::check_setting(const std::string& name, const std::string& value) {
    if (const auto& failure = c_api::load(); !failure.empty())
        return model::error{model::error_code::source_unavailable, failure, {}, {}};
    config_handle cfg;
    if (duckdb_create_config(&cfg.cfg) == DuckDBError) return source_error("duckdb: cannot create config");
    if (duckdb_set_config(cfg.cfg, name.c_str(), value.c_str()) == DuckDBError)
        return model::error{model::error_code::config_error, "duckdb: invalid setting " + name + "=" + value, {}, {}};
    return model::done{};
}

model::result<std::unique_ptr<database>> database::open(const std::string& path,
                                                        const std::map<std::string, std::string>& settings) {
    if (const auto& failure = c_api::load(); !failure.empty())
        return model::error{model::error_code::source_unavailable, failure, {}, {}};
    config_handle cfg;
    if (duckdb_create_config(&cfg.cfg) == DuckDBError) return source_error("duckdb: cannot create config");
    for (const auto& [name, value] : settings) {
        if (duckdb_set_config(cfg.cfg, name.c_str(), value.c_str()) == DuckDBError)
            return model::error{
                model::error_code::config_error, "duckdb: invalid setting " + name + "=" + value, {}, {}};
    }
    duckdb_database db = nullptr;
    char* err = nullptr;
    if (duckdb_open_ext(path.c_str(), &db, cfg.cfg, &err) == DuckDBError) {
        std::string message = "duckdb: cannot open " + path + ": " + (err ? err : "unknown error");
        if (err) duckdb_free(err);
        return model::error{model::error_code::source_unavailable, std::move(message), {}, {}};
    }
    opened_count.fetch_add(1, std::memory_order_relaxed);
    return std::unique_ptr<database>(new database(db, path));
}

std::uint64_t database::opened_total() noexcept {
    return opened_count.load(std::memory_order_relaxed);
}

database::~database() {
    duckdb_close(&db_);
}

query_result::~query_result() {
    if (filled_) duckdb_destroy_result(&res_);
}

query_result::query_result(query_result&& other) noexcept : res_(other.res_), filled_(other.filled_) {
    other.filled_ = false;
}

query_result& query_result::operator=(query_result&& other) noexcept {
    if (this != &other) {
        if (filled_) duckdb_destroy_result(&res_);
        res_ = other.res_;
        filled_ = other.filled_;
        other.filled_ = false;
    }
    return *this;
}

namespace {

// The readers of a result's columns, and the columns as Frost names them.
model::result<std::vector<column_reader>> readers_of(duckdb_result* res, std::vector<model::column>& columns) {
    const idx_t ncols = duckdb_column_count(res);
    std::vector<column_reader> readers;
    readers.reserve(ncols);
    for (idx_t c = 0; c < ncols; ++c) {
        auto r = reader_for(res, c);
        if (!r) return std::move(r).error();
        columns.push_back({duckdb_column_name(res, c), r.value().kind});
        readers.push_back(r.value());
    }
    return readers;
}

// Appends the chunk's `n` rows to `rows`.
void append_chunk(duckdb_data_chunk chunk, idx_t n, const std::vector<column_reader>& readers,
                  std::vector<std::vector<model::value>>& rows) {
    const std::size_t ncols = readers.size();
    const std::size_t first = rows.size();
    rows.resize(first + n, std::vector<model::value>(ncols));
    for (idx_t c = 0; c < ncols; ++c) {
        duckdb_vector vec = duckdb_data_chunk_get_vector(chunk, c);
        void* data = duckdb_vector_get_data(vec);
        std::uint64_t* validity = duckdb_vector_get_validity(vec);
        for (idx_t r = 0; r < n; ++r) {
            if (validity && !duckdb_validity_row_is_valid(validity, r)) continue;
            rows[first + r][c] = read_cell(readers[c], data, r);
        }
    }
}

// The layout of a reader's vectors, for sinks that read them directly (`other`: through `read`).
model::cell_layout layout_of(const column_reader& r) {
    using model::cell_layout;
    switch (r.type) {
        case DUCKDB_TYPE_BOOLEAN:
            return cell_layout::boolean;
        case DUCKDB_TYPE_TINYINT:
            return cell_layout::int8;
        case DUCKDB_TYPE_SMALLINT:
            return cell_layout::int16;
        case DUCKDB_TYPE_INTEGER:
            return cell_layout::int32;
        case DUCKDB_TYPE_BIGINT:
            return cell_layout::int64;
        case DUCKDB_TYPE_UTINYINT:
            return cell_layout::uint8;
        case DUCKDB_TYPE_USMALLINT:
            return cell_layout::uint16;
        case DUCKDB_TYPE_UINTEGER:
            return cell_layout::uint32;
        case DUCKDB_TYPE_FLOAT:
            return cell_layout::float32;
        case DUCKDB_TYPE_DOUBLE:
            return cell_layout::float64;
        case DUCKDB_TYPE_DECIMAL:
            switch (r.decimal_storage) {
                case DUCKDB_TYPE_SMALLINT:
                    return cell_layout::decimal16;
                case DUCKDB_TYPE_INTEGER:
                    return cell_layout::decimal32;
                case DUCKDB_TYPE_BIGINT:
                    return cell_layout::decimal64;
                default:
                    return cell_layout::other;
            }
        case DUCKDB_TYPE_VARCHAR:
            static_assert(sizeof(duckdb_string_t) == 16);
            return cell_layout::string16;
        case DUCKDB_TYPE_DATE:
            return cell_layout::date32;
        case DUCKDB_TYPE_TIMESTAMP:
            return cell_layout::timestamp_us;
        case DUCKDB_TYPE_TIMESTAMP_S:
            return cell_layout::timestamp_s;
        case DUCKDB_TYPE_TIMESTAMP_MS:
            return cell_layout::timestamp_ms;
        case DUCKDB_TYPE_TIMESTAMP_NS:
            return cell_layout::timestamp_ns;
        default:
            // UBIGINT and HUGEINT (which may become doubles), wide decimals, SQL NULL.
            return cell_layout::other;
    }
}

// `column_vector::read` for DuckDB's vectors: `read_cell` with the column's reader.
model::value read_vector_cell(const model::column_vector& v, std::size_t row) {
    return read_cell(*static_cast<const column_reader*>(v.context), const_cast<void*>(v.data), row);
}

model::error too_many_rows(std::size_t max_rows) {
    return model::error{model::error_code::result_too_large,
                        "the query returned more than " + std::to_string(max_rows) + " rows",
                        {},
                        "narrow the query or raise the endpoint's max_rows"};
}

// The error a failed result carries: an interrupt (deadline or client gone) is a timeout.
model::error result_failure(duckdb_result* res) {
    const char* err = duckdb_result_error(res);
    if (duckdb_result_error_type(res) == DUCKDB_ERROR_INTERRUPT)
        return {model::error_code::timeout, "the query was stopped at its deadline", {}, {}};
    return source_error(err ? err : "query failed");
}

}  // namespace

model::result<model::table> query_result::to_table(std::size_t max_rows) {
    model::table out;
    auto readers = readers_of(&res_, out.columns);
    if (!readers) return std::move(readers).error();
    for (;;) {
        chunk_handle chunk{duckdb_fetch_chunk(res_)};
        if (!chunk.chunk) break;
        const idx_t n = duckdb_data_chunk_get_size(chunk.chunk);
        if (n == 0) break;
        if (out.rows.size() + n > max_rows) return too_many_rows(max_rows);
        append_chunk(chunk.chunk, n, readers.value(), out.rows);
    }
    if (const char* err = duckdb_result_error(&res_)) return source_error(err);
    return out;
}

model::result<stream_summary> query_result::to_sink(row_sink& sink, std::size_t max_rows) {
    std::vector<model::column> columns;
    auto readers = readers_of(&res_, columns);
    if (!readers) return std::move(readers).error();
    stream_summary summary;
    if (!sink.begin(columns)) {
        summary.stopped = true;
        return summary;
    }
    // The chunk's vectors as they are: the sink encodes from them (or makes values of them).
    std::vector<model::column_vector> vectors(readers.value().size());
    for (std::size_t c = 0; c < vectors.size(); ++c) {
        vectors[c].layout = layout_of(readers.value()[c]);
        vectors[c].scale = readers.value()[c].scale;
        vectors[c].read = read_vector_cell;
        vectors[c].context = &readers.value()[c];
    }
    for (;;) {
        chunk_handle chunk{duckdb_fetch_chunk(res_)};
        if (!chunk.chunk) break;
        const idx_t n = duckdb_data_chunk_get_size(chunk.chunk);
        if (n == 0) break;
        if (summary.rows + n > max_rows) return too_many_rows(max_rows);
        for (std::size_t c = 0; c < vectors.size(); ++c) {
            duckdb_vector vec = duckdb_data_chunk_get_vector(chunk.chunk, c);
            vectors[c].data = duckdb_vector_get_data(vec);
            vectors[c].validity = duckdb_vector_get_validity(vec);
        }
        summary.rows += n;
        if (!sink.columns(model::column_batch{n, vectors})) {
            summary.stopped = true;
            return summary;
        }
    }
    if (duckdb_result_error(&res_)) return result_failure(&res_);
    return summary;
}

prepared_statement::~prepared_statement() {
    duckdb_destroy_prepare(&stmt_);
}

model::result<model::done> prepared_statement::bind(std::span<const parameter> params) {
    duckdb_clear_bindings(stmt_);
    const idx_t n = duckdb_nparams(stmt_);
    for (idx_t i = 1; i <= n; ++i) {
        const char* name = duckdb_parameter_name(stmt_, i);
        const std::string wanted = name ? name : "";
        if (name) duckdb_free(const_cast<char*>(name));
        const parameter* found = nullptr;
        for (const auto& p : params) {
            if (p.name == wanted) {
                found = &p;
                break;
            }
        }
        if (!found) {
            return model::error{model::error_code::config_error,
                                "the SQL uses $" + std::string(wanted) + " but the endpoint declares no such parameter",
                                {},
                                {}};
        }
        if (bind_one(stmt_, i, found->value) == DuckDBError) {
            return model::error{model::error_code::bad_parameter, "cannot bind parameter " + found->name, {}, {}};
        }
    }
    return model::done{};
}

model::result<query_result> prepared_statement::execute() {
    query_result res;
    const bool failed = duckdb_execute_prepared(stmt_, res.get()) == DuckDBError;
    res.mark_filled();
    if (failed) {
        const char* err = duckdb_result_error(res.get());
        const bool interrupted = duckdb_result_error_type(res.get()) == DUCKDB_ERROR_INTERRUPT;
        return model::error{
            interrupted ? model::error_code::timeout : model::error_code::source_error,
            interrupted ? "the query was stopped at its deadline" : std::string(err ? err : "query failed"),
            {},
            {}};
    }
    return res;
}

model::result<query_result> prepared_statement::execute_streaming() {
    duckdb_pending_result pending = nullptr;
    if (duckdb_pending_prepared_streaming(stmt_, &pending) == DuckDBError) {
        const char* err = duckdb_pending_error(pending);
        model::error e = source_error(err ? err : "cannot start the query");
        duckdb_destroy_pending(&pending);
        return e;
    }
    query_result res;
    const bool failed = duckdb_execute_pending(pending, res.get()) == DuckDBError;
    res.mark_filled();
    duckdb_destroy_pending(&pending);
    if (failed) return result_failure(res.get());
    return res;
}

model::result<std::unique_ptr<connection>> connection::open(const database& db) {
    duckdb_connection con = nullptr;
    if (duckdb_connect(db.handle(), &con) == DuckDBError)
        return model::error{model::error_code::source_unavailable, "duckdb: cannot connect to " + db.path(), {}, {}};
    return std::unique_ptr<connection>(new connection(con));
}

connection::~connection() {
    duckdb_disconnect(&con_);
}

model::result<query_result> connection::execute(const std::string& sql) {
    query_result res;
    const bool failed = duckdb_query(con_, sql.c_str(), res.get()) == DuckDBError;
    res.mark_filled();
    if (failed) {
        const char* err = duckdb_result_error(res.get());
        return source_error(err ? err : "query failed");
    }
    return res;
}

model::result<std::unique_ptr<prepared_statement>> connection::prepare(const std::string& sql) {
    duckdb_prepared_statement stmt = nullptr;
    const bool failed = duckdb_prepare(con_, sql.c_str(), &stmt) == DuckDBError;
    auto owned = std::make_unique<prepared_statement>(stmt);
    if (failed) {
        const char* err = duckdb_prepare_error(stmt);
        return source_error(err ? err : "cannot prepare statement");
    }
    return owned;
}

duckdb_decimal to_duckdb_decimal(const model::decimal& d) noexcept {
    duckdb_decimal dec{};
    dec.width = 18;
    dec.scale = d.scale;
    dec.value.lower = static_cast<std::uint64_t>(d.unscaled);
    dec.value.upper = d.unscaled < 0 ? -1 : 0;
    return dec;
}

std::string quote_identifier(std::string_view name) {
    std::string out = "\"";
    for (char c : name) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
    return out;
}

std::string quote_literal(std::string_view s) {
    std::string out = "'";
    for (char c : s) {
        out += c;
        if (c == '\'') out += '\'';
    }
    return out + "'";
}

}  // namespace frost::source::duckdb
