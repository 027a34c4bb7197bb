// Content negotiation (issue 11.1, docs/formats.md) on the embedded default: every format's
// rows against the JSON answer and against DuckDB asked directly over random ranges, the 406,
// the `format` parameter, the cache and ETags per format, through the service, the HTTP server
// and the Lambda adapter.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cstdio>
#include <random>

#include "api/formats.hpp"
#include "lambda/event.hpp"
#include "source/duckdb/duckdb_source.hpp"
#include "support/test_server.hpp"

namespace frost::testing {
namespace {

using row = std::vector<std::string>;  // every cell as canonical text: numbers to 6 decimals

std::string canonical_number(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6f", v);
    return buf;
}

// A CSV or JSON-text cell: numbers canonical, anything else as it is.
std::string canonical_text(const std::string& s) {
    if (s.empty()) return s;
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    return end == s.c_str() + s.size() ? canonical_number(v) : s;
}

std::string canonical_json(const boost::json::value& c) {
    if (c.is_string()) return std::string(c.as_string());
    if (c.is_null()) return "";
    if (c.is_int64()) return canonical_number(static_cast<double>(c.as_int64()));
    if (c.is_number()) return canonical_number(c.to_number<double>());
    ADD_FAILURE() << "unexpected cell " << boost::json::serialize(c);
    return {};
}

std::vector<row> json_rows(const std::string& body) {
    std::vector<row> out;
    const auto parsed = boost::json::parse(body);  // held: the loop below reads into it
    for (const auto& r : parsed.at("result").as_array()) {
        row cells;
        for (const auto& c : r.as_array()) cells.push_back(canonical_json(c));
        out.push_back(std::move(cells));
    }
    return out;
}

std::vector<row> objects_rows(const std::string& body, std::vector<std::string>& names) {
    std::vector<row> out;
    const auto parsed = boost::json::parse(body);
    for (const auto& r : parsed.at("result").as_array()) {
        row cells;
        names.clear();
        for (const auto& kv : r.as_object()) {
            names.emplace_back(kv.key());
            cells.push_back(canonical_json(kv.value()));
        }
        out.push_back(std::move(cells));
    }
    return out;
}

std::vector<row> ndjson_rows(const std::string& body, std::vector<std::string>& names) {
    std::vector<row> out;
    std::size_t at = 0;
    while (at < body.size()) {
        const auto eol = body.find('\n', at);
        EXPECT_NE(eol, std::string::npos);
        if (eol == std::string::npos) break;
        const auto obj = boost::json::parse(body.substr(at, eol - at)).as_object();
        row cells;
        names.clear();
        for (const auto& kv : obj) {
            names.emplace_back(kv.key());
            cells.push_back(canonical_json(kv.value()));
        }
        out.push_back(std::move(cells));
        at = eol + 1;
    }
    return out;
}

// The seed's reports need no quoting: a plain split, header row apart. A quote or a bare LF
// would be a failure of the writer here.
std::vector<row> csv_rows(const std::string& body, std::vector<std::string>& header) {
    std::vector<row> out;
    std::size_t at = 0;
    bool first = true;
    while (at < body.size()) {
        const auto eol = body.find("\r\n", at);
        EXPECT_NE(eol, std::string::npos) << "records end in CRLF";
        if (eol == std::string::npos) break;
        const auto line = body.substr(at, eol - at);
        EXPECT_EQ(line.find_first_of("\"\n"), std::string::npos) << line;
        row cells;
        std::size_t from = 0;
        for (;;) {
            const auto comma = line.find(',', from);
            cells.push_back(canonical_text(line.substr(from, comma - from)));
            if (comma == std::string::npos) break;
            from = comma + 1;
        }
        if (first)
            header = std::move(cells);
        else
            out.push_back(std::move(cells));
        first = false;
        at = eol + 2;
    }
    return out;
}

// The seed's three queries asked of DuckDB directly (as in tests/integration/core/oracle_test.cpp).
std::string seed_sql(const std::string& report, const std::string& filter) {
    if (report == "monthly")
        return "select count(*) as trip_count, strftime(starttime, '%b') as month from demo.trips " + filter +
               " group by month(starttime), strftime(starttime, '%b') order by month(starttime)";
    if (report == "day_of_week")
        return "select count(*) as trip_count, strftime(starttime, '%a') as day_of_week from demo.trips " + filter +
               " group by dayofweek(starttime), strftime(starttime, '%a') order by dayofweek(starttime)";
    return "with weather_trips as (select * from demo.trips t inner join demo.weather w "
           "on date_trunc('day', t.starttime) = w.observation_date) "
           "select round(temp_avg_f, -1) as temp, count(*) as trip_count from weather_trips " +
           filter + " group by round(temp_avg_f, -1) order by round(temp_avg_f, -1) asc";
}

class negotiation : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        const auto path = sample_database();
        srv_ = std::make_unique<test_server>(default_config(path));
        auto db = source::duckdb::database::open(path, {{"access_mode", "READ_ONLY"}});
        if (!db) throw std::runtime_error(db.error().message);
        db_ = std::move(db).value();
        auto con = source::duckdb::connection::open(*db_);
        if (!con) throw std::runtime_error(con.error().message);
        con_ = std::move(con).value();
    }
    static void TearDownTestSuite() {
        con_.reset();
        db_.reset();
        srv_.reset();
    }

