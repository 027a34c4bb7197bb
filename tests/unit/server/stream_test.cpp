// Issue 11, deliverable 3: streamed exports over HTTP. Chunked transfer as rows arrive; a
// failure mid-stream leaves out the last chunk (and NDJSON ends with an error line), so the
// client can tell; a client that leaves stops the query; a client that does not read slows
// the producer instead of growing the server's memory.

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/json.hpp>

#include <sys/wait.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <thread>

#include "api/service.hpp"
#include "api/worker_pool.hpp"
#include "config/config.hpp"
#include "server/http_server.hpp"

namespace frost::server {
namespace {

using namespace std::chrono_literals;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// Streams `batches` batches of `rows_per_batch` rows (i, text); fails after `fail_after`
// batches when set; `batches` 0 streams until the sink or the stop token says stop.
class batched_source final : public source::source {
public:
    std::size_t batches = 10;
    std::size_t rows_per_batch = 100;
    std::size_t fail_after = 0;
    std::size_t pad = 10;  ///< extra text per row
    bool fail_before_columns = false;
    std::atomic<std::uint64_t> delivered{0};
    std::atomic<bool> running{false};
    std::atomic<bool> ended{false};
    std::atomic<bool> saw_stop{false};

    std::string_view name() const override { return "batched"; }
    std::string_view dialect() const override { return "duckdb"; }
    model::result<model::table> run(const frost::source::query&) override {
        return model::error{model::error_code::internal, "not used", {}, {}};
    }
    model::result<frost::source::stream_summary> stream(const frost::source::query& q,
                                                        frost::source::row_sink& sink) override {
        running = true;
        struct on_exit {
            batched_source& s;
            ~on_exit() { s.ended = true; }
        } guard{*this};
        if (fail_before_columns)
            return model::error{model::error_code::source_error, "Binder Error: no such table", {}, {}};
        frost::source::stream_summary summary;
        if (!sink.begin({{"i", model::column_type::integer}, {"s", model::column_type::text}})) {
            summary.stopped = true;
            return summary;
        }
        const std::string padding(pad, 'x');
        for (std::size_t b = 0; batches == 0 || b < batches; ++b) {
            if (fail_after && b == fail_after)
                return model::error{model::error_code::source_error, "the warehouse went away", {}, {}};
            if (q.stop.stop_requested()) {
                saw_stop = true;
                return model::error{model::error_code::timeout, "the client went away", {}, {}};
            }
            if (q.deadline.expired()) return model::error{model::error_code::timeout, "deadline", {}, {}};
            std::vector<std::vector<model::value>> batch;
            for (std::size_t r = 0; r < rows_per_batch; ++r) {
                const auto i = static_cast<std::int64_t>(b * rows_per_batch + r);
                batch.push_back({model::value(i), model::value("row, \"" + std::to_string(i) + "\" " + padding)});
            }
            summary.rows += batch.size();
            delivered += batch.size();
            if (!sink.rows(batch)) {
                saw_stop = true;
                summary.stopped = true;
                return summary;
            }
        }
        return summary;
    }
};

constexpr const char* config_text = R"(
server: {request_timeout: 20s, write_timeout: 5s, io_threads: 1}
sources:
  batched: {type: duckdb, path: ":memory:"}
endpoints:
  - path: /export
    source: batched
    stream: true
    max_export_rows: 1000000000
    sql: select 1
)";

struct fixture {
    std::shared_ptr<batched_source> src = std::make_shared<batched_source>();
    api::worker_pool workers{2, 16};
    std::unique_ptr<api::service> svc;
    std::unique_ptr<http_server> server;

