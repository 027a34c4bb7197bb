#include "api/service.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <charconv>
#include <future>
#include <random>

#include "api/params.hpp"
#include "api/render.hpp"
#include "cache/http_caching.hpp"
#include "codec/http_tokens.hpp"
#include "codec/utc_time.hpp"
#include "rollup/serving_store.hpp"

namespace frost::api {

namespace {

std::mt19937_64& thread_rng() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return rng;
}

long long elapsed_ms(model::clock::time_point since) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(model::clock::now() - since).count();
}

// Appends a bound value to a cache key, type-tagged so `1` and `"1"` never share a key.
void append_key_value(std::string& key, const model::value& v) {
    char buf[64];
    auto num = [&](char tag, auto n) {
        key += tag;
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
        key.append(buf, end);
    };
    std::visit(
        [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::monostate>) key += '~';
            else if constexpr (std::is_same_v<T, bool>) key += x ? "b1" : "b0";
            else if constexpr (std::is_same_v<T, std::int64_t>) num('i', x);
            else if constexpr (std::is_same_v<T, double>) num('d', x);
            else if constexpr (std::is_same_v<T, model::decimal>) {
                num('m', x.unscaled);
                num('e', static_cast<int>(x.scale));
            } else if constexpr (std::is_same_v<T, model::date>) num('D', x.days);
            else if constexpr (std::is_same_v<T, model::timestamp>) num('T', x.micros);
            else {
                num('s', x.size());
                key += ':';
                key += x;
            }
        },
        v);
}

// A cached answer for one request: 304 when its validator matches, gzip when accepted.
response from_entry(const cache::entry& e, const request& req, const char* outcome) {
    response r;
    r.status = e.status;
    const auto inm = req.header("if-none-match");
    const bool gz = e.gzip_body && codec::accepts_gzip(req.header("accept-encoding"));
    if (!inm.empty() && (cache::if_none_match(inm, e.etag) || (e.gzip_body && cache::if_none_match(inm, e.gzip_etag)))) {
        r.status = 304;
        r.headers = e.not_modified_headers;
        if (gz) r.set_header("ETag", e.gzip_etag);
    } else {
        r.headers = gz ? e.gzip_headers : e.identity_headers;
        r.shared_body = gz ? e.gzip_body : e.body;
    }
    r.headers.emplace_back("X-Cache", outcome);
    return r;
}

