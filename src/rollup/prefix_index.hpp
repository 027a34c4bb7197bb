#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/error.hpp"
#include "model/value.hpp"
#include "source/source.hpp"

namespace frost::rollup {

/// What `prefix_index::recognise` learned of an endpoint's SQL (opaque outside prefix_index.cpp).
struct prefix_plan;

/// An in-memory answer to one endpoint SQL over one version of a rollup: per group, prefix sums
/// over the days of the range column, so that any range is answered with two binary searches
/// per group instead of a DuckDB query (docs/caching.md, "Answers without DuckDB").
///
/// Only this shape is served, recognised with DuckDB's own parser (`json_serialize_sql`):
///
///     SELECT <items> FROM <the rollup> WHERE <static terms> AND <range terms on one DATE column D>
///     GROUP BY <expressions> ORDER BY <expressions without sums or counts>
///
/// where an item is `sum(e)`, `count(*)` or `count(e)` (optionally CAST to an integer type), a
/// label `any_value(e)` / `min(e)` / `max(e)` / `first(e)` constant within each group, or an
/// expression of the group keys; a range term is `D >= $p`, `D <= $p`, `($p IS NULL OR D >= $p)`,
/// `($p IS NULL OR D <= $p)` or `D BETWEEN $a AND $b` (`$p::DATE` for `$p` too). Every other
/// SQL is declined and runs on DuckDB. A built index has been compared with DuckDB's own answers
/// for several ranges.
class prefix_index {
public:
    /// Recognises `sql` (an endpoint reading `rollup`), parsing it on `db`; the error's message
    /// says why it is declined. Depends only on the SQL text: decided once per SQL.
    static model::result<std::shared_ptr<const prefix_plan>> recognise(source::source& db, std::string_view sql,
                                                                       std::string_view rollup);

    /// Builds the index of a recognised SQL from the rollup as `db` holds it now, then checks it
    /// against `db`'s own answers for the unbounded range and `checks` random ranges. The
    /// error's message says why it is declined (a float sum, a label that varies within a
    /// group, an order with ties, too many cells, a mismatch with DuckDB).
    static model::result<std::shared_ptr<const prefix_index>> build(source::source& db,
                                                                    const std::shared_ptr<const prefix_plan>& plan,
                                                                    int checks = 8, std::uint64_t seed = 1);

    /// The answer DuckDB would give for these parameter values, or nullopt when the index
    /// cannot give it (a bound that is not a DATE or NULL, a sum past its type's range, more
    /// rows than `max_rows`): the caller then runs the SQL on DuckDB.
    [[nodiscard]] std::optional<model::table> answer(std::span<const source::parameter> params,
                                                     std::size_t max_rows = 100'000) const;

    /// The index as bytes, for the answer index file (answer_index.hpp): what `answer` reads of
    /// its plan (items, range terms), its columns and its groups. Same machine byte order.
    [[nodiscard]] std::string serialize() const;
    /// An index from `serialize`'s bytes. Checks everything `answer` relies on (item kinds,
    /// prefix columns in range, days ascending, sizes) and fails, never crashes, on anything
    /// malformed; the answers are those of the index serialized.
    static model::result<std::shared_ptr<const prefix_index>> deserialize(std::string_view bytes);

    /// Groups held, and (group, day) cells over all groups.
    [[nodiscard]] std::size_t groups() const noexcept;
    [[nodiscard]] std::size_t cells() const noexcept { return cells_; }

    /// At most this many (group, day) cells are indexed (4 bytes a day and 16 a prefix sum each:
    /// about 12 MiB with three sums; the build reads them once as a table, several times that);
    /// a larger rollup is left to DuckDB.
    static constexpr std::size_t max_cells = 250'000;

    struct group;  // one group's days and prefix sums (prefix_index.cpp)
    ~prefix_index();
    prefix_index(const prefix_index&) = delete;
    prefix_index& operator=(const prefix_index&) = delete;

private:
    prefix_index();
    std::shared_ptr<const prefix_plan> plan_;
    std::vector<model::column> columns_;
    std::vector<group> groups_;  ///< in the answer's order
    std::size_t cells_ = 0;
};

}  // namespace frost::rollup
