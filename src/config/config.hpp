#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/error.hpp"
#include "model/value.hpp"

namespace frost::config {

/// Listener, threads and per-request bounds of `frost serve`.
struct server_config {
    std::string host = "127.0.0.1";
    std::uint16_t port = 5000;
    unsigned io_threads = 0;        ///< 0: one per core
    unsigned workers = 0;           ///< query threads; 0: one per core
    std::size_t queue_capacity = 256;  ///< queued queries past this answer 503 at once
    std::chrono::milliseconds request_timeout{29'000};  ///< API Gateway's own limit
    std::chrono::milliseconds shutdown_grace{10'000};
    std::chrono::milliseconds header_timeout{10'000};
    std::chrono::milliseconds idle_timeout{60'000};
    std::size_t max_header_bytes = 8 * 1024;
    std::size_t max_body_bytes = 64 * 1024;
    std::size_t max_url_bytes = 4 * 1024;
    std::size_t max_connections = 10'000;
};

/// A place where queries run. Type-specific keys other than the DuckDB ones stay in
/// `settings` for the source that reads them (e.g. `account`, `user` for Snowflake).
struct source_config {
    std::string name;
    std::string type;  ///< `duckdb` or `snowflake`
    std::string path;  ///< duckdb: database file, resolved against the config file's folder
    bool read_only = true;
    std::map<std::string, std::string> options;   ///< duckdb: settings passed to DuckDB
    std::map<std::string, std::string> settings;  ///< other types: their own keys
};

enum class param_type { string, integer, number, boolean, date };

/// A query-string parameter of an endpoint, bound to `$name` in its SQL.
struct param_config {
    std::string name;
    std::vector<std::string> aliases;  ///< other accepted query names
    param_type type = param_type::string;
    bool required = false;
    std::optional<std::string> default_value;  ///< parsed like a request value
    std::string description;
    std::size_t max_length = 256;
    std::optional<double> minimum;
    std::optional<double> maximum;
    std::vector<std::string> allowed;  ///< enumeration, when not empty
};

/// Two date parameters that go together (both or neither), whole days, inclusive; with an
/// optional `random=true` switch that picks a range inside a window (the data app's load test).
struct date_range_config {
    std::string start = "start_range";
    std::string end = "end_range";
    std::vector<std::string> start_aliases;
    std::vector<std::string> end_aliases;
    std::string description;
    std::optional<std::string> random_param;  ///< e.g. `random`
    model::date random_from{};
    model::date random_to{};
};

enum class row_format { arrays, objects };

/// One HTTP route, declared in the config file.
struct endpoint_config {
    std::string path;
    std::string summary;
    std::string description;
    std::vector<std::string> tags;
    std::string source;                     ///< name of a source; empty for a static endpoint
    std::map<std::string, std::string> sql;  ///< dialect -> SQL text with `$name` placeholders
    std::vector<param_config> params;
    std::optional<date_range_config> date_range;
    bool strict = true;                     ///< unknown query parameters are a 400
    row_format format = row_format::arrays;
    std::optional<std::string> static_body;  ///< a fixed JSON answer (the seed's `GET /`)
    std::size_t max_rows = 100'000;
};

/// The whole configuration: immutable once loaded, shared as `shared_ptr<const config>`.
struct config {
    std::string file;   ///< where it was read from, for messages
    std::string base_dir;  ///< relative paths resolve against this
    server_config server;
    std::vector<source_config> sources;
    std::vector<endpoint_config> endpoints;

    [[nodiscard]] const source_config* find_source(const std::string& name) const;
};

/// Reads and validates a YAML config file. Errors name the file, line and key at fault.
/// Environment overrides (`FROST_HOST`, `FROST_PORT`, ...) are applied by `apply_environment`.
[[nodiscard]] model::result<config> load_file(const std::string& path);

/// Same, from YAML text; `name` is used in messages and `base_dir` for relative paths.
[[nodiscard]] model::result<config> load_text(const std::string& text, const std::string& name,
                                              const std::string& base_dir);

/// Applies `FROST_*` environment overrides (host, port, threads, workers).
[[nodiscard]] model::result<model::done> apply_environment(config& cfg);

}  // namespace frost::config