    static api::response call(const std::string& target, const std::string& accept = {}) {
        api::request req;
        req.target = target;
        if (!accept.empty()) req.headers.emplace_back("accept", accept);
        return srv_->service().handle_sync(std::move(req));
    }
    static std::string body(const api::response& r) { return std::string(r.body_view()); }

    static std::vector<row> oracle(const std::string& sql) {
        auto res = con_->execute(sql);
        if (!res) throw std::runtime_error(res.error().message);
        auto table = res.value().to_table(1000);
        if (!table) throw std::runtime_error(table.error().message);
        std::vector<row> out;
        for (const auto& r : table.value().rows) {
            row cells;
            for (const auto& v : r) {
                if (auto* s = std::get_if<std::string>(&v))
                    cells.push_back(*s);
                else if (auto* i = std::get_if<std::int64_t>(&v))
                    cells.push_back(canonical_number(static_cast<double>(*i)));
                else if (auto* d = std::get_if<model::decimal>(&v))
                    cells.push_back(canonical_number(std::stod(model::format_decimal(*d))));
                else if (auto* f = std::get_if<double>(&v))
                    cells.push_back(canonical_number(*f));
                else
                    throw std::runtime_error("unexpected oracle type");
            }
            out.push_back(std::move(cells));
        }
        return out;
    }

    static std::unique_ptr<test_server> srv_;
    static std::unique_ptr<source::duckdb::database> db_;
    static std::unique_ptr<source::duckdb::connection> con_;
};
std::unique_ptr<test_server> negotiation::srv_;
std::unique_ptr<source::duckdb::database> negotiation::db_;
std::unique_ptr<source::duckdb::connection> negotiation::con_;

