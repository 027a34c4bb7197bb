// The serving store's prefix-sum answers (docs/caching.md, "Answers without DuckDB"): each
// endpoint SQL that `prefix_index` recognises gets an index per generation of the serving
// database, built by the first read that finds none; reads meanwhile, and every SQL declined,
// run on DuckDB as before.
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <string>

#include "rollup/prefix_index.hpp"
#include "rollup/serving_store.hpp"

namespace frost::rollup {

struct serving_store::fast_state {
    struct entry {
        std::shared_ptr<const prefix_plan> plan;
        std::string declined;  ///< why the SQL is not recognised: never tried again
        /// The generation `index` (or `why_not`) belongs to; another one is built for the next.
        std::weak_ptr<frost::source::duckdb::duckdb_source> built_for;
        std::shared_ptr<const prefix_index> index;
        bool building = false;
        std::string outcome;  ///< the last logged outcome, so a refresh logs only a change
    };
    struct counts {
        std::atomic<std::uint64_t> prefix_sums{0}, duckdb{0};
    };
    mutable std::mutex mutex;
    std::map<std::string, entry, std::less<>> by_sql;
    std::map<std::string, counts, std::less<>> by_endpoint;
    bool enabled = true;
};

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

std::optional<model::table> serving_store::prefix_answer(const frost::source::query& q) {
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
    auto db = live();  // keeps this generation open while the query runs, even across a swap
    if (!db) return model::error{model::error_code::source_unavailable, "no rollup has been built yet", {}, {}};
    auto& f = *fast_;
    fast_state::counts* counts = nullptr;
    std::shared_ptr<const prefix_index> index;
    std::shared_ptr<const prefix_plan> plan;
    bool build = false;
    {
        std::lock_guard lock(f.mutex);
        auto c = f.by_endpoint.find(q.tag);
        if (c == f.by_endpoint.end()) c = f.by_endpoint.try_emplace(std::string(q.tag)).first;
        counts = &c->second;
        if (f.enabled) {
            auto it = f.by_sql.find(q.sql);
            if (it == f.by_sql.end()) it = f.by_sql.try_emplace(std::string(q.sql)).first;
            auto& e = it->second;
            const bool same = !e.built_for.owner_before(db) && !db.owner_before(e.built_for);
            if (e.declined.empty()) {
                if (same) {
                    index = e.index;
                } else if (!e.building) {
                    e.building = true;
                    build = true;
                    plan = e.plan;
                }
            }
        }
    }
    if (build) {
        // This read builds the index; reads of the same SQL meanwhile go to DuckDB.
        std::string declined, why_not;
        if (!plan) {
            auto recognised = prefix_index::recognise(*db, q.sql, rollup);
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
        std::string outcome = index ? "answered from prefix sums (" + std::to_string(index->groups()) + " groups, " +
                                          std::to_string(index->cells()) + " cells)"
                                    : "answered by DuckDB: " + (declined.empty() ? why_not : declined);
        std::lock_guard lock(f.mutex);
        // Indexes of generations no longer served (an SQL no endpoint asks since a reload) go.
        for (auto& [text, other] : f.by_sql)
            if (other.built_for.expired()) other.index.reset();
        auto& e = f.by_sql[std::string(q.sql)];
        e.building = false;
        e.plan = plan;
        e.declined = declined;
        e.built_for = db;
        e.index = index;
        if (outcome != e.outcome) {
            if (index || !declined.empty())
                spdlog::info("endpoint {} (rollup {}): {}", q.tag, rollup, outcome);
            else
                spdlog::warn("endpoint {} (rollup {}): {}", q.tag, rollup, outcome);
            e.outcome = std::move(outcome);
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

}  // namespace frost::rollup
