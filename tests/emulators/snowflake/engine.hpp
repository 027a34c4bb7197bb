#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <duckdb.h>

namespace frost::emulators::snowflake {

/// A bind value from the request body (`bindings`), as sent: type name and text (or null).
struct bind_value {
    std::string type;
    std::optional<std::string> value;
};

/// One `rowType` entry, already in Snowflake's vocabulary (lower-case type names).
struct column_info {
    std::string name;
    std::string
        type;  ///< fixed, real, text, boolean, date, time, timestamp_ntz, timestamp_tz, binary, variant, object, array
    std::optional<int> precision;
    std::optional<int> scale;
    std::optional<long long> length;
};

/// A statement's outcome: jsonv2 cells (text or null) or a Snowflake-style error.
struct execution {
    bool ok = false;
    std::vector<column_info> columns;
    std::vector<std::vector<std::optional<std::string>>> rows;
    std::string error_code;  ///< e.g. 000904
    std::string sql_state;   ///< e.g. 42000
    std::string message;
};

/// Runs Snowflake-dialect statements on DuckDB: the database file is attached read-only under
/// the Snowflake database name, the few Snowflake functions the seed's SQL uses are translated
/// (MONTHNAME, DAYNAME, DATEADD, DATE_TRUNC with a bare part, TO_DATE, IFF, NVL), `?` bindings are
/// converted from their documented encodings, and every cell is encoded the documented jsonv2
/// way. Thread-safe: each call uses its own connection.
class engine {
public:
    /// Opens `path` read-only (read-write when `writable`) as catalog `database_name`
    /// (case-insensitive, like Snowflake's unquoted names). Throws std::runtime_error when
    /// DuckDB cannot open it.
    engine(const std::string& path, const std::string& database_name, bool writable = false);
    ~engine();
    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;

    /// Executes `sql` in `database`.`schema` with `bindings`, at most `max_rows` rows (0 = all).
    [[nodiscard]] execution run(const std::string& sql, const std::vector<bind_value>& bindings,
                                const std::string& database, const std::string& schema, std::size_t max_rows);

    /// Interrupts every running statement (cancel, shutdown).
    void interrupt_all();

    /// The translation applied to Snowflake SQL before DuckDB sees it (exposed for tests).
    [[nodiscard]] static std::string translate(std::string_view snowflake_sql);

private:
    duckdb_connection connect();
    void release(duckdb_connection con);

    duckdb_database db_ = nullptr;
    std::string database_name_;
    std::mutex mutex_;
    std::vector<duckdb_connection> idle_;
    std::vector<duckdb_connection> busy_;
};

}  // namespace frost::emulators::snowflake
