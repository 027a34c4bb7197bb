// Issue 15, found by an independent probe: abandoned live queries (defect 2), absolute-form
// targets (5), encoded slashes and scoped keys (6), readiness under load (8), and the small
// inconsistencies of defect 9 (the code of HTTP-level 400s, methods on the health routes).
// Each test fails on the code before the fix.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "auth/api_keys.hpp"
#include "reliability/guarded_server.hpp"
#include "reliability/raw_client.hpp"
#include "support/test_server.hpp"

namespace {

using frost::testing::guarded_server;
using frost::testing::http_get;
using frost::testing::http_request;
using frost::testing::raw_connection;
using clock_type = std::chrono::steady_clock;

// A live (uncached) query that takes tens of milliseconds on an idle 2-core machine, and one
// that takes far longer than any test waits for.
constexpr const char* slow_sql = "select count(*) as n from range(0, 20000000) t(i) where (i * 7) % 13 = 5";
constexpr const char* endless_sql = "select count(*) as n from range(0, 100000000000) t(i) where (i * 7) % 13 = 5";

std::string yaml(const std::string& server_extra, const std::string& auth = {}, const std::string& endpoints = {}) {
    return "server:\n  host: 127.0.0.1\n  port: 0\n  io_threads: 2\n  workers: 2\n  queue_capacity: 1000\n"
           "  access_log: false\n" +
           server_extra + "sources:\n  mem:\n    type: duckdb\n    path: ':memory:'\n    read_only: false\n" + auth +
           "endpoints:\n  - path: /ping\n    source: mem\n    sql: select 1 as one\n" + endpoints;
}

// The value of an unlabelled counter in a Prometheus text page, or -1.
double metric(const std::string& page, const std::string& name) {
    const std::regex line("(^|\n)" + name + " ([0-9.e+]+)");
    std::smatch m;
    if (!std::regex_search(page, m, line)) return -1;
    return std::stod(m[2]);
}

// Defect 2: 300 clients send a live query and leave after 0.3 s. Their queued queries must be
// dropped and the running ones interrupted, so the next request answers in its own time (it
// used to wait behind every abandoned query: 14-17 s in the probe).
TEST(client_gone, abandoned_live_queries_do_not_delay_the_next_request) {
    guarded_server server(yaml("  request_timeout: 60s\n", {},
                               std::string("  - path: /slow\n    source: mem\n    sql: ") + slow_sql + "\n"));
    ASSERT_EQ(http_get(server.port(), "/ping").status, 200);
    {
        std::vector<std::unique_ptr<raw_connection>> clients;
        for (int i = 0; i < 300; ++i) {
            clients.push_back(std::make_unique<raw_connection>(server.port()));
            ASSERT_TRUE(clients.back()->send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }  // every client closes its connection here

    const auto started = clock_type::now();
    const auto answer = http_get(server.port(), "/ping");
    const auto took = clock_type::now() - started;
    EXPECT_EQ(answer.status, 200) << answer.body;
    EXPECT_LT(took, std::chrono::seconds(2));

    const auto page = http_get(server.port(), "/metrics").body;
    const double abandoned = metric(page, "frost_queries_abandoned_total");
    const double interrupted = metric(page, "frost_queries_interrupted_total");
    EXPECT_GT(abandoned, 100) << page;
    EXPECT_GE(interrupted, 0) << page;
    EXPECT_GT(metric(page, "frost_requests_abandoned_total"), 100) << page;
}

// Defect 2: a running query whose client leaves is interrupted, not run to its (long) deadline.
TEST(client_gone, a_running_query_is_interrupted_when_its_client_leaves) {
    guarded_server server(yaml("  request_timeout: 60s\n", {},
                               std::string("  - path: /endless\n    source: mem\n    sql: ") + endless_sql + "\n"));
    {
        raw_connection client(server.port());
        ASSERT_TRUE(client.send("GET /endless HTTP/1.1\r\nHost: x\r\n\r\n"));
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    // Both workers free again soon: two more live queries answer at once.
    const auto started = clock_type::now();
    EXPECT_EQ(http_get(server.port(), "/ping").status, 200);
    EXPECT_EQ(http_get(server.port(), "/ping").status, 200);
    EXPECT_LT(clock_type::now() - started, std::chrono::seconds(2));
    const auto until = clock_type::now() + std::chrono::seconds(5);
    double interrupted = 0;
    while (clock_type::now() < until && interrupted < 1) {
        interrupted = metric(http_get(server.port(), "/metrics").body, "frost_queries_interrupted_total");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(interrupted, 1);
    EXPECT_EQ(http_get(server.port(), "/readyz").status, 200);
}

// Defect 2: queue wait counts against the deadline. Six long queries on two workers with a
// 300 ms budget: two run until the watchdog stops them, the others' deadlines pass in the queue,
// so they are dropped there (504, counted) instead of starting. The six connections are open
// before the first request is sent and the requests go out back to back from one thread: a
// request that arrived much later than the first two would still have time left when a worker
// frees up (one thread per client let the sanitizers' slowness stagger them by that much).
TEST(client_gone, requests_whose_deadline_passed_in_the_queue_are_not_started) {
    guarded_server server(yaml("  request_timeout: 300ms\n", {},
                               std::string("  - path: /endless\n    source: mem\n    sql: ") + endless_sql + "\n"));
    std::vector<std::unique_ptr<raw_connection>> clients;
    for (int i = 0; i < 6; ++i) clients.push_back(std::make_unique<raw_connection>(server.port()));
    for (auto& c : clients) ASSERT_TRUE(c->send("GET /endless HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    for (auto& c : clients) {
        const auto answer = c->read_all(std::chrono::seconds(10));
        EXPECT_EQ(answer.substr(0, 12), "HTTP/1.1 504") << answer;
    }
    EXPECT_GE(metric(http_get(server.port(), "/metrics").body, "frost_queries_expired_total"), 1);
}

// Defect 5: an absolute-form request-target is accepted (RFC 9112 §3.2.2); its authority must
// match Host.
TEST(absolute_form, is_routed_by_its_path_and_checked_against_host) {
    guarded_server server(yaml(""));
    const std::string port = std::to_string(server.port());
    auto ok = http_get(server.port(), "http://127.0.0.1/ping");
    EXPECT_EQ(ok.status, 200) << ok.body;
    EXPECT_NE(ok.body.find("[[1]]"), std::string::npos) << ok.body;

    raw_connection c(server.port());
    ASSERT_TRUE(c.send("GET HTTP://127.0.0.1:" + port + "/ping HTTP/1.1\r\nHost: 127.0.0.1:" + port +
                       "\r\nConnection: close\r\n\r\n"));
    auto text = c.read_all(std::chrono::milliseconds(2000));
    EXPECT_EQ(text.rfind("HTTP/1.1 200", 0), 0u) << text;

    raw_connection mismatch(server.port());
    ASSERT_TRUE(mismatch.send("GET http://elsewhere.example/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    text = mismatch.read_all(std::chrono::milliseconds(2000));
    EXPECT_EQ(text.rfind("HTTP/1.1 400", 0), 0u) << text;
    EXPECT_NE(text.find("FR430"), std::string::npos) << text;
}

// Defect 6: `%2F` is data, not a separator: `/trips%2Fmonthly` reaches no endpoint, whatever key
// is sent, and a key scoped to one endpoint cannot reach another by encoding the path.
TEST(encoded_slash, does_not_reach_the_endpoint_and_scoped_keys_still_hold) {
    const std::string auth = "auth:\n  api_keys:\n    - {name: full, sha256: " + frost::auth::sha256_hex("key-full") +
                             "}\n    - {name: daily_only, sha256: " + frost::auth::sha256_hex("key-daily") +
                             ", endpoints: [/trips/daily]}\n";
    const std::string endpoints =
        "  - path: /trips/monthly\n    source: mem\n    auth: api_key\n    sql: select 'monthly' as m\n"
        "  - path: /trips/daily\n    source: mem\n    auth: api_key\n    sql: select 'daily' as d\n";
    guarded_server server(yaml("", auth, endpoints));
    auto get = [&](const std::string& target, const std::string& key) {
        return http_get(server.port(), target, {{"X-Api-Key", key}});
    };
    // The plain paths, as scoped.
    EXPECT_EQ(get("/trips/monthly", "key-full").status, 200);
    EXPECT_EQ(get("/trips/daily", "key-daily").status, 200);
    EXPECT_EQ(get("/trips/monthly", "key-daily").status, 403);
    // Encoded slashes: no route, for every key, in either case of the escape.
    for (const std::string target : {"/trips%2Fmonthly", "/trips%2fmonthly", "/trips%2Fdaily", "/trips%2fdaily"}) {
        for (const std::string key : {"key-full", "key-daily"}) {
            const auto a = get(target, key);
            EXPECT_EQ(a.status, 404) << target << " with " << key << ": " << a.body;
            EXPECT_EQ(a.body.find("monthly\""), std::string::npos) << a.body;
        }
    }
    // Other escapes are still decoded, and the scope follows the endpoint reached.
    EXPECT_EQ(get("/trips/%6Donthly", "key-full").status, 200);
    EXPECT_EQ(get("/trips/%6Donthly", "key-daily").status, 403);
    // Through the absolute form too.
    EXPECT_EQ(get("http://127.0.0.1/trips%2Fmonthly", "key-full").status, 404);
}

// Defect 8: deadline misses under load are not a broken source: /readyz stays 200. A source
// that really fails still takes the instance out.
TEST(readiness, stays_ready_under_timeouts_and_goes_unready_on_real_failures) {
    guarded_server server(yaml("  request_timeout: 40ms\n", {},
                               std::string("  - path: /endless\n    source: mem\n    sql: ") + endless_sql +
                                   "\n  - path: /broken\n    source: mem\n    sql: select * from no_such_table\n"));
    ASSERT_EQ(http_get(server.port(), "/readyz").status, 200);
    for (int i = 0; i < 8; ++i) {
        const auto a = http_get(server.port(), "/endless");
        ASSERT_EQ(a.status, 504) << a.body;
    }
    auto ready = http_get(server.port(), "/readyz");
    EXPECT_EQ(ready.status, 200) << ready.body;
    const auto page = http_get(server.port(), "/metrics").body;
    EXPECT_NE(page.find("frost_http_requests_total{route=\"/endless\",status=\"504\""), std::string::npos) << page;

    for (int i = 0; i < 6; ++i) EXPECT_EQ(http_get(server.port(), "/broken").status, 502);
    ready = http_get(server.port(), "/readyz");
    EXPECT_EQ(ready.status, 503) << ready.body;
    EXPECT_NE(ready.body.find("source:mem"), std::string::npos) << ready.body;
}

// Issue 14: once a rollup endpoint's prefix index is built, its uncached answers are computed on
// the I/O thread. So it answers while every worker runs a live query that would hold it for the
// whole request timeout; on a worker it would wait behind them.
TEST(inline_answers, a_rollup_route_answers_while_every_worker_is_busy) {
    const std::string rollups =
        "rollups:\n  r:\n    source: mem\n    sql: select date '2020-01-01' + (i % 60)::int as day, (i % 5)::int "
        "as g, i::BIGINT as n from range(0, 1000) t(i)\nserving:\n  path: \"\"\n";
    const std::string endpoints =
        std::string("  - path: /endless\n    source: mem\n    sql: ") + endless_sql +
        "\n  - path: /sums\n    rollup: r\n    date_range: {start: from, end: to}\n    sql: select g, sum(n)::BIGINT "
        "as s from r where ($from is null or day >= $from) and ($to is null or day <= $to) group by g order by g\n";
    guarded_server server(yaml("  request_timeout: 20s\n", rollups, endpoints));
    const std::string sums = "/sums?from=2020-01-05&to=2020-01-20";
    const std::string by_index = R"(frost_rollup_answers_total\{route="/sums",by="prefix_sums"\})";
    const auto answered_by_index = [&] {
        const auto page = http_get(server.port(), "/metrics").body;
        std::smatch m;
        const std::regex line(by_index + " ([0-9.e+]+)");
        return std::regex_search(page, m, line) ? std::stod(m[1]) : -1.0;
    };
    // The first answer is DuckDB's and queues the index; later ones come from the index.
    const auto expected = http_get(server.port(), sums);
    ASSERT_EQ(expected.status, 200) << expected.body;
    for (int i = 0; i < 500 && answered_by_index() < 1; ++i) {
        ASSERT_EQ(http_get(server.port(), sums).status, 200);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const double before = answered_by_index();
    ASSERT_GE(before, 1) << "the index was never built";

    std::vector<std::unique_ptr<raw_connection>> busy;  // one endless query per worker, and one queued
    for (int i = 0; i < 3; ++i) {
        busy.push_back(std::make_unique<raw_connection>(server.port()));
        ASSERT_TRUE(busy.back()->send("GET /endless HTTP/1.1\r\nHost: x\r\n\r\n"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const auto started = clock_type::now();
    const auto answer = http_get(server.port(), sums);
    const auto took = clock_type::now() - started;
    EXPECT_EQ(answer.status, 200) << answer.body;
    EXPECT_EQ(boost::json::parse(answer.body).at("result"), boost::json::parse(expected.body).at("result"));
    EXPECT_LT(took, std::chrono::seconds(2));
    EXPECT_EQ(answered_by_index(), before + 1);
    // A route that needs a worker still waits: the workers really were busy.
    raw_connection ping(server.port());
    ASSERT_TRUE(ping.send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(ping.read_all(std::chrono::milliseconds(300)), "");
}

// Defect 9: the health and metrics routes answer GET and HEAD only, like every other route.
TEST(health_routes, other_methods_get_405_with_allow) {
    guarded_server server(yaml(""));
    for (const std::string path : {"/livez", "/readyz", "/metrics"}) {
        for (const std::string method : {"POST", "PUT", "DELETE"}) {
            const auto a = http_request(server.port(), method, path);
            EXPECT_EQ(a.status, 405) << method << " " << path << ": " << a.body;
            EXPECT_EQ(a.header("allow"), "GET, HEAD") << method << " " << path;
            EXPECT_NE(a.body.find("FR405"), std::string::npos) << a.body;
        }
        EXPECT_EQ(http_request(server.port(), "HEAD", path).status, 200) << path;
        EXPECT_EQ(http_get(server.port(), path).status, 200) << path;
    }
}

// Defect 9: an HTTP-level 400 carries FR430, not FR403 (which read like Forbidden).
TEST(http_errors, malformed_requests_carry_fr430) {
    guarded_server server(yaml(""));
    raw_connection c(server.port());
    ASSERT_TRUE(c.send("GET /ping HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"));
    const auto text = c.read_all(std::chrono::milliseconds(2000));
    EXPECT_EQ(text.rfind("HTTP/1.1 400", 0), 0u) << text;
    EXPECT_NE(text.find("\"code\":\"FR430\""), std::string::npos) << text;
}

}  // namespace
