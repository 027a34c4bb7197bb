#include "source/duckdb/catalog.hpp"

namespace frost::source::duckdb {

bool table_exists(connection& c, const std::string& schema, const std::string& table) {
    duckdb_table_description description = nullptr;
    const bool found =
        duckdb_table_description_create(c.handle(), schema.c_str(), table.c_str(), &description) == DuckDBSuccess;
    // Destroyed whether or not it was found: a failed lookup allocates its error message too.
    duckdb_table_description_destroy(&description);
    return found;
}

}  // namespace frost::source::duckdb
