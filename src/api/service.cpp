#include "api/service.hpp"

#include <spdlog/spdlog.h>

#include <future>
#include <random>

#include "api/params.hpp"
#include "api/render.hpp"

namespace frost::api {

namespace {

std::mt19937_64& thread_rng() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return rng;
}

long long elapsed_ms(model::clock::time_point since) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(model::clock::now() - since).count();
}

}  // namespace

response json_response(int status, std::string body) {
    response r;
    r.status = status;
    r.body = std::move(body);
    r.headers.emplace_back("Content-Type", "application/json");
    r.headers.emplace_back("Access-Control-Allow-Origin", "*");
    return r;
}

response error_response(const model::error& e) {
    auto r = json_response(model::http_status(e.code), render_error(e));
    if (r.status == 503) r.headers.emplace_back("Retry-After", "1");
    return r;
}

model::result<std::unique_ptr<service>> service::create(std::shared_ptr<const config::config> cfg,
                                                        source_map sources, worker_pool& workers) {
    std::unique_ptr<service> s(new service(std::move(cfg), std::move(sources), workers));
    for (const auto& e : s->cfg_->endpoints) {
        route r;
        r.endpoint = &e;
        if (e.static_body) {
            r.static_body = std::make_shared<const std::string>(*e.static_body);
        } else {
            auto it = s->sources_.find(e.source);
            if (it == s->sources_.end() || !it->second)
                return model::error{model::error_code::config_error,
                                    "endpoint " + e.path + ": source \"" + e.source + "\" is not open", {}, {}};
            r.src = it->second.get();
            auto sql = e.sql.find(std::string(r.src->dialect()));
            if (sql == e.sql.end()) sql = e.sql.find("");
            if (sql == e.sql.end())
                return model::error{model::error_code::config_error,
                                    "endpoint " + e.path + ": no SQL for dialect " + std::string(r.src->dialect()), {}, {}};
            r.sql = sql->second;
        }
        s->routes_.emplace(e.path, std::move(r));
    }
    return s;
}

void service::handle(request req, std::function<void(response)> done) {
    const auto started = model::clock::now();
    if (req.deadline.at == model::clock::time_point::max())
        req.deadline = model::deadline::after(cfg_->server.request_timeout);

    auto target = split_target(req.target);
    if (!target) return done(error_response(target.error()));
    auto& [path, query] = target.value();

    auto it = routes_.find(path);
    if (it == routes_.end() && path.size() > 1 && path.back() == '/') it = routes_.find(path.substr(0, path.size() - 1));
    if (it == routes_.end()) {
        // The seed's exact 404 body, plus a stable code.
        return done(error_response({model::error_code::not_found, "Not found!", {}, {}}));
    }
    if (req.method == "OPTIONS") {
        auto r = json_response(204, {});
        r.headers.emplace_back("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
        r.headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Api-Key, X-Request-Id");
        r.headers.emplace_back("Access-Control-Max-Age", "86400");
        return done(std::move(r));
    }
    if (req.method != "GET" && req.method != "HEAD") {
        auto r = error_response({model::error_code::method_not_allowed, "method " + req.method.substr(0, 16) + " is not allowed here",
                                 {}, "use GET"});
        r.headers.emplace_back("Allow", "GET, HEAD, OPTIONS");
        return done(std::move(r));
    }
    const route& rt = it->second;
    if (rt.static_body) {
        auto r = json_response(200, {});
        r.shared_body = rt.static_body;
        return done(std::move(r));
    }

    auto params = bind_params(*rt.endpoint, query, thread_rng());
    if (!params) return done(error_response(params.error()));

    auto job = [this, &rt, params = std::move(params).value(), deadline = req.deadline, started,
                done]() mutable {
        try {
            source::query q{rt.sql, params, deadline, rt.endpoint->path, rt.endpoint->max_rows};
            auto table = rt.src->run(q);
            if (!table) {
                const auto& e = table.error();
                spdlog::warn("{} failed: {} ({})", rt.endpoint->path, e.message, model::code_name(e.code));
                return done(error_response(e));
            }
            done(json_response(200, render_envelope(table.value(), rt.endpoint->format, elapsed_ms(started))));
        } catch (const std::exception& ex) {
            spdlog::error("{}: unexpected failure: {}", rt.endpoint->path, ex.what());
            done(error_response({model::error_code::internal, "internal error", {}, {}}));
        }
    };
    if (!workers_.try_post(std::move(job))) {
        done(error_response({model::error_code::overloaded, "the server is busy; try again shortly", {}, {}}));
    }
}

response service::handle_sync(request req) {
    std::promise<response> answer;
    auto future = answer.get_future();
    handle(std::move(req), [&answer](response r) { answer.set_value(std::move(r)); });
    return future.get();
}

}  // namespace frost::api
