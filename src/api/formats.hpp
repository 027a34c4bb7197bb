#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "model/column_batch.hpp"
#include "model/error.hpp"
#include "model/value.hpp"

namespace frost::api {

/// The representations an endpoint's rows can be answered in (docs/formats.md).
/// - `json`: the endpoint's own envelope, `{"result": [...], "time_ms": N}`, with rows shaped as
///   its config says (`format: arrays`, the seed's default, or `objects`);
/// - `objects`: the same envelope with every row an object keyed by column name;
/// - `ndjson`: one JSON object per row, one row per line (`\n`);
/// - `csv`: RFC 4180 text with a header row.
enum class output_format { json, objects, ndjson, csv };

/// Every output format, in the server's order of preference (the first wins a tie in `Accept`).
inline constexpr output_format all_output_formats[] = {output_format::json, output_format::objects,
                                                       output_format::ndjson, output_format::csv};

/// The `format` query parameter's value for `f`: `json`, `objects`, `ndjson` or `csv`.
[[nodiscard]] std::string_view format_name(output_format f) noexcept;

/// The format named by a `format` query parameter value (exact, lower-case); nullopt otherwise.
[[nodiscard]] std::optional<output_format> parse_format_name(std::string_view name) noexcept;

/// The media type `f` is offered as in `Accept` and OpenAPI, without parameters:
/// `application/json`, `application/vnd.frost.objects+json`, `application/x-ndjson`, `text/csv`.
[[nodiscard]] std::string_view media_type(output_format f) noexcept;

/// The `Content-Type` header of an answer in `f` (`text/csv; charset=utf-8` for CSV).
[[nodiscard]] std::string_view content_type(output_format f) noexcept;

/// The name of the query parameter that chooses a format; reserved in every endpoint.
inline constexpr std::string_view format_param = "format";

/// The formats one endpoint offers, in its order of preference: the first is its default (no
/// `Accept`) and wins a tie in `Accept`.
using format_offer = std::span<const output_format>;

/// What a streamed export (`stream: true`) offers: CSV, its default, before the envelopes and
/// NDJSON, so that `*/*` and `text/*` mean `csv` and `application/*` means `json`.
inline constexpr output_format export_formats[] = {output_format::csv, output_format::json, output_format::objects,
                                                   output_format::ndjson};

/// What `e` offers: `export_formats` when it streams (`stream: true`), else `all_output_formats`.
[[nodiscard]] format_offer offered_formats(const config::endpoint_config& e) noexcept;

/// Chooses the format of an answer among `offered` (docs/formats.md):
/// - `format_value`, the `format` query parameter when given, wins: the name of an offered
///   format; anything else is a 400 (`bad_parameter`) naming them;
/// - else `accept`, the `Accept` header (RFC 9110 §12.5.1, `codec::parse_accept`): each offered
///   format's media type takes the q-value of the most specific range matching it; the highest
///   above zero wins, ties going to the order of `offered` (so for `all_output_formats`, `*/*`
///   and `application/*` mean `json`); none above zero is a 406 (`not_acceptable`) whose details
///   list the offered types;
/// - an absent or empty `Accept`, or one with no well-formed member, means `offered.front()`.
/// `offered` must not be empty. Pure; thread-safe.
[[nodiscard]] model::result<output_format> negotiate_format(std::string_view accept,
                                                            std::optional<std::string_view> format_value,
                                                            format_offer offered = all_output_formats);

/// The media types of `offered`, comma-separated, in its order (406 details, docs).
[[nodiscard]] std::string offered_media_types(format_offer offered = all_output_formats);

/// Appends one cell as a CSV field (RFC 4180): quoted only when it holds a comma, a double quote,
/// CR or LF, or is the empty string (so an empty text stays apart from NULL); quotes doubled.
/// NULL and non-finite reals are an empty field, numbers as in JSON, dates and timestamps in ISO
/// form (`2013-06-01`, `2013-06-01 00:00:01`), booleans `true`/`false`, `json` columns as their
/// text. Invalid UTF-8 bytes become U+FFFD, as in JSON, so the answer is always valid UTF-8.
void append_csv_value(std::string& out, const model::value& v, model::column_type type);

/// Appends `s` as one CSV field under the same quoting rule (column names in the header row).
void append_csv_text(std::string& out, std::string_view s);

/// Appends one row as a JSON object keyed by the column names, in column order (NDJSON lines and
/// `objects` rows). `row.size()` must equal `columns.size()`.
void append_json_object(std::string& out, std::span<const model::column> columns, std::span<const model::value> row);

/// Writes the rows of one answer in one format, a piece at a time: `begin` once, `row` or `rows`
/// any number of times, `end` once. The bytes of a whole table are the same however its rows are
/// split between calls, so a streamed export and a buffered answer agree byte for byte, and
/// `json` over the whole table is `render_envelope`'s output exactly.
///
/// What each format writes:
/// - `json`/`objects`: `begin` writes `{"result":[`, rows are comma-separated, `end` writes
///   `]`, then `"next":"<cursor>"` when a cursor is given, then `"time_ms":N}`;
/// - `ndjson`: each row is an object and `\n`; `end` writes, when a cursor is given, one last
///   line `{"@next":"<cursor>"}` (docs/formats.md), else nothing;
/// - `csv`: `begin` writes the header row; each row is one record; every record ends in CRLF;
///   `end` writes nothing (a CSV cursor travels in headers only).
/// Holds no rows; cheap to copy. Not thread-safe (one writer per answer).
class row_encoder {
public:
    /// `shape` is the endpoint's configured row shape, used by `json`.
    row_encoder(output_format format, config::row_format shape) noexcept;

    /// Appends what precedes the first row. `columns` are the answer's columns.
    void begin(std::string& out, std::span<const model::column> columns);
    /// Appends one row; `row.size()` must equal `columns.size()`.
    void row(std::string& out, std::span<const model::column> columns, std::span<const model::value> row);
    /// Appends rows `[first, last)` of `t` (clamped to its size).
    void rows(std::string& out, const model::table& t, std::size_t first, std::size_t last);
    /// Appends every row of `batch` straight from its vectors, byte for byte what `row` writes
    /// for the same rows made into values (`column_vector::cell`), without making them (streamed
    /// exports from DuckDB). `batch.columns.size()` must equal `columns.size()`.
    void batch(std::string& out, std::span<const model::column> columns, const model::column_batch& batch);
    /// Appends what follows the last row. `time_ms` only shows in the JSON envelope; `next` is the
    /// cursor to the next page, empty when there is none.
    void end(std::string& out, long long time_ms, std::string_view next = {});

    [[nodiscard]] output_format format() const noexcept { return format_; }

private:
    output_format format_;
    config::row_format shape_;
    bool first_row_ = true;
};

/// A whole table in one format: `begin`, every row, `end`. `encode_table(t, json, shape, ms)`
/// equals `render_envelope(t, shape, ms)` byte for byte.
[[nodiscard]] std::string encode_table(const model::table& t, output_format format, config::row_format shape,
                                       long long time_ms, std::string_view next = {});

}  // namespace frost::api
