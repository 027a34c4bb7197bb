#include "lambda/runtime.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <mutex>

namespace frost::lambda {

namespace {

// Lambda answers whole (buffered responses): a streamed export is read to its end here, up to
// the payload limit. Past it, or when the source fails, nothing has been sent yet, so the answer
// becomes a plain JSON error instead of a cut body: `result_too_large` (FR507, as
// `encode_response` answers any oversize answer) past the limit, the source's error otherwise.
api::response buffer_stream(api::response res, const std::string& request_id) {
    auto body = res.stream;
    res.stream.reset();
    std::string bytes;
    for (;;) {
        auto piece = body->next();
        if (piece.state == api::body_stream::piece::kind::done) break;
        if (piece.state == api::body_stream::piece::kind::failed) {
            body->cancel();
            return api::error_response(piece.error, request_id, false);
        }
        if (bytes.size() + piece.bytes.size() > max_response_bytes) {
            body->cancel();  // the worker's next write fails: the query stops
            return api::error_response({model::error_code::result_too_large,
                                        "the export is larger than Lambda's 6 MB response limit",
                                        {},
                                        "ask for a shorter range, or serve exports with frost serve (streamed)"},
                                       request_id, false);
        }
        bytes += piece.bytes;
    }
    res.body = std::move(bytes);
    return res;
}

double ms_between(model::clock::time_point a, model::clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

std::int64_t epoch_ms_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

// What the service's observer saw for the request the loop is waiting on. The observer runs
// on a worker thread before `handle_sync` returns, so the mutex orders the hand-over.
struct runtime::capture {
    std::mutex mutex;
    std::string expected_id;
    bool seen = false;
    std::string route;
    std::string cache;
    model::clock::duration query_time{};
};

model::deadline deadline_from_epoch_ms(std::optional<std::int64_t> epoch_ms, std::chrono::milliseconds margin) {
    if (!epoch_ms) return {};
    const auto remaining = std::chrono::milliseconds(*epoch_ms - epoch_ms_now()) - margin;
    return {model::clock::now() + std::max(remaining, std::chrono::milliseconds(0))};
}

runtime::runtime(api::service& svc, runtime_options options)
    : svc_(svc), options_(std::move(options)), capture_(std::make_shared<capture>()) {
    svc_.add_observer([c = capture_](const api::request& req, const api::response&, const api::request_stats& stats) {
        std::lock_guard lock(c->mutex);
        if (req.request_id != c->expected_id) return;
        c->seen = true;
        c->route = std::string(stats.route);
        c->cache = std::string(stats.cache);
        c->query_time = stats.query_time;
    });
}

runtime::~runtime() = default;

invocation_result runtime::handle(const invocation& inv) {
    const auto started = model::clock::now();
    invocation_result out;
    out.record.request_id = inv.request_id;
    out.record.cold_start = answered_ == 0;
    ++answered_;

    auto event = parse_event(inv.payload, options_.events);
    if (!event && options_.other_events) {
        if (auto answer = options_.other_events(inv.payload)) {
            out.payload = std::move(*answer);
            out.record.route = "(sync)";
            out.record.event_kind = "sync";
            out.record.status = 200;
            out.record.latency_ms = ms_between(started, model::clock::now());
            return out;
        }
    }
    if (!event) {
        out.failed = true;
        out.error = {"Function.InvalidEvent", event.error().message};
        out.record.route = "(bad event)";
        out.record.event_kind = "unknown";
        out.record.status = 400;
        out.record.latency_ms = ms_between(started, model::clock::now());
        spdlog::warn("{}", event.error().message);
        return out;
    }
    auto& ev = event.value();
    ev.request.request_id = inv.request_id;
    ev.request.deadline = deadline_from_epoch_ms(inv.deadline_ms, options_.deadline_margin);
    out.record.method = ev.request.method;
    out.record.path = ev.request.target.substr(0, ev.request.target.find('?'));
    out.record.event_kind = std::string(kind_name(ev.kind));
    {
        std::lock_guard lock(capture_->mutex);
        capture_->expected_id = inv.request_id;
        capture_->seen = false;
    }

    api::response res;
    try {
        res = svc_.handle_sync(ev.request);
    } catch (const std::exception& ex) {
        // The service has its own last-resort catch; this one covers the call itself. Same
        // answer as the HTTP path's: 500 FR500 with the request id.
        spdlog::error("{} unexpected failure: {}", inv.request_id, ex.what());
        res = api::internal_error_response(inv.request_id);
    }
    if (res.stream) res = buffer_stream(std::move(res), inv.request_id);
    auto encoded = encode_response(ev, res);
    out.payload = std::move(encoded.payload);
    out.record.status = encoded.status;
    out.record.response_bytes = out.payload.size();
    {
        std::lock_guard lock(capture_->mutex);
        if (capture_->seen) {
            out.record.route = capture_->route;
            out.record.cache = capture_->cache;
            out.record.upstream_ms = std::chrono::duration<double, std::milli>(capture_->query_time).count();
        }
        capture_->expected_id.clear();
    }
    if (encoded.status != res.status)
        spdlog::warn("{} {}: answer of {} bytes replaced by a {} error (over the Lambda payload limit)",
                     ev.request.method, out.record.path, res.body_view().size(), encoded.status);
    out.record.latency_ms = ms_between(started, model::clock::now());
    return out;
}

model::result<model::done> runtime::run(runtime_client& client) {
    for (;;) {
        auto inv = client.next();
        if (!inv) return std::move(inv).error();
        set_log_request_id(inv.value().request_id);
        // Custom runtimes must pass the X-Ray trace header on to SDKs through the environment.
        if (!inv.value().trace_id.empty()) ::setenv("_X_AMZN_TRACE_ID", inv.value().trace_id.c_str(), 1);
        auto result = handle(inv.value());
        model::result<model::done> posted = model::done{};
        if (result.failed) {
            posted = client.post_error(inv.value().request_id, result.error);
        } else {
            posted = client.post_response(inv.value().request_id, result.payload);
            if (!posted) {
                spdlog::error("{} ({})", posted.error().message, posted.error().details);
                posted =
                    client.post_error(inv.value().request_id, {"Function.ResponseRefused", posted.error().message});
            }
        }
        if (!posted) spdlog::error("{}", posted.error().message);
        const auto line = emf_line(result.record, options_.function_name, epoch_ms_now());
        if (options_.metrics_sink) {
            options_.metrics_sink(line);
        } else {
            write_line(line);
        }
        set_log_request_id({});
    }
}

}  // namespace frost::lambda
