// table_exists: the catalog lookup that replaced duckdb_tables() and a failing probe at start.
#include <gtest/gtest.h>

#include "source/duckdb/catalog.hpp"
#include "source/duckdb/database.hpp"

namespace {

using namespace frost::source::duckdb;

TEST(duckdb_catalog, table_exists_answers_like_duckdb_tables) {
    auto db = database::open(":memory:");
    ASSERT_TRUE(db);
    auto con = connection::open(*db.value());
    ASSERT_TRUE(con);
    auto& c = *con.value();
    ASSERT_TRUE(c.execute("create table t (x int)"));
    ASSERT_TRUE(c.execute("create schema s"));
    ASSERT_TRUE(c.execute("create table s.u (x int)"));
    for (const auto& [schema, table] : std::vector<std::pair<std::string, std::string>>{
             {"main", "t"}, {"main", "u"}, {"s", "u"}, {"s", "t"}, {"main", "frost_loaded_files"}, {"nope", "t"}}) {
        // The oracle: the catalog function the lookup replaced.
        auto oracle = c.execute("select count(*)::BIGINT from duckdb_tables() where schema_name = '" + schema +
                                "' and table_name = '" + table + "'");
        ASSERT_TRUE(oracle);
        auto rows = oracle.value().to_table(1);
        ASSERT_TRUE(rows);
        const bool expected = std::get<std::int64_t>(rows.value().rows[0][0]) == 1;
        EXPECT_EQ(table_exists(c, schema, table), expected) << schema << "." << table;
    }
    // The connection still works after failed lookups.
    EXPECT_TRUE(c.execute("select 1"));
}

}  // namespace
