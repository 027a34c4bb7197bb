#include <gtest/gtest.h>

#include "api/params.hpp"

namespace frost::api {
namespace {

config::endpoint_config report_endpoint() {
    config::endpoint_config e;
    e.path = "/trips/monthly";
    config::date_range_config d;
    d.start_aliases = {"start"};
    d.end_aliases = {"end"};
    d.random_param = "random";
    d.random_from = *model::parse_date("2019-05-01");
    d.random_to = *model::parse_date("2020-04-30");
    e.date_range = d;
    return e;
}

model::result<std::vector<source::parameter>> bind_query(const config::endpoint_config& e, const query_pairs& q) {
    static std::mt19937_64 rng{7};
    return bind_params(e, q, rng);
}

const model::value& find(const std::vector<source::parameter>& ps, const std::string& name) {
    for (const auto& p : ps)
        if (p.name == name) return p.value;
    throw std::runtime_error("no parameter " + name);
}

TEST(params, no_range_binds_two_nulls) {
    auto r = bind_query(report_endpoint(), {});
    ASSERT_TRUE(r);
    EXPECT_TRUE(std::holds_alternative<std::monostate>(find(r.value(), "start_range")));
    EXPECT_TRUE(std::holds_alternative<std::monostate>(find(r.value(), "end_range")));
}

TEST(params, iso_and_seed_dates_bind_the_same_days) {
    auto iso = bind_query(report_endpoint(), {{"start_range", "2013-06-01"}, {"end_range", "2013-07-31"}});
    auto seed = bind_query(report_endpoint(), {{"start_range", "06/01/2013"}, {"end_range", "07/31/2013"}});
    auto alias = bind_query(report_endpoint(), {{"start", "06/01/2013"}, {"end", "2013-07-31"}});
    ASSERT_TRUE(iso && seed && alias);
    for (const auto* r : {&seed, &alias}) {
        EXPECT_EQ(std::get<model::date>(find(r->value(), "start_range")), *model::parse_date("2013-06-01"));
        EXPECT_EQ(std::get<model::date>(find(r->value(), "end_range")), *model::parse_date("2013-07-31"));
    }
    EXPECT_EQ(std::get<model::date>(find(iso.value(), "end_range")), *model::parse_date("2013-07-31"));
}

TEST(params, a_single_day_range_is_allowed) {
    EXPECT_TRUE(bind_query(report_endpoint(), {{"start_range", "2014-01-01"}, {"end_range", "2014-01-01"}}));
}

TEST(params, one_bound_only_is_a_400_naming_the_missing_one) {
    auto r = bind_query(report_endpoint(), {{"start_range", "2013-06-01"}});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, model::error_code::missing_parameter);
    EXPECT_NE(r.error().message.find("end_range"), std::string::npos);
    auto r2 = bind_query(report_endpoint(), {{"end", "2013-06-01"}});
    ASSERT_FALSE(r2);
    EXPECT_NE(r2.error().message.find("start_range"), std::string::npos);
}

TEST(params, start_after_end_is_rejected) {
    auto r = bind_query(report_endpoint(), {{"start_range", "2014-01-02"}, {"end_range", "2014-01-01"}});
    ASSERT_FALSE(r);
    EXPECT_EQ(model::http_status(r.error().code), 400);
}

TEST(params, bad_dates_name_the_parameter) {
    for (const char* bad : {"2013-02-30", "yesterday", "2013-06-01'; drop table trips; --", "", "2013-06-01%00"}) {
        auto r = bind_query(report_endpoint(), {{"start_range", bad}, {"end_range", "2013-07-31"}});
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, model::error_code::bad_parameter);
        EXPECT_NE(r.error().message.find("start_range"), std::string::npos);
    }
}

TEST(params, unknown_and_repeated_parameters) {
    auto unknown = bind_query(report_endpoint(), {{"stat_range", "2013-06-01"}});
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, model::error_code::unknown_parameter);
    auto twice =
        bind_query(report_endpoint(), {{"start", "2013-06-01"}, {"start_range", "2013-06-02"}, {"end", "2013-06-03"}});
    ASSERT_FALSE(twice);
    auto lenient = report_endpoint();
    lenient.strict = false;
    EXPECT_TRUE(bind_query(lenient, {{"utm_source", "x"}}));
}

TEST(params, random_picks_an_ordered_range_inside_the_window) {
    const auto from = *model::parse_date("2019-05-01"), to = *model::parse_date("2020-04-30");
    bool saw_different = false;
    model::date first{};
    for (int i = 0; i < 500; ++i) {
        auto r = bind_query(report_endpoint(), {{"random", "true"}});
        ASSERT_TRUE(r);
        const auto s = std::get<model::date>(find(r.value(), "start_range"));
        const auto e = std::get<model::date>(find(r.value(), "end_range"));
        ASSERT_LE(from, s);
        ASSERT_LE(s, e);
        ASSERT_LE(e, to);
        if (i == 0)
            first = s;
        else if (s != first)
            saw_different = true;
    }
    EXPECT_TRUE(saw_different);
    auto off = bind_query(report_endpoint(), {{"random", "false"}});
    ASSERT_TRUE(off);
    EXPECT_TRUE(std::holds_alternative<std::monostate>(find(off.value(), "start_range")));
    EXPECT_FALSE(bind_query(report_endpoint(), {{"random", "yes please"}}));
    EXPECT_FALSE(bind_query(report_endpoint(), {{"random", "true"}, {"start", "2019-06-01"}, {"end", "2019-06-02"}}));
}

