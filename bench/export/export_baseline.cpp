// The baseline of bench/export/run.sh: DuckDB's own COPY ... TO of the same rows Frost exports.
//   export_baseline DB OUT.csv   COPY (the export's SELECT) TO OUT.csv (HEADER), through the C API
// Prints the wall time of the COPY and the bytes written.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "source/duckdb/database.hpp"

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s DB OUT.csv\n", argv[0]);
        return 2;
    }
    const std::string db_path = argv[1], out = argv[2];
    auto db = frost::source::duckdb::database::open(db_path, {{"access_mode", "READ_ONLY"}});
    if (!db) return std::fprintf(stderr, "%s\n", db.error().message.c_str()), 1;
    auto con = frost::source::duckdb::connection::open(*db.value());
    if (!con) return std::fprintf(stderr, "%s\n", con.error().message.c_str()), 1;
    // The columns of /trips/export (config/frost.yaml), over the whole table.
    const std::string sql =
        "COPY (select tripduration, starttime, stoptime, start_station_id, end_station_id, bikeid, usertype, "
        "birth_year, gender from demo.trips) TO '" +
        out + "' (HEADER, DELIMITER ',')";
    const auto started = std::chrono::steady_clock::now();
    auto r = con.value()->execute(sql);
    if (!r) return std::fprintf(stderr, "%s\n", r.error().message.c_str()), 1;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("%.3f %llu\n", secs, static_cast<unsigned long long>(std::filesystem::file_size(out)));
    return 0;
}
