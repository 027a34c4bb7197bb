#include "app/web_wiring.hpp"

#include <spdlog/spdlog.h>

#include <fstream>
#include <iostream>

#include "api/openapi.hpp"
#include "app/assemble.hpp"
#include "config/config.hpp"
#include "web/routes.hpp"

namespace frost::app {

void mount_web(api::service& svc, const api::source_map& sources, const std::string& web_root) {
    web::mount_options opts;
    opts.web_root = web_root;
    opts.sources = &sources;
    const auto report = web::mount(svc, opts);
    if (report.web_root.empty())
        spdlog::warn("dashboard and docs pages not served: {}", report.problem);
    else
        spdlog::info("dashboard at /dashboard, API docs at /docs ({} files from {})", report.files, report.web_root);
}

CLI::App* add_openapi_verb(CLI::App& cli, std::string& config_path, openapi_verb_options& opts) {
    auto* verb = cli.add_subcommand("openapi", "Print the OpenAPI 3.1 document of the configured API");
    verb->add_option("-c,--config", config_path, "Config file (env FROST_CONFIG)");
    verb->add_option("-o,--out", opts.out, "Write to this file instead of standard output");
    verb->add_option("--server", opts.servers, "Server URL for the spec (repeatable; default /, the serving origin)");
    verb->add_flag("!--no-describe", opts.describe,
                   "Do not open the sources to learn the result columns (rows get a generic schema)");
    return verb;
}

int run_openapi_verb(const std::string& config_path, const openapi_verb_options& opts) {
    auto cfg = config::load_file(config_path);
    if (cfg) {
        if (auto env = config::apply_environment(cfg.value()); !env) cfg = std::move(env).error();
    }
    if (!cfg) {
        std::cerr << "frost: " << cfg.error().message << '\n';
        return 2;
    }
    api::openapi_options spec;
    if (!opts.servers.empty()) spec.server_urls = opts.servers;
    if (opts.describe) {
        // Persisted rollups are read as they are; nothing is built or refreshed for a document.
        assemble_options assembly;
        assembly.rollups = rollup_mode::manual;
        assembly.guards = guard_mode::none;
        auto assembled = assemble(cfg.value(), assembly);
        if (assembled) {
            const auto& a = assembled.value();
            spec.columns = api::describe_results(*a.cfg, a.sources, a.rollups.get());
        } else {
            std::cerr << "frost openapi: rows get a generic schema: " << assembled.error().message << '\n';
        }
    }
    const auto text = api::render_openapi(cfg.value(), spec);
    if (opts.out.empty()) {
        std::cout << text << std::flush;
        return std::cout ? 0 : 2;
    }
    std::ofstream file(opts.out, std::ios::binary | std::ios::trunc);
    file << text;
    file.close();
    if (!file) {
        std::cerr << "frost openapi: cannot write " << opts.out << '\n';
        return 2;
    }
    return 0;
}

}  // namespace frost::app
