#pragma once

#include <chrono>
#include <string>

namespace frost::codec {

/// How many fraction digits a UTC timestamp carries.
enum class utc_precision { seconds, milliseconds };

/// `t` as RFC 3339 UTC, truncated toward the past: `2026-11-25T01:02:03Z`, or with
/// `milliseconds` `2026-11-25T01:02:03.045Z`. For header values, logs and progress lines.
/// Any `system_clock` instant (with 64-bit nanoseconds, years 1677..2262). Pure; thread-safe.
[[nodiscard]] std::string format_utc(std::chrono::system_clock::time_point t,
                                     utc_precision precision = utc_precision::seconds);

/// Appends `format_utc(t, utc_precision::milliseconds)` to `out`. The text of the second is kept
/// per thread and reused while `t` stays in it, so a busy caller (the access log, thousands of
/// lines a second) pays for the calendar once a second and allocates nothing. Thread-safe.
void append_utc_millis(std::string& out, std::chrono::system_clock::time_point t);

}  // namespace frost::codec
