#include "data/citibike_files.hpp"

#include <openssl/evp.h>
#include <unistd.h>
#include <zlib.h>
#include "source/duckdb/c_api.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>  // mkstemps: POSIX, from glibc's <stdlib.h>, which <cstdlib> includes
#include <cstring>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <regex>
#include <thread>

#include "data/schema.hpp"
#include "data/zip_archive.hpp"
#include "source/duckdb/database.hpp"

namespace frost::data {

namespace {

namespace fs = std::filesystem;
using source::duckdb::connection;
using source::duckdb::database;
using source::duckdb::quote_identifier;
using source::duckdb::quote_literal;

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool ends_with_ci(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && lower(s.substr(s.size() - suffix.size())) == suffix;
}

model::error bad_input(std::string message) {
    return {model::error_code::bad_parameter, std::move(message), {}, {}};
}

// One column of the target table and how a file's column becomes it.
struct source_column {
    const char* canonical;  // the target field
    const char* csv_type;   // what read_csv parses the column as
    bool required;          // an empty value makes the row bad
};

// The columns of the 2013–2021 layouts, by lower-cased header name (both spellings).
const std::map<std::string, source_column, std::less<>>& classic_columns() {
    static const std::map<std::string, source_column, std::less<>> m{
        {"tripduration", {"tripduration", "BIGINT", true}},
        {"trip duration", {"tripduration", "BIGINT", true}},
        {"starttime", {"starttime", "TIMESTAMP", true}},
        {"start time", {"starttime", "TIMESTAMP", true}},
        {"stoptime", {"stoptime", "TIMESTAMP", true}},
        {"stop time", {"stoptime", "TIMESTAMP", true}},
        {"start station id", {"start_station_id", "BIGINT", false}},
        {"start station name", {"start_station_name", "VARCHAR", false}},
        {"start station latitude", {"start_lat", "DOUBLE", false}},
        {"start station longitude", {"start_lng", "DOUBLE", false}},
        {"end station id", {"end_station_id", "BIGINT", false}},
        {"end station name", {"end_station_name", "VARCHAR", false}},
        {"end station latitude", {"end_lat", "DOUBLE", false}},
        {"end station longitude", {"end_lng", "DOUBLE", false}},
        {"bikeid", {"bikeid", "BIGINT", false}},
        {"bike id", {"bikeid", "BIGINT", false}},
        {"usertype", {"usertype", "VARCHAR", false}},
        {"user type", {"usertype", "VARCHAR", false}},
        {"birth year", {"birth_year", "BIGINT", false}},
        {"gender", {"gender", "BIGINT", false}},
    };
    return m;
}

// The columns of the February 2021 layout.
const std::map<std::string, source_column, std::less<>>& ride_columns() {
    static const std::map<std::string, source_column, std::less<>> m{
        {"ride_id", {"ride_id", "VARCHAR", false}},
        {"rideable_type", {"rideable_type", "VARCHAR", false}},
        {"started_at", {"started_at", "TIMESTAMP", true}},
        {"ended_at", {"ended_at", "TIMESTAMP", true}},
        {"start_station_name", {"start_station_name", "VARCHAR", false}},
        {"start_station_id", {"start_station_id", "VARCHAR", false}},
        {"end_station_name", {"end_station_name", "VARCHAR", false}},
        {"end_station_id", {"end_station_id", "VARCHAR", false}},
        {"start_lat", {"start_lat", "DOUBLE", false}},
        {"start_lng", {"start_lng", "DOUBLE", false}},
        {"end_lat", {"end_lat", "DOUBLE", false}},
        {"end_lng", {"end_lng", "DOUBLE", false}},
        {"member_casual", {"member_casual", "VARCHAR", false}},
    };
    return m;
}

// The seed's WEATHER columns, with the type read_csv parses each as.
constexpr std::array<std::pair<const char*, const char*>, 15> weather_columns{{
    {"state", "VARCHAR"},
    {"observation_date", "DATE"},
    {"day_of_year", "INTEGER"},
    {"temp_min_f", "DOUBLE"},
    {"temp_max_f", "DOUBLE"},
    {"temp_avg_f", "DOUBLE"},
    {"temp_min_c", "DOUBLE"},
    {"temp_max_c", "DOUBLE"},
    {"temp_avg_c", "DOUBLE"},
    {"tot_precip_in", "DOUBLE"},
    {"tot_snowfall_in", "DOUBLE"},
    {"tot_snowdepth_in", "DOUBLE"},
    {"tot_precip_mm", "DOUBLE"},
    {"tot_snowfall_mm", "DOUBLE"},
    {"tot_snowdepth_mm", "DOUBLE"},
}};

// After data::tables_ddl: the columns a database seeded before they existed lacks (each ALTER
// writes the column for every row once), and the ledger of loaded files.
constexpr const char* loader_ddl = R"sql(
    ALTER TABLE demo.trips ADD COLUMN IF NOT EXISTS start_station_code VARCHAR;
    ALTER TABLE demo.trips ADD COLUMN IF NOT EXISTS end_station_code VARCHAR;
    ALTER TABLE demo.trips ADD COLUMN IF NOT EXISTS start_station_name VARCHAR;
    ALTER TABLE demo.trips ADD COLUMN IF NOT EXISTS end_station_name VARCHAR;
    ALTER TABLE demo.trips ADD COLUMN IF NOT EXISTS start_lat DOUBLE;
    ALTER TABLE demo.trips ADD COLUMN IF NOT EXISTS start_lng DOUBLE;
    ALTER TABLE demo.trips ADD COLUMN IF NOT EXISTS end_lat DOUBLE;
    ALTER TABLE demo.trips ADD COLUMN IF NOT EXISTS end_lng DOUBLE;
    ALTER TABLE demo.trips ADD COLUMN IF NOT EXISTS ride_id VARCHAR;
    ALTER TABLE demo.trips ADD COLUMN IF NOT EXISTS rideable_type VARCHAR;
    ALTER TABLE demo.trips ADD COLUMN IF NOT EXISTS load_file_id INTEGER;
    CREATE TABLE IF NOT EXISTS frost_loaded_files (
        id INTEGER, kind VARCHAR, name VARCHAR, sha256 VARCHAR, bytes BIGINT,
        rows BIGINT, bad_rows BIGINT, schema VARCHAR, loaded_at TIMESTAMP);
)sql";

// The first two records of a CSV, plain or gzip (zlib reads plain files transparently).
struct csv_head {
    std::vector<std::string> header;
    std::vector<std::string> first_row;
};

model::result<csv_head> read_head(const std::string& path) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) return bad_input(path + ": cannot open: " + std::strerror(errno));
    struct gz_closer {
        gzFile f;
        ~gz_closer() { gzclose(f); }
    } closer{f};
    auto read_line = [&](std::string& out) {
        out.clear();
        char buf[4096];
        while (gzgets(f, buf, sizeof buf)) {
            out += buf;
            if (!out.empty() && out.back() == '\n') break;
        }
        while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
        return !out.empty();
    };
    csv_head head;
    std::string line;
    if (!read_line(line)) return bad_input(path + ": empty file (no header row)");
    if (line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
    head.header = split_csv_record(line);
    if (read_line(line)) head.first_row = split_csv_record(line);
    return head;
}

