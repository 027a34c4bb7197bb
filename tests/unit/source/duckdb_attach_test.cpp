// Database files attached to one host instance (`duckdb_source::open_host`, `attach`): how the
// serving store serves each generation without creating a DuckDB instance per refresh.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <random>

#include "source/duckdb/duckdb_source.hpp"
#include "support/sanitized.hpp"

namespace frost::source::duckdb {
namespace {

struct temp_dir {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() /
        ("frost-attach-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()));
    temp_dir() { std::filesystem::create_directories(path); }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

// Writes a database file holding `t(v BIGINT)` with `values`, as a refresh writes a generation.
void write_file(const std::string& path, const std::vector<std::int64_t>& values) {
    auto db = database::open(path);
    ASSERT_TRUE(db) << db.error().message;
    auto con = connection::open(*db.value());
    ASSERT_TRUE(con);
    ASSERT_TRUE(con.value()->execute("CREATE TABLE t (v BIGINT)"));
    std::string insert = "INSERT INTO t VALUES ";
    for (std::size_t i = 0; i < values.size(); ++i) insert += (i ? ", (" : "(") + std::to_string(values[i]) + ")";
    if (!values.empty()) {
        ASSERT_TRUE(con.value()->execute(insert));
    }
    ASSERT_TRUE(con.value()->execute("CHECKPOINT"));
}

model::result<model::table> run(duckdb_source& s, const std::string& sql) {
    return s.run({sql, {}, model::deadline::after(std::chrono::seconds(30)), "test", 100'000});
}

std::int64_t scalar(duckdb_source& s, const std::string& sql) {
    auto r = run(s, sql);
    if (!r) throw std::runtime_error(r.error().message);
    return std::get<std::int64_t>(r.value().rows.at(0).at(0));
}

std::int64_t attached_files(database& host) {
    auto con = connection::open(host);
    auto r = con.value()->execute("SELECT count(*)::BIGINT FROM duckdb_databases() WHERE NOT internal");
    auto t = r.value().to_table(10);
    return std::get<std::int64_t>(t.value().rows.at(0).at(0)) - 1;  // the host's own in-memory database
}

// Generations renamed one after another over the same path, each attached while older ones are
// still held: every source answers from the file it attached, never from a later one.
TEST(duckdb_attach, each_attached_source_reads_the_file_it_attached_across_renames) {
    temp_dir dir;
    const std::string path = (dir.path / "serving.duckdb").string();
    auto host = duckdb_source::open_host({{"threads", "1"}}, {path, path + ".wal"});
    ASSERT_TRUE(host) << host.error().message;
    std::mt19937_64 rng(20261202);
    struct held {
        std::unique_ptr<duckdb_source> src;
        std::int64_t count, sum;
    };
    std::vector<held> live;
    const int rounds = frost::testing::rounds(20);
    for (int round = 0; round < rounds; ++round) {
        std::vector<std::int64_t> values(rng() % 50);
        std::int64_t sum = 0;
        for (auto& v : values) sum += (v = static_cast<std::int64_t>(rng() % 2001) - 1000);
        write_file(path + ".next", values);
        std::filesystem::rename(path + ".next", path);
        auto src = duckdb_source::attach("gen", host.value(), path);
        ASSERT_TRUE(src) << src.error().message;
        live.push_back({std::move(src).value(), static_cast<std::int64_t>(values.size()), sum});
        // Some older generations are released (their last reader finished), others stay.
        if (rng() % 3 == 0) live.erase(live.begin() + static_cast<std::ptrdiff_t>(rng() % live.size()));
        for (auto& g : live) {
            EXPECT_EQ(scalar(*g.src, "SELECT count(*)::BIGINT FROM t"), g.count) << "round " << round;
            EXPECT_EQ(scalar(*g.src, "SELECT coalesce(sum(v), 0)::BIGINT FROM t"), g.sum) << "round " << round;
        }
        // A released generation is detached: only the held ones stay attached.
        EXPECT_EQ(attached_files(*host.value()), static_cast<std::int64_t>(live.size())) << "round " << round;
    }
    live.clear();
    EXPECT_EQ(attached_files(*host.value()), 0);
}

TEST(duckdb_attach, the_host_keeps_the_read_only_hardening) {
    temp_dir dir;
    const std::string path = (dir.path / "serving.duckdb").string();
    write_file(path, {1, 2, 3});
    const std::string other = (dir.path / "other.duckdb").string();
    write_file(other, {4});
    auto host = duckdb_source::open_host({}, {path, path + ".wal"});
    ASSERT_TRUE(host) << host.error().message;
    auto src = duckdb_source::attach("gen", host.value(), path);
    ASSERT_TRUE(src) << src.error().message;
    EXPECT_EQ(scalar(*src.value(), "SELECT sum(v)::BIGINT FROM t"), 6);
    const std::string leak = (dir.path / "leak.csv").string();
    for (const std::string& sql :
         {std::string("SELECT * FROM read_csv('/etc/passwd')"), "ATTACH '" + other + "' AS other (READ_ONLY)",
          "COPY t TO '" + leak + "'", std::string("SET enable_external_access = true"),
          std::string("SET memory_limit = '100GB'"), std::string("INSTALL httpfs"),
          std::string("INSERT INTO t VALUES (7)")})
        EXPECT_FALSE(run(*src.value(), sql)) << "accepted: " << sql;
    EXPECT_FALSE(std::filesystem::exists(leak));
    // Another file is refused to `attach` too: only the allowed paths are open.
    EXPECT_FALSE(duckdb_source::attach("other", host.value(), other));
    EXPECT_EQ(scalar(*src.value(), "SELECT sum(v)::BIGINT FROM t"), 6);
}

}  // namespace
}  // namespace frost::source::duckdb
