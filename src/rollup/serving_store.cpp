#include "rollup/serving_store.hpp"

#include <duckdb.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

namespace frost::rollup {

namespace {

using frost::source::duckdb::connection;
using frost::source::duckdb::quote_identifier;

constexpr std::string_view meta_table = "frost_rollups";

std::string sql_fingerprint(std::string_view sql) {
    std::uint64_t h = 14695981039346656037ull;
    for (unsigned char c : sql) h = (h ^ c) * 1099511628211ull;
    return std::to_string(h);
}

std::string quote_literal(std::string_view s) {
    std::string out = "'";
    for (char c : s) {
        out += c;
        if (c == '\'') out += '\'';
    }
    return out + "'";
}

model::error store_error(std::string message) {
    return {model::error_code::source_unavailable, std::move(message), {}, {}};
}

// The DECIMAL type a column needs: the largest scale among its values, width 18 (what
// Frost reads back as an exact decimal) unless a value is wider.
std::string decimal_type(const model::table& t, std::size_t col) {
    int scale = 0;
    bool wide = false;
    for (const auto& row : t.rows) {
        if (const auto* d = std::get_if<model::decimal>(&row[col])) {
            scale = std::max<int>(scale, d->scale);
            wide = wide || d->unscaled > 999'999'999'999'999'999LL || d->unscaled < -999'999'999'999'999'999LL;
        }
        if (const auto* s = std::get_if<std::string>(&row[col])) {
            wide = true;
            if (auto dot = s->find('.'); dot != std::string::npos) scale = std::max<int>(scale, static_cast<int>(s->size() - dot - 1));
        }
    }
    return "DECIMAL(" + std::string(wide ? "38" : "18") + "," + std::to_string(std::min(scale, wide ? 37 : 17)) + ")";
}

std::string column_sql_type(const model::table& t, std::size_t col) {
    switch (t.columns[col].type) {
        case model::column_type::boolean: return "BOOLEAN";
        case model::column_type::integer: return "BIGINT";
        case model::column_type::real: return "DOUBLE";
        case model::column_type::decimal: return decimal_type(t, col);
        case model::column_type::date: return "DATE";
        case model::column_type::timestamp: return "TIMESTAMP";
        case model::column_type::binary: return "BLOB";
        case model::column_type::text:
        case model::column_type::time:
        case model::column_type::json: return "VARCHAR";
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
        duckdb_state operator()(model::timestamp t) const { return duckdb_append_timestamp(app, duckdb_timestamp{t.micros}); }
        duckdb_state operator()(const std::string& s) const { return duckdb_append_varchar_length(app, s.data(), s.size()); }
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

// A rollup build over a DuckDB file runs on its own short-lived, read-only instance of that
// file: the scan fills a buffer pool (about 400 MiB for 100M trips) that serving never needs
// again, and closing the instance hands it back. (The source's own instance cannot be
// trimmed: its configuration is locked.) The result is the same: same file, same SQL.
model::result<model::table> run_on_transient_instance(const std::string& path, const std::string& sql,
                                                      std::size_t max_rows) {
    auto db = frost::source::duckdb::database::open(path, {{"access_mode", "READ_ONLY"}});
    if (!db) return std::move(db).error();
    auto con = connection::open(*db.value());
    if (!con) return std::move(con).error();
    auto res = con.value()->execute(sql);
    if (!res) return std::move(res).error();
    return res.value().to_table(max_rows);
}

// `frost load` records every file it loads in the loaded database's `frost_loaded_files`
// (docs/loading.md): a rollup built before the newest load is due at once.
bool loaded_since(frost::source::source& src, std::chrono::system_clock::time_point built_at) {
    // Only a DuckDB file can have been loaded; a warehouse is never asked at start.
    if (dynamic_cast<frost::source::duckdb::duckdb_source*>(&src) == nullptr) return false;
    frost::source::query q{"SELECT epoch_ms(max(loaded_at))::BIGINT FROM frost_loaded_files", {},
                           model::deadline::after(std::chrono::seconds(10)), "rollup:loaded-since", 1};
    auto t = src.run(q);  // fails when the table is absent: nothing was ever loaded there
    if (!t || t.value().rows.empty()) return false;
    const auto* ms = std::get_if<std::int64_t>(&t.value().rows[0][0]);
    return ms && *ms > epoch_ms(built_at);
}

}  // namespace

serving_store::serving_store(config::serving_config serving, source_map sources,
                             std::unique_ptr<frost::source::duckdb::duckdb_source> db)
    : serving_(std::move(serving)), sources_(std::move(sources)), db_(std::move(db)) {}

serving_store::~serving_store() {
    {
        std::lock_guard lock(schedule_mutex_);
        stopping_ = true;
    }
    schedule_cv_.notify_all();
    if (scheduler_.joinable()) scheduler_.join();
}

model::result<std::shared_ptr<serving_store>> serving_store::open(const config::config& cfg, source_map sources,
                                                                  store_options options) {
    frost::source::duckdb::duckdb_settings settings;
    settings.path = cfg.serving.path.empty() ? ":memory:" : cfg.serving.path;
    settings.read_only = false;
    settings.options = cfg.serving.options;
    if (!cfg.serving.path.empty()) {
        std::error_code ec;
        const auto dir = std::filesystem::path(cfg.serving.path).parent_path();
        if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    }
    auto db = frost::source::duckdb::duckdb_source::open(std::string(serving_source_name), settings);
    if (!db && options.memory_fallback && settings.path != ":memory:") {
        spdlog::warn("serving database {} cannot be opened ({}); keeping rollups in memory, rebuilt at every start",
                     settings.path, db.error().message);
        settings.path = ":memory:";
        db = frost::source::duckdb::duckdb_source::open(std::string(serving_source_name), settings);
    }
    if (!db) {
        auto e = std::move(db).error();
        e.message = "serving database " + settings.path + ": " + e.message;
        if (e.message.find("lock") != std::string::npos)
            e.hint = "another frost process (serve or sync) holds it; a running server refreshes rollups itself";
        return e;
    }
    auto serving = cfg.serving;
    if (settings.path == ":memory:") serving.path.clear();
    std::shared_ptr<serving_store> store(new serving_store(std::move(serving), std::move(sources), std::move(db).value()));

    for (const auto& rc : cfg.rollups) {
        auto it = store->sources_.find(rc.source);
        if (it == store->sources_.end() || !it->second)
            return model::error{model::error_code::config_error, "rollup " + rc.name + ": source \"" + rc.source + "\" is not open", {}, {}};
        rollup_state st;
        st.cfg = rc;
        st.src = it->second.get();
        auto sql = rc.sql.find(std::string(st.src->dialect()));
        if (sql == rc.sql.end()) sql = rc.sql.find("");
        if (sql == rc.sql.end())
            return model::error{model::error_code::config_error,
                                "rollup " + rc.name + ": no SQL for dialect " + std::string(st.src->dialect()), {}, {}};
        st.sql = sql->second;
        st.sql_hash = sql_fingerprint(st.sql);
        const auto* sc = cfg.find_source(rc.source);
        if (sc && sc->type == "duckdb" && sc->read_only && sc->path != ":memory:" &&
            dynamic_cast<frost::source::duckdb::duckdb_source*>(st.src) != nullptr)
            st.transient_path = sc->path;
        store->rollups_.emplace(rc.name, std::move(st));
    }
    if (auto loaded = store->load_persisted(); !loaded) return std::move(loaded).error();

    const auto now = std::chrono::steady_clock::now();
    for (auto& [name, st] : store->rollups_) {
        if (st.version.version == 0) {
            if (options.build_missing) {
                if (auto built = store->refresh(name); !built)
                    spdlog::warn("rollup {}: first build failed: {}", name, built.error().message);
            }
            st.next_refresh = now + (st.version.version ? st.cfg.refresh : std::chrono::milliseconds(30'000));
        } else {
            st.next_refresh = options.refresh_on_start || loaded_since(*st.src, st.version.built_at) ? now : now + st.cfg.refresh;
        }
    }
    if (options.schedule && !store->rollups_.empty())
        store->scheduler_ = std::thread([raw = store.get()] { raw->schedule_loop(); });
    return store;
}

model::result<model::done> serving_store::load_persisted() {
    auto con = connection::open(db_->db());
    if (!con) return std::move(con).error();
    auto& c = *con.value();
    const std::string create = "CREATE TABLE IF NOT EXISTS " + std::string(meta_table) +
                               " (name VARCHAR PRIMARY KEY, version BIGINT, built_at_ms BIGINT, row_count BIGINT, sql_hash VARCHAR)";
    if (auto r = c.execute(create); !r) return std::move(r).error();
    auto res = c.execute("SELECT m.name, m.version, m.built_at_ms, m.sql_hash FROM " + std::string(meta_table) +
                         " m JOIN duckdb_tables() t ON t.table_name = m.name AND t.schema_name = 'main'");
    if (!res) return std::move(res).error();
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
        if (it == rollups_.end()) continue;
        auto& st = it->second;
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
    return it == rollups_.end() ? version_info{} : it->second.version;
}

model::result<model::table> serving_store::run(const frost::source::query& q) {
    reads_.fetch_add(1, std::memory_order_relaxed);
    return db_->run(q);
}

model::result<serving_store::versioned_table> serving_store::run_versioned(const frost::source::query& q,
                                                                           std::string_view rollup) {
    for (int attempt = 0;; ++attempt) {
        const auto before = swap_seq_.load();
        if (before & 1) {
            // A swap is committing right now; it takes milliseconds.
            std::this_thread::sleep_for(std::chrono::microseconds(200));
            if (attempt < 1000) continue;
        }
        auto version = current(rollup);
        if (version.version == 0)
            return store_error("rollup " + std::string(rollup) + " has not been built yet" +
                               (version.last_error.empty() ? "" : ": " + version.last_error));
        auto table = run(q);
        if (!table) return std::move(table).error();
        // No swap began or ended while the query ran: it read exactly `version`.
        if (swap_seq_.load() == before || attempt >= 8) return versioned_table{std::move(table).value(), std::move(version)};
    }
}

model::result<version_info> serving_store::refresh(std::string_view rollup, const progress_fn& progress) {
    std::lock_guard refresh_lock(refresh_mutex_);
    rollup_state* st = nullptr;
    {
        std::lock_guard lock(state_mutex_);
        auto it = rollups_.find(rollup);
        if (it == rollups_.end())
            return model::error{model::error_code::not_found, "no rollup named \"" + std::string(rollup) + "\"", {}, {}};
        st = &it->second;  // map nodes are stable; only refresh (serialised) changes `version`
    }
    auto built = build_and_swap(*st, progress);
    std::lock_guard lock(state_mutex_);
    if (!built) {
        failed_refreshes_.fetch_add(1);
        if (st->version.version != 0) st->version.stale = true;
        st->version.last_error = built.error().message;
        spdlog::warn("rollup {}: refresh failed, still serving version {}: {}", rollup, st->version.version,
                     built.error().message);
        if (progress) progress(rollup, refresh_stage::failed, 0);
        return std::move(built).error();
    }
    refreshes_.fetch_add(1);
    if (progress) progress(rollup, refresh_stage::done, built.value());
    return st->version;
}

model::result<std::uint64_t> serving_store::build_and_swap(rollup_state& r, const progress_fn& progress) {
    const std::string& name = r.cfg.name;
    if (progress) progress(name, refresh_stage::querying, 0);
    const auto as_of = std::chrono::system_clock::now();
    const std::string tag = "rollup:" + name;
    frost::source::query q{r.sql, {}, model::deadline::after(std::chrono::minutes(30)), tag, r.cfg.max_rows};
    source_queries_.fetch_add(1);
    auto result = r.transient_path.empty() ? r.src->run(q) : run_on_transient_instance(r.transient_path, r.sql, r.cfg.max_rows);
    if (!result) return std::move(result).error();
    const auto& table = result.value();
    if (table.columns.empty()) return store_error("rollup " + name + ": the SQL returned no columns");

    if (progress) progress(name, refresh_stage::writing, 0);
    auto con = connection::open(db_->db());
    if (!con) return std::move(con).error();
    auto& c = *con.value();
    const std::string staging = "frost_staging_" + name;
    std::string create = "DROP TABLE IF EXISTS " + quote_identifier(staging) + "; CREATE TABLE " + quote_identifier(staging) + " (";
    for (std::size_t i = 0; i < table.columns.size(); ++i)
        create += (i ? ", " : "") + quote_identifier(table.columns[i].name) + " " + column_sql_type(table, i);
    create += ")";
    if (auto rc = c.execute(create); !rc) return std::move(rc).error();
    auto drop_staging = [&] { (void)c.execute("DROP TABLE IF EXISTS " + quote_identifier(staging)); };
    {
        appender_owner app;
        if (duckdb_appender_create(c.handle(), nullptr, staging.c_str(), &app.a) == DuckDBError) {
            auto msg = app.error();
            drop_staging();
            return store_error("rollup " + name + ": " + msg);
        }
        std::uint64_t written = 0;
        for (const auto& row : table.rows) {
            for (const auto& cell : row) {
                if (append_cell(app.a, cell) == DuckDBError) {
                    auto msg = app.error();
                    duckdb_appender_destroy(&app.a);
                    drop_staging();
                    return store_error("rollup " + name + ": row " + std::to_string(written + 1) + ": " + msg);
                }
            }
            if (duckdb_appender_end_row(app.a) == DuckDBError) {
                auto msg = app.error();
                duckdb_appender_destroy(&app.a);
                drop_staging();
                return store_error("rollup " + name + ": row " + std::to_string(written + 1) + ": " + msg);
            }
            if (++written % 65536 == 0 && progress) progress(name, refresh_stage::writing, written);
        }
        if (duckdb_appender_close(app.a) == DuckDBError) {
            auto msg = app.error();
            duckdb_appender_destroy(&app.a);
            drop_staging();
            return store_error("rollup " + name + ": " + msg);
        }
    }

    if (progress) progress(name, refresh_stage::validating, table.rows.size());
    auto counted = c.execute("SELECT count(*)::BIGINT FROM " + quote_identifier(staging));
    if (!counted) return std::move(counted).error();
    auto count_table = counted.value().to_table(1);
    if (!count_table || count_table.value().rows.size() != 1 ||
        std::get_if<std::int64_t>(&count_table.value().rows[0][0]) == nullptr ||
        static_cast<std::size_t>(std::get<std::int64_t>(count_table.value().rows[0][0])) != table.rows.size()) {
        drop_staging();
        return store_error("rollup " + name + ": the staging table does not hold the rows the source returned");
    }

    if (progress) progress(name, refresh_stage::swapping, table.rows.size());
    std::uint64_t next_version;
    {
        std::lock_guard lock(state_mutex_);
        next_version = std::max(r.version.version, persisted_versions_[name]) + 1;
    }
    const std::string swap =
        "BEGIN TRANSACTION; CREATE OR REPLACE TABLE " + quote_identifier(name) + " AS SELECT * FROM " + quote_identifier(staging) +
        "; DROP TABLE " + quote_identifier(staging) + "; INSERT OR REPLACE INTO " + std::string(meta_table) + " VALUES (" +
        quote_literal(name) + ", " + std::to_string(next_version) + ", " + std::to_string(epoch_ms(as_of)) + ", " +
        std::to_string(table.rows.size()) + ", " + quote_literal(r.sql_hash) + "); COMMIT";
    swap_seq_.fetch_add(1);  // odd: readers retry
    auto swapped = c.execute(swap);
    if (swapped) {
        std::lock_guard lock(state_mutex_);
        r.version.version = next_version;
        r.version.built_at = as_of;
        r.version.stale = false;
        r.version.last_error.clear();
    }
    swap_seq_.fetch_add(1);  // even: the new version is visible with its number
    if (!swapped) {
        (void)c.execute("ROLLBACK");
        drop_staging();
        return std::move(swapped).error();
    }
    // Fold the WAL into the file so a restart opens quickly; the WAL is durable without it.
    if (!serving_.path.empty()) (void)c.execute("CHECKPOINT");
    return static_cast<std::uint64_t>(table.rows.size());
}

void serving_store::schedule_loop() {
    std::unique_lock lock(schedule_mutex_);
    while (!stopping_) {
        std::string due_name;
        auto due = std::chrono::steady_clock::time_point::max();
        {
            std::lock_guard state_lock(state_mutex_);
            for (const auto& [name, st] : rollups_)
                if (st.next_refresh < due) due = st.next_refresh, due_name = name;
        }
        if (due_name.empty()) break;
        if (schedule_cv_.wait_until(lock, due, [this] { return stopping_; })) break;
        if (std::chrono::steady_clock::now() < due) continue;
        lock.unlock();
        auto done = refresh(due_name);
        lock.lock();
        std::lock_guard state_lock(state_mutex_);
        auto& st = rollups_.find(due_name)->second;
        const auto retry = std::min<std::chrono::milliseconds>(st.cfg.refresh, std::chrono::seconds(30));
        st.next_refresh = std::chrono::steady_clock::now() + (done ? st.cfg.refresh : retry);
    }
}

model::result<model::done> open_serving(const config::config& cfg, source_map& sources, store_options options) {
    if (cfg.rollups.empty()) return model::done{};
    if (sources.contains(std::string(serving_source_name)))
        return model::error{model::error_code::config_error,
                            "the source name " + std::string(serving_source_name) + " is reserved for Frost's serving database", {}, {}};
    auto store = serving_store::open(cfg, sources, options);
    if (!store) return std::move(store).error();
    sources.emplace(std::string(serving_source_name), std::move(store).value());
    return model::done{};
}

}  // namespace frost::rollup