std::string trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return std::string(s);
}

// SHA-256 of a file in hex; stops early (empty result) when `cancel` is set.
std::string sha256_file(const std::string& path, const std::atomic<bool>& cancel) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return {};
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
    std::vector<unsigned char> buf(1 << 20);
    std::size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) {
        if (cancel) {
            std::fclose(f);
            return {};
        }
        EVP_DigestUpdate(ctx.get(), buf.data(), n);
    }
    const bool failed = std::ferror(f) != 0;
    std::fclose(f);
    if (failed) return {};
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx.get(), md, &len);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) out += hex[md[i] >> 4], out += hex[md[i] & 15];
    return out;
}

// A file removed when this goes out of scope (an extracted zip member).
struct temp_file {
    std::string path;
    temp_file() = default;
    temp_file(const temp_file&) = delete;
    temp_file& operator=(const temp_file&) = delete;
    ~temp_file() {
        if (!path.empty()) {
            std::error_code ec;
            fs::remove(path, ec);
        }
    }
};

// Creates an empty temp file beside the database: the same disk, which has room for it.
model::result<std::unique_ptr<temp_file>> make_temp_file(const fs::path& dir, const char* suffix) {
    std::string pattern = (dir.empty() ? fs::path(".") : dir).string() + "/.frost-load-XXXXXX" + suffix;
    const int fd = mkstemps(pattern.data(), static_cast<int>(std::strlen(suffix)));
    if (fd < 0)
        return model::error{model::error_code::internal,
                            "cannot create a temporary file in " + dir.string() + ": " + std::strerror(errno),
                            {},
                            {}};
    ::close(fd);
    auto t = std::make_unique<temp_file>();
    t->path = pattern;
    return t;
}

