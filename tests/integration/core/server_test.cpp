#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/json.hpp>

#include <thread>

#include "support/test_server.hpp"

namespace frost::testing {
namespace {

class server : public ::testing::Test {
protected:
    static void SetUpTestSuite() { srv_ = std::make_unique<test_server>(default_config(sample_database())); }
    static void TearDownTestSuite() { srv_.reset(); }
    static std::unique_ptr<test_server> srv_;
};
std::unique_ptr<test_server> server::srv_;

TEST_F(server, root_is_the_seeds_answer) {
    auto r = srv_->get("/");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"({"result":"Nothing to see here","time_ms":0})");
    EXPECT_EQ(r.header("content-type"), "application/json");
    EXPECT_EQ(r.header("access-control-allow-origin"), "*");
}

TEST_F(server, unknown_paths_are_the_seeds_404) {
    for (const char* path : {"/nope", "/trips", "/trips/monthly/extra", "/TRIPS/MONTHLY", "/%2e%2e/etc/passwd"}) {
        auto r = srv_->get(path);
        EXPECT_EQ(r.status, 404) << path;
        auto v = boost::json::parse(r.body);
        EXPECT_EQ(v.at("error").as_string(), "Not found!");
        EXPECT_EQ(v.at("code").as_string(), "FR404");
        EXPECT_EQ(r.header("access-control-allow-origin"), "*");
    }
}

TEST_F(server, every_report_route_answers_the_envelope) {
    const std::pair<const char*, std::vector<std::string>> routes[] = {
        {"/trips/monthly", {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}},
        {"/trips/day_of_week", {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}},
        {"/sqlapi/trips/monthly", {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}},
        {"/sqlapi/trips/day_of_week", {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}},
    };
    for (const auto& [path, labels] : routes) {
        auto r = srv_->get(path);
        ASSERT_EQ(r.status, 200) << path << ' ' << r.body;
        EXPECT_EQ(r.header("content-type"), "application/json");
        EXPECT_EQ(r.header("access-control-allow-origin"), "*");
        auto v = boost::json::parse(r.body);
        EXPECT_TRUE(v.at("time_ms").is_int64());
        const auto& rows = v.at("result").as_array();
        ASSERT_EQ(rows.size(), labels.size()) << path;
        std::int64_t total = 0;
        for (std::size_t i = 0; i < rows.size(); ++i) {
            EXPECT_TRUE(rows[i].at(0).is_int64()) << "counts are JSON numbers";
            EXPECT_EQ(rows[i].at(1).as_string(), labels[i]) << path;
            total += rows[i].at(0).as_int64();
        }
        EXPECT_EQ(total, 200'000) << path;
    }
    for (const char* path : {"/trips/temperature", "/sqlapi/trips/temperature"}) {
        auto r = srv_->get(path);
        ASSERT_EQ(r.status, 200);
        const auto parsed = boost::json::parse(r.body);
        const auto& rows = parsed.at("result").as_array();
        ASSERT_GE(rows.size(), 5u);
        double last = -1e9;
        for (const auto& row : rows) {
            const double t = row.at(0).is_double() ? row.at(0).as_double() : static_cast<double>(row.at(0).as_int64());
            EXPECT_GT(t, last) << "buckets ascend";
            EXPECT_EQ(std::fmod(t, 10.0), 0.0) << "buckets are multiples of 10";
            last = t;
        }
    }
}

TEST_F(server, the_guides_own_curl_example_filters_now) {
    const auto all_parsed = boost::json::parse(srv_->get("/trips/monthly").body);
    const auto& all = all_parsed.at("result").as_array();
    auto r = srv_->get("/trips/monthly?start_range=2013-06-01&end_range=2013-07-31");
    ASSERT_EQ(r.status, 200);
    const auto parsed = boost::json::parse(r.body);
    const auto& rows = parsed.at("result").as_array();
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].at(1).as_string(), "Jun");
    EXPECT_EQ(rows[1].at(1).as_string(), "Jul");
    EXPECT_LT(rows[0].at(0).as_int64(), all[5].at(0).as_int64());
    // The seed's own date form gives the same answer; so do the data app's names.
    EXPECT_EQ(srv_->get("/trips/monthly?start_range=06/01/2013&end_range=07/31/2013").body.substr(0, 30),
              r.body.substr(0, 30));
    EXPECT_EQ(srv_->get("/trips/monthly?start=06/01/2013&end=2013-07-31").body.substr(0, 30), r.body.substr(0, 30));
}

