// The prefix-sum answers of rollup endpoints (src/rollup/prefix_index.hpp) held to DuckDB's own
// answers: which SQL shapes are recognised and which declined, and, over random rollup tables
// and random ranges, that every answer the index gives is the one DuckDB gives.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "rollup/answer_index.hpp"
#include "rollup/prefix_index.hpp"
#include "rollup/serving_store.hpp"
#include "source/duckdb/duckdb_source.hpp"
#include "support/sanitized.hpp"

namespace frost::testing {
namespace {

using rollup::prefix_index;

std::unique_ptr<source::duckdb::duckdb_source> memory_db() {
    auto db = source::duckdb::duckdb_source::open("prefix_test", {":memory:", false, {}});
    if (!db) throw std::runtime_error(db.error().message);
    return std::move(db).value();
}

void exec(source::source& db, const std::string& sql) {
    source::query q{sql, {}, model::deadline::after(std::chrono::seconds(60)), "test", 1'000'000};
    auto r = db.run(q);
    if (!r) throw std::runtime_error(r.error().message + "\n" + sql);
}

model::result<model::table> run(source::source& db, const std::string& sql,
                                const std::vector<source::parameter>& params) {
    source::query q{sql, params, model::deadline::after(std::chrono::seconds(60)), "test", 1'000'000};
    return db.run(q);
}

std::string show(const model::value& v) {
    return std::visit(
        [](const auto& x) -> std::string {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::monostate>)
                return "NULL";
            else if constexpr (std::is_same_v<T, std::string>)
                return '"' + x + '"';
            else if constexpr (std::is_same_v<T, model::decimal>)
                return model::format_decimal(x);
            else if constexpr (std::is_same_v<T, model::date>)
                return model::format_date(x);
            else if constexpr (std::is_same_v<T, model::timestamp>)
                return model::format_timestamp(x);
            else
                return std::to_string(x);
        },
        v);
}

std::string show(const model::table& t) {
    std::string s;
    for (const auto& c : t.columns) s += c.name + ":" + std::to_string(static_cast<int>(c.type)) + " ";
    s += "\n";
    for (const auto& r : t.rows) {
        for (const auto& c : r) s += show(c) + " ";
        s += "\n";
    }
    return s;
}

bool same(const model::table& a, const model::table& b) {
    if (a.columns.size() != b.columns.size() || a.rows != b.rows) return false;
    for (std::size_t i = 0; i < a.columns.size(); ++i)
        if (a.columns[i].name != b.columns[i].name || a.columns[i].type != b.columns[i].type) return false;
    return true;
}

// A rollup like trips_by_day, with more of what endpoints meet: several rows per day and group,
// NULL group keys and NULL values, labels fixed by the group, floats.
void make_rollup(source::source& db, std::mt19937_64& rng, std::int32_t first_day, int days) {
    exec(db, "DROP TABLE IF EXISTS r");
    exec(db,
         "CREATE TABLE r (day DATE, g INTEGER, h VARCHAR, n BIGINT, m INTEGER, f DOUBLE, flag BOOLEAN, "
         "label VARCHAR, shaky VARCHAR)");
    std::string sql = "INSERT INTO r VALUES ";
    bool any = false;
    std::uniform_int_distribution<int> pct(0, 99);
    for (int d = 0; d < days; ++d) {
        if (pct(rng) < 20) continue;  // days without rows
        const int rows = 1 + pct(rng) % 4;
        for (int k = 0; k < rows; ++k) {
            const int g = pct(rng) % 6;
            const std::string gs = g == 5 ? "NULL" : std::to_string(g);
            const int hv = pct(rng) % 3;
            const std::string h = hv == 2 ? "NULL" : (hv ? "'x'" : "'y'");
            const std::string n =
                pct(rng) < 10 ? "NULL" : std::to_string(static_cast<std::int64_t>(rng() % 2'000'000) - 200'000);
            const std::string label = g == 5 ? "NULL" : "'L" + std::to_string(g) + "'";
            sql += std::string(any ? ", " : "") + "(DATE '1970-01-01' + " + std::to_string(first_day + d) + ", " + gs +
                   ", " + h + ", " + n + ", " + std::to_string(pct(rng)) + ", " + std::to_string(pct(rng) / 7.0) +
                   ", " + (pct(rng) < 70 ? "true" : "false") + ", " + label + ", '" + std::to_string(pct(rng) % 2) +
                   "')";
            any = true;
        }
    }
    if (any) exec(db, sql);
}

const std::string guarded = "($a is null or day >= $a) and ($b is null or day <= $b)";

// Endpoint SQL the index must serve: every shape of its grammar.
const std::vector<std::string> served = {
    "select sum(n)::BIGINT as total, any_value(label) as label from r where " + guarded + " group by g order by g",
    "select g, count(*) as c, count(n) as cn, sum(m) as sm from r where " + guarded + " group by g order by g desc",
    "select h, g, sum(n) as s, count(*)::INTEGER as c from r where flag and " + guarded +
        " group by h, g order by h nulls first, g",
    "select sum(m) as s, count(*) as c, sum(n) as sn from r where day between $a and $b",
    "select g + 1 as k, sum(m)::HUGEINT as s from r where day >= $a and day <= $b and m > 10 group by g order by g",
    "select max(label) as l, sum(n) as s from r where $a <= day and (day <= $b or $b is null) group by g order by l",
    "select count(*) as c, g from r where " + guarded + " group by g order by 2",
    "select g, sum(m) as s from r where ($a is null or day >= $a::DATE) and day <= CAST($b AS DATE) group by g "
    "order by g",
};

TEST(prefix_index, recognises_the_grammar_and_declines_the_rest) {
    auto db = memory_db();
    std::mt19937_64 rng(7);
    make_rollup(*db, rng, 18000, 30);
    for (const auto& sql : served) {
        auto plan = prefix_index::recognise(*db, sql, "r");
        ASSERT_TRUE(plan) << sql << ": " << plan.error().message;
        auto built = prefix_index::build(*db, plan.value());
        EXPECT_TRUE(built) << sql << ": " << built.error().message;
    }
    // Declined when parsed: each needs DuckDB.
    const std::vector<std::string> declined = {
        "select sum(n) from r where " + guarded + " group by g having sum(n) > 0 order by g",
        "select sum(r.n) from r join r r2 on r.day = r2.day where " + guarded + " group by r.g order by r.g",
        "select g, sum(n) as s from r where " + guarded + " group by g order by s",
        "select g, sum(n) as s from r where " + guarded + " group by g order by sum(n)",
        "select g, sum(n) from r where " + guarded + " and m > $c group by g order by g",
        "select g, sum(n) from r where " + guarded + " group by g",  // no ORDER BY
        "select g, avg(n) from r where " + guarded + " group by g order by g",
        "select g, sum(distinct n) from r where " + guarded + " group by g order by g",
        "select g, sum(n) from r where " + guarded + " group by g order by g limit 2",
        "select distinct g from r where " + guarded + " order by g",
        "select g, sum(n) from r where " + guarded + " group by all order by g",
        "select g, sum(n) from r where " + guarded + " group by 1 order by g",
        "select g, sum(n) over () from r where " + guarded + " order by g",
        "select g, sum(n) from (select * from r) where " + guarded + " group by g order by g",
        "with x as (select * from r) select g, sum(n) from x where " + guarded + " group by g order by g",
        "select g, sum(n) from other where " + guarded + " group by g order by g",
        "select g, sum(n) from r where day >= $a or day <= $b group by g order by g",
        "select g, sum(n) from r where day >= $a and m <= $b group by g order by g",
        "select g, sum(n) from r where day >= $a::TIMESTAMP group by g order by g",
        "select g, sum(n), random() from r where " + guarded + " group by g order by g",
        "select g, sum(n) from r group by g order by g",  // no range
        "select g, sum(n)::DOUBLE from r where " + guarded + " group by g order by g",
        "select g, sum(n) + 1 from r where " + guarded + " group by g order by g",
        "select g, sum(n) from r where " + guarded + " group by grouping sets ((g), ()) order by g",
        "select 1; select 2",
    };
    for (const auto& sql : declined) {
        auto plan = prefix_index::recognise(*db, sql, "r");
        EXPECT_FALSE(plan) << "recognised: " << sql;
    }
    // Recognised, then declined by the data: a float sum, a label that changes within a group,
    // an order with ties.
    const std::vector<std::string> unbuildable = {
        "select g, sum(f) as s from r where " + guarded + " group by g order by g",
        "select g, any_value(shaky) as s, count(*) from r where " + guarded + " group by g order by g",
        "select g, count(*) from r where " + guarded + " group by g order by g is null",
    };
    for (const auto& sql : unbuildable) {
        auto plan = prefix_index::recognise(*db, sql, "r");
        ASSERT_TRUE(plan) << sql << ": " << plan.error().message;
        auto built = prefix_index::build(*db, plan.value());
        EXPECT_FALSE(built) << "built: " << sql;
    }
}

TEST(prefix_index, answers_as_duckdb_does_for_random_rollups_and_ranges) {
    auto db = memory_db();
    std::mt19937_64 rng(20261202);
    int compared = 0, nonempty = 0;
    for (int round = 0; round < frost::testing::rounds(40); ++round) {
        const std::int32_t first = 17000 + static_cast<std::int32_t>(rng() % 1000);
        const int days = round % 10 == 0 ? 1 + static_cast<int>(rng() % 3) : 5 + static_cast<int>(rng() % 200);
        make_rollup(*db, rng, first, round % 13 == 0 ? 0 : days);  // some rounds: an empty rollup
        for (const auto& sql : served) {
            auto plan = prefix_index::recognise(*db, sql, "r");
            ASSERT_TRUE(plan) << sql << ": " << plan.error().message;
            auto built = prefix_index::build(*db, plan.value(), 2, rng());
            ASSERT_TRUE(built) << sql << ": " << built.error().message;
            const auto& index = *built.value();
            std::uniform_int_distribution<std::int32_t> day(first - 10, first + days + 10);
            for (int i = 0; i < 25; ++i) {
                std::vector<source::parameter> params;
                for (const char* name : {"a", "b"}) {
                    const model::date d{day(rng)};
                    params.emplace_back();
                    params.back().name = name;
                    if (rng() % 6 != 0) params.back().value = d;
                }
                if (i % 2 == 0 && params[0].value.index() == params[1].value.index() &&
                    std::get_if<model::date>(&params[0].value) &&
                    std::get<model::date>(params[1].value) < std::get<model::date>(params[0].value))
                    std::swap(params[0].value, params[1].value);
                auto mine = index.answer(params);
                ASSERT_TRUE(mine.has_value()) << sql;
                auto theirs = run(*db, sql, params);
                ASSERT_TRUE(theirs) << theirs.error().message;
                ASSERT_TRUE(same(*mine, theirs.value()))
                    << sql << "\n a=" << show(params[0].value) << " b=" << show(params[1].value) << "\n index:\n"
                    << show(*mine) << " duckdb:\n"
                    << show(theirs.value());
                ++compared;
                nonempty += theirs.value().rows.empty() ? 0 : 1;
            }
        }
    }
    EXPECT_EQ(compared, frost::testing::rounds(40) * static_cast<int>(served.size()) * 25);
    EXPECT_GT(nonempty, compared / 3);  // the ranges are not all empty
}

TEST(prefix_index, steps_aside_for_bounds_it_cannot_read_and_sums_past_the_type) {
    auto db = memory_db();
    exec(*db, "CREATE TABLE r (day DATE, g INTEGER, n BIGINT)");
    exec(*db,
         "INSERT INTO r VALUES (DATE '2020-01-01', 1, 9000000000000000000), (DATE '2020-01-02', 1, "
         "9000000000000000000), (DATE '2020-01-03', 2, 5)");
    const std::string sql = "select g, sum(n)::BIGINT as s from r where " + guarded + " group by g order by g";
    auto plan = prefix_index::recognise(*db, sql, "r");
    ASSERT_TRUE(plan) << plan.error().message;
    // The unbounded check overflows BIGINT in DuckDB; the index steps aside there too.
    auto built = prefix_index::build(*db, plan.value());
    ASSERT_TRUE(built) << built.error().message;
    const auto d = [](int y, unsigned m, unsigned day) { return model::date{model::days_from_civil(y, m, day)}; };
    EXPECT_FALSE(built.value()
                     ->answer(std::vector<source::parameter>{{"a", std::monostate{}}, {"b", std::monostate{}}})
                     .has_value());
    auto one = built.value()->answer(std::vector<source::parameter>{{"a", d(2020, 1, 2)}, {"b", d(2020, 1, 3)}});
    ASSERT_TRUE(one.has_value());
    EXPECT_TRUE(same(*one, run(*db, sql, {{"a", d(2020, 1, 2)}, {"b", d(2020, 1, 3)}}).value())) << show(*one);
    // A bound given as text: DuckDB casts it, the index does not guess.
    EXPECT_FALSE(built.value()
                     ->answer(std::vector<source::parameter>{{"a", std::string("2020-01-01")}, {"b", std::monostate{}}})
                     .has_value());
    // More groups than max_rows: DuckDB reports it.
    EXPECT_FALSE(built.value()
                     ->answer(std::vector<source::parameter>{{"a", d(2020, 1, 2)}, {"b", d(2020, 1, 3)}}, 1)
                     .has_value());
}

TEST(prefix_index, leaves_a_rollup_past_the_cell_cap_to_duckdb) {
    auto db = memory_db();
    exec(*db, "CREATE TABLE r (day DATE, g INTEGER, n BIGINT)");
    const std::string sql = "select g, sum(n) as s from r where " + guarded + " group by g order by g";
    // One group fewer than the cap would allow, then one more: (group, day) cells are counted.
    const auto days = prefix_index::max_cells / 3;
    exec(*db, "INSERT INTO r SELECT DATE '2000-01-01' + (i % " + std::to_string(days) + ")::INTEGER, i // " +
                  std::to_string(days) + ", 1 FROM range(" + std::to_string(days * 3) + ") t(i)");
    auto plan = prefix_index::recognise(*db, sql, "r");
    ASSERT_TRUE(plan) << plan.error().message;
    EXPECT_TRUE(prefix_index::build(*db, plan.value(), 1));
    exec(*db,
         "INSERT INTO r SELECT DATE '2000-01-01' + i::INTEGER, 3, 1 FROM range(" + std::to_string(days) + ") t(i)");
    auto built = prefix_index::build(*db, plan.value(), 1);
    ASSERT_FALSE(built);
    EXPECT_NE(built.error().message.find("cells"), std::string::npos) << built.error().message;
}

// Through the serving store: each new version of the rollup gets its own index (the answers
// follow the data), every answer equals DuckDB's on the same version, and they come from the index.
TEST(prefix_index, the_serving_store_answers_each_new_version_from_its_own_index) {
    std::shared_ptr<source::source> src = memory_db();
    config::config cfg;
    config::rollup_config rc;
    rc.name = "r";
    rc.source = "src";
    rc.sql = {{"duckdb", "select * from base"}};
    cfg.rollups.push_back(rc);
    exec(*src, "CREATE TABLE base (day DATE, g INTEGER, n BIGINT)");
    rollup::store_options opts;
    opts.use_file = false;
    opts.schedule = false;
    opts.refresh_on_start = false;
    exec(*src, "INSERT INTO base VALUES (DATE '2020-01-01', 1, 1)");
    auto opened = rollup::serving_store::open(cfg, {{"src", src}}, opts);
    ASSERT_TRUE(opened) << opened.error().message;
    auto store = std::move(opened).value();
    const std::string sql =
        "select g, sum(n)::BIGINT as s, count(*) as c from r where " + guarded + " group by g order by g";
    std::mt19937_64 rng(11);
    std::uint64_t asked = 0;
    for (int version = 1; version <= frost::testing::rounds(10); ++version) {
        std::string insert = "INSERT INTO base VALUES ";
        for (int i = 0; i < 50; ++i)
            insert += std::string(i ? ", " : "") + "(DATE '2020-01-01' + " + std::to_string(rng() % 60) + ", " +
                      std::to_string(rng() % 5) + ", " + std::to_string(rng() % 1000) + ")";
        exec(*src, insert);
        ASSERT_TRUE(store->refresh("r"));
        {  // the new version's first read is answered by DuckDB and queues its index
            const std::vector<source::parameter> none{{"a", std::monostate{}}, {"b", std::monostate{}}};
            ASSERT_TRUE(store->run_versioned(
                {sql, none, model::deadline::after(std::chrono::seconds(10)), "/test", 1000}, "r"));
            store->settle_prefix_sums();
        }
        for (int i = 0; i < 20; ++i) {
            std::int32_t a = model::days_from_civil(2020, 1, 1) + static_cast<std::int32_t>(rng() % 70) - 5;
            std::int32_t b = a + static_cast<std::int32_t>(rng() % 40);
            const std::vector<source::parameter> params{{"a", model::date{a}}, {"b", model::date{b}}};
            source::query q{sql, params, model::deadline::after(std::chrono::seconds(10)), "/test", 1000};
            auto fast = store->run_versioned(q, "r");
            ASSERT_TRUE(fast) << fast.error().message;
            EXPECT_EQ(fast.value().version.version, static_cast<std::uint64_t>(version + 1));
            auto slow = store->run(q);  // DuckDB on the same version
            ASSERT_TRUE(slow) << slow.error().message;
            ASSERT_TRUE(same(fast.value().table, slow.value())) << "version " << version << "\n index:\n"
                                                                << show(fast.value().table) << " duckdb:\n"
                                                                << show(slow.value());
            ++asked;
        }
    }
    const auto versions = static_cast<std::uint64_t>(frost::testing::rounds(10));
    EXPECT_EQ(store->answers("/test").prefix_sums, asked);
    EXPECT_EQ(store->answers("/test").duckdb, versions);  // each version's first read
    // Turned off, the same calls run on DuckDB.
    store->set_prefix_sums(false);
    const std::vector<source::parameter> none{{"a", std::monostate{}}, {"b", std::monostate{}}};
    source::query q{sql, none, model::deadline::after(std::chrono::seconds(10)), "/test", 1000};
    ASSERT_TRUE(store->run_versioned(q, "r"));
    EXPECT_EQ(store->answers("/test").duckdb, versions + 1);
}

// The answer index file (src/rollup/answer_index.hpp): indexes written and read back answer as
// DuckDB does over random rollups and ranges (the oracle is DuckDB on the same table).
TEST(answer_index, read_back_answers_as_duckdb_does_for_random_rollups_and_ranges) {
    auto db = memory_db();
    std::mt19937_64 rng(14021);
    int compared = 0;
    for (int round = 0; round < frost::testing::rounds(12); ++round) {
        const std::int32_t first = 17000 + static_cast<std::int32_t>(rng() % 1000);
        const int days = 5 + static_cast<int>(rng() % 200);
        make_rollup(*db, rng, first, round % 7 == 3 ? 0 : days);
        rollup::answer_index written;
        written.serving = {rng(), rng()};
        written.rollups.push_back(
            {"r", rng() % 100 + 1, static_cast<std::int64_t>(rng() % 1'000'000'000'000), std::to_string(rng())});
        for (const auto& sql : served) {
            auto plan = prefix_index::recognise(*db, sql, "r");
            ASSERT_TRUE(plan) << sql << ": " << plan.error().message;
            auto built = prefix_index::build(*db, plan.value(), 1, rng());
            ASSERT_TRUE(built) << sql << ": " << built.error().message;
            written.entries.push_back({sql, "r", built.value(), {}});
        }
        const auto bytes = written.encode();
        auto read = rollup::answer_index::decode(bytes);
        ASSERT_TRUE(read) << read.error().message;
        const auto& got = read.value();
        EXPECT_EQ(got.encode(), bytes);
        EXPECT_EQ(got.serving, written.serving);
        ASSERT_EQ(got.rollups.size(), 1u);
        EXPECT_EQ(got.rollups[0].version, written.rollups[0].version);
        EXPECT_EQ(got.rollups[0].built_at_ms, written.rollups[0].built_at_ms);
        EXPECT_EQ(got.rollups[0].sql_hash, written.rollups[0].sql_hash);
        ASSERT_EQ(got.entries.size(), served.size());
        std::uniform_int_distribution<std::int32_t> day(first - 10, first + days + 10);
        for (std::size_t e = 0; e < served.size(); ++e) {
            EXPECT_EQ(got.entries[e].sql, served[e]);
            EXPECT_EQ(got.entries[e].rollup, "r");
            EXPECT_EQ(got.entries[e].index->cells(), written.entries[e].index->cells());
            for (int i = 0; i < 20; ++i) {
                std::vector<source::parameter> params;
                for (const char* name : {"a", "b"}) {
                    params.emplace_back();
                    params.back().name = name;
                    if (rng() % 6 != 0) params.back().value = model::date{day(rng)};
                }
                auto mine = got.entries[e].index->answer(params);
                ASSERT_TRUE(mine.has_value()) << served[e];
                auto theirs = run(*db, served[e], params);
                ASSERT_TRUE(theirs) << theirs.error().message;
                ASSERT_TRUE(same(*mine, theirs.value())) << served[e] << "\n a=" << show(params[0].value)
                                                         << " b=" << show(params[1].value) << "\n read back:\n"
                                                         << show(*mine) << " duckdb:\n"
                                                         << show(theirs.value());
                ++compared;
            }
        }
    }
    EXPECT_EQ(compared, frost::testing::rounds(12) * static_cast<int>(served.size()) * 20);
}

// Anything but a whole, unchanged file of this format for this serving file is refused with a
// message, never a crash: truncations, flipped bytes, another format version, another file.
TEST(answer_index, refuses_malformed_files_and_files_of_another_serving_file) {
    auto db = memory_db();
    std::mt19937_64 rng(77);
    make_rollup(*db, rng, 18000, 60);
    rollup::answer_index written;
    written.rollups.push_back({"r", 3, 1'700'000'000'000, "123"});
    for (const auto& sql : served) {
        auto built = prefix_index::build(*db, prefix_index::recognise(*db, sql, "r").value(), 1);
        ASSERT_TRUE(built);
        written.entries.push_back({sql, "r", built.value(), {}});
    }
    const auto bytes = written.encode();
    ASSERT_TRUE(rollup::answer_index::decode(bytes));
    for (std::size_t n = 0; n < bytes.size(); n += 1 + n / 16) {
        EXPECT_FALSE(rollup::answer_index::decode(bytes.substr(0, n))) << "truncated to " << n;
    }
    EXPECT_FALSE(rollup::answer_index::decode(bytes + "x"));
    for (int i = 0; i < frost::testing::rounds(2000); ++i) {
        auto flipped = bytes;
        const auto at = rng() % flipped.size();
        flipped[at] = static_cast<char>(flipped[at] ^ (1 + rng() % 255));
        EXPECT_FALSE(rollup::answer_index::decode(flipped)) << "byte " << at << " flipped";
    }
    {
        auto other = bytes;
        other[8] = static_cast<char>(rollup::answer_index::format_version + 1);  // the version's low byte
        auto read = rollup::answer_index::decode(other);
        ASSERT_FALSE(read);
        EXPECT_NE(read.error().message.find("format version"), std::string::npos) << read.error().message;
    }
    // Past the checksum (a payload changed and its checksum recomputed): the field checks
    // refuse, or the index reads and answers without crashing.
    const std::size_t header = 8 + 4 + 8 + 8;
    for (int i = 0; i < frost::testing::rounds(3000); ++i) {
        auto payload = bytes.substr(header);
        for (int k = 0; k < 1 + static_cast<int>(rng() % 3); ++k) {
            const auto at = rng() % payload.size();
            payload[at] = static_cast<char>(payload[at] ^ (1 + rng() % 255));
        }
        if (rng() % 4 == 0) payload.resize(rng() % payload.size());
        std::string forged = bytes.substr(0, 12);
        const std::uint64_t size = payload.size(), sum = rollup::answer_index::checksum(payload);
        forged.append(reinterpret_cast<const char*>(&size), 8);
        forged.append(reinterpret_cast<const char*>(&sum), 8);
        forged += payload;
        auto read = rollup::answer_index::decode(forged);
        if (!read) continue;
        for (const auto& e : read.value().entries) {
            const std::vector<source::parameter> params{{"a", model::date{18010}}, {"b", model::date{18040}}};
            (void)e.index->answer(params);
        }
    }
    // Another serving file: same size, other bytes.
    const auto dir = std::filesystem::temp_directory_path() / ("frost-answer-index-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto serving = (dir / "serving.duckdb").string(), other = (dir / "other.duckdb").string();
    std::ofstream(serving, std::ios::binary) << std::string(5000, 'a');
    std::ofstream(other, std::ios::binary) << std::string(4999, 'a') + "b";
    auto id = rollup::identify_file(serving);
    ASSERT_TRUE(id) << id.error().message;
    EXPECT_EQ(id.value().size, 5000u);
    written.serving = id.value();
    ASSERT_TRUE(written.write(serving + ".prefix"));
    auto mine = rollup::answer_index::read(serving + ".prefix", serving);
    ASSERT_TRUE(mine) << mine.error().message;
    EXPECT_EQ(mine.value().entries.size(), served.size());
    auto theirs = rollup::answer_index::read(serving + ".prefix", other);
    ASSERT_FALSE(theirs);
    EXPECT_NE(theirs.error().message.find("another serving file"), std::string::npos) << theirs.error().message;
    EXPECT_FALSE(rollup::answer_index::read((dir / "absent.prefix").string(), serving));
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace frost::testing