TEST_F(negotiation, every_format_gives_the_json_rows_and_the_oracles_over_random_ranges) {
    std::mt19937 rng(20261202);
    const int lo = model::parse_date("2013-04-01")->days, hi = model::parse_date("2020-07-01")->days;
    std::uniform_int_distribution<int> day(lo, hi);
    const char* reports[] = {"monthly", "day_of_week", "temperature"};
    for (int i = 0; i < 60; ++i) {
        int a = day(rng), b = i % 5 == 0 ? a : day(rng);
        if (b < a) std::swap(a, b);
        const auto from = model::format_date({a}), to = model::format_date({b});
        const std::string report = reports[i % 3];
        const std::string target =
            (i % 4 == 3 ? "/sqlapi/trips/" : "/trips/") + report + "?start_range=" + from + "&end_range=" + to;
        const auto expected =
            oracle(seed_sql(report, "where starttime::date between date '" + from + "' and date '" + to + "'"));

        const auto json = call(target, "application/json");
        ASSERT_EQ(json.status, 200) << body(json);
        const auto rows = json_rows(body(json));
        ASSERT_EQ(rows, expected) << target;

        std::vector<std::string> names, header;
        // Half by Accept, half by the parameter.
        const auto csv = i % 2 ? call(target, "text/csv") : call(target + "&format=csv");
        ASSERT_EQ(csv.status, 200) << body(csv);
        EXPECT_EQ(csv.header("Content-Type"), "text/csv; charset=utf-8");
        EXPECT_EQ(csv_rows(body(csv), header), expected) << target;

        const auto nd = i % 2 ? call(target, "application/x-ndjson") : call(target + "&format=ndjson");
        ASSERT_EQ(nd.status, 200) << body(nd);
        EXPECT_EQ(nd.header("Content-Type"), "application/x-ndjson");
        EXPECT_EQ(ndjson_rows(body(nd), names), expected) << target;
        if (!expected.empty()) {
            EXPECT_EQ(names, header);  // keys as the SQL names them, in order
        }

        const auto obj = i % 2 ? call(target, "application/vnd.frost.objects+json") : call(target + "&format=objects");
        ASSERT_EQ(obj.status, 200) << body(obj);
        EXPECT_EQ(objects_rows(body(obj), names), expected) << target;
        if (!expected.empty()) {
            EXPECT_EQ(names, header);
        }
    }
}

TEST_F(negotiation, the_default_is_the_seed_json_whatever_the_generic_accept) {
    const auto plain = call("/trips/monthly?start_range=2019-01-01&end_range=2019-03-31");
    ASSERT_EQ(plain.status, 200);
    EXPECT_EQ(plain.header("Content-Type"), "application/json");
    const auto parsed = boost::json::parse(body(plain)).as_object();
    EXPECT_EQ(parsed.size(), 2u);
    EXPECT_TRUE(parsed.at("result").at(0).is_array());
    EXPECT_TRUE(parsed.contains("time_ms"));
    for (const std::string accept : {"application/json", "*/*", "application/*", "text/html, */*;q=0.8", "garbage"}) {
        const auto r = call("/trips/monthly?start_range=2019-01-01&end_range=2019-03-31", accept);
        ASSERT_EQ(r.status, 200) << accept;
        EXPECT_EQ(body(r), body(plain)) << accept;  // the same cache entry: byte for byte
        EXPECT_EQ(r.header("ETag"), plain.header("ETag")) << accept;
        EXPECT_EQ(r.header("Vary"), "Accept, Accept-Encoding");
    }
    EXPECT_EQ(call("/trips/monthly?format=json&start_range=2019-01-01&end_range=2019-03-31").header("ETag"),
              plain.header("ETag"));
}

TEST_F(negotiation, q_values_choose) {
    const std::string t = "/trips/day_of_week";
    EXPECT_EQ(call(t, "text/csv;q=0.9, application/x-ndjson").header("Content-Type"), "application/x-ndjson");
    EXPECT_EQ(call(t, "application/json;q=0.1, text/csv").header("Content-Type"), "text/csv; charset=utf-8");
    EXPECT_EQ(call(t, "text/*").header("Content-Type"), "text/csv; charset=utf-8");
    EXPECT_EQ(call(t, "*/*;q=0.5, application/json;q=0").header("Content-Type"), "application/vnd.frost.objects+json");
}

TEST_F(negotiation, an_unsatisfiable_accept_is_a_406_in_json_listing_the_offered_types) {
    for (const std::string accept : {"image/png", "text/html", "application/json;q=0, */*;q=0"}) {
        const auto r = call("/trips/monthly", accept);
        ASSERT_EQ(r.status, 406) << accept;
        EXPECT_EQ(r.header("Content-Type"), "application/json");
        EXPECT_EQ(r.header("Vary"), "Accept, Accept-Encoding");
        const auto e = boost::json::parse(body(r));
        EXPECT_EQ(e.at("code").as_string(), "FR406");
        const std::string details(e.at("details").as_string());
        for (auto f : api::all_output_formats)
            EXPECT_NE(details.find(std::string(api::media_type(f))), std::string::npos) << details;
    }
    // Stream endpoints offer their own list through the same negotiation; the others' words stay as
    // docs/formats.md shows them.
    const auto refused = boost::json::parse(body(call("/trips/monthly", "image/png"))).as_object();
    EXPECT_EQ(refused.at("error").as_string(), "none of the media types in Accept can be served here");
    EXPECT_EQ(refused.at("details").as_string(),
              "offered: application/json, application/vnd.frost.objects+json, application/x-ndjson, text/csv");
    EXPECT_EQ(refused.at("hint").as_string(),
              "send one of them in Accept, or choose with ?format=json|objects|ndjson|csv");
    // The parameter overrides Accept, for browsers and curl users.
    const auto r = call("/trips/monthly?format=csv", "image/png");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Content-Type"), "text/csv; charset=utf-8");
}

