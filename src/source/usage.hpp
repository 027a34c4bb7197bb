#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "model/error.hpp"
#include "model/value.hpp"

namespace frost::source {

/// Why a statement was sent to a source: what `/metrics` counts warehouse work by.
enum class purpose {
    live,                ///< an API call on an endpoint that reads a source
    rollup_full,         ///< a full rollup build
    rollup_incremental,  ///< an incremental rollup refresh (only the lookback window)
    probe,               ///< a health probe
};

/// The label value of each purpose, in enum order.
inline constexpr std::array<std::string_view, 4> purpose_names{"live", "rollup_full", "rollup_incremental", "probe"};

[[nodiscard]] inline std::string_view purpose_name(purpose p) noexcept {
    return purpose_names[static_cast<std::size_t>(p)];
}

/// The size of a result as Frost holds its values: 8 bytes per number, date or timestamp, 16
/// per decimal, 1 per boolean or null, the length of text and binary values. The same measure
/// on every source (a DuckDB file has no wire), so refreshes compare across sources; it is
/// not the HTTP bytes a Snowflake answer took. Pure.
[[nodiscard]] inline std::uint64_t result_bytes(const model::table& t) {
    std::uint64_t bytes = 0;
    for (const auto& row : t.rows) {
        for (const auto& cell : row) {
            if (const auto* s = std::get_if<std::string>(&cell))
                bytes += s->size();
            else if (std::holds_alternative<model::decimal>(cell))
                bytes += 16;
            else if (std::holds_alternative<bool>(cell) || std::holds_alternative<std::monostate>(cell))
                bytes += 1;
            else
                bytes += 8;
        }
    }
    return bytes;
}

/// Statements sent to sources, by source and purpose, with the rows and bytes received and the
/// time spent waiting: the cost side of `/metrics`. The serving store (rollups) and the API
/// core (live calls) record into `process_usage()`; the serving database itself is never a
/// source here. Thread-safe.
class usage_ledger {
public:
    struct totals {
        std::uint64_t statements = 0;
        std::uint64_t failed = 0;  ///< of `statements`
        std::uint64_t rows = 0;
        std::uint64_t bytes = 0;
        double seconds = 0;
    };

    /// Records one statement and what it returned.
    void record(std::string_view source, purpose p, const model::result<model::table>& result,
                std::chrono::nanoseconds waited) {
        std::lock_guard lock(mutex_);
        auto& t = totals_[{std::string(source), p}];
        ++t.statements;
        t.seconds += std::chrono::duration<double>(waited).count();
        if (!result) {
            ++t.failed;
            return;
        }
        t.rows += result.value().rows.size();
        t.bytes += result_bytes(result.value());
    }

    /// Every (source, purpose) seen so far with its totals.
    [[nodiscard]] std::map<std::pair<std::string, purpose>, totals> snapshot() const {
        std::lock_guard lock(mutex_);
        return totals_;
    }

    /// The totals of one source and purpose (zeros when none was recorded).
    [[nodiscard]] totals total(std::string_view source, purpose p) const {
        std::lock_guard lock(mutex_);
        auto it = totals_.find({std::string(source), p});
        return it == totals_.end() ? totals{} : it->second;
    }

private:
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, purpose>, totals> totals_;
};

/// The process's ledger, which `/metrics` reads.
[[nodiscard]] inline usage_ledger& process_usage() {
    static usage_ledger ledger;
    return ledger;
}

}  // namespace frost::source
