#pragma once

#include "source/duckdb/c_api.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "model/error.hpp"
#include "model/value.hpp"
#include "source/source.hpp"

namespace frost::source::duckdb {

/// RAII owner of a `duckdb_database`. Thread-safe: connections may be opened from any thread.
class database {
public:
    /// Opens (or creates) the database file at `path` (`:memory:` for none) with DuckDB
    /// settings such as `access_mode=READ_ONLY`, `threads=2`, `memory_limit=1GB`.
    static model::result<std::unique_ptr<database>> open(const std::string& path,
                                                         const std::map<std::string, std::string>& settings = {});
    /// DuckDB instances this process has created through `open` (tests: a cold start that
    /// answers from the answer index creates none).
    [[nodiscard]] static std::uint64_t opened_total() noexcept;
    /// Whether DuckDB takes `value` for its setting `name` (checked without opening anything).
    static model::result<model::done> check_setting(const std::string& name, const std::string& value);
    ~database();
    database(const database&) = delete;
    database& operator=(const database&) = delete;

    [[nodiscard]] duckdb_database handle() const noexcept { return db_; }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }

private:
    database(duckdb_database db, std::string path) : db_(db), path_(std::move(path)) {}
    duckdb_database db_;
    std::string path_;
};

/// RAII owner of a `duckdb_result`; moved, never copied.
class query_result {
public:
    query_result() = default;
    ~query_result();
    query_result(query_result&& other) noexcept;
    query_result& operator=(query_result&& other) noexcept;
    query_result(const query_result&) = delete;
    query_result& operator=(const query_result&) = delete;

    duckdb_result* get() noexcept { return &res_; }
    void mark_filled() noexcept { filled_ = true; }

    /// Reads every row into a table; fails with `result_too_large` past `max_rows` and with
    /// `source_error` for a column type Frost cannot render (cast it in SQL).
    model::result<model::table> to_table(std::size_t max_rows);

    /// Hands the rows to `sink` one DuckDB chunk at a time (for a streaming result, as DuckDB
    /// produces them), so at most one chunk of converted rows is held here. Fails as `to_table`,
    /// `result_too_large` once more than `max_rows` rows came (those before were delivered), and
    /// `timeout` when the connection was interrupted while fetching.
    model::result<stream_summary> to_sink(row_sink& sink, std::size_t max_rows);

private:
    duckdb_result res_{};
    bool filled_ = false;
};

/// RAII owner of a `duckdb_prepared_statement`.
class prepared_statement {
public:
    explicit prepared_statement(duckdb_prepared_statement stmt) noexcept : stmt_(stmt) {}
    ~prepared_statement();
    prepared_statement(const prepared_statement&) = delete;
    prepared_statement& operator=(const prepared_statement&) = delete;

    /// Binds each named parameter the statement uses. A placeholder with no value is an
    /// error; a value the statement does not use is ignored (endpoints may share parameters).
    model::result<model::done> bind(std::span<const parameter> params);
    model::result<query_result> execute();
    /// Executes with a streaming result: chunks are computed as they are fetched, so the
    /// whole result is never materialized. The connection is busy until the result is gone.
    model::result<query_result> execute_streaming();
    [[nodiscard]] duckdb_prepared_statement handle() const noexcept { return stmt_; }

private:
    duckdb_prepared_statement stmt_;
};

/// RAII owner of a `duckdb_connection`. Not thread-safe: one thread uses it at a time,
/// except `interrupt`, which any thread may call.
class connection {
public:
    static model::result<std::unique_ptr<connection>> open(const database& db);
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    /// Runs SQL text with no parameters (DDL, settings, loading).
    model::result<query_result> execute(const std::string& sql);
    /// Prepares a statement; the connection must outlive it.
    model::result<std::unique_ptr<prepared_statement>> prepare(const std::string& sql);
    /// Asks the running query, if any, to stop; it then fails with an interrupt error.
    void interrupt() noexcept { duckdb_interrupt(con_); }
    [[nodiscard]] duckdb_connection handle() const noexcept { return con_; }

private:
    explicit connection(duckdb_connection con) noexcept : con_(con) {}
    duckdb_connection con_;
};

/// The DuckDB form of an exact decimal (width 18, the widest `model::decimal` holds).
[[nodiscard]] duckdb_decimal to_duckdb_decimal(const model::decimal& d) noexcept;

/// Quotes an identifier for DuckDB SQL (`"a""b"`).
[[nodiscard]] std::string quote_identifier(std::string_view name);

/// Quotes a string literal for DuckDB SQL (`'it''s'`): single quotes doubled, every other byte
/// as it is. For text a query cannot take as a prepared parameter (DDL, `read_csv` options).
[[nodiscard]] std::string quote_literal(std::string_view s);

}  // namespace frost::source::duckdb
