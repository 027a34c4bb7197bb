#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "api/request.hpp"
#include "api/response.hpp"
#include "api/worker_pool.hpp"
#include "config/config.hpp"
#include "source/source.hpp"

namespace frost::api {

/// The sources an API serves from, by configured name.
using source_map = std::map<std::string, std::shared_ptr<source::source>>;

/// The transport-free API core: routes a request to its endpoint, validates and binds its
/// parameters, runs the query on the worker pool and renders the JSON answer. The HTTP
/// server, the Lambda loop and tests all call `handle`. Thread-safe.
class service {
public:
    /// Resolves every endpoint's source and SQL. Fails when the config names a source that
    /// is not in `sources` or lacks SQL for its dialect. `workers` must outlive the service.
    static model::result<std::unique_ptr<service>> create(std::shared_ptr<const config::config> cfg,
                                                           source_map sources, worker_pool& workers);

    /// Answers `req`. `done` is called exactly once: on the calling thread when the answer
    /// needs no query (errors, static routes), otherwise on a worker thread.
    void handle(request req, std::function<void(response)> done);

    /// Synchronous convenience for tools and tests: blocks until the answer is ready.
    [[nodiscard]] response handle_sync(request req);

    [[nodiscard]] const config::config& configuration() const noexcept { return *cfg_; }

private:
    struct route {
        const config::endpoint_config* endpoint = nullptr;
        source::source* src = nullptr;
        std::string sql;
        std::shared_ptr<const std::string> static_body;
    };

    service(std::shared_ptr<const config::config> cfg, source_map sources, worker_pool& workers)
        : cfg_(std::move(cfg)), sources_(std::move(sources)), workers_(workers) {}

    std::shared_ptr<const config::config> cfg_;
    source_map sources_;
    worker_pool& workers_;
    std::unordered_map<std::string, route> routes_;
};

/// A JSON response with the seed's headers (content type, CORS).
[[nodiscard]] response json_response(int status, std::string body);

/// The error response for `e`, with `Retry-After` on 503s.
[[nodiscard]] response error_response(const model::error& e);

}  // namespace frost::api