TEST_F(negotiation, a_bad_or_repeated_format_parameter_is_a_400) {
    for (const std::string q : {"format=xml", "format=CSV", "format=", "format=csv&format=json"}) {
        const auto r = call("/trips/monthly?" + q);
        ASSERT_EQ(r.status, 400) << q;
        EXPECT_EQ(boost::json::parse(body(r)).at("code").as_string(), "FR400") << q;
    }
    EXPECT_EQ(boost::json::parse(body(call("/trips/monthly?format=xml"))).at("error").as_string(),
              "parameter format: expected json, objects, ndjson or csv, got \"xml\"");
}

TEST_F(negotiation, the_cache_keys_on_the_format_and_etags_differ) {
    const std::string t = "/trips/temperature?start_range=2018-05-01&end_range=2018-06-30";
    std::set<std::string> etags;
    std::set<std::string> bodies;
    for (auto f : api::all_output_formats) {
        const auto first = call(t + "&format=" + std::string(api::format_name(f)));
        const auto again = call(t, std::string(api::media_type(f)));
        ASSERT_EQ(first.status, 200);
        ASSERT_EQ(again.status, 200);
        EXPECT_EQ(again.header("X-Cache"), "hit") << api::format_name(f);
        EXPECT_EQ(body(again), body(first)) << api::format_name(f);
        EXPECT_EQ(again.header("Content-Type"), api::content_type(f));
        EXPECT_EQ(again.header("Vary"), "Accept, Accept-Encoding");
        etags.insert(std::string(first.header("ETag")));
        bodies.insert(body(first));
    }
    EXPECT_EQ(etags.size(), 4u);
    EXPECT_EQ(bodies.size(), 4u);
    // A JSON ETag does not validate the CSV answer.
    api::request req;
    req.target = t + "&format=csv";
    req.headers.emplace_back("if-none-match", std::string(call(t).header("ETag")));
    EXPECT_EQ(srv_->service().handle_sync(std::move(req)).status, 200);
}

TEST_F(negotiation, curl_accept_csv_over_http_equals_the_json_rows) {
    const auto json = srv_->get("/trips/monthly");
    const auto csv = srv_->get("/trips/monthly", {{"Accept", "text/csv"}});
    ASSERT_EQ(json.status, 200);
    ASSERT_EQ(csv.status, 200) << csv.body;
    EXPECT_EQ(csv.header("content-type"), "text/csv; charset=utf-8");
    EXPECT_EQ(csv.header("vary"), "Accept, Accept-Encoding");
    std::vector<std::string> header;
    EXPECT_EQ(csv_rows(csv.body, header), json_rows(json.body));
    EXPECT_EQ(header, (std::vector<std::string>{"trip_count", "month"}));
    const auto refused = srv_->get("/trips/monthly", {{"Accept", "image/png"}});
    EXPECT_EQ(refused.status, 406);
}

