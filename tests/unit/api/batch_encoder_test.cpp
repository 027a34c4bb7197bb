// Streamed exports encode DuckDB's chunks straight from their vectors (`row_encoder::batch`).
// The oracle is the row encoder that every other answer uses (`row_encoder::row`) over the same
// cells made into values, on hand-made batches of every cell layout: NULLs, text with quotes,
// commas, CR/LF, control bytes and invalid UTF-8, inline (<= 12 bytes) and pointed-to strings,
// extreme integers, reals with many digits and non-finite ones, dates and timestamps of every
// unit across years 1..9999. Text is also checked against independent readers (Boost.JSON, an
// RFC 4180 reader), since both encoders share the string escapers.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "api/formats.hpp"
#include "api/render.hpp"
#include "codec/utf8.hpp"
#include "support/sanitized.hpp"

namespace frost::api {
namespace {

using model::cell_layout;

// One hand-made column: its cells' bytes, validity words, and the strings its cells point to.
struct owned_column {
    cell_layout layout = cell_layout::int64;
    model::column_type type = model::column_type::integer;
    std::uint8_t scale = 0;
    std::vector<unsigned char> bytes;
    std::vector<std::uint64_t> validity;
    std::vector<std::string> strings;  // reserved up front: cells point into them
};

template <typename T>
T load(const void* data, std::size_t row) {
    T x;
    std::memcpy(&x, static_cast<const char*>(data) + row * sizeof(T), sizeof(T));
    return x;
}

// The value of a cell, written from the layouts' definitions (model/column_batch.hpp).
model::value read_cell(const model::column_vector& v, std::size_t row) {
    switch (v.layout) {
        case cell_layout::boolean:
            return load<bool>(v.data, row);
        case cell_layout::int8:
            return std::int64_t{load<std::int8_t>(v.data, row)};
        case cell_layout::int16:
            return std::int64_t{load<std::int16_t>(v.data, row)};
        case cell_layout::int32:
            return std::int64_t{load<std::int32_t>(v.data, row)};
        case cell_layout::int64:
            return load<std::int64_t>(v.data, row);
        case cell_layout::uint8:
            return std::int64_t{load<std::uint8_t>(v.data, row)};
        case cell_layout::uint16:
            return std::int64_t{load<std::uint16_t>(v.data, row)};
        case cell_layout::uint32:
            return std::int64_t{load<std::uint32_t>(v.data, row)};
        case cell_layout::float32:
            return double{load<float>(v.data, row)};
        case cell_layout::float64:
            return load<double>(v.data, row);
        case cell_layout::decimal16:
            return model::decimal{load<std::int16_t>(v.data, row), v.scale};
        case cell_layout::decimal32:
            return model::decimal{load<std::int32_t>(v.data, row), v.scale};
        case cell_layout::decimal64:
            return model::decimal{load<std::int64_t>(v.data, row), v.scale};
        case cell_layout::date32:
            return model::date{load<std::int32_t>(v.data, row)};
        case cell_layout::timestamp_us:
            return model::timestamp{load<std::int64_t>(v.data, row)};
        case cell_layout::timestamp_s:
            return model::timestamp{load<std::int64_t>(v.data, row) * 1'000'000};
        case cell_layout::timestamp_ms:
            return model::timestamp{load<std::int64_t>(v.data, row) * 1'000};
        case cell_layout::timestamp_ns:
            return model::timestamp{load<std::int64_t>(v.data, row) / 1'000};
        case cell_layout::string16:
            return std::string(model::string16_at(v.data, row));
        case cell_layout::other:
            // An "other" column here holds int64 cells: a source that reads them itself.
            return load<std::int64_t>(v.data, row) * 3;
    }
    return {};
}

std::string random_text(std::mt19937_64& rng) {
    static const char* const pieces[] = {
        "a",        "Subscriber", ",",         "\"",       "\r",       "\n",   "\t",           "\\",
        "\x01",     "\x7f",       " ",         "\xc3\xa9", "\xe2\x82", "\xff", "\xed\xa0\x80", "\xf0\x9f\x9a\xb2",
        "\xc0\xaf", "/",          "0123456789"};
    std::string s;
    const auto n = rng() % 4 == 0 ? rng() % 40 : rng() % 6;
    for (std::size_t k = 0; k < n; ++k) s += pieces[rng() % std::size(pieces)];
    return s;
}

template <typename T>
void put(owned_column& c, T x) {
    const auto at = c.bytes.size();
    c.bytes.resize(at + sizeof(T));
    std::memcpy(c.bytes.data() + at, &x, sizeof(T));
}

owned_column make_column(cell_layout layout, std::size_t rows, std::mt19937_64& rng) {
    owned_column c;
    c.layout = layout;
    c.strings.reserve(rows);
    const bool nullable = rng() % 3 != 0;
    c.validity.assign((rows + 63) / 64, ~std::uint64_t{0});
    const auto pick = [&](const auto& edge_values, auto any) {
        return rng() % 4 == 0 ? edge_values[rng() % std::size(edge_values)] : any();
    };
    for (std::size_t r = 0; r < rows; ++r) {
        if (nullable && rng() % 5 == 0) c.validity[r / 64] &= ~(std::uint64_t{1} << (r % 64));
        const std::int64_t any64 = static_cast<std::int64_t>(rng());
        switch (layout) {
            case cell_layout::boolean:
                c.type = model::column_type::boolean;
                put(c, rng() % 2 == 0);
                break;
            case cell_layout::int8:
                put(c, static_cast<std::int8_t>(any64));
                break;
            case cell_layout::int16:
                put(c, static_cast<std::int16_t>(any64));
                break;
            case cell_layout::int32:
                put(c, static_cast<std::int32_t>(any64));
                break;
            case cell_layout::int64: {
                const std::int64_t edges[] = {0, -1, std::numeric_limits<std::int64_t>::min(),
                                              std::numeric_limits<std::int64_t>::max(), 1'000'000'007};
                put(c, pick(edges, [&] { return any64 >> (rng() % 64); }));
                break;
            }
            case cell_layout::uint8:
                put(c, static_cast<std::uint8_t>(any64));
                break;
            case cell_layout::uint16:
                put(c, static_cast<std::uint16_t>(any64));
                break;
            case cell_layout::uint32:
                put(c, static_cast<std::uint32_t>(any64));
                break;
            case cell_layout::float32: {
                c.type = model::column_type::real;
                const float edges[] = {
                    0.0F, -0.0F,      std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(),
                    0.1F, 16777217.0F};
                put(c, pick(edges, [&] { return std::bit_cast<float>(static_cast<std::uint32_t>(rng())); }));
                break;
            }
            case cell_layout::float64: {
                c.type = model::column_type::real;
                const double edges[] = {0.0,
                                        -0.0,
                                        -std::numeric_limits<double>::infinity(),
                                        std::numeric_limits<double>::quiet_NaN(),
                                        1.0 / 3.0,
                                        -1e300,
                                        5e-324,
                                        123456789012345680.0};
                put(c, pick(edges, [&] { return std::bit_cast<double>(static_cast<std::uint64_t>(rng())); }));
                break;
            }
            case cell_layout::decimal16:
                c.type = model::column_type::decimal;
                c.scale = 2;
                put(c, static_cast<std::int16_t>(static_cast<std::int16_t>(any64) % 10'000));
                break;
            case cell_layout::decimal32:
                c.type = model::column_type::decimal;
                c.scale = 3;
                put(c, static_cast<std::int32_t>(static_cast<std::int32_t>(any64) % 1'000'000'000));
                break;
            case cell_layout::decimal64:
                c.type = model::column_type::decimal;
                c.scale = 6;
                put(c, any64 % 1'000'000'000'000'000'000LL);
                break;
            case cell_layout::date32:
                c.type = model::column_type::date;
                put(c, static_cast<std::int32_t>(model::days_from_civil(1, 1, 1) +
                                                 static_cast<std::int32_t>(rng() % 3'652'059)));
                break;
            case cell_layout::timestamp_us:
            case cell_layout::timestamp_s:
            case cell_layout::timestamp_ms:
            case cell_layout::timestamp_ns: {
                c.type = model::column_type::timestamp;
                // Years 1..9999 in microseconds, then in the column's unit (ns: any int64, 1677..2262).
                const std::int64_t lo = static_cast<std::int64_t>(model::days_from_civil(1, 1, 1)) * 86'400'000'000LL;
                std::int64_t us = lo + static_cast<std::int64_t>(rng() % 315'537'897'600'000'000ULL);
                if (rng() % 3 == 0) us -= us % 1'000'000;
                if (layout == cell_layout::timestamp_us) put(c, us);
                if (layout == cell_layout::timestamp_s) put(c, us / 1'000'000);
                if (layout == cell_layout::timestamp_ms) put(c, us / 1'000);
                if (layout == cell_layout::timestamp_ns) put(c, any64);
                break;
            }
            case cell_layout::string16: {
                c.type = rng() % 8 == 0 ? model::column_type::json : model::column_type::text;
                c.strings.push_back(c.type == model::column_type::json ? "{\"k\":[1,2]}" : random_text(rng));
                const auto& s = c.strings.back();
                unsigned char cell[16] = {};
                const auto length = static_cast<std::uint32_t>(s.size());
                std::memcpy(cell, &length, 4);
                if (length <= 12) {
                    std::memcpy(cell + 4, s.data(), s.size());
                } else {
                    std::memcpy(cell + 4, s.data(), 4);
                    const char* p = s.data();
                    std::memcpy(cell + 8, &p, sizeof p);
                }
                c.bytes.insert(c.bytes.end(), cell, cell + 16);
                break;
            }
            case cell_layout::other:
                put(c, any64 / 4);
                break;
        }
    }
    if (!nullable && rng() % 2 == 0) c.validity.clear();  // no mask: every row valid
    return c;
}

constexpr cell_layout all_layouts[] = {
    cell_layout::other,       cell_layout::boolean,      cell_layout::int8,         cell_layout::int16,
    cell_layout::int32,       cell_layout::int64,        cell_layout::uint8,        cell_layout::uint16,
    cell_layout::uint32,      cell_layout::float32,      cell_layout::float64,      cell_layout::decimal16,
    cell_layout::decimal32,   cell_layout::decimal64,    cell_layout::date32,       cell_layout::timestamp_us,
    cell_layout::timestamp_s, cell_layout::timestamp_ms, cell_layout::timestamp_ns, cell_layout::string16,
};

struct random_batch {
    std::vector<owned_column> owned;
    std::vector<model::column> columns;
    std::vector<model::column_vector> vectors;
    std::size_t rows = 0;
};

std::vector<model::column_vector> vectors_of(const std::vector<owned_column>& owned) {
    std::vector<model::column_vector> out;
    for (const auto& o : owned) {
        model::column_vector v;
        v.layout = o.layout;
        v.scale = o.scale;
        v.data = o.bytes.data();
        v.validity = o.validity.empty() ? nullptr : o.validity.data();
        v.read = read_cell;
        out.push_back(v);
    }
    return out;
}

// A batch of 1..300 rows; of random columns, or of the same layouts and types as `like`.
random_batch make_batch(std::mt19937_64& rng, const random_batch* like = nullptr) {
    random_batch b;
    b.rows = 1 + rng() % 300;
    if (like) {
        for (const auto& o : like->owned) {
            b.owned.push_back(make_column(o.layout, b.rows, rng));
            b.owned.back().type = o.type;
        }
        b.columns = like->columns;
    } else {
        const std::size_t ncols = 1 + rng() % 8;
        for (std::size_t c = 0; c < ncols; ++c) {
            b.owned.push_back(make_column(all_layouts[rng() % std::size(all_layouts)], b.rows, rng));
            b.columns.push_back({"c" + std::to_string(c) + (rng() % 4 == 0 ? ",\"n\"\n" : ""), b.owned.back().type});
        }
    }
    b.vectors = vectors_of(b.owned);
    return b;
}

TEST(batch_encoder, equals_the_row_encoder_in_every_format_over_random_batches) {
    std::mt19937_64 rng(20261202);
    for (int round = 0; round < frost::testing::rounds(400); ++round) {
        // Several batches of the same columns, as one stream: the JSON envelope's commas span them.
        std::vector<random_batch> batches;
        batches.push_back(make_batch(rng));
        for (int more = static_cast<int>(rng() % 3); more > 0; --more) batches.push_back(make_batch(rng, &batches[0]));
        const auto& columns = batches.front().columns;
        for (auto format : all_output_formats) {
            for (auto shape : {config::row_format::arrays, config::row_format::objects}) {
                row_encoder by_rows(format, shape), by_batch(format, shape);
                std::string expected, got;
                by_rows.begin(expected, columns);
                by_batch.begin(got, columns);
                for (const auto& b : batches) {
                    for (std::size_t r = 0; r < b.rows; ++r) {
                        std::vector<model::value> row;
                        for (const auto& v : b.vectors) row.push_back(v.cell(r));
                        by_rows.row(expected, columns, row);
                    }
                    by_batch.batch(got, columns, model::column_batch{b.rows, b.vectors});
                }
                by_rows.end(expected, 5);
                by_batch.end(got, 5);
                ASSERT_EQ(got, expected) << "round " << round << ", format " << format_name(format);
            }
        }
    }
}

TEST(batch_encoder, an_empty_batch_writes_nothing) {
    std::mt19937_64 rng(3);
    auto b = make_batch(rng);
    for (auto format : all_output_formats) {
        row_encoder a(format, config::row_format::arrays), e(format, config::row_format::arrays);
        std::string got, expected;
        a.begin(got, b.columns);
        a.batch(got, b.columns, model::column_batch{0, b.vectors});
        a.end(got, 1);
        e.begin(expected, b.columns);
        e.end(expected, 1);
        EXPECT_EQ(got, expected);
    }
}

// The string escapers both encoders share, against independent readers: JSON text parses
// (Boost.JSON rejects invalid UTF-8) to the input with each ill-formed byte made U+FFFD, and a
// CSV field is quoted exactly when RFC 4180 needs it and reads back the same.
TEST(batch_encoder, text_is_valid_json_and_rfc4180_with_invalid_bytes_replaced) {
    std::mt19937_64 rng(99);
    for (int i = 0; i < frost::testing::rounds(20'000); ++i) {
        const auto s = random_text(rng);
        const auto clean = codec::utf8_or_replacement(s);
        std::string json;
        append_json_string(json, s);
        boost::system::error_code ec;
        const auto parsed = boost::json::parse(json, ec);
        ASSERT_FALSE(ec) << ::testing::PrintToString(json);
        ASSERT_EQ(std::string_view(parsed.as_string()), clean) << ::testing::PrintToString(s);

        std::string csv;
        append_csv_text(csv, s);
        const bool special = clean.empty() || clean.find_first_of(",\"\r\n") != std::string::npos;
        if (!special) {
            ASSERT_EQ(csv, clean);
            continue;
        }
        ASSERT_GE(csv.size(), 2U);
        ASSERT_EQ(csv.front(), '"');
        ASSERT_EQ(csv.back(), '"');
        std::string unquoted;
        for (std::size_t k = 1; k + 1 < csv.size(); ++k) {
            unquoted += csv[k];
            if (csv[k] == '"') {
                ASSERT_EQ(csv[k + 1], '"') << ::testing::PrintToString(csv);
                ++k;
            }
        }
        ASSERT_EQ(unquoted, clean);
    }
}

}  // namespace
}  // namespace frost::api
