#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/error.hpp"
#include "model/value.hpp"

namespace frost::source::snowflake {

/// One entry of `resultSetMetaData.rowType` in a `ResultSet` answer, with the type name lower-cased.
struct column_meta {
    std::string name;
    std::string type;  ///< lower case: fixed, real, text, date, timestamp_ntz, ...
    std::optional<std::int64_t> scale;
    std::optional<std::int64_t> precision;
};

/// The fields every SQL API answer may carry: QueryStatus (202, 408), QueryFailureStatus
/// (422), CancelStatus, and the `{code, message}` bodies of 400/401/429. Missing fields are empty.
struct statement_status {
    std::string code;
    std::string sql_state;
    std::string message;
    std::string handle;      ///< statementHandle
    std::string status_url;  ///< statementStatusUrl, as sent (usually relative)
};

/// A finished statement's 200 answer: metadata plus partition 0, already decoded.
struct result_set {
    statement_status status;
    std::vector<column_meta> columns;
    std::int64_t num_rows = 0;                 ///< rows across all partitions
    std::vector<std::int64_t> partition_rows;  ///< rowCount of each partition; [0] is inline
    model::table first;                        ///< partition 0, typed
};

/// Parses a QueryStatus / QueryFailureStatus / CancelStatus / error body. Fails with
/// `source_error` ("malformed") when the text is not a JSON object; unknown fields are ignored.
[[nodiscard]] model::result<statement_status> parse_status(std::string_view body);

/// Parses a 200 ResultSet and decodes its inline rows with `decode_cell`. Fails with
/// `source_error` for malformed JSON, a missing `rowType`, rows whose width differs from it,
/// a cell that cannot be decoded by its column type, or partition counts that contradict
/// `numRows` or the inline rows.
[[nodiscard]] model::result<result_set> parse_result_set(std::string_view body);

/// Parses a partition body (`{"data": [...]}`, fetched with `?partition=N`) with the columns of
/// partition 0, and appends its decoded rows to `out`. Fails like `parse_result_set`, and when the
/// number of rows is not `expected_rows`.
[[nodiscard]] model::result<model::done> parse_partition(std::string_view body, const std::vector<column_meta>& columns,
                                                         std::int64_t expected_rows,
                                                         std::vector<std::vector<model::value>>& out);

/// The model type a Snowflake column decodes to (case-insensitive type names).
[[nodiscard]] model::column_type column_kind(const column_meta& column);

/// Decodes one `jsonv2` cell (a JSON string or null, whatever the type): `fixed` → int64 (scale 0)
/// or decimal, `real` → double (NaN/inf tolerated), `text`, `boolean`, `date` (days, or
/// YYYY-MM-DD), `time` → `HH:MM:SS[.ffffff]` text, `timestamp_ntz`/`_ltz` → timestamp (seconds with
/// a fraction, or nanoseconds as an integer of more than 12 digits), `timestamp_tz` → ISO text with
/// its offset, `binary` → upper-case hex, `variant`/`object`/`array` → compact JSON text (always
/// valid JSON). Values too wide for the model stay text. Unknown types decode as text. A nullopt cell
/// is NULL.
[[nodiscard]] model::result<model::value> decode_cell(const column_meta& column,
                                                      const std::optional<std::string_view>& cell);

/// Makes an upstream message safe to show: control characters become spaces, runs of spaces
/// collapse, and it is cut to `limit` bytes (at a UTF-8 boundary).
[[nodiscard]] std::string sanitize_message(std::string_view message, std::size_t limit = 300);

}  // namespace frost::source::snowflake
