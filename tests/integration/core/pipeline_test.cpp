// The request pipeline through the real server: a throwing guard or route costs one request a
// 500, never the process or the connection (issue 10.6); empty query pairs are ignored
// (issue 15.3); a static endpoint checks its parameters like every other (issue 15.9).
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <stdexcept>

#include "support/test_server.hpp"

namespace frost::testing {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace json = boost::json;

/// One keep-alive connection: requests go out one after the other on the same socket.
class connection {
public:
    explicit connection(std::uint16_t port) : stream_(ioc_) {
        stream_.expires_after(std::chrono::seconds(30));
        stream_.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    }

    http_answer get(const std::string& target, const std::vector<std::pair<std::string, std::string>>& headers = {}) {
        bhttp::request<bhttp::string_body> req{bhttp::verb::get, target, 11};
        req.set(bhttp::field::host, "127.0.0.1");
        for (const auto& [k, v] : headers) req.set(k, v);
        stream_.expires_after(std::chrono::seconds(30));
        bhttp::write(stream_, req);
        bhttp::response<bhttp::string_body> res;
        bhttp::read(stream_, buffer_, res);
        http_answer out;
        out.status = static_cast<int>(res.result_int());
        for (const auto& f : res) {
            std::string name(f.name_string());
            for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            out.headers[name] = std::string(f.value());
        }
        out.body = res.body();
        keep_alive_ = res.keep_alive();
        return out;
    }
    [[nodiscard]] bool keep_alive() const { return keep_alive_; }

private:
    net::io_context ioc_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    bool keep_alive_ = false;
};

class pipeline : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        srv_ = std::make_unique<test_server>(default_config(sample_database()));
        // Registered before the first request is sent, so no request races the registration.
        srv_->service().add_route("/test/throws", [](const api::request&) -> api::response {
            throw std::runtime_error("a builtin route failed");
        });
        srv_->service().add_route("/test/throws_other", [](const api::request&) -> api::response { throw 42; });
        srv_->service().add_guard(
            [](api::request& req, const config::endpoint_config&) -> std::optional<api::response> {
                if (req.header("x-test-throw") == "guard") throw std::logic_error("a guard failed");
                return std::nullopt;
            });
    }
    static void TearDownTestSuite() { srv_.reset(); }
    static std::unique_ptr<test_server> srv_;
};
std::unique_ptr<test_server> pipeline::srv_;

void expect_internal_error(const http_answer& a) {
    EXPECT_EQ(a.status, 500) << a.body;
    EXPECT_EQ(a.header("content-type"), "application/json");
    auto v = json::parse(a.body).as_object();
    EXPECT_EQ(v.at("code").as_string(), "FR500");
    EXPECT_EQ(v.at("error").as_string(), "internal error");
    ASSERT_FALSE(a.header("x-request-id").empty());
    EXPECT_EQ(v.at("request_id").as_string(), a.header("x-request-id"));
    EXPECT_EQ(a.body.find("failed"), std::string::npos) << "the exception's text reached the client";
}

TEST_F(pipeline, a_throwing_route_is_a_500_and_the_connection_and_server_keep_serving) {
    connection c(srv_->port());
    for (const char* target : {"/test/throws", "/test/throws_other"}) {
        SCOPED_TRACE(target);
        expect_internal_error(c.get(target, {{"X-Request-Id", "route-throws-1"}}));
        ASSERT_TRUE(c.keep_alive());
        auto next = c.get("/");
        EXPECT_EQ(next.status, 200);
        EXPECT_EQ(next.body, R"({"result":"Nothing to see here","time_ms":0})");
        EXPECT_EQ(srv_->get("/trips/monthly").status, 200);  // a new connection
    }
}

TEST_F(pipeline, a_throwing_guard_is_a_500_and_the_connection_and_server_keep_serving) {
    connection c(srv_->port());
    expect_internal_error(c.get("/trips/monthly", {{"x-test-throw", "guard"}}));
    ASSERT_TRUE(c.keep_alive());
    EXPECT_EQ(c.get("/trips/monthly").status, 200);
    expect_internal_error(c.get("/sqlapi/trips/monthly", {{"x-test-throw", "guard"}}));
    EXPECT_EQ(c.get("/sqlapi/trips/monthly").status, 200);
    EXPECT_EQ(srv_->get("/trips/monthly").status, 200);
    EXPECT_EQ(srv_->get("/").status, 200);
}

json::value result_of(const http_answer& a) {
    auto v = json::parse(a.body);
    return v.as_object().at("result");
}

