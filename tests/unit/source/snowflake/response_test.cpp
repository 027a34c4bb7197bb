#include <gtest/gtest.h>

#include <cmath>

#include "source/snowflake/response.hpp"

namespace sf = frost::source::snowflake;
namespace model = frost::model;

namespace {

sf::column_meta col(std::string type, std::optional<std::int64_t> scale = std::nullopt) {
    return {"C", std::move(type), scale, std::nullopt};
}

model::value decode(const sf::column_meta& c, std::string_view cell) {
    auto v = sf::decode_cell(c, cell);
    EXPECT_TRUE(v) << c.type << " \"" << cell << "\": " << (v ? "" : v.error().message);
    return v ? v.value() : model::value{};
}

bool fails(const sf::column_meta& c, std::string_view cell) {
    return !sf::decode_cell(c, cell);
}

// Expected days computed by hand: 2021-01-01 is 51 years after 1970 with 13 leap days
// (1972 … 2020): 51 * 365 + 13 = 18628; Snowflake's documented example: 2019-03-27 = 17982.
constexpr std::int32_t day_2021_01_01 = 18628;

}  // namespace

TEST(SnowflakeDecode, Fixed) {
    EXPECT_EQ(decode(col("fixed", 0), "42"), model::value{std::int64_t{42}});
    EXPECT_EQ(decode(col("fixed", 0), "-9223372036854775808"), model::value{std::numeric_limits<std::int64_t>::min()});
    EXPECT_EQ(decode(col("fixed", 2), "19.99"), (model::value{model::decimal{1999, 2}}));
    EXPECT_EQ(decode(col("fixed", 2), "-0.5"), (model::value{model::decimal{-50, 2}}));  // no padding
    EXPECT_EQ(decode(col("fixed", 2), "1.50"), (model::value{model::decimal{150, 2}}));
    EXPECT_EQ(decode(col("fixed", 1), "70.0"), (model::value{model::decimal{700, 1}}));
    EXPECT_EQ(decode(col("fixed", 0), "7"), model::value{std::int64_t{7}});
    // Wider than 64 bits: the exact digits stay text.
    EXPECT_EQ(decode(col("fixed", 0), "99999999999999999999999999999999999999"),
              model::value{std::string("99999999999999999999999999999999999999")});
    EXPECT_EQ(decode(col("fixed", 20), "0.00000000000000000001"), model::value{std::string("0.00000000000000000001")});
    EXPECT_TRUE(fails(col("fixed", 0), "abc"));
    EXPECT_TRUE(fails(col("fixed", 0), ""));
    EXPECT_TRUE(fails(col("fixed", 0), "1.2.3"));
    EXPECT_TRUE(fails(col("fixed", 0), "-"));
    EXPECT_EQ(sf::column_kind(col("fixed", 0)), model::column_type::integer);
    EXPECT_EQ(sf::column_kind(col("fixed", 2)), model::column_type::decimal);
}

TEST(SnowflakeDecode, Real) {
    EXPECT_EQ(decode(col("real"), "0.25"), model::value{0.25});
    EXPECT_EQ(decode(col("real"), "3"), model::value{3.0});
    EXPECT_EQ(decode(col("real"), "-1.5e-3"), model::value{-0.0015});
    EXPECT_EQ(decode(col("real"), "1e+20"), model::value{1e20});
    EXPECT_TRUE(std::isnan(std::get<double>(decode(col("real"), "NaN"))));
    EXPECT_EQ(decode(col("real"), "inf"), model::value{std::numeric_limits<double>::infinity()});
    EXPECT_EQ(decode(col("real"), "-Infinity"), model::value{-std::numeric_limits<double>::infinity()});
    EXPECT_TRUE(fails(col("real"), "0x10"));
    EXPECT_TRUE(fails(col("real"), "1,5"));
}