// The answer to a job the worker pool did not start. An abandoned job's answer goes to a closed
// connection; it still goes through `finish` so observers count it.
model::error dropped_error(worker_pool::drop_reason why) {
    if (why == worker_pool::drop_reason::abandoned)
        return {model::error_code::timeout, "the client closed the connection before the query started", {}, {}};
    return {model::error_code::timeout, "the request's deadline passed while it waited for a worker", {}, {}};
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

model::result<std::unique_ptr<service>> service::create(std::shared_ptr<const config::config> cfg, source_map sources,
                                                        worker_pool& workers,
                                                        std::shared_ptr<rollup::serving_store> rollups) {
    std::unique_ptr<service> s(new service(std::move(cfg), std::move(sources), workers));
    s->cache_ = std::make_unique<cache::response_cache>(s->cfg_->cache.max_bytes);
    s->serving_ = std::move(rollups);
    for (const auto& e : s->cfg_->endpoints) {
        route r;
        r.endpoint = &e;
        if (!e.rollup.empty()) {
            if (!s->serving_)
                return model::error{model::error_code::config_error,
                                    "endpoint " + e.path + ": rollup \"" + e.rollup + "\" has no serving database open", {}, {}};
            r.rollups = s->serving_.get();
            r.src = s->serving_.get();
            const auto* sql = config::sql_for(e.sql, r.src->dialect());
            if (!sql)
                return model::error{model::error_code::config_error, "endpoint " + e.path + ": no duckdb SQL for its rollup", {}, {}};
            r.sql = *sql;
        } else if (e.static_body) {
            r.static_body = std::make_shared<const std::string>(*e.static_body);
        } else {
            auto it = s->sources_.find(e.source);
            if (it == s->sources_.end() || !it->second)
                return model::error{model::error_code::config_error,
                                    "endpoint " + e.path + ": source \"" + e.source + "\" is not open", {}, {}};
            r.src = it->second.get();
            const auto* sql = config::sql_for(e.sql, r.src->dialect());
            if (!sql)
                return model::error{model::error_code::config_error,
                                    "endpoint " + e.path + ": no SQL for dialect " + std::string(r.src->dialect()), {}, {}};
            r.sql = *sql;
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
        std::erase_if(query, [&n = name](const auto& pair) { return pair.first == n; });
        query.emplace_back(name, value);
    }
    auto params = bind_params(*rt.endpoint, query, thread_rng());
    if (!params) return finish(req, error_response(params.error()), stats, done);

    // A random range is never asked twice: caching it would only push real answers out.
    bool random = false;
    if (rt.endpoint->date_range && rt.endpoint->date_range->random_param)
        for (const auto& [k, v] : query) random = random || k == *rt.endpoint->date_range->random_param;
    if (rt.endpoint->cache.ttl.count() > 0 && !random)
        return handle_cached(rt, std::move(req), std::move(params).value(), stats, std::move(done));
    if (rt.endpoint->cache.ttl.count() > 0) stats.cache = "bypass";

    // The job owns the request so observers see it when the answer is ready.
    auto shared_req = std::make_shared<request>(std::move(req));
    auto job = [this, &rt, params = std::move(params).value(), shared_req, stats, done]() mutable {
        auto a = run_query(rt, params, *shared_req, stats.started);
        stats.query_time = a.query_time;
        stats.source = rt.src->name();
        response res;
        if (a.error) {
            res = error_response(*a.error);
        } else {
            res = json_response(a.status, std::move(a.body));
            res.headers = std::move(a.headers);
        }
        finish(*shared_req, std::move(res), stats, done);
    };
    // Cancellation (issue 15): a job whose client left, or whose deadline passed while it
    // waited, is answered here instead of run.
    auto dropped = [this, shared_req, stats, done](worker_pool::drop_reason why) {
        finish(*shared_req, error_response(dropped_error(why)), stats, done);
    };
    const auto deadline = shared_req->deadline;
    const auto stop = shared_req->stop;
    if (!workers_.try_post({std::move(job), std::move(dropped), deadline, stop})) {
        finish(*shared_req, error_response({model::error_code::overloaded, "the server is busy; try again shortly", {}, {}}),
               stats, done);
    }
}

service::answer service::run_query(const route& rt, const std::vector<source::parameter>& params, const request& req,
                                   model::clock::time_point started) const {
    answer a;
    try {
        const auto query_started = model::clock::now();
        const auto as_of = std::chrono::system_clock::now();
        source::query q{rt.sql, params, req.deadline, rt.endpoint->path, rt.endpoint->max_rows, req.stop};
        model::result<model::table> table = model::error{};
        rollup::version_info version;
        if (rt.rollups) {
            auto read = rt.rollups->run_versioned(q, rt.endpoint->rollup);
            if (read) {
                version = std::move(read.value().version);
                table = std::move(read.value().table);
            } else {
                table = std::move(read).error();
            }
        } else {
            table = rt.src->run(q);
        }
        a.query_time = model::clock::now() - query_started;
        if (!table) {
            const auto& e = table.error();
            spdlog::warn("{} {} failed: {} ({})", req.request_id, rt.endpoint->path, e.message, model::code_name(e.code));
            a.error = e;
            return a;
        }
        a.body = render_envelope(table.value(), rt.endpoint->format, elapsed_ms(started));
        a.headers = json_response(200, {}).headers;
        if (rt.rollups) {
            a.headers.emplace_back("X-Data-Version", rt.endpoint->rollup + "@" + std::to_string(version.version));
            a.headers.emplace_back("X-Data-As-Of", codec::format_utc(version.built_at));
            if (version.stale) a.headers.emplace_back("X-Data-Stale", "true");
        } else {
            a.headers.emplace_back("X-Data-Version", "live");
            a.headers.emplace_back("X-Data-As-Of", codec::format_utc(as_of));
        }
    } catch (const std::exception& ex) {
        spdlog::error("{} {}: unexpected failure: {}", req.request_id, rt.endpoint->path, ex.what());
        a.error = model::error{model::error_code::internal, "internal error", {}, {}};
    }
    return a;
}

void service::handle_cached(const route& rt, request req, std::vector<source::parameter> params, request_stats stats,
                            std::function<void(response)> done) {
    const auto now = model::clock::now();
    // The key: endpoint, canonical bound values, and the data version it reads. One buffer
    // per thread, so a hit allocates no key.
    thread_local std::string key;
    key.clear();
    key += rt.endpoint->path;
    for (const auto& p : params) {
        key += '\x1f';
        key += p.name;
        key += '=';
        append_key_value(key, p.value);
    }
    key += '\x1f';
    if (rt.rollups) {
        const auto v = rt.rollups->current(rt.endpoint->rollup);
        append_key_value(key, static_cast<std::int64_t>(v.version));
        if (v.stale) key += '!';
    }
    auto found = cache_->find(key, now);
    if (found.state == cache::freshness::fresh) {
        stats.cache = "hit";
        return finish(req, from_entry(*found.e, req, "hit"), stats, done);
    }
    if (found.state == cache::freshness::stale_revalidate) {
        stats.cache = "stale";
        if (flights_.join(key, {})) launch_fill(rt, key, params, model::deadline::after(cfg_->server.request_timeout), now);
        return finish(req, from_entry(*found.e, req, "stale"), stats, done);
    }
    stats.cache = "miss";
    stats.source = rt.src->name();
    auto stale = found.state == cache::freshness::stale_if_error ? found.e : nullptr;
    auto shared_req = std::make_shared<request>(std::move(req));
    const auto deadline = shared_req->deadline;
    const bool leader = flights_.join(key, [this, shared_req, stats, done, stale](const cached_outcome& o) mutable {
        stats.query_time = o.query_time;
        response res;
        if (o.entry) {
            res = from_entry(*o.entry, *shared_req, "miss");
        } else if (stale) {
            stats.cache = "stale";
            res = from_entry(*stale, *shared_req, "stale");
        } else {
            res = error_response(*o.error);
        }
        finish(*shared_req, std::move(res), stats, done);
    });
    if (leader) launch_fill(rt, key, std::move(params), deadline, now);
}

void service::launch_fill(const route& rt, std::string key, std::vector<source::parameter> params,
                          model::deadline deadline, model::clock::time_point started) {
    auto job = [this, &rt, key, params = std::move(params), deadline, started]() {
        request background;
        background.deadline = deadline;
        auto a = run_query(rt, params, background, started);
        cached_outcome o;
        o.query_time = a.query_time;
        if (a.error) {
            o.error = std::move(a.error);
        } else {
            o.entry = cache::make_entry(key, a.status, std::move(a.body), a.headers, rt.endpoint->cache,
                                        cfg_->cache.min_gzip_bytes, model::clock::now());
            cache_->insert(o.entry);
        }
        flights_.complete(key, o);
    };
    // A fill is shared by every waiter on its key, so one waiter leaving never cancels it (no
    // stop token); its deadline still bounds its time in the queue.
    auto dropped = [this, key](worker_pool::drop_reason why) {
        cached_outcome o;
        o.error = dropped_error(why);
        flights_.complete(key, o);
    };
    if (!workers_.try_post({std::move(job), std::move(dropped), deadline, {}})) {
        cached_outcome o;
        o.error = model::error{model::error_code::overloaded, "the server is busy; try again shortly", {}, {}};
        flights_.complete(key, o);
    }
}

response service::handle_sync(request req) {
    std::promise<response> answer;
    auto future = answer.get_future();
    handle(std::move(req), [&answer](response r) { answer.set_value(std::move(r)); });
    return future.get();
}

}  // namespace frost::api
