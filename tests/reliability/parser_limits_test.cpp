// B1 of docs/reliability.md: limits, smuggling corpus, pipelining, connection bounds, over raw
// sockets against the real server. Expected statuses come from RFC 9112 and what nginx and
// Envoy answer, not from our code.

#include <gtest/gtest.h>

#include <thread>

#include "reliability/guarded_server.hpp"
#include "reliability/raw_client.hpp"
#include "support/test_server.hpp"

namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;
using frost::testing::raw_connection;
using frost::testing::statuses;

const std::string smuggled = "GET /ping?smuggled=1 HTTP/1.1\r\nHost: x\r\n\r\n";

struct limits : ::testing::Test {
    static inline std::unique_ptr<frost::testing::guarded_server> server;
    static void SetUpTestSuite() {
        server = std::make_unique<frost::testing::guarded_server>(frost::testing::small_config_yaml(
            "  max_body_bytes: 1048576\n  header_timeout: 1s\n  idle_timeout: 1s\n  max_requests_per_connection: 5\n",
            ""));
    }
    static void TearDownTestSuite() { server.reset(); }

    // Sends `bytes` on a fresh connection; returns the statuses seen and whether it closed.
    static std::pair<std::vector<int>, bool> exchange(const std::string& bytes,
                                                      std::chrono::milliseconds quiet = 1500ms) {
        raw_connection c(server->port());
        c.send(bytes);
        bool closed = false;
        auto text = c.read_all(quiet, &closed);
        return {statuses(text), closed};
    }
};

