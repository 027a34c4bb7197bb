#pragma once

// Raw-socket helpers for the reliability suite: send exact bytes, read what comes back.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace frost::testing {

/// A connected TCP socket to 127.0.0.1:port, closed on destruction.
class raw_connection {
public:
    explicit raw_connection(std::uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
            throw std::runtime_error("connect failed");
    }
    ~raw_connection() {
        if (fd_ >= 0) ::close(fd_);
    }
    raw_connection(const raw_connection&) = delete;
    raw_connection& operator=(const raw_connection&) = delete;

    /// Sends every byte; false when the peer has closed.
    bool send(const std::string& bytes) {
        std::size_t sent = 0;
        while (sent < bytes.size()) {
            const auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) return false;
            sent += static_cast<std::size_t>(n);
        }
        return true;
    }

    /// Reads until the peer closes or `quiet` passes with no byte. `closed` says which.
    std::string read_all(std::chrono::milliseconds quiet, bool* closed = nullptr) {
        std::string out;
        char buf[65536];
        for (;;) {
            pollfd p{fd_, POLLIN, 0};
            const int r = ::poll(&p, 1, static_cast<int>(quiet.count()));
            if (r <= 0) {
                if (closed) *closed = false;
                return out;
            }
            const auto n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) {
                if (closed) *closed = true;
                return out;
            }
            out.append(buf, static_cast<std::size_t>(n));
        }
    }

    /// True when the peer closes within `within` (reading and dropping anything it sends).
    bool closed_within(std::chrono::milliseconds within) {
        const auto until = std::chrono::steady_clock::now() + within;
        char buf[4096];
        for (;;) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
            if (left.count() <= 0) return false;
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
            if (::recv(fd_, buf, sizeof buf, 0) <= 0) return true;
        }
    }

    [[nodiscard]] int fd() const noexcept { return fd_; }

private:
    int fd_ = -1;
};

/// The status codes of every response in a raw byte stream, in order (status lines only at
/// message starts: bodies here are JSON and never contain "\r\nHTTP/1.1 ").
inline std::vector<int> statuses(const std::string& stream) {
    std::vector<int> out;
    std::size_t pos = 0;
    while ((pos = stream.find("HTTP/1.1 ", pos)) != std::string::npos) {
        if (pos == 0 || stream.compare(pos - 1, 1, "}") == 0 || stream.compare(pos - 2, 2, "\r\n") == 0 ||
            stream.compare(pos - 1, 1, "]") == 0) {
            out.push_back(std::stoi(stream.substr(pos + 9, 3)));
        }
        pos += 9;
    }
    return out;
}

}  // namespace frost::testing
