// quote_literal and quote_identifier: the oracle is DuckDB reading the quoted text back.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "source/duckdb/database.hpp"

namespace {

using namespace frost::source::duckdb;

// Random text from pieces that matter to SQL quoting (quotes, comment and statement marks).
std::string random_text(std::mt19937& rng) {
    static const std::vector<std::string> pieces{
        "a", "'", "''", "\"", "\\", " ", ";", "--", "/*", "\n", "\xc3\xa9", "\xf0\x9f\x9a\xb2", "$1", "?"};
    std::string s;
    for (auto n = rng() % 8; n > 0; --n) s += pieces[rng() % pieces.size()];
    return s;
}

TEST(duckdb_quoting, a_quoted_literal_reads_back_as_itself) {
    auto db = database::open(":memory:");
    ASSERT_TRUE(db);
    auto con = connection::open(*db.value());
    ASSERT_TRUE(con);
    auto& c = *con.value();
    EXPECT_EQ(quote_literal("it's"), "'it''s'");
    std::mt19937 rng(3);
    for (int i = 0; i < 300; ++i) {
        const auto s = random_text(rng);
        auto r = c.execute("select " + quote_literal(s) + " as v, 1 as " + quote_identifier(s.empty() ? "x" : s));
        ASSERT_TRUE(r) << s << ": " << r.error().message;
        auto t = r.value().to_table(1);
        ASSERT_TRUE(t);
        EXPECT_EQ(std::get<std::string>(t.value().rows[0][0]), s);
        if (!s.empty()) {
            EXPECT_EQ(t.value().columns[1].name, s);
        }
    }
}

}  // namespace
