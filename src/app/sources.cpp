#include "app/sources.hpp"

#include <filesystem>

#include "source/duckdb/duckdb_source.hpp"
#include "source/snowflake/snowflake_source.hpp"

namespace frost::app {

model::result<api::source_map> open_sources(const config::config& cfg) {
    api::source_map out;
    for (const auto& s : cfg.sources) {
        if (s.type == "duckdb") {
            if (s.path != ":memory:" && !std::filesystem::exists(s.path)) {
                return model::error{
                    model::error_code::config_error,
                    "source " + s.name + ": database file " + s.path + " does not exist",
                    {},
                    "create the sample database with `frost seed --out " + s.path + "` (make run does it)"};
            }
            source::duckdb::duckdb_settings settings{s.path, s.read_only, s.options};
            auto src = source::duckdb::duckdb_source::open(s.name, settings);
            if (!src) {
                auto e = std::move(src).error();
                e.message = "source " + s.name + ": " + e.message;
                return e;
            }
            out.emplace(s.name, std::move(src).value());
        } else if (s.type == "snowflake") {
            auto src = source::snowflake::snowflake_source::open(s);
            if (!src) return std::move(src).error();
            out.emplace(s.name, std::move(src).value());
        } else {
            return model::error{model::error_code::config_error,
                                "source " + s.name + ": type " + s.type + " is not built into this binary",
                                {},
                                {}};
        }
    }
    return out;
}

}  // namespace frost::app
