#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <random>

#include "api/render.hpp"

namespace frost::api {
namespace {

// Oracle: Boost.JSON must parse what we write and give back the same text.
TEST(render, strings_round_trip_through_a_json_parser) {
    std::mt19937 rng(1);
    for (int i = 0; i < 5000; ++i) {
        std::string s;
        const int n = static_cast<int>(rng() % 40);
        for (int k = 0; k < n; ++k) s += static_cast<char>(rng() % 128);
        std::string out;
        append_json_string(out, s);
        boost::system::error_code ec;
        auto v = boost::json::parse(out, ec);
        ASSERT_FALSE(ec) << out;
        ASSERT_EQ(std::string(v.as_string()), s);
    }
}

TEST(render, invalid_utf8_becomes_replacement_characters) {
    std::string out;
    append_json_string(out,
                       "a\xff"
                       "b\xc3");
    boost::system::error_code ec;
    auto v = boost::json::parse(out, ec);
    ASSERT_FALSE(ec);
    EXPECT_EQ(std::string(v.as_string()),
              "a\xef\xbf\xbd"
              "b\xef\xbf\xbd");
    out.clear();
    append_json_string(out, "caf\xc3\xa9 \xf0\x9f\x9a\xb2");
    EXPECT_EQ(out, "\"caf\xc3\xa9 \xf0\x9f\x9a\xb2\"");
}

TEST(render, envelope_has_typed_values) {
    model::table t;
    t.columns = {{"trip_count", model::column_type::integer},
                 {"month", model::column_type::text},
                 {"temp", model::column_type::decimal},
                 {"d", model::column_type::date},
                 {"x", model::column_type::real},
                 {"n", model::column_type::integer}};
    t.rows.push_back(
        {std::int64_t{1234}, std::string("Jan"), model::decimal{700, 1}, model::date{15857}, 0.5, std::monostate{}});
    t.rows.push_back({std::int64_t{-1}, std::string("\"q\""), model::decimal{-5, 0}, model::date{0},
                      std::numeric_limits<double>::infinity(), std::int64_t{0}});
    const auto arrays = render_envelope(t, config::row_format::arrays, 12);
    EXPECT_EQ(
        arrays,
        R"({"result":[[1234,"Jan",70.0,"2013-06-01",0.5,null],[-1,"\"q\"",-5,"1970-01-01",null,0]],"time_ms":12})");
    const auto objects = boost::json::parse(render_envelope(t, config::row_format::objects, 3));
    EXPECT_EQ(objects.at("result").at(0).at("trip_count").as_int64(), 1234);
    EXPECT_EQ(objects.at("result").at(0).at("month").as_string(), "Jan");
    EXPECT_EQ(objects.at("time_ms").as_int64(), 3);
}

TEST(render, errors_have_one_shape) {
    const auto body = render_error({model::error_code::bad_parameter, "parameter x: \"bad\"", "", "use y"});
    const auto v = boost::json::parse(body);
    EXPECT_EQ(v.at("error").as_string(), "parameter x: \"bad\"");
    EXPECT_EQ(v.at("code").as_string(), "FR400");
    EXPECT_EQ(v.at("hint").as_string(), "use y");
    EXPECT_FALSE(v.as_object().contains("details"));
    EXPECT_EQ(render_error({model::error_code::not_found, "Not found!", {}, {}}),
              R"({"error":"Not found!","code":"FR404"})");
}

TEST(render, every_error_code_maps_to_a_distinct_wire_code_and_a_sane_status) {
    std::set<std::string_view> names;
    for (int c = 0; c <= static_cast<int>(model::error_code::internal); ++c) {
        const auto code = static_cast<model::error_code>(c);
        EXPECT_TRUE(names.insert(model::code_name(code)).second) << model::code_name(code);
        const int status = model::http_status(code);
        EXPECT_TRUE(status >= 400 && status <= 599) << status;
    }
}

}  // namespace
}  // namespace frost::api
