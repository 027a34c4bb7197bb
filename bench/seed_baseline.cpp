// Baseline for `frost seed`: the plain-SQL way to make N Citi Bike-shaped trips in DuckDB
// (range() + random(), then ORDER BY starttime as the seed's table is ordered). Prints the
// wall time; run it under /usr/bin/time -v for peak memory. Usage: seed_baseline FILE N
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "source/duckdb/database.hpp"

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s FILE TRIPS\n", argv[0]);
        return 2;
    }
    const std::string path = argv[1];
    const std::string n = argv[2];
    std::filesystem::remove(path);
    auto db = frost::source::duckdb::database::open(path);
    if (!db) return std::fprintf(stderr, "%s\n", db.error().message.c_str()), 1;
    auto con = frost::source::duckdb::connection::open(*db.value());
    if (!con) return std::fprintf(stderr, "%s\n", con.error().message.c_str()), 1;
    const auto started = std::chrono::steady_clock::now();
    const std::string sql =
        "create schema demo; create table demo.trips as "
        "select (60 + random() * 3000)::bigint as tripduration, s as starttime, "
        "       s + to_seconds((60 + random() * 3000)::bigint) as stoptime, "
        "       (72 + random() * 3600)::bigint as start_station_id, (72 + random() * 3600)::bigint as end_station_id, "
        "       (14529 + random() * 25000)::bigint as bikeid, "
        "       case when random() < 0.1 then 'Customer' else 'Subscriber' end as usertype, "
        "       (1940 + random() * 60)::bigint as birth_year, (random() * 3)::bigint as gender "
        "from (select timestamp '2013-06-01' + to_microseconds((random() * 217900800000000)::bigint) as s "
        "      from range(" +
        n + ")) order by starttime; checkpoint;";
    auto r = con.value()->execute(sql);
    if (!r) return std::fprintf(stderr, "%s\n", r.error().message.c_str()), 1;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("plain SQL: %s trips in %.2f s\n", n.c_str(), secs);
    return 0;
}
