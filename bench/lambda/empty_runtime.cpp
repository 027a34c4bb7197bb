// The floor of a Lambda cold start for issue 14's second ratio: a C++ custom runtime that is the
// Runtime API loop and nothing else. It asks for the next event and answers `{}`, over plain
// POSIX sockets (no HTTP library, no JSON parser), so its init is process start + the loader.
// bench/lambda_cold_start.sh runs it from the same package, through the same bundled loader as
// bin/frost, under the same emulator.
// Usage: AWS_LAMBDA_RUNTIME_API=host:port empty_runtime
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

// Opens a connection to host:port, or -1.
int dial(const std::string& host, const std::string& port) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0) return -1;
    int fd = -1;
    for (addrinfo* a = found; a; a = a->ai_next) {
        fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd >= 0 && ::connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
    freeaddrinfo(found);
    return fd;
}

bool send_all(int fd, const std::string& bytes) {
    for (std::size_t sent = 0; sent < bytes.size();) {
        const auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return false;
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

// Reads one HTTP/1.1 response with a Content-Length body; returns the head (the body is read
// and ignored). Empty on failure.
std::string read_response(int fd) {
    std::string data;
    char buf[8192];
    std::size_t head_end = std::string::npos;
    while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
        const auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return {};
        data.append(buf, static_cast<std::size_t>(n));
    }
    std::size_t length = 0;
    for (std::size_t p = 0; p < head_end;) {
        const auto eol = data.find("\r\n", p);
        const std::string line = data.substr(p, eol - p);
        if (line.size() > 15 && strncasecmp(line.c_str(), "content-length:", 15) == 0)
            length = std::strtoul(line.c_str() + 15, nullptr, 10);
        p = eol + 2;
    }
    while (data.size() < head_end + 4 + length) {
        const auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return {};
        data.append(buf, static_cast<std::size_t>(n));
    }
    return data.substr(0, head_end);
}

// The value of header `name` in `head`, or empty.
std::string header(const std::string& head, const char* name) {
    const std::size_t len = std::strlen(name);
    for (std::size_t p = head.find("\r\n"); p != std::string::npos && p < head.size();) {
        p += 2;
        const auto eol = head.find("\r\n", p);
        const std::string line = head.substr(p, eol == std::string::npos ? std::string::npos : eol - p);
        if (line.size() > len && strncasecmp(line.c_str(), name, len) == 0 && line[len] == ':') {
            auto v = line.substr(len + 1);
            while (!v.empty() && v.front() == ' ') v.erase(0, 1);
            return v;
        }
        p = eol;
    }
    return {};
}

}  // namespace

int main() {
    const char* api = std::getenv("AWS_LAMBDA_RUNTIME_API");
    if (!api) {
        std::fprintf(stderr, "empty_runtime: AWS_LAMBDA_RUNTIME_API is not set\n");
        return 1;
    }
    const std::string endpoint = api;
    const auto colon = endpoint.rfind(':');
    const std::string host = endpoint.substr(0, colon), port = endpoint.substr(colon + 1);
    const int fd = dial(host, port);
    if (fd < 0) return 1;
    for (;;) {
        if (!send_all(fd, "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: " + endpoint + "\r\n\r\n"))
            return 1;
        const std::string head = read_response(fd);
        if (head.empty()) return 0;  // the emulator closed the connection: done
        const std::string id = header(head, "Lambda-Runtime-Aws-Request-Id");
        if (!send_all(fd, "POST /2018-06-01/runtime/invocation/" + id + "/response HTTP/1.1\r\nHost: " + endpoint +
                              "\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"))
            return 1;
        if (read_response(fd).empty()) return 0;
    }
}
