#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <limits>
#include <optional>
#include <random>

#include "api/formats.hpp"
#include "api/render.hpp"

namespace frost::api {
namespace {

// An RFC 4180 reader written from the RFC, independent of the writer: records end in CRLF,
// a field is quoted or not, `""` inside quotes is one quote. nullopt is an unquoted empty field.
using csv_record = std::vector<std::optional<std::string>>;
std::vector<csv_record> read_csv(std::string_view s) {
    std::vector<csv_record> records;
    std::size_t i = 0;
    while (i < s.size()) {
        csv_record rec;
        for (;;) {
            std::optional<std::string> field;
            if (i < s.size() && s[i] == '"') {
                field.emplace();
                ++i;
                for (;;) {
                    EXPECT_LT(i, s.size()) << "unterminated quoted field";
                    if (i >= s.size()) return records;
                    if (s[i] == '"') {
                        if (i + 1 < s.size() && s[i + 1] == '"') {
                            *field += '"';
                            i += 2;
                            continue;
                        }
                        ++i;
                        break;
                    }
                    *field += s[i++];
                }
            } else {
                std::string text;
                while (i < s.size() && s[i] != ',' && s[i] != '\r') {
                    EXPECT_NE(s[i], '"') << "a quote in an unquoted field";
                    EXPECT_NE(s[i], '\n') << "a bare LF";
                    text += s[i++];
                }
                if (!text.empty()) field = std::move(text);
            }
            rec.push_back(std::move(field));
            if (i < s.size() && s[i] == ',') {
                ++i;
                continue;
            }
            EXPECT_TRUE(i + 1 < s.size() + 1 && s.substr(i, 2) == "\r\n") << "record not ended by CRLF at " << i;
            i += 2;
            break;
        }
        records.push_back(std::move(rec));
    }
    return records;
}

// Whether a CSV field says what a JSON cell says: strings as themselves, numbers by value (JSON's
// reader turns `70.0` into a double, so texts differ where values do not), booleans as
// `true`/`false`, null as an absent field.
bool same_cell(const std::optional<std::string>& field, const boost::json::value& v) {
    if (v.is_null()) return !field.has_value();
    if (!field) return false;
    if (v.is_string()) return *field == std::string_view(v.as_string());
    if (v.is_bool()) return *field == (v.as_bool() ? "true" : "false");
    if (v.is_int64()) return *field == std::to_string(v.as_int64());
    if (v.is_uint64()) return *field == std::to_string(v.as_uint64());
    return v.is_double() && std::stod(*field) == v.as_double();
}

model::table sample_table(std::mt19937& rng, std::size_t rows) {
    model::table t;
    t.columns = {{"id", model::column_type::integer},   {"name, \"quoted\"", model::column_type::text},
                 {"temp", model::column_type::decimal}, {"day", model::column_type::date},
                 {"at", model::column_type::timestamp}, {"x", model::column_type::real},
                 {"ok", model::column_type::boolean}};
    const char alphabet[] = "ab ,\"\r\n\t\xc3\xa9\xff";
    for (std::size_t r = 0; r < rows; ++r) {
        std::vector<model::value> row;
        row.emplace_back(static_cast<std::int64_t>(rng()) - (1LL << 31));
        if (rng() % 5 == 0) {
            row.emplace_back(std::monostate{});
        } else {
            std::string s;
            for (int k = static_cast<int>(rng() % 8); k > 0; --k) s += alphabet[rng() % (sizeof alphabet - 1)];
            row.emplace_back(std::move(s));
        }
        row.emplace_back(model::decimal{static_cast<std::int64_t>(rng() % 2000) - 1000, 1});
        row.emplace_back(model::date{static_cast<std::int32_t>(rng() % 40000)});
        row.emplace_back(
            model::timestamp{static_cast<std::int64_t>(rng() % 2'000'000'000) * 1'000'000 + (rng() % 2 ? 0 : 123'000)});
        const double reals[] = {0.5, -1e300, 3.25, std::numeric_limits<double>::quiet_NaN(), 1.0 / 3.0};
        row.emplace_back(reals[rng() % 5]);
        row.emplace_back(rng() % 3 == 0 ? model::value{std::monostate{}} : model::value{rng() % 2 == 0});
        t.rows.push_back(std::move(row));
    }
    return t;
}

// Replaces invalid UTF-8 the way every encoder must, so expectations compare with what JSON says.
std::string json_view_of(std::string_view s) {
    std::string quoted;
    append_json_string(quoted, s);
    return std::string(boost::json::parse(quoted).as_string());
}

TEST(formats, json_is_render_envelope_byte_for_byte) {
    std::mt19937 rng(7);
    for (int n : {0, 1, 5, 40}) {
        const auto t = sample_table(rng, static_cast<std::size_t>(n));
        for (auto shape : {config::row_format::arrays, config::row_format::objects})
            EXPECT_EQ(encode_table(t, output_format::json, shape, 17), render_envelope(t, shape, 17));
        EXPECT_EQ(encode_table(t, output_format::objects, config::row_format::arrays, 17),
                  render_envelope(t, config::row_format::objects, 17));
    }
}

// The oracle for CSV and NDJSON is the JSON envelope: every cell of every row says the same.
TEST(formats, csv_and_ndjson_rows_equal_the_json_rows) {
    std::mt19937 rng(11);
    for (int round = 0; round < 50; ++round) {
        const auto t = sample_table(rng, rng() % 30);
        const auto json = boost::json::parse(render_envelope(t, config::row_format::arrays, 0));
        const auto& rows = json.at("result").as_array();

        const auto csv = encode_table(t, output_format::csv, config::row_format::arrays, 0);
        const auto records = read_csv(csv);
        ASSERT_EQ(records.size(), rows.size() + 1);
        ASSERT_EQ(records[0].size(), t.columns.size());
        for (std::size_t c = 0; c < t.columns.size(); ++c) EXPECT_EQ(records[0][c], t.columns[c].name);
        for (std::size_t r = 0; r < rows.size(); ++r) {
            const auto& row = rows[r].as_array();
            ASSERT_EQ(records[r + 1].size(), row.size());
            for (std::size_t c = 0; c < row.size(); ++c) {
                EXPECT_TRUE(same_cell(records[r + 1][c], row[c]))
                    << "row " << r << " column " << c << ": " << records[r + 1][c].value_or("(null)") << " vs "
                    << boost::json::serialize(row[c]);
            }
        }

        const auto nd = encode_table(t, output_format::ndjson, config::row_format::arrays, 0);
        std::size_t line = 0, at = 0;
        while (at < nd.size()) {
            const auto eol = nd.find('\n', at);
            ASSERT_NE(eol, std::string::npos) << "the last line lacks its newline";
            const auto obj = boost::json::parse(std::string_view(nd).substr(at, eol - at)).as_object();
            ASSERT_LT(line, rows.size());
            ASSERT_EQ(obj.size(), t.columns.size());
            std::size_t c = 0;
            for (const auto& kv : obj) {
                EXPECT_EQ(kv.key(), t.columns[c].name);
                EXPECT_EQ(kv.value(), rows[line].as_array()[c]);
                ++c;
            }
            ++line;
            at = eol + 1;
        }
        EXPECT_EQ(line, rows.size());
    }
}

TEST(formats, csv_quotes_only_where_needed_and_keeps_empty_text_apart_from_null) {
    model::table t;
    t.columns = {{"a", model::column_type::text}, {"b", model::column_type::text}, {"c", model::column_type::integer}};
    t.rows = {{std::string("plain"), std::string("x,y"), std::int64_t{1}},
              {std::string(""), std::monostate{}, std::monostate{}},
              {std::string("say \"hi\""), std::string("two\nlines"), std::int64_t{-3}},
              {std::string("bad \xff byte"), std::string(" spaced "), std::int64_t{0}}};
    EXPECT_EQ(encode_table(t, output_format::csv, config::row_format::arrays, 0),
              "a,b,c\r\nplain,\"x,y\",1\r\n\"\",,\r\n\"say \"\"hi\"\"\",\"two\nlines\",-3\r\n"
              "bad \xef\xbf\xbd byte, spaced ,0\r\n");
    EXPECT_EQ(json_view_of("bad \xff byte"), "bad \xef\xbf\xbd byte");
}

TEST(formats, dates_and_timestamps_are_iso_in_csv) {
    model::table t;
    t.columns = {{"d", model::column_type::date}, {"t", model::column_type::timestamp}};
    t.rows = {{model::date{15857}, model::timestamp{1370044801LL * 1'000'000}}};
    EXPECT_EQ(encode_table(t, output_format::csv, config::row_format::arrays, 0),
              "d,t\r\n2013-06-01,2013-06-01 00:00:01\r\n");
}

TEST(formats, rows_split_across_calls_give_the_same_bytes) {
    std::mt19937 rng(3);
    const auto t = sample_table(rng, 25);
    for (auto f : all_output_formats) {
        const auto whole = encode_table(t, f, config::row_format::arrays, 9, "cursor");
        std::string pieces;
        row_encoder e(f, config::row_format::arrays);
        e.begin(pieces, t.columns);
        std::size_t at = 0;
        while (at < t.rows.size()) {
            const std::size_t n = 1 + rng() % 7;
            e.rows(pieces, t, at, at + n);
            at += n;
        }
        e.end(pieces, 9, "cursor");
        EXPECT_EQ(pieces, whole) << format_name(f);
    }
}

TEST(formats, the_cursor_goes_into_the_envelope_and_the_last_ndjson_line) {
    model::table t;
    t.columns = {{"n", model::column_type::integer}};
    t.rows = {{std::int64_t{1}}};
    EXPECT_EQ(encode_table(t, output_format::json, config::row_format::arrays, 2, "abc"),
              R"({"result":[[1]],"next":"abc","time_ms":2})");
    EXPECT_EQ(encode_table(t, output_format::ndjson, config::row_format::arrays, 2, "abc"),
              "{\"n\":1}\n{\"@next\":\"abc\"}\n");
    EXPECT_EQ(encode_table(t, output_format::csv, config::row_format::arrays, 2, "abc"), "n\r\n1\r\n");
}

TEST(formats, names_and_media_types_round_trip) {
    for (auto f : all_output_formats) EXPECT_EQ(parse_format_name(format_name(f)), f);
    EXPECT_FALSE(parse_format_name("CSV"));
    EXPECT_FALSE(parse_format_name(""));
    EXPECT_EQ(content_type(output_format::csv), "text/csv; charset=utf-8");
    EXPECT_EQ(content_type(output_format::ndjson), "application/x-ndjson");
    EXPECT_EQ(content_type(output_format::json), "application/json");
}

}  // namespace
}  // namespace frost::api
