#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/error.hpp"
#include "model/value.hpp"

namespace frost::source::snowflake {

/// One positional binding: the value of key `"1"`, `"2"`, ... in the request body's `bindings`.
struct binding {
    std::string type;                  ///< FIXED, REAL, TEXT, BOOLEAN, DATE, TIMESTAMP_NTZ, ...
    std::optional<std::string> value;  ///< always text on the wire; nullopt is SQL NULL
};

/// SQL whose `$name` placeholders became positional `?`, and the names in `?` order (a name
/// used twice appears twice).
struct positional_sql {
    std::string sql;
    std::vector<std::string> names;
};

/// Rewrites `$name` placeholders as `?` outside string literals ('...' with '' and \ escapes,
/// $$...$$), quoted identifiers ("...") and comments (--, //, /* */). `$1`-style column
/// references and `$` inside identifiers (`a$b`) are left alone. Fails with `config_error` for
/// an unterminated literal or comment, and for a bare `?` (use `$name`).
[[nodiscard]] model::result<positional_sql> to_positional(std::string_view sql);

/// A value as a typed SQL API binding (`{"type": ..., "value": <string>}`): bool → BOOLEAN, integer
/// → FIXED, real → REAL (non-finite → TEXT "NaN"/"inf"), decimal → FIXED or TEXT, date → DATE
/// (epoch ms), timestamp → TIMESTAMP_NTZ (epoch ns), text → TEXT, NULL → TEXT with a null value.
[[nodiscard]] binding to_binding(const model::value& v);

}  // namespace frost::source::snowflake
