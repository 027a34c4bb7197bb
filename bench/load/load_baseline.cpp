// The baseline and the input for bench/load/run.sh.
//   load_baseline generate FILE N   writes N trips as a 2018-layout Citi Bike CSV (quoted, 15 columns)
//   load_baseline insert FILE DB    DuckDB's own way: a table shaped by read_csv's detection, then
//                                   INSERT INTO it SELECT * FROM read_csv(FILE) and a CHECKPOINT
// Prints the wall time of the work.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "source/duckdb/database.hpp"

namespace {

int run(const std::string& db_path, const std::string& sql, const char* what) {
    auto db = frost::source::duckdb::database::open(db_path);
    if (!db) return std::fprintf(stderr, "%s\n", db.error().message.c_str()), 1;
    auto con = frost::source::duckdb::connection::open(*db.value());
    if (!con) return std::fprintf(stderr, "%s\n", con.error().message.c_str()), 1;
    const auto started = std::chrono::steady_clock::now();
    auto r = con.value()->execute(sql);
    if (!r) return std::fprintf(stderr, "%s\n", r.error().message.c_str()), 1;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("%s: %.2f s\n", what, secs);
    return 0;
}

std::string literal(const std::string& s) {
    return "'" + s + "'";
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s generate FILE N | insert FILE DB\n", argv[0]);
        return 2;
    }
    const std::string mode = argv[1], file = argv[2], arg = argv[3];
    if (mode == "generate") {
        // Shaped like 201801-citibike-tripdata.csv: every field quoted, fractional seconds.
        const std::string sql =
            "COPY (SELECT d::BIGINT AS \"tripduration\", strftime(s, '%Y-%m-%d %H:%M:%S.%f') AS \"starttime\", "
            "strftime(s + to_seconds(d), '%Y-%m-%d %H:%M:%S.%f') AS \"stoptime\", "
            "(72 + i % 800)::BIGINT AS \"start station id\", 'W 52 St & 11 Ave' AS \"start station name\", "
            "40.76727216 AS \"start station latitude\", -73.99392888 AS \"start station longitude\", "
            "(72 + (i * 7) % 800)::BIGINT AS \"end station id\", 'E 17 St & Broadway' AS \"end station name\", "
            "40.73704984 AS \"end station latitude\", -73.99009296 AS \"end station longitude\", "
            "(14529 + i % 25000)::BIGINT AS \"bikeid\", CASE WHEN i % 9 = 0 THEN 'Customer' ELSE 'Subscriber' END AS "
            "\"usertype\", "
            "(1950 + i % 50)::BIGINT AS \"birth year\", (i % 3)::BIGINT AS \"gender\" "
            "FROM (SELECT range AS i, 60 + (range * 37) % 3000 AS d, "
            "TIMESTAMP '2018-01-01' + to_microseconds((range * 2647) % 31536000000000) AS s FROM range(" +
            arg +
            "))) "
            "TO " +
            literal(file) + " (HEADER, FORCE_QUOTE *)";
        return run(":memory:", sql, "generate");
    }
    if (mode == "insert") {
        std::filesystem::remove(arg);
        const std::string sql = "CREATE TABLE trips AS SELECT * FROM read_csv(" + literal(file) +
                                ") LIMIT 0; "
                                "INSERT INTO trips SELECT * FROM read_csv(" +
                                literal(file) + "); CHECKPOINT;";
        return run(arg, sql, "read_csv + INSERT");
    }
    std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
    return 2;
}
