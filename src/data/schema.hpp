// The seed's tables in the embedded database, as `frost seed` and `frost load` create them.
#pragma once

namespace frost::data {

/// `demo.trips`: the seed's nine TRIPS columns first (what `frost seed` fills), then what the
/// public files of other years carry (docs/loading.md), NULL where a row has none; and
/// `demo.weather`, the seed's WEATHER. All columns exist from the start: adding a column to a
/// table of 100M seeded trips later would write it for every row in one transaction (minutes
/// and gigabytes), while NULL columns cost nothing in DuckDB's storage.
inline constexpr const char* tables_ddl = R"sql(
    CREATE SCHEMA IF NOT EXISTS demo;
    CREATE TABLE IF NOT EXISTS demo.trips (
        tripduration BIGINT, starttime TIMESTAMP, stoptime TIMESTAMP,
        start_station_id BIGINT, end_station_id BIGINT, bikeid BIGINT,
        usertype VARCHAR, birth_year BIGINT, gender BIGINT,
        start_station_code VARCHAR, end_station_code VARCHAR,
        start_station_name VARCHAR, end_station_name VARCHAR,
        start_lat DOUBLE, start_lng DOUBLE, end_lat DOUBLE, end_lng DOUBLE,
        ride_id VARCHAR, rideable_type VARCHAR, load_file_id INTEGER);
    CREATE TABLE IF NOT EXISTS demo.weather (
        state VARCHAR, observation_date DATE, day_of_year DECIMAL(3,0),
        temp_min_f DECIMAL(5,1), temp_max_f DECIMAL(5,1), temp_avg_f DECIMAL(5,1),
        temp_min_c DOUBLE, temp_max_c DOUBLE, temp_avg_c DOUBLE,
        tot_precip_in DECIMAL(4,2), tot_snowfall_in DECIMAL(4,2), tot_snowdepth_in DECIMAL(4,1),
        tot_precip_mm DECIMAL(8,1), tot_snowfall_mm DECIMAL(8,1), tot_snowdepth_mm DECIMAL(8,1));
)sql";

/// The nine columns of `demo.trips` that `frost seed` fills, in table order.
inline constexpr const char* seeded_trip_columns[] = {"tripduration",     "starttime",      "stoptime",
                                                      "start_station_id", "end_station_id", "bikeid",
                                                      "usertype",         "birth_year",     "gender"};

}  // namespace frost::data