// Reads one value of a one-row result.
std::optional<std::int64_t> single_int(source::duckdb::query_result& r) {
    auto t = r.to_table(1);
    if (!t || t.value().rows.empty() || t.value().rows[0].empty()) return std::nullopt;
    if (const auto* v = std::get_if<std::int64_t>(&t.value().rows[0][0])) return *v;
    return std::nullopt;
}

}  // namespace

std::string_view schema_name(trip_schema s) noexcept {
    switch (s) {
        case trip_schema::lower_iso_2013:
            return "lower-case, ISO times (2013-2014, 2017)";
        case trip_schema::lower_us_2014:
            return "lower-case, M/D/YYYY times (2014-2016)";
        case trip_schema::title_case_2016:
            return "title-case (Oct 2016-Mar 2017)";
        case trip_schema::lower_fractional_2018:
            return "lower-case, fractional seconds (2018-Jan 2021)";
        case trip_schema::ride_id_2021:
            return "ride_id (Feb 2021 on)";
    }
    return "unknown";
}

std::vector<std::string> split_csv_record(std::string_view line) {
    std::vector<std::string> out;
    std::string field;
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"')
                field += '"', ++i;
            else if (c == '"')
                quoted = false;
            else
                field += c;
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            out.push_back(std::move(field));
            field.clear();
        } else {
            field += c;
        }
    }
    out.push_back(std::move(field));
    return out;
}

model::result<trip_layout> detect_trip_layout(const std::vector<std::string>& header,
                                              const std::vector<std::string>& first_row) {
    trip_layout out;
    out.header = header;
    std::vector<std::string> names;
    names.reserve(header.size());
    for (const auto& h : header) names.push_back(lower(trim(h)));
    auto has = [&](std::string_view n) { return std::find(names.begin(), names.end(), n) != names.end(); };
    auto index_of = [&](std::initializer_list<std::string_view> alts) -> std::optional<std::size_t> {
        for (auto a : alts)
            if (auto it = std::find(names.begin(), names.end(), a); it != names.end())
                return static_cast<std::size_t>(it - names.begin());
        return std::nullopt;
    };

    std::optional<std::size_t> start_col;
    bool ride = false;
    if (has("ride_id") || has("started_at")) {
        for (const char* need : {"started_at", "ended_at"})
            if (!has(need)) return bad_input(std::string("a ride_id-style trip file needs a \"") + need + "\" column");
        ride = true;
        start_col = index_of({"started_at"});
    } else {
        const auto duration = index_of({"tripduration", "trip duration"});
        start_col = index_of({"starttime", "start time"});
        const auto stop = index_of({"stoptime", "stop time"});
        if (!duration || !start_col || !stop) {
            std::string seen;
            for (std::size_t i = 0; i < header.size() && i < 6; ++i) seen += (i ? ", " : "") + header[i];
            return bad_input("not a Citi Bike trip file: the header (" + seen + (header.size() > 6 ? ", ..." : "") +
                             ") has neither tripduration/starttime/stoptime nor ride_id/started_at/ended_at");
        }
    }

    // The timestamp spelling, from the first row's start time.
    bool fractional = false;
    if (start_col && *start_col < first_row.size()) {
        const std::string t = trim(first_row[*start_col]);
        static const std::regex us_seconds(R"(\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2})");
        static const std::regex us_minutes(R"(\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2})");
        static const std::regex iso_fraction(R"(\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}:\d{2}\.\d+)");
        if (std::regex_match(t, us_seconds))
            out.timestamp_format = "%m/%d/%Y %H:%M:%S";
        else if (std::regex_match(t, us_minutes))
            out.timestamp_format = "%m/%d/%Y %H:%M";
        else
            fractional = std::regex_match(t, iso_fraction);
    }

    if (ride) {
        out.schema = trip_schema::ride_id_2021;
    } else {
        const bool title = std::any_of(header.begin(), header.end(), [](const std::string& h) {
            return std::any_of(h.begin(), h.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)); });
        });
        if (title)
            out.schema = trip_schema::title_case_2016;
        else if (!out.timestamp_format.empty())
            out.schema = trip_schema::lower_us_2014;
        else if (fractional)
            out.schema = trip_schema::lower_fractional_2018;
        else
            out.schema = trip_schema::lower_iso_2013;
    }
    return out;
}

std::uint64_t bad_row_limit::allowed(std::uint64_t total_rows) const noexcept {
    if (count) return *count;
    return static_cast<std::uint64_t>(static_cast<double>(total_rows) * fraction);
}

