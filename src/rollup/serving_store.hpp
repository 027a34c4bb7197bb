#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "source/duckdb/duckdb_source.hpp"
#include "source/source.hpp"

namespace frost::rollup {

/// The serving store's name as a source (logs, metrics, query tags). It is never looked up.
inline constexpr std::string_view serving_source_name = "frost_serving";

/// Which version of a rollup an answer was computed from.
struct version_info {
    std::uint64_t version = 0;                         ///< 0: never built
    std::chrono::system_clock::time_point built_at{};  ///< when the source was read (as-of time)
    bool stale = false;                                ///< the last refresh failed; this is the last good version
    std::string last_error;                            ///< why, when stale
};

/// A stage of one refresh, for progress displays (`frost sync`).
enum class refresh_stage { querying, writing, validating, swapping, persisting, done, failed };

/// Told of each stage of a refresh, with the rows seen so far; called on the refreshing thread.
using progress_fn = std::function<void(std::string_view rollup, refresh_stage stage, std::uint64_t rows)>;

/// What a refresh is asked to do.
enum class refresh_kind {
    automatic,  ///< incremental when the rollup is configured so and a version is held; else full
    full,       ///< rebuild from the whole source (`full_refresh`, `frost sync --full`)
};

/// What one refresh did, for `frost sync`, metrics and logs.
struct refresh_report {
    bool ok = false;
    bool incremental = false;                 ///< only rows with key >= `since` were fetched
    std::string since;                        ///< the `$since` bound, as text (incremental rollups)
    std::string why_full;                     ///< why an incremental rollup was rebuilt in full
    std::uint64_t rows_fetched = 0;           ///< rows received from the source
    std::uint64_t bytes_fetched = 0;          ///< their size as held (`source::result_bytes`)
    std::uint64_t rows_held = 0;              ///< rows of the rollup in the new version
    std::chrono::nanoseconds source_time{0};  ///< waiting for the source's answer
    /// Incremental: reading the held rows kept and merging; on disk, building the new version in
    /// memory (the held rows copied inside DuckDB, the fetched ones appended, counts checked).
    std::chrono::nanoseconds merge_time{0};
    /// Writing, checkpointing and attaching the next generation before the swap (0 for an
    /// incremental refresh on disk, whose file is written after the swap: `persist_time`).
    std::chrono::nanoseconds write_time{0};
    std::chrono::nanoseconds duration{0};  ///< the whole refresh, query to swap (new data visible)
    /// Incremental on disk: after the swap, writing the version served from memory to the next
    /// generation file (writer instance, checkpoint, rename) and swapping that file in. Not
    /// part of `duration`.
    std::chrono::nanoseconds persist_time{0};
    bool persisted = true;      ///< false: the version is served from memory, the file is the previous one
    std::string persist_error;  ///< why the file could not be written (the version still serves)
    std::chrono::system_clock::time_point finished{};
    std::string error;  ///< why it failed
};

/// A rollup's refresh history since the store opened.
struct refresh_stats {
    std::uint64_t full_ok = 0, full_failed = 0, incremental_ok = 0, incremental_failed = 0;
    refresh_report last;  ///< the latest refresh (`finished` is the epoch before the first)
};

/// How `open` behaves.
struct store_options {
    bool build_missing = true;     ///< build rollups that have no persisted version, before returning
    bool refresh_on_start = true;  ///< refresh persisted rollups once in the background at start
    bool schedule = true;          ///< run a thread that refreshes each rollup on its interval
    bool memory_fallback =
        true;  ///< keep rollups in memory when the serving file cannot be opened (read-only disk, Lambda)
    bool require_built = false;  ///< fail `open` when a rollup has no version after the first builds (`frost serve`)
    bool use_file = true;        ///< false: ignore `serving.path` and touch no file (`frost check`)
    /// `frost lambda`: when the answer index `<serving.path>.prefix` belongs to the serving file
    /// and holds every rollup's current SQL, take the versions from it, answer the SQLs it holds
    /// from it, and create the serving file's DuckDB instance only when something else needs it
    /// (another query, a refresh, a snapshot). Any mismatch: the usual open.
    bool answer_index = false;
};

/// An endpoint reading a rollup, for the answer index: its SQL as the service sends it.
struct endpoint_sql {
    std::string sql;
    std::string rollup;
    std::string tag;  ///< the endpoint's path, for logs
};

/// Frost's serving database: the rollups of the config, built from their sources into a
/// local DuckDB file (or memory), persisted, refreshed on schedule and swapped atomically,
/// and the `source` that endpoints reading rollups query. Readers see a whole version of a
/// rollup, never a mix.
///
/// An incremental refresh on disk first builds the new version in memory, inside the reader
/// instance (a `:memory:` database attached to it: the held rows before the window copied from
/// the served generation inside DuckDB, the fetched rows appended, the other rollups copied),
/// swaps it in, and only then writes it to the next generation file as below and swaps that
/// file in (same version, same rows). Should that write fail, the in-memory version keeps
/// serving (`frost_rollup_persist_failures_total`) and the next refresh writes a whole
/// generation again; the file on disk is always a complete, older or equal, generation.
///
/// Every other refresh writes a new generation of the whole database: the file `<serving.path>.next`,
/// attached to the store's writer instance (a separate in-memory DuckDB instance, kept for the
/// next refresh), with the unchanged rollups copied over and the rebuilt one added, its row
/// counts validated, checkpointed and detached. Only then is it renamed over `serving.path`,
/// attached read-only to the reader instance (the one every generation on disk is served
/// from) and swapped in. The generation being served is never written to, and never by the
/// instance that serves it, so a failed write or checkpoint (a full disk: DuckDB then
/// invalidates the instance that failed) cannot break it: the writer instance is dropped (a
/// new one writes the next attempt), the last good version stays served, marked stale, and the
/// next refresh tries again. A refresh needs room for two copies of the file. In memory mode
/// each generation is an in-memory instance of its own.
/// A lock file `<serving.path>.lock` keeps a second process (serve or sync) out. Thread-safe.
class serving_store final : public source::source {
public:
    /// Opens (creating when needed) the serving database of `cfg.serving`, loads persisted
    /// rollup versions whose SQL is unchanged, and builds the missing ones. Fails when the
    /// database cannot be opened (e.g. another process holds it) or a rollup names a source
    /// not in `sources`. A rollup whose first build fails does not fail `open` (unless
    /// `options.require_built`): its readers get `source_unavailable` until a refresh succeeds.
    static model::result<std::shared_ptr<serving_store>> open(const config::config& cfg,
                                                              const frost::source::source_map& sources,
                                                              store_options options = {});
    ~serving_store() override;
    serving_store(const serving_store&) = delete;
    serving_store& operator=(const serving_store&) = delete;

