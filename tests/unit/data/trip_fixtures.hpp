// Citi Bike trip files in each historical layout, written by the tests that load them, with
// the counts an independent reading of the text gives (the oracle for `frost load`).
#pragma once

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "data/citibike_files.hpp"

namespace frost::data::fixtures {

namespace fs = std::filesystem;

struct temp_dir {
    fs::path path;
    temp_dir() {
        std::string p = (fs::temp_directory_path() / "frost-load-test-XXXXXX").string();
        path = ::mkdtemp(p.data());
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

// One fixture: the CSV text and what an independent reading of it says.
struct fixture {
    std::string text;
    std::uint64_t rows = 0;
    std::map<std::string, std::uint64_t> per_day;  // YYYY-MM-DD -> trips starting that day
    std::int64_t duration_sum = 0;
};

inline std::string two(int v) {
    char b[8];
    std::snprintf(b, sizeof b, "%02d", v);
    return b;
}

// Writes `n` trips in one of the five layouts. Times walk forward from the layout's era so
// every row's day is known here without parsing the text again.
inline fixture make_trips(trip_schema schema, int n, int year, int month) {
    fixture f;
    const bool quoted = schema == trip_schema::lower_iso_2013 || schema == trip_schema::lower_fractional_2018 ||
                        schema == trip_schema::title_case_2016;
    auto q = [&](const std::string& v) { return quoted ? "\"" + v + "\"" : v; };
    std::ostringstream out;
    switch (schema) {
        case trip_schema::ride_id_2021:
            out << "ride_id,rideable_type,started_at,ended_at,start_station_name,start_station_id,end_station_name,"
                   "end_station_id,start_lat,start_lng,end_lat,end_lng,member_casual\n";
            break;
        case trip_schema::title_case_2016:
            out << "\"Trip Duration\",\"Start Time\",\"Stop Time\",\"Start Station ID\",\"Start Station Name\","
                   "\"Start Station Latitude\",\"Start Station Longitude\",\"End Station ID\",\"End Station Name\","
                   "\"End Station Latitude\",\"End Station Longitude\",\"Bike ID\",\"User Type\",\"Birth "
                   "Year\",\"Gender\"\n";
            break;
        default: {
            const char* names[] = {"tripduration",
                                   "starttime",
                                   "stoptime",
                                   "start station id",
                                   "start station name",
                                   "start station latitude",
                                   "start station longitude",
                                   "end station id",
                                   "end station name",
                                   "end station latitude",
                                   "end station longitude",
                                   "bikeid",
                                   "usertype",
                                   "birth year",
                                   "gender"};
            for (int i = 0; i < 15; ++i) out << (i ? "," : "") << q(names[i]);
            out << '\n';
        }
    }
    for (int i = 0; i < n; ++i) {
        const int day = 1 + (i * 7) % 28, hour = (i * 5) % 24, minute = (i * 13) % 60, second = (i * 17) % 60;
        const int duration = 60 + (i * 37) % 3000;
        // The stop time, computed simply: the durations stay under an hour past a start before 23:00.
        const int start_s = hour * 3600 + minute * 60 + second, stop_s = std::min(start_s + duration, 86'399);
        const std::string date = std::to_string(year) + "-" + two(month) + "-" + two(day);
        auto iso = [&](int s, const char* frac) {
            return date + " " + two(s / 3600) + ":" + two(s / 60 % 60) + ":" + two(s % 60) + frac;
        };
        auto us = [&](int s) {
            return std::to_string(month) + "/" + std::to_string(day) + "/" + std::to_string(year) + " " +
                   two(s / 3600) + ":" + two(s / 60 % 60) + ":" + two(s % 60);
        };
        ++f.rows;
        ++f.per_day[date];
        const int real_duration = stop_s - start_s;
        f.duration_sum += real_duration;
        if (schema == trip_schema::ride_id_2021) {
            const std::string sid = i % 3 == 0 ? "JC0" + std::to_string(10 + i % 50)
                                               : std::to_string(5000 + i % 40) + (i % 3 == 1 ? ".03" : "");
            out << "R" << 100000 + i << "," << (i % 2 ? "electric_bike" : "classic_bike") << "," << iso(start_s, ".000")
                << "," << iso(stop_s, ".000") << ",\"W 21 St, & 6 Ave\"," << sid << ",Pier 40,"
                << (i % 10 == 0 ? "" : "6140.05") << ",40.74,"
                << "-73.99,40.72,-74.01," << (i % 4 == 0 ? "casual" : "member") << '\n';
            continue;
        }
        std::string start, stop;
        if (schema == trip_schema::lower_us_2014)
            start = us(start_s), stop = us(stop_s);
        else if (schema == trip_schema::lower_fractional_2018)
            start = iso(start_s, ".4340"), stop = iso(stop_s, ".1230");
        else
            start = iso(start_s, ""), stop = iso(stop_s, "");
        const std::string birth =
            i % 9 == 0 ? (schema == trip_schema::lower_iso_2013 ? "\\N" : "") : std::to_string(1950 + i % 50);
        out << q(std::to_string(real_duration)) << "," << q(start) << "," << q(stop) << ","
            << q(std::to_string(72 + i % 30)) << "," << q("W 52 St & 11 Ave") << "," << q("40.76727216") << ","
            << q("-73.99392888") << "," << q(std::to_string(80 + i % 20)) << "," << q("E 17 St & Broadway") << ","
            << q("40.73704984") << "," << q("-73.99009296") << "," << q(std::to_string(14529 + i)) << ","
            << q(i % 5 == 0 ? "Customer" : "Subscriber") << "," << q(birth) << "," << q(std::to_string(i % 3)) << '\n';
    }
    f.text = out.str();
    return f;
}

inline void write_file(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary) << text;
}

inline void write_gz(const fs::path& p, const std::string& text) {
    gzFile g = gzopen(p.c_str(), "wb");
    if (!g) throw std::runtime_error("cannot write " + p.string());
    gzwrite(g, text.data(), static_cast<unsigned>(text.size()));
    gzclose(g);
}

// A minimal zip writer (stored or raw-deflated members), independent of the reader under test.
inline void write_zip(const fs::path& p, const std::vector<std::pair<std::string, std::string>>& members,
                      bool compress = true) {
    std::string out, dir;
    auto u16 = [](std::string& s, unsigned v) {
        s += static_cast<char>(v & 255), s += static_cast<char>((v >> 8) & 255);
    };
    auto u32 = [&](std::string& s, std::uint32_t v) { u16(s, v & 0xffff), u16(s, v >> 16); };
    for (const auto& [name, text] : members) {
        std::string data = text;
        if (compress) {
            z_stream z{};
            deflateInit2(&z, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
            data.resize(deflateBound(&z, text.size()));
            z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
            z.avail_in = static_cast<uInt>(text.size());
            z.next_out = reinterpret_cast<Bytef*>(data.data());
            z.avail_out = static_cast<uInt>(data.size());
            ::deflate(&z, Z_FINISH);
            data.resize(z.total_out);
            deflateEnd(&z);
        }
        const auto crc = static_cast<std::uint32_t>(
            crc32(0, reinterpret_cast<const Bytef*>(text.data()), static_cast<uInt>(text.size())));
        const auto offset = static_cast<std::uint32_t>(out.size());
        auto header = [&](std::string& s, bool central) {
            u32(s, central ? 0x02014b50 : 0x04034b50);
            if (central) u16(s, 20);
            u16(s, 20), u16(s, 0), u16(s, compress ? 8 : 0), u16(s, 0), u16(s, 0);
            u32(s, crc), u32(s, static_cast<std::uint32_t>(data.size())),
                u32(s, static_cast<std::uint32_t>(text.size()));
            u16(s, static_cast<unsigned>(name.size())), u16(s, 0);
            if (central) u16(s, 0), u16(s, 0), u16(s, 0), u32(s, 0), u32(s, offset);
            s += name;
        };
        header(out, false);
        out += data;
        header(dir, true);
    }
    const auto dir_offset = static_cast<std::uint32_t>(out.size());
    out += dir;
    u32(out, 0x06054b50), u16(out, 0), u16(out, 0), u16(out, static_cast<unsigned>(members.size()));
    u16(out, static_cast<unsigned>(members.size())), u32(out, static_cast<std::uint32_t>(dir.size())),
        u32(out, dir_offset), u16(out, 0);
    write_file(p, out);
}

}  // namespace frost::data::fixtures
