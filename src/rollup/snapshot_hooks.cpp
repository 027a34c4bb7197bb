// The serving store's interface to snapshot sharing (src/snapshot/): an observer of finished
// refreshes, installing a serving file built elsewhere, and the stale mark of a reader that
// lost its store. Kept apart from the refresh code, which it only reads.
#include <spdlog/spdlog.h>

#include <filesystem>

#include "rollup/serving_store.hpp"

namespace frost::rollup {

namespace {

model::error install_error(std::string message) {
    return {model::error_code::source_unavailable, "snapshot: " + std::move(message), {}, {}};
}

}  // namespace

void serving_store::set_refresh_observer(refresh_observer observer) {
    std::lock_guard lock(refresh_mutex_);
    observer_ = std::move(observer);
}

model::result<model::done> serving_store::install_snapshot(const std::string& file) {
    using frost::source::duckdb::connection;
    using frost::source::duckdb::duckdb_source;
    std::lock_guard refresh_lock(refresh_mutex_);
    (void)live();  // a store opened from its answer index opens its serving file first

    struct recorded {
        std::uint64_t version;
        std::chrono::system_clock::time_point built_at;
    };
    std::map<std::string, recorded> found;
    {
        auto db = duckdb_source::open(std::string(serving_source_name), {file, true, serving_.options});
        if (!db) return install_error("cannot open the downloaded file: " + db.error().message);
        auto con = connection::open(db.value()->db());
        if (!con) return std::move(con).error();
        auto res = con.value()->execute(
            "SELECT m.name, m.version, m.built_at_ms, m.sql_hash FROM frost_rollups m "
            "JOIN duckdb_tables() t ON t.table_name = m.name AND t.schema_name = 'main'");
        if (!res) return install_error("the file holds no rollup versions: " + res.error().message);
        auto table = res.value().to_table(100'000);
        if (!table) return std::move(table).error();
        std::lock_guard lock(state_mutex_);
        for (const auto& row : table.value().rows) {
            const auto* name = std::get_if<std::string>(&row[0]);
            const auto* version = std::get_if<std::int64_t>(&row[1]);
            const auto* built = std::get_if<std::int64_t>(&row[2]);
            const auto* hash = std::get_if<std::string>(&row[3]);
            if (!name || !version || !built || !hash || *version <= 0) continue;
            auto it = rollups_.find(*name);
            if (it == rollups_.end()) continue;  // a rollup this config does not declare: harmless
            if (*hash != it->second->sql_hash)
                return install_error("rollup " + *name +
                                     " was built from other SQL than this config's: the builder and this instance "
                                     "must run the same config");
            found[*name] = {static_cast<std::uint64_t>(*version),
                            std::chrono::system_clock::time_point(std::chrono::milliseconds(*built))};
        }
        for (const auto& [name, st] : rollups_)
            if (!found.contains(name)) return install_error("rollup " + name + " is missing from the snapshot");
    }

    generation next;
    if (!serving_.path.empty()) {
        std::error_code ec;
        std::filesystem::rename(file, serving_.path, ec);
        if (ec) return install_error("cannot move the snapshot to " + serving_.path + ": " + ec.message());
        std::filesystem::remove(serving_.path + ".wal", ec);
        auto reopened = open_generation(serving_.path);
        if (!reopened) return std::move(reopened).error();
        next = std::move(reopened).value();
    } else {
        auto opened = duckdb_source::open(std::string(serving_source_name), {file, true, serving_.options});
        if (!opened) return std::move(opened).error();
        next = std::move(opened).value();
    }

    generation previous;
    swap_seq_.fetch_add(1);  // odd: readers retry
    {
        std::lock_guard lock(live_mutex_);
        previous = std::exchange(live_, std::move(next));
        cold_.reset();  // the answer index was the old generation's
    }
    {
        std::lock_guard lock(state_mutex_);
        for (auto& [name, st] : rollups_) {
            const auto& f = found.at(name);
            st->version.version = f.version;
            st->version.built_at = f.built_at;
            st->version.stale = false;
            st->version.last_error.clear();
            st->rebuild_pending = false;
        }
    }
    swap_seq_.fetch_add(1);  // even: the new versions are visible
    previous.reset();
    return model::done{};
}

void serving_store::set_stale(bool stale, const std::string& reason) {
    std::lock_guard lock(state_mutex_);
    for (auto& [name, st] : rollups_) {
        if (st->version.version == 0) continue;
        st->version.stale = stale;
        st->version.last_error = stale ? reason : std::string();
    }
}

}  // namespace frost::rollup
