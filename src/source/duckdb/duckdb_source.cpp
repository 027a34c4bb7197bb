#include "source/duckdb/duckdb_source.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <stop_token>

#include <spdlog/spdlog.h>

namespace frost::source::duckdb {

namespace {

// Half the machine's memory: two databases (a source and the serving store) fit together.
std::string default_memory_limit() {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0) return "1GB";
    const long long mib = static_cast<long long>(pages) * page / 2 / (1024LL * 1024);
    return std::to_string(std::max(256LL, mib)) + "MB";
}

}  // namespace

model::result<std::unique_ptr<duckdb_source>> duckdb_source::open(std::string name, const duckdb_settings& settings) {
    auto options = settings.options;
    if (settings.read_only && settings.path != ":memory:") options.emplace("access_mode", "READ_ONLY");
    if (settings.read_only) {
        // Serving hardening ("Securing DuckDB"): SQL cannot read or write files or the network,
        // install extensions or change settings, and memory is bounded. A setting given in the
        // config wins (emplace keeps it).
        options.emplace("enable_external_access", "false");
        options.emplace("lock_configuration", "true");
        options.emplace("memory_limit", default_memory_limit());
    }
    // Frost's own setting, not DuckDB's: the memory limit of an export's instance (`stream`),
    // checked now so that a bad value stops the start, not the first export.
    if (auto it = options.find(std::string(export_memory_limit_option)); it != options.end()) {
        if (it->second != "0" && !database::check_setting("memory_limit", it->second))
            return model::error{model::error_code::config_error,
                                "source " + name + ": options." + it->first + " = \"" + it->second +
                                    "\" is not a memory size (for example 16MB or 1GB; 0 for no separate instance)",
                                {},
                                {}};
        options.erase(it);
    }
    auto db = database::open(settings.path, options);
    if (!db) return std::move(db).error();
    return std::unique_ptr<duckdb_source>(new duckdb_source(std::move(name), std::move(db).value(), settings));
}

model::result<std::shared_ptr<database>> duckdb_source::open_host(const std::map<std::string, std::string>& options,
                                                                  const std::vector<std::string>& allowed_paths) {
    auto settings = options;
    settings.erase(std::string(export_memory_limit_option));
    settings.erase("access_mode");  // the attached files are read-only; the host holds nothing
    // The hardening of `open`, applied once the allowed paths are set (a setting given in the
    // config wins): DuckDB refuses to widen them once external access is off.
    std::string external = "false", lock = "true";
    if (auto it = settings.find("enable_external_access"); it != settings.end()) {
        external = it->second;
        settings.erase(it);
    }
    if (auto it = settings.find("lock_configuration"); it != settings.end()) {
        lock = it->second;
        settings.erase(it);
    }
    settings.emplace("memory_limit", default_memory_limit());
    auto db = database::open(":memory:", settings);
    if (!db) return std::move(db).error();
    auto con = connection::open(*db.value());
    if (!con) return std::move(con).error();
    auto& c = *con.value();
    std::string paths;
    for (const auto& p : allowed_paths) paths += (paths.empty() ? "" : ", ") + quote_literal(p);
    for (const std::string& sql : {paths.empty() ? std::string() : "SET allowed_paths = [" + paths + "]",
                                   "SET enable_external_access = " + quote_literal(external),
                                   "SET lock_configuration = " + quote_literal(lock)}) {
        if (sql.empty()) continue;
        if (auto rc = c.execute(sql); !rc) return std::move(rc).error();
    }
    con.value().reset();
    return std::shared_ptr<database>(std::move(db).value());
}

model::result<std::unique_ptr<duckdb_source>> duckdb_source::attach(std::string name, std::shared_ptr<database> host,
                                                                    const std::string& path,
                                                                    std::map<std::string, std::string> options) {
    static std::atomic<std::uint64_t> attached{0};
    std::string alias = "frost_file_" + std::to_string(attached.fetch_add(1) + 1);
    auto con = connection::open(*host);
    if (!con) return std::move(con).error();
    if (auto rc =
            con.value()->execute("ATTACH " + quote_literal(path) + " AS " + quote_identifier(alias) + " (READ_ONLY)");
        !rc) {
        auto e = std::move(rc).error();
        e.code = model::error_code::source_unavailable;
        return e;
    }
    con.value().reset();
    return std::unique_ptr<duckdb_source>(
        new duckdb_source(std::move(name), std::move(host), {path, true, std::move(options)}, std::move(alias)));
}

