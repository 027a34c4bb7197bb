#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace frost::model {

/// A calendar day, counted in days since 1970-01-01 (negative before).
struct date {
    std::int32_t days = 0;
    // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 takes the 0 of the defaulted <=> for a null pointer
    friend auto operator<=>(const date&, const date&) = default;
};

/// A wall-clock instant without time zone, in microseconds since 1970-01-01 00:00:00.
struct timestamp {
    std::int64_t micros = 0;
    // NOLINTNEXTLINE(modernize-use-nullptr): as for `date`
    friend auto operator<=>(const timestamp&, const timestamp&) = default;
};

/// An exact decimal: `unscaled * 10^-scale`. Wide enough for NUMBER(18, s); wider values
/// arrive as `text` in a `decimal` column and are rendered verbatim.
struct decimal {
    std::int64_t unscaled = 0;
    std::uint8_t scale = 0;
    friend bool operator==(const decimal&, const decimal&) = default;
};

/// One cell or one bound parameter. `std::monostate` is SQL NULL.
using value = std::variant<std::monostate, bool, std::int64_t, double, decimal, date, timestamp, std::string>;

/// The logical type of a column, as much as the renderer and the contract tests need.
enum class column_type { boolean, integer, real, decimal, text, date, time, timestamp, json, binary };

/// A column of a result table.
struct column {
    std::string name;
    column_type type = column_type::text;
};

/// A finished query result, row-major. Owned by value; cheap to move.
struct table {
    std::vector<column> columns;
    std::vector<std::vector<value>> rows;
};

/// Days since 1970-01-01 for a proleptic Gregorian date; no range check.
[[nodiscard]] std::int32_t days_from_civil(int year, unsigned month, unsigned day) noexcept;

/// The calendar date of a day number (inverse of days_from_civil).
struct civil_date {
    int year;
    unsigned month;
    unsigned day;
};
[[nodiscard]] civil_date civil_from_days(std::int32_t days) noexcept;

/// `YYYY-MM-DD` (years 0..9999).
[[nodiscard]] std::string format_date(date d);

/// `YYYY-MM-DD HH:MM:SS[.ffffff]` (fraction only when non-zero).
[[nodiscard]] std::string format_timestamp(timestamp t);

/// Appends `format_date(d)` to `out` (no temporary string: exports write millions).
void append_date(std::string& out, date d);

/// Appends `format_timestamp(t)` to `out`.
void append_timestamp(std::string& out, timestamp t);

/// The decimal's digits with exactly `scale` fraction digits, e.g. `70.0`, `-0.25`.
[[nodiscard]] std::string format_decimal(decimal d);

/// Parses `YYYY-MM-DD` or `MM/DD/YYYY` (the seed's form); nullopt unless it is a real
/// calendar day in years 1..9999. Nothing else is accepted: no spaces, signs or times.
[[nodiscard]] std::optional<date> parse_date(std::string_view text) noexcept;

}  // namespace frost::model
