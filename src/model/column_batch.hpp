#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "model/value.hpp"

namespace frost::model {

/// How the values of one `column_vector` lie in memory: a flat array of one physical type, the
/// form of DuckDB's vectors. Each layout says which `value` alternative its cells are.
enum class cell_layout : std::uint8_t {
    other,         ///< read only through `column_vector::read`
    boolean,       ///< `bool` (value: bool)
    int8,          ///< signed and unsigned integers up to 32 bits and `int64` (value: std::int64_t)
    int16,         ///<
    int32,         ///<
    int64,         ///<
    uint8,         ///<
    uint16,        ///<
    uint32,        ///<
    float32,       ///< `float` (value: double)
    float64,       ///< `double` (value: double)
    decimal16,     ///< the unscaled integer; the column's `scale` (value: decimal)
    decimal32,     ///<
    decimal64,     ///<
    date32,        ///< days since 1970-01-01, `int32` (value: date)
    timestamp_us,  ///< `int64` microseconds since 1970-01-01 (value: timestamp)
    timestamp_s,   ///< `int64` seconds (value: timestamp, times 10^6)
    timestamp_ms,  ///< `int64` milliseconds (value: timestamp, times 10^3)
    timestamp_ns,  ///< `int64` nanoseconds (value: timestamp, divided by 10^3 toward zero)
    string16,      ///< 16-byte string cells (`string16_at`; value: std::string)
};

/// The text of cell `row` of a `string16` array: a native `uint32` length, then the bytes
/// themselves when they fit in the 12 that follow, else (at offset 8) a pointer to them. This is
/// DuckDB's `duckdb_string_t` (and Arrow's string view minus the buffer index).
[[nodiscard]] inline std::string_view string16_at(const void* data, std::size_t row) noexcept {
    const auto* cell = static_cast<const char*>(data) + row * 16;
    std::uint32_t length = 0;
    std::memcpy(&length, cell, sizeof length);
    if (length <= 12) return {cell + 4, length};
    const char* bytes = nullptr;
    std::memcpy(&bytes, cell + 8, sizeof bytes);
    return {bytes, length};
}

/// One column of a `column_batch`: borrowed, valid only while the batch is.
struct column_vector {
    cell_layout layout = cell_layout::other;
    std::uint8_t scale = 0;                   ///< for the decimal layouts
    const void* data = nullptr;               ///< the batch's cells, an array of `layout`
    const std::uint64_t* validity = nullptr;  ///< bit r%64 of word r/64 set: row r is not NULL; null: none is
    /// Cell `row` (a valid one) as a value, for any layout: what a row-by-row reader would have
    /// made of it. Set by the source; `context` is its own.
    value (*read)(const column_vector& column, std::size_t row) = nullptr;
    const void* context = nullptr;

    [[nodiscard]] bool valid(std::size_t row) const noexcept {
        return validity == nullptr || ((validity[row / 64] >> (row % 64)) & 1U) != 0;
    }
    /// Cell `row` as a value; NULL (`std::monostate`) when not valid.
    [[nodiscard]] value cell(std::size_t row) const { return valid(row) ? read(*this, row) : value{}; }
};

/// Rows in column form, as a columnar source (DuckDB) produces them: `rows` rows of each column,
/// in the result's column order. Borrowed from the source for the length of one call.
struct column_batch {
    std::size_t rows = 0;
    std::span<const column_vector> columns;
};

}  // namespace frost::model