    [[nodiscard]] std::string_view name() const override { return serving_source_name; }
    [[nodiscard]] std::string_view dialect() const override { return "duckdb"; }
    /// Runs a query on the serving database (no version bookkeeping). Fails with
    /// `source_unavailable` before the first rollup is built.
    [[nodiscard]] model::result<model::table> run(const frost::source::query& q) override;

    /// A query result and the rollup version it was read from.
    struct versioned_table {
        model::table table;
        version_info version;
    };
    /// Runs `q`, which reads `rollup`, and reports exactly which version it read: the read is
    /// retried when a swap of any rollup overlapped it. Fails with `source_unavailable` while
    /// the rollup has never been built.
    [[nodiscard]] model::result<versioned_table> run_versioned(const frost::source::query& q, std::string_view rollup);
    /// `run_versioned` when, and only when, the prefix sums of `q`'s SQL already built for the
    /// live version answer it: never queries DuckDB, never builds, never waits (for an I/O
    /// thread). Empty otherwise (no index yet, a declined SQL, a bound it cannot take, a swap
    /// under way): then `run_versioned` answers.
    [[nodiscard]] std::optional<versioned_table> run_from_prefix_sums(const frost::source::query& q,
                                                                      std::string_view rollup);

    /// The current version of a rollup (version 0 when unknown or never built).
    [[nodiscard]] version_info current(std::string_view rollup) const;

    /// Refreshes one rollup now from its source and swaps the new version in. An incremental
    /// rollup (`kind` automatic, a version held) fetches only rows with key >= watermark −
    /// lookback and replaces those keys; otherwise the whole rollup is rebuilt. On failure the
    /// old version stays and is marked stale. Refreshes run one at a time.
    model::result<version_info> refresh(std::string_view rollup, const progress_fn& progress = {},
                                        refresh_kind kind = refresh_kind::automatic);