config::endpoint_config typed_endpoint() {
    config::endpoint_config e;
    e.path = "/t";
    config::param_config limit;
    limit.name = "limit";
    limit.type = config::param_type::integer;
    limit.minimum = 1;
    limit.maximum = 1000;
    limit.default_value = "10";
    config::param_config ratio;
    ratio.name = "ratio";
    ratio.type = config::param_type::number;
    config::param_config flag;
    flag.name = "flag";
    flag.type = config::param_type::boolean;
    config::param_config kind;
    kind.name = "kind";
    kind.allowed = {"Subscriber", "Customer"};
    config::param_config station;
    station.name = "station";
    station.type = config::param_type::integer;
    station.required = true;
    station.aliases = {"s"};
    e.params = {limit, ratio, flag, kind, station};
    return e;
}

TEST(params, typed_values_defaults_and_requirements) {
    auto ok = bind_query(typed_endpoint(), {{"s", "72"}, {"ratio", "0.5"}, {"flag", "true"}, {"kind", "Customer"}});
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(std::get<std::int64_t>(find(ok.value(), "limit")), 10);
    EXPECT_EQ(std::get<std::int64_t>(find(ok.value(), "station")), 72);
    EXPECT_DOUBLE_EQ(std::get<double>(find(ok.value(), "ratio")), 0.5);
    EXPECT_EQ(std::get<bool>(find(ok.value(), "flag")), true);
    EXPECT_EQ(std::get<std::string>(find(ok.value(), "kind")), "Customer");

    const query_pairs bad_inputs[] = {
        {},                                     // station missing
        {{"station", "7x"}},                    // not an integer
        {{"station", "1"}, {"limit", "0"}},     // below minimum
        {{"station", "1"}, {"limit", "1001"}},  // above maximum
        {{"station", "1"}, {"limit", "99999999999999999999"}},
        {{"station", "1"}, {"ratio", "nan"}},
        {{"station", "1"}, {"ratio", "inf"}},
        {{"station", "1"}, {"flag", "maybe"}},
        {{"station", "1"}, {"kind", "subscriber"}},  // enum is exact
        {{"station", "1"}, {"kind", std::string(300, 'a')}},
        {{"station", "1"}, {"kind", std::string("Cust\0omer", 9)}},
        {{"station", "1"}, {"kind", "\xff\xfe"}},
    };
    for (const auto& q : bad_inputs) {
        auto r = bind_query(typed_endpoint(), q);
        EXPECT_FALSE(r);
        if (!r) {
            EXPECT_EQ(model::http_status(r.error().code), 400);
        }
    }
}

TEST(params, split_target_decodes_and_rejects_bad_escapes) {
    auto t = split_target("/trips/monthly?start_range=06%2F01%2F2013&end_range=2013-07-31&x=a+b");
    ASSERT_TRUE(t);
    EXPECT_EQ(t.value().first, "/trips/monthly");
    ASSERT_EQ(t.value().second.size(), 3u);
    EXPECT_EQ(t.value().second[0].second, "06/01/2013");
    EXPECT_EQ(t.value().second[2].second, "a b");
    EXPECT_FALSE(split_target("/trips/monthly?start_range=%zz"));
    EXPECT_FALSE(split_target("http://evil.example/trips"));
    EXPECT_FALSE(split_target("*"));
    auto root = split_target("/");
    ASSERT_TRUE(root);
    EXPECT_EQ(root.value().first, "/");
}

// Issue 15.3: empty pairs (`?`, `?&`, a leading or trailing `&`, `&&`) are ignored, as every
// mainstream framework does; a pair with a name or an `=` is still a pair.
TEST(params, split_target_ignores_empty_pairs) {
    const auto plain = split_target("/trips/monthly?start_range=2013-06-01&end_range=2013-07-31");
    ASSERT_TRUE(plain);
    for (const char* t : {"/trips/monthly?&start_range=2013-06-01&end_range=2013-07-31",
                          "/trips/monthly?start_range=2013-06-01&end_range=2013-07-31&",
                          "/trips/monthly?start_range=2013-06-01&&end_range=2013-07-31",
                          "/trips/monthly?&&start_range=2013-06-01&&&end_range=2013-07-31&&"}) {
        auto got = split_target(t);
        ASSERT_TRUE(got) << t;
        EXPECT_EQ(got.value().first, "/trips/monthly") << t;
        EXPECT_EQ(got.value().second, plain.value().second) << t;
    }
    for (const char* t : {"/trips/monthly?", "/trips/monthly?&", "/trips/monthly?&&", "/trips/monthly"}) {
        auto got = split_target(t);
        ASSERT_TRUE(got) << t;
        EXPECT_EQ(got.value().first, "/trips/monthly") << t;
        EXPECT_TRUE(got.value().second.empty()) << t;
        EXPECT_TRUE(bind_query(report_endpoint(), got.value().second)) << t;
    }
    // `=` alone is a pair with an empty name: still an unknown parameter, not silently dropped.
    auto named = split_target("/trips/monthly?=1");
    ASSERT_TRUE(named);
    ASSERT_EQ(named.value().second.size(), 1u);
    EXPECT_FALSE(bind_query(report_endpoint(), named.value().second));
    // A name without a value is a pair too (`?flag`), with an empty value.
    auto flag = split_target("/x?flag&");
    ASSERT_TRUE(flag);
    ASSERT_EQ(flag.value().second.size(), 1u);
    EXPECT_EQ(flag.value().second[0], (std::pair<std::string, std::string>{"flag", ""}));
}

}  // namespace
}  // namespace frost::api
