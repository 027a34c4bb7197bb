#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace frost::emulators::snowflake {

/// How the emulator is set up. Defaults suit tests; the executable maps flags onto these.
struct emulator_options {
    std::string database_path;  ///< DuckDB file, opened read-only unless `writable`
    bool writable = false;      ///< attach the file read-write: tests change the "warehouse" with INSERT and DELETE
    std::string database_name = "DATA_APPS_DEMO";  ///< the Snowflake database it plays
    std::string account = "TESTORG-TESTACCOUNT";   ///< JWT account, as in claims (upper case)
    std::string user = "FROST";                    ///< JWT user, upper case
    std::vector<std::string> public_keys_pem;      ///< registered RSA_PUBLIC_KEY(_2)
    std::vector<std::string> tokens;               ///< accepted OAuth / programmatic access tokens
    std::chrono::milliseconds sync_wait{45'000};   ///< how long a POST without async waits before 202
    std::size_t partition_rows = 1000;             ///< rows per result partition
    std::uint16_t port = 0;                        ///< 0: any free port on 127.0.0.1
};

/// Where a fault applies.
enum class fault_target { any, submit, poll, partition, cancel };

/// What a fault does to the request it matches.
enum class fault_action {
    status,               ///< answer `status` (with a Snowflake error body and `retry_after`)
    reset,                ///< read the request, then reset the connection (no answer)
    reset_after_execute,  ///< submit only: start the statement, then reset the connection
    truncate,             ///< answer normally but cut the JSON body in half
    malformed,            ///< answer 200 with a body that is not JSON
    delay,                ///< wait `delay`, then answer normally
    short_partition,      ///< partition only: drop the last row of the partition
    bad_gzip,             ///< partition only: damaged gzip bytes
    slow_statement,       ///< submit only: the statement takes `delay` to finish
    never_finish,         ///< submit only: the statement runs until cancelled or timed out
};

/// One injected fault: applies to the next `count` requests of `target` (−1: all of them).
struct fault {
    fault_target target = fault_target::any;
    fault_action action = fault_action::status;
    int count = 1;
    int status = 503;
    std::string retry_after;  ///< Retry-After header value, when not empty
    std::chrono::milliseconds delay{0};
};

/// One request as the emulator saw it, for tests to assert on.
struct log_entry {
    std::uint64_t seq = 0;
    std::string method;
    std::string target;      ///< path and query, as sent
    std::string kind;        ///< submit, poll, partition, cancel, control, unknown
    std::string request_id;  ///< the requestId query parameter
    bool retry = false;      ///< retry=true was sent
    bool async = false;      ///< async=true was sent
    std::string handle;      ///< the statement the request concerned
    int status = 0;          ///< what was answered (0: connection reset)
    std::string fault;       ///< the injected fault, if any
    std::string auth_error;  ///< why authentication failed, if it did
    std::string token_type;  ///< X-Snowflake-Authorization-Token-Type
    std::string token;       ///< the bearer token (tests compare renewals)
    std::string body;        ///< the request body (submits)
    std::string accept_encoding;
    std::string user_agent;
    bool executed = false;         ///< a submit that started a new execution
    std::uint64_t connection = 0;  ///< which TCP connection carried it (keep-alive shows as reuse)
};

/// A Snowflake SQL API v2 emulator on 127.0.0.1, written from Snowflake's SQL API documentation
/// (docs/snowflake.md, "Try it without Snowflake"): key-pair JWT (and static token) authentication,
/// statements executed on DuckDB, jsonv2 results in gzip partitions, 202 for slow statements,
/// polling, cancel, requestId + retry=true idempotency, and fault injection. Thread-safe.
class emulator {
public:
    /// Opens the database and starts listening. Throws std::runtime_error on failure.
    explicit emulator(emulator_options options);
    ~emulator();
    emulator(const emulator&) = delete;
    emulator& operator=(const emulator&) = delete;

    [[nodiscard]] std::uint16_t port() const noexcept;
    /// `http://127.0.0.1:<port>`, for SNOWFLAKE_HOST.
    [[nodiscard]] std::string base_url() const;

    /// Queues faults, applied in order to matching requests.
    void add_fault(fault f);
    void clear_faults();
    /// Every request so far, oldest first.
    [[nodiscard]] std::vector<log_entry> log() const;
    void clear_log();
    /// How many statements were actually executed (not deduplicated by retry=true).
    [[nodiscard]] std::size_t executions() const;
    /// Changes the partition size for later statements.
    void set_partition_rows(std::size_t rows);
    /// Changes the synchronous wait for later submits.
    void set_sync_wait(std::chrono::milliseconds wait);
    /// Stops listening and finishes open connections. Idempotent.
    void stop();

private:
    struct state;
    std::unique_ptr<state> state_;
};

/// Parses a fault list from JSON (the executable's control endpoint and `--fault`):
/// `[{"target":"submit","action":"status","status":503,"count":2,"retry_after":"1","delay_ms":0}]`.
/// Throws std::runtime_error with a message on bad input.
[[nodiscard]] std::vector<fault> parse_faults(const std::string& json_text);

/// The log as JSON (the executable's `GET /_emulator/log`).
[[nodiscard]] std::string log_json(const std::vector<log_entry>& log);

}  // namespace frost::emulators::snowflake