TEST_F(server, bad_input_is_a_400_json_naming_the_parameter) {
    auto r = srv_->get("/trips/monthly?start_range=2013-06-01");
    EXPECT_EQ(r.status, 400);
    auto v = boost::json::parse(r.body);
    EXPECT_EQ(v.at("code").as_string(), "FR402");
    EXPECT_NE(std::string(v.at("error").as_string()).find("end_range"), std::string::npos);
    auto bad = srv_->get("/trips/day_of_week?start_range=2013-02-30&end_range=2013-03-01");
    EXPECT_EQ(bad.status, 400);
    EXPECT_NE(bad.body.find("start_range"), std::string::npos);
}

TEST_F(server, methods_head_and_preflight) {
    auto post = http_request(srv_->port(), "POST", "/trips/monthly");
    EXPECT_EQ(post.status, 405);
    EXPECT_EQ(post.header("allow"), "GET, HEAD, OPTIONS");
    auto head = http_request(srv_->port(), "HEAD", "/trips/monthly");
    EXPECT_EQ(head.status, 200);
    EXPECT_TRUE(head.body.empty());
    EXPECT_EQ(head.header("content-length"), std::to_string(srv_->get("/trips/monthly").body.size()));
    auto options = http_request(srv_->port(), "OPTIONS", "/trips/monthly");
    EXPECT_EQ(options.status, 204);
    EXPECT_EQ(options.header("access-control-allow-origin"), "*");
}

TEST_F(server, request_ids_are_echoed_or_generated) {
    EXPECT_EQ(srv_->get("/", {{"X-Request-Id", "abc-123"}}).header("x-request-id"), "abc-123");
    const auto generated = srv_->get("/", {{"X-Request-Id", "bad id with spaces"}}).header("x-request-id");
    EXPECT_EQ(generated.size(), 16u);
}

TEST_F(server, keep_alive_serves_many_requests_on_one_connection) {
    namespace net = boost::asio;
    net::io_context ioc;
    net::ip::tcp::socket sock(ioc);
    sock.connect({net::ip::make_address("127.0.0.1"), srv_->port()});
    std::string pipeline;
    for (int i = 0; i < 20; ++i) pipeline += "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    net::write(sock, net::buffer(pipeline));
    std::string got;
    char buf[4096];
    while (true) {
        boost::system::error_code ec;
        const auto n = sock.read_some(net::buffer(buf), ec);
        if (ec) break;
        got.append(buf, n);
        std::size_t count = 0;
        for (auto p = got.find("Nothing to see here"); p != std::string::npos;
             p = got.find("Nothing to see here", p + 1))
            ++count;
        if (count == 20) break;
    }
    std::size_t count = 0;
    for (auto p = got.find("HTTP/1.1 200 OK"); p != std::string::npos; p = got.find("HTTP/1.1 200 OK", p + 1)) ++count;
    EXPECT_EQ(count, 20u);
}

TEST_F(server, concurrent_clients_all_get_answers) {
    std::atomic<int> ok{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < 8; ++c) {
        clients.emplace_back([&] {
            for (int i = 0; i < 10; ++i) {
                auto r = srv_->get(i % 2 ? "/trips/monthly"
                                         : "/trips/temperature?start_range=2019-01-01&end_range=2019-12-31");
                if (r.status == 200) ++ok;
            }
        });
    }
    for (auto& t : clients) t.join();
    EXPECT_EQ(ok.load(), 80);
}

TEST(server_lifecycle, stop_finishes_in_flight_requests) {
    auto loaded = config::load_text(R"(
sources:
  mem: {type: duckdb, path: ":memory:"}
endpoints:
  - path: /slow
    source: mem
    sql: select count(*) as n from range(150000000) t(x) where x % 7 = 3
)",
                                    "lifecycle.yaml", "/");
    ASSERT_TRUE(loaded) << loaded.error().message;
    auto cfg = std::move(loaded).value();
    cfg.server.port = 0;
    cfg.server.shutdown_grace = std::chrono::seconds(60);  // far longer than the query on a busy machine
    auto srv = std::make_unique<test_server>(cfg);
    const auto port = srv->port();
    std::atomic<int> status{0};
    std::thread client([&] {
        try {
            status = http_get(port, "/slow").status;
        } catch (const std::exception&) {
            status = -1;
        }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(150));  // the query is running now
    srv.reset();  // graceful stop: no new connections, the running request is answered
    client.join();
    EXPECT_EQ(status.load(), 200);
}

}  // namespace
}  // namespace frost::testing
