#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace frost::app {

/// What `frost load` was asked to do (filled in by CLI11).
struct load_verb_options {
    std::vector<std::string> trip_files;
    std::string weather_file;
    std::string into = "data/citibike.duckdb";
    bool replace = false;
    std::string max_bad_rows = "0.1%";
    std::string memory_limit;
};

/// Adds `frost load trips FILES... [--into DB]` and `frost load weather FILE [--into DB]` to
/// `cli`; `opts` must outlive the parse. Returns the `load` subcommand.
CLI::App* add_load_verb(CLI::App& cli, load_verb_options& opts);

/// Runs `frost load` after a parse that selected it: loads each file in its own transaction
/// (docs/loading.md) with progress on stderr (a bar on a terminal, a line per file otherwise),
/// reports bad rows as file:line, and stops at Ctrl-C leaving the interrupted file out.
/// Returns the exit code: 0 when every file was loaded or already there, 1 when a file
/// failed, 2 for bad arguments or an unopenable database, 130 when interrupted.
[[nodiscard]] int run_load_verb(const CLI::App& load, const load_verb_options& opts);

}  // namespace frost::app