TEST_F(limits, normal_request_is_served) {
    auto [s, closed] = exchange("GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ASSERT_EQ(s, std::vector<int>{200});
    EXPECT_TRUE(closed);
}

TEST_F(limits, size_limits_answer_414_431_413) {
    // Request-target of 4097 bytes.
    const std::string long_target = "/ping?x=" + std::string(4097 - 8, 'a');
    auto [s1, c1] = exchange("GET " + long_target + " HTTP/1.1\r\nHost: x\r\n\r\n" + smuggled);
    EXPECT_EQ(s1, std::vector<int>{414});
    EXPECT_TRUE(c1);
    // Header block over 8 KiB.
    auto [s2, c2] =
        exchange("GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(8193, 'b') + "\r\n\r\n" + smuggled);
    EXPECT_EQ(s2, std::vector<int>{431});
    EXPECT_TRUE(c2);
    // 101 header fields (small ones: well under 8 KiB).
    std::string many = "GET /ping HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < 100; ++i) many += "X-" + std::to_string(i) + ": 1\r\n";
    auto [s3, c3] = exchange(many + "\r\n" + smuggled);
    EXPECT_EQ(s3, std::vector<int>{431});
    EXPECT_TRUE(c3);
}

TEST_F(limits, oversized_content_length_is_refused_before_the_body) {
    raw_connection c(server->port());
    const auto t0 = std::chrono::steady_clock::now();
    c.send("POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n");  // no body sent
    bool closed = false;
    auto text = c.read_all(2000ms, &closed);
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(statuses(text), std::vector<int>{413});
    EXPECT_TRUE(closed);
    EXPECT_LT(took, 100ms) << "413 must come before any body byte is read";
    RecordProperty("b1_413_ms", std::to_string(std::chrono::duration<double, std::milli>(took).count()));
}

// RFC 9112 §6.3 and the vectors of HTTP Garden / Beast PRs #3077 #3096 #3098: each must get
// exactly one 400 (nothing after it is read as a request) and a closed connection.
TEST_F(limits, smuggling_corpus_is_rejected_and_closed) {
    const std::string post = "POST /ping HTTP/1.1\r\nHost: x\r\n";
    auto chunked = [&](const std::string& body) { return post + "Transfer-Encoding: chunked\r\n\r\n" + body; };
    struct vec {
        const char* name;
        std::string bytes;
    };
    const std::vector<vec> corpus = {
        {"CL then TE", post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
        {"TE then CL", post + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"},
        {"TE gzip + CL", post + "Transfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello"},
        {"CL + TE gzip", post + "Content-Length: 5\r\nTransfer-Encoding: gzip\r\n\r\nhello"},
        {"TE on HTTP/1.0", "POST /ping HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
        {"TE chunked with trailing space", post + "Transfer-Encoding: chunked \r\n\r\n0\r\n\r\n"},
        {"TE odd case", post + "tRANSFER-ENCODING: chunked\r\n\r\n0\r\n\r\n"},
        {"TE list", post + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n"},
        {"TE identity", post + "Transfer-Encoding: identity\r\n\r\n"},
        {"TE twice", post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n"},
        {"TE non-ASCII", post + "Transfer-Encoding: ch\xe2\x80\x93nked\r\n\r\n0\r\n\r\n"},
        {"two different CL", post + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"},
        {"two equal CL", post + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello"},
        {"CL +5", post + "Content-Length: +5\r\n\r\nhello"},
        {"CL 5,5", post + "Content-Length: 5,5\r\n\r\nhello"},
        {"CL 0x5", post + "Content-Length: 0x5\r\n\r\nhello"},
        {"CL -1", post + "Content-Length: -1\r\n\r\n"},
        {"CL 5 5", post + "Content-Length: 5 5\r\n\r\nhello"},
        {"CL 5abc", post + "Content-Length: 5abc\r\n\r\nhello"},
        {"CL 20 digits", post + "Content-Length: 18446744073709551621\r\n\r\nhello"},
        {"chunk size 0x1", chunked("0x1\r\nA\r\n0\r\n\r\n")},
        {"chunk size 1_0", chunked("1_0\r\n0123456789abcdef\r\n0\r\n\r\n")},
        {"chunk size leading space", chunked(" 5\r\nhello\r\n0\r\n\r\n")},
        {"chunk size 5 0", chunked("5 0\r\nhello\r\n0\r\n\r\n")},
        {"chunk size -0", chunked("-0\r\n\r\n")},
        {"chunk size 17 hex digits", chunked("00000000000000001\r\nA\r\n0\r\n\r\n")},
        {"chunk size 0x100000005", chunked("100000005\r\nhello\r\n0\r\n\r\n")},
        {"chunk ext with bare LF", chunked("5;a=b\nhello\r\n0\r\n\r\n")},
        {"chunk longer than declared", chunked("3\r\nhello\r\n0\r\n\r\n")},
        {"chunk line over 8 KiB", chunked("5;" + std::string(9000, 'e') + "\r\nhello\r\n0\r\n\r\n")},
        {"bare LF line ends", "GET /ping HTTP/1.1\nHost: x\n\n"},
        {"bare LF in one field", "GET /ping HTTP/1.1\r\nHost: x\nX-A: 1\r\n\r\n"},
        {"bare CR", "GET /ping HTTP/1.1\r\nHost: x\rX-A: 1\r\n\r\n"},
        {"obs-fold", "GET /ping HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\n\r\n"},
        {"obs-fold with tab", "GET /ping HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\t2\r\n\r\n"},
        {"NUL in value", "GET /ping HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n"s},
        {"CTL in value", "GET /ping HTTP/1.1\r\nHost: x\r\nX-A: a\x01z\r\n\r\n"},
        {"DEL in value", "GET /ping HTTP/1.1\r\nHost: x\r\nX-A: a\x7fz\r\n\r\n"},
        {"space before colon", "GET /ping HTTP/1.1\r\nHost : x\r\n\r\n"},
        {"space in field name", "GET /ping HTTP/1.1\r\nHost: x\r\nX A: 1\r\n\r\n"},
        {"field without colon", "GET /ping HTTP/1.1\r\nHost: x\r\nX-A 1\r\n\r\n"},
        {"empty field name", "GET /ping HTTP/1.1\r\nHost: x\r\n: 1\r\n\r\n"},
        {"missing Host on 1.1", "GET /ping HTTP/1.1\r\nX-A: 1\r\n\r\n"},
        {"two Hosts", "GET /ping HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n"},
        {"HTTP/1.2", "GET /ping HTTP/1.2\r\nHost: x\r\n\r\n"},
        {"HTTP/2.0 in text", "GET /ping HTTP/2.0\r\nHost: x\r\n\r\n"},
        {"no version", "GET /ping\r\nHost: x\r\n\r\n"},
        {"double space in request line", "GET  /ping HTTP/1.1\r\nHost: x\r\n\r\n"},
        {"empty line before request", "\r\nGET /ping HTTP/1.1\r\nHost: x\r\n\r\n"},
        {"lowercase http version", "GET /ping http/1.1\r\nHost: x\r\n\r\n"},
    };
    ASSERT_GE(corpus.size(), 40u);
    int accepted = 0;
    for (const auto& v : corpus) {
        auto [s, closed] = exchange(v.bytes + smuggled);
        EXPECT_EQ(s, std::vector<int>{400}) << v.name;
        EXPECT_TRUE(closed) << v.name << ": the connection must close when framing is in doubt";
        if (s != std::vector<int>{400} || !closed) ++accepted;
    }
    RecordProperty("b1_smuggling_vectors", std::to_string(corpus.size()));
    RecordProperty("b1_smuggling_accepted", std::to_string(accepted));
}

TEST_F(limits, error_bodies_are_json_without_internals) {
    raw_connection c(server->port());
    c.send("GET /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n");
    auto text = c.read_all(1500ms);
    EXPECT_NE(text.find("Content-Type: application/json"), std::string::npos);
    EXPECT_NE(text.find("\"code\":\"FR430\""), std::string::npos) << text;
    EXPECT_EQ(text.find("select"), std::string::npos);
    EXPECT_EQ(text.find("boost"), std::string::npos);
}

TEST_F(limits, pipelined_requests_answer_in_order_and_per_connection_cap_holds) {
    // 5 requests per connection (configured): 8 pipelined get 5 answers, the last says close.
    std::string batch;
    for (int i = 0; i < 8; ++i)
        batch += "GET /ping HTTP/1.1\r\nHost: x\r\nX-Request-Id: req-" + std::to_string(i) + "\r\n\r\n";
    raw_connection c(server->port());
    c.send(batch);
    bool closed = false;
    auto text = c.read_all(1500ms, &closed);
    EXPECT_EQ(statuses(text), std::vector<int>(5, 200));
    EXPECT_TRUE(closed);
    std::size_t last = 0;
    for (int i = 0; i < 5; ++i) {
        const auto at = text.find("X-Request-Id: req-" + std::to_string(i) + "\r\n");
        ASSERT_NE(at, std::string::npos) << i;
        EXPECT_GE(at, last) << "answers out of order";
        last = at;
    }
    EXPECT_NE(text.find("Connection: close"), std::string::npos);
}

TEST(pipelining, hundred_requests_in_one_write_answer_in_order) {
    frost::testing::guarded_server server(frost::testing::small_config_yaml("", ""));
    std::string batch;
    for (int i = 0; i < 100; ++i)
        batch += "GET /ping HTTP/1.1\r\nHost: x\r\nX-Request-Id: p-" + std::to_string(i) + "\r\n\r\n";
    raw_connection c(server.port());
    ASSERT_TRUE(c.send(batch));
    std::string text;
    for (int waited = 0; waited < 50 && statuses(text).size() < 100; ++waited) text += c.read_all(100ms);
    EXPECT_EQ(statuses(text), std::vector<int>(100, 200));
    std::size_t last = 0;
    for (int i = 0; i < 100; ++i) {
        const auto at = text.find("X-Request-Id: p-" + std::to_string(i) + "\r\n");
        ASSERT_NE(at, std::string::npos) << i;
        EXPECT_GE(at, last) << "answer " << i << " out of order";
        last = at;
    }
}

TEST_F(limits, slow_header_is_cut_at_the_deadline) {
    raw_connection c(server->port());
    const auto t0 = std::chrono::steady_clock::now();
    c.send("GET /ping HTTP/1.1\r\nHost: x\r\n");
    // Trickle a byte every 200 ms: the total deadline (1 s here) still applies.
    bool closed = false;
    for (int i = 0; i < 15 && !closed; ++i) {
        if (!c.send("X")) break;
        closed = c.closed_within(200ms);
    }
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_TRUE(closed);
    EXPECT_LT(took, 2500ms);  // 1 s deadline, plus slack for a loaded CI machine
    EXPECT_GT(took, 900ms);
}

TEST_F(limits, idle_keep_alive_connection_is_closed) {
    raw_connection c(server->port());
    c.send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
    auto text = c.read_all(300ms);
    ASSERT_EQ(statuses(text), std::vector<int>{200});
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(c.closed_within(3000ms));
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_LT(took, 2500ms);  // 1 s idle timeout, plus slack for a loaded CI machine
}

// B4.10 in miniature, deterministic: one worker, one queue slot, six concurrent slow queries.
// Those that find the queue full must get 503 + Retry-After at once, not wait for a worker.
TEST(overload, full_queue_answers_503_with_retry_after_at_once) {
    const std::string yaml =
        "server:\n  host: 127.0.0.1\n  port: 0\n  io_threads: 2\n  workers: 1\n  queue_capacity: 1\n"
        "  access_log: false\n  request_timeout: 2s\n"
        "sources:\n  mem: {type: duckdb, path: ':memory:', read_only: false}\n"
        "endpoints:\n  - path: /slow\n    source: mem\n"
        "    sql: select count(*) as n from range(100000000000) a where a.range % 7 = 3\n";
    frost::testing::guarded_server server(yaml);
    struct outcome {
        int status = 0;
        std::string retry_after;
        double ms = 0;
    };
    std::vector<outcome> outcomes(6);
    std::vector<std::thread> clients;
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
        clients.emplace_back([&, i] {
            const auto t0 = std::chrono::steady_clock::now();
            auto a = frost::testing::http_get(server.port(), "/slow");
            outcomes[i] = {a.status, a.header("retry-after"),
                           std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count()};
        });
        std::this_thread::sleep_for(20ms);  // the first two take the worker and the queue slot
    }
    for (auto& t : clients) t.join();
    int refused = 0;
    double slowest_refusal = 0;
    for (const auto& o : outcomes) {
        if (o.status != 503) continue;
        ++refused;
        EXPECT_EQ(o.retry_after, "1");
        slowest_refusal = std::max(slowest_refusal, o.ms);
    }
    EXPECT_GE(refused, 3) << "one runs, one waits, the rest are refused";
    EXPECT_LT(slowest_refusal, 50.0) << "a refusal must not wait for a worker";
    RecordProperty("b4_503_slowest_ms", std::to_string(slowest_refusal));
}

TEST(connections, beyond_the_cap_are_closed_at_once_and_service_continues) {
    frost::testing::guarded_server server(
        frost::testing::small_config_yaml("  max_connections: 20\n  header_timeout: 10s\n", ""));
    std::vector<std::unique_ptr<raw_connection>> idle;
    for (int i = 0; i < 40; ++i) idle.push_back(std::make_unique<raw_connection>(server.port()));
    int closed_at_once = 0;
    for (auto& c : idle) closed_at_once += c->closed_within(100ms) ? 1 : 0;
    EXPECT_EQ(closed_at_once, 20);
    EXPECT_LE(server.server().open_connections(), 20u);
    idle.clear();  // the idle ones leave
    std::this_thread::sleep_for(200ms);
    raw_connection c(server.port());
    c.send("GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(statuses(c.read_all(1000ms)), std::vector<int>{200});
}

}  // namespace
