// A streamed export from DuckDB (`run_export` over `duckdb_source::stream`, which encodes the
// chunks' vectors directly) gives the bytes the same rows give unstreamed: the oracle is
// `encode_table` over `duckdb_source::run` (every cell made a value first, the path of every
// other answer). Random tables of every column type an export renders, with NULLs, text that
// needs quoting and escaping, extreme and wide numbers, reals with many digits and non-finite
// ones, dates and timestamps of every unit; sizes across DuckDB's 2,048-row chunks.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>

#include "api/stream_export.hpp"
#include "source/duckdb/duckdb_source.hpp"
#include "support/sanitized.hpp"

namespace frost::api {
namespace {

using namespace std::chrono_literals;
using source::duckdb::quote_literal;

struct sql_column {
    const char* name;
    const char* type;
    std::string (*literal)(std::mt19937_64&);
};

std::string integer_in(std::mt19937_64& rng, std::int64_t lo, std::int64_t hi) {
    if (rng() % 4 == 0) return std::to_string(rng() % 2 ? lo : hi);
    const auto span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
    const auto off = span == ~std::uint64_t{0} ? rng() : rng() % (span + 1);
    return std::to_string(static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + off));
}

template <typename T>
std::string real_literal(std::mt19937_64& rng, const char* cast) {
    static const char* const edges[] = {"'nan'", "'inf'", "'-inf'", "0", "-0.0", "0.1", "1e38", "1e-45"};
    if (rng() % 5 == 0) return std::string(edges[rng() % std::size(edges)]) + cast;
    T x;
    do {
        if constexpr (sizeof(T) == 4) {
            x = std::bit_cast<T>(static_cast<std::uint32_t>(rng()));
        } else {
            x = std::bit_cast<T>(static_cast<std::uint64_t>(rng()));
        }
    } while (!std::isfinite(x));
    char buf[64];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, x);
    return "'" + std::string(buf, p) + "'" + cast;
}

std::string text_literal(std::mt19937_64& rng) {
    static const char* const pieces[] = {"a",
                                         "Subscriber",
                                         ",",
                                         "\"",
                                         "\r",
                                         "\n",
                                         "\t",
                                         "\\",
                                         "'",
                                         "\x01",
                                         "\x1f",
                                         "\xc3\xa9",
                                         "\xe2\x82\xac",
                                         "\xf0\x9f\x9a\xb2",
                                         " ",
                                         "{}",
                                         "0123456789abcdef"};
    std::string s;
    const auto n = rng() % 4 == 0 ? rng() % 30 : rng() % 5;
    for (std::size_t k = 0; k < n; ++k) s += pieces[rng() % std::size(pieces)];
    return quote_literal(s);
}

constexpr std::int64_t micros_per_day = 86'400'000'000LL;

std::string micros_in_years(std::mt19937_64& rng, int from, int to) {
    const std::int64_t lo = static_cast<std::int64_t>(model::days_from_civil(from, 1, 1)) * micros_per_day;
    const std::int64_t hi = static_cast<std::int64_t>(model::days_from_civil(to, 1, 1)) * micros_per_day;
    std::int64_t us = lo + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(hi - lo));
    if (rng() % 3 == 0) us -= us % 1'000'000;
    return "make_timestamp(" + std::to_string(us) + "::BIGINT)";
}

const sql_column columns[] = {
    {"tiny", "TINYINT", [](auto& r) { return integer_in(r, -128, 127); }},
    {"small", "SMALLINT", [](auto& r) { return integer_in(r, -32768, 32767); }},
    {"int", "INTEGER", [](auto& r) { return integer_in(r, std::numeric_limits<std::int32_t>::min(), 2147483647); }},
    {"big", "BIGINT",
     [](auto& r) {
         return integer_in(r, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max());
     }},
    {"utiny", "UTINYINT", [](auto& r) { return integer_in(r, 0, 255); }},
    {"usmall", "USMALLINT", [](auto& r) { return integer_in(r, 0, 65535); }},
    {"uint", "UINTEGER", [](auto& r) { return integer_in(r, 0, 4294967295); }},
    {"ubig", "UBIGINT", [](auto& r) { return std::to_string(r() >> (r() % 2)); }},
    {"huge", "HUGEINT",
     [](auto& r) { return r() % 2 ? std::to_string(static_cast<std::int64_t>(r())) : std::to_string(r()) + "00000"; }},
    {"f", "FLOAT", [](auto& r) { return real_literal<float>(r, "::FLOAT"); }},
    {"d", "DOUBLE", [](auto& r) { return real_literal<double>(r, "::DOUBLE"); }},
    {"dec4", "DECIMAL(4,2)", [](auto& r) { return "(" + integer_in(r, -9999, 9999) + " / 100)"; }},
    {"dec9", "DECIMAL(9,3)", [](auto& r) { return "(" + integer_in(r, -999999999, 999999999) + " / 1000)"; }},
    {"dec18", "DECIMAL(18,6)", [](auto& r) { return "'" + integer_in(r, -999999999999, 999999999999) + ".123456'"; }},
    {"dec30", "DECIMAL(30,5)", [](auto& r) { return "'" + std::to_string(r()) + std::to_string(r() % 1000) + ".5'"; }},
    {"name, \"q\"", "VARCHAR", text_literal},
    {"day", "DATE", [](auto& r) { return "DATE '0001-01-01' + " + std::to_string(r() % 3'652'059) + "::INTEGER"; }},
    {"at", "TIMESTAMP", [](auto& r) { return micros_in_years(r, 1, 9999); }},
    {"at_s", "TIMESTAMP_S", [](auto& r) { return micros_in_years(r, 1, 9999) + "::TIMESTAMP_S"; }},
    {"at_ms", "TIMESTAMP_MS", [](auto& r) { return micros_in_years(r, 1, 9999) + "::TIMESTAMP_MS"; }},
    {"at_ns", "TIMESTAMP_NS", [](auto& r) { return micros_in_years(r, 1678, 2261) + "::TIMESTAMP_NS"; }},
    {"ok", "BOOLEAN", [](auto& r) { return std::string(r() % 2 ? "true" : "false"); }},
};

