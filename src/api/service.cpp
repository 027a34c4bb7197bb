#include "api/service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <future>
#include <iterator>
#include <random>

#include "api/params.hpp"
#include "api/render.hpp"
#include "cache/cache_key.hpp"
#include "cache/entry_reply.hpp"
#include "codec/utc_time.hpp"
#include "rollup/serving_store.hpp"
#include "source/usage.hpp"

namespace frost::api {

namespace {

std::mt19937_64& thread_rng() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return rng;
}

long long elapsed_ms(model::clock::time_point since) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(model::clock::now() - since).count();
}

// The exception's own text, for the log.
std::string failure_text(const std::exception_ptr& failure) {
    try {
        std::rethrow_exception(failure);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "an exception not derived from std::exception";
    }
}

// The answer to a job the worker pool did not start. An abandoned job's answer goes to a closed
// connection; it still goes through `reply` so observers count it.
// Every answer of a configured query endpoint depends on Accept (its format) as well as on
// Accept-Encoding (its compression).
constexpr std::string_view vary_value = "Accept, Accept-Encoding";

// Takes the reserved `format` parameter out of the query pairs, so the endpoint's own binding
// never sees it. Given twice is a 400.
model::result<std::optional<std::string>> take_format_param(query_pairs& query) {
    std::optional<std::string> value;
    for (auto it = query.begin(); it != query.end();) {
        if (it->first != format_param) {
            ++it;
            continue;
        }
        if (value)
            return model::error{model::error_code::bad_parameter, "parameter format is given more than once", {}, {}};
        value = std::move(it->second);
        it = query.erase(it);
    }
    return value;
}

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
    // `std::to_chars` writes what `%.3f` would, without printf's locale and format parsing.
    const auto millis = [](std::string& out, double v) {
        char digits[32];
        const auto r = std::to_chars(std::begin(digits), std::end(digits), v, std::chars_format::fixed, 3);
        out.append(digits, r.ptr);
    };
    std::string text;
    text.reserve(64);
    text += "total;dur=";
    millis(text, ms(stats.elapsed()).count());
    if (stats.query_time.count() > 0) {
        text += ", query;dur=";
        millis(text, ms(stats.query_time).count());
    }
    if (stats.cache != "none" && stats.cache.size() < 16) {
        text += ", cache;desc=";
        text += stats.cache;
    }
    res.set_header("Server-Timing", std::move(text));
}

response error_response(const model::error& e) {
    auto r = json_response(model::http_status(e.code), render_error(e));
    if (r.status == 503)
        r.headers.emplace_back("Retry-After", std::to_string(std::max<long long>(1, e.retry_after.count())));
    return r;
}

response error_response(const model::error& e, std::string_view request_id, bool expose_detail) {
    const int status = model::http_status(e.code);
    if (status < 500) return error_response(e);
    std::string body;
    if (expose_detail) {
        body = render_error(e, request_id);
    } else {
        body = render_error({e.code, std::string(model::generic_message(e.code)), {}, {}}, request_id);
    }
    auto r = json_response(status, std::move(body));
    if (r.status == 503)
        r.headers.emplace_back("Retry-After", std::to_string(std::max<long long>(1, e.retry_after.count())));
    return r;
}

response internal_error_response(std::string_view request_id) {
    return error_response({model::error_code::internal, "internal error", {}, {}}, request_id, false);
}

response cached_response(const cache::entry& e, const request& req) {
    auto from = cache::reply_from(e, req.header("if-none-match"), req.header("accept-encoding"));
    response r;
    r.status = from.status;
    r.headers = std::move(from.headers);
    r.shared_body = std::move(from.body);
    return r;
}