    /// Creates now, rather than in the first refresh, the DuckDB instance that writes generation
    /// files (tens of milliseconds, once per process; `frost sync` before its refreshes). Does
    /// nothing in memory mode. Waits for a refresh in progress.
    model::result<model::done> prepare_writer();

    /// Refresh counts and the latest refresh's figures of a rollup (empty when unknown).
    [[nodiscard]] refresh_stats stats(std::string_view rollup) const;

    /// Told of each successful refresh, on the refreshing thread, with the path of the serving
    /// file just swapped in. No other refresh or install runs during the call, so the file stays
    /// in place until it returns. Not called while rollups are kept in memory (no file).
    using refresh_observer = std::function<void(const std::string& serving_file)>;
    /// Sets (or, with an empty function, clears) the one refresh observer; waits for a refresh
    /// in progress. Used by snapshot publishing (src/snapshot/).
    void set_refresh_observer(refresh_observer observer);

    /// Serves `file`, a whole serving database built elsewhere (a downloaded snapshot), as the
    /// new generation of every rollup, with the versions and as-of times recorded in it. Checks
    /// first that it opens and holds every configured rollup built from the same SQL; on any
    /// failure the current generation keeps serving and `file` is left where it was. With a
    /// serving path the file is moved there; in memory mode it is served from where it is (the
    /// caller keeps it until the next install). Waits for a refresh in progress.
    model::result<model::done> install_snapshot(const std::string& file);

    /// Writes the answer index `<serving.path>.prefix` (answer_index.hpp) for the serving file
    /// being served: the prefix sums of each of `endpoints` that `prefix_index` serves, built
    /// and checked against DuckDB now, with the rollups' versions. Waits for a refresh in
    /// progress. Returns how many endpoints it holds; nothing is written in memory mode.
    model::result<std::size_t> write_answer_index(const std::vector<endpoint_sql>& endpoints);
    /// Whether the serving file's DuckDB instance exists (false while answers come from the
    /// answer index only: `store_options::answer_index`).
    [[nodiscard]] bool duckdb_opened() const;
    /// The answer index beside a serving file.
    [[nodiscard]] static std::string answer_index_path(const std::string& serving_file) {
        return serving_file + ".prefix";
    }

    /// The serving file being served; empty when rollups are kept in memory.
    [[nodiscard]] std::string serving_file() const { return serving_.path; }

    /// Marks every built rollup stale (`X-Data-Stale`) with `reason`, or clears that mark: a
    /// snapshot reader that cannot reach its store keeps serving its last version.
    void set_stale(bool stale, const std::string& reason = {});

    /// Applies a reloaded config's `rollups:` to this running store (config reload; `serving:`
    /// must be unchanged, which the caller checks). A rollup whose definition is unchanged (its
    /// SQL, source, refresh, incremental, full_refresh and max_rows, and the same source object
    /// in `sources`) keeps its version and schedule untouched. A changed one keeps serving its
    /// current version, marked stale (`X-Data-Stale`), and is rebuilt in full from the new
    /// definition by the scheduler at once; the new version replaces it and clears the mark,
    /// and a failed rebuild leaves it serving stale and is retried on the usual schedule. A new
    /// rollup is built by the scheduler at once (its readers get `source_unavailable` until
    /// then). A removed one is forgotten: its readers get `source_unavailable`, and its table
    /// stays in the serving file until the next refresh of any rollup writes a generation
    /// without it. Rebuilds happen only when the store runs a scheduler (`store_options::schedule`).
    /// Fails, changing nothing, when a rollup names a source not in `sources` or has no SQL
    /// for its dialect. `sources` replaces the store's sources; a refresh already running
    /// finishes with the definition and source it started with. Thread-safe; does not wait for
    /// a refresh.
    model::result<model::done> reconfigure(const config::config& cfg, const frost::source::source_map& sources);

    /// The configured rollups, in config order.
    [[nodiscard]] std::vector<std::string> rollup_names() const;

