// Issue 15, defect 4: ill-formed UTF-8 in a query value (a lone surrogate, a code point above
// U+10FFFF, an overlong '/') is refused with a 400 whose body is valid UTF-8 JSON, and the
// bytes are not copied into it. Boost.JSON's parser (which rejects ill-formed UTF-8) is the
// oracle for "valid UTF-8 JSON".
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <random>

#include "api/params.hpp"
#include "api/render.hpp"
#include "api/service.hpp"

namespace frost::api {
namespace {

const char* const hostile_values[] = {"\xed\xa0\x80",         "\xed\xbf\xbf", "\xf4\x90\x80\x80", "\xc0\xaf",
                                      "2019-01-\xed\xa0\x80", "\xe0\x80\xaf", "\xf5\x80\x80\x80"};

config::endpoint_config report_endpoint() {
    config::endpoint_config e;
    e.path = "/trips/monthly";
    config::param_config station;
    station.name = "station";
    station.type = config::param_type::string;
    e.params.push_back(station);
    e.date_range = config::date_range_config{};
    return e;
}

void expect_clean_400(const model::result<std::vector<source::parameter>>& r, const std::string& bad) {
    ASSERT_FALSE(r) << "accepted " << testing::PrintToString(bad);
    const auto res = error_response(r.error());
    EXPECT_EQ(res.status, 400);
    boost::system::error_code ec;
    const auto body = std::string(res.body_view());
    const auto doc = boost::json::parse(body, ec);
    ASSERT_FALSE(ec) << "not valid UTF-8 JSON: " << testing::PrintToString(body);
    EXPECT_TRUE(doc.is_object());
    EXPECT_EQ(body.find(bad), std::string::npos) << "the raw bytes were echoed: " << testing::PrintToString(body);
}

TEST(invalid_utf8, in_a_date_bound_is_a_400_with_a_valid_json_body) {
    std::mt19937_64 rng{1};
    for (const std::string bad : hostile_values) {
        expect_clean_400(bind_params(report_endpoint(), {{"start_range", bad}, {"end_range", "2019-01-31"}}, rng), bad);
        expect_clean_400(bind_params(report_endpoint(), {{"start_range", "2019-01-01"}, {"end_range", bad}}, rng), bad);
    }
}

TEST(invalid_utf8, in_a_text_parameter_is_a_400_and_never_reaches_sql) {
    std::mt19937_64 rng{1};
    for (const std::string bad : hostile_values) {
        expect_clean_400(bind_params(report_endpoint(), {{"station", bad}}, rng), bad);
        expect_clean_400(bind_params(report_endpoint(), {{"station", "ok " + bad}}, rng), bad);
    }
    // Well-formed text, astral plane and U+10FFFF included, still binds.
    auto ok = bind_params(report_endpoint(), {{"station", "caf\xc3\xa9 \xf0\x9f\x9a\xb2 \xf4\x8f\xbf\xbf"}}, rng);
    EXPECT_TRUE(ok);
}

TEST(invalid_utf8, json_strings_never_carry_ill_formed_bytes) {
    // Whatever text reaches an error message or a result cell, the JSON written is valid.
    for (const std::string bad : hostile_values) {
        std::string out;
        append_json_string(out, "x" + bad + "y");
        boost::system::error_code ec;
        const auto v = boost::json::parse(out, ec);
        ASSERT_FALSE(ec) << testing::PrintToString(out);
        const std::string text(v.as_string());
        EXPECT_EQ(text.front(), 'x');
        EXPECT_NE(text.find("\xef\xbf\xbd"), std::string::npos);
    }
}

}  // namespace
}  // namespace frost::api
