#pragma once

#include <string>

#include "source/duckdb/database.hpp"

namespace frost::source::duckdb {

/// Whether the table `schema.table` exists, asked of the catalog directly
/// (`duckdb_table_description_create`): no query and no error. Both alternatives are slow on a
/// fresh instance: `duckdb_tables()` and a failed query (its "did you mean" suggestions) each
/// make DuckDB generate every built-in catalog entry, about 20 ms of CPU per instance at cold
/// start (bench/lambda/open_phases.cpp), against 0.2 ms for this lookup.
[[nodiscard]] bool table_exists(connection& c, const std::string& schema, const std::string& table);

}  // namespace frost::source::duckdb