    /// Queries sent to upstream sources (rollup builds only; never per API call).
    [[nodiscard]] std::uint64_t source_queries() const noexcept { return source_queries_.load(); }
    /// Queries answered from the serving database.
    [[nodiscard]] std::uint64_t reads() const noexcept { return reads_.load(); }
    [[nodiscard]] std::uint64_t refreshes() const noexcept { return refreshes_.load(); }
    [[nodiscard]] std::uint64_t failed_refreshes() const noexcept { return failed_refreshes_.load(); }
    /// Versions swapped in from memory whose generation file could not be written afterwards.
    [[nodiscard]] std::uint64_t persist_failures() const noexcept { return persist_failures_.load(); }

    /// For tests: called on the refreshing thread after a version built in memory is swapped in
    /// and before its generation file is written; set before refreshes run (not synchronised).
    void set_persist_hook(std::function<void()> hook) { persist_hook_ = std::move(hook); }

    /// How an endpoint's `run_versioned` reads were answered since the store opened: from the
    /// prefix sums of its SQL (`prefix_index`) or by DuckDB (`frost_rollup_answers_total`).
    struct answer_counts {
        std::uint64_t prefix_sums = 0, duckdb = 0;
    };
    /// By endpoint (the query's tag).
    [[nodiscard]] answer_counts answers(std::string_view endpoint) const;
    /// Turns the prefix-sum answers of `run_versioned` on or off; on unless the environment
    /// sets `FROST_PREFIX_SUMS=off` (benchmarks, bisecting). Thread-safe.
    void set_prefix_sums(bool on);
    /// Waits until no prefix index is queued or being built (each is built in the background
    /// after the first read of its SQL on a generation; tests and benchmarks wait for them).
    void settle_prefix_sums() const;

private:
    using generation = std::shared_ptr<frost::source::duckdb::duckdb_source>;
    /// One rollup: its definition (never changed once the state is in `rollups_`; a reconfigure
    /// replaces the whole state) and its version and schedule (guarded by `state_mutex_`).
    struct rollup_state {
        config::rollup_config cfg;
        std::shared_ptr<frost::source::source> src;
        std::string sql;
        std::string sql_hash;
        version_info version;
        /// The held version was built from an older definition: the next refresh is full.
        bool rebuild_pending = false;
        std::chrono::steady_clock::time_point next_refresh{};
        /// When the next scheduled refresh of an incremental rollup is a full one.
        std::chrono::steady_clock::time_point next_full = std::chrono::steady_clock::time_point::max();
        std::chrono::milliseconds retry_delay{1000};  ///< next wait after a failed first build
        refresh_stats stats;
    };
    /// Where an incremental refresh starts: `since` bound, and the text shown for it.
    struct window {
        model::value since;
        std::string text;
    };

    explicit serving_store(config::serving_config serving);
    using state_ptr = std::shared_ptr<rollup_state>;
    model::result<state_ptr> make_state(const config::rollup_config& rc,
                                        const frost::source::source_map& sources) const;
    model::result<model::done> open_file(bool memory_fallback, bool answer_index);
    /// Takes the versions and the answers of the answer index when it matches (open_file).
    bool load_answer_index();
    /// Creates the DuckDB instance of a store opened from its answer index (once; live()).
    void open_lazily();
    model::result<model::done> load_persisted();
    /// Builds the next version and swaps it in. Sets `persist_pending` when that version is
    /// served from memory and its generation file is still to be written (`persist`).
    model::result<std::uint64_t> build_and_swap(rollup_state& r, const progress_fn& progress, refresh_kind kind,
                                                refresh_report& report, bool& persist_pending);
    /// The next generation in memory, attached to the reader instance: the served generation
    /// with `r`'s rows from `since` on replaced by `fetched`. Null when the held table's columns
    /// differ from the result's (then a full rebuild replaces it). Sets `rows_held`.
    model::result<generation> merge_in_memory(const rollup_state& r, const model::table& fetched,
                                              const model::value& since, std::uint64_t version,
                                              std::chrono::system_clock::time_point as_of, std::uint64_t& rows_held);
    /// Makes `next` the live generation and `r`'s version `version` (readers see the old or the
    /// new one, never a mix). Returns the generation swapped out.
    [[nodiscard]] generation swap_in(rollup_state& r, generation next, std::uint64_t version,
                                     std::chrono::system_clock::time_point as_of);
    /// Writes the generation served from memory to the serving file and serves that instead;
    /// on failure the memory one stays, counted and logged. Fills `report`'s persist fields.
    void persist(const rollup_state& r, const progress_fn& progress, refresh_report& report);
    /// Moves the prefix indexes built for generation `from` to `to`, which holds the same rows.
    void carry_prefix_sums(const generation& from, const generation& to);
    model::result<std::optional<window>> incremental_window(const rollup_state& r, std::string& why_full);
    model::result<generation> write_generation(const rollup_state& r, const model::table& table, std::uint64_t version,
                                               std::chrono::system_clock::time_point as_of,
                                               const progress_fn& progress);
    /// The live generation; opens it first when the store was opened from its answer index.
    [[nodiscard]] generation live();
    /// Serves the database file at `path` (complete, checkpointed): attached read-only to the
    /// reader instance, which is created on first use.
    model::result<generation> open_generation(const std::string& path);
    /// The writer instance (created on first use).
    model::result<frost::source::duckdb::database*> writer();
    void schedule_loop();
    /// Answers `q` on the live generation: from the prefix sums of its SQL when it has them
    /// (built on first use per generation), else by DuckDB (serving_fast_path.cpp).
    model::result<model::table> answer(const frost::source::query& q, std::string_view rollup);
    /// The prefix sums' answer to `q` on the live generation if its index is built (no DuckDB).
    std::optional<model::table> prefix_answer(const frost::source::query& q, std::string_view rollup);
    /// The answer index's answer to `q` while it is valid (no generation swapped in since open).
    std::optional<model::table> cold_answer(const frost::source::query& q, std::string_view rollup);
    struct cold_answers;
    struct fast_state;
    static std::shared_ptr<fast_state> make_fast_state();
    /// Stops the background index builder (the destructor, before the generations close).
    void stop_prefix_builds();

