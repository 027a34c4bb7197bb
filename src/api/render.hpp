#pragma once

#include <string>
#include <string_view>

#include "config/config.hpp"
#include "model/error.hpp"
#include "model/value.hpp"

namespace frost::api {

/// Appends `s` as a JSON string literal (quoted, escaped; invalid UTF-8 bytes become U+FFFD).
void append_json_string(std::string& out, std::string_view s);

/// Appends one cell as JSON: numbers as numbers (non-finite reals as null), dates and
/// timestamps as ISO text, `json` columns verbatim.
void append_json_value(std::string& out, const model::value& v, model::column_type type);

/// Appends the rows of a table: `[[...], ...]` or `[{"COL": ...}, ...]`.
void append_rows(std::string& out, const model::table& t, config::row_format format);

/// The seed's envelope: `{"result": <rows>, "time_ms": N}`.
[[nodiscard]] std::string render_envelope(const model::table& t, config::row_format format, long long time_ms);

/// The one error body: `{"error": message, "code": "FRnnn"[, "details": ...][, "hint": ...]
/// [, "request_id": ...]}`; `request_id` only when given.
[[nodiscard]] std::string render_error(const model::error& e, std::string_view request_id = {});

}  // namespace frost::api