TEST(SnowflakeDecode, TextBooleanBinary) {
    EXPECT_EQ(decode(col("text"), "Ada \"L\" \xc3\xa9"), model::value{std::string("Ada \"L\" \xc3\xa9")});
    EXPECT_EQ(decode(col("boolean"), "true"), model::value{true});
    EXPECT_EQ(decode(col("boolean"), "FALSE"), model::value{false});
    EXPECT_TRUE(fails(col("boolean"), "yes"));
    EXPECT_EQ(decode(col("binary"), "48656c6C6F"), model::value{std::string("48656C6C6F")});  // "Hello"
    EXPECT_TRUE(fails(col("binary"), "486"));
    EXPECT_TRUE(fails(col("binary"), "zz"));
}

TEST(SnowflakeDecode, DateAndTime) {
    EXPECT_EQ(decode(col("date"), "18628"), model::value{model::date{day_2021_01_01}});
    EXPECT_EQ(decode(col("date"), "17982"), model::value{model::date{17982}});  // the docs' 2019-03-27
    EXPECT_EQ(decode(col("date"), "-1"), model::value{model::date{-1}});
    EXPECT_EQ(decode(col("date"), "2021-01-01"), model::value{model::date{day_2021_01_01}});  // formatted output
    EXPECT_TRUE(fails(col("date"), "01/02/x"));
    // TIME: seconds since midnight; the docs' 82919.000000000 is 23:01:59.
    EXPECT_EQ(decode(col("time", 9), "82919.000000000"), model::value{std::string("23:01:59")});
    EXPECT_EQ(decode(col("time", 9), "49530.500000000"), model::value{std::string("13:45:30.500000")});
    EXPECT_EQ(decode(col("time", 3), "0.001"), model::value{std::string("00:00:00.001000")});
    EXPECT_EQ(decode(col("time"), "13:45:30"), model::value{std::string("13:45:30")});
    EXPECT_TRUE(fails(col("time"), "86400.000000000"));
    EXPECT_EQ(sf::column_kind(col("time")), model::column_type::time);
}

