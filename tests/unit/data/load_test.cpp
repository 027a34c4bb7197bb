// frost load: every historical Citi Bike layout, gzip and zip, bad rows, re-loads and
// interruption, checked against counts taken straight from the fixture text the test writes.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "data/citibike_files.hpp"
#include "data/generator.hpp"
#include "data/zip_archive.hpp"
#include "source/duckdb/database.hpp"
#include "trip_fixtures.hpp"

namespace frost::data {
namespace {

namespace fs = std::filesystem;
using namespace fixtures;  // NOLINT: test helpers

// Reads a database with plain SQL (the loader is closed first: it holds the write lock).
std::vector<std::vector<model::value>> query(const fs::path& db_path, const std::string& sql) {
    auto db = source::duckdb::database::open(db_path.string());
    if (!db) throw std::runtime_error(db.error().message);
    auto con = source::duckdb::connection::open(*db.value());
    auto r = con.value()->execute(sql);
    if (!r) throw std::runtime_error(r.error().message + " in " + sql);
    return r.value().to_table(100'000).value().rows;
}

std::int64_t query_int(const fs::path& db, const std::string& sql) {
    return std::get<std::int64_t>(query(db, sql).at(0).at(0));
}

struct load_result {
    std::vector<file_report> reports;
};

load_result load_files(const fs::path& db, file_kind kind, const std::vector<fs::path>& files,
                       load_options options = {}, const load_progress_fn& progress = {},
                       const std::atomic<bool>* cancel = nullptr) {
    options.database = db.string();
    auto loader = file_loader::open(options);
    if (!loader) throw std::runtime_error(loader.error().message);
    static const std::atomic<bool> never{false};
    load_result out;
    for (const auto& f : files)
        out.reports.push_back(loader.value()->load(kind, f.string(), progress, cancel ? *cancel : never));
    (void)loader.value()->checkpoint();
    return out;
}

// The per-day counts the database holds, as the seed's reports group them.
std::map<std::string, std::uint64_t> per_day(const fs::path& db) {
    std::map<std::string, std::uint64_t> out;
    for (const auto& r :
         query(db, "select strftime(starttime::date, '%Y-%m-%d'), count(*)::BIGINT from demo.trips group by 1"))
        out[std::get<std::string>(r[0])] = static_cast<std::uint64_t>(std::get<std::int64_t>(r[1]));
    return out;
}

TEST(detect_trip_layout, recognises_every_historical_header) {
    const std::vector<std::string> lower{"tripduration", "starttime", "stoptime", "start station id", "bikeid"};
    EXPECT_EQ(detect_trip_layout(lower, {"634", "2013-07-01 00:00:00", "x"}).value().schema,
              trip_schema::lower_iso_2013);
    auto us = detect_trip_layout(lower, {"634", "9/1/2014 00:00:25", "x"});
    EXPECT_EQ(us.value().schema, trip_schema::lower_us_2014);
    EXPECT_EQ(us.value().timestamp_format, "%m/%d/%Y %H:%M:%S");
    EXPECT_EQ(detect_trip_layout(lower, {"634", "1/1/2015 0:01", "x"}).value().timestamp_format, "%m/%d/%Y %H:%M");
    EXPECT_EQ(detect_trip_layout(lower, {"634", "2018-01-01 13:50:57.4340"}).value().schema,
              trip_schema::lower_fractional_2018);
    EXPECT_EQ(detect_trip_layout({"Trip Duration", "Start Time", "Stop Time", "Bike ID"}, {"1", "2016-10-01 00:00:07"})
                  .value()
                  .schema,
              trip_schema::title_case_2016);
    EXPECT_EQ(detect_trip_layout({"ride_id", "rideable_type", "started_at", "ended_at"}, {}).value().schema,
              trip_schema::ride_id_2021);
    EXPECT_FALSE(detect_trip_layout({"a", "b"}, {}));
    EXPECT_FALSE(detect_trip_layout({"ride_id", "started_at"}, {}));  // no ended_at
}

TEST(parse_bad_row_limit, share_or_count) {
    EXPECT_EQ(parse_bad_row_limit("0.1%")->allowed(10'000), 10u);
    EXPECT_EQ(parse_bad_row_limit("25")->allowed(10), 25u);
    EXPECT_FALSE(parse_bad_row_limit("abc"));
    EXPECT_FALSE(parse_bad_row_limit("150%"));
    EXPECT_FALSE(parse_bad_row_limit(""));
}

TEST(split_csv_record, quotes_and_doubled_quotes) {
    EXPECT_EQ(split_csv_record(R"("a,b","c""d",e,)"), (std::vector<std::string>{"a,b", "c\"d", "e", ""}));
}

struct variant_case {
    trip_schema schema;
    int year, month;
};

class every_layout : public ::testing::TestWithParam<variant_case> {};

TEST_P(every_layout, loads_all_rows_with_the_days_and_durations_of_the_file) {
    temp_dir dir;
    const auto c = GetParam();
    const auto fx = make_trips(c.schema, 500, c.year, c.month);
    const auto csv = dir.path / "trips.csv";
    write_file(csv, fx.text);
    const auto db = dir.path / "db.duckdb";
    auto r = load_files(db, file_kind::trips, {csv});
    ASSERT_EQ(r.reports[0].outcome, load_outcome::loaded) << r.reports[0].message;
    EXPECT_EQ(r.reports[0].rows, fx.rows);
    EXPECT_EQ(r.reports[0].bad_rows, 0u);
    EXPECT_EQ(r.reports[0].schema, schema_name(c.schema));
    // Oracles: the tallies made while writing the text, and DuckDB reading the file on its own.
    EXPECT_EQ(per_day(db), fx.per_day);
    EXPECT_EQ(query_int(db, "select sum(tripduration)::BIGINT from demo.trips"), fx.duration_sum);
    EXPECT_EQ(
        static_cast<std::uint64_t>(query_int(db, "select count(*)::BIGINT from read_csv('" + csv.string() + "')")),
        fx.rows);
    EXPECT_EQ(query_int(db, "select count(*)::BIGINT from demo.trips where stoptime < starttime or starttime is null"),
              0);
    if (c.schema == trip_schema::ride_id_2021) {
        EXPECT_EQ(
            query_int(db,
                      "select count(*)::BIGINT from demo.trips where bikeid is not null or birth_year is not null or "
                      "gender is not null"),
            0);
        EXPECT_EQ(query_int(db, "select count(*)::BIGINT from demo.trips where usertype = 'Customer'"),
                  125);  // i % 4 == 0
        EXPECT_EQ(
            query_int(db, "select count(*)::BIGINT from demo.trips where usertype not in ('Customer', 'Subscriber')"),
            0);
        // Whole-number station ids stay numeric; the text ids are kept as published.
        EXPECT_EQ(query_int(db,
                            "select count(*)::BIGINT from demo.trips where start_station_code like 'JC%' and "
                            "start_station_id is null"),
                  167);
        EXPECT_EQ(query_int(db,
                            "select count(*)::BIGINT from demo.trips where start_station_code like '%.03' and "
                            "start_station_id is null"),
                  167);
        EXPECT_EQ(query_int(db, "select count(*)::BIGINT from demo.trips where start_station_id between 5000 and 5039"),
                  166);
        EXPECT_EQ(
            query_int(db,
                      "select count(*)::BIGINT from demo.trips where ride_id like 'R%' and rideable_type is not null"),
            500);
    } else {
        EXPECT_EQ(query_int(db, "select count(*)::BIGINT from demo.trips where birth_year is null"), 56);  // i % 9 == 0
        EXPECT_EQ(query_int(db, "select count(*)::BIGINT from demo.trips where usertype = 'Customer'"), 100);
        EXPECT_EQ(query_int(db, "select sum(bikeid)::BIGINT from demo.trips"), 500 * 14529 + 499 * 500 / 2);
    }
}

INSTANTIATE_TEST_SUITE_P(citibike, every_layout,
                         ::testing::Values(variant_case{trip_schema::lower_iso_2013, 2013, 7},
                                           variant_case{trip_schema::lower_us_2014, 2014, 9},
                                           variant_case{trip_schema::title_case_2016, 2016, 10},
                                           variant_case{trip_schema::lower_fractional_2018, 2018, 1},
                                           variant_case{trip_schema::ride_id_2021, 2021, 2}));

TEST(file_loader, reads_gzip_and_every_csv_of_a_zip_including_nested_ones) {
    temp_dir dir;
    const auto a = make_trips(trip_schema::lower_iso_2013, 300, 2013, 8);
    const auto b = make_trips(trip_schema::ride_id_2021, 200, 2022, 3);
    const auto c = make_trips(trip_schema::lower_us_2014, 100, 2015, 4);
    write_gz(dir.path / "a.csv.gz", a.text);
    const auto inner = dir.path / "inner.zip";
    write_zip(inner, {{"c.csv", c.text}}, false);
    std::ifstream in(inner, std::ios::binary);
    const std::string inner_bytes((std::istreambuf_iterator<char>(in)), {});
    write_zip(dir.path / "bc.zip", {{"202203-citibike-tripdata_1.csv", b.text},
                                    {"__MACOSX/._202203-citibike-tripdata_1.csv", "junk"},
                                    {"notes.txt", "not a csv"},
                                    {"2015/inner.zip", inner_bytes}});
    const auto db = dir.path / "db.duckdb";
    auto r = load_files(db, file_kind::trips, {dir.path / "a.csv.gz", dir.path / "bc.zip"});
    ASSERT_EQ(r.reports[0].outcome, load_outcome::loaded) << r.reports[0].message;
    ASSERT_EQ(r.reports[1].outcome, load_outcome::loaded) << r.reports[1].message;
    EXPECT_EQ(r.reports[0].rows, 300u);
    EXPECT_EQ(r.reports[1].rows, 300u);
    auto expected = a.per_day;
    for (const auto* f : {&b, &c})
        for (const auto& [d, n] : f->per_day) expected[d] += n;
    EXPECT_EQ(per_day(db), expected);
    EXPECT_EQ(query_int(db, "select count(*)::BIGINT from frost_loaded_files"), 2);
    // No extracted member is left behind.
    for (const auto& e : fs::directory_iterator(dir.path))
        EXPECT_EQ(e.path().filename().string().rfind(".frost-load-", 0), std::string::npos) << e.path();
}

TEST(file_loader, loading_the_same_file_again_is_a_no_op_unless_replace) {
    temp_dir dir;
    const auto fx = make_trips(trip_schema::lower_fractional_2018, 400, 2019, 5);
    const auto csv = dir.path / "201905-citibike-tripdata.csv";
    write_file(csv, fx.text);
    const auto db = dir.path / "db.duckdb";
    ASSERT_EQ(load_files(db, file_kind::trips, {csv}).reports[0].outcome, load_outcome::loaded);
    auto again = load_files(db, file_kind::trips, {csv});
    EXPECT_EQ(again.reports[0].outcome, load_outcome::skipped);
    EXPECT_EQ(query_int(db, "select count(*)::BIGINT from demo.trips"), 400);

    load_options replace;
    replace.replace = true;
    EXPECT_EQ(load_files(db, file_kind::trips, {csv}, replace).reports[0].outcome, load_outcome::loaded);
    EXPECT_EQ(query_int(db, "select count(*)::BIGINT from demo.trips"), 400);
    EXPECT_EQ(query_int(db, "select count(*)::BIGINT from frost_loaded_files"), 1);

    // Same name, other contents: refused without --replace, replaced with it.
    write_file(csv, make_trips(trip_schema::lower_fractional_2018, 250, 2019, 5).text);
    auto changed = load_files(db, file_kind::trips, {csv});
    EXPECT_EQ(changed.reports[0].outcome, load_outcome::failed);
    EXPECT_NE(changed.reports[0].message.find("different contents"), std::string::npos);
    EXPECT_EQ(query_int(db, "select count(*)::BIGINT from demo.trips"), 400);
    EXPECT_EQ(load_files(db, file_kind::trips, {csv}, replace).reports[0].outcome, load_outcome::loaded);
    EXPECT_EQ(query_int(db, "select count(*)::BIGINT from demo.trips"), 250);
}

// `frost seed` makes every column `frost load` fills (NULL for generated rows), so loading into a
// seeded database only appends: adding the columns later rewrote every row in one transaction.
TEST(file_loader, a_seeded_database_has_every_column_and_a_load_only_appends) {
    temp_dir dir;
    const auto db = dir.path / "seeded.duckdb";
    frost::data::seed_options seed;
    seed.path = db.string();
    seed.trips = 5000;
    std::atomic<bool> cancel{false};
    auto built = frost::data::build_sample_database(seed, {}, cancel);
    ASSERT_TRUE(built) << built.error().message;
    const std::string columns =
        "select count(*)::BIGINT from information_schema.columns where table_schema = 'demo' "
        "and table_name = 'trips'";
    EXPECT_EQ(query_int(db, columns), 20);
    EXPECT_EQ(query_int(db, "select count(*)::BIGINT from demo.trips where starttime is not null"), 5000);
    EXPECT_EQ(query_int(db,
                        "select count(*)::BIGINT from demo.trips where ride_id is not null or "
                        "load_file_id is not null or start_lat is not null"),
              0);

    const auto fx = make_trips(trip_schema::ride_id_2021, 300, 2021, 5);
    const auto csv = dir.path / "202105-citibike-tripdata.csv";
    write_file(csv, fx.text);
    ASSERT_EQ(load_files(db, file_kind::trips, {csv}).reports[0].outcome, load_outcome::loaded);
    EXPECT_EQ(query_int(db, columns), 20);
    EXPECT_EQ(query_int(db, "select count(*)::BIGINT from demo.trips"), 5300);
    EXPECT_EQ(query_int(db, "select count(*)::BIGINT from demo.trips where load_file_id is not null"), 300);
}

TEST(file_loader, bad_rows_are_reported_by_line_and_over_the_limit_nothing_is_kept) {
    temp_dir dir;
    auto fx = make_trips(trip_schema::lower_iso_2013, 1000, 2013, 9);
    // Spoil three rows: lines 11 (a word for a number), 501 (a missing start time) and 1001 (too few fields).
    std::vector<std::string> lines;
    std::istringstream in(fx.text);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    lines[10].replace(0, lines[10].find(','), "\"abc\"");
    const auto second = lines[500].find(',') + 1;
    lines[500].replace(second, lines[500].find(',', second) - second, "\"\"");
    lines[1000] = lines[1000].substr(0, lines[1000].rfind(','));
    std::string text;
    for (const auto& l : lines) text += l + "\n";
    const auto csv = dir.path / "bad.csv";
    write_file(csv, text);
    const auto db = dir.path / "db.duckdb";

    // 3 of 1000 is over the default 0.1 % (1 row): the file fails whole.
    auto strict = load_files(db, file_kind::trips, {csv});
    EXPECT_EQ(strict.reports[0].outcome, load_outcome::failed);
    EXPECT_EQ(strict.reports[0].bad_rows, 3u);
    EXPECT_NE(strict.reports[0].message.find("over --max-bad-rows"), std::string::npos) << strict.reports[0].message;
    // As before the file: not even the tables its transaction created are left.
    EXPECT_EQ(query_int(db, "select count(*)::BIGINT from duckdb_tables()"), 0);

    load_options lenient;
    lenient.max_bad_rows = *parse_bad_row_limit("5");
    auto ok = load_files(db, file_kind::trips, {csv}, lenient);
    ASSERT_EQ(ok.reports[0].outcome, load_outcome::loaded) << ok.reports[0].message;
    EXPECT_EQ(ok.reports[0].rows, 997u);
    ASSERT_EQ(ok.reports[0].first_bad.size(), 3u);
    EXPECT_EQ(ok.reports[0].first_bad[0].line, 11u);
    EXPECT_EQ(ok.reports[0].first_bad[1].line, 501u);
    EXPECT_EQ(ok.reports[0].first_bad[2].line, 1001u);
    EXPECT_EQ(ok.reports[0].first_bad[0].file, csv.string());
    EXPECT_EQ(query_int(db, "select count(*)::BIGINT from demo.trips"), 997);
}

TEST(file_loader, an_interrupted_file_leaves_the_database_as_before_it) {
    temp_dir dir;
    const auto db = dir.path / "db.duckdb";
    const auto first = dir.path / "first.csv";
    write_file(first, make_trips(trip_schema::lower_iso_2013, 100, 2013, 6).text);
    ASSERT_EQ(load_files(db, file_kind::trips, {first}).reports[0].outcome, load_outcome::loaded);

    // Big enough that DuckDB reports progress before it ends; the first report interrupts it.
    const auto big = dir.path / "big.csv";
    write_file(big, make_trips(trip_schema::lower_fractional_2018, 300'000, 2018, 3).text);
    std::atomic<bool> cancel{false};
    std::atomic<int> reports{0};
    auto r = load_files(
        db, file_kind::trips, {big}, {},
        [&](const load_progress&) {
            ++reports;
            cancel = true;
        },
        &cancel);
    EXPECT_EQ(r.reports[0].outcome, load_outcome::interrupted) << r.reports[0].message;
    EXPECT_GT(reports.load(), 0);
    EXPECT_EQ(query_int(db, "select count(*)::BIGINT from demo.trips"), 100);
    EXPECT_EQ(query_int(db, "select count(*)::BIGINT from frost_loaded_files"), 1);
}

TEST(file_loader, weather_in_the_seed_shape_with_derived_columns_and_days_replaced) {
    temp_dir dir;
    const auto csv = dir.path / "weather.csv";
    write_file(csv,
               "observation_date,temp_min_f,temp_max_f,temp_avg_f,tot_precip_in,state\n"
               "2013-06-01,60.1,80.3,70.2,0.10,NY\n2013-06-02,50,70,60,0,NY\n2013-06-03,41,59,50.4,1.25,NY\n");
    const auto db = dir.path / "db.duckdb";
    auto r = load_files(db, file_kind::weather, {csv});
    ASSERT_EQ(r.reports[0].outcome, load_outcome::loaded) << r.reports[0].message;
    EXPECT_EQ(r.reports[0].rows, 3u);
    auto rows = query(
        db,
        "select day_of_year::BIGINT, temp_avg_c, tot_precip_mm::DOUBLE from demo.weather order by observation_date");
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(std::get<std::int64_t>(rows[0][0]), 152);
    EXPECT_DOUBLE_EQ(std::get<double>(rows[0][1]), 21.22);
    EXPECT_DOUBLE_EQ(std::get<double>(rows[2][2]), 31.8);
    // A newer file for overlapping days replaces those days.
    const auto csv2 = dir.path / "weather-fix.csv";
    write_file(csv2, "OBSERVATION_DATE,TEMP_AVG_F\n06/03/2013,55\n06/04/2013,57\n");
    ASSERT_EQ(load_files(db, file_kind::weather, {csv2}).reports[0].outcome, load_outcome::loaded);
    EXPECT_EQ(query_int(db, "select count(*)::BIGINT from demo.weather"), 4);
    EXPECT_EQ(query_int(db, "select temp_avg_f::BIGINT from demo.weather where observation_date = '2013-06-03'"), 55);
}

TEST(zip_archive, a_damaged_member_leaves_no_partial_file) {
    temp_dir dir;
    const auto zip = dir.path / "x.zip";
    write_zip(zip, {{"a.csv", std::string(100'000, 'a')}});
    auto members = list_zip(zip.string());
    ASSERT_TRUE(members) << members.error().message;
    ASSERT_EQ(members.value().size(), 1u);
    auto m = members.value()[0];
    const std::atomic<bool> never{false};
    ASSERT_TRUE(extract_zip_member(zip.string(), m, (dir.path / "ok.csv").string(), never));
    EXPECT_EQ(fs::file_size(dir.path / "ok.csv"), 100'000u);
    m.crc32 ^= 1;
    EXPECT_FALSE(extract_zip_member(zip.string(), m, (dir.path / "bad.csv").string(), never));
    EXPECT_FALSE(fs::exists(dir.path / "bad.csv"));
    write_file(dir.path / "not.zip", "hello");
    EXPECT_FALSE(list_zip((dir.path / "not.zip").string()));
}

}  // namespace
}  // namespace frost::data
