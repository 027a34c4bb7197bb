// Where one uncached rollup answer's DuckDB time goes, and what a statement prepared once saves.
// Builds an in-memory table shaped like the default config's `trips_by_day` rollup (one row per
// day, 2,526 days), then runs the endpoint SQL over random one-year ranges in rounds that
// alternate the modes below, all in this one process (so their ratios share the machine's load):
//   reprepare  prepare + bind + execute + fetch on every call (a statement nobody keeps)
//   reused     prepare once; clear + bind + execute + fetch per call (duckdb_source's path)
//   literal    the dates spliced in as literals, via duckdb_query (planning with constants)
//   typed      prepared once like `reused`, each placeholder wrapped in CAST(... AS DATE), so
//              DuckDB knows the parameter types at prepare time and never re-binds
// and, for `reused`, the phases: bind (clear + bind), plan (duckdb_pending_prepared: DuckDB
// re-plans here when it must), execute (duckdb_execute_pending), fetch (reading every cell).
// Usage: call_cost [SECONDS=3] [SQL_FILE]   (SQL with $start_range / $end_range; SECONDS split
//        over 3 rounds per mode). Env: FROST_ONLY=<mode> (one mode, for a profiler),
//        FROST_SETUP="SET ...; ..." (DuckDB settings to try), FROST_WALL=1 (wall time, not CPU).
#include <duckdb.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

// The calling thread's CPU time: with `threads=1` DuckDB runs the whole query on it, and on a
// shared machine wall time mostly measures the other processes. FROST_WALL=1: wall time.
struct clock_type {
    using duration = std::chrono::nanoseconds;
    using time_point = std::chrono::time_point<clock_type, duration>;
    static time_point now() {
        static const bool wall = std::getenv("FROST_WALL") != nullptr;
        timespec ts{};
        clock_gettime(wall ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID, &ts);
        return time_point(duration(std::int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec));
    }
};

const char* default_sql = R"(select sum(trip_count)::BIGINT as trip_count, any_value(month_name) as month
from trips_by_day
where ($start_range is null or day >= $start_range) and ($end_range is null or day <= $end_range)
group by month_number order by month_number)";

[[noreturn]] void die(const char* what, const char* detail) {
    std::fprintf(stderr, "call_cost: %s: %s\n", what, detail ? detail : "");
    std::exit(1);
}

void exec(duckdb_connection con, const std::string& sql) {
    duckdb_result r;
    if (duckdb_query(con, sql.c_str(), &r) == DuckDBError) die("query", duckdb_result_error(&r));
    duckdb_destroy_result(&r);
}

// Reads every chunk (the work `to_table` does, minus building values). Returns rows.
idx_t drain(duckdb_result& r) {
    idx_t rows = 0;
    for (;;) {
        duckdb_data_chunk c = duckdb_fetch_chunk(r);
        if (!c) break;
        rows += duckdb_data_chunk_get_size(c);
        duckdb_destroy_data_chunk(&c);
    }
    return rows;
}

struct range {
    duckdb_date start, end;
};

double us(clock_type::duration d) {
    return std::chrono::duration<double, std::micro>(d).count();
}

struct stats {
    std::vector<double> total, bind, plan, execute, fetch, release;
    static double median(std::vector<double> v) {
        if (v.empty()) return 0;
        std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
        return v[v.size() / 2];
    }
    static double p99(std::vector<double> v) {
        if (v.empty()) return 0;
        std::sort(v.begin(), v.end());
        return v[std::min(v.size() - 1, v.size() * 99 / 100)];
    }
};

void bind_range(duckdb_prepared_statement s, idx_t si, idx_t ei, const range& r) {
    duckdb_clear_bindings(s);
    duckdb_value a = duckdb_create_date(r.start), b = duckdb_create_date(r.end);
    duckdb_bind_value(s, si, a);
    duckdb_bind_value(s, ei, b);
    duckdb_destroy_value(&a);
    duckdb_destroy_value(&b);
}

