#include "lambda/runtime_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <charconv>

#include "api/render.hpp"

namespace frost::lambda {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr std::string_view api_prefix = "/2018-06-01/runtime/";
constexpr int next_attempts = 3;
constexpr std::size_t max_event_bytes = std::size_t{16} * 1024 * 1024;  // Lambda caps events at 6 MB; leave room

model::error unavailable(std::string message) {
    return {model::error_code::source_unavailable, "Lambda Runtime API: " + std::move(message), {}, {}};
}

}  // namespace

std::string error_body(const function_error& e) {
    std::string out = "{\"errorMessage\":";
    api::append_json_string(out, e.message);
    out += ",\"errorType\":";
    api::append_json_string(out, e.type);
    out += ",\"stackTrace\":[]}";
    return out;
}

struct runtime_client::impl {
    std::string host;
    std::string port;
    net::io_context ioc;
    std::optional<beast::tcp_stream> stream;

    model::result<http::response<http::string_body>> exchange(http::request<http::string_body>& req) {
        // A kept-alive connection may have been closed by the other side: retry once on a new one.
        for (int attempt = 0; attempt < 2; ++attempt) {
            beast::error_code ec;
            if (!stream) {
                tcp::resolver resolver(ioc);
                auto endpoints = resolver.resolve(host, port, ec);
                if (ec) return unavailable("cannot resolve " + host + ": " + ec.message());
                stream.emplace(ioc);
                stream->connect(endpoints, ec);
                if (ec) {
                    stream.reset();
                    if (attempt == 0) continue;
                    return unavailable("cannot connect to " + host + ":" + port + ": " + ec.message());
                }
            }
            stream->expires_never();  // `next` blocks for as long as the sandbox waits for work
            http::write(*stream, req, ec);
            if (!ec) {
                beast::flat_buffer buffer;
                http::response_parser<http::string_body> parser;
                parser.body_limit(max_event_bytes);
                http::read(*stream, buffer, parser, ec);
                if (!ec) {
                    auto res = parser.release();
                    if (!res.keep_alive()) stream.reset();
                    return res;
                }
            }
            stream.reset();
            if (attempt == 1) return unavailable(std::string(req.target()) + ": " + ec.message());
        }
        return unavailable("unreachable");
    }

    model::result<model::done> post(const std::string& target, std::string body, std::string_view content_type,
                                    std::string_view error_type) {
        http::request<http::string_body> req{http::verb::post, target, 11};
        req.set(http::field::host, host + ":" + port);
        req.set(http::field::user_agent, "frost-lambda");
        req.set(http::field::content_type, content_type);
        if (!error_type.empty()) req.set("Lambda-Runtime-Function-Error-Type", error_type);
        req.body() = std::move(body);
        req.prepare_payload();
        auto res = exchange(req);
        if (!res) return std::move(res).error();
        const auto status = res.value().result_int();
        if (status < 200 || status > 299) {
            return model::error{model::error_code::source_error,
                                "Lambda Runtime API refused " + target + " with " + std::to_string(status),
                                res.value().body(),
                                {}};
        }
        return model::done{};
    }
};

runtime_client::runtime_client(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
runtime_client::~runtime_client() = default;

model::result<std::unique_ptr<runtime_client>> runtime_client::create(std::string_view address) {
    const auto colon = address.rfind(':');
    if (address.empty() || colon == std::string_view::npos || colon == 0 || colon + 1 == address.size() ||
        address.find('/') != std::string_view::npos) {
        return model::error{
            model::error_code::config_error,
            "AWS_LAMBDA_RUNTIME_API must be host:port, got \"" + std::string(address.substr(0, 64)) + "\"",
            {},
            {}};
    }
    auto p = std::make_unique<impl>();
    p->host = std::string(address.substr(0, colon));
    p->port = std::string(address.substr(colon + 1));
    return std::unique_ptr<runtime_client>(new runtime_client(std::move(p)));
}

model::result<invocation> runtime_client::next() {
    model::error last;
    for (int attempt = 0; attempt < next_attempts; ++attempt) {
        http::request<http::string_body> req{http::verb::get, std::string(api_prefix) + "invocation/next", 11};
        req.set(http::field::host, impl_->host + ":" + impl_->port);
        req.set(http::field::user_agent, "frost-lambda");
        auto res = impl_->exchange(req);
        if (!res) {
            last = std::move(res).error();
            continue;
        }
        auto& r = res.value();
        if (r.result_int() < 200 || r.result_int() > 299) {
            last = unavailable("invocation/next answered " + std::to_string(r.result_int()));
            continue;
        }
        invocation inv;
        inv.request_id = std::string(r["Lambda-Runtime-Aws-Request-Id"]);
        if (inv.request_id.empty()) {
            last = unavailable("invocation/next answered without Lambda-Runtime-Aws-Request-Id");
            continue;
        }
        // The id goes into the answer's URL: anything but a token (a UUID on Lambda) is refused.
        if (inv.request_id.size() > 128 ||
            inv.request_id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") !=
                std::string::npos) {
            last = unavailable("invocation/next answered with a malformed request id");
            continue;
        }
        inv.payload = std::move(r.body());
        const auto deadline = r["Lambda-Runtime-Deadline-Ms"];
        std::int64_t ms = 0;
        auto [p, ec] = std::from_chars(deadline.data(), deadline.data() + deadline.size(), ms);
        if (ec == std::errc{} && p == deadline.data() + deadline.size() && !deadline.empty()) inv.deadline_ms = ms;
        inv.function_arn = std::string(r["Lambda-Runtime-Invoked-Function-Arn"]);
        inv.trace_id = std::string(r["Lambda-Runtime-Trace-Id"]);
        return inv;
    }
    return last;
}

model::result<model::done> runtime_client::post_response(const std::string& request_id, std::string_view body) {
    return impl_->post(std::string(api_prefix) + "invocation/" + request_id + "/response", std::string(body),
                       "application/json", {});
}

model::result<model::done> runtime_client::post_error(const std::string& request_id, const function_error& e) {
    return impl_->post(std::string(api_prefix) + "invocation/" + request_id + "/error", error_body(e),
                       "application/vnd.aws.lambda.error+json", e.type);
}

model::result<model::done> runtime_client::post_init_error(const function_error& e) {
    return impl_->post(std::string(api_prefix) + "init/error", error_body(e), "application/vnd.aws.lambda.error+json",
                       e.type);
}

}  // namespace frost::lambda
