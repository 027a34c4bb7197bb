// A burst of 100,000 HTTP requests through the real server (keep-alive, pipelined, four
// connections at full speed) yields exactly 100,000 access-log lines: nothing is lost below
// the queue's capacity, and no answer waits for the log.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "app/assemble.hpp"
#include "config/config.hpp"
#include "observe/access_log.hpp"
#include "server/http_server.hpp"
#include "support/sanitized.hpp"

namespace {

// Sends `count` GET / requests on one connection, `batch` at a time, and counts the answers.
std::size_t burst(std::uint16_t port, std::size_t count, std::size_t batch) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 0;
    const std::string one = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    const std::string marker = "HTTP/1.1 200 ";
    std::size_t answered = 0;
    std::string tail;
    char buf[65536];
    while (answered < count) {
        const std::size_t n = std::min(batch, count - answered);
        std::string requests;
        for (std::size_t i = 0; i < n; ++i) requests += one;
        for (std::size_t sent = 0; sent < requests.size();) {
            const auto w = ::send(fd, requests.data() + sent, requests.size() - sent, MSG_NOSIGNAL);
            if (w <= 0) return answered;
            sent += static_cast<std::size_t>(w);
        }
        const std::size_t goal = answered + n;
        while (answered < goal) {
            const auto r = ::recv(fd, buf, sizeof buf, 0);
            if (r <= 0) return answered;
            // Status lines only start answers: the static body holds no "HTTP/1.1 ".
            std::string text = tail + std::string(buf, static_cast<std::size_t>(r));
            for (std::size_t p = 0; (p = text.find(marker, p)) != std::string::npos; p += marker.size()) ++answered;
            tail = text.size() >= marker.size() ? text.substr(text.size() - (marker.size() - 1)) : text;
        }
    }
    ::close(fd);
    return answered;
}

TEST(access_log, an_http_burst_of_100k_requests_makes_100k_lines) {
    auto cfg = frost::config::load_text(
        "server:\n  host: 127.0.0.1\n  port: 0\n  io_threads: 2\n  workers: 1\n  access_log: false\n"
        "  max_requests_per_connection: 1000000\n"
        "endpoints:\n  - path: /\n    static: {result: Nothing to see here, time_ms: 0}\n",
        "burst.yaml", "/");
    ASSERT_TRUE(cfg) << cfg.error().message;
    frost::app::assemble_options opts;
    opts.guards = frost::app::guard_mode::none;
    auto assembled = frost::app::assemble(std::move(cfg).value(), opts);
    ASSERT_TRUE(assembled) << assembled.error().message;
    auto app = std::make_unique<frost::app::application>(std::move(assembled).value());

    std::FILE* out = std::tmpfile();
    ASSERT_NE(out, nullptr);
    constexpr std::size_t connections = 4, per_connection = frost::testing::rounds<std::size_t>(25'000);
    auto log = std::make_shared<frost::observe::access_log>(out, connections * per_connection);
    app->service->add_observer([log](const frost::api::request& req, const frost::api::response& res,
                                     const frost::api::request_stats& stats) { log->write(req, res, stats); });
    auto server = frost::server::http_server::bind(app->cfg->server, *app->service);
    ASSERT_TRUE(server) << server.error().message;
    server.value()->start();

    std::atomic<std::size_t> answered{0};
    std::vector<std::thread> clients;
    for (std::size_t c = 0; c < connections; ++c)
        clients.emplace_back([&] { answered += burst(server.value()->port(), per_connection, 200); });
    for (auto& t : clients) t.join();
    EXPECT_EQ(answered.load(), connections * per_connection);
    server.value()->stop(std::chrono::milliseconds(100));

    log->flush();
    EXPECT_EQ(log->dropped(), 0u);
    EXPECT_EQ(log->written(), connections * per_connection);
    std::rewind(out);
    std::size_t lines = 0;
    for (int ch; (ch = std::fgetc(out)) != EOF;) lines += ch == '\n';
    EXPECT_EQ(lines, connections * per_connection);
    app->workers.reset();
    server.value().reset();
    app.reset();  // the service, its observer and the log go before the file they write to
    log.reset();
    std::fclose(out);
}

}  // namespace
