#pragma once

// The real server with the guard rails installed, over a small in-memory config: what the
// reliability tests attack.

#include <memory>
#include <stdexcept>
#include <string>

#include "app/assemble.hpp"
#include "config/config.hpp"
#include "server/http_server.hpp"

namespace frost::testing {

/// Endpoints: `/ping` (public); with an auth section also `/mine` (JWT; `user` bound from the `sub` claim), `/keyed`
/// (API key), `/limited` (API key, 5/s burst 5 per key), `/either` (key or JWT). `extra_yaml` is appended at the top
/// level (auth section, server overrides).
inline std::string small_config_yaml(const std::string& server_yaml, const std::string& auth_yaml) {
    return "server:\n  host: 127.0.0.1\n  port: 0\n  io_threads: 2\n  workers: 2\n  access_log: false\n" + server_yaml +
           "sources:\n  mem:\n    type: duckdb\n    path: ':memory:'\n    read_only: false\n" + auth_yaml +
           R"(endpoints:
  - path: /ping
    source: mem
    sql: select 1 as one
)" + (auth_yaml.empty() ? std::string() : std::string(R"(  - path: /mine
    source: mem
    auth: jwt
    params: [{name: user, type: string}]
    claims: {user: sub}
    sql: select $user as who
  - path: /keyed
    source: mem
    auth: api_key
    cache: {ttl: 60s}
    sql: select 2 as two
  - path: /limited
    source: mem
    auth: api_key
    rate_limit: {per_second: 5, burst: 5}
    sql: select 3 as three
  - path: /either
    source: mem
    auth: any
    sql: select 4 as four
)"));
}

class guarded_server {
public:
    explicit guarded_server(const std::string& yaml) {
        auto cfg = config::load_text(yaml, "test.yaml", "/");
        if (!cfg) throw std::runtime_error(cfg.error().message);
        auto assembled = app::assemble(std::move(cfg).value(), {});  // as `frost serve`: guard rails
        if (!assembled) throw std::runtime_error(assembled.error().message);
        app_ = std::make_unique<app::application>(std::move(assembled).value());
        auto srv = server::http_server::bind(app_->cfg->server, *app_->service);
        if (!srv) throw std::runtime_error(srv.error().message);
        server_ = std::move(srv).value();
        app_->rails->watch_listener(*server_);
        server_->start();
    }
    ~guarded_server() {
        server_->stop(std::chrono::seconds(2));
        app_->workers.reset();
        app_->rails.reset();
        server_.reset();
    }
    [[nodiscard]] std::uint16_t port() const { return server_->port(); }
    [[nodiscard]] app::guard_rails& rails() { return *app_->rails; }
    [[nodiscard]] server::http_server& server() { return *server_; }

private:
    std::unique_ptr<app::application> app_;
    std::unique_ptr<server::http_server> server_;
};

}  // namespace frost::testing
