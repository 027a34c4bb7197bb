#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/snowflake.hpp"
#include "model/error.hpp"
#include "model/value.hpp"

namespace frost::config {

/// Listener, threads and per-request bounds of `frost serve`.
struct server_config {
    std::string host = "127.0.0.1";
    std::uint16_t port = 5000;
    unsigned io_threads = 0;                            ///< 0: one per core
    unsigned workers = 0;                               ///< query threads; 0: one per core
    std::size_t queue_capacity = 256;                   ///< queued queries past this answer 503 at once
    std::chrono::milliseconds request_timeout{29'000};  ///< API Gateway's own limit
    std::chrono::milliseconds shutdown_grace{10'000};
    std::chrono::milliseconds header_timeout{10'000};
    std::chrono::milliseconds idle_timeout{10'000};  ///< keep-alive idle (CIS nginx <= 10 s)
    std::size_t max_header_bytes = std::size_t{8} * 1024;
    std::size_t max_body_bytes = std::size_t{64} * 1024;
    std::size_t max_url_bytes = std::size_t{4} * 1024;
    std::size_t max_connections = 4096;
    std::size_t max_header_count = 100;                       ///< more header fields answer 431
    std::size_t max_requests_per_connection = 1000;           ///< then the connection closes (nginx keepalive_requests)
    std::chrono::milliseconds max_connection_age{3'600'000};  ///< lifetime of one keep-alive connection
    std::chrono::milliseconds write_timeout{30'000};          ///< a client that reads slower than this is dropped
    std::optional<std::uint16_t> admin_port;  ///< `/metrics`, `/livez`, `/readyz` on their own port (0: any free)
    bool access_log = true;                   ///< one JSON line per request on stdout
    /// Show callers the text of server-side errors (a source's message, SQL and table names).
    /// Off: a 5xx body holds the stable code, a generic message and the request id, and the
    /// text goes to the log under that id. For development; never on a public endpoint.
    bool expose_errors = false;
    /// The HMAC-SHA256 key that signs pagination cursors (env FROST_CURSOR_KEY, at least 32
    /// bytes). Empty: a random key is generated at start, so cursors die with the process.
    std::string cursor_key;
};

/// The circuit breaker in front of a source (`breaker:` on a source; docs/configuration.md).
/// It opens after `failures` availability failures in a row (unreachable or timed out; SQL the
/// source rejects does not count), or when at least `min_calls` calls in the last `window`
/// failed at a share of `error_ratio` or more. While open, calls fail at once with
/// `source_unavailable`; after `cool_down` one probe call is let through (half-open), and its
/// outcome closes or reopens it.
struct breaker_config {
    bool enabled = false;  ///< default: on for remote sources (snowflake), off for duckdb
    unsigned failures = 5;
    double error_ratio = 0.5;
    std::chrono::milliseconds window{30'000};
    unsigned min_calls = 20;
    std::chrono::milliseconds cool_down{10'000};
};

/// A place where queries run: DuckDB (`path`, `read_only`, `options`) or Snowflake (`snowflake`).
struct source_config {
    std::string name;
    std::string type;  ///< `duckdb` or `snowflake`
    std::string path;  ///< duckdb: database file, resolved against the config file's folder
    bool read_only = true;
    std::map<std::string, std::string> options;  ///< duckdb: settings passed to DuckDB
    std::optional<snowflake_config> snowflake;   ///< snowflake: its settings, parsed at load
    std::string origin;                          ///< `file:line:col` of its entry, for messages
    breaker_config breaker;                      ///< resolved at load (its default depends on `type`)
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
    /// The longest range a caller may ask for, in days (inclusive); when set the range is
    /// required. Over it, or missing, is a 400. Unset: any range (streamed exports set it).
    std::optional<std::int32_t> max_days;
};

/// How answers of one endpoint are cached (`cache:` on an endpoint). A cached answer is
/// reused until `ttl` passes; then for `stale_while_revalidate` it is still served while one
/// background query refreshes it, and for `stale_if_error` it stands in when the query fails.
struct cache_policy {
    std::chrono::milliseconds ttl{0};  ///< 0: not cached
    std::chrono::milliseconds stale_while_revalidate{0};
    std::chrono::milliseconds stale_if_error{0};
    bool shared = true;  ///< `Cache-Control: public` (else `private`)
};

/// The response cache as a whole (`cache:` at the top level).
struct cache_config {
    std::size_t max_bytes = 64u << 20;  ///< entries are evicted, least recently used first, past this
    std::size_t min_gzip_bytes = 256;   ///< smaller answers are not compressed
};

/// Incremental refresh of a rollup (`incremental: {key: day, lookback: 3d}`): a refresh asks the
/// source only for rows whose `key` is at least the watermark (the largest key held) minus
/// `lookback`, bound to `$since` in the rollup's SQL, and replaces those keys (docs/caching.md).
struct incremental_config {
    std::string key;                        ///< a DATE or TIMESTAMP column of the rollup's result
    std::chrono::milliseconds lookback{0};  ///< how far behind the watermark rows are re-fetched
};

/// A rollup (`rollups:`): an aggregate table built from a source's SQL into Frost's local
/// serving database, refreshed on a schedule and swapped in atomically.
struct rollup_config {
    std::string name;                        ///< table name in the serving database
    std::string source;                      ///< source the SQL runs on
    std::map<std::string, std::string> sql;  ///< dialect -> SQL ("" for the source's own)
    std::chrono::milliseconds refresh{std::chrono::minutes(60)};
    std::size_t max_rows = 1'000'000;
    std::optional<incremental_config> incremental;  ///< absent: every refresh is a full rebuild
    /// With `incremental`: how often a refresh is a full rebuild instead (absent: only the first
    /// build, a missing or unreadable store, and `frost sync --full`).
    std::optional<std::chrono::milliseconds> full_refresh;
};

/// Who a process is in snapshot sharing (`serving.snapshots.role`, docs/snapshots.md).
enum class snapshot_role { reader, builder, both };

/// Rollup snapshots shared through object storage (`serving.snapshots`): one builder publishes
/// the serving database after each refresh; readers download it instead of querying sources.
struct snapshot_config {
    std::string url;  ///< s3://bucket/prefix/ (validated at load)
    snapshot_role role = snapshot_role::reader;
    std::chrono::milliseconds poll{0};  ///< how often readers check the manifest; 0: the shortest rollup refresh
    bool fallback_build = false;        ///< a reader with no snapshot to read builds rollups itself
};

/// Frost's own DuckDB file holding the rollups (`serving:`). An empty path keeps them in
/// memory (rebuilt at every start).
struct serving_config {
    std::string path;
    std::map<std::string, std::string> options;  ///< DuckDB settings for the serving database
    std::optional<snapshot_config> snapshots;    ///< unset: every process builds its own rollups
};

enum class row_format { arrays, objects };

/// How callers of an endpoint prove who they are: not at all (the seed's public API), an
/// API key, a JWT, or either of the two.
enum class auth_mode { none, api_key, jwt, any };

/// One API key. Only its SHA-256 is stored; the key itself never is.
struct api_key_config {
    std::string name;                    ///< for logs and metrics; never the key
    std::string sha256;                  ///< 64 lower-case hex digits
    std::vector<std::string> endpoints;  ///< paths it may call; empty: every endpoint
};

/// JWT validation: asymmetric signatures only, keys from a JWKS file or URL (Cognito's
/// `https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/jwks.json` works).
struct jwt_config {
    std::string jwks_url;
    std::string jwks_file;
    std::vector<std::string> algorithms{"RS256", "ES256"};
    std::string issuer;                 ///< required in tokens when set
    std::vector<std::string> audience;  ///< one of these is required in `aud` (or Cognito's `client_id`) when set
    std::chrono::milliseconds leeway{30'000};            ///< clock skew allowed on exp, nbf, iat
    std::chrono::milliseconds fetch_timeout{1'500};      ///< API Gateway's JWKS timeout
    std::chrono::milliseconds cache_default{300'000};    ///< key lifetime when the JWKS response has no max-age
    std::chrono::milliseconds refetch_interval{60'000};  ///< unknown `kid` refetches at most this often
};

/// A token bucket: `per_second` tokens refill, up to `burst`. Zero `per_second`: no limit.
struct rate_limit_config {
    double per_second = 0;
    double burst = 0;
};

/// Caller authentication and rate limits; off unless configured.
struct auth_config {
    auth_mode default_mode = auth_mode::none;  ///< for endpoints that do not say
    std::vector<api_key_config> api_keys;
    std::optional<jwt_config> jwt;
    rate_limit_config rate_limit;      ///< per caller (key, token subject or client IP), per endpoint
    bool trust_forwarded_for = false;  ///< take the client IP from X-Forwarded-For (behind a proxy only)
};

/// Keyset pagination of an endpoint (`paginate:`, docs/formats.md). Its SQL must use
/// `$after_<key>` for each key column (NULL on the first page, the previous page's last key
/// after) and `$page_limit` (the page size plus one: the extra row tells whether a next page
/// exists), and order by the key.
struct paginate_config {
    std::vector<std::string> key;       ///< result columns, in `order by` order, never NULL
    std::size_t page_size = 100;        ///< rows per page when the request gives no `limit`
    std::size_t max_page_size = 1'000;  ///< the largest `limit` accepted
};

/// One HTTP route, declared in the config file.
struct endpoint_config {
    std::string path;
    std::string summary;
    std::string description;
    std::vector<std::string> tags;
    std::string source;                      ///< name of a source; empty for a static endpoint
    std::map<std::string, std::string> sql;  ///< dialect -> SQL text with `$name` placeholders
    std::vector<param_config> params;
    std::optional<date_range_config> date_range;
    bool strict = true;  ///< unknown query parameters are a 400
    row_format format = row_format::arrays;
    std::optional<std::string> static_body;  ///< a fixed JSON answer (the seed's `GET /`)
    std::size_t max_rows = 100'000;          ///< not for streamed endpoints: `max_export_rows` bounds those
    /// Rows are written as the source produces them (chunked transfer, CSV, NDJSON or JSON),
    /// never held whole and never cached (docs/formats.md, "Streaming").
    bool stream = false;
    /// A streamed answer past this many rows is cut and marked incomplete, never silently short.
    std::size_t max_export_rows = 10'000'000;
    std::optional<auth_mode> auth;                ///< overrides `auth.default`
    std::map<std::string, std::string> claims;    ///< parameter -> JWT claim bound to it (row-level filtering)
    std::optional<rate_limit_config> rate_limit;  ///< overrides `auth.rate_limit`
    std::string rollup;                           ///< the rollup it reads: its SQL then runs on the serving database
    cache_policy cache;
    std::optional<paginate_config> paginate;  ///< keyset pagination; the query parameters `limit` and `cursor`
};

/// The whole configuration: immutable once loaded, shared as `shared_ptr<const config>`.
struct config {
    std::string file;      ///< where it was read from, for messages
    std::string base_dir;  ///< relative paths resolve against this
    server_config server;
    std::vector<source_config> sources;
    std::vector<endpoint_config> endpoints;
    cache_config cache;
    std::vector<rollup_config> rollups;
    serving_config serving;
    auth_config auth;

    [[nodiscard]] const source_config* find_source(const std::string& name) const;
    [[nodiscard]] const rollup_config* find_rollup(const std::string& name) const;
};

/// The SQL of `sql` (dialect -> text) for `dialect`: its own entry, else the entry for any
/// dialect (""); null when neither exists. Every reader of endpoint and rollup SQL chooses
/// through this one function.
[[nodiscard]] const std::string* sql_for(const std::map<std::string, std::string>& sql, std::string_view dialect);

/// Reads and validates a YAML config file. Errors name the file, line and key at fault.
/// Environment overrides (`FROST_HOST`, `FROST_PORT`, ...) are applied by `apply_environment`.
[[nodiscard]] model::result<config> load_file(const std::string& path);

/// Same, from YAML text; `name` is used in messages and `base_dir` for relative paths.
[[nodiscard]] model::result<config> load_text(const std::string& text, const std::string& name,
                                              const std::string& base_dir);

/// Looks up an environment variable; nullopt when unset or empty. Injected for tests.
using env_lookup = std::function<std::optional<std::string>(const std::string&)>;

/// The process environment.
[[nodiscard]] env_lookup process_environment();

/// Applies `FROST_*` environment overrides (host, port, threads, workers). The port also comes from
/// `PORT` (set by Cloud Run and other container platforms); `FROST_PORT` wins when both are set.
/// Then resolves every Snowflake source (`resolve_snowflake`), so a missing account or key, or a
/// bad override, fails here, at load, and `frost check` reports it.
[[nodiscard]] model::result<model::done> apply_environment(config& cfg);
/// Same, reading the environment through `env`.
[[nodiscard]] model::result<model::done> apply_environment(config& cfg, const env_lookup& env);

/// Applies the `<env_prefix><KEY>` overrides of a `snowflake` source (the seed's SNOWFLAKE_ACCOUNT,
/// _USER, _PRIVATE_KEY, _PRIVATE_KEY_PATH, _PRIVATE_KEY_PASSPHRASE, _DATABASE, _SCHEMA, _WAREHOUSE,
/// _ROLE, _HOST, _AUTHENTICATOR, _TOKEN, _TOKEN_PATH, and any other key) over its file keys, then
/// checks the whole: required keys, the authenticator and exactly one key or token. Errors name
/// the source's place in the file and the key or variable at fault, never a secret value.
/// Idempotent; a source of another type is left as it is.
[[nodiscard]] model::result<model::done> resolve_snowflake(source_config& source, const env_lookup& env);

/// A resolved `snowflake_config` from keys given as text (for programs and tests that build a
/// config without a file): `set_snowflake_key` for each, then `resolve_snowflake`.
[[nodiscard]] model::result<snowflake_config> snowflake_from_keys(const std::string& source_name,
                                                                  const std::map<std::string, std::string>& keys,
                                                                  const env_lookup& env);

}  // namespace frost::config
