#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "model/deadline.hpp"
#include "model/error.hpp"
#include "model/value.hpp"
#include "source/snowflake/credentials.hpp"
#include "source/snowflake/http_client.hpp"
#include "source/snowflake/response.hpp"
#include "source/snowflake/settings.hpp"
#include "source/snowflake/statement.hpp"
#include "source/source.hpp"

namespace frost::source::snowflake {

/// A statement to execute: SQL with `?` placeholders and their bindings, in order.
struct statement_request {
    std::string sql;
    std::vector<binding> bindings;
    std::string query_tag;  ///< sent as the QUERY_TAG parameter when not empty
    std::size_t max_rows = 100'000;
};

/// Counters of what the client did, for tests and metrics. Monotonic.
struct client_counters {
    std::atomic<std::uint64_t> statements{0};
    std::atomic<std::uint64_t> http_requests{0};
    std::atomic<std::uint64_t> retries{0};
    std::atomic<std::uint64_t> token_renewals{0};
    std::atomic<std::uint64_t> cancels{0};
    std::atomic<std::uint64_t> partitions{0};
};

/// Snowflake's SQL API v2 (`/api/v2/statements`). For each statement it submits with a fresh
/// `requestId` and `async=true`, polls `statementStatusUrl` until the result is ready or the
/// deadline comes (then calls `/cancel` once and fails with `timeout`), fetches partitions
/// 1..n in parallel (at most `partition_parallelism` at once) and assembles the rows in order.
/// Retries transport errors, unreadable answers, 429 and 500/502/503/504 with full-jitter
/// exponential backoff clipped to the deadline, honouring `Retry-After`; a resubmitted POST
/// keeps its `requestId` and adds `retry=true`. Never retries 422 or a statement timeout (408).
/// A 401 makes it sign a new token and try once more. Thread-safe.
class sql_api_client {
public:
    sql_api_client(snowflake_settings settings, std::unique_ptr<credentials> creds);

    /// Runs `request` to completion: a whole table or an error, never part of a result.
    /// Errors: `source_error` (SQL failed: Snowflake's code and sanitized message in `details`),
    /// `timeout` (deadline or statement timeout), `source_unavailable` (Snowflake unreachable,
    /// overloaded or refusing the credentials after retries), `result_too_large` (more than
    /// `request.max_rows` rows; no partition is fetched then). A requested `stop` (the client
    /// went away) ends the wait between polls: the statement is cancelled as at the deadline.
    [[nodiscard]] model::result<model::table> execute(const statement_request& request, model::deadline deadline,
                                                      const std::stop_token& stop = {});

    /// Runs `request` like `execute`, then hands the result to `sink` partition by partition, in
    /// order, fetching the next only after the sink took the previous one: memory is one
    /// partition. Over `request.max_rows` rows (Snowflake's `numRows`) fails before any row.
    /// A partition that cannot be fetched after retries fails the stream after the partitions
    /// before it were delivered; `stop` and the deadline end it between partitions.
    [[nodiscard]] model::result<frost::source::stream_summary> execute_stream(const statement_request& request,
                                                                              model::deadline deadline,
                                                                              const std::stop_token& stop,
                                                                              frost::source::row_sink& sink);

    [[nodiscard]] const client_counters& counters() const noexcept { return counters_; }
    [[nodiscard]] const snowflake_settings& settings() const noexcept { return settings_; }

private:
    struct exchange;
    /// Submits, polls until the result set is ready; `request_id` gets the id it used.
    [[nodiscard]] model::result<result_set> wait_for_result(const statement_request& request, model::deadline deadline,
                                                            const std::stop_token& stop, std::string& request_id);
    [[nodiscard]] model::result<model::table> collect(result_set rs, const std::string& request_id,
                                                      std::size_t max_rows, model::deadline deadline);
    void cancel(const std::string& handle, const std::string& request_id);
    [[nodiscard]] std::string statement_url(const std::string& status_url, const std::string& handle) const;

    snowflake_settings settings_;
    std::unique_ptr<credentials> creds_;
    http_client http_;
    client_counters counters_;
};

/// The JSON body of `POST /api/v2/statements` for `request`: statement,
/// timeout, database, schema, warehouse, role, bindings, and parameters (QUERY_TAG,
/// ROWS_PER_RESULTSET = max_rows + 1 so an oversized result is noticed without being shipped).
[[nodiscard]] std::string statement_body(const snowflake_settings& settings, const statement_request& request,
                                         std::chrono::seconds timeout);

/// A random (version 4) UUID in 8-4-4-4-12 hex form.
[[nodiscard]] std::string random_uuid();

}  // namespace frost::source::snowflake
