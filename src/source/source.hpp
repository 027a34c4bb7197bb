#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>

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
};

/// Sources by configured name: what the config's `sources:` opened.
using source_map = std::map<std::string, std::shared_ptr<source>>;

}  // namespace frost::source