    config::serving_config serving_;
    mutable std::mutex live_mutex_;
    generation live_;  ///< the generation readers query; null until a first version exists
    /// The generation an in-memory version replaced, kept until `persist` (guarded by `refresh_mutex_`).
    generation retired_;
    /// The answer index's indexes by SQL, from open until the first swap (guarded by live_mutex_).
    std::shared_ptr<const cold_answers> cold_;
    /// The serving file is not opened yet (opened from its answer index); `lazy_mutex_` opens it once.
    std::atomic<bool> lazy_pending_{false};
    std::mutex lazy_mutex_;
    /// The in-memory instance generation files are attached to for reading (on disk only;
    /// created at open, then guarded by `refresh_mutex_` as `writer_` is).
    std::shared_ptr<frost::source::duckdb::database> reader_host_;
    /// The in-memory instance that writes generation files (guarded by `refresh_mutex_`,
    /// or used before the store is shared); dropped after a failed write.
    std::unique_ptr<frost::source::duckdb::database> writer_;
    int lock_fd_ = -1;  ///< holds `<serving.path>.lock`

    mutable std::mutex state_mutex_;
    /// Shared with a refresh in progress, which keeps its state alive when a reconfigure
    /// replaces or removes it.
    std::map<std::string, state_ptr, std::less<>> rollups_;
    std::map<std::string, std::uint64_t> persisted_versions_;  ///< of rollups whose SQL changed: numbers keep rising
    std::mutex refresh_mutex_;                                 ///< one refresh at a time
    std::atomic<std::uint64_t> swap_seq_{0};                   ///< odd while a swap commits (a seqlock for readers)

    std::atomic<std::uint64_t> source_queries_{0}, reads_{0}, refreshes_{0}, failed_refreshes_{0}, persist_failures_{0};
    std::function<void()> persist_hook_;  ///< tests only (`set_persist_hook`)

    refresh_observer observer_;  ///< guarded by refresh_mutex_

    std::mutex schedule_mutex_;
    std::condition_variable schedule_cv_;
    bool stopping_ = false;
    bool rescheduled_ = false;  ///< a reconfigure changed what is due: the scheduler looks again
    std::thread scheduler_;

    std::shared_ptr<fast_state> fast_ = make_fast_state();  ///< prefix-sum indexes by endpoint SQL
};

/// Opens the serving store when `cfg` declares rollups; null otherwise.
[[nodiscard]] model::result<std::shared_ptr<serving_store>> open_serving(const config::config& cfg,
                                                                         const frost::source::source_map& sources,
                                                                         store_options options = {});

}  // namespace frost::rollup
