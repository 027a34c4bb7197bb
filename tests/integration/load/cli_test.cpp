// The `frost load` command as a user runs it: exit codes, the skip of a second load, and
// Ctrl-C (SIGINT) in the middle of a file leaving the database as it was before that file.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "source/duckdb/database.hpp"
#include "unit/data/trip_fixtures.hpp"

extern char** environ;

namespace frost::data {
namespace {

using namespace fixtures;  // NOLINT: test helpers

// Starts the binary with `args`, its stderr going to `err_path`; returns the pid.
pid_t spawn(const std::vector<std::string>& args, const fs::path& err_path) {
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(FROST_BINARY));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    posix_spawn(&pid, FROST_BINARY, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    return pid;
}

int wait_exit(pid_t pid) {
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    return {std::istreambuf_iterator<char>(in), {}};
}

std::int64_t count(const fs::path& db, const std::string& sql) {
    auto d = source::duckdb::database::open(db.string());
    if (!d) throw std::runtime_error(d.error().message);
    auto c = source::duckdb::connection::open(*d.value());
    auto r = c.value()->execute(sql);
    if (!r) throw std::runtime_error(r.error().message);
    return std::get<std::int64_t>(r.value().to_table(1).value().rows.at(0).at(0));
}

TEST(frost_load_cli, loads_skips_a_second_load_and_sigint_keeps_the_database_as_before_the_file) {
    temp_dir dir;
    const auto db = dir.path / "citibike.duckdb";
    const auto small = dir.path / "201307-citibike-tripdata.csv";
    write_file(small, make_trips(trip_schema::lower_iso_2013, 700, 2013, 7).text);
    const auto err = dir.path / "stderr.txt";

    EXPECT_EQ(wait_exit(spawn({"load", "trips", small.string(), "--into", db.string()}, err)), 0) << slurp(err);
    EXPECT_NE(slurp(err).find("700 rows"), std::string::npos) << slurp(err);
    EXPECT_EQ(wait_exit(spawn({"load", "trips", small.string(), "--into", db.string()}, err)), 0) << slurp(err);
    EXPECT_NE(slurp(err).find("already loaded"), std::string::npos) << slurp(err);

    // A bad --max-bad-rows is a usage error.
    EXPECT_EQ(wait_exit(spawn({"load", "trips", small.string(), "--into", db.string(), "--max-bad-rows", "x"}, err)),
              2);

    const auto big = dir.path / "201801-citibike-tripdata.csv";
    write_file(big, make_trips(trip_schema::lower_fractional_2018, 600'000, 2018, 1).text);
    const pid_t pid = spawn({"load", "trips", big.string(), "--into", db.string()}, err);
    // Wait for the first progress line (the load is under way), then press Ctrl-C.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (slurp(err).find("rows") == std::string::npos && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    kill(pid, SIGINT);
    const int code = wait_exit(pid);
    const std::string text = slurp(err);
    if (code == 0) GTEST_SKIP() << "the load finished before the signal arrived: " << text;
    EXPECT_EQ(code, 130) << text;
    EXPECT_NE(text.find("interrupted"), std::string::npos) << text;
    EXPECT_EQ(count(db, "select count(*)::BIGINT from demo.trips"), 700);
    EXPECT_EQ(count(db, "select count(*)::BIGINT from frost_loaded_files"), 1);
    for (const auto& e : fs::directory_iterator(dir.path))
        EXPECT_EQ(e.path().filename().string().rfind(".frost-load-", 0), std::string::npos) << e.path();
}

}  // namespace
}  // namespace frost::data
