#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api/service.hpp"
#include "config/config.hpp"

namespace frost::server {

/// HTTP/1.1 front end over Boost.Beast: keep-alive (idle timeout, request and lifetime caps
/// per connection), one I/O thread per core, per-request limits (head, URL, field count, body),
/// a total deadline on each request head (slowloris) and on each write (slow readers), framing
/// checks against request smuggling (`request_head.hpp`), a cap on open connections, and
/// graceful shutdown. Knows nothing of endpoints: it turns bytes into
/// `api::request`, calls `api::service::handle`, and writes the `api::response` back on the
/// connection's event loop (one per I/O thread). I/O threads never run queries.
class http_server {
public:
    /// Binds the listening socket (port 0 picks a free port). Fails when the address cannot
    /// be bound. `svc` must outlive the server.
    static model::result<std::unique_ptr<http_server>> bind(const config::server_config& cfg, api::service& svc);

    /// Where each request finds the service that answers it (a reloadable application): called
    /// once per request, on an I/O thread, and must be fast and thread-safe. The pointer it
    /// returns is held until that request's answer has been handed back, so a service that has
    /// been replaced finishes the requests it started.
    using service_source = std::function<std::shared_ptr<api::service>()>;
    /// Same, answering each request with the service `current` returns at the time it is read.
    static model::result<std::unique_ptr<http_server>> bind(const config::server_config& cfg, service_source current);
    ~http_server();
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    /// The port actually bound.
    [[nodiscard]] std::uint16_t port() const noexcept;

    /// Starts the I/O threads; returns at once.
    void start();

    /// Stops accepting, lets in-flight requests finish for up to `grace`, then closes
    /// everything and joins the I/O threads. Safe to call from any thread, more than once.
    void stop(std::chrono::milliseconds grace);

    /// Blocks until SIGINT or SIGTERM, then calls `stop` with the configured grace.
    void run_until_signal();

    /// Connections open now.
    [[nodiscard]] std::size_t open_connections() const noexcept;

    /// What the listener has seen since it started (for metrics).
    struct counters {
        std::uint64_t accepted = 0;  ///< connections taken
        std::uint64_t refused = 0;   ///< connections closed at once: over `max_connections`
        std::uint64_t rejected = 0;  ///< requests refused before routing (limits, framing, smuggling shapes)
        std::uint64_t timeouts = 0;  ///< connections dropped at a read or write deadline
        std::size_t open = 0;
        std::size_t in_flight = 0;
        std::uint64_t abandoned = 0;  ///< requests whose client went away before their answer was written
    };
    [[nodiscard]] counters stats() const noexcept;

    struct impl;

private:
    explicit http_server(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

}  // namespace frost::server