model::result<std::unique_ptr<duckdb_source>> duckdb_source::attach_memory(std::string name,
                                                                           std::shared_ptr<database> host,
                                                                           std::map<std::string, std::string> options) {
    static std::atomic<std::uint64_t> attached{0};
    std::string alias = "frost_memory_" + std::to_string(attached.fetch_add(1) + 1);
    auto con = connection::open(*host);
    if (!con) return std::move(con).error();
    if (auto rc = con.value()->execute("ATTACH ':memory:' AS " + quote_identifier(alias)); !rc) {
        auto e = std::move(rc).error();
        e.code = model::error_code::source_unavailable;
        return e;
    }
    con.value().reset();
    return std::unique_ptr<duckdb_source>(
        new duckdb_source(std::move(name), std::move(host), {":memory:", false, std::move(options)}, std::move(alias)));
}

model::result<std::unique_ptr<connection>> duckdb_source::connect() const {
    auto con = connection::open(*db_);
    if (!con || attached_as_.empty()) return con;
    if (auto rc = con.value()->execute("USE " + quote_identifier(attached_as_)); !rc) return std::move(rc).error();
    return con;
}

duckdb_source::duckdb_source(std::string name, std::shared_ptr<database> db, duckdb_settings settings,
                             std::string attached_as)
    : name_(std::move(name)),
      db_(std::move(db)),
      settings_(std::move(settings)),
      attached_as_(std::move(attached_as)),
      watchdog_([this] { watchdog_loop(); }) {
    if (auto it = settings_.options.find(std::string(export_memory_limit_option)); it != settings_.options.end()) {
        export_memory_limit_ = it->second;
        settings_.options.erase(it);
    }
}

model::result<model::table> duckdb_source::run_detached(const query& q) {
    // The source's own instance cannot be trimmed (its configuration is locked); a separate
    // read-only instance of the same file reads the same data and frees its buffer pool
    // (about 400 MiB for 100M trips) when it closes.
    if (!settings_.read_only || settings_.path == ":memory:") return run(q);
    auto db = database::open(settings_.path, {{"access_mode", "READ_ONLY"}});
    if (!db) return std::move(db).error();
    auto con = connection::open(*db.value());
    if (!con) return std::move(con).error();
    if (q.params.empty()) {
        auto res = con.value()->execute(std::string(q.sql));
        if (!res) return std::move(res).error();
        return res.value().to_table(q.max_rows);
    }
    // An incremental rollup's `$since` (a full build of it binds one too).
    auto stmt = con.value()->prepare(std::string(q.sql));
    if (!stmt) return std::move(stmt).error();
    if (auto bound = stmt.value()->bind(q.params); !bound) return std::move(bound).error();
    auto res = stmt.value()->execute();
    if (!res) return std::move(res).error();
    return res.value().to_table(q.max_rows);
}

duckdb_source::~duckdb_source() {
    {
        std::lock_guard lock(watch_mutex_);
        stopping_ = true;
    }
    watch_cv_.notify_all();
    watchdog_.join();
    idle_.clear();  // connections close before the database
    if (attached_as_.empty()) return;
    // No connection of this source is left: the file can leave the host.
    auto con = connection::open(*db_);
    auto rc = con ? con.value()->execute("DETACH " + quote_identifier(attached_as_))
                  : model::result<query_result>(std::move(con).error());
    if (!rc) spdlog::warn("duckdb: cannot detach {} ({}): {}", attached_as_, settings_.path, rc.error().message);
}

model::result<std::unique_ptr<duckdb_source::pooled>> duckdb_source::borrow() {
    {
        std::lock_guard lock(pool_mutex_);
        if (!idle_.empty()) {
            auto p = std::move(idle_.back());
            idle_.pop_back();
            return p;
        }
    }
    auto con = connect();
    if (!con) return std::move(con).error();
    auto p = std::make_unique<pooled>();
    p->con = std::move(con).value();
    return p;
}

void duckdb_source::give_back(std::unique_ptr<pooled> p) {
    std::lock_guard lock(pool_mutex_);
    idle_.push_back(std::move(p));
}

template <typename T, typename Execute>
model::result<T> duckdb_source::on_connection(const query& q, Execute&& execute) {
    if (q.deadline.expired())
        return model::error{
            model::error_code::timeout, "the request's deadline passed before the query started", {}, {}};
    auto borrowed = borrow();
    if (!borrowed) return std::move(borrowed).error();
    auto p = std::move(borrowed).value();
    bool reusable = true;
    auto out = on_pooled<T>(*p, q, std::forward<Execute>(execute), reusable);
    if (reusable) give_back(std::move(p));
    return out;
}

