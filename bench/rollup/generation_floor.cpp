// Issue 12: the floor of writing one generation of the serving file, DuckDB alone (no Frost
// code): what serving_store::write_generation does for a 2,527-row trips_by_day, in a long-lived
// writer instance, N times, timing each step; then, for comparison, a new DuckDB instance (what
// each refresh paid twice before) and a bare fsync of a small file on the same disk.
// Usage: bench_generation_floor DIR [N=7]   (writes DIR/floor.duckdb and DIR/floor.duckdb.next)
#include <duckdb.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

double now_ms() {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

void run(duckdb_connection c, const std::string& sql) {
    duckdb_result r;
    if (duckdb_query(c, sql.c_str(), &r) == DuckDBError) {
        std::fprintf(stderr, "%s: %s\n", sql.c_str(), duckdb_result_error(&r));
        std::exit(1);
    }
    duckdb_destroy_result(&r);
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s DIR [N=7]\n", argv[0]);
        return 2;
    }
    const std::string dir = argv[1], path = dir + "/floor.duckdb", next = path + ".next";
    const int n = argc > 2 ? std::atoi(argv[2]) : 7;
    duckdb_config cfg;
    duckdb_create_config(&cfg);
    duckdb_set_config(cfg, "threads", "1");
    duckdb_database writer, reader;
    char* err = nullptr;
    if (duckdb_open_ext(":memory:", &writer, cfg, &err) == DuckDBError ||
        duckdb_open_ext(":memory:", &reader, cfg, &err) == DuckDBError) {
        std::fprintf(stderr, "open: %s\n", err ? err : "?");
        return 1;
    }
    duckdb_connection rc;
    duckdb_connect(reader, &rc);
    {
        duckdb_connection c;
        duckdb_connect(writer, &c);
        run(c, "SET checkpoint_threshold = '0b'");
        duckdb_disconnect(&c);
    }
    const char* steps[] = {"attach",        "create+append", "commit (checkpoints)", "checkpoint+detach",
                           "rename+attach", "detach old"};
    std::vector<std::vector<double>> t(6);
    std::vector<double> total;
    for (int i = 0; i < n; ++i) {
        unlink(next.c_str());
        double t0 = now_ms(), lap = t0;
        auto mark = [&](int k) {
            const double x = now_ms();
            t[k].push_back(x - lap);
            lap = x;
        };
        duckdb_connection c;
        duckdb_connect(writer, &c);
        run(c, "ATTACH '" + next + "' AS frost_next (BLOCK_SIZE 16384)");
        run(c, "USE frost_next");
        mark(0);
        run(c, "BEGIN TRANSACTION");
        run(c,
            "CREATE TABLE frost_rollups (name VARCHAR PRIMARY KEY, version BIGINT, built_at_ms BIGINT, row_count "
            "BIGINT, sql_hash VARCHAR)");
        run(c,
            "CREATE TABLE trips_by_day (day DATE, trip_count BIGINT, month_number BIGINT, month_name VARCHAR, "
            "weekday_number BIGINT, weekday_name VARCHAR, temp_bucket DOUBLE, has_weather BOOLEAN)");
        duckdb_appender a;
        duckdb_appender_create(c, nullptr, "trips_by_day", &a);
        for (int d = 0; d < 2527; ++d) {
            duckdb_append_date(a, duckdb_date{15000 + d});
            duckdb_append_int64(a, 30000 + d % 997);
            duckdb_append_int64(a, 1 + d % 12);
            duckdb_append_varchar(a, "Jan");
            duckdb_append_int64(a, d % 7);
            duckdb_append_varchar(a, "Mon");
            duckdb_append_double(a, 10.0 * (d % 9));
            duckdb_append_bool(a, true);
            duckdb_appender_end_row(a);
        }
        duckdb_appender_destroy(&a);
        run(c, "SELECT count(*) FROM trips_by_day");
        run(c, "INSERT INTO frost_rollups VALUES ('trips_by_day', 1, 0, 2527, 'x')");
        mark(1);
        run(c, "COMMIT");
        mark(2);
        run(c, "CHECKPOINT frost_next");
        run(c, "USE memory");
        run(c, "DETACH frost_next");
        duckdb_disconnect(&c);
        mark(3);
        rename(next.c_str(), path.c_str());
        run(rc, "ATTACH '" + path + "' AS g" + std::to_string(i) + " (READ_ONLY)");
        mark(4);
        if (i > 0) run(rc, "DETACH g" + std::to_string(i - 1));
        mark(5);
        total.push_back(now_ms() - t0);
    }
    std::printf("one generation, DuckDB alone, median of %d:", n);
    for (int k = 0; k < 6; ++k) std::printf(" %s %.1f ms;", steps[k], median(t[k]));
    std::printf(" total %.1f ms\n", median(total));
    std::vector<double> opens, syncs;
    for (int i = 0; i < n; ++i) {
        const double t0 = now_ms();
        duckdb_database db;
        duckdb_open_ext(":memory:", &db, cfg, &err);
        opens.push_back(now_ms() - t0);
        duckdb_close(&db);
        const std::string f = dir + "/floor.fsync";
        const int fd = ::open(f.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0644);
        std::vector<char> buf(160 * 1024, 'x');
        if (pwrite(fd, buf.data(), buf.size(), 0) < 0) return 1;
        const double t1 = now_ms();
        fsync(fd);
        syncs.push_back(now_ms() - t1);
        ::close(fd);
        unlink(f.c_str());
    }
    std::printf("a new DuckDB instance (in memory): median %.1f ms; fsync of a new 160 KiB file: median %.1f ms\n",
                median(opens), median(syncs));
    duckdb_disconnect(&rc);
    duckdb_close(&reader);
    duckdb_close(&writer);
    duckdb_destroy_config(&cfg);
    unlink(path.c_str());
    return 0;
}
