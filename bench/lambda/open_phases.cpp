// The DuckDB part of a Lambda cold start, timed directly (no tracer): what `frost lambda` does
// between reading its config and its first /next, in the same order, in a fresh process.
//   1 open the source file read-only (a DuckDB instance, its catalog read)
//   2 the `loaded_since` probe on it (frost_loaded_files, absent in a packaged sample)
//   3 open the serving file read-only (the second instance)
//   4 read the rollup versions (frost_rollups, and whether each rollup table exists)
//   5 the first rollup answer (/trips/monthly's SQL, prepared and run once)
// FROST_LAZY=1 skips steps 1 and 2, as `frost lambda` now does (its source opens on the first live
// query). FROST_FLOOR=1 times only the floor of any DuckDB instance: an in-memory one with the same
// settings, connected, answering `SELECT 1` (no file, no catalog read from disk).
// Usage: open_phases SOURCE_DB SERVING_DB   (prints "phase ms" lines, process CPU time; run it
//        several times)
#include <duckdb.h>

#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

// Process CPU time (all threads): on a shared machine wall time mostly measures the others.
// FROST_WALL=1: wall time.
struct clock_type {
    using duration = std::chrono::nanoseconds;
    using time_point = std::chrono::time_point<clock_type, duration>;
    static time_point now() {
        static const bool wall = std::getenv("FROST_WALL") != nullptr;
        timespec ts{};
        clock_gettime(wall ? CLOCK_MONOTONIC : CLOCK_PROCESS_CPUTIME_ID, &ts);
        return time_point(duration(std::int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec));
    }
};

double ms_since(clock_type::time_point t) {
    return std::chrono::duration<double, std::milli>(clock_type::now() - t).count();
}

duckdb_database open_read_only(const char* path) {
    duckdb_config cfg;
    duckdb_create_config(&cfg);
    // The settings duckdb_source gives a read-only source in Lambda (fit_threads_to_lambda: 1).
    if (std::string_view(path) != ":memory:") duckdb_set_config(cfg, "access_mode", "READ_ONLY");
    duckdb_set_config(cfg, "threads", "1");
    duckdb_set_config(cfg, "enable_external_access", "false");
    duckdb_set_config(cfg, "lock_configuration", "true");
    duckdb_database db = nullptr;
    char* err = nullptr;
    if (duckdb_open_ext(path, &db, cfg, &err) == DuckDBError) {
        std::fprintf(stderr, "open_phases: %s: %s\n", path, err ? err : "");
        duckdb_destroy_config(&cfg);
        return nullptr;
    }
    duckdb_destroy_config(&cfg);
    return db;
}

void run(duckdb_connection con, const char* sql) {
    duckdb_result r;
    duckdb_query(con, sql, &r);  // failures are part of what is timed (the probe fails)
    duckdb_destroy_result(&r);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: open_phases SOURCE_DB SERVING_DB\n");
        return 2;
    }
    const auto all = clock_type::now();
    auto t = clock_type::now();
    if (std::getenv("FROST_FLOOR")) {
        duckdb_database memory = open_read_only(":memory:");
        if (!memory) return 1;
        duckdb_connection mc;
        duckdb_connect(memory, &mc);
        run(mc, "SELECT 1");
        std::printf("memory_instance %.2f\n", ms_since(t));
        std::fflush(stdout);
        std::_Exit(0);
    }
    const bool lazy = std::getenv("FROST_LAZY") != nullptr;
    duckdb_database source = lazy ? nullptr : open_read_only(argv[1]);
    if (!source && !lazy) return 1;
    duckdb_connection sc = nullptr;
    if (!lazy) duckdb_connect(source, &sc);
    std::printf("open_source %.2f\n", ms_since(t));
    if (!lazy && std::getenv("FROST_SELECT1")) {  // is it the probe, or any first query on an instance?
        t = clock_type::now();
        run(sc, "SELECT 1");
        std::printf("select_1 %.2f\n", ms_since(t));
    }
    // Default: what Frost does now (source/duckdb/catalog.hpp: ask the catalog, then query only
    // what exists). FROST_BEFORE=1: what it did before (the failing probe, the duckdb_tables()
    // join). FROST_PROBE_SQL / FROST_VERSIONS_SQL: try other SQL for steps 2 and 4.
    const bool before = std::getenv("FROST_BEFORE") != nullptr;
    auto exists = [](duckdb_connection c, const char* table) {
        duckdb_table_description d = nullptr;
        const bool found = duckdb_table_description_create(c, "main", table, &d) == DuckDBSuccess;
        duckdb_table_description_destroy(&d);
        return found;
    };
    t = clock_type::now();
    const char* loaded = "SELECT epoch_ms(max(loaded_at))::BIGINT FROM frost_loaded_files";
    if (lazy) {
    } else if (const char* probe = std::getenv("FROST_PROBE_SQL")) {
        run(sc, probe);
    } else if (before || exists(sc, "frost_loaded_files")) {
        run(sc, loaded);
    }
    std::printf("loaded_since_probe %.2f\n", ms_since(t));
    t = clock_type::now();
    duckdb_database serving = open_read_only(argv[2]);
    if (!serving) return 1;
    duckdb_connection vc;
    duckdb_connect(serving, &vc);
    std::printf("open_serving %.2f\n", ms_since(t));
    if (std::getenv("FROST_SELECT1")) {
        t = clock_type::now();
        run(vc, "SELECT 1");
        std::printf("select_1 %.2f\n", ms_since(t));
    }
    t = clock_type::now();
    if (const char* versions = std::getenv("FROST_VERSIONS_SQL")) {
        run(vc, versions);
    } else if (before) {
        run(vc,
            "SELECT m.name, m.version, m.built_at_ms, m.sql_hash FROM frost_rollups m JOIN duckdb_tables() t "
            "ON t.table_name = m.name AND t.schema_name = 'main'");
    } else if (exists(vc, "frost_rollups")) {
        run(vc, "SELECT name, version, built_at_ms, sql_hash FROM frost_rollups");
        (void)exists(vc, "trips_by_day");  // one lookup per rollup
    }
    std::printf("read_rollup_versions %.2f\n", ms_since(t));
    t = clock_type::now();
    duckdb_prepared_statement stmt;
    duckdb_prepare(vc,
                   "select sum(trip_count)::BIGINT as trip_count, any_value(month_name) as month from trips_by_day "
                   "where ($start_range is null or day >= $start_range) and ($end_range is null or day <= $end_range) "
                   "group by month_number order by month_number",
                   &stmt);
    duckdb_bind_null(stmt, 1);
    duckdb_bind_null(stmt, 2);
    duckdb_result r;
    duckdb_execute_prepared(stmt, &r);
    duckdb_destroy_result(&r);
    duckdb_destroy_prepare(&stmt);
    std::printf("first_rollup_query %.2f\n", ms_since(t));
    std::printf("total %.2f\n", ms_since(all));
    duckdb_disconnect(&vc);
    if (sc) duckdb_disconnect(&sc);
    // Closing is not part of a cold start: leave the instances to process exit.
    std::fflush(stdout);
    std::_Exit(0);
}
