#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "model/column_batch.hpp"
#include "model/deadline.hpp"
#include "model/error.hpp"
#include "model/value.hpp"

namespace frost::source {

/// A value bound to a named placeholder (`$name` in the endpoint's SQL).
struct parameter {
    std::string name;
    model::value value;
};

/// One statement to run. The SQL is written in the source's dialect with `$name`
/// placeholders; a source binds them in its own way and never splices values into text.
struct query {
    std::string_view sql;
    std::span<const parameter> params;
    model::deadline deadline;
    std::string_view tag;            ///< endpoint path, for query tags and logs
    std::size_t max_rows = 100'000;  ///< more rows than this is an error, never a silent cut
    /// Requested when nobody waits for the answer any more (the client went away): the source
    /// stops the statement as it would at the deadline (DuckDB interrupt, Snowflake cancel).
    std::stop_token stop{};
};

/// Receives a streamed result (`source::stream`): the columns once, then batches of rows in
/// result order, as the source produces them (`rows`, or `columns` from a columnar source).
/// Called on the thread that runs `stream`, never concurrently. Any call may return `false` to stop (the client went
/// away): the source then stops the statement and returns without calling the sink again.
class row_sink {
public:
    virtual ~row_sink() = default;
    /// The result's columns, before any row (also for an empty result).
    [[nodiscard]] virtual bool begin(const std::vector<model::column>& columns) = 0;
    /// The next rows, in order; the sink may move from them. Never empty.
    [[nodiscard]] virtual bool rows(std::vector<std::vector<model::value>>& batch) = 0;
    /// The next rows in column form, as a columnar source holds them (DuckDB's chunks), for a
    /// sink that encodes straight from them; borrowed for this call only. Never empty. By
    /// default, made into values (each column's `read`) and handed to `rows`.
    [[nodiscard]] virtual bool columns(const model::column_batch& batch) {
        std::vector<std::vector<model::value>> rows_of(batch.rows, std::vector<model::value>(batch.columns.size()));
        for (std::size_t c = 0; c < batch.columns.size(); ++c)
            for (std::size_t r = 0; r < batch.rows; ++r) rows_of[r][c] = batch.columns[c].cell(r);
        return rows(rows_of);
    }
};

/// How a stream ended without an error.
struct stream_summary {
    std::uint64_t rows = 0;  ///< rows handed to the sink
    bool stopped = false;    ///< the sink asked to stop; the result was not read to its end
};

/// Where data lives and queries run. Implementations are thread-safe: `run` is called
/// concurrently from the worker pool and blocks until the result is complete or fails.
class source {
public:
    virtual ~source() = default;

    /// The configured name (`local`, `warehouse`, ...).
    [[nodiscard]] virtual std::string_view name() const = 0;

    /// The SQL dialect endpoints must use for it: `duckdb` or `snowflake`.
    [[nodiscard]] virtual std::string_view dialect() const = 0;

    /// Runs one statement to completion. Fails with `timeout` at the deadline, `source_error`
    /// for SQL the source rejects, `source_unavailable` when it cannot be reached, and
    /// `result_too_large` past `max_rows`. A requested `stop` ends it like the deadline does.
    [[nodiscard]] virtual model::result<model::table> run(const query& q) = 0;

    /// Runs one bulk read whose working memory should not stay with the source afterwards
    /// (a rollup build scans far more than serving ever reads again). By default, `run`.
    [[nodiscard]] virtual model::result<model::table> run_detached(const query& q) { return run(q); }

    /// Runs one statement and hands its result to `sink` as it arrives (streamed exports), so
    /// the whole result is never held: DuckDB hands over its chunks, Snowflake its partitions in
    /// order. `q.max_rows` bounds the rows streamed: past it the stream fails with
    /// `result_too_large` (after the rows before it were delivered: an error after `begin` means
    /// the receiver has an incomplete result). Errors as for `run`; the deadline and `q.stop`
    /// interrupt it between and during batches. By default, `run` and one batch (for sources
    /// that cannot stream; their memory is then the whole result).
    [[nodiscard]] virtual model::result<stream_summary> stream(const query& q, row_sink& sink) {
        auto t = run(q);
        if (!t) return std::move(t).error();
        stream_summary s;
        if (!sink.begin(t.value().columns)) return stream_summary{0, true};
        if (t.value().rows.empty()) return s;
        s.rows = t.value().rows.size();
        if (!sink.rows(t.value().rows)) s.stopped = true;
        return s;
    }
};

/// Sources by configured name: what the config's `sources:` opened.
using source_map = std::map<std::string, std::shared_ptr<source>>;

}  // namespace frost::source