TEST(SnowflakeDecode, Timestamps) {
    // 1611871777 s = 2021-01-28T22:09:37Z (18655 days * 86400 + 79777 s).
    const std::int64_t micros = 1'611'871'777'123'456;
    for (const auto* type : {"timestamp_ntz", "TIMESTAMP_LTZ", "Timestamp_Ntz"}) {
        sf::column_meta c = col(type, 9);
        for (auto& ch : c.type) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        EXPECT_EQ(decode(c, "1611871777.123456789"), model::value{model::timestamp{micros}});
        EXPECT_EQ(decode(c, "1611871777123456789"), model::value{model::timestamp{micros}});  // integer nanoseconds
        EXPECT_EQ(decode(c, "1611871777"), model::value{model::timestamp{1'611'871'777'000'000}});
        EXPECT_EQ(decode(c, "1611871777.1"), model::value{model::timestamp{1'611'871'777'100'000}});
    }
    EXPECT_EQ(decode(col("timestamp_ntz"), "-1.5"), model::value{model::timestamp{-1'500'000}});
    EXPECT_EQ(decode(col("timestamp_ntz"), "-0.0000005"), model::value{model::timestamp{-1}});  // rounded down
    EXPECT_EQ(decode(col("timestamp_ntz"), "2021-01-28 22:09:37.5"),
              model::value{model::timestamp{1'611'871'777'500'000}});
    // TZ: UTC instant and offset + 1440 minutes (1500 = +01:00, 960 = -08:00).
    EXPECT_EQ(decode(col("timestamp_tz"), "1611871777.123456789 1500"),
              model::value{std::string("2021-01-28 23:09:37.123456+01:00")});
    EXPECT_EQ(decode(col("timestamp_tz"), "1616173619000000000 960"),
              model::value{std::string("2021-03-19 09:06:59-08:00")});
    EXPECT_EQ(decode(col("timestamp_tz"), "0.000000000 1440"), model::value{std::string("1970-01-01 00:00:00+00:00")});
    EXPECT_TRUE(fails(col("timestamp_tz"), "1 x"));
    EXPECT_TRUE(fails(col("timestamp_ntz"), "yesterday"));
    EXPECT_TRUE(fails(col("timestamp_ntz"), "99999999999999999999999"));
}

TEST(SnowflakeDecode, SemiStructuredIsCompactJson) {
    EXPECT_EQ(decode(col("variant"), "{\n  \"a\": 1\n}"), model::value{std::string("{\"a\":1}")});
    EXPECT_EQ(decode(col("ARRAY"), "[\n  1,\n  \"x\"\n]"), model::value{std::string("[1,\"x\"]")});
    EXPECT_EQ(decode(col("object"), "{}"), model::value{std::string("{}")});
    // Not JSON (e.g. WKT): still valid JSON in the answer, as a string.
    EXPECT_EQ(decode(col("geography"), "POINT(1 2)"), model::value{std::string("\"POINT(1 2)\"")});
    // Invalid UTF-8 cannot be JSON text: replaced, never passed through (found by the fuzz corpus).
    EXPECT_EQ(decode(col("variant"), "\x1f\x8b\xff"), model::value{std::string("\"\\u001f\xef\xbf\xbd\xef\xbf\xbd\"")});
    // Beyond double: Boost would write it back as non-JSON, so the (valid) text is kept (found by libFuzzer).
    EXPECT_EQ(decode(col("variant"), "[9E900]"), model::value{std::string("[9E900]")});
    EXPECT_EQ(sf::column_kind(col("variant")), model::column_type::json);
}

TEST(SnowflakeDecode, NullAndUnknownTypes) {
    EXPECT_EQ(sf::decode_cell(col("fixed", 0), std::nullopt).value(), model::value{});
    EXPECT_EQ(decode(col("interval_day_time"), "1 02:00:00"), model::value{std::string("1 02:00:00")});
    EXPECT_EQ(sf::column_kind(col("interval_day_time")), model::column_type::text);
}

TEST(SnowflakeResultSet, ParsesTheDocumentedShape) {
    // A ResultSet shaped like Snowflake's documented example, with lower-case and upper-case type names mixed.
    const std::string body = R"({
      "resultSetMetaData": {"numRows": 3, "format": "jsonv2",
        "partitionInfo": [{"rowCount": 2, "uncompressedSize": 112}, {"rowCount": 1, "uncompressedSize": 20, "compressedSize": 10}],
        "rowType": [
          {"name": "ID", "database": "SALES", "schema": "PUBLIC", "table": "CUSTOMERS", "type": "FIXED",
           "scale": 0, "precision": 38, "length": null, "byteLength": null, "nullable": false, "collation": null},
          {"name": "NAME", "database": "SALES", "schema": "PUBLIC", "table": "CUSTOMERS", "type": "text",
           "scale": null, "precision": null, "length": 200, "byteLength": 800, "nullable": true, "collation": null}]},
      "data": [["1001", "Ada"], ["1002", null]],
      "code": "090001", "statementStatusUrl": "/api/v2/statements/01b8f3c2-0004-2a1e-0000-00a1b2c3d4e5?requestId=x",
      "sqlState": "00000", "statementHandle": "01b8f3c2-0004-2a1e-0000-00a1b2c3d4e5",
      "message": "Statement executed successfully.", "createdOn": 1717171717123})";
    auto rs = sf::parse_result_set(body);
    ASSERT_TRUE(rs) << rs.error().message;
    EXPECT_EQ(rs.value().status.handle, "01b8f3c2-0004-2a1e-0000-00a1b2c3d4e5");
    EXPECT_EQ(rs.value().num_rows, 3);
    ASSERT_EQ(rs.value().partition_rows.size(), 2u);
    ASSERT_EQ(rs.value().first.columns.size(), 2u);
    EXPECT_EQ(rs.value().first.columns[0].name, "ID");
    EXPECT_EQ(rs.value().first.columns[0].type, model::column_type::integer);
    ASSERT_EQ(rs.value().first.rows.size(), 2u);
    EXPECT_EQ(rs.value().first.rows[0][0], model::value{std::int64_t{1001}});
    EXPECT_EQ(rs.value().first.rows[1][1], model::value{});

    std::vector<std::vector<model::value>> more;
    ASSERT_TRUE(sf::parse_partition(R"({"data":[["1003","Bo"]]})", rs.value().columns, 1, more));
    ASSERT_EQ(more.size(), 1u);
    EXPECT_EQ(more[0][1], model::value{std::string("Bo")});
}

TEST(SnowflakeResultSet, RejectsWhatCannotBeTrusted) {
    const std::string meta = R"("rowType":[{"name":"A","type":"fixed","scale":0}])";
    auto bad = [](const std::string& body) { return !sf::parse_result_set(body); };
    EXPECT_TRUE(bad(""));
    EXPECT_TRUE(bad("<html>502</html>"));
    EXPECT_TRUE(bad("[]"));
    EXPECT_TRUE(bad(R"({"data":[["1"]]})"));                                                        // no metadata
    EXPECT_TRUE(bad(R"({"resultSetMetaData":{"numRows":1,)" + meta + R"(},"data":[["1","2"]]})"));  // row width
    EXPECT_TRUE(bad(R"({"resultSetMetaData":{"numRows":1,)" + meta + R"(},"data":[[{"x":1}]]})"));  // not a string
    EXPECT_TRUE(bad(R"({"resultSetMetaData":{"numRows":5,)" + meta + R"(},"data":[["1"]]})"));      // numRows lies
    EXPECT_TRUE(bad(R"({"resultSetMetaData":{"numRows":1,"partitionInfo":[{"rowCount":2}],)" + meta +
                    R"(},"data":[["1"]]})"));  // partition 0 count lies
    EXPECT_TRUE(bad(R"({"resultSetMetaData":{"numRows":1,)" + meta + R"(},"data":[["x"]]})"));  // undecodable
    EXPECT_TRUE(bad(R"({"resultSetMetaData":{"numRows":1,)" + meta + R"(},"data":[["1"]])"));   // truncated
    EXPECT_FALSE(bad(R"({"resultSetMetaData":{"numRows":1,)" + meta + R"(},"data":[["1"]]})"));

    std::vector<std::vector<model::value>> rows;
    sf::column_meta a{"A", "fixed", 0, std::nullopt};
    EXPECT_FALSE(sf::parse_partition(R"({"data":[["1"]]})", {a}, 2, rows));  // fewer rows than promised
    EXPECT_FALSE(sf::parse_partition(R"({"rows":[["1"]]})", {a}, 1, rows));
    EXPECT_FALSE(sf::parse_partition(R"({"data":[["1"],)", {a}, 1, rows));
}

TEST(SnowflakeStatus, ParsesStatusBodies) {
    auto st = sf::parse_status(R"({"code":"333334","message":"Asynchronous execution in progress.",
        "statementHandle":"h-1","statementStatusUrl":"/api/v2/statements/h-1"})");
    ASSERT_TRUE(st);
    EXPECT_EQ(st.value().code, "333334");
    EXPECT_EQ(st.value().handle, "h-1");
    EXPECT_EQ(st.value().sql_state, "");
    EXPECT_FALSE(sf::parse_status("not json"));
}

TEST(SnowflakeStatus, SanitizeMessage) {
    EXPECT_EQ(sf::sanitize_message("SQL compilation error: error line 1 at position 7\ninvalid identifier 'NAMEE'"),
              "SQL compilation error: error line 1 at position 7 invalid identifier 'NAMEE'");
    EXPECT_EQ(sf::sanitize_message("a\x01\x02  b\t\tc"), "a b c");
    EXPECT_EQ(sf::sanitize_message(std::string(1000, 'x')).size(), 300u);
    // Never cut inside a UTF-8 sequence: "é" is two bytes.
    const auto cut = sf::sanitize_message("ab\xc3\xa9", 3);
    EXPECT_EQ(cut, "ab");
}
