#include "rollup/serving_store.hpp"

#include <spdlog/spdlog.h>
#include "source/duckdb/c_api.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <map>
#include <set>
#include <tuple>

#include "codec/fnv.hpp"
#include "rollup/answer_index.hpp"
#include "source/duckdb/catalog.hpp"
#include "source/lazy.hpp"
#include "source/usage.hpp"

namespace frost::rollup {

namespace {

using frost::source::duckdb::connection;
using frost::source::duckdb::duckdb_source;
using frost::source::duckdb::quote_identifier;
using frost::source::duckdb::quote_literal;

constexpr std::string_view meta_table = "frost_rollups";

// Stored in the serving file, so it must stay the same across builds: FNV-1a, not std::hash.
std::string sql_fingerprint(std::string_view sql) {
    return std::to_string(codec::fnv1a_64(sql));
}

model::error store_error(std::string message) {
    return {model::error_code::source_unavailable, std::move(message), {}, {}};
}

// What a DECIMAL column must hold: the largest scale among its values, and whether a value
// needs more than width 18 (what Frost reads back as an exact decimal).
struct decimal_need {
    int scale = 0;
    bool wide = false;
};

std::string decimal_sql(decimal_need n) {
    return "DECIMAL(" + std::string(n.wide ? "38" : "18") + "," + std::to_string(std::min(n.scale, n.wide ? 37 : 17)) +
           ")";
}

decimal_need decimal_of(const model::table& t, std::size_t col) {
    int scale = 0;
    bool wide = false;
    for (const auto& row : t.rows) {
        if (const auto* d = std::get_if<model::decimal>(&row[col])) {
            scale = std::max<int>(scale, d->scale);
            wide = wide || d->unscaled > 999'999'999'999'999'999LL || d->unscaled < -999'999'999'999'999'999LL;
        }
        if (const auto* s = std::get_if<std::string>(&row[col])) {
            wide = true;
            if (auto dot = s->find('.'); dot != std::string::npos)
                scale = std::max<int>(scale, static_cast<int>(s->size() - dot - 1));
        }
    }
    return {scale, wide};
}

// The DECIMAL type a column needs.
std::string decimal_type(const model::table& t, std::size_t col) {
    return decimal_sql(decimal_of(t, col));
}

std::string column_sql_type(const model::table& t, std::size_t col) {
    switch (t.columns[col].type) {
        case model::column_type::boolean:
            return "BOOLEAN";
        case model::column_type::integer:
            return "BIGINT";
        case model::column_type::real:
            return "DOUBLE";
        case model::column_type::decimal:
            return decimal_type(t, col);
        case model::column_type::date:
            return "DATE";
        case model::column_type::timestamp:
            return "TIMESTAMP";
        case model::column_type::binary:
            return "BLOB";
        case model::column_type::text:
        case model::column_type::time:
        case model::column_type::json:
            return "VARCHAR";
    }
    return "VARCHAR";
}

// Appends one cell; decimals go through DuckDB's own decimal value so no digit is lost.
duckdb_state append_cell(duckdb_appender app, const model::value& v) {
    struct visitor {
        duckdb_appender app;
        duckdb_state operator()(std::monostate) const { return duckdb_append_null(app); }
        duckdb_state operator()(bool b) const { return duckdb_append_bool(app, b); }
        duckdb_state operator()(std::int64_t i) const { return duckdb_append_int64(app, i); }
        duckdb_state operator()(double d) const { return duckdb_append_double(app, d); }
        duckdb_state operator()(const model::decimal& d) const {
            duckdb_value val = duckdb_create_decimal(source::duckdb::to_duckdb_decimal(d));
            const auto rc = duckdb_append_value(app, val);
            duckdb_destroy_value(&val);
            return rc;
        }
        duckdb_state operator()(model::date d) const { return duckdb_append_date(app, duckdb_date{d.days}); }
        duckdb_state operator()(model::timestamp t) const {
            return duckdb_append_timestamp(app, duckdb_timestamp{t.micros});
        }
        duckdb_state operator()(const std::string& s) const {
            return duckdb_append_varchar_length(app, s.data(), s.size());
        }
    };
    return std::visit(visitor{app}, v);
}

// RAII owner of a duckdb_appender.
struct appender_owner {
    duckdb_appender a = nullptr;
    ~appender_owner() { duckdb_appender_destroy(&a); }
    std::string error() const {
        const char* e = a ? duckdb_appender_error(a) : nullptr;
        return e ? e : "appender failed";
    }
};

long long epoch_ms(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// Removes a generation file and its write-ahead log (a refresh that failed or was cut off).
void remove_database_files(const std::string& path) {
    std::error_code ec;
    std::filesystem::remove(path, ec);
    std::filesystem::remove(path + ".wal", ec);
}

// Appends the rows of `table` to `name` (a table of the connection's default database, with
// its columns) and checks that it then holds `expected` rows.
model::result<model::done> append_rows(connection& c, const std::string& name, const model::table& table,
                                       const progress_fn& progress, std::uint64_t expected) {
    {
        appender_owner app;
        if (duckdb_appender_create(c.handle(), nullptr, name.c_str(), &app.a) == DuckDBError)
            return store_error("rollup " + name + ": " + app.error());
        std::uint64_t written = 0;
        for (const auto& row : table.rows) {
            for (const auto& cell : row)
                if (append_cell(app.a, cell) == DuckDBError)
                    return store_error("rollup " + name + ": row " + std::to_string(written + 1) + ": " + app.error());
            if (duckdb_appender_end_row(app.a) == DuckDBError)
                return store_error("rollup " + name + ": row " + std::to_string(written + 1) + ": " + app.error());
            if (++written % 65536 == 0 && progress) progress(name, refresh_stage::writing, written);
        }
        if (duckdb_appender_close(app.a) == DuckDBError) return store_error("rollup " + name + ": " + app.error());
    }
    auto counted = c.execute("SELECT count(*)::BIGINT FROM " + quote_identifier(name));
    if (!counted) return std::move(counted).error();
    auto count_table = counted.value().to_table(1);
    if (!count_table || count_table.value().rows.size() != 1 ||
        std::get_if<std::int64_t>(&count_table.value().rows[0][0]) == nullptr ||
        static_cast<std::uint64_t>(std::get<std::int64_t>(count_table.value().rows[0][0])) != expected)
        return store_error("rollup " + name + ": the new table does not hold the rows the source returned");
    return model::done{};
}

// Creates `name` in `c` with the columns of `table`, appends its rows and checks the count.
model::result<model::done> write_table(connection& c, const std::string& name, const model::table& table,
                                       const progress_fn& progress) {
    std::string create = "CREATE TABLE " + quote_identifier(name) + " (";
    for (std::size_t i = 0; i < table.columns.size(); ++i)
        create += (i ? ", " : "") + quote_identifier(table.columns[i].name) + " " + column_sql_type(table, i);
    create += ")";
    if (auto rc = c.execute(create); !rc) return std::move(rc).error();
    return append_rows(c, name, table, progress, table.rows.size());
}

// Creates the version records' table of every generation.
std::string meta_table_ddl() {
    return "CREATE TABLE " + std::string(meta_table) +
           " (name VARCHAR PRIMARY KEY, version BIGINT, built_at_ms BIGINT, row_count BIGINT, sql_hash VARCHAR)";
}

// Takes the lock file beside the serving database, so that two processes never write
// generations over each other. Returns the open descriptor.
model::result<int> take_lock(const std::string& path) {
    const std::string lock_path = path + ".lock";
    const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return model::error{
            model::error_code::source_unavailable, "cannot create " + lock_path + ": " + std::strerror(errno), {}, {}};
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        return model::error{model::error_code::source_unavailable,
                            "serving database " + path + " is locked by another process",
                            {},
                            "another frost process (serve or sync) holds it; a running server refreshes rollups "
                            "itself"};
    }
    return fd;
}

// `frost load` records every file it loads in the loaded database's `frost_loaded_files`
// (docs/loading.md): a rollup built before the newest load is due at once.
bool loaded_since(frost::source::source& src, std::chrono::system_clock::time_point built_at) {
    // A source opened on first use (`frost lambda`) is not opened for this probe: that would
    // cost the cold start the DuckDB instance the laziness saves. Its files cannot change under
    // a running function (a read-only package); the scheduled refresh still runs.
    if (const auto* lazy = frost::source::as_lazy(&src)) {
        const auto opened = lazy->opened();
        return opened && loaded_since(*opened, built_at);
    }
    // Only a DuckDB file can have been loaded; a warehouse is never asked at start.
    auto* duck = dynamic_cast<frost::source::duckdb::duckdb_source*>(&src);
    if (duck == nullptr) return false;
    // Most files were never loaded into: ask the catalog first, since the failing query costs
    // ~20 ms of CPU at every cold start (bench/lambda/open_phases.cpp).
    if (auto con = duck->connect();
        con && !frost::source::duckdb::table_exists(*con.value(), "main", "frost_loaded_files"))
        return false;
    frost::source::query q{"SELECT epoch_ms(max(loaded_at))::BIGINT FROM frost_loaded_files",
                           {},
                           model::deadline::after(std::chrono::seconds(10)),
                           "rollup:loaded-since",
                           1};
    auto t = src.run(q);  // fails when the table is absent: nothing was ever loaded there
    if (!t || t.value().rows.empty()) return false;
    const auto* ms = std::get_if<std::int64_t>(&t.value().rows[0][0]);
    return ms && *ms > epoch_ms(built_at);
}

}  // namespace

serving_store::serving_store(config::serving_config serving) : serving_(std::move(serving)) {}

serving_store::~serving_store() {
    stop_prefix_builds();
    {
        std::lock_guard lock(schedule_mutex_);
        stopping_ = true;
    }
    schedule_cv_.notify_all();
    if (scheduler_.joinable()) scheduler_.join();
    {
        std::lock_guard lock(live_mutex_);
        live_.reset();
    }
    if (lock_fd_ >= 0) ::close(lock_fd_);
}

model::result<std::shared_ptr<serving_store>> serving_store::open(const config::config& cfg,
                                                                  const frost::source::source_map& sources,
                                                                  store_options options) {
    auto serving = cfg.serving;
    if (!options.use_file) serving.path.clear();
    std::shared_ptr<serving_store> store(new serving_store(std::move(serving)));

    for (const auto& rc : cfg.rollups) {
        auto st = store->make_state(rc, sources);
        if (!st) return std::move(st).error();
        store->rollups_.emplace(rc.name, std::move(st).value());
    }
    if (!store->serving_.path.empty()) {
        if (auto opened = store->open_file(options.memory_fallback, options.answer_index); !opened)
            return std::move(opened).error();
    }
    // Opened from its answer index, the versions are the index's: the file is not read now.
    if (!store->lazy_pending_.load()) {
        if (auto loaded = store->load_persisted(); !loaded) return std::move(loaded).error();
    }

    const auto now = std::chrono::steady_clock::now();
    for (auto& [name, held] : store->rollups_) {
        auto& st = *held;
        // A held version's full rebuild is counted from the start (the store keeps no full-build time).
        if (st.cfg.full_refresh) st.next_full = now + *st.cfg.full_refresh;
        if (st.version.version == 0) {
            if (options.build_missing) {
                if (auto built = store->refresh(name); !built) {
                    if (options.require_built)
                        return model::error{model::error_code::source_unavailable,
                                            "rollup " + name + ": the first build failed, so there is no version " +
                                                "to serve: " + built.error().message,
                                            {},
                                            "fix the cause (free disk space, reach the source) and start again"};
                    spdlog::warn("rollup {}: first build failed: {}", name, built.error().message);
                }
            }
            // A failed first build is retried after 1 s, then 2 s, 4 s ... up to the refresh interval.
            st.next_refresh = now + (st.version.version ? st.cfg.refresh : std::min(st.retry_delay, st.cfg.refresh));
            if (st.version.version == 0) st.retry_delay = std::min(st.retry_delay * 2, st.cfg.refresh);
        } else {
            const bool loaded = loaded_since(*st.src, st.version.built_at);
            // `frost load` may have added any month of history, not only the lookback window.
            if (loaded) st.next_full = now;
            st.next_refresh = options.refresh_on_start || loaded ? now : now + st.cfg.refresh;
        }
    }
    // Also when no rollup is left to refresh: a reconfigure may add some.
    if (options.schedule) store->scheduler_ = std::thread([raw = store.get()] { raw->schedule_loop(); });
    return store;
}

model::result<serving_store::state_ptr> serving_store::make_state(const config::rollup_config& rc,
                                                                  const frost::source::source_map& sources) const {
    auto it = sources.find(rc.source);
    if (it == sources.end() || !it->second)
        return model::error{model::error_code::config_error,
                            "rollup " + rc.name + ": source \"" + rc.source + "\" is not open",
                            {},
                            {}};
    auto st = std::make_shared<rollup_state>();
    st->cfg = rc;
    st->src = it->second;
    const auto* sql = config::sql_for(rc.sql, st->src->dialect());
    if (!sql)
        return model::error{model::error_code::config_error,
                            "rollup " + rc.name + ": no SQL for dialect " + std::string(st->src->dialect()),
                            {},
                            {}};
    st->sql = *sql;
    st->sql_hash = sql_fingerprint(st->sql);
    return st;
}

model::result<model::done> serving_store::open_file(bool memory_fallback, bool answer_index) {
    const std::string path = serving_.path;
    std::error_code ec;
    const auto dir = std::filesystem::path(path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    auto lock = take_lock(path);
    if (!lock) {
        // A read-only disk (a Lambda package) cannot hold the file: keep rollups in memory.
        if (memory_fallback && lock.error().hint.empty()) {
            spdlog::warn("serving database {} cannot be opened ({}); keeping rollups in memory, rebuilt at every start",
                         path, lock.error().message);
            serving_.path.clear();
            return model::done{};
        }
        return std::move(lock).error();
    }
    lock_fd_ = lock.value();
    remove_database_files(path + ".next");  // a refresh cut off before its swap
    if (!std::filesystem::exists(path, ec)) return model::done{};
    if (answer_index && !std::filesystem::exists(path + ".wal", ec) && load_answer_index()) return model::done{};
    if (std::filesystem::exists(path + ".wal", ec)) {
        // Written by an older Frost, which refreshed the file in place: fold the log in once,
        // since the generation served is opened read-only.
        (void)frost::source::duckdb::database::open(path, serving_.options);
    }
    auto db = open_generation(path);
    if (!db) {
        auto e = std::move(db).error();
        e.message = "serving database " + path + ": " + e.message;
        // We hold the lock, so the file is ours and unreadable (damaged): set it aside and
        // rebuild every rollup in full, rather than serve nothing or only from memory.
        std::filesystem::rename(path, path + ".corrupt", ec);
        if (!ec) {
            std::filesystem::remove(path + ".wal", ec);
            spdlog::warn("{}; moved it to {}.corrupt, rebuilding every rollup", e.message, path);
            return model::done{};
        }
        if (!memory_fallback) return e;
        spdlog::warn("{}; keeping rollups in memory, rebuilt at every start", e.message);
        serving_.path.clear();
        return model::done{};
    }
    live_ = std::move(db).value();
    return model::done{};
}

model::result<model::done> serving_store::load_persisted() {
    auto db = live();
    if (!db) return model::done{};
    auto con = db->connect();
    if (!con) return std::move(con).error();
    auto& c = *con.value();
    // Existence through the catalog, not duckdb_tables(): that costs ~20 ms of CPU per cold start.
    auto res = frost::source::duckdb::table_exists(c, "main", std::string(meta_table))
                   ? c.execute("SELECT name, version, built_at_ms, sql_hash FROM " + std::string(meta_table))
                   : model::result<frost::source::duckdb::query_result>(store_error("no " + std::string(meta_table)));
    if (!res) {
        spdlog::warn("serving database {}: no rollup versions readable; rebuilding them", serving_.path);
        return model::done{};
    }
    auto table = res.value().to_table(100'000);
    if (!table) return std::move(table).error();
    std::lock_guard lock(state_mutex_);
    for (const auto& row : table.value().rows) {
        const auto* name = std::get_if<std::string>(&row[0]);
        const auto* version = std::get_if<std::int64_t>(&row[1]);
        const auto* built = std::get_if<std::int64_t>(&row[2]);
        const auto* hash = std::get_if<std::string>(&row[3]);
        if (!name || !version || !built || !hash) continue;
        auto it = rollups_.find(*name);
        if (it == rollups_.end() || !frost::source::duckdb::table_exists(c, "main", *name)) continue;
        auto& st = *it->second;
        st.version.version = static_cast<std::uint64_t>(*version);
        st.version.built_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(*built));
        if (*hash != st.sql_hash) {
            // The SQL changed since it was built: serve nothing from the old shape; rebuild.
            st.version = {};
            st.version.version = 0;
            spdlog::info("rollup {}: SQL changed since the persisted build; rebuilding", *name);
            persisted_versions_[*name] = static_cast<std::uint64_t>(*version);
        }
    }
    return model::done{};
}

std::vector<std::string> serving_store::rollup_names() const {
    std::lock_guard lock(state_mutex_);
    std::vector<std::string> out;
    for (const auto& [name, st] : rollups_) out.push_back(name);
    return out;
}

version_info serving_store::current(std::string_view rollup) const {
    std::lock_guard lock(state_mutex_);
    auto it = rollups_.find(rollup);
    return it == rollups_.end() ? version_info{} : it->second->version;
}

serving_store::generation serving_store::live() {
    if (lazy_pending_.load(std::memory_order_acquire)) open_lazily();
    std::lock_guard lock(live_mutex_);
    return live_;
}

bool serving_store::duckdb_opened() const {
    std::lock_guard lock(live_mutex_);
    return live_ != nullptr;
}

void serving_store::open_lazily() {
    std::lock_guard lazy(lazy_mutex_);
    if (!lazy_pending_.load()) return;
    const auto started = std::chrono::steady_clock::now();
    auto db = open_generation(serving_.path);
    if (db) {
        std::lock_guard lock(live_mutex_);
        if (!live_) live_ = std::move(db).value();
        spdlog::info("serving file {} opened on first need in {:.1f} ms", serving_.path,
                     std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
    } else {
        // Its answer index matched, so this is unexpected; the next refresh writes a new generation.
        spdlog::error("serving database {}: {}", serving_.path, db.error().message);
    }
    lazy_pending_.store(false, std::memory_order_release);
}

model::result<std::size_t> serving_store::write_answer_index(const std::vector<endpoint_sql>& endpoints) {
    std::lock_guard refresh_lock(refresh_mutex_);
    if (serving_.path.empty()) return std::size_t{0};
    auto db = live();
    if (!db) return store_error("no serving file to index: no rollup has been built");
    answer_index out;
    std::set<std::string, std::less<>> names;
    {
        std::lock_guard lock(state_mutex_);
        for (const auto& [name, st] : rollups_) {
            if (st->version.version == 0) return store_error("rollup " + name + " has no version to index");
            names.insert(name);
            out.rollups.push_back({name, st->version.version, epoch_ms(st->version.built_at), st->sql_hash});
        }
    }
    std::set<std::string, std::less<>> seen;
    for (const auto& e : endpoints) {
        if (!names.contains(e.rollup) || !seen.insert(e.sql).second) continue;
        auto plan = prefix_index::recognise(*db, e.sql, e.rollup);
        auto built = plan ? prefix_index::build(*db, plan.value())
                          : model::result<std::shared_ptr<const prefix_index>>(std::move(plan).error());
        if (!built) {
            spdlog::info("answer index: endpoint {} is left to DuckDB: {}", e.tag, built.error().message);
            continue;
        }
        out.entries.push_back({e.sql, e.rollup, std::move(built).value(), {}});
    }
    auto id = identify_file(serving_.path);
    if (!id) return std::move(id).error();
    out.serving = id.value();
    if (auto written = out.write(answer_index_path(serving_.path)); !written) return std::move(written).error();
    return out.entries.size();
}

model::result<model::table> serving_store::run(const frost::source::query& q) {
    reads_.fetch_add(1, std::memory_order_relaxed);
    auto db = live();  // keeps this generation open while the query runs, even across a swap
    if (!db) return store_error("no rollup has been built yet");
    return db->run(q);
}

model::result<serving_store::versioned_table> serving_store::run_versioned(const frost::source::query& q,
                                                                           std::string_view rollup) {
    for (int attempt = 0;; ++attempt) {
        const auto before = swap_seq_.load();
        if (before & 1) {
            // A swap is committing right now; it takes microseconds.
            std::this_thread::sleep_for(std::chrono::microseconds(200));
            if (attempt < 1000) continue;
        }
        auto version = current(rollup);
        // The reason stays in the log: it may name files and libraries.
        if (version.version == 0) return store_error("rollup " + std::string(rollup) + " has not been built yet");
        auto table = answer(q, rollup);
        if (!table) return std::move(table).error();
        // No swap began or ended while the query ran: it read exactly `version`.
        if (swap_seq_.load() == before || attempt >= 8)
            return versioned_table{std::move(table).value(), std::move(version)};
    }
}

std::optional<serving_store::versioned_table> serving_store::run_from_prefix_sums(const frost::source::query& q,
                                                                                  std::string_view rollup) {
    const auto before = swap_seq_.load();
    if (before & 1) return std::nullopt;  // a swap is committing: a worker waits it out
    auto version = current(rollup);
    if (version.version == 0) return std::nullopt;
    auto table = prefix_answer(q, rollup);
    // No swap began or ended meanwhile: the answer is `version`'s.
    if (!table || swap_seq_.load() != before) return std::nullopt;
    reads_.fetch_add(1, std::memory_order_relaxed);
    return versioned_table{std::move(*table), std::move(version)};
}

model::result<version_info> serving_store::refresh(std::string_view rollup, const progress_fn& progress,
                                                   refresh_kind kind) {
    std::lock_guard refresh_lock(refresh_mutex_);
    (void)live();  // a store opened from its answer index opens its serving file now
    state_ptr st;  // kept alive by this refresh even if a reconfigure replaces or removes it
    {
        std::lock_guard lock(state_mutex_);
        auto it = rollups_.find(rollup);
        if (it == rollups_.end())
            return model::error{
                model::error_code::not_found, "no rollup named \"" + std::string(rollup) + "\"", {}, {}};
        st = it->second;
        // Rows built from an older definition must not be merged with the new one's.
        if (st->rebuild_pending) kind = refresh_kind::full;
    }
    refresh_report report;
    const auto started = std::chrono::steady_clock::now();
    bool persist_pending = false;
    auto built = build_and_swap(*st, progress, kind, report, persist_pending);
    report.duration = std::chrono::steady_clock::now() - started;  // the new version is visible
    if (built && persist_pending) {
        report.rows_held = built.value();
        persist(*st, progress, report);
    }
    report.finished = std::chrono::system_clock::now();
    std::unique_lock state_lock(state_mutex_);
    auto& stats = st->stats;
    if (!built) {
        failed_refreshes_.fetch_add(1);
        ++(report.incremental ? stats.incremental_failed : stats.full_failed);
        report.error = built.error().message;
        stats.last = std::move(report);
        if (st->version.version != 0) st->version.stale = true;
        st->version.last_error = built.error().message;
        spdlog::warn("rollup {}: refresh failed, still serving version {}: {}", rollup, st->version.version,
                     built.error().message);
        if (progress) progress(rollup, refresh_stage::failed, 0);
        return std::move(built).error();
    }
    refreshes_.fetch_add(1);
    ++(report.incremental ? stats.incremental_ok : stats.full_ok);
    report.ok = true;
    report.rows_held = built.value();
    if (!report.incremental)
        st->next_full = st->cfg.full_refresh ? std::chrono::steady_clock::now() + *st->cfg.full_refresh
                                             : std::chrono::steady_clock::time_point::max();
    spdlog::info("rollup {}: version {} ({}{}{}), {} rows fetched, {} held, in {:.3f} s{}", rollup, st->version.version,
                 report.incremental ? "incremental since " : "full", report.since,
                 report.why_full.empty() ? "" : ": " + report.why_full, report.rows_fetched, report.rows_held,
                 std::chrono::duration<double>(report.duration).count(),
                 !persist_pending   ? std::string()
                 : report.persisted ? fmt::format(", persisted in {:.3f} s",
                                                  std::chrono::duration<double>(report.persist_time).count())
                                    : std::string(", served from memory: the serving file is not written"));
    const bool file_current = report.persisted;
    stats.last = std::move(report);
    if (progress) progress(rollup, refresh_stage::done, built.value());
    auto done = st->version;
    // The observer publishes the serving file: only once it holds the version just swapped in.
    if (observer_ && !serving_.path.empty() && file_current) {
        state_lock.unlock();  // the observer reads versions (current()) and may take a while (an upload)
        observer_(serving_.path);
    }
    return done;
}

refresh_stats serving_store::stats(std::string_view rollup) const {
    std::lock_guard lock(state_mutex_);
    auto it = rollups_.find(rollup);
    return it == rollups_.end() ? refresh_stats{} : it->second->stats;
}

model::result<std::optional<serving_store::window>> serving_store::incremental_window(const rollup_state& r,
                                                                                      std::string& why_full) {
    if (!r.cfg.incremental) return std::optional<window>();
    std::uint64_t held = 0;
    {
        std::lock_guard lock(state_mutex_);
        held = r.version.version;
    }
    auto db = live();
    if (held == 0 || !db) {
        why_full = "no version held yet";
        return std::optional<window>();
    }
    const auto& inc = *r.cfg.incremental;
    const std::string sql = "SELECT max(" + quote_identifier(inc.key) + ") FROM " + quote_identifier(r.cfg.name);
    frost::source::query q{sql, {}, model::deadline::after(std::chrono::minutes(1)), "rollup:watermark", 1};
    auto max = db->run(q);
    if (!max || max.value().rows.size() != 1) {
        // A damaged or foreign table: a full build replaces it.
        why_full = "the held version's watermark cannot be read" + (max ? std::string() : ": " + max.error().message);
        return std::optional<window>();
    }
    const auto& wm = max.value().rows[0][0];
    if (const auto* d = std::get_if<model::date>(&wm)) {
        constexpr std::int64_t day_ms = 86'400'000;
        const auto days = static_cast<std::int32_t>((inc.lookback.count() + day_ms - 1) / day_ms);
        const model::date since{d->days - days};
        return std::optional<window>(window{since, model::format_date(since)});
    }
    if (const auto* t = std::get_if<model::timestamp>(&wm)) {
        const model::timestamp since{t->micros - inc.lookback.count() * 1000};
        return std::optional<window>(window{since, model::format_timestamp(since)});
    }
    if (std::holds_alternative<std::monostate>(wm)) {
        why_full = "the held version is empty";
        return std::optional<window>();
    }
    return store_error("rollup " + r.cfg.name + ": incremental key \"" + inc.key +
                       "\" is not a DATE or TIMESTAMP column");
}

model::result<serving_store::generation> serving_store::open_generation(const std::string& path) {
    std::error_code ec;
    const auto file = std::filesystem::absolute(path, ec);
    if (ec) return store_error("serving database " + path + ": " + ec.message());
    if (!reader_host_) {
        // Only this path (each generation is renamed to it) is open to the reader instance's SQL.
        auto host = duckdb_source::open_host(serving_.options, {file.string(), file.string() + ".wal"});
        if (!host) return std::move(host).error();
        reader_host_ = std::move(host).value();
    }
    auto src = duckdb_source::attach(std::string(serving_source_name), reader_host_, file.string(), serving_.options);
    if (!src) return std::move(src).error();
    return generation(std::move(src).value());
}

model::result<frost::source::duckdb::database*> serving_store::writer() {
    if (!writer_) {
        auto options = serving_.options;
        options.erase(std::string(frost::source::duckdb::export_memory_limit_option));
        options.erase("access_mode");
        auto db = frost::source::duckdb::database::open(":memory:", options);
        if (!db) return std::move(db).error();
        // A generation's one commit checkpoints at once, writing no log: two fsyncs fewer than
        // a logged commit and then a checkpoint. The explicit CHECKPOINT after it stays: it
        // reports a checkpoint that failed (a full disk), and costs nothing after one that worked.
        auto con = connection::open(*db.value());
        if (!con) return std::move(con).error();
        if (auto rc = con.value()->execute("SET checkpoint_threshold = '0b'"); !rc) return std::move(rc).error();
        con.value().reset();
        writer_ = std::move(db).value();
    }
    return writer_.get();
}

model::result<model::done> serving_store::prepare_writer() {
    std::lock_guard refresh_lock(refresh_mutex_);
    if (serving_.path.empty()) return model::done{};
    if (auto w = writer(); !w) return std::move(w).error();
    return model::done{};
}

model::result<serving_store::generation> serving_store::write_generation(const rollup_state& r,
                                                                         const model::table& table,
                                                                         std::uint64_t version,
                                                                         std::chrono::system_clock::time_point as_of,
                                                                         const progress_fn& progress) {
    const bool on_disk = !serving_.path.empty();
    const std::string path = on_disk ? serving_.path + ".next" : std::string();
    constexpr std::string_view next_name = "frost_next";
    generation next;  // in memory mode: the new generation's own instance
    std::unique_ptr<connection> con;
    if (on_disk) {
        // The writer instance, kept from the last refresh, writes the file: no new instance.
        remove_database_files(path);
        auto w = writer();
        if (!w) return std::move(w).error();
        auto opened = connection::open(*w.value());
        if (!opened) return std::move(opened).error();
        con = std::move(opened).value();
        // 16 KiB blocks, not 256 KiB: a rollup file of a few thousand rows is ~0.2 MB instead
        // of ~1 MB, which halves the checkpoint (and the snapshot upload).
        for (const std::string& sql :
             {"ATTACH " + quote_literal(path) + " AS " + std::string(next_name) + " (BLOCK_SIZE 16384)",
              "USE " + std::string(next_name)}) {
            if (auto rc = con->execute(sql); !rc) {
                con.reset();
                writer_.reset();
                return std::move(rc).error();
            }
        }
    } else {
        auto db = duckdb_source::open(std::string(serving_source_name), {":memory:", false, serving_.options});
        if (!db) return std::move(db).error();
        next = std::move(db).value();
        auto opened = next->connect();
        if (!opened) return std::move(opened).error();
        con = std::move(opened).value();
    }
    auto& c = *con;
    auto filled = [&]() -> model::result<model::done> {
        // One transaction: one commit (one write-ahead log sync) for the whole generation.
        if (auto rc = c.execute("BEGIN TRANSACTION"); !rc) return std::move(rc).error();
        if (auto rc = c.execute(meta_table_ddl()); !rc) return std::move(rc).error();

        // The other rollups' current versions, and every other version record, as they are served.
        if (auto old = live()) {
            auto old_con = old->connect();
            if (!old_con) return std::move(old_con).error();
            std::vector<std::pair<std::string, std::size_t>> others;
            {
                std::lock_guard lock(state_mutex_);
                for (const auto& [name, st] : rollups_)
                    if (name != r.cfg.name && st->version.version != 0) others.emplace_back(name, st->cfg.max_rows);
            }
            for (const auto& [name, max_rows] : others) {
                auto rows = old_con.value()->execute("SELECT * FROM " + quote_identifier(name));
                if (!rows) return std::move(rows).error();
                auto t = rows.value().to_table(max_rows);
                if (!t) return std::move(t).error();
                if (auto w = write_table(c, name, t.value(), {}); !w) return std::move(w).error();
            }
            auto meta =
                old_con.value()->execute("SELECT name, version, built_at_ms, row_count, sql_hash FROM " +
                                         std::string(meta_table) + " WHERE name <> " + quote_literal(r.cfg.name));
            if (meta) {
                auto t = meta.value().to_table(100'000);
                if (!t) return std::move(t).error();
                for (const auto& row : t.value().rows) {
                    std::string values;
                    for (const auto& cell : row) {
                        values += values.empty() ? "" : ", ";
                        if (const auto* s = std::get_if<std::string>(&cell))
                            values += quote_literal(*s);
                        else if (const auto* i = std::get_if<std::int64_t>(&cell))
                            values += std::to_string(*i);
                        else
                            values += "NULL";
                    }
                    if (auto rc = c.execute("INSERT INTO " + std::string(meta_table) + " VALUES (" + values + ")"); !rc)
                        return std::move(rc).error();
                }
            }
        }

        // The rollup's rows and its version record go in together, with the rest.
        if (auto w = write_table(c, r.cfg.name, table, progress); !w) return std::move(w).error();
        if (progress) progress(r.cfg.name, refresh_stage::validating, table.rows.size());
        if (auto rc = c.execute("INSERT INTO " + std::string(meta_table) + " VALUES (" + quote_literal(r.cfg.name) +
                                ", " + std::to_string(version) + ", " + std::to_string(epoch_ms(as_of)) + ", " +
                                std::to_string(table.rows.size()) + ", " + quote_literal(r.sql_hash) + ")");
            !rc)
            return std::move(rc).error();
        if (auto rc = c.execute("COMMIT"); !rc) return std::move(rc).error();
        if (!on_disk) return model::done{};
        // Everything on disk before the swap: a checkpoint that fails (no space) fails this
        // generation only, which is then dropped. Then the file leaves the writer.
        for (const std::string& sql :
             {"CHECKPOINT " + std::string(next_name), std::string("USE memory"), "DETACH " + std::string(next_name)})
            if (auto rc = c.execute(sql); !rc) return std::move(rc).error();
        return model::done{};
    }();
    con.reset();
    if (!filled) {
        // DuckDB may have invalidated the writer (a failed write or checkpoint): the next
        // refresh writes with a new one. Closing it lets go of the unfinished file.
        if (on_disk) writer_.reset();
        return std::move(filled).error();
    }
    if (!on_disk) return next;

    std::error_code ec;
    if (std::filesystem::exists(path + ".wal", ec) && std::filesystem::file_size(path + ".wal", ec) > 0)
        return store_error("rollup " + r.cfg.name + ": the new serving file was not fully checkpointed");
    std::filesystem::rename(path, serving_.path, ec);
    if (ec) return store_error("rollup " + r.cfg.name + ": cannot move the new serving file in place: " + ec.message());
    std::filesystem::remove(serving_.path + ".wal", ec);  // an older Frost's, already folded in
    return open_generation(serving_.path);
}

namespace {

// `$since` of a full build of an incremental rollup: before every date, so the same SQL
// (`where day >= $since`) returns every row.
const model::value full_since = model::date{model::days_from_civil(1, 1, 1)};

bool same_name(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
    });
}

// Whether key `v` lies before `since` (both of the key's type: DATE or TIMESTAMP).
bool before(const model::value& v, const model::value& since) {
    if (const auto* d = std::get_if<model::date>(&v))
        if (const auto* s = std::get_if<model::date>(&since)) return *d < *s;
    if (const auto* t = std::get_if<model::timestamp>(&v))
        if (const auto* s = std::get_if<model::timestamp>(&since)) return *t < *s;
    return false;
}

// Checks what an incremental rollup's SQL returned: its key column exists, is a DATE or
// TIMESTAMP, is never NULL, and (incremental) no row lies before `since`.
model::result<std::size_t> check_key(const std::string& rollup, const config::incremental_config& inc,
                                     const model::table& t, const model::value* since) {
    // Case-insensitive, like the serving database's SQL: Snowflake names unquoted columns in upper case.
    std::size_t col = 0;
    while (col < t.columns.size() && !same_name(t.columns[col].name, inc.key)) ++col;
    if (col == t.columns.size())
        return store_error("rollup " + rollup + ": the incremental key \"" + inc.key +
                           "\" is not a column of its result");
    const auto type = t.columns[col].type;
    if (type != model::column_type::date && type != model::column_type::timestamp)
        return store_error("rollup " + rollup + ": the incremental key \"" + inc.key +
                           "\" must be a DATE or TIMESTAMP column");
    for (std::size_t i = 0; i < t.rows.size(); ++i) {
        const auto& v = t.rows[i][col];
        if (std::holds_alternative<std::monostate>(v))
            return store_error("rollup " + rollup + ": the incremental key \"" + inc.key + "\" is NULL in row " +
                               std::to_string(i + 1) + "; it must never be");
        if (since && before(v, *since))
            return store_error("rollup " + rollup + ": the source returned a row with " + inc.key +
                               " before $since; its SQL must filter on $since (e.g. where " + inc.key + " >= $since)");
    }
    return col;
}

}  // namespace

model::result<std::uint64_t> serving_store::build_and_swap(rollup_state& r, const progress_fn& progress,
                                                           refresh_kind kind, refresh_report& report,
                                                           bool& persist_pending) {
    const std::string& name = r.cfg.name;
    if (progress) progress(name, refresh_stage::querying, 0);
    std::optional<window> win;
    if (kind == refresh_kind::automatic) {
        auto w = incremental_window(r, report.why_full);
        if (!w) return std::move(w).error();
        win = std::move(w).value();
    } else if (r.cfg.incremental) {
        report.why_full = "full refresh requested";
    }
    report.incremental = win.has_value();
    if (win) report.since = win->text;

    const auto as_of = std::chrono::system_clock::now();
    const std::string tag = "rollup:" + name;
    std::vector<frost::source::parameter> params;
    if (r.cfg.incremental) params.push_back({"since", win ? win->since : full_since});
    frost::source::query q{r.sql, params, model::deadline::after(std::chrono::minutes(30)), tag, r.cfg.max_rows};
    source_queries_.fetch_add(1);
    const auto query_started = std::chrono::steady_clock::now();
    // A full build scans the history: detached, so its working memory is handed back. The
    // window's scan is small and gains from the source's warm instance.
    auto result = win ? r.src->run(q) : r.src->run_detached(q);
    report.source_time = std::chrono::steady_clock::now() - query_started;
    frost::source::process_usage().record(
        r.src->name(), win ? frost::source::purpose::rollup_incremental : frost::source::purpose::rollup_full, result,
        report.source_time);
    if (!result) return std::move(result).error();
    auto& table = result.value();
    report.rows_fetched = table.rows.size();
    report.bytes_fetched = frost::source::result_bytes(table);
    if (table.columns.empty()) return store_error("rollup " + name + ": the SQL returned no columns");
    if (r.cfg.incremental) {
        auto key = check_key(name, *r.cfg.incremental, table, win ? &win->since : nullptr);
        if (!key) return std::move(key).error();
    }

    std::uint64_t next_version;
    {
        std::lock_guard lock(state_mutex_);
        next_version = std::max(r.version.version, persisted_versions_[name]) + 1;
    }
    // The held table's columns differ from the result's: rebuild the rollup whole rather than
    // merge mismatched rows, reporting the window query's time too.
    auto rebuild_whole = [&]() -> model::result<std::uint64_t> {
        refresh_report full;
        full.why_full = "the held version's columns differ from the result's";
        auto rebuilt = build_and_swap(r, progress, refresh_kind::full, full, persist_pending);
        full.source_time += report.source_time;
        report = std::move(full);
        return rebuilt;
    };
    const auto merge_started = std::chrono::steady_clock::now();
    if (win && !serving_.path.empty() && reader_host_) {
        // On disk: the new version is built in memory next to the served one and swapped in at
        // once; its generation file is written after the swap (`persist`).
        std::uint64_t rows_held = 0;
        auto next = merge_in_memory(r, table, win->since, next_version, as_of, rows_held);
        report.merge_time = std::chrono::steady_clock::now() - merge_started;
        if (!next) return std::move(next).error();
        if (next.value()) {
            if (progress) progress(name, refresh_stage::swapping, rows_held);
            // The generation file swapped out is detached in `persist`, after the refresh's time.
            retired_ = swap_in(r, std::move(next).value(), next_version, as_of);
            persist_pending = true;
            return rows_held;
        }
        return rebuild_whole();
    }
    if (win) {
        // The new version: the held rows before the window, then every fetched row. Keys inside
        // the window that the source no longer has are thereby dropped.
        const std::string kept_sql = "SELECT * FROM " + quote_identifier(name) + " WHERE " +
                                     quote_identifier(r.cfg.incremental->key) + " < $since";
        const std::vector<frost::source::parameter> kept_params{{"since", win->since}};
        auto db = live();
        auto kept = db ? db->run({kept_sql, kept_params, model::deadline::after(std::chrono::minutes(10)),
                                  "rollup:kept", r.cfg.max_rows})
                       : model::result<model::table>(store_error("no serving database"));
        if (!kept) return std::move(kept).error();
        auto& old = kept.value();
        bool same_columns = old.columns.size() == table.columns.size();
        for (std::size_t i = 0; same_columns && i < old.columns.size(); ++i)
            same_columns = same_name(old.columns[i].name, table.columns[i].name);
        if (!same_columns) {
            // The SQL's result changed shape (it cannot have: the SQL hash guards it), or the
            // table was altered: rebuild it whole rather than merge mismatched rows.
            return rebuild_whole();
        }
        if (old.rows.size() + table.rows.size() > r.cfg.max_rows)
            return store_error("rollup " + name + ": more than max_rows (" + std::to_string(r.cfg.max_rows) +
                               ") rows after the merge");
        old.rows.reserve(old.rows.size() + table.rows.size());
        std::move(table.rows.begin(), table.rows.end(), std::back_inserter(old.rows));
        old.columns = std::move(table.columns);
        table = std::move(old);
    }

    const auto write_started = std::chrono::steady_clock::now();
    report.merge_time = write_started - merge_started;
    if (progress) progress(name, refresh_stage::writing, 0);
    auto next = write_generation(r, table, next_version, as_of, progress);
    report.write_time = std::chrono::steady_clock::now() - write_started;
    if (!next) {
        if (!serving_.path.empty()) remove_database_files(serving_.path + ".next");
        return std::move(next).error();
    }

    if (progress) progress(name, refresh_stage::swapping, table.rows.size());
    swap_in(r, std::move(next).value(), next_version, as_of).reset();
    return static_cast<std::uint64_t>(table.rows.size());
}

serving_store::generation serving_store::swap_in(rollup_state& r, generation next, std::uint64_t next_version,
                                                 std::chrono::system_clock::time_point as_of) {
    const std::string& name = r.cfg.name;
    generation previous;
    swap_seq_.fetch_add(1);  // odd: readers retry
    {
        std::lock_guard lock(live_mutex_);
        previous = std::exchange(live_, std::move(next));
        cold_.reset();  // the answer index was the old generation's
    }
    {
        std::lock_guard lock(state_mutex_);
        r.version.version = next_version;
        r.version.built_at = as_of;
        r.version.stale = false;
        r.version.last_error.clear();
        r.rebuild_pending = false;
        // A reconfigure replaced this rollup while it was being built from its old definition:
        // its successor now serves these rows, still stale, and is rebuilt next.
        if (auto it = rollups_.find(name);
            it != rollups_.end() && it->second.get() != &r && it->second->version.version) {
            it->second->version.version = next_version;
            it->second->version.built_at = as_of;
        }
    }
    swap_seq_.fetch_add(1);  // even: the new version is visible with its number
    return previous;         // closes once the caller and the last reader of it let go
}

model::result<serving_store::generation> serving_store::merge_in_memory(
    const rollup_state& r, const model::table& fetched, const model::value& since, std::uint64_t version,
    std::chrono::system_clock::time_point as_of, std::uint64_t& rows_held) {
    const std::string& name = r.cfg.name;
    auto old = live();
    if (!old || old->attached_as().empty()) return store_error("rollup " + name + ": no generation file is served");
    auto attached = duckdb_source::attach_memory(std::string(serving_source_name), reader_host_, serving_.options);
    if (!attached) return std::move(attached).error();
    generation next(std::move(attached).value());
    auto opened = next->connect();
    if (!opened) return std::move(opened).error();
    auto& c = *opened.value();
    const std::string from = quote_identifier(old->attached_as()) + ".main.";

    // The held table's columns, which must be the result's, and its types: a DECIMAL column
    // keeps the held rows' scale when the fetched rows need less (as a merge of values would).
    std::string create = "CREATE TABLE " + quote_identifier(name) + " (";
    {
        auto shape = c.execute("SELECT * FROM " + from + quote_identifier(name) + " LIMIT 0");
        if (!shape) return std::move(shape).error();
        duckdb_result* res = shape.value().get();
        if (duckdb_column_count(res) != fetched.columns.size()) return generation{};
        for (std::size_t i = 0; i < fetched.columns.size(); ++i) {
            const char* held_name = duckdb_column_name(res, i);
            if (held_name == nullptr || !same_name(held_name, fetched.columns[i].name)) return generation{};
            std::string type = column_sql_type(fetched, i);
            if (fetched.columns[i].type == model::column_type::decimal) {
                duckdb_logical_type held_type = duckdb_column_logical_type(res, i);
                if (duckdb_get_type_id(held_type) == DUCKDB_TYPE_DECIMAL) {
                    auto need = decimal_of(fetched, i);
                    need.scale = std::max<int>(need.scale, duckdb_decimal_scale(held_type));
                    // Wider than 18 digits is exactly what DuckDB stores as a HUGEINT.
                    need.wide = need.wide || duckdb_decimal_internal_type(held_type) == DUCKDB_TYPE_HUGEINT;
                    type = decimal_sql(need);
                }
                duckdb_destroy_logical_type(&held_type);
            }
            create += (i ? ", " : "") + quote_identifier(fetched.columns[i].name) + " " + type;
        }
        create += ")";
    }

    std::vector<std::string> others;
    {
        std::lock_guard lock(state_mutex_);
        for (const auto& [other, st] : rollups_)
            if (other != name && st->version.version != 0) others.push_back(other);
    }
    // One transaction in the memory database; the served file is only read.
    if (auto rc = c.execute("BEGIN TRANSACTION"); !rc) return std::move(rc).error();
    for (const std::string& sql :
         {meta_table_ddl(), "INSERT INTO " + std::string(meta_table) + " SELECT name, version, " +
                                "built_at_ms, row_count, sql_hash FROM " + from + std::string(meta_table) +
                                " WHERE name <> " + quote_literal(name)})
        if (auto rc = c.execute(sql); !rc) return std::move(rc).error();
    // The other rollups' current versions, copied inside DuckDB.
    for (const auto& other : others)
        if (auto rc = c.execute("CREATE TABLE " + quote_identifier(other) + " AS SELECT * FROM " + from +
                                quote_identifier(other));
            !rc)
            return std::move(rc).error();
    if (auto rc = c.execute(create); !rc) return std::move(rc).error();
    // The held rows before the window, then every fetched row: keys inside the window that the
    // source no longer has are thereby dropped.
    {
        // `since` as a literal of the key's type (formatted here, not user input): one statement
        // planned once, where a prepared one with a parameter of unknown type is planned again.
        std::string bound;
        if (const auto* d = std::get_if<model::date>(&since))
            bound = "DATE " + quote_literal(model::format_date(*d));
        else if (const auto* t = std::get_if<model::timestamp>(&since))
            bound = "TIMESTAMP " + quote_literal(model::format_timestamp(*t));
        else
            return store_error("rollup " + name + ": $since is not a DATE or TIMESTAMP");
        auto inserted =
            c.execute("INSERT INTO " + quote_identifier(name) + " SELECT * FROM " + from + quote_identifier(name) +
                      " WHERE " + quote_identifier(r.cfg.incremental->key) + " < " + bound);
        if (!inserted) return std::move(inserted).error();
        auto count = inserted.value().to_table(1);
        if (!count) return std::move(count).error();
        const auto* n = count.value().rows.size() == 1 ? std::get_if<std::int64_t>(&count.value().rows[0][0]) : nullptr;
        if (n == nullptr) return store_error("rollup " + name + ": the held rows could not be counted");
        rows_held = static_cast<std::uint64_t>(*n);
    }
    if (rows_held + fetched.rows.size() > r.cfg.max_rows)
        return store_error("rollup " + name + ": more than max_rows (" + std::to_string(r.cfg.max_rows) +
                           ") rows after the merge");
    rows_held += fetched.rows.size();
    if (auto w = append_rows(c, name, fetched, {}, rows_held); !w) return std::move(w).error();
    if (auto rc = c.execute("INSERT INTO " + std::string(meta_table) + " VALUES (" + quote_literal(name) + ", " +
                            std::to_string(version) + ", " + std::to_string(epoch_ms(as_of)) + ", " +
                            std::to_string(rows_held) + ", " + quote_literal(r.sql_hash) + ")");
        !rc)
        return std::move(rc).error();
    if (auto rc = c.execute("COMMIT"); !rc) return std::move(rc).error();
    return next;
}

void serving_store::persist(const rollup_state& r, const progress_fn& progress, refresh_report& report) {
    const std::string& name = r.cfg.name;
    const auto started = std::chrono::steady_clock::now();
    retired_.reset();
    if (progress) progress(name, refresh_stage::persisting, report.rows_held);
    if (persist_hook_) persist_hook_();
    version_info served;
    {
        std::lock_guard lock(state_mutex_);
        served = r.version;
    }
    auto in_memory = live();
    // The rows as served, read back once: the writer instance is another DuckDB instance.
    auto rows = in_memory ? in_memory->run({"SELECT * FROM " + quote_identifier(name),
                                            {},
                                            model::deadline::after(std::chrono::minutes(10)),
                                            "rollup:persist",
                                            r.cfg.max_rows})
                          : model::result<model::table>(store_error("no serving database"));
    auto file = rows ? write_generation(r, rows.value(), served.version, served.built_at, {})
                     : model::result<generation>(std::move(rows).error());
    if (file) {
        generation previous;
        {
            std::lock_guard lock(live_mutex_);
            // The same version and rows, from the file now: no reader can tell the two apart,
            // so no seqlock round is needed.
            previous = std::exchange(live_, file.value());
        }
        carry_prefix_sums(previous, file.value());
        previous.reset();
    } else {
        remove_database_files(serving_.path + ".next");
        persist_failures_.fetch_add(1);
        report.persisted = false;
        report.persist_error = file.error().message;
        spdlog::error(
            "rollup {}: version {} is served from memory, but the serving file {} could not be written "
            "(the next refresh writes it again; a restart now would serve the previous version): {}",
            name, served.version, serving_.path, file.error().message);
    }
    report.persist_time = std::chrono::steady_clock::now() - started;
}

void serving_store::schedule_loop() {
    std::unique_lock lock(schedule_mutex_);
    while (!stopping_) {
        rescheduled_ = false;
        std::string due_name;
        auto due = std::chrono::steady_clock::time_point::max();
        {
            std::lock_guard state_lock(state_mutex_);
            for (const auto& [name, st] : rollups_)
                if (st->next_refresh < due) due = st->next_refresh, due_name = name;
        }
        if (due_name.empty()) {
            // No rollup left (a reconfigure removed them all): wait for one to be added.
            schedule_cv_.wait(lock, [this] { return stopping_ || rescheduled_; });
            continue;
        }
        if (schedule_cv_.wait_until(lock, due, [this] { return stopping_ || rescheduled_; })) continue;
        if (std::chrono::steady_clock::now() < due) continue;
        auto kind = refresh_kind::automatic;
        state_ptr held;
        {
            std::lock_guard state_lock(state_mutex_);
            auto it = rollups_.find(due_name);
            if (it == rollups_.end()) continue;
            held = it->second;
            if (held->cfg.incremental && std::chrono::steady_clock::now() >= held->next_full) kind = refresh_kind::full;
        }
        lock.unlock();
        auto done = refresh(due_name, {}, kind);
        lock.lock();
        std::lock_guard state_lock(state_mutex_);
        // A reconfigure during the refresh replaced or removed the rollup: its successor keeps
        // the schedule the reconfigure gave it.
        auto it = rollups_.find(due_name);
        if (it == rollups_.end() || it->second != held) continue;
        auto& st = *held;
        const auto now = std::chrono::steady_clock::now();
        if (done) {
            st.retry_delay = std::chrono::seconds(1);
            st.next_refresh = now + st.cfg.refresh;
        } else if (st.version.version == 0) {
            // Nothing to serve until a build succeeds: retry soon, backing off up to the interval.
            st.next_refresh = now + st.retry_delay;
            st.retry_delay = std::min(st.retry_delay * 2, st.cfg.refresh);
        } else {
            st.next_refresh = now + std::min<std::chrono::milliseconds>(st.cfg.refresh, std::chrono::seconds(30));
        }
    }
}

namespace {

// Whether a reload changed how a rollup is built: every field of `rollup_config` (a field
// added there must be added here too, or a change to it alone would not rebuild the rollup).
bool same_definition(const config::rollup_config& x, const config::rollup_config& y) {
    if (std::tie(x.name, x.source, x.sql, x.refresh, x.max_rows, x.full_refresh) !=
        std::tie(y.name, y.source, y.sql, y.refresh, y.max_rows, y.full_refresh))
        return false;
    if (x.incremental.has_value() != y.incremental.has_value()) return false;
    return !x.incremental || std::tie(x.incremental->key, x.incremental->lookback) ==
                                 std::tie(y.incremental->key, y.incremental->lookback);
}

}  // namespace

model::result<model::done> serving_store::reconfigure(const config::config& cfg,
                                                      const frost::source::source_map& sources) {
    // Everything that can fail first, so that a refused reload leaves the store as it was.
    std::vector<state_ptr> wanted;
    for (const auto& rc : cfg.rollups) {
        auto st = make_state(rc, sources);
        if (!st) return std::move(st).error();
        wanted.push_back(std::move(st).value());
    }
    const auto now = std::chrono::steady_clock::now();
    bool due_now = false;
    {
        std::lock_guard lock(state_mutex_);
        std::map<std::string, state_ptr, std::less<>> next;
        for (auto& st : wanted) {
            const auto& name = st->cfg.name;
            auto before = rollups_.find(name);
            if (before != rollups_.end() && same_definition(before->second->cfg, st->cfg) &&
                before->second->src == st->src && before->second->sql == st->sql) {
                next.emplace(name, before->second);  // unchanged: same version, same schedule
                continue;
            }
            if (st->cfg.full_refresh) st->next_full = now + *st->cfg.full_refresh;
            st->next_refresh = now;
            due_now = true;
            if (before == rollups_.end()) {
                spdlog::info("rollup {}: added by a config reload; building it", name);
            } else {
                // The held rows keep serving, marked stale, until the new definition's build succeeds.
                const auto& old = *before->second;
                st->version = old.version;
                st->stats = old.stats;
                if (st->version.version != 0) {
                    st->version.stale = true;
                    st->version.last_error = "the rollup's definition changed in a config reload; rebuilding it";
                    st->rebuild_pending = true;
                }
                spdlog::info("rollup {}: changed by a config reload; serving version {} (stale) while it is rebuilt",
                             name, st->version.version);
            }
            next.emplace(name, std::move(st));
        }
        for (const auto& [name, st] : rollups_) {
            if (next.contains(name)) continue;
            // Numbers keep rising should the name come back.
            auto& persisted = persisted_versions_[name];
            persisted = std::max(persisted, st->version.version);
            spdlog::info("rollup {}: removed by a config reload; its table leaves the serving file at the next refresh",
                         name);
        }
        rollups_.swap(next);
    }
    if (due_now) {
        {
            std::lock_guard lock(schedule_mutex_);
            rescheduled_ = true;
        }
        schedule_cv_.notify_all();
    }
    return model::done{};
}

model::result<std::shared_ptr<serving_store>> open_serving(const config::config& cfg,
                                                           const frost::source::source_map& sources,
                                                           store_options options) {
    if (cfg.rollups.empty()) return std::shared_ptr<serving_store>();
    return serving_store::open(cfg, sources, options);
}

}  // namespace frost::rollup
