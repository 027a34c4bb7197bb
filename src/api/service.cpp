#include "api/service.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
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

void add_server_timing(response& res, const request_stats& stats) {
    using ms = std::chrono::duration<double, std::milli>;
    char text[160];
    const double total = ms(model::clock::now() - stats.started).count();
    int n = std::snprintf(text, sizeof text, "total;dur=%.3f", total);
    if (stats.query_time.count() > 0)
        n += std::snprintf(text + n, sizeof text - static_cast<std::size_t>(n), ", query;dur=%.3f",
                           ms(stats.query_time).count());
    if (stats.cache != "none" && stats.cache.size() < 16)
        std::snprintf(text + n, sizeof text - static_cast<std::size_t>(n), ", cache;desc=%.*s",
                      static_cast<int>(stats.cache.size()), stats.cache.data());
    res.set_header("Server-Timing", text);
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

void service::add_route(std::string path, builtin_handler handler) {
    builtins_.emplace(std::move(path), std::move(handler));
}

void service::add_guard(guard g) { guards_.push_back(std::move(g)); }

void service::add_observer(observer o) { observers_.push_back(std::move(o)); }

void service::finish(const request& req, response res, const request_stats& stats,
                     const std::function<void(response)>& done) const {
    add_server_timing(res, stats);
    for (const auto& o : observers_) o(req, res, stats);
    done(std::move(res));
}

void service::handle(request req, std::function<void(response)> done) {
    request_stats stats{"(unmatched)", model::clock::now(), {}, "none", {}};
    if (req.deadline.at == model::clock::time_point::max())
        req.deadline = model::deadline::after(cfg_->server.request_timeout);

    auto target = split_target(req.target);
    if (!target) return finish(req, error_response(target.error()), stats, done);
    auto& [path, query] = target.value();

    auto it = routes_.find(path);
    if (it == routes_.end() && path.size() > 1 && path.back() == '/') it = routes_.find(path.substr(0, path.size() - 1));
    if (it == routes_.end()) {
        if (auto b = builtins_.find(path); b != builtins_.end()) {
            stats.route = b->first;
            return finish(req, b->second(req), stats, done);
        }
        // The seed's exact 404 body, plus a stable code.
        return finish(req, error_response({model::error_code::not_found, "Not found!", {}, {}}), stats, done);
    }
    const route& rt = it->second;
    stats.route = rt.endpoint->path;
    if (req.method == "OPTIONS") {
        auto r = json_response(204, {});
        r.headers.emplace_back("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
        r.headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Api-Key, X-Request-Id");
        r.headers.emplace_back("Access-Control-Max-Age", "86400");
        return finish(req, std::move(r), stats, done);
    }
    if (req.method != "GET" && req.method != "HEAD") {
        auto r = error_response({model::error_code::method_not_allowed, "method " + req.method.substr(0, 16) + " is not allowed here",
                                 {}, "use GET"});
        r.headers.emplace_back("Allow", "GET, HEAD, OPTIONS");
        return finish(req, std::move(r), stats, done);
    }
    for (const auto& g : guards_) {
        if (auto stop = g(req, *rt.endpoint)) return finish(req, std::move(*stop), stats, done);
    }
    if (rt.static_body) {
        auto r = json_response(200, {});
        r.shared_body = rt.static_body;
        return finish(req, std::move(r), stats, done);
    }

    for (const auto& [name, value] : req.fixed_params) {
        std::erase_if(query, [&name](const auto& pair) { return pair.first == name; });
        query.emplace_back(name, value);
    }
    auto params = bind_params(*rt.endpoint, query, thread_rng());
    if (!params) return finish(req, error_response(params.error()), stats, done);

    // The job owns the request so observers see it when the answer is ready.
    auto shared_req = std::make_shared<request>(std::move(req));
    auto job = [this, &rt, params = std::move(params).value(), shared_req, stats, done]() mutable {
        response res;
        try {
            const auto query_started = model::clock::now();
            source::query q{rt.sql, params, shared_req->deadline, rt.endpoint->path, rt.endpoint->max_rows};
            auto table = rt.src->run(q);
            stats.query_time = model::clock::now() - query_started;
            stats.source = rt.src->name();
            if (!table) {
                const auto& e = table.error();
                spdlog::warn("{} {} failed: {} ({})", shared_req->request_id, rt.endpoint->path, e.message,
                             model::code_name(e.code));
                res = error_response(e);
            } else {
                res = json_response(200, render_envelope(table.value(), rt.endpoint->format, elapsed_ms(stats.started)));
            }
        } catch (const std::exception& ex) {
            spdlog::error("{} {}: unexpected failure: {}", shared_req->request_id, rt.endpoint->path, ex.what());
            res = error_response({model::error_code::internal, "internal error", {}, {}});
        }
        finish(*shared_req, std::move(res), stats, done);
    };
    if (!workers_.try_post(std::move(job))) {
        finish(*shared_req, error_response({model::error_code::overloaded, "the server is busy; try again shortly", {}, {}}),
               stats, done);
    }
}

response service::handle_sync(request req) {
    std::promise<response> answer;
    auto future = answer.get_future();
    handle(std::move(req), [&answer](response r) { answer.set_value(std::move(r)); });
    return future.get();
}

}  // namespace frost::api