namespace {

// A cached answer with `X-Cache` saying how the cache served it: hit, miss or stale.
response cached_response(const cache::entry& e, const request& req, const char* outcome) {
    auto r = api::cached_response(e, req);
    r.headers.emplace_back("X-Cache", outcome);
    return r;
}

}  // namespace

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
                                    "endpoint " + e.path + ": rollup \"" + e.rollup + "\" has no serving database open",
                                    {},
                                    {}};
            r.rollups = s->serving_.get();
            r.src = s->serving_.get();
            const auto* sql = config::sql_for(e.sql, r.src->dialect());
            if (!sql)
                return model::error{
                    model::error_code::config_error, "endpoint " + e.path + ": no duckdb SQL for its rollup", {}, {}};
            r.sql = *sql;
        } else if (e.static_body) {
            r.static_body = std::make_shared<const std::string>(*e.static_body);
        } else {
            auto it = s->sources_.find(e.source);
            if (it == s->sources_.end() || !it->second)
                return model::error{model::error_code::config_error,
                                    "endpoint " + e.path + ": source \"" + e.source + "\" is not open",
                                    {},
                                    {}};
            r.src = it->second.get();
            const auto* sql = config::sql_for(e.sql, r.src->dialect());
            if (!sql)
                return model::error{model::error_code::config_error,
                                    "endpoint " + e.path + ": no SQL for dialect " + std::string(r.src->dialect()),
                                    {},
                                    {}};
            r.sql = *sql;
        }
        s->routes_.emplace(e.path, std::move(r));
        if (e.paginate && !s->cursors_) {
            bool generated = false;
            s->cursors_ = std::make_unique<cursor_signer>(
                cursor_signer::with_key_or_random(s->cfg_->server.cursor_key, generated));
            if (generated)
                spdlog::warn(
                    "pagination: no cursor key configured (FROST_CURSOR_KEY or server.cursor_key), generated a "
                    "random one: cursors stop working at restart and differ between instances");
        }
    }
    return s;
}

void service::add_route(std::string path, builtin_handler handler) {
    builtins_.emplace(std::move(path), std::move(handler));
}

void service::add_guard(guard g) {
    guards_.push_back(std::move(g));
}

void service::add_observer(observer o) {
    observers_.push_back(std::move(o));
}

struct service::exchange {
    exchange(request r, std::function<void(response)> d)
        : req(std::move(r)), stats{"(unmatched)", model::clock::now(), {}, "none", {}}, done(std::move(d)) {}

    request req;
    request_stats stats;
    std::function<void(response)> done;
    /// Set by the first answer: a failure after it (in `done` itself) is only logged, and a
    /// late second answer is dropped, so `done` runs once.
    std::atomic<bool> answered{false};
};

template <typename Step>
void service::guarded(exchange& x, Step&& step) const {
    try {
        std::forward<Step>(step)();
    } catch (...) {
        fail(x, std::current_exception());
    }
}

void service::fail(exchange& x, const std::exception_ptr& failure) const {
    spdlog::error("{} {} {}: unexpected failure: {}", x.req.request_id, x.req.method.substr(0, 16), x.stats.route,
                  failure_text(failure));
    if (x.answered.load()) return;
    try {
        reply(x, internal_error_response(x.req.request_id));
    } catch (...) {
        // The transport's own callback failed: nothing is left to answer with.
        spdlog::error("{}: the 500 could not be sent either: {}", x.req.request_id,
                      failure_text(std::current_exception()));
    }
}

void service::reply(exchange& x, response res) const {
    if (x.answered.exchange(true)) return;
    x.stats.answered = model::clock::now();
    add_server_timing(res, x.stats);
    for (const auto& o : observers_) {
        // An observer counts or logs an answer already made: its failure must not change it,
        // nor keep the other observers from seeing it.
        try {
            o(x.req, res, x.stats);
        } catch (...) {
            spdlog::error("{} {}: an observer failed: {}", x.req.request_id, x.stats.route,
                          failure_text(std::current_exception()));
        }
    }
    x.done(std::move(res));
}

void service::reply_error(exchange& x, const model::error& e) const {
    reply(x, error_response(e, x.req.request_id, cfg_->server.expose_errors));
}

void service::handle(request req, std::function<void(response)> done) {
    auto x = std::make_shared<exchange>(std::move(req), std::move(done));
    if (x->req.deadline.at == model::clock::time_point::max())
        x->req.deadline = model::deadline::after(cfg_->server.request_timeout);
    guarded(*x, [&] { dispatch(x); });
}

