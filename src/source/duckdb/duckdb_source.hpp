#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "source/duckdb/database.hpp"
#include "source/source.hpp"

namespace frost::source::duckdb {

/// Settings of a DuckDB source, from the config file.
struct duckdb_settings {
    std::string path;       ///< database file; `:memory:` for an empty one
    bool read_only = true;  ///< serving never writes the warehouse file; read-only sources are also hardened:
                            ///< no external access from SQL, locked configuration, memory_limit half the RAM
    std::map<std::string, std::string> options;  ///< extra DuckDB settings (threads, memory_limit, ...)
};

/// The `options` key (a Frost setting, not passed to DuckDB) of a streamed export's memory limit.
inline constexpr std::string_view export_memory_limit_option = "export_memory_limit";
/// Its default: room for a scan's pinned blocks and DuckDB's streaming buffer, not for a cache.
inline constexpr std::string_view default_export_memory_limit = "16MB";

/// A `source` over a local DuckDB file. Thread-safe: each call borrows a pooled connection
/// (with its own prepared-statement cache) and a watchdog interrupts queries at their deadline.
class duckdb_source final : public source {
public:
    static model::result<std::unique_ptr<duckdb_source>> open(std::string name, const duckdb_settings& settings);
    /// Opens an in-memory DuckDB instance that database files are attached to (`attach`), with
    /// `options` (threads, memory_limit, ...) and the hardening of a read-only source: SQL can
    /// reach no file but `allowed_paths` (the files to attach, and their `.wal` names, which
    /// DuckDB looks for) and cannot change settings. One instance serves many files: attaching a
    /// file costs about a millisecond, a new instance tens of milliseconds (DuckDB registers its
    /// functions anew).
    static model::result<std::shared_ptr<database>> open_host(const std::map<std::string, std::string>& options,
                                                              const std::vector<std::string>& allowed_paths);
    /// A read-only source over the database file at `path` attached to `host` (`open_host`)
    /// under a name of its own, which its connections use as their default: unqualified table
    /// names are the file's. The file is read as it was when attached, even if another file is
    /// renamed over `path` later. Detached when the source is destroyed; `host` is kept alive
    /// until then. `options` as for `open` (`export_memory_limit`).
    static model::result<std::unique_ptr<duckdb_source>> attach(std::string name, std::shared_ptr<database> host,
                                                                const std::string& path,
                                                                std::map<std::string, std::string> options = {});
    /// A writable source over a new, empty in-memory database attached to `host` under a name
    /// of its own, which its connections use as their default (as `attach`'s do). It lives in
    /// the host's memory: a rollup's next version is built there and served at once, without
    /// writing a file (docs/caching.md). Detached, its tables dropped, when the source is
    /// destroyed. `options` as for `open` (`export_memory_limit`).
    static model::result<std::unique_ptr<duckdb_source>> attach_memory(std::string name, std::shared_ptr<database> host,
                                                                       std::map<std::string, std::string> options = {});
    ~duckdb_source() override;

    [[nodiscard]] std::string_view name() const override { return name_; }
    [[nodiscard]] std::string_view dialect() const override { return "duckdb"; }
    [[nodiscard]] model::result<model::table> run(const query& q) override;
    /// Over a read-only file, runs `q` (its parameters bound) on a short-lived read-only instance of
    /// the same file, whose buffer pool is handed back when it closes; otherwise `run`.
    [[nodiscard]] model::result<model::table> run_detached(const query& q) override;
    /// Streams DuckDB's result chunk by chunk (a streaming result: rows are computed as they
    /// are fetched), each chunk's vectors handed to `sink.columns` as they are; memory stays at
    /// about one chunk (2,048 rows) whatever the result's size. Over a read-only file the query
    /// runs on a read-only instance of its own, opened for it with the memory limit
    /// `export_memory_limit` (default `default_export_memory_limit`; `0`: none, the source's
    /// own instance), so the blocks it scans are not left cached in the source's buffer pool;
    /// otherwise on a pooled connection, held until the stream ends. The deadline watchdog and
    /// `q.stop` interrupt it as they do `run`.
    [[nodiscard]] model::result<stream_summary> stream(const query& q, row_sink& sink) override;

    /// The database, for tools that need more than queries (rollup builds, tests). For an
    /// attached source, the host instance: open connections with `connect` instead.
    [[nodiscard]] database& db() noexcept { return *db_; }
    /// A new connection whose default database is this source's (the attached file's, if any).
    [[nodiscard]] model::result<std::unique_ptr<connection>> connect() const;
    /// The name the database is attached under in the host (`attach`, `attach_memory`), which
    /// SQL on other connections of the host qualifies tables with; empty for a source of its own.
    [[nodiscard]] const std::string& attached_as() const noexcept { return attached_as_; }

private:
    struct pooled {
        std::unique_ptr<connection> con;
        std::unordered_map<std::string, std::unique_ptr<prepared_statement>> statements;
    };
    struct watch {
        connection* con;
        model::clock::time_point at;
    };

    duckdb_source(std::string name, std::shared_ptr<database> db, duckdb_settings settings,
                  std::string attached_as = {});
    model::result<std::unique_ptr<pooled>> borrow();
    void give_back(std::unique_ptr<pooled> p);
    void watchdog_loop();
    /// Borrows a connection, prepares and binds `q`, watches its deadline and stop token, and
    /// runs `execute(statement)` under them; the connection goes back unless the client left.
    template <typename T, typename Execute>
    model::result<T> on_connection(const query& q, Execute&& execute);
    /// `on_connection` on a given connection; `reusable` is cleared when the client left.
    template <typename T, typename Execute>
    model::result<T> on_pooled(pooled& p, const query& q, Execute&& execute, bool& reusable);

    std::string name_;
    std::shared_ptr<database> db_;
    duckdb_settings settings_;
    std::string attached_as_;  ///< the file's name in `db_` when attached (`attach`); empty otherwise
    std::string export_memory_limit_{default_export_memory_limit};

    std::mutex pool_mutex_;
    std::vector<std::unique_ptr<pooled>> idle_;

    std::mutex watch_mutex_;
    std::condition_variable watch_cv_;
    std::unordered_map<std::uint64_t, watch> watches_;
    std::uint64_t next_watch_ = 0;
    bool stopping_ = false;
    std::thread watchdog_;
};

}  // namespace frost::source::duckdb
