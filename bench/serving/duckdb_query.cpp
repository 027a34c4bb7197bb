// P3's baseline: one report query through DuckDB's C API alone (no Frost code), prepared once
// and executed N times with its two DATE parameters bound, the way Frost's source runs it.
// Prints one latency per line (ms) so the caller computes percentiles the same way for both.
// Usage: duckdb_query DB SQL_FILE START END SECONDS   (stderr: "checksum N", the first column summed)
#include <duckdb.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace {

int fail(const char* what, const char* detail) {
    std::fprintf(stderr, "duckdb_query: %s: %s\n", what, detail ? detail : "");
    return 1;
}

duckdb_date parse(const char* iso) {
    duckdb_date_struct d{};
    if (std::sscanf(iso, "%d-%hhd-%hhd", &d.year, &d.month, &d.day) != 3) std::exit(fail("bad date", iso));
    return duckdb_to_date(d);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 6) return fail("usage", "duckdb_query DB SQL_FILE START END SECONDS");
    std::ifstream in(argv[2]);
    std::stringstream sql;
    sql << in.rdbuf();

    duckdb_database db;
    duckdb_config cfg;
    duckdb_create_config(&cfg);
    if (!std::getenv("DUCKDB_READ_WRITE")) duckdb_set_config(cfg, "access_mode", "READ_ONLY");
    // DUCKDB_THREADS: the same setting as the Frost database it is compared with.
    if (const char* t = std::getenv("DUCKDB_THREADS"); t && *t) duckdb_set_config(cfg, "threads", t);
    char* err = nullptr;
    if (duckdb_open_ext(argv[1], &db, cfg, &err) == DuckDBError) return fail("open", err);
    duckdb_destroy_config(&cfg);
    duckdb_connection con;
    if (duckdb_connect(db, &con) == DuckDBError) return fail("connect", nullptr);
    duckdb_prepared_statement stmt;
    if (duckdb_prepare(con, sql.str().c_str(), &stmt) == DuckDBError)
        return fail("prepare", duckdb_prepare_error(stmt));
    const duckdb_date start = parse(argv[3]), end = parse(argv[4]);
    // Bind by name, as Frost does ($start_range, $end_range), when the SQL has them.
    idx_t start_index = 0, end_index = 0;
    if (duckdb_bind_parameter_index(stmt, &start_index, "start_range") == DuckDBSuccess)
        duckdb_bind_date(stmt, start_index, start);
    if (duckdb_bind_parameter_index(stmt, &end_index, "end_range") == DuckDBSuccess)
        duckdb_bind_date(stmt, end_index, end);

    const double budget = std::atof(argv[5]);
    const auto t0 = std::chrono::steady_clock::now();
    long long checksum = 0;
    // At least one run: `SECONDS=0` runs the SQL once (and its checksum is its first column's sum).
    for (int runs = 0;
         runs == 0 || std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < budget; ++runs) {
        const auto q0 = std::chrono::steady_clock::now();
        duckdb_result res;
        if (duckdb_execute_prepared(stmt, &res) == DuckDBError) return fail("execute", duckdb_result_error(&res));
        // Read every cell, as a server must to answer.
        const idx_t rows = duckdb_row_count(&res);
        for (idx_t r = 0; r < rows; ++r) checksum += duckdb_value_int64(&res, 0, r);
        duckdb_destroy_result(&res);
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - q0).count();
        std::printf("%.3f\n", ms);
    }
    std::fprintf(stderr, "checksum %lld\n", checksum);
    duckdb_destroy_prepare(&stmt);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return 0;
}