void service::dispatch(const exchange_ptr& x) {
    auto target = split_target(x->req.target);
    if (!target) return reply_error(*x, target.error());
    auto& [path, query] = target.value();

    const route* rt = find_route(path);
    if (!rt) return serve_builtin(*x, path);
    x->stats.route = rt->endpoint->path;
    if (!admit(*x, *rt)) return;

    for (const auto& [name, value] : x->req.fixed_params) {
        std::erase_if(query, [&n = name](const auto& pair) { return pair.first == n; });
        query.emplace_back(name, value);
    }
    auto format_value = take_format_param(query);
    if (!format_value) return reply_error(*x, format_value.error());
    std::optional<page_request> page;
    if (rt->endpoint->paginate) {
        auto p = take_page_params(*rt->endpoint->paginate, query);
        if (!p) return reply_error(*x, p.error());
        page = std::move(p).value();
    }
    auto params = bind_params(*rt->endpoint, query, thread_rng());
    if (!params) return reply_error(*x, params.error());
    render_plan plan;
    if (page) {
        // The cursor is bound to the endpoint's own parameters; the page parameters come after.
        auto context = cursor_context(rt->endpoint->path, params.value());
        std::vector<model::value> after;
        if (page->cursor) {
            auto v = cursors_->verify(context, *page->cursor, rt->endpoint->paginate->key.size());
            if (!v) return reply_error(*x, v.error());
            after = std::move(v).value();
        }
        bind_page(params.value(), *rt->endpoint->paginate, after, page->limit);
        plan.paging = render_plan::page{page->limit, std::move(context), x->req.target};
    }

    if (rt->static_body) {
        auto r = json_response(200, {});
        r.shared_body = rt->static_body;
        return reply(*x, std::move(r));
    }
    const auto& chosen = format_value.value();
    auto format = negotiate_format(
        x->req.header("accept"), chosen ? std::optional<std::string_view>(*chosen) : std::optional<std::string_view>(),
        offered_formats(*rt->endpoint));
    if (!format) {
        auto r = error_response(format.error(), x->req.request_id, cfg_->server.expose_errors);
        r.headers.emplace_back("Vary", std::string(vary_value));
        return reply(*x, std::move(r));
    }
    if (rt->endpoint->stream) return serve_stream(x, *rt, std::move(params).value(), format.value());
    plan.format = format.value();
    // A random range is never asked twice: caching it would only push real answers out.
    bool random = false;
    if (rt->endpoint->date_range && rt->endpoint->date_range->random_param)
        for (const auto& [k, v] : query) random = random || k == *rt->endpoint->date_range->random_param;
    if (rt->endpoint->cache.ttl.count() > 0 && !random) return serve_cached(x, *rt, std::move(params).value(), plan);
    if (rt->endpoint->cache.ttl.count() > 0) x->stats.cache = "bypass";
    serve_live(x, *rt, std::move(params).value(), plan);
}

const service::route* service::find_route(std::string_view path) const {
    auto it = routes_.find(std::string(path));
    if (it == routes_.end() && path.size() > 1 && path.back() == '/')
        it = routes_.find(std::string(path.substr(0, path.size() - 1)));
    return it == routes_.end() ? nullptr : &it->second;
}

void service::serve_builtin(exchange& x, const std::string& path) {
    if (auto b = builtins_.find(path); b != builtins_.end()) {
        x.stats.route = b->first;
        return reply(x, b->second(x.req));
    }
    // The seed's exact 404 body, plus a stable code.
    reply_error(x, {model::error_code::not_found, "Not found!", {}, {}});
}

