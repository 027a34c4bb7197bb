#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/error.hpp"

namespace frost::data {

/// The historical layouts of the public Citi Bike trip files (docs/loading.md has the mapping).
enum class trip_schema {
    lower_iso_2013,         ///< 2013–2014: lower-case headers, `2013-06-01 00:00:01`
    lower_us_2014,          ///< late 2014–2016: lower-case headers, `9/1/2014 00:00:25` (or without seconds)
    title_case_2016,        ///< Oct 2016–2017: `Trip Duration`, `Start Time`, ...
    lower_fractional_2018,  ///< 2018–Jan 2021: lower-case headers, `2018-01-01 13:50:57.4340`
    ride_id_2021,           ///< Feb 2021 onward: `ride_id, rideable_type, started_at, ...`
};

/// A short stable name for a schema (`2013-lower-iso`, ...), used in the load ledger and messages.
[[nodiscard]] std::string_view schema_name(trip_schema s) noexcept;

/// What a trip file's header and first data row say about it.
struct trip_layout {
    trip_schema schema{};
    std::vector<std::string> header;  ///< the column names as the file spells them, in file order
    std::string timestamp_format;     ///< a strptime format for DuckDB, empty for ISO timestamps
};

/// Recognises a trip file from its header fields and the fields of its first data row (empty
/// when the file has no rows). Fails with `bad_parameter`, naming what is missing, when the
/// header is none of the known layouts. Pure: exposed for tests.
[[nodiscard]] model::result<trip_layout> detect_trip_layout(const std::vector<std::string>& header,
                                                            const std::vector<std::string>& first_row);

/// Splits one CSV record (no line break) into fields: RFC 4180 quotes, `""` inside quotes.
[[nodiscard]] std::vector<std::string> split_csv_record(std::string_view line);

/// The most bad rows a file may have: a fraction of its rows or an absolute count.
struct bad_row_limit {
    double fraction = 0.001;             ///< used when `count` is empty
    std::optional<std::uint64_t> count;  ///< an absolute limit
    [[nodiscard]] std::uint64_t allowed(std::uint64_t total_rows) const noexcept;
};

/// Parses `--max-bad-rows`: `0.1%` (a share of the file's rows) or `25` (a count).
[[nodiscard]] std::optional<bad_row_limit> parse_bad_row_limit(std::string_view text);

/// What is being loaded.
enum class file_kind { trips, weather };

/// How `file_loader` behaves.
struct load_options {
    std::string database = "data/citibike.duckdb";  ///< created when missing
    bool replace = false;                           ///< reload a file loaded before (same name), replacing its rows
    bad_row_limit max_bad_rows;                     ///< over this, the file fails and nothing of it is kept
    std::string memory_limit;                       ///< DuckDB's memory_limit while loading; empty: DuckDB's default
};

/// A bad row: where it is and why.
struct bad_row {
    std::string file;  ///< the file (for a zip, `archive.zip:member.csv`)
    std::uint64_t line = 0;
    std::string message;
};

/// Progress of the file being loaded, reported about ten times a second from a helper thread.
struct load_progress {
    std::string file;
    std::uint64_t bytes_done = 0;  ///< of the CSV text read so far (for .gz: of the compressed file)
    std::uint64_t bytes_total = 0;
    std::uint64_t rows = 0;  ///< rows read so far (estimated from the bytes until the end)
};
using load_progress_fn = std::function<void(const load_progress&)>;

/// How loading one file ended.
enum class load_outcome { loaded, skipped, failed, interrupted };

/// The report on one file.
struct file_report {
    std::string path;
    load_outcome outcome = load_outcome::failed;
    std::string schema;      ///< the detected layout(s), e.g. `2018-lower-fractional`
    std::uint64_t rows = 0;  ///< rows inserted
    std::uint64_t bad_rows = 0;
    std::vector<bad_row> first_bad;  ///< the first 10, in line order
    std::uint64_t bytes = 0;
    std::string message;  ///< why it failed or was skipped
};

/// Loads Citi Bike trip files (.csv, .csv.gz, .zip holding CSVs, nested zips included) and
/// weather files into a DuckDB database in the seed's shape (`demo.trips`, `demo.weather`).
/// Each file is one transaction: it is loaded whole or not at all, and a failure, too many bad
/// rows or `cancel` leaves the database as it was before that file. A ledger table
/// (`frost_loaded_files`) keys each file by name and SHA-256, so a second load of the same file
/// is a no-op. Not thread-safe: one thread loads files one after another. While it lives it
/// holds the database file's write lock.
class file_loader {
public:
    /// Opens (creating when needed) the database and its tables. Fails with `source_unavailable`
    /// when the file cannot be opened, e.g. a running `frost serve` holds it.
    static model::result<std::unique_ptr<file_loader>> open(const load_options& options);
    ~file_loader();
    file_loader(const file_loader&) = delete;
    file_loader& operator=(const file_loader&) = delete;

    /// Loads one file. `cancel` may be set from any thread (a signal handler's flag): the
    /// running statement is interrupted and the file rolled back (outcome `interrupted`).
    [[nodiscard]] file_report load(file_kind kind, const std::string& path, const load_progress_fn& progress,
                                   const std::atomic<bool>& cancel);

    /// Folds the write-ahead log into the database file; call once after the last file.
    [[nodiscard]] model::result<model::done> checkpoint();

private:
    struct impl;
    explicit file_loader(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

/// The ledger table `frost load` writes in the database it loads (one row per loaded file).
/// Its newest `loaded_at` tells rollups built earlier that their source changed.
inline constexpr std::string_view loaded_files_table = "frost_loaded_files";

}  // namespace frost::data