TEST_F(negotiation, the_lambda_adapter_negotiates_the_same_way) {
    const std::string event = R"({"version":"2.0","rawPath":"/trips/day_of_week","rawQueryString":"format=ndjson",
        "headers":{"accept":"application/json"},
        "requestContext":{"http":{"method":"GET","sourceIp":"1.2.3.4"},"requestId":"r1"}})";
    auto parsed = lambda::parse_event(event);
    ASSERT_TRUE(parsed) << parsed.error().message;
    const auto res = srv_->service().handle_sync(parsed.value().request);
    const auto out = lambda::encode_response(parsed.value(), res);
    const auto payload = boost::json::parse(out.payload);
    EXPECT_EQ(payload.at("statusCode").as_int64(), 200);
    EXPECT_FALSE(payload.at("isBase64Encoded").as_bool());
    EXPECT_EQ(payload.at("headers").at("content-type").as_string(), "application/x-ndjson");
    std::vector<std::string> names;
    EXPECT_EQ(ndjson_rows(std::string(payload.at("body").as_string()), names),
              json_rows(body(call("/trips/day_of_week"))));

    auto csv_event = lambda::parse_event(R"({"version":"2.0","rawPath":"/trips/monthly","rawQueryString":"",
        "headers":{"accept":"text/csv"},"requestContext":{"http":{"method":"GET","sourceIp":"1.2.3.4"}}})");
    ASSERT_TRUE(csv_event);
    const auto csv = lambda::encode_response(csv_event.value(), srv_->service().handle_sync(csv_event.value().request));
    const auto csv_payload = boost::json::parse(csv.payload);
    EXPECT_EQ(csv_payload.at("headers").at("content-type").as_string(), "text/csv; charset=utf-8");
    std::vector<std::string> header;
    EXPECT_EQ(csv_rows(std::string(csv_payload.at("body").as_string()), header),
              json_rows(body(call("/trips/monthly"))));
}

// The example paginated endpoint of config/frost.yaml: walking its pages gives DuckDB's answer
// to the same question, every station exactly once, in order, whatever the page size and format.
TEST_F(negotiation, walking_the_example_paginated_endpoint_gives_every_station_once) {
    const auto expected = oracle(
        "select start_station_id, count(*)::BIGINT, round(avg(tripduration), 1) from demo.trips "
        "where start_station_id is not null and starttime >= date '2014-01-01' and starttime < date '2016-12-31' + 1 "
        "group by 1 order by 1");
    ASSERT_GT(expected.size(), 20u);
    for (const std::string format : {"json", "csv", "ndjson"}) {
        std::vector<row> walked;
        std::string next;
        int pages = 0;
        do {
            std::string target =
                "/stations/totals?start_range=2014-01-01&end_range=2016-12-31&limit=37&format=" + format;
            if (!next.empty()) target += "&cursor=" + next;
            const auto r = call(target);
            ASSERT_EQ(r.status, 200) << body(r);
            std::vector<std::string> names;
            std::vector<row> rows;
            next.clear();
            if (format == "json") {
                rows = json_rows(body(r));
                const auto v = boost::json::parse(body(r));
                if (const auto* n = v.as_object().if_contains("next")) next = n->as_string();
            } else if (format == "csv") {
                rows = csv_rows(body(r), names);
            } else {
                rows = ndjson_rows(body(r), names);
                if (!rows.empty() && names == std::vector<std::string>{"@next"}) {
                    next = rows.back()[0];
                    rows.pop_back();
                }
            }
            const auto link = std::string(r.header("Link"));
            if (format == "csv" && !link.empty())
                next = link.substr(link.find("cursor=") + 7, link.find('>') - link.find("cursor=") - 7);
            EXPECT_EQ(link.empty(), next.empty()) << link;
            walked.insert(walked.end(), rows.begin(), rows.end());
            ASSERT_LT(++pages, 1000);
        } while (!next.empty());
        EXPECT_EQ(walked, expected) << format;
        EXPECT_EQ(pages, static_cast<int>((expected.size() + 36) / 37)) << format;
    }
    // A tampered cursor is a 400.
    const auto first = call("/stations/totals?limit=5");
    auto next = std::string(boost::json::parse(body(first)).at("next").as_string());
    next[next.size() / 2] = next[next.size() / 2] == 'x' ? 'y' : 'x';
    const auto r = call("/stations/totals?limit=5&cursor=" + next);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(boost::json::parse(body(r)).at("code").as_string(), "FR400");
}

}  // namespace
}  // namespace frost::testing