bool service::admit(exchange& x, const route& rt) {
    if (x.req.method == "OPTIONS") {
        auto r = json_response(204, {});
        r.headers.emplace_back("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
        r.headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Api-Key, X-Request-Id");
        r.headers.emplace_back("Access-Control-Max-Age", "86400");
        reply(x, std::move(r));
        return false;
    }
    if (x.req.method != "GET" && x.req.method != "HEAD") {
        auto r = error_response({model::error_code::method_not_allowed,
                                 "method " + x.req.method.substr(0, 16) + " is not allowed here",
                                 {},
                                 "use GET"});
        r.headers.emplace_back("Allow", "GET, HEAD, OPTIONS");
        reply(x, std::move(r));
        return false;
    }
    for (const auto& g : guards_) {
        if (auto stop = g(x.req, *rt.endpoint)) {
            reply(x, std::move(*stop));
            return false;
        }
    }
    return true;
}

void service::serve_cached(const exchange_ptr& x, const route& rt, std::vector<source::parameter> params,
                           const render_plan& plan) {
    // Called from `handle` on its own thread, moments after the request started: no clock read.
    const auto now = x->stats.started;
    // One key buffer per thread, so a hit allocates no key.
    thread_local std::string key;
    std::optional<cache::data_version> version;
    if (rt.rollups) {
        const auto v = rt.rollups->current(rt.endpoint->rollup);
        version = cache::data_version{static_cast<std::int64_t>(v.version), v.stale};
    }
    // The seed's JSON keeps the key it always had; every other format is keyed apart.
    cache::encode_key(key, rt.endpoint->path, params, version,
                      plan.format == output_format::json ? std::string_view() : format_name(plan.format));

    auto found = cache_->find(key, now);
    if (found.state == cache::freshness::fresh) {
        x->stats.cache = "hit";
        return reply(*x, cached_response(*found.e, x->req, "hit"));
    }
    if (found.state == cache::freshness::stale_revalidate) {
        x->stats.cache = "stale";
        if (flights_.join(key, {}))
            launch_fill(rt, key, params, model::deadline::after(cfg_->server.request_timeout), now, x->req.request_id,
                        plan);
        return reply(*x, cached_response(*found.e, x->req, "stale"));
    }
    x->stats.cache = "miss";
    x->stats.source = rt.src->name();
    auto stale = found.state == cache::freshness::stale_if_error ? found.e : nullptr;
    const bool leader = flights_.join(key, [this, x, stale](const cached_outcome& o) {
        guarded(*x, [&] {
            x->stats.query_time = o.query_time;
            if (o.entry) {
                reply(*x, cached_response(*o.entry, x->req, "miss"));
            } else if (stale) {
                x->stats.cache = "stale";
                reply(*x, cached_response(*stale, x->req, "stale"));
            } else {
                reply_error(*x, *o.error);
            }
        });
    });
    if (!leader) return;
    // A rollup read that its prefix sums answer is filled here, like a cache hit, without the
    // round trip through a worker (a Lambda's first answer is such a miss).
    if (rt.rollups && fill(rt, key, params, x->req.deadline, now, x->req.request_id, plan, /*inline_only=*/true))
        return;
    launch_fill(rt, key, std::move(params), x->req.deadline, now, x->req.request_id, plan);
}

void service::serve_live(const exchange_ptr& x, const route& rt, std::vector<source::parameter> params,
                         const render_plan& plan) {
    const auto finish = [this, &rt, x](answer a) {
        x->stats.query_time = a.query_time;
        x->stats.source = rt.src->name();
        if (a.error) return reply_error(*x, *a.error);
        auto res = json_response(a.status, std::move(a.body));
        res.headers = std::move(a.headers);
        reply(*x, std::move(res));
    };
    if (rt.rollups) {
        // A rollup read that its prefix sums answer takes microseconds: answered here, like a
        // cache hit, without the round trip through a worker (two thread hand-offs, the tail).
        bool deferred = false;
        guarded(*x, [&] {
            auto a = run_query(rt, params, x->req.request_id, x->req.deadline, x->stats.started, x->req.stop, plan,
                               /*inline_only=*/true);
            if (a.deferred) {
                deferred = true;
                return;
            }
            finish(std::move(a));
        });
        if (!deferred) return;
    }
    auto job = [this, x, finish, params = std::move(params), &rt, plan] {
        guarded(*x, [&] {
            finish(run_query(rt, params, x->req.request_id, x->req.deadline, x->stats.started, x->req.stop, plan));
        });
    };
    // A job whose client left, or whose deadline passed while it waited, is answered here
    // instead of run.
    auto dropped = [this, x](worker_pool::drop_reason why) {
        guarded(*x, [&] { reply_error(*x, dropped_error(why)); });
    };
    const auto deadline = x->req.deadline;
    const auto stop = x->req.stop;
    if (!workers_.try_post({std::move(job), std::move(dropped), deadline, stop}))
        reply_error(*x, {model::error_code::overloaded, "the server is busy; try again shortly", {}, {}});
}

service::~service() {
    std::unique_lock lock(streams_mutex_);
    streams_done_.wait(lock, [this] { return streams_running_ == 0; });
}

void service::serve_stream(const exchange_ptr& x, const route& rt, std::vector<source::parameter> params,
                           export_format f) {
    {
        std::lock_guard lock(streams_mutex_);
        ++streams_running_;
    }
    // Held by the job and its drop handler; released when the pool has run or dropped both.
    std::shared_ptr<void> running(nullptr, [this](void*) {
        std::lock_guard lock(streams_mutex_);
        if (--streams_running_ == 0) streams_done_.notify_all();
    });
    auto job = [this, &rt, x, params = std::move(params), f, running] {
        guarded(*x, [&] {
            const source::query q{rt.sql,     params, x->req.deadline, rt.endpoint->path, rt.endpoint->max_export_rows,
                                  x->req.stop};
            export_request er;
            er.query = &q;
            er.format = f;
            er.rows = rt.endpoint->format;
            er.started = x->stats.started;
            er.request_id = x->req.request_id;
            er.expose_errors = cfg_->server.expose_errors;
            x->stats.source = rt.src->name();
            const auto query_started = model::clock::now();
            // The head is answered from inside the stream, once the source has the columns;
            // observers see it then (status 200), before the rows.
            auto outcome = run_export(*rt.src, er, [&](response head) {
                x->stats.query_time = model::clock::now() - query_started;
                reply(*x, std::move(head));
            });
            if (!outcome.error) return;
            const auto& e = *outcome.error;
            spdlog::warn("{} {} export {}: {} ({}){}{}", x->req.request_id, rt.endpoint->path,
                         outcome.answered ? "cut after " + std::to_string(outcome.rows) + " rows" : "failed", e.message,
                         model::code_name(e.code), e.details.empty() ? "" : ": ", e.details);
            if (!outcome.answered) reply_error(*x, e);
        });
    };
    auto dropped = [this, x, running](worker_pool::drop_reason why) {
        guarded(*x, [&] { reply_error(*x, dropped_error(why)); });
    };
    const auto deadline = x->req.deadline;
    const auto stop = x->req.stop;
    if (!workers_.try_post({std::move(job), std::move(dropped), deadline, stop}))
        reply_error(*x, {model::error_code::overloaded, "the server is busy; try again shortly", {}, {}});
}

// The largest answer an I/O thread puts in the cache itself (its gzip form included).
constexpr std::size_t max_inline_fill_bytes = std::size_t{64} * 1024;

bool service::fill(const route& rt, const std::string& key, const std::vector<source::parameter>& params,
                   model::deadline deadline, model::clock::time_point started, std::string_view request_id,
                   const render_plan& plan, bool inline_only) {
    answer a;
    try {
        a = run_query(rt, params, request_id, deadline, started, {}, plan, inline_only);
    } catch (...) {
        spdlog::error("{} {}: unexpected failure filling the cache: {}", request_id, rt.endpoint->path,
                      failure_text(std::current_exception()));
        a = answer{};
        a.error = model::error{model::error_code::internal, "internal error", {}, {}};
    }
    if (a.deferred) return false;
    if (inline_only && !a.error && a.body.size() > max_inline_fill_bytes) {
        // Compressing a large answer for the cache would hold the I/O thread for milliseconds:
        // a worker stores the answer rendered here.
        launch_fill(rt, key, {}, deadline, started, std::string(request_id), plan, std::move(a));
        return true;
    }
    store_fill(rt, key, std::move(a), plan, request_id);
    return true;
}

void service::store_fill(const route& rt, const std::string& key, answer a, const render_plan& plan,
                         std::string_view request_id) {
    cached_outcome o;
    o.query_time = a.query_time;
    // Every waiter of this key hangs on `complete`: it must run whatever happens here.
    try {
        if (a.error) {
            o.error = std::move(a.error);
        } else {
            // The seed's JSON keeps its ETags; every other format's carry its name.
            const std::string tag =
                plan.format == output_format::json ? std::string() : "-" + std::string(format_name(plan.format));
            o.entry = cache::make_entry(key, a.status, std::move(a.body), a.headers, rt.endpoint->cache,
                                        cfg_->cache.min_gzip_bytes, model::clock::now(), tag);
            cache_->insert(o.entry);
        }
    } catch (...) {
        spdlog::error("{} {}: unexpected failure filling the cache: {}", request_id, rt.endpoint->path,
                      failure_text(std::current_exception()));
        o.entry = nullptr;
        o.error = model::error{model::error_code::internal, "internal error", {}, {}};
    }
    flights_.complete(key, o);
}

void service::launch_fill(const route& rt, const std::string& key, std::vector<source::parameter> params,
                          model::deadline deadline, model::clock::time_point started, std::string request_id,
                          const render_plan& plan, std::optional<answer> rendered) {
    auto job = [this, &rt, key, params = std::move(params), deadline, started, request_id, plan,
                rendered = std::move(rendered)]() mutable {
        if (rendered)
            store_fill(rt, key, std::move(*rendered), plan, request_id);
        else
            fill(rt, key, params, deadline, started, request_id, plan, /*inline_only=*/false);
    };
    bool posted = false;
    try {
        // A fill is shared by every waiter on its key, so one waiter leaving never cancels it (no
        // stop token); its deadline still bounds its time in the queue.
        auto dropped = [this, key](worker_pool::drop_reason why) {
            cached_outcome o;
            o.error = dropped_error(why);
            flights_.complete(key, o);
        };
        posted = workers_.try_post({std::move(job), std::move(dropped), deadline, {}});
    } catch (...) {
        spdlog::error("{} {}: cannot queue the query: {}", request_id, rt.endpoint->path,
                      failure_text(std::current_exception()));
    }
    if (!posted) {
        cached_outcome o;
        o.error = model::error{model::error_code::overloaded, "the server is busy; try again shortly", {}, {}};
        flights_.complete(key, o);
    }
}

service::answer service::run_query(const route& rt, const std::vector<source::parameter>& params,
                                   std::string_view request_id, model::deadline deadline,
                                   model::clock::time_point started, std::stop_token stop, const render_plan& plan,
                                   bool inline_only) const {
    answer a;
    try {
        const auto query_started = model::clock::now();
        const auto as_of = std::chrono::system_clock::now();
        source::query q{rt.sql, params, deadline, rt.endpoint->path, rt.endpoint->max_rows, std::move(stop)};
        model::result<model::table> table = model::error{};
        rollup::version_info version;
        if (rt.rollups && inline_only) {
            auto read = rt.rollups->run_from_prefix_sums(q, rt.endpoint->rollup);
            if (!read) {
                a.deferred = true;
                return a;
            }
            version = std::move(read->version);
            table = std::move(read->table);
        } else if (inline_only) {
            a.deferred = true;
            return a;
        } else if (rt.rollups) {
            auto read = rt.rollups->run_versioned(q, rt.endpoint->rollup);
            if (read) {
                version = std::move(read.value().version);
                table = std::move(read.value().table);
            } else {
                table = std::move(read).error();
            }
        } else {
            table = rt.src->run(q);
            source::process_usage().record(
                rt.src->name(), source::purpose::live, table,
                std::chrono::duration_cast<std::chrono::nanoseconds>(model::clock::now() - query_started));
        }
        a.query_time = model::clock::now() - query_started;
        if (!table) {
            // The whole text goes to the log; callers see it only with `server.expose_errors`.
            const auto& e = table.error();
            spdlog::warn("{} {} failed: {} ({}){}{}", request_id, rt.endpoint->path, e.message,
                         model::code_name(e.code), e.details.empty() ? "" : ": ", e.details);
            a.error = e;
            return a;
        }
        std::string next;
        if (plan.paging) {
            auto last = cut_page(table.value(), *rt.endpoint->paginate, plan.paging->limit);
            if (!last) {
                spdlog::error("{} {}: {}", request_id, rt.endpoint->path, last.error().message);
                a.error = std::move(last).error();
                return a;
            }
            if (last.value()) next = cursors_->sign(plan.paging->context, *last.value());
        }
        if (plan.format == output_format::json && next.empty()) {
            a.body = render_envelope(table.value(), rt.endpoint->format, elapsed_ms(started));
        } else {
            a.body = encode_table(table.value(), plan.format, rt.endpoint->format, elapsed_ms(started), next);
        }
        a.headers = json_response(200, {}).headers;
        for (auto& [name, value] : a.headers)
            if (name == "Content-Type") value = content_type(plan.format);
        a.headers.emplace_back("Vary", std::string(vary_value));
        if (!next.empty()) {
            a.headers.emplace_back("Link", next_link(plan.paging->target, next));
            a.headers.emplace_back("Access-Control-Expose-Headers", "Link");
        }
        if (rt.rollups) {
            a.headers.emplace_back("X-Data-Version", rt.endpoint->rollup + "@" + std::to_string(version.version));
            a.headers.emplace_back("X-Data-As-Of", codec::format_utc(version.built_at));
            if (version.stale) a.headers.emplace_back("X-Data-Stale", "true");
        } else {
            a.headers.emplace_back("X-Data-Version", "live");
            a.headers.emplace_back("X-Data-As-Of", codec::format_utc(as_of));
        }
    } catch (const std::exception& ex) {
        spdlog::error("{} {}: unexpected failure: {}", request_id, rt.endpoint->path, ex.what());
        a.error = model::error{model::error_code::internal, "internal error", {}, {}};
    }
    return a;
}

response service::handle_sync(request req) {
    std::promise<response> answer;
    auto future = answer.get_future();
    handle(std::move(req), [&answer](response r) { answer.set_value(std::move(r)); });
    return future.get();
}

}  // namespace frost::api
