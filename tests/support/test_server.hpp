#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "api/service.hpp"
#include "app/assemble.hpp"
#include "config/config.hpp"
#include "server/http_server.hpp"

namespace frost::testing {

/// The path of a sample database with `trips` rows, built once per process per size in a
/// temporary folder (deterministic: seed 42). Thread-safe.
[[nodiscard]] std::string sample_database(std::uint64_t trips = 200'000);

/// The repository's `config/frost.yaml`, loaded, with its `local` source pointed at `db`.
[[nodiscard]] config::config default_config(const std::string& db);

/// A blocking HTTP/1.1 answer, for tests.
struct http_answer {
    int status = 0;
    std::map<std::string, std::string> headers;  ///< lower-case names
    std::string body;
    [[nodiscard]] std::string header(const std::string& lower) const {
        auto it = headers.find(lower);
        return it == headers.end() ? std::string() : it->second;
    }
};

/// Sends one request on a new connection to 127.0.0.1:`port` and reads the answer.
[[nodiscard]] http_answer http_request(std::uint16_t port, const std::string& method, const std::string& target,
                                       const std::vector<std::pair<std::string, std::string>>& headers = {});
[[nodiscard]] inline http_answer http_get(std::uint16_t port, const std::string& target,
                                          const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return http_request(port, "GET", target, headers);
}

/// The real server (service + Beast listener) on 127.0.0.1, port 0, over `cfg`.
class test_server {
public:
    explicit test_server(config::config cfg);
    ~test_server();
    [[nodiscard]] std::uint16_t port() const { return server_->port(); }
    [[nodiscard]] api::service& service() { return *app_->service; }
    [[nodiscard]] http_answer get(const std::string& target,
                                  const std::vector<std::pair<std::string, std::string>>& headers = {}) const {
        return http_get(port(), target, headers);
    }

private:
    std::unique_ptr<app::application> app_;
    std::unique_ptr<server::http_server> server_;
};

}  // namespace frost::testing
