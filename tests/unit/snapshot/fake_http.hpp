#pragma once

// A loopback HTTP/1.1 endpoint for the snapshot tests: answers every request with what
// `answer` returns and records what it saw (method, target, headers, body).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace frost::testing {

struct seen_request {
    std::string method, target, body;
    std::map<std::string, std::string> headers;  ///< lower-case names
};

struct canned_answer {
    canned_answer(int s = 200, std::string b = {}, std::vector<std::pair<std::string, std::string>> h = {})
        : status(s), body(std::move(b)), headers(std::move(h)) {}
    int status;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

class fake_http {
public:
    explicit fake_http(std::function<canned_answer(const seen_request&)> answer) : answer_(std::move(answer)) {
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
    ~fake_http() {
        stopping_ = true;
        thread_.join();
        ::close(fd_);
    }
    [[nodiscard]] std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
    [[nodiscard]] std::vector<seen_request> seen() const {
        std::lock_guard lock(mutex_);
        return seen_;
    }

private:
    void run() {
        while (!stopping_) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            const int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0) continue;
            std::string data;
            char buf[8192];
            std::size_t head_end = std::string::npos, need = 0;
            while (true) {
                const auto n = ::recv(c, buf, sizeof buf, 0);
                if (n <= 0) break;
                data.append(buf, static_cast<std::size_t>(n));
                if (head_end == std::string::npos && (head_end = data.find("\r\n\r\n")) != std::string::npos) {
                    need = head_end + 4;
                    auto lower = data.substr(0, head_end);
                    for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                    if (auto at = lower.find("content-length:"); at != std::string::npos)
                        need += std::stoul(lower.substr(at + 15));
                }
                if (head_end != std::string::npos && data.size() >= need) break;
            }
            seen_request r;
            if (head_end != std::string::npos) {
                std::string head = data.substr(0, head_end);
                r.body = data.substr(head_end + 4);
                const auto first = head.find("\r\n");
                const auto line = head.substr(0, first);
                const auto sp1 = line.find(' '), sp2 = line.rfind(' ');
                r.method = line.substr(0, sp1);
                r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
                std::size_t pos = first == std::string::npos ? head.size() : first + 2;
                while (pos < head.size()) {
                    auto end = head.find("\r\n", pos);
                    if (end == std::string::npos) end = head.size();
                    auto h = head.substr(pos, end - pos);
                    if (auto colon = h.find(':'); colon != std::string::npos) {
                        std::string name = h.substr(0, colon);
                        for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                        auto value = h.substr(colon + 1);
                        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
                        r.headers[name] = value;
                    }
                    pos = end + 2;
                }
            }
            canned_answer a = answer_(r);
            {
                std::lock_guard lock(mutex_);
                seen_.push_back(r);
            }
            std::string res = "HTTP/1.1 " + std::to_string(a.status) +
                              " X\r\nContent-Length: " + std::to_string(a.body.size()) + "\r\nConnection: close\r\n";
            for (const auto& [k, v] : a.headers) res += k + ": " + v + "\r\n";
            res += "\r\n" + (r.method == "HEAD" ? std::string() : a.body);
            (void)::send(c, res.data(), res.size(), MSG_NOSIGNAL);
            ::close(c);
        }
    }

    std::function<canned_answer(const seen_request&)> answer_;
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
    mutable std::mutex mutex_;
    std::vector<seen_request> seen_;
    std::thread thread_;
};

}  // namespace frost::testing
