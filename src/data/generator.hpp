#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "model/error.hpp"
#include "model/value.hpp"

namespace frost::data {

/// What `frost seed` builds.
struct seed_options {
    std::string path;                  ///< the database file to create
    std::uint64_t trips = 10'000'000;  ///< total rows in DEMO.TRIPS
    std::uint64_t seed = 42;           ///< same seed and trips, same database
    std::string memory_limit = "2GB";  ///< DuckDB's limit while building
    unsigned threads = 0;              ///< 0: one per core
};

/// First and last day of the sample data (the Citi Bike demo's span).
inline constexpr model::date first_day{15857};  // 2013-06-01
inline constexpr model::date last_day{18382};   // 2020-04-30

/// Progress callback: rows written so far, of `total`.
using progress_fn = std::function<void(std::uint64_t written, std::uint64_t total)>;

/// Builds a Citi Bike-shaped database with the seed's DEMO.TRIPS and DEMO.WEATHER tables:
/// yearly growth, seasons, weekdays, weather and hour-of-day effects, realistic durations,
/// stations, user types, birth years and genders. Deterministic for given options.
/// Writes to a temporary file beside `path` and renames it into place only when complete,
/// so an interrupted run (`cancel` set) never leaves a half-built database at `path`.
[[nodiscard]] model::result<model::done> build_sample_database(const seed_options& options, const progress_fn& progress,
                                                               const std::atomic<bool>& cancel);

/// The number of trips each day gets, in day order from `first_day` (exposed for tests).
[[nodiscard]] std::vector<std::uint32_t> trips_per_day(std::uint64_t total, std::uint64_t seed);

}  // namespace frost::data
