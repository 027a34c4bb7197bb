#include "data/generator.hpp"

#include "source/duckdb/c_api.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <numbers>
#include <vector>

#include "data/schema.hpp"
#include "source/duckdb/database.hpp"

namespace frost::data {

namespace {

namespace fs = std::filesystem;
using source::duckdb::connection;
using source::duckdb::database;

// splitmix64: tiny, fast, and the same numbers on every platform (std distributions are not).
struct prng {
    std::uint64_t state;
    std::uint64_t next() noexcept {
        std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
    double normal() noexcept {                                                           // Box-Muller
        const double u1 = std::max(uniform(), 1e-300), u2 = uniform();
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
    }
    std::uint64_t below(std::uint64_t n) noexcept { return next() % n; }
};

struct day_weather {
    double avg_f, min_f, max_f, precip_in, snow_in, snowdepth_in;
};

constexpr int day_count = last_day.days - first_day.days + 1;

std::vector<day_weather> make_weather(std::uint64_t seed) {
    prng rng{seed * 7919 + 1};
    std::vector<day_weather> out(day_count);
    double depth = 0;
    for (int i = 0; i < day_count; ++i) {
        const auto civil = model::civil_from_days(first_day.days + i);
        const int doy = first_day.days + i - model::days_from_civil(civil.year, 1, 1) + 1;
        // New York: about 33 F in late January, 78 F in late July.
        const double seasonal = 55.5 + 22.5 * std::cos(2 * std::numbers::pi * (doy - 202) / 365.25);
        auto& w = out[i];
        w.avg_f = std::round((seasonal + rng.normal() * 5.5) * 10) / 10;
        w.min_f = std::round((w.avg_f - 4 - rng.uniform() * 8) * 10) / 10;
        w.max_f = std::round((w.avg_f + 4 + rng.uniform() * 8) * 10) / 10;
        const bool wet = rng.uniform() < 0.32;
        w.precip_in = wet ? std::min(5.0, std::round(-std::log(std::max(rng.uniform(), 1e-9)) * 0.35 * 100) / 100) : 0;
        w.snow_in = (wet && w.avg_f < 34) ? std::min(30.0, std::round(w.precip_in * 10 * 100) / 100) : 0;
        depth = std::max(0.0, depth * (w.avg_f < 32 ? 0.9 : 0.5) + w.snow_in);
        w.snowdepth_in = std::round(depth * 10) / 10;
    }
    return out;
}

// How busy a day is, relative to a summer weekday of 2019.
double day_weight(int index, const day_weather& w) {
    const auto civil = model::civil_from_days(first_day.days + index);
    static constexpr double year_growth[] = {0.52, 0.55, 0.64, 0.74, 0.84, 0.92, 1.0, 0.62};  // 2013..2020
    double weight = year_growth[std::clamp(civil.year - 2013, 0, 7)];
    const int weekday = ((first_day.days + index) % 7 + 11) % 7;  // 0 = Sunday (1970-01-01 was a Thursday)
    if (weekday == 0 || weekday == 6) weight *= 0.78;
    // Temperature: few rides below freezing, most between 60 and 85 F, fewer in great heat.
    const double t = w.avg_f;
    weight *= t < 25 ? 0.25 : t < 85 ? 0.25 + 0.75 * (t - 25) / 60 : 1.0 - (t - 85) * 0.02;
    if (w.precip_in > 0.05) weight *= std::max(0.35, 1.0 - w.precip_in * 0.9);
    if (w.snowdepth_in > 2) weight *= 0.55;
    return std::max(weight, 0.02);
}

constexpr double hour_weights_weekday[24] = {0.6, 0.35, 0.2, 0.15, 0.2, 0.8, 2.5, 5.5, 8.5, 5.5, 3.8, 4.0,
                                             4.6, 4.7,  4.6, 5.2,  6.8, 9.2, 8.6, 6.0, 4.2, 3.1, 2.2, 1.3};
constexpr double hour_weights_weekend[24] = {1.3, 1.0, 0.7, 0.4, 0.3, 0.4, 0.7, 1.3, 2.4, 3.8, 5.2, 6.4,
                                             7.0, 7.4, 7.5, 7.4, 7.1, 6.6, 5.6, 4.4, 3.4, 2.7, 2.0, 1.6};

constexpr int station_count = 900;

}  // namespace

std::vector<std::uint32_t> trips_per_day(std::uint64_t total, std::uint64_t seed) {
    const auto weather = make_weather(seed);
    std::vector<double> cumulative(day_count);
    double sum = 0;
    for (int i = 0; i < day_count; ++i) cumulative[i] = (sum += day_weight(i, weather[i]));
    std::vector<std::uint32_t> out(day_count);
    std::uint64_t assigned = 0;
    for (int i = 0; i < day_count; ++i) {
        // Rounding the running total keeps the sum exact.
        const auto upto = static_cast<std::uint64_t>(std::llround(cumulative[i] / sum * static_cast<double>(total)));
        out[i] = static_cast<std::uint32_t>(upto - assigned);
        assigned = upto;
    }
    return out;
}

model::result<model::done> build_sample_database(const seed_options& options, const progress_fn& progress,
                                                 const std::atomic<bool>& cancel) {
    if (options.trips > 2'000'000'000ULL)
        return model::error{model::error_code::bad_parameter, "--trips: at most 2 billion", {}, {}};
    const fs::path final_path = options.path;
    if (final_path.has_parent_path()) fs::create_directories(final_path.parent_path());
    const fs::path tmp_path = final_path.string() + ".building";
    std::error_code ec;
    fs::remove(tmp_path, ec);
    fs::remove(tmp_path.string() + ".wal", ec);

    auto fail = [&](model::error e) -> model::result<model::done> {
        fs::remove(tmp_path, ec);
        fs::remove(tmp_path.string() + ".wal", ec);
        return e;
    };

    {
        std::map<std::string, std::string> settings{{"memory_limit", options.memory_limit},
                                                    {"preserve_insertion_order", "true"}};
        if (options.threads) settings["threads"] = std::to_string(options.threads);
        auto db = database::open(tmp_path.string(), settings);
        if (!db) return fail(std::move(db).error());
        auto con = connection::open(*db.value());
        if (!con) return fail(std::move(con).error());
        auto& c = *con.value();

        if (auto r = c.execute(tables_ddl); !r) return fail(std::move(r).error());

        const auto weather = make_weather(options.seed);
        std::string insert = "INSERT INTO demo.weather VALUES ";
        char row[512];
        for (int i = 0; i < day_count; ++i) {
            const auto& w = weather[i];
            const auto civil = model::civil_from_days(first_day.days + i);
            const int doy = first_day.days + i - model::days_from_civil(civil.year, 1, 1) + 1;
            auto c_of = [](double f) { return std::round((f - 32) * 5 / 9 * 100) / 100; };
            std::snprintf(row, sizeof row,
                          "%s('NY','%s',%d,%.1f,%.1f,%.1f,%.2f,%.2f,%.2f,%.2f,%.2f,%.1f,%.1f,%.1f,%.1f)", i ? "," : "",
                          model::format_date(model::date{first_day.days + i}).c_str(), doy, w.min_f, w.max_f, w.avg_f,
                          c_of(w.min_f), c_of(w.max_f), c_of(w.avg_f), w.precip_in, w.snow_in, w.snowdepth_in,
                          w.precip_in * 25.4, w.snow_in * 25.4, w.snowdepth_in * 25.4);
            insert += row;
        }
        if (auto r = c.execute(insert); !r) return fail(std::move(r).error());

        duckdb_appender appender = nullptr;
        if (duckdb_appender_create(c.handle(), "demo", "trips", &appender) == DuckDBError) {
            std::string msg = appender ? duckdb_appender_error(appender) : "cannot create appender";
            duckdb_appender_destroy(&appender);
            return fail({model::error_code::internal, msg, {}, {}});
        }
        struct appender_guard {
            duckdb_appender& a;
            ~appender_guard() { duckdb_appender_destroy(&a); }
        } guard{appender};
        // The nine seeded columns only; the others take their default, NULL.
        for (const char* column : seeded_trip_columns)
            if (duckdb_appender_add_column(appender, column) == DuckDBError)
                return fail({model::error_code::internal, duckdb_appender_error(appender), {}, {}});

        duckdb_logical_type types[9];
        const duckdb_type ids[9] = {DUCKDB_TYPE_BIGINT,  DUCKDB_TYPE_TIMESTAMP, DUCKDB_TYPE_TIMESTAMP,
                                    DUCKDB_TYPE_BIGINT,  DUCKDB_TYPE_BIGINT,    DUCKDB_TYPE_BIGINT,
                                    DUCKDB_TYPE_VARCHAR, DUCKDB_TYPE_BIGINT,    DUCKDB_TYPE_BIGINT};
        for (int i = 0; i < 9; ++i) types[i] = duckdb_create_logical_type(ids[i]);
        duckdb_data_chunk chunk = duckdb_create_data_chunk(types, 9);
        for (auto& t : types) duckdb_destroy_logical_type(&t);
        struct chunk_guard {
            duckdb_data_chunk& c;
            ~chunk_guard() { duckdb_destroy_data_chunk(&c); }
        } chunk_owner{chunk};
        const idx_t capacity = duckdb_vector_size();

        // Station popularity: a few busy hubs, a long tail.
        std::vector<double> station_cdf(station_count);
        double total_pop = 0;
        for (int s = 0; s < station_count; ++s) station_cdf[s] = (total_pop += 1.0 / std::pow(s + 8.0, 0.9));
        for (auto& v : station_cdf) v /= total_pop;
        auto pick_station = [&](prng& r) {
            const auto it = std::lower_bound(station_cdf.begin(), station_cdf.end(), r.uniform());
            return 72 + static_cast<std::int64_t>(it - station_cdf.begin()) * 4;
        };

        const auto per_day = trips_per_day(options.trips, options.seed);
        std::uint64_t written = 0;
        std::vector<std::int64_t> starts;
        idx_t filled = 0;
        auto flush = [&]() -> bool {
            if (filled == 0) return true;
            duckdb_data_chunk_set_size(chunk, filled);
            const bool ok = duckdb_append_data_chunk(appender, chunk) == DuckDBSuccess;
            duckdb_data_chunk_reset(chunk);
            filled = 0;
            return ok;
        };
        std::int64_t* col[9]{};
        duckdb_vector vecs[9]{};
        auto bind_vectors = [&] {
            for (int i = 0; i < 9; ++i) {
                vecs[i] = duckdb_data_chunk_get_vector(chunk, i);
                col[i] = static_cast<std::int64_t*>(duckdb_vector_get_data(vecs[i]));
            }
            duckdb_vector_ensure_validity_writable(vecs[7]);
        };
        bind_vectors();

        for (int d = 0; d < day_count; ++d) {
            if (cancel) return fail({model::error_code::internal, "interrupted", {}, {}});
            prng rng{options.seed * 1'000'003 + static_cast<std::uint64_t>(d)};
            const std::int64_t day_start = static_cast<std::int64_t>(first_day.days + d) * 86'400'000'000LL;
            const int weekday = ((first_day.days + d) % 7 + 11) % 7;
            const bool weekend = weekday == 0 || weekday == 6;
            const auto& hours = weekend ? hour_weights_weekend : hour_weights_weekday;
            double hour_cdf[24];
            double hs = 0;
            for (int h = 0; h < 24; ++h) hour_cdf[h] = (hs += hours[h]);
            const double summer = weather[d].avg_f > 65 ? 1.0 : 0.0;
            const double customer_share = (weekend ? 0.22 : 0.08) + 0.08 * summer;

            starts.resize(per_day[d]);
            for (auto& s : starts) {
                const double u = rng.uniform() * hs;
                const int hour = static_cast<int>(std::lower_bound(hour_cdf, hour_cdf + 24, u) - hour_cdf);
                s = day_start + hour * 3'600'000'000LL + static_cast<std::int64_t>(rng.below(3'600'000)) * 1000;
            }
            std::sort(starts.begin(), starts.end());

            for (const auto start : starts) {
                if (filled == capacity) {
                    if (!flush()) return fail({model::error_code::internal, duckdb_appender_error(appender), {}, {}});
                    bind_vectors();
                }
                const bool customer = rng.uniform() < customer_share;
                // Log-normal durations: subscribers ~11 min median, customers ~22 min; 1 min .. 6 h.
                const double minutes =
                    std::exp(std::log(customer ? 22.0 : 11.0) + rng.normal() * (customer ? 0.75 : 0.6));
                const auto duration = static_cast<std::int64_t>(std::clamp(minutes * 60, 61.0, 21'600.0));
                const std::int64_t start_station = pick_station(rng);
                std::int64_t end_station = pick_station(rng);
                if (end_station == start_station && rng.uniform() < 0.9) end_station = pick_station(rng);

                col[0][filled] = duration;
                col[1][filled] = start;
                col[2][filled] = start + duration * 1'000'000 + static_cast<std::int64_t>(rng.below(1000)) * 1000;
                col[3][filled] = start_station;
                col[4][filled] = end_station;
                col[5][filled] = 14'529 + static_cast<std::int64_t>(rng.below(25'000));
                duckdb_vector_assign_string_element(vecs[6], filled, customer ? "Customer" : "Subscriber");
                if (customer && rng.uniform() < 0.35) {
                    duckdb_validity_set_row_invalid(duckdb_vector_get_validity(vecs[7]), filled);
                    col[8][filled] = 0;
                } else {
                    const double age =
                        std::clamp(customer ? 31 + rng.normal() * 10 : 38 + rng.normal() * 11, 16.0, 80.0);
                    col[7][filled] = model::civil_from_days(first_day.days + d).year - static_cast<std::int64_t>(age);
                    const double g = rng.uniform();
                    col[8][filled] = customer ? (g < 0.5 ? 0 : g < 0.8 ? 1 : 2) : (g < 0.03 ? 0 : g < 0.74 ? 1 : 2);
                }
                ++filled;
            }
            written += per_day[d];
            if (progress) progress(written, options.trips);
        }
        if (!flush()) return fail({model::error_code::internal, duckdb_appender_error(appender), {}, {}});
        if (duckdb_appender_close(appender) == DuckDBError)
            return fail({model::error_code::internal, duckdb_appender_error(appender), {}, {}});
        if (cancel) return fail({model::error_code::internal, "interrupted", {}, {}});
        if (auto r = c.execute("CHECKPOINT"); !r) return fail(std::move(r).error());
    }
    // Closed and checkpointed: only now does the complete file take the final name.
    fs::rename(tmp_path, final_path, ec);
    if (ec)
        return fail({model::error_code::internal, "cannot rename " + tmp_path.string() + ": " + ec.message(), {}, {}});
    fs::remove(tmp_path.string() + ".wal", ec);
    return model::done{};
}

}  // namespace frost::data