std::optional<bad_row_limit> parse_bad_row_limit(std::string_view text) {
    bad_row_limit out;
    const bool percent = !text.empty() && text.back() == '%';
    if (percent) text.remove_suffix(1);
    if (text.empty()) return std::nullopt;
    if (percent) {
        double v = 0;
        auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc{} || p != text.data() + text.size() || v < 0 || v > 100) return std::nullopt;
        out.fraction = v / 100;
        return out;
    }
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || p != text.data() + text.size()) return std::nullopt;
    out.count = n;
    return out;
}

struct file_loader::impl {
    load_options options;
    std::unique_ptr<database> db;
    std::unique_ptr<connection> con;
    unsigned scan_seq = 0;

    // One CSV to read: a file on disk (maybe a temporary copy of a zip member) and its label.
    struct csv_input {
        std::string path;   // what DuckDB reads
        std::string label;  // what messages name
        std::uint64_t bytes = 0;
    };

    // Runs one statement, reporting DuckDB's progress and interrupting it when `cancel` is set.
    model::result<source::duckdb::query_result> run_watched(const std::string& sql, const csv_input& in,
                                                            std::uint64_t rows_before, double bytes_per_row,
                                                            const load_progress_fn& progress,
                                                            const std::atomic<bool>& cancel) {
        std::mutex m;
        std::condition_variable cv;
        bool finished = false;
        std::thread watcher([&] {
            std::unique_lock lock(m);
            while (!cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return finished; })) {
                if (cancel) con->interrupt();
                if (!progress) continue;
                const auto p = duckdb_query_progress(con->handle());
                if (p.percentage < 0) continue;
                load_progress lp;
                lp.file = in.label;
                lp.bytes_total = in.bytes;
                lp.bytes_done =
                    static_cast<std::uint64_t>(std::min(100.0, p.percentage) / 100.0 * static_cast<double>(in.bytes));
                lp.rows = rows_before + static_cast<std::uint64_t>(static_cast<double>(lp.bytes_done) / bytes_per_row);
                progress(lp);
            }
        });
        auto r = con->execute(sql);
        {
            std::lock_guard lock(m);
            finished = true;
        }
        cv.notify_all();
        watcher.join();
        return r;
    }

    // The INSERT that maps one trip file's layout onto demo.trips.
    static std::string trip_insert_sql(const csv_input& in, const trip_layout& layout, unsigned scan,
                                       std::uint32_t file_id) {
        const bool ride = layout.schema == trip_schema::ride_id_2021;
        const auto& known = ride ? ride_columns() : classic_columns();
        std::string columns, required;
        std::map<std::string, std::string> present;  // canonical -> the file's column, quoted
        for (const auto& h : layout.header) {
            const auto it = known.find(lower(trim(h)));
            columns += (columns.empty() ? "" : ", ") + quote_literal(h) + ": " +
                       quote_literal(it == known.end() ? "VARCHAR" : it->second.csv_type);
            if (it == known.end()) continue;
            present.emplace(it->second.canonical, quote_identifier(h));
            if (it->second.required) required += (required.empty() ? "" : ", ") + quote_literal(h);
        }
        auto col = [&](const char* canonical) -> std::string {
            auto it = present.find(canonical);
            return it == present.end() ? "NULL" : it->second;
        };
        std::string select;
        auto add = [&](const std::string& expr, const char* target) {
            select += (select.empty() ? "" : ", ") + expr + " AS " + target;
        };
        if (ride) {
            const auto start = col("started_at"), end = col("ended_at");
            add("(epoch_us(" + end + ") - epoch_us(" + start + ")) // 1000000", "tripduration");
            add(start, "starttime");
            add(end, "stoptime");
            for (const char* side : {"start", "end"}) {
                const std::string id = col((std::string(side) + "_station_id").c_str());
                // Station ids became text ("5329.03", "JC013"): numeric only when they are whole numbers.
                add("TRY_CAST(CASE WHEN regexp_full_match(" + id + ", '[0-9]{1,18}') THEN " + id + " END AS BIGINT)",
                    (std::string(side) + "_station_id").c_str());
                add(id, (std::string(side) + "_station_code").c_str());
            }
            const auto mc = col("member_casual");
            add("CASE lower(" + mc + ") WHEN 'member' THEN 'Subscriber' WHEN 'casual' THEN 'Customer' ELSE " + mc +
                    " END",
                "usertype");
            for (const char* c : {"ride_id", "rideable_type"}) add(col(c), c);
        } else {
            for (const char* c : {"tripduration", "starttime", "stoptime", "start_station_id", "end_station_id",
                                  "bikeid", "usertype", "birth_year", "gender"})
                add(col(c), c);
        }
        for (const char* c : {"start_station_name", "end_station_name", "start_lat", "start_lng", "end_lat", "end_lng"})
            add(col(c), c);
        add(std::to_string(file_id), "load_file_id");

        std::string read =
            "read_csv(" + quote_literal(in.path) + ", header = true, delim = ',', quote = '\"', escape = '\"', " +
            "columns = {" + columns + "}, nullstr = ['', '\\N', 'NULL'], " +
            (required.empty() ? "" : "force_not_null = [" + required + "], ") +
            (layout.timestamp_format.empty() ? ""
                                             : "timestampformat = " + quote_literal(layout.timestamp_format) + ", ") +
            "store_rejects = true, rejects_table = 'frost_rejects_" + std::to_string(scan) +
            "', rejects_scan = 'frost_rejects_scan_" + std::to_string(scan) + "')";
        return "INSERT INTO demo.trips BY NAME SELECT " + select + " FROM " + read;
    }

    // The statements that upsert one weather file into demo.weather (a day's row is replaced).
    static model::result<std::string> weather_sql(const csv_input& in, const csv_head& head, unsigned scan) {
        std::map<std::string, std::string> present;  // seed column -> the file's column, quoted
        std::string columns, date_column;
        for (const auto& h : head.header) {
            const std::string name = lower(trim(h));
            const char* type = "VARCHAR";
            for (const auto& [c, t] : weather_columns)
                if (name == c) type = t, present.emplace(c, quote_identifier(h));
            if (name == "observation_date") date_column = h;
            columns += (columns.empty() ? "" : ", ") + quote_literal(h) + ": " + quote_literal(type);
        }
        if (!present.contains("observation_date"))
            return bad_input(in.label + ": a weather file needs an observation_date column (docs/loading.md)");
        if (!present.contains("temp_avg_f") && !present.contains("temp_avg_c"))
            return bad_input(in.label + ": a weather file needs temp_avg_f or temp_avg_c (docs/loading.md)");
        std::string date_format;
        if (auto it = std::find_if(head.header.begin(), head.header.end(),
                                   [](const std::string& h) { return lower(trim(h)) == "observation_date"; });
            it != head.header.end()) {
            const auto i = static_cast<std::size_t>(it - head.header.begin());
            if (i < head.first_row.size() && head.first_row[i].find('/') != std::string::npos) date_format = "%m/%d/%Y";
        }
        auto col = [&](const std::string& c) { return present.contains(c) ? present[c] : std::string("NULL"); };
        // A column the file lacks is derived from its twin in the other unit where there is one.
        auto f_or_c = [&](const std::string& stem) {
            const std::string f = "temp_" + stem + "_f", c = "temp_" + stem + "_c";
            std::string fx = present.contains(f) ? present[f] : "round(" + col(c) + " * 9 / 5 + 32, 1)";
            std::string cx = present.contains(c) ? present[c] : "round((" + col(f) + " - 32) * 5 / 9, 2)";
            return fx + " AS " + f + ", " + cx + " AS " + c;
        };
        auto in_or_mm = [&](const std::string& stem, int in_digits) {
            const std::string i = "tot_" + stem + "_in", mm = "tot_" + stem + "_mm";
            std::string ix =
                present.contains(i) ? present[i] : "round(" + col(mm) + " / 25.4, " + std::to_string(in_digits) + ")";
            std::string mx = present.contains(mm) ? present[mm] : "round(" + col(i) + " * 25.4, 1)";
            return ix + " AS " + i + ", " + mx + " AS " + mm;
        };
        const std::string date = col("observation_date");
        const std::string select =
            col("state") + " AS state, " + date + " AS observation_date, " +
            (present.contains("day_of_year") ? present["day_of_year"] : "dayofyear(" + date + ")") +
            " AS day_of_year, " + f_or_c("min") + ", " + f_or_c("max") + ", " + f_or_c("avg") + ", " +
            in_or_mm("precip", 2) + ", " + in_or_mm("snowfall", 2) + ", " + in_or_mm("snowdepth", 1);
        const std::string read = "read_csv(" + quote_literal(in.path) +
                                 ", header = true, delim = ',', quote = '\"', escape = '\"', " + "columns = {" +
                                 columns + "}, nullstr = ['', '\\N', 'NULL', 'NA'], force_not_null = [" +
                                 quote_literal(date_column) + "], " +
                                 (date_format.empty() ? "" : "dateformat = " + quote_literal(date_format) + ", ") +
                                 "store_rejects = true, rejects_table = 'frost_rejects_" + std::to_string(scan) +
                                 "', rejects_scan = 'frost_rejects_scan_" + std::to_string(scan) + "')";
        return "CREATE OR REPLACE TEMP TABLE frost_weather_stage AS SELECT " + select + " FROM " + read +
               "; DELETE FROM demo.weather WHERE observation_date IN (SELECT observation_date FROM "
               "frost_weather_stage)" +
               "; INSERT INTO demo.weather BY NAME SELECT * FROM frost_weather_stage";
    }

    // Counts the bad rows DuckDB set aside for one scan and keeps the first ones for the report.
    model::result<std::uint64_t> collect_rejects(unsigned scan, const std::string& label,
                                                 std::vector<bad_row>& first_bad) {
        const std::string table = "frost_rejects_" + std::to_string(scan);
        auto counted = con->execute("SELECT count(DISTINCT line)::BIGINT FROM " + table);
        if (!counted) return std::move(counted).error();
        const auto n = single_int(counted.value()).value_or(0);
        if (n > 0 && first_bad.size() < 10) {
            auto rows = con->execute("SELECT line::BIGINT, arg_min(error_message, column_idx) FROM " + table +
                                     " GROUP BY line ORDER BY line LIMIT " + std::to_string(10 - first_bad.size()));
            if (!rows) return std::move(rows).error();
            auto t = rows.value().to_table(10);
            if (!t) return std::move(t).error();
            for (const auto& r : t.value().rows) {
                bad_row b;
                b.file = label;
                if (const auto* l = std::get_if<std::int64_t>(&r[0])) b.line = static_cast<std::uint64_t>(*l);
                if (const auto* m = std::get_if<std::string>(&r[1])) b.message = *m;
                first_bad.push_back(std::move(b));
            }
        }
        (void)con->execute("DROP TABLE IF EXISTS " + table + "; DROP TABLE IF EXISTS frost_rejects_scan_" +
                           std::to_string(scan));
        return static_cast<std::uint64_t>(n);
    }

    // Expands a path into the CSVs it holds: itself, or every CSV of a zip (nested zips too),
    // each extracted to a temporary file that `temps` owns.
    model::result<model::done> expand(const std::string& path, const std::string& label, std::vector<csv_input>& out,
                                      std::vector<std::unique_ptr<temp_file>>& temps, const std::atomic<bool>& cancel,
                                      int depth) {
        if (!ends_with_ci(path, ".zip")) {
            std::error_code ec;
            out.push_back({path, label, static_cast<std::uint64_t>(fs::file_size(path, ec))});
            return model::done{};
        }
        if (depth > 2) return bad_input(label + ": zip archives nested too deep");
        auto members = list_zip(path);
        if (!members) return std::move(members).error();
        const fs::path dir = fs::path(options.database).parent_path();
        const std::size_t before = out.size();
        for (const auto& m : members.value()) {
            const std::string base = fs::path(m.name).filename().string();
            // macOS resource forks (`__MACOSX/._x.csv`) ride along in some of the public archives.
            if (m.name.rfind("__MACOSX/", 0) == 0 || base.rfind("._", 0) == 0 || m.name.ends_with('/')) continue;
            const bool csv = ends_with_ci(base, ".csv"), zip = ends_with_ci(base, ".zip");
            if (!csv && !zip) continue;
            auto tmp = make_temp_file(dir, zip ? ".zip" : ".csv");
            if (!tmp) return std::move(tmp).error();
            if (auto x = extract_zip_member(path, m, tmp.value()->path, cancel); !x) return std::move(x).error();
            const std::string member_label = label + ":" + m.name;
            temps.push_back(std::move(tmp).value());
            if (auto r = expand(temps.back()->path, member_label, out, temps, cancel, depth + 1); !r) return r;
        }
        if (out.size() == before && depth == 0) return bad_input(label + ": the zip archive holds no CSV file");
        return model::done{};
    }
};