    // `setup` adds routes before the server starts.
    explicit fixture(const std::function<void(api::service&)>& setup = {}) {
        auto cfg = config::load_text(config_text, "stream_test.yaml", "/");
        if (!cfg) throw std::runtime_error(cfg.error().message);
        cfg.value().server.port = 0;
        auto shared = std::make_shared<const config::config>(std::move(cfg).value());
        auto s = api::service::create(shared, {{"batched", src}}, workers);
        if (!s) throw std::runtime_error(s.error().message);
        svc = std::move(s).value();
        if (setup) setup(*svc);
        auto bound = http_server::bind(shared->server, *svc);
        if (!bound) throw std::runtime_error(bound.error().message);
        server = std::move(bound).value();
        server->start();
    }
    ~fixture() { server->stop(2s); }
    [[nodiscard]] std::uint16_t port() const { return server->port(); }
};

// A raw answer: the head, the decoded chunked body, and whether the zero-length last chunk came.
struct raw_answer {
    std::string head;
    std::string body;
    bool chunked = false;
    bool complete = false;  ///< the terminating chunk was received
};

raw_answer parse(const std::string& bytes) {
    raw_answer a;
    const auto end = bytes.find("\r\n\r\n");
    if (end == std::string::npos) return a;
    a.head = bytes.substr(0, end);
    a.chunked = a.head.find("Transfer-Encoding: chunked") != std::string::npos;
    std::size_t at = end + 4;
    if (!a.chunked) {
        a.body = bytes.substr(at);
        return a;
    }
    for (;;) {
        const auto line_end = bytes.find("\r\n", at);
        if (line_end == std::string::npos) return a;
        const auto size = std::stoul(bytes.substr(at, line_end - at), nullptr, 16);
        at = line_end + 2;
        if (size == 0) {
            a.complete = bytes.compare(at, 2, "\r\n") == 0;
            return a;
        }
        if (at + size + 2 > bytes.size()) {
            a.body += bytes.substr(at);
            return a;
        }
        a.body += bytes.substr(at, size);
        at += size + 2;
    }
}

// Sends a GET with Connection: close and reads until the server closes.
raw_answer fetch(std::uint16_t port, const std::string& target, const std::string& extra_headers = "") {
    net::io_context ioc;
    tcp::socket sock(ioc);
    sock.connect({net::ip::make_address("127.0.0.1"), port});
    const std::string req =
        "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + extra_headers + "\r\n";
    net::write(sock, net::buffer(req));
    std::string bytes;
    boost::system::error_code ec;
    char buf[65536];
    for (;;) {
        const auto n = sock.read_some(net::buffer(buf), ec);
        bytes.append(buf, n);
        if (ec) break;
    }
    return parse(bytes);
}

std::size_t count_lines(const std::string& s) {
    return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

bool have_curl() {
    return std::system("curl --version > /dev/null 2>&1") == 0;
}

int curl_exit(std::uint16_t port, const std::string& target) {
    const auto cmd =
        "curl -sS -o /dev/null --max-time 20 'http://127.0.0.1:" + std::to_string(port) + target + "' 2>/dev/null";
    const int status = std::system(cmd.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(stream_http, a_complete_csv_export_is_chunked_and_ends_with_the_last_chunk) {
    fixture f;
    f.src->batches = 20;
    auto a = fetch(f.port(), "/export");
    EXPECT_NE(a.head.find("HTTP/1.1 200"), std::string::npos) << a.head;
    EXPECT_TRUE(a.chunked) << a.head;
    EXPECT_NE(a.head.find("text/csv"), std::string::npos) << a.head;
    EXPECT_EQ(a.head.find("Content-Length"), std::string::npos) << a.head;
    EXPECT_TRUE(a.complete);
    EXPECT_EQ(count_lines(a.body), 1 + 20 * 100u);
    EXPECT_TRUE(a.body.starts_with("i,s\r\n0,\"row, \"\"0\"\" xxxxxxxxxx\"\r\n")) << a.body.substr(0, 80);
    if (have_curl()) {
        EXPECT_EQ(curl_exit(f.port(), "/export"), 0);
    }
}

TEST(stream_http, ndjson_and_json_are_chosen_by_format_or_accept) {
    fixture f;
    f.src->batches = 3;
    auto nd = fetch(f.port(), "/export?format=ndjson");
    ASSERT_TRUE(nd.complete);
    EXPECT_NE(nd.head.find("application/x-ndjson"), std::string::npos);
    EXPECT_EQ(count_lines(nd.body), 300u);
    std::size_t at = 0, n = 0;
    while (at < nd.body.size()) {
        const auto eol = nd.body.find('\n', at);
        auto obj = boost::json::parse(nd.body.substr(at, eol - at)).as_object();
        EXPECT_EQ(obj.at("i").as_int64(), static_cast<std::int64_t>(n));
        at = eol + 1;
        ++n;
    }
    auto accepted = fetch(f.port(), "/export", "Accept: application/x-ndjson\r\n");
    ASSERT_TRUE(accepted.complete);
    EXPECT_NE(accepted.head.find("application/x-ndjson"), std::string::npos) << accepted.head;
    EXPECT_EQ(accepted.body, nd.body);
    auto js = fetch(f.port(), "/export", "Accept: application/json\r\n");
    ASSERT_TRUE(js.complete);
    auto doc = boost::json::parse(js.body).as_object();
    EXPECT_EQ(doc.at("result").as_array().size(), 300u);
    EXPECT_TRUE(doc.contains("time_ms"));

    auto refused = fetch(f.port(), "/export", "Accept: image/png\r\n");
    EXPECT_NE(refused.head.find("HTTP/1.1 406"), std::string::npos) << refused.head;
    EXPECT_NE(refused.body.find("offered: text/csv, application/json, application/vnd.frost.objects+json, "
                                "application/x-ndjson"),
              std::string::npos)
        << refused.body;
    auto bad = fetch(f.port(), "/export?format=xml");
    EXPECT_NE(bad.head.find("HTTP/1.1 400"), std::string::npos) << bad.head;
}

TEST(stream_http, a_failure_mid_stream_leaves_out_the_last_chunk) {
    fixture f;
    f.src->batches = 50;
    f.src->fail_after = 5;
    auto a = fetch(f.port(), "/export");
    EXPECT_NE(a.head.find("HTTP/1.1 200"), std::string::npos) << a.head;
    EXPECT_FALSE(a.complete) << "a cut export must not end like a whole one";
    EXPECT_EQ(count_lines(a.body), 1 + 5 * 100u);
    if (have_curl()) {
        EXPECT_EQ(curl_exit(f.port(), "/export"), 18) << "curl: partial file";
    }
}

TEST(stream_http, ndjson_ends_a_cut_stream_with_an_error_line) {
    fixture f;
    f.src->batches = 50;
    f.src->fail_after = 2;
    auto a = fetch(f.port(), "/export?format=ndjson");
    EXPECT_FALSE(a.complete);
    ASSERT_EQ(count_lines(a.body), 2 * 100u + 1);
    const auto last_start = a.body.rfind('\n', a.body.size() - 2) + 1;
    auto last = boost::json::parse(a.body.substr(last_start)).as_object();
    EXPECT_EQ(last.at("code").as_string(), "FR502");
    EXPECT_TRUE(last.contains("error"));
    EXPECT_TRUE(last.contains("request_id"));
    // The source's own text stays in the log (server.expose_errors is off).
    EXPECT_EQ(a.body.find("warehouse went away"), std::string::npos);
}

TEST(stream_http, a_failure_before_the_first_row_is_an_ordinary_json_error) {
    fixture f;
    f.src->fail_before_columns = true;
    auto a = fetch(f.port(), "/export");
    EXPECT_NE(a.head.find("HTTP/1.1 502"), std::string::npos) << a.head;
    EXPECT_FALSE(a.chunked);
    auto err = boost::json::parse(a.body).as_object();
    EXPECT_EQ(err.at("code").as_string(), "FR502");
}

TEST(stream_http, a_client_that_leaves_mid_stream_stops_the_query) {
    fixture f;
    f.src->batches = 0;  // endless
    f.src->pad = 200;
    {
        net::io_context ioc;
        tcp::socket sock(ioc);
        sock.connect({net::ip::make_address("127.0.0.1"), f.port()});
        const std::string req = "GET /export HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        net::write(sock, net::buffer(req));
        char buf[4096];
        std::size_t got = 0;
        while (got < 100'000) got += sock.read_some(net::buffer(buf));
        sock.close();
    }
    const auto until = std::chrono::steady_clock::now() + 5s;
    while (!f.src->ended && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(f.src->ended) << "the query is still running after its client left";
    EXPECT_TRUE(f.src->saw_stop);
    const auto drained = std::chrono::steady_clock::now() + 5s;
    while (f.server->stats().in_flight > 0 && std::chrono::steady_clock::now() < drained)
        std::this_thread::sleep_for(10ms);
    EXPECT_EQ(f.server->stats().in_flight, 0u);
}

TEST(stream_http, a_client_that_does_not_read_holds_the_producer_back) {
    fixture f;
    f.src->batches = 0;  // endless
    f.src->pad = 1000;   // about 1 KB a row, 100 KB a batch
    net::io_context ioc;
    tcp::socket sock(ioc);
    sock.connect({net::ip::make_address("127.0.0.1"), f.port()});
    sock.set_option(net::socket_base::receive_buffer_size(64 * 1024));
    const std::string req = "GET /export HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    net::write(sock, net::buffer(req));
    // Nothing is read: the kernel's buffers fill, then the server's bounded queue, then the
    // worker waits. What was produced must level off far below what an unbounded server makes.
    std::uint64_t before = 0;
    for (int i = 0; i < 40; ++i) {
        std::this_thread::sleep_for(100ms);
        const auto now = f.src->delivered.load();
        if (now == before && now > 0) break;
        before = now;
    }
    std::this_thread::sleep_for(300ms);
    const auto settled = f.src->delivered.load();
    EXPECT_EQ(settled, before) << "the producer kept going while nobody read";
    EXPECT_LT(settled * 1000, std::uint64_t{64} << 20) << "more than 64 MB produced for a client that reads nothing";
    sock.close();
    const auto until = std::chrono::steady_clock::now() + 8s;
    while (!f.src->ended && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(f.src->ended);
}

// A whole (not streamed) answer is first sent with one non-blocking write; what the socket does
// not take goes out asynchronously. Answers larger than a small receive window, on a client that
// waits before reading, take that path: each must arrive whole and in order, and the next
// pipelined request on the connection must still be answered. Random sizes and bytes.
TEST(whole_answer_http, answers_the_socket_takes_in_part_arrive_whole_and_in_order) {
    std::mt19937_64 rng(41);
    std::vector<std::string> bodies(3);
    for (auto& b : bodies) {
        b.resize(std::uniform_int_distribution<std::size_t>(1 << 20, 6 << 20)(rng));
        for (auto& c : b) c = static_cast<char>('a' + rng() % 26);
    }
    fixture f([&](api::service& svc) {
        for (std::size_t i = 0; i < bodies.size(); ++i)
            svc.add_route("/big" + std::to_string(i),
                          [body = bodies[i]](const api::request&) { return api::json_response(200, body); });
    });
    net::io_context ioc;
    tcp::socket sock(ioc);
    sock.connect({net::ip::make_address("127.0.0.1"), f.port()});
    sock.set_option(net::socket_base::receive_buffer_size(64 * 1024));
    std::string req;
    for (std::size_t i = 0; i < bodies.size(); ++i)
        req += "GET /big" + std::to_string(i) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
               (i + 1 == bodies.size() ? "Connection: close\r\n" : "") + "\r\n";
    net::write(sock, net::buffer(req));
    std::this_thread::sleep_for(200ms);  // the server's first write fills the windows and stops short
    std::string bytes;
    boost::system::error_code ec;
    std::vector<char> buf(1 << 16);
    for (;;) {
        const auto n = sock.read_some(net::buffer(buf), ec);
        bytes.append(buf.data(), n);
        if (ec) break;
    }
    std::size_t at = 0;
    for (std::size_t i = 0; i < bodies.size(); ++i) {
        const auto end = bytes.find("\r\n\r\n", at);
        ASSERT_NE(end, std::string::npos) << "answer " << i << " missing";
        const auto head = bytes.substr(at, end + 2 - at);  // with the last field's CRLF
        ASSERT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
        ASSERT_NE(head.find("Content-Length: " + std::to_string(bodies[i].size()) + "\r\n"), std::string::npos) << head;
        at = end + 4;
        ASSERT_GE(bytes.size() - at, bodies[i].size()) << "answer " << i << " cut short";
        EXPECT_TRUE(bytes.compare(at, bodies[i].size(), bodies[i]) == 0) << "answer " << i << " differs";
        at += bodies[i].size();
    }
    EXPECT_EQ(at, bytes.size()) << "bytes after the last answer";
}

}  // namespace
}  // namespace frost::server
