// The serving store's prefix-sum answers (docs/caching.md, "Answers without DuckDB"): each
// endpoint SQL that `prefix_index` recognises gets an index per generation of the serving
// database. The first read of an SQL on a generation is answered by DuckDB and queues the
// index's build on a background thread, so no request waits for a build (a Lambda's first answer
// would otherwise pay it); reads meanwhile, and every SQL declined, run on DuckDB as before.
// A store opened from its answer index (`store_options::answer_index`, answer_index.hpp) first
// answers the SQLs that index holds from it (`cold_answer`), with no DuckDB instance, until the
// first swap; anything else opens the serving file (`open_lazily`) and goes the usual way.
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "rollup/answer_index.hpp"
#include "rollup/prefix_index.hpp"
#include "rollup/serving_store.hpp"

namespace frost::rollup {

/// The answer index's indexes (`store_options::answer_index`), by endpoint SQL: valid for the
/// generation the store opened with, dropped by the first swap. Each is deserialized on its
/// first use, from the mapped file; one that does not decode leaves its SQL to DuckDB.
struct serving_store::cold_answers {
    struct answer {
        std::string rollup;
        std::string_view serialized;  ///< inside `file`
        std::once_flag decoded;
        std::shared_ptr<const prefix_index> index;  ///< null until decoded, or when it did not decode
    };
    std::shared_ptr<const void> file;
    std::map<std::string, std::unique_ptr<answer>, std::less<>> by_sql;
};

struct serving_store::fast_state {
    struct entry {
        std::shared_ptr<const prefix_plan> plan;
        std::string declined;  ///< why the SQL is not recognised: never tried again
        /// The generation `index` (or `why_not`) belongs to; another one is built for the next.
        std::weak_ptr<frost::source::duckdb::duckdb_source> built_for;
        std::shared_ptr<const prefix_index> index;
        bool building = false;  ///< queued or being built
        std::string outcome;    ///< the last logged outcome, so a refresh logs only a change
    };
    struct counts {
        std::atomic<std::uint64_t> prefix_sums{0}, duckdb{0};
    };
    /// One index to build: an SQL on the generation its first read found.
    struct build_task {
        std::string sql, rollup, tag;
        std::weak_ptr<frost::source::duckdb::duckdb_source> db;
    };
    mutable std::mutex mutex;
    std::map<std::string, entry, std::less<>> by_sql;
    std::map<std::string, counts, std::less<>> by_endpoint;
    bool enabled = true;

    // The builder: one thread, started by the first build, stopped by the store's destructor.
    std::deque<build_task> queue;  ///< guarded by `mutex`
    std::size_t pending = 0;       ///< queued or being built; guarded by `mutex`
    bool stopping = false;
    mutable std::condition_variable changed;
    std::thread builder;

