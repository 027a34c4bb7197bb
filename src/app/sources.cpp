#include "app/sources.hpp"

#include <filesystem>

#include "source/breaker.hpp"
#include "source/duckdb/duckdb_source.hpp"
#include "source/lazy.hpp"
#include "source/snowflake/snowflake_source.hpp"

namespace frost::app {

namespace {

model::result<std::shared_ptr<source::source>> open_duckdb(const config::source_config& s) {
    source::duckdb::duckdb_settings settings{s.path, s.read_only, s.options};
    auto src = source::duckdb::duckdb_source::open(s.name, settings);
    if (!src) {
        auto e = std::move(src).error();
        e.message = "source " + s.name + ": " + e.message;
        return e;
    }
    return std::shared_ptr<source::source>(std::move(src).value());
}

}  // namespace

model::result<std::shared_ptr<source::source>> open_source(const config::source_config& s, bool lazy) {
    if (s.type == "duckdb") {
        // Checked at start even when the open is deferred: a missing file is a config mistake.
        if (s.path != ":memory:" && !std::filesystem::exists(s.path)) {
            return model::error{model::error_code::config_error,
                                "source " + s.name + ": database file " + s.path + " does not exist",
                                {},
                                "create the sample database with `frost seed --out " + s.path + "` (make run does it)"};
        }
        if (lazy && s.path != ":memory:")
            return source::with_breaker(
                std::make_shared<source::lazy_source>(s.name, "duckdb", [s] { return open_duckdb(s); }), s.breaker);
        auto src = open_duckdb(s);
        if (!src) return std::move(src).error();
        return source::with_breaker(std::move(src).value(), s.breaker);
    }
    if (s.type == "snowflake") {
        auto src = source::snowflake::snowflake_source::open(s);
        if (!src) return std::move(src).error();
        return source::with_breaker(std::move(src).value(), s.breaker);
    }
    return model::error{model::error_code::config_error,
                        "source " + s.name + ": type " + s.type + " is not built into this binary",
                        {},
                        {}};
}

model::result<api::source_map> open_sources(const config::config& cfg, bool lazy) {
    api::source_map out;
    for (const auto& s : cfg.sources) {
        auto src = open_source(s, lazy);
        if (!src) return std::move(src).error();
        out.emplace(s.name, std::move(src).value());
    }
    return out;
}

}  // namespace frost::app