std::unique_ptr<source::duckdb::duckdb_source> random_table(std::mt19937_64& rng, std::size_t rows) {
    auto s = source::duckdb::duckdb_source::open("mem", {":memory:", false, {{"threads", "2"}}});
    if (!s) throw std::runtime_error(s.error().message);
    auto src = std::move(s).value();
    const auto exec = [&](const std::string& sql) {
        auto r = src->run(source::query{sql, {}, model::deadline::after(60s), "test", 10});
        if (!r) throw std::runtime_error(r.error().message + "\n" + sql.substr(0, 2000));
    };
    std::string create = "create table t (id INTEGER";
    for (const auto& c : columns) create += ", " + source::duckdb::quote_identifier(c.name) + " " + c.type;
    exec(create + ")");
    for (std::size_t at = 0; at < rows;) {
        std::string insert = "insert into t values ";
        const std::size_t end = std::min(rows, at + 500);
        for (; at < end; ++at) {
            insert += (insert.back() == ' ' ? "(" : ", (") + std::to_string(at);
            for (const auto& c : columns) insert += ", " + (rng() % 6 == 0 ? std::string("NULL") : c.literal(rng));
            insert += ')';
        }
        exec(insert);
    }
    return src;
}

// The whole body `run_export` wrote (its queue is big enough never to wait).
std::string exported(source::source& src, const source::query& q, output_format f, config::row_format shape) {
    export_request req;
    req.query = &q;
    req.format = f;
    req.rows = shape;
    req.started = model::clock::now();
    req.max_buffered = std::size_t{1} << 30;
    std::shared_ptr<body_stream> body;
    auto outcome = run_export(src, req, [&](response head) { body = head.stream; });
    EXPECT_FALSE(outcome.error) << outcome.error->message;
    std::string out;
    if (!body) return out;
    for (;;) {
        auto piece = body->next();
        if (piece.state != body_stream::piece::kind::bytes) {
            EXPECT_EQ(piece.state, body_stream::piece::kind::done);
            return out;
        }
        out += piece.bytes;
    }
}

long long time_ms_of(const std::string& envelope) {
    const auto at = envelope.rfind("\"time_ms\":");
    return at == std::string::npos ? -1 : std::stoll(envelope.substr(at + 10));
}

TEST(export_duckdb, streamed_bytes_equal_the_unstreamed_answer_over_random_tables_of_every_type) {
    std::mt19937_64 rng(113);
    const std::size_t sizes[] = {0, 1, 2047, 2049, 4097};
    for (int round = 0; round < frost::testing::rounds(6); ++round) {
        const auto rows = round < 5 ? sizes[round] : 1 + rng() % 4100;
        auto src = random_table(rng, rows);
        const source::query q{"select * from t order by id", {}, model::deadline::after(60s), "test", 1'000'000};
        auto whole = src->run(q);
        ASSERT_TRUE(whole) << whole.error().message;
        ASSERT_EQ(whole.value().rows.size(), rows);
        for (auto f : all_output_formats) {
            for (auto shape : {config::row_format::arrays, config::row_format::objects}) {
                const auto got = exported(*src, q, f, shape);
                const auto ms = f == output_format::json || f == output_format::objects ? time_ms_of(got) : 0;
                const auto expected = encode_table(whole.value(), f, shape, ms);
                ASSERT_EQ(got.size(), expected.size()) << rows << " rows, " << format_name(f);
                ASSERT_TRUE(got == expected)
                    << rows << " rows, " << format_name(f) << ": first difference at byte "
                    << std::mismatch(got.begin(), got.end(), expected.begin()).first - got.begin();
            }
        }
    }
}

}  // namespace
}  // namespace frost::api