template <typename T, typename Execute>
model::result<T> duckdb_source::on_pooled(pooled& p, const query& q, Execute&& execute, bool& reusable) {
    std::string sql(q.sql);
    auto it = p.statements.find(sql);
    if (it == p.statements.end()) {
        auto stmt = p.con->prepare(sql);
        if (!stmt) return std::move(stmt).error();
        it = p.statements.emplace(std::move(sql), std::move(stmt).value()).first;
    }
    prepared_statement& stmt = *it->second;
    if (auto bound = stmt.bind(q.params); !bound) return std::move(bound).error();

    std::uint64_t ticket = 0;
    const bool watched = q.deadline.at != model::clock::time_point::max();
    if (watched) {
        std::lock_guard lock(watch_mutex_);
        ticket = next_watch_++;
        watches_.emplace(ticket, watch{p.con.get(), q.deadline.at});
    }
    if (watched) watch_cv_.notify_one();

    // The client went away: stop the statement now rather than at its deadline. The callback
    // runs on the thread that requests the stop (the connection's I/O thread); `interrupt` is
    // safe from any thread. A stop requested before registration is seen by the check below.
    std::optional<model::result<T>> out;
    {
        auto interrupt = [con = p.con.get()] { con->interrupt(); };
        std::stop_callback<decltype(interrupt)> on_stop(q.stop, interrupt);
        if (q.stop.stop_requested()) {
            out.emplace(
                model::error{model::error_code::timeout, "the client went away before the query started", {}, {}});
        } else {
            out.emplace(execute(stmt));
        }
    }  // the callback is unregistered here: no interrupt can reach the connection after this
    if (watched) {
        std::lock_guard lock(watch_mutex_);
        watches_.erase(ticket);
    }
    if (q.stop.stop_requested()) {
        // An interrupt may have landed after the statement finished; a fresh connection next
        // time is cheaper than wondering whether this one carries it into another query.
        reusable = false;
        if (!*out && out->error().code == model::error_code::timeout) {
            auto e = std::move(*out).error();
            e.message = "the query was interrupted: the client went away";
            return e;
        }
    }
    return std::move(*out);
}

model::result<model::table> duckdb_source::run(const query& q) {
    return on_connection<model::table>(q, [&](prepared_statement& stmt) -> model::result<model::table> {
        auto executed = stmt.execute();
        if (!executed) return std::move(executed).error();
        return executed.value().to_table(q.max_rows);
    });
}

model::result<stream_summary> duckdb_source::stream(const query& q, row_sink& sink) {
    auto execute = [&](prepared_statement& stmt) -> model::result<stream_summary> {
        auto executed = stmt.execute_streaming();
        if (!executed) return std::move(executed).error();
        // The result is destroyed before the connection goes back to the pool: a streaming
        // result that is not read to its end must not stay open on a pooled connection.
        auto res = std::move(executed).value();
        return res.to_sink(sink, q.max_rows);
    };
    // DuckDB keeps every block a scan read in its buffer pool, up to its memory limit: an
    // export of a whole table would leave the table's size behind in the source's instance
    // (+182 MiB for 10M trips). Over a read-only file, an export runs on an instance of its
    // own whose memory limit is small (`export_memory_limit`) and which closes at the end.
    if (!settings_.read_only || settings_.path == ":memory:" || export_memory_limit_ == "0")
        return on_connection<stream_summary>(q, execute);
    if (q.deadline.expired())
        return model::error{
            model::error_code::timeout, "the request's deadline passed before the query started", {}, {}};
    std::map<std::string, std::string> options = settings_.options;
    options["access_mode"] = "READ_ONLY";
    options["memory_limit"] = export_memory_limit_;
    options.emplace("enable_external_access", "false");
    options.emplace("lock_configuration", "true");
    auto db = database::open(settings_.path, options);
    if (!db) return std::move(db).error();
    auto con = connection::open(*db.value());
    if (!con) return std::move(con).error();
    pooled own;
    own.con = std::move(con).value();
    bool reusable = true;
    return on_pooled<stream_summary>(own, q, execute, reusable);
}

namespace {
constexpr auto reinterrupt_every = std::chrono::milliseconds(50);
}  // namespace

void duckdb_source::watchdog_loop() {
    std::unique_lock lock(watch_mutex_);
    while (!stopping_) {
        auto next = model::clock::time_point::max();
        const auto now = model::clock::now();
        for (auto& [ticket, w] : watches_) {
            if (w.at <= now) {
                w.con->interrupt();
                // Again shortly, until the query is gone: DuckDB clears a connection's interrupt
                // when a query starts, so one that lands just before execution begins is lost
                // (an endless query then ran on, seen under ASan with a 300 ms deadline).
                w.at = now + reinterrupt_every;
                if (w.at < next) next = w.at;
            } else if (w.at < next) {
                next = w.at;
            }
        }
        if (next == model::clock::time_point::max()) {
            watch_cv_.wait(lock);
        } else {
            watch_cv_.wait_until(lock, next);
        }
    }
}

}  // namespace frost::source::duckdb
