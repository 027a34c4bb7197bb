#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "api/service.hpp"

namespace frost::app {

/// Serves the dashboard, the docs page and /openapi.json from `svc` (web::mount), learning
/// row schemas from `sources`, and logs where the pages come from or why they are missing.
/// `web_root` empty: found automatically. Call before serving starts.
void mount_web(api::service& svc, const api::source_map& sources, const std::string& web_root);

/// Options of `frost openapi`.
struct openapi_verb_options {
    std::string out;                   ///< file to write; empty: standard output
    std::vector<std::string> servers;  ///< `servers[].url`; empty: `/`
    bool describe = true;              ///< learn row schemas from the sources when they open
};

/// Adds the `openapi` verb ("print the OpenAPI 3.1 document of the config") to `cli`,
/// binding its `--config` to `config_path`. Returns the subcommand, to test whether it ran.
CLI::App* add_openapi_verb(CLI::App& cli, std::string& config_path, openapi_verb_options& opts);

/// Runs `frost openapi`: loads the config (with `FROST_*` overrides), opens the sources when
/// `describe` is set (a source that cannot open only makes row schemas generic, with a note on
/// standard error), and writes the spec. Returns the process exit code (2 on a bad config or
/// an unwritable file).
int run_openapi_verb(const std::string& config_path, const openapi_verb_options& opts);

}  // namespace frost::app