TEST_F(pipeline, empty_query_pairs_give_the_same_answer_as_without_them) {
    const std::string range = "start_range=2013-06-01&end_range=2013-07-31";
    for (const std::string& path : {std::string("/trips/monthly"), std::string("/sqlapi/trips/monthly")}) {
        const auto plain = srv_->get(path);
        ASSERT_EQ(plain.status, 200) << plain.body;
        for (const char* suffix : {"?", "?&", "?&&", "?&&&"}) {
            auto a = srv_->get(path + suffix);
            EXPECT_EQ(a.status, 200) << path << suffix << ": " << a.body;
            if (a.status == 200) {
                EXPECT_EQ(result_of(a), result_of(plain)) << path << suffix;
            }
        }
        const auto ranged = srv_->get(path + "?" + range);
        ASSERT_EQ(ranged.status, 200) << ranged.body;
        for (const std::string& t : {path + "?&" + range, path + "?" + range + "&", path + "?" + range + "&&",
                                     path + "?start_range=2013-06-01&&end_range=2013-07-31"}) {
            auto a = srv_->get(t);
            EXPECT_EQ(a.status, 200) << t << ": " << a.body;
            if (a.status == 200) {
                EXPECT_EQ(result_of(a), result_of(ranged)) << t;
            }
        }
    }
}

TEST_F(pipeline, the_static_root_checks_its_parameters_like_every_endpoint) {
    EXPECT_EQ(srv_->get("/").status, 200);
    EXPECT_EQ(srv_->get("/?").status, 200);
    EXPECT_EQ(srv_->get("/?&").status, 200);
    for (const char* t : {"/?x=1", "/?start_range=2013-06-01"}) {
        auto a = srv_->get(t);
        EXPECT_EQ(a.status, 400) << t << ": " << a.body;
        EXPECT_EQ(json::parse(a.body).at("code").as_string(), "FR401") << t;
        EXPECT_EQ(json::parse(a.body).at("hint").as_string(), "this endpoint takes no parameters") << t;
    }
    // The same rule as `/trips/*`: `strict: false` lets unknown names through.
    auto cfg = default_config(sample_database());
    for (auto& e : cfg.endpoints)
        if (e.path == "/") e.strict = false;
    test_server lenient(std::move(cfg));
    EXPECT_EQ(lenient.get("/?x=1").status, 200);
}

// A config whose `/test/broken` endpoint asks DuckDB for a column that does not exist.
config::config broken_config(bool expose) {
    auto cfg = default_config(sample_database());
    config::endpoint_config e;
    e.path = "/test/broken";
    e.source = "local";
    e.sql[""] = "select no_such_column\nfrom demo.trips";
    cfg.endpoints.push_back(e);
    e.path = "/test/broken_cached";
    e.cache.ttl = std::chrono::seconds(60);
    cfg.endpoints.push_back(e);
    cfg.server.expose_errors = expose;
    return cfg;
}

TEST(pipeline_errors, a_duckdb_error_reaches_the_log_not_the_client) {
    test_server srv(broken_config(false));
    for (const char* path : {"/test/broken", "/test/broken_cached"}) {
        SCOPED_TRACE(path);
        auto a = srv.get(path, {{"X-Request-Id", "duck-err-1"}});
        EXPECT_EQ(a.status, 502) << a.body;
        auto v = json::parse(a.body).as_object();
        EXPECT_EQ(v.at("code").as_string(), "FR502");
        EXPECT_EQ(v.at("error").as_string(), "the data source could not answer this request");
        EXPECT_EQ(v.at("request_id").as_string(), "duck-err-1");
        EXPECT_EQ(a.header("x-request-id"), "duck-err-1");
        for (const char* secret : {"Binder", "no_such_column", "demo.trips", "LINE"})
            EXPECT_EQ(a.body.find(secret), std::string::npos) << secret << " reached the client: " << a.body;
    }
    // Client errors keep their message.
    auto bad = srv.get("/trips/monthly?start_range=2013-06-01");
    EXPECT_EQ(bad.status, 400);
    EXPECT_NE(bad.body.find("end_range"), std::string::npos);
}

TEST(pipeline_errors, expose_errors_shows_duckdbs_message) {
    test_server srv(broken_config(true));
    auto a = srv.get("/test/broken", {{"X-Request-Id", "duck-err-2"}});
    EXPECT_EQ(a.status, 502) << a.body;
    auto v = json::parse(a.body).as_object();
    EXPECT_EQ(v.at("code").as_string(), "FR502");
    EXPECT_NE(std::string(v.at("error").as_string()).find("no_such_column"), std::string::npos) << a.body;
    EXPECT_EQ(v.at("request_id").as_string(), "duck-err-2");
}

}  // namespace
}  // namespace frost::testing
