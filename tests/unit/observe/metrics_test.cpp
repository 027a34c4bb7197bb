#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <map>
#include <regex>
#include <sstream>

#include "observe/access_log.hpp"
#include "observe/metrics.hpp"

namespace {

// A small parser for the Prometheus text format: sample line -> value. Independent of render().
std::map<std::string, double> samples(const std::string& text) {
    std::map<std::string, double> out;
    std::istringstream in(text);
    std::string line;
    const std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})?) (\S+)$)");
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::smatch m;
        EXPECT_TRUE(std::regex_match(line, m, sample)) << "not a sample line: " << line;
        if (m.size() == 4) out[m[1]] = std::stod(m[3]);
    }
    return out;
}

TEST(metrics, histograms_are_cumulative_and_counts_agree) {
    frost::observe::metrics m;
    const std::vector<double> latencies = {0.0001, 0.003, 0.003, 0.02, 0.7, 45};
    for (double s : latencies) m.observe_request("/trips/monthly", 200, "hit", s);
    m.observe_request("(unmatched)", 404, "none", 0.0002);
    m.observe_query("local", true, 0.01);
    m.observe_query("local", false, 2);
    auto s = samples(m.render());
    const std::string l = R"(route="/trips/monthly",status="200",cache="hit")";
    EXPECT_EQ(s["frost_http_requests_total{" + l + "}"], 6);
    EXPECT_EQ(s["frost_http_request_duration_seconds_count{" + l + "}"], 6);
    EXPECT_EQ(s["frost_http_request_duration_seconds_bucket{" + l + ",le=\"0.0005\"}"], 1);
    EXPECT_EQ(s["frost_http_request_duration_seconds_bucket{" + l + ",le=\"0.005\"}"], 3);
    EXPECT_EQ(s["frost_http_request_duration_seconds_bucket{" + l + ",le=\"1\"}"], 5);
    EXPECT_EQ(s["frost_http_request_duration_seconds_bucket{" + l + ",le=\"30\"}"], 5);
    EXPECT_EQ(s["frost_http_request_duration_seconds_bucket{" + l + ",le=\"+Inf\"}"], 6);
    double sum = 0;
    for (double v : latencies) sum += v;
    EXPECT_NEAR(s["frost_http_request_duration_seconds_sum{" + l + "}"], sum, 1e-9);
    EXPECT_EQ(s["frost_source_queries_total{source=\"local\",outcome=\"ok\"}"], 1);
    EXPECT_EQ(s["frost_source_queries_total{source=\"local\",outcome=\"error\"}"], 1);
}

TEST(metrics, gauges_are_read_at_scrape_time_with_one_header_per_family) {
    frost::observe::metrics m;
    double depth = 3;
    m.add_gauge(
        "frost_cache_bytes", "Bytes.", [] { return 10.0; }, "tier=\"a\"");
    m.add_gauge("frost_worker_queue_depth", "Waiting.", [&depth] { return depth; });
    m.add_gauge(
        "frost_cache_bytes", "Bytes.", [] { return 20.0; }, "tier=\"b\"");
    depth = 7;
    const auto text = m.render();
    auto s = samples(text);
    EXPECT_EQ(s["frost_worker_queue_depth"], 7);
    EXPECT_EQ(s["frost_cache_bytes{tier=\"b\"}"], 20);
    std::size_t headers = 0;
    for (std::size_t p = 0; (p = text.find("# TYPE frost_cache_bytes ", p)) != std::string::npos; ++p) ++headers;
    EXPECT_EQ(headers, 1u);
}

TEST(metrics, label_values_are_escaped) {
    frost::observe::metrics m;
    m.observe_request("/a\"b\\c\nd", 200, "none", 0.001);
    const auto text = m.render();
    EXPECT_NE(text.find(R"(route="/a\"b\\c\nd")"), std::string::npos);
    samples(text);  // every line still parses
}

TEST(access_log, lines_are_valid_json_without_credentials) {
    frost::api::request req;
    req.method = "GET";
    req.target = "/trips/monthly?start_range=2019-01-01&x=\"\x01\xff";
    req.headers = {{"authorization", "Bearer secret-token-value"}, {"x-api-key", "secret-key-value"}};
    req.request_id = "abc";
    req.client_address = "10.0.0.1";
    req.principal = "key:mobile";
    frost::api::response res;
    res.status = 200;
    res.body = "{}";
    frost::api::request_stats stats{"/trips/monthly", frost::model::clock::now(), std::chrono::milliseconds(3), "miss",
                                    "local"};
    const auto line = frost::observe::access_log::format(req, res, stats);
    boost::system::error_code ec;
    auto v = boost::json::parse(line, ec);
    ASSERT_FALSE(ec) << line;
    const auto& o = v.as_object();
    EXPECT_EQ(o.at("status").as_int64(), 200);
    EXPECT_EQ(o.at("request_id").as_string(), "abc");
    EXPECT_EQ(o.at("principal").as_string(), "key:mobile");
    EXPECT_EQ(o.at("source").as_string(), "local");
    EXPECT_NEAR(o.at("query_ms").as_double(), 3.0, 1e-9);
    EXPECT_EQ(line.find("secret"), std::string::npos);
    EXPECT_EQ(line.find('\n'), std::string::npos);
}

}  // namespace