std::string iso(duckdb_date d) {
    const auto s = duckdb_from_date(d);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", s.year, s.month, s.day);
    return buf;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (std::size_t p = 0; (p = s.find(from, p)) != std::string::npos; p += to.size()) s.replace(p, from.size(), to);
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    const double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
    std::string sql = default_sql;
    if (argc > 2) {
        std::ifstream in(argv[2]);
        std::stringstream ss;
        ss << in.rdbuf();
        sql = ss.str();
    }
    duckdb_database db;
    duckdb_config cfg;
    duckdb_create_config(&cfg);
    duckdb_set_config(cfg, "threads", "1");  // as config/frost.yaml's serving options
    char* err = nullptr;
    if (duckdb_open_ext(nullptr, &db, cfg, &err) == DuckDBError) die("open", err);
    duckdb_destroy_config(&cfg);
    duckdb_connection con;
    duckdb_connect(db, &con);
    exec(con, R"(create table trips_by_day as
        select d::date as day, (1000 + (hash(d) % 50000))::BIGINT as trip_count,
               month(d) as month_number,
               ['Jan','Feb','Mar','Apr','May','Jun','Jul','Aug','Sep','Oct','Nov','Dec'][month(d)] as month_name,
               dayofweek(d) as weekday_number,
               ['Sun','Mon','Tue','Wed','Thu','Fri','Sat'][dayofweek(d) + 1] as weekday_name,
               round(20 + (hash(d) % 700) / 10.0, -1) as temp_bucket, true as has_weather
        from range(date '2013-06-01', date '2013-06-01' + interval 2526 day, interval 1 day) t(d) order by 1)");

    // FROST_SETUP="SET x=y; SET ..." runs before preparing: trying DuckDB settings.
    if (const char* setup = std::getenv("FROST_SETUP")) exec(con, setup);
    duckdb_prepared_statement stmt;
    if (duckdb_prepare(con, sql.c_str(), &stmt) == DuckDBError) die("prepare", duckdb_prepare_error(stmt));
    idx_t si = 0, ei = 0;
    if (duckdb_bind_parameter_index(stmt, &si, "start_range") == DuckDBError ||
        duckdb_bind_parameter_index(stmt, &ei, "end_range") == DuckDBError)
        die("sql", "needs $start_range and $end_range");
    std::printf("parameter types after prepare: start_range=%d end_range=%d (0 = unresolved: re-planned per call)\n",
                int(duckdb_param_type(stmt, si)), int(duckdb_param_type(stmt, ei)));

    std::mt19937 rng(42);
    const duckdb_date first = duckdb_to_date({2013, 6, 1});
    std::uniform_int_distribution<int> offset(0, 2526 - 366);
    auto next_range = [&] {
        const int o = offset(rng);
        return range{duckdb_date{first.days + o}, duckdb_date{first.days + o + 364}};
    };

    const std::string typed_sql = replace_all(replace_all(sql, "$start_range", "CAST($start_range AS DATE)"),
                                              "$end_range", "CAST($end_range AS DATE)");
    duckdb_prepared_statement typed_stmt;
    if (duckdb_prepare(con, typed_sql.c_str(), &typed_stmt) == DuckDBError)
        die("prepare typed", duckdb_prepare_error(typed_stmt));
    idx_t tsi = 0, tei = 0;
    duckdb_bind_parameter_index(typed_stmt, &tsi, "start_range");
    duckdb_bind_parameter_index(typed_stmt, &tei, "end_range");
    std::printf("typed: start_range=%d end_range=%d\n", int(duckdb_param_type(typed_stmt, tsi)),
                int(duckdb_param_type(typed_stmt, tei)));

    enum mode { reprepare, reused, literal, typed };
    const char* names[] = {"reprepare", "reused", "literal", "typed"};
    stats st[4];
    const int rounds = 3;
    // FROST_ONLY=reused|reprepare|literal runs one mode (for a profiler).
    int only = -1;
    if (const char* o = std::getenv("FROST_ONLY"))
        for (int m = 0; m < 4; ++m)
            if (std::string(o) == names[m]) only = m;
    for (int round = 0; round < rounds; ++round) {
        for (int m : {reused, reprepare, literal, typed}) {
            if (only >= 0 && m != only) continue;
            const auto until = clock_type::now() + std::chrono::duration<double>(seconds / rounds);
            while (clock_type::now() < until) {
                const range r = next_range();
                const auto t0 = clock_type::now();
                duckdb_result res;
                if (m == literal) {
                    auto text = replace_all(replace_all(sql, "$start_range", "DATE '" + iso(r.start) + "'"),
                                            "$end_range", "DATE '" + iso(r.end) + "'");
                    if (duckdb_query(con, text.c_str(), &res) == DuckDBError) die("literal", duckdb_result_error(&res));
                    drain(res);
                    duckdb_destroy_result(&res);
                    st[m].total.push_back(us(clock_type::now() - t0));
                    continue;
                }
                duckdb_prepared_statement s = m == typed ? typed_stmt : stmt;
                if (m == reprepare && duckdb_prepare(con, sql.c_str(), &s) == DuckDBError) die("prepare", nullptr);
                if (m == typed)
                    bind_range(s, tsi, tei, r);
                else
                    bind_range(s, si, ei, r);
                const auto t1 = clock_type::now();
                duckdb_pending_result pending;
                if (duckdb_pending_prepared(s, &pending) == DuckDBError) die("pending", duckdb_pending_error(pending));
                const auto t2 = clock_type::now();
                if (duckdb_execute_pending(pending, &res) == DuckDBError) die("execute", duckdb_result_error(&res));
                const auto t3 = clock_type::now();
                drain(res);
                const auto t4 = clock_type::now();
                duckdb_destroy_result(&res);
                duckdb_destroy_pending(&pending);
                if (m == reprepare) duckdb_destroy_prepare(&s);
                const auto t5 = clock_type::now();
                st[m].total.push_back(us(t5 - t0));
                st[m].release.push_back(us(t5 - t4));
                st[m].bind.push_back(us(t1 - t0));
                st[m].plan.push_back(us(t2 - t1));
                st[m].execute.push_back(us(t3 - t2));
                st[m].fetch.push_back(us(t4 - t3));
            }
        }
    }
    std::printf(
        "| mode | calls | median us | p99 us | bind | plan (pending) | execute | fetch | release "
        "|\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int m : {reused, reprepare, literal, typed}) {
        std::printf("| %s | %zu | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n", names[m], st[m].total.size(),
                    stats::median(st[m].total), stats::p99(st[m].total), stats::median(st[m].bind),
                    stats::median(st[m].plan), stats::median(st[m].execute), stats::median(st[m].fetch),
                    stats::median(st[m].release));
    }
    if (only < 0)
        std::printf("ratio reprepare/reused (median): %.2f\n",
                    stats::median(st[reprepare].total) / stats::median(st[reused].total));
    if (only < 0)
        std::printf("ratio reused/typed (median): %.2f\n",
                    stats::median(st[reused].total) / stats::median(st[typed].total));
    duckdb_destroy_prepare(&stmt);
    duckdb_destroy_prepare(&typed_stmt);
    duckdb_disconnect(&con);
    duckdb_close(&db);
}
