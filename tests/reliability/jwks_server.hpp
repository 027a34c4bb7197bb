#pragma once

// A tiny JWKS endpoint for outage tests: serves a document, refuses connections, or accepts
// and never answers. Counts the fetches it sees.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace frost::testing {

class jwks_server {
public:
    enum class mode { serve, hang };

    explicit jwks_server(std::string document, std::string cache_control = "max-age=300")
        : document_(std::move(document)), cache_control_(std::move(cache_control)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        ::listen(fd_, 64);
        socklen_t len = sizeof addr;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { run(); });
    }
    ~jwks_server() {
        stopping_ = true;
        thread_.join();
        if (fd_ >= 0) ::close(fd_);
        for (int c : held_) ::close(c);
    }

    [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/jwks.json"; }
    [[nodiscard]] int fetches() const { return fetches_; }
    void set_mode(mode m) { mode_ = m; }
    void set_document(std::string doc) {
        std::lock_guard lock(mutex_);
        document_ = std::move(doc);
    }
    /// Stops listening: later fetches get "connection refused".
    void go_down() { down_ = true; }

private:
    void run() {
        while (!stopping_) {
            if (down_ && fd_ >= 0) {
                ::close(fd_);
                fd_ = -1;
            }
            if (fd_ < 0) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
                continue;
            }
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            const int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0) continue;
            ++fetches_;
            char buf[4096];
            (void)::recv(c, buf, sizeof buf, 0);
            if (mode_ == mode::hang) {
                held_.push_back(c);  // never answered
                continue;
            }
            std::string body;
            {
                std::lock_guard lock(mutex_);
                body = document_;
            }
            const std::string res =
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: " + cache_control_ +
                "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
            (void)::send(c, res.data(), res.size(), MSG_NOSIGNAL);
            ::close(c);
        }
    }

    std::mutex mutex_;
    std::string document_;
    std::string cache_control_;
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> down_{false};
    std::atomic<mode> mode_{mode::serve};
    std::atomic<int> fetches_{0};
    std::vector<int> held_;
    std::thread thread_;
};

}  // namespace frost::testing