    void build_loop();
    void build_one(const build_task& task);
    ~fast_state() { stop(); }
    void stop() {
        {
            std::lock_guard lock(mutex);
            stopping = true;
            pending -= queue.size();
            queue.clear();
        }
        changed.notify_all();
        if (builder.joinable()) builder.join();
    }
};

void serving_store::fast_state::build_loop() {
    std::unique_lock lock(mutex);
    for (;;) {
        changed.wait(lock, [&] { return stopping || !queue.empty(); });
        if (stopping) return;
        auto task = std::move(queue.front());
        queue.pop_front();
        lock.unlock();
        build_one(task);
        lock.lock();
        --pending;
        changed.notify_all();
    }
}

void serving_store::fast_state::build_one(const build_task& task) {
    std::shared_ptr<const prefix_plan> plan;
    {
        std::lock_guard lock(mutex);
        plan = by_sql[task.sql].plan;
    }
    auto db = task.db.lock();
    std::string declined, why_not;
    std::shared_ptr<const prefix_index> index;
    if (db) {  // else the generation was swapped out before its turn: the next read queues again
        if (!plan) {
            auto recognised = prefix_index::recognise(*db, task.sql, task.rollup);
            if (recognised)
                plan = std::move(recognised).value();
            else
                declined = recognised.error().message;
        }
        if (plan) {
            auto built = prefix_index::build(*db, plan);
            if (built)
                index = std::move(built).value();
            else
                why_not = built.error().message;
        }
    }
    std::string outcome = index ? "answered from prefix sums (" + std::to_string(index->groups()) + " groups, " +
                                      std::to_string(index->cells()) + " cells)"
                                : "answered by DuckDB: " + (declined.empty() ? why_not : declined);
    std::lock_guard lock(mutex);
    // Indexes of generations no longer served (an SQL no endpoint asks since a reload) go.
    for (auto& [text, other] : by_sql)
        if (other.built_for.expired()) other.index.reset();
    auto& e = by_sql[task.sql];
    e.building = false;
    if (!db) return;
    e.plan = plan;
    e.declined = declined;
    e.built_for = db;
    e.index = index;
    if (outcome != e.outcome) {
        if (index || !declined.empty())
            spdlog::info("endpoint {} (rollup {}): {}", task.tag, task.rollup, outcome);
        else
            spdlog::warn("endpoint {} (rollup {}): {}", task.tag, task.rollup, outcome);
        e.outcome = std::move(outcome);
    }
}

void serving_store::carry_prefix_sums(const generation& from, const generation& to) {
    if (!from || !to) return;
    std::lock_guard lock(fast_->mutex);
    for (auto& [sql, e] : fast_->by_sql)
        if (!e.built_for.owner_before(from) && !from.owner_before(e.built_for)) e.built_for = to;
}

void serving_store::stop_prefix_builds() {
    fast_->stop();
}

void serving_store::settle_prefix_sums() const {
    std::unique_lock lock(fast_->mutex);
    fast_->changed.wait(lock, [&] { return fast_->pending == 0; });
}

std::shared_ptr<serving_store::fast_state> serving_store::make_fast_state() {
    auto s = std::make_shared<fast_state>();
    const char* env = std::getenv("FROST_PREFIX_SUMS");  // NOLINT(concurrency-mt-unsafe): read at open
    s->enabled = env == nullptr || std::string_view(env) != "off";
    return s;
}

void serving_store::set_prefix_sums(bool on) {
    std::lock_guard lock(fast_->mutex);
    fast_->enabled = on;
}

serving_store::answer_counts serving_store::answers(std::string_view endpoint) const {
    std::lock_guard lock(fast_->mutex);
    auto it = fast_->by_endpoint.find(endpoint);
    if (it == fast_->by_endpoint.end()) return {};
    return {it->second.prefix_sums.load(), it->second.duckdb.load()};
}

std::optional<model::table> serving_store::cold_answer(const frost::source::query& q, std::string_view rollup) {
    std::shared_ptr<const cold_answers> cold;
    {
        std::lock_guard lock(live_mutex_);
        cold = cold_;
    }
    if (!cold) return std::nullopt;
    auto it = cold->by_sql.find(q.sql);
    if (it == cold->by_sql.end() || it->second->rollup != rollup) return std::nullopt;
    auto& a = *it->second;
    std::call_once(a.decoded, [&] {
        auto index = prefix_index::deserialize(a.serialized);
        if (index)
            a.index = std::move(index).value();
        else
            spdlog::warn("answer index entry of {} not used: {}; DuckDB answers it", q.tag, index.error().message);
    });
    if (!a.index) return std::nullopt;
    auto& f = *fast_;
    fast_state::counts* counts = nullptr;
    {
        std::lock_guard lock(f.mutex);
        if (!f.enabled) return std::nullopt;
        auto c = f.by_endpoint.find(q.tag);
        if (c == f.by_endpoint.end()) c = f.by_endpoint.try_emplace(std::string(q.tag)).first;
        counts = &c->second;
    }
    auto t = a.index->answer(q.params, q.max_rows);
    if (t) counts->prefix_sums.fetch_add(1, std::memory_order_relaxed);
    return t;
}

std::optional<model::table> serving_store::prefix_answer(const frost::source::query& q, std::string_view rollup) {
    if (auto t = cold_answer(q, rollup)) return t;
    // Never opens the serving file here (an I/O thread): a worker's `run_versioned` does.
    if (lazy_pending_.load(std::memory_order_acquire)) return std::nullopt;
    auto db = live();
    if (!db) return std::nullopt;
    auto& f = *fast_;
    fast_state::counts* counts = nullptr;
    std::shared_ptr<const prefix_index> index;
    {
        std::lock_guard lock(f.mutex);
        if (!f.enabled) return std::nullopt;
        auto it = f.by_sql.find(q.sql);
        if (it == f.by_sql.end()) return std::nullopt;
        const auto& e = it->second;
        const bool same = !e.built_for.owner_before(db) && !db.owner_before(e.built_for);
        if (!same || !e.declined.empty() || !e.index) return std::nullopt;
        index = e.index;
        auto c = f.by_endpoint.find(q.tag);
        if (c == f.by_endpoint.end()) c = f.by_endpoint.try_emplace(std::string(q.tag)).first;
        counts = &c->second;
    }
    auto t = index->answer(q.params, q.max_rows);
    if (t) counts->prefix_sums.fetch_add(1, std::memory_order_relaxed);
    return t;
}

model::result<model::table> serving_store::answer(const frost::source::query& q, std::string_view rollup) {
    reads_.fetch_add(1, std::memory_order_relaxed);
    if (auto t = cold_answer(q, rollup)) return std::move(*t);
    auto db = live();  // keeps this generation open while the query runs, even across a swap
    if (!db) return model::error{model::error_code::source_unavailable, "no rollup has been built yet", {}, {}};
    auto& f = *fast_;
    fast_state::counts* counts = nullptr;
    std::shared_ptr<const prefix_index> index;
    {
        std::lock_guard lock(f.mutex);
        auto c = f.by_endpoint.find(q.tag);
        if (c == f.by_endpoint.end()) c = f.by_endpoint.try_emplace(std::string(q.tag)).first;
        counts = &c->second;
        if (f.enabled && !f.stopping) {
            auto it = f.by_sql.find(q.sql);
            if (it == f.by_sql.end()) it = f.by_sql.try_emplace(std::string(q.sql)).first;
            auto& e = it->second;
            const bool same = !e.built_for.owner_before(db) && !db.owner_before(e.built_for);
            if (e.declined.empty()) {
                if (same) {
                    index = e.index;
                } else if (!e.building) {
                    // This read queues the index's build and is answered by DuckDB below.
                    e.building = true;
                    f.queue.push_back({std::string(q.sql), std::string(rollup), std::string(q.tag), db});
                    ++f.pending;
                    if (!f.builder.joinable()) f.builder = std::thread([&f] { f.build_loop(); });
                    f.changed.notify_all();
                }
            }
        }
    }
    if (index) {
        if (auto t = index->answer(q.params, q.max_rows)) {
            counts->prefix_sums.fetch_add(1, std::memory_order_relaxed);
            return std::move(*t);
        }
    }
    counts->duckdb.fetch_add(1, std::memory_order_relaxed);
    return db->run(q);
}

bool serving_store::load_answer_index() {
    const auto path = answer_index_path(serving_.path);
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return false;
    auto read = answer_index::read(path, serving_.path, answer_index::entries_mode::lazy);
    if (!read) {
        spdlog::warn("answer index not used: {}; opening the serving file", read.error().message);
        return false;
    }
    auto& index = read.value();
    std::map<std::string, const answer_index::rollup_version*, std::less<>> by_name;
    for (const auto& r : index.rollups) by_name[r.name] = &r;
    auto cold = std::make_shared<cold_answers>();
    {
        std::lock_guard lock(state_mutex_);
        for (const auto& [name, st] : rollups_) {
            auto it = by_name.find(name);
            if (it == by_name.end() || it->second->version == 0 || it->second->sql_hash != st->sql_hash) {
                spdlog::warn("answer index {} not used: rollup {} {}; opening the serving file", path, name,
                             it == by_name.end() ? "is not in it" : "was built from other SQL");
                return false;
            }
        }
        for (const auto& [name, st] : rollups_) {
            const auto& v = *by_name.at(name);
            st->version.version = v.version;
            st->version.built_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(v.built_at_ms));
        }
    }
    cold->file = index.file;
    for (auto& e : index.entries) {
        if (!rollups_.contains(e.rollup)) continue;
        auto a = std::make_unique<cold_answers::answer>();
        a->rollup = std::move(e.rollup);
        a->serialized = e.serialized;
        cold->by_sql.emplace(std::move(e.sql), std::move(a));
    }
    spdlog::info("serving file {}: {} endpoint SQLs answered from its answer index; DuckDB opens on first need",
                 serving_.path, cold->by_sql.size());
    {
        std::lock_guard lock(live_mutex_);
        cold_ = std::move(cold);
    }
    lazy_pending_.store(true, std::memory_order_release);
    return true;
}

}  // namespace frost::rollup