file_loader::file_loader(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
file_loader::~file_loader() = default;

model::result<std::unique_ptr<file_loader>> file_loader::open(const load_options& options) {
    auto p = std::make_unique<impl>();
    p->options = options;
    const fs::path path(options.database);
    std::error_code ec;
    if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
    std::map<std::string, std::string> settings;
    if (!options.memory_limit.empty()) settings["memory_limit"] = options.memory_limit;
    auto db = database::open(options.database, settings);
    if (!db) {
        auto e = std::move(db).error();
        if (e.message.find("lock") != std::string::npos)
            e.hint = "another process (a running frost serve?) has the database open; stop it while loading";
        return e;
    }
    p->db = std::move(db).value();
    auto con = connection::open(*p->db);
    if (!con) return std::move(con).error();
    p->con = std::move(con).value();
    // Progress is tracked only when DuckDB's progress bar is on; nothing is printed.
    if (auto r = p->con->execute(
            "SET enable_progress_bar = true; SET enable_progress_bar_print = false; SET progress_bar_time = 0");
        !r)
        return std::move(r).error();
    return std::unique_ptr<file_loader>(new file_loader(std::move(p)));
}

model::result<model::done> file_loader::checkpoint() {
    if (auto r = impl_->con->execute("CHECKPOINT"); !r) return std::move(r).error();
    return model::done{};
}

file_report file_loader::load(file_kind kind, const std::string& path, const load_progress_fn& progress,
                              const std::atomic<bool>& cancel) {
    auto& I = *impl_;
    file_report report;
    report.path = path;
    const std::string name = fs::path(path).filename().string();
    const std::string kind_name = kind == file_kind::trips ? "trips" : "weather";
    std::error_code ec;
    report.bytes = fs::file_size(path, ec);
    if (ec) {
        report.message = path + ": " + ec.message();
        return report;
    }
    if (!ends_with_ci(name, ".csv") && !ends_with_ci(name, ".csv.gz") && !ends_with_ci(name, ".zip")) {
        report.message = path + ": expected a .csv, .csv.gz or .zip file";
        return report;
    }
    auto fail = [&](const model::error& e) {
        (void)I.con->execute("ROLLBACK");
        report.outcome = cancel ? load_outcome::interrupted : load_outcome::failed;
        report.message = cancel ? "interrupted; nothing of this file was kept" : e.message;
        report.rows = 0;
        return report;
    };

    // The hash reads the whole file; it runs beside the load and is awaited before the commit.
    std::atomic<bool> stop_hash{false};
    auto hashing = std::async(std::launch::async, [&] { return sha256_file(path, stop_hash); });
    struct hash_stopper {
        std::atomic<bool>& stop;
        std::future<std::string>& f;
        ~hash_stopper() {
            stop = true;
            if (f.valid()) f.wait();
        }
    } stopper{stop_hash, hashing};
    std::string digest;
    auto await_hash = [&]() -> model::result<model::done> {
        if (digest.empty()) digest = hashing.get();
        if (digest.empty())
            return model::error{model::error_code::internal, path + ": cannot read the file to hash it", {}, {}};
        return model::done{};
    };

    if (auto r = I.con->execute("BEGIN TRANSACTION"); !r) return fail(r.error());
    if (auto r = I.con->execute(tables_ddl); !r) return fail(r.error());
    if (auto r = I.con->execute(loader_ddl); !r) return fail(r.error());
    auto previous =
        I.con->execute("SELECT id::BIGINT, sha256 FROM frost_loaded_files WHERE kind = " + quote_literal(kind_name) +
                       " AND name = " + quote_literal(name));
    if (!previous) return fail(previous.error());
    auto prev_table = previous.value().to_table(10);
    if (!prev_table) return fail(prev_table.error());
    if (!prev_table.value().rows.empty()) {
        const auto& row = prev_table.value().rows[0];
        const std::int64_t old_id = std::get<std::int64_t>(row[0]);
        const std::string old_hash = std::get_if<std::string>(&row[1]) ? std::get<std::string>(row[1]) : "";
        if (auto h = await_hash(); !h) return fail(h.error());
        if (!I.options.replace) {
            (void)I.con->execute("ROLLBACK");
            if (old_hash == digest) {
                report.outcome = load_outcome::skipped;
                report.message = "already loaded (same name and SHA-256); --replace loads it again";
            } else {
                report.outcome = load_outcome::failed;
                report.message = name + " was loaded before with different contents; --replace replaces its rows";
            }
            return report;
        }
        const std::string id = std::to_string(old_id);
        if (kind == file_kind::trips)
            if (auto r = I.con->execute("DELETE FROM demo.trips WHERE load_file_id = " + id); !r)
                return fail(r.error());
        if (auto r = I.con->execute("DELETE FROM frost_loaded_files WHERE id = " + id); !r) return fail(r.error());
    }
    auto next_id = I.con->execute("SELECT (coalesce(max(id), 0) + 1)::BIGINT FROM frost_loaded_files");
    if (!next_id) return fail(next_id.error());
    const auto file_id = static_cast<std::uint32_t>(single_int(next_id.value()).value_or(1));

    std::vector<impl::csv_input> inputs;
    std::vector<std::unique_ptr<temp_file>> temps;
    if (auto r = I.expand(path, path, inputs, temps, cancel, 0); !r) return fail(r.error());

    std::vector<std::string> schemas;
    for (const auto& in : inputs) {
        if (cancel) return fail({model::error_code::internal, "interrupted", {}, {}});
        auto head = read_head(in.path);
        if (!head) {
            auto e = std::move(head).error();
            e.message = in.label + ": " + e.message.substr(e.message.find(": ") + 2);
            return fail(e);
        }
        const unsigned scan = ++I.scan_seq;
        std::string sql;
        std::string_view schema = "weather";
        if (kind == file_kind::trips) {
            auto layout = detect_trip_layout(head.value().header, head.value().first_row);
            if (!layout) return fail({layout.error().code, in.label + ": " + layout.error().message, {}, {}});
            schema = schema_name(layout.value().schema);
            sql = impl::trip_insert_sql(in, layout.value(), scan, file_id);
        } else {
            auto w = impl::weather_sql(in, head.value(), scan);
            if (!w) return fail(w.error());
            sql = std::move(w).value();
        }
        if (std::find(schemas.begin(), schemas.end(), schema) == schemas.end()) schemas.emplace_back(schema);
        // A rough size per row turns DuckDB's byte progress into rows until the exact count arrives.
        std::size_t row_bytes = 1;
        for (const auto& f : head.value().first_row) row_bytes += f.size() + 3;
        const bool gz = ends_with_ci(in.path, ".gz");
        auto r =
            I.run_watched(sql, in, report.rows, static_cast<double>(row_bytes) / (gz ? 6.0 : 1.0), progress, cancel);
        if (!r) {
            (void)I.con->execute("DROP TABLE IF EXISTS frost_rejects_" + std::to_string(scan));
            return fail({r.error().code, in.label + ": " + r.error().message, {}, {}});
        }
        std::uint64_t inserted = 0;
        if (kind == file_kind::trips) {
            inserted = static_cast<std::uint64_t>(single_int(r.value()).value_or(0));
        } else {
            auto n = I.con->execute("SELECT count(*)::BIGINT FROM frost_weather_stage");
            if (!n) return fail(n.error());
            inserted = static_cast<std::uint64_t>(single_int(n.value()).value_or(0));
            (void)I.con->execute("DROP TABLE IF EXISTS frost_weather_stage");
        }
        auto bad = I.collect_rejects(scan, in.label, report.first_bad);
        if (!bad) return fail(bad.error());
        report.rows += inserted;
        report.bad_rows += bad.value();
        if (progress) progress({in.label, in.bytes, in.bytes, report.rows});
    }
    for (const auto& s : schemas) report.schema += (report.schema.empty() ? "" : "; ") + s;

    const std::uint64_t total = report.rows + report.bad_rows;
    if (report.bad_rows > I.options.max_bad_rows.allowed(total)) {
        return fail({model::error_code::bad_parameter,
                     std::to_string(report.bad_rows) + " bad rows of " + std::to_string(total) +
                         " is over --max-bad-rows (" + std::to_string(I.options.max_bad_rows.allowed(total)) +
                         " allowed); nothing of this file was kept",
                     {},
                     {}});
    }
    if (auto h = await_hash(); !h) return fail(h.error());
    if (cancel) return fail({model::error_code::internal, "interrupted", {}, {}});
    const std::string ledger = "INSERT INTO frost_loaded_files VALUES (" + std::to_string(file_id) + ", " +
                               quote_literal(kind_name) + ", " + quote_literal(name) + ", " + quote_literal(digest) +
                               ", " + std::to_string(report.bytes) + ", " + std::to_string(report.rows) + ", " +
                               std::to_string(report.bad_rows) + ", " + quote_literal(report.schema) +
                               ", make_timestamp(epoch_us(now())))";  // UTC, whatever the TimeZone
    if (auto r = I.con->execute(ledger); !r) return fail(r.error());
    if (auto r = I.con->execute("COMMIT"); !r) return fail(r.error());
    report.outcome = load_outcome::loaded;
    return report;
}

}  // namespace frost::data
