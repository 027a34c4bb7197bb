// Hostile inputs: every one gets a 4xx JSON error with a stable code, none reaches SQL as
// text, and the data is the same afterwards.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/json.hpp>

#include "support/test_server.hpp"

namespace frost::testing {
namespace {

namespace net = boost::asio;

// Sends raw bytes and returns the status code of the first answer (0 when the connection closes without one).
int raw_status(std::uint16_t port, const std::string& bytes, std::string* body = nullptr) {
    net::io_context ioc;
    net::ip::tcp::socket sock(ioc);
    sock.connect({net::ip::make_address("127.0.0.1"), port});
    boost::system::error_code ec;
    net::write(sock, net::buffer(bytes), ec);
    std::string got;
    char buf[8192];
    while (got.find("\r\n\r\n") == std::string::npos || (body && got.find('}') == std::string::npos)) {
        const auto n = sock.read_some(net::buffer(buf), ec);
        if (ec) break;
        got.append(buf, n);
    }
    if (body) {
        const auto p = got.find("\r\n\r\n");
        *body = p == std::string::npos ? std::string() : got.substr(p + 4);
    }
    if (got.size() < 12 || got.rfind("HTTP/1.1 ", 0) != 0) return 0;
    return std::stoi(got.substr(9, 3));
}

class hostile : public ::testing::Test {
protected:
    static void SetUpTestSuite() { srv_ = std::make_unique<test_server>(default_config(sample_database())); }
    static void TearDownTestSuite() { srv_.reset(); }
    static std::unique_ptr<test_server> srv_;
};
std::unique_ptr<test_server> hostile::srv_;

const std::string monthly = "/trips/monthly";

TEST_F(hostile, query_strings_get_4xx_json) {
    const std::string long_value(5000, '9');
    const std::vector<std::string> targets = {
        // SQL injection in every parameter form
        monthly + "?start_range=2013-06-01'%20OR%20'1'='1&end_range=2013-07-31",
        monthly + "?start_range=06/01/2013';DROP%20TABLE%20demo.trips;--&end_range=07/31/2013",
        monthly + "?start_range=2013-06-01&end_range=2013-07-31'%20UNION%20SELECT%20*%20FROM%20demo.weather--",
        monthly + "?start_range=1%20OR%201=1&end_range=2",
        monthly + "?start_range=$end_range&end_range=$start_range",
        monthly + "?start_range=(select%201)&end_range=2013-07-31",
        monthly + "?start_range=2013-06-01;&end_range=2013-07-31",
        monthly + "?start_range=2013-06-01--&end_range=2013-07-31",
        monthly + "?start_range=2013-06-01%27&end_range=2013-07-31",
        monthly + "?start_range=2013-06-01%22&end_range=2013-07-31",
        monthly + "?start_range=2013-06-01/*&end_range=*/2013-07-31",
        monthly + "?start_range=2013-06-01%00&end_range=2013-07-31",
        monthly + "?random=true;drop%20table%20demo.trips",
        monthly + "?random=1'",
        monthly + "?%27%3B%20DROP%20TABLE%20demo.trips%3B%20--=1",
        // impossible and malformed dates
        monthly + "?start_range=2013-02-29&end_range=2013-03-01",
        monthly + "?start_range=2013-13-01&end_range=2013-12-31",
        monthly + "?start_range=2013-00-01&end_range=2013-12-31",
        monthly + "?start_range=2013-06-31&end_range=2013-07-01",
        monthly + "?start_range=00/00/0000&end_range=01/01/2014",
        monthly + "?start_range=-2013-06-01&end_range=2013-07-01",
        monthly + "?start_range=+2013-06-01&end_range=2013-07-01",
        monthly + "?start_range=2013-06-01T00:00:00&end_range=2013-07-01",
        monthly + "?start_range=20130601&end_range=20130701",
        monthly + "?start_range=2013-6-1&end_range=2013-7-1",
        monthly + "?start_range=%EF%BC%92013-06-01&end_range=2013-07-01",
        monthly + "?start_range=2013-06-01%0D%0AX-Injected:%201&end_range=2013-07-01",
        monthly + "?start_range=" + long_value + "&end_range=2013-07-01",
        monthly + "?start_range=99999-01-01&end_range=99999-12-31",
        monthly + "?start_range=9999999999999999999999&end_range=1",
        // ranges and combinations
        monthly + "?start_range=2014-01-02&end_range=2014-01-01",
        monthly + "?start_range=2013-06-01",
        monthly + "?end_range=2013-06-01",
        monthly + "?start_range=&end_range=",
        monthly + "?start_range&end_range",
        monthly + "?start_range=2013-06-01&start_range=2013-06-02&end_range=2013-07-01",
        monthly + "?start=2013-06-01&start_range=2013-06-01&end=2013-07-01",
        monthly + "?random=true&start_range=2019-06-01&end_range=2019-06-30",
        monthly + "?random=maybe",
        monthly + "?random=" + long_value,
        // unknown parameters and encodings
        monthly + "?limit=10",
        monthly + "?START_RANGE=2013-06-01&END_RANGE=2013-07-01",
        monthly + "?start_range=%zz&end_range=2013-07-01",
        monthly + "?start_range=%&end_range=2013-07-01",
        monthly + "?start_range=%C0%AF&end_range=2013-07-01",
        monthly + "?start_range=%FF%FE&end_range=2013-07-01",
        monthly + "?" + std::string(200, '&') + "x=1",
        "/trips/day_of_week?start_range=2013-06-01'--&end_range=2013-07-31",
        "/trips/temperature?start_range=2013-06-01&end_range=2013-07-31%20OR%201=1",
        "/sqlapi/trips/monthly?start_range=06/01/2013&end_range=07/31/2013'",
        "/sqlapi/trips/temperature?random=DROP",
        "/nope?x=1",
        "/trips/monthly/..%2f..%2fetc%2fpasswd",
    };
    ASSERT_GE(targets.size(), 50u);
    for (const auto& t : targets) {
        auto r = srv_->get(t);
        EXPECT_GE(r.status, 400) << t;
        EXPECT_LT(r.status, 500) << t;
        EXPECT_EQ(r.header("content-type"), "application/json") << t;
        boost::system::error_code ec;
        auto v = boost::json::parse(r.body, ec);
        ASSERT_FALSE(ec) << t << " -> " << r.body;
        EXPECT_TRUE(v.as_object().contains("error")) << t;
        EXPECT_TRUE(v.as_object().contains("code")) << t;
    }
}

TEST_F(hostile, raw_http_abuse_gets_4xx) {
    const auto port = srv_->port();
    std::string body;
    EXPECT_EQ(raw_status(port, "GET /" + std::string(10'000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", &body), 414);
    EXPECT_NE(body.find("FR414"), std::string::npos);
    EXPECT_EQ(raw_status(port, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20'000, 'b') + "\r\n\r\n", &body),
              431);
    EXPECT_NE(body.find("FR431"), std::string::npos);
    EXPECT_EQ(raw_status(port, "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n", &body), 413);
    EXPECT_EQ(raw_status(port, "NOT A REQUEST\r\n\r\n", &body), 400);
    EXPECT_EQ(raw_status(port, "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"), 400);
    EXPECT_EQ(raw_status(port, "DELETE /trips/monthly HTTP/1.1\r\nHost: x\r\n\r\n"), 405);
    EXPECT_EQ(raw_status(port, "GET http://evil.example/ HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
}

TEST_F(hostile, the_data_is_untouched_afterwards) {
    auto before = srv_->get("/trips/monthly").body;
    ASSERT_TRUE(boost::json::parse(before).at("result").is_array()) << before;
    for (int i = 0; i < 20; ++i)
        (void)srv_->get(monthly + "?start_range=2013-06-01';DELETE%20FROM%20demo.trips;--&end_range=2013-07-01");
    auto after = srv_->get("/trips/monthly").body;
    // time_ms may differ; the rows may not.
    EXPECT_EQ(boost::json::parse(before).at("result"), boost::json::parse(after).at("result"));
    std::int64_t total = 0;
    const auto parsed = boost::json::parse(after);
    for (const auto& r : parsed.at("result").as_array()) total += r.at(0).as_int64();
    EXPECT_EQ(total, 200'000);
}

}  // namespace
}  // namespace frost::testing
