#include "lambda/event.hpp"

#include <boost/beast/http/status.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <optional>

#include "api/render.hpp"
#include "api/service.hpp"
#include "codec/base64.hpp"
#include "codec/gzip.hpp"
#include "codec/http_tokens.hpp"
#include "codec/utf8.hpp"

namespace frost::lambda {

namespace json = boost::json;

namespace {

model::error bad_event(std::string message) {
    return {model::error_code::bad_request, "malformed Lambda event: " + std::move(message), {}, {}};
}

using codec::iequals;

// A member that may be absent or null; present with another type is an error naming it.
const json::value* member(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end() || it->value().is_null()) return nullptr;
    return &it->value();
}

model::result<std::optional<std::string_view>> string_member(const json::object& o, std::string_view key,
                                                             std::string_view where) {
    const auto* v = member(o, key);
    if (!v) return std::optional<std::string_view>{};
    if (!v->is_string()) return bad_event(std::string(where) + std::string(key) + " must be a string");
    return std::optional<std::string_view>{std::string_view(v->get_string())};
}

model::result<const json::object*> object_member(const json::object& o, std::string_view key, std::string_view where) {
    const auto* v = member(o, key);
    if (!v) return static_cast<const json::object*>(nullptr);
    if (!v->is_object()) return bad_event(std::string(where) + std::string(key) + " must be an object");
    return &v->get_object();
}

// Characters kept as they are in a path (RFC 3986 pchar and '/'); everything else is escaped.
bool path_safe(unsigned char c) {
    return std::isalnum(c) ||
           std::string_view("-._~!$&'()*+,;=:@/").find(static_cast<char>(c)) != std::string_view::npos;
}
bool query_safe(unsigned char c) {
    return std::isalnum(c) || std::string_view("-._~").find(static_cast<char>(c)) != std::string_view::npos;
}

template <typename Safe>
void append_escaped(std::string& out, std::string_view s, Safe safe) {
    static constexpr char hex[] = "0123456789ABCDEF";
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (safe(c)) {
            out += ch;
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
}

// Query pairs from `multiValue…` (preferred) or the single-value map. `encode`: the values
// arrive decoded (API Gateway) and must be escaped again; ALB passes them as sent.
model::result<std::string> build_query(const json::object& event, bool encode) {
    std::string out;
    auto add = [&](std::string_view k, std::string_view v) {
        if (!out.empty()) out += '&';
        if (encode) {
            append_escaped(out, k, query_safe);
            out += '=';
            append_escaped(out, v, query_safe);
        } else {
            out.append(k).append("=").append(v);
        }
    };
    auto multi = object_member(event, "multiValueQueryStringParameters", "");
    if (!multi) return std::move(multi).error();
    if (multi.value()) {
        for (const auto& kv : *multi.value()) {
            if (kv.value().is_null()) continue;
            if (!kv.value().is_array()) return bad_event("multiValueQueryStringParameters values must be arrays");
            for (const auto& v : kv.value().get_array()) {
                if (!v.is_string()) return bad_event("multiValueQueryStringParameters values must be strings");
                add(kv.key(), v.get_string());
            }
        }
        return out;
    }
    auto single = object_member(event, "queryStringParameters", "");
    if (!single) return std::move(single).error();
    if (single.value()) {
        for (const auto& kv : *single.value()) {
            if (kv.value().is_null()) continue;
            if (!kv.value().is_string()) return bad_event("queryStringParameters values must be strings");
            add(kv.key(), kv.value().get_string());
        }
    }
    return out;
}

// Headers from `multiValueHeaders` (preferred) or `headers`, names lower-cased.
model::result<bool> read_headers(const json::object& event, api::request& req) {
    auto multi = object_member(event, "multiValueHeaders", "");
    if (!multi) return std::move(multi).error();
    if (multi.value()) {
        for (const auto& kv : *multi.value()) {
            if (kv.value().is_null()) continue;
            if (!kv.value().is_array()) return bad_event("multiValueHeaders values must be arrays");
            for (const auto& v : kv.value().get_array()) {
                if (!v.is_string()) return bad_event("multiValueHeaders values must be strings");
                req.headers.emplace_back(codec::to_lower(kv.key()), std::string(v.get_string()));
            }
        }
        return true;
    }
    auto single = object_member(event, "headers", "");
    if (!single) return std::move(single).error();
    if (single.value()) {
        for (const auto& kv : *single.value()) {
            if (kv.value().is_null()) continue;
            if (!kv.value().is_string()) return bad_event("headers values must be strings");
            req.headers.emplace_back(codec::to_lower(kv.key()), std::string(kv.value().get_string()));
        }
    }
    return false;
}

model::result<model::done> read_body(const json::object& event, api::request& req) {
    auto body = string_member(event, "body", "");
    if (!body) return std::move(body).error();
    bool base64 = false;
    if (const auto* b = member(event, "isBase64Encoded")) {
        if (!b->is_bool()) return bad_event("isBase64Encoded must be a boolean");
        base64 = b->get_bool();
    }
    if (!body.value()) return model::done{};
    if (!base64) {
        req.body = std::string(*body.value());
        return model::done{};
    }
    // Padding optional: API Gateway pads, but a test tool or proxy that builds events by hand
    // may not, and both forms are unambiguous.
    auto decoded =
        codec::base64_decode(*body.value(), codec::base64_alphabet::standard, codec::base64_padding::optional);
    if (!decoded) return bad_event("body is not valid base64");
    req.body = std::move(decoded).value();
    return model::done{};
}

std::string strip(std::string path, std::string_view prefix) {
    if (prefix.empty() || prefix == "/") return path;
    if (prefix.back() == '/') prefix.remove_suffix(1);
    if (path.compare(0, prefix.size(), prefix) == 0 && (path.size() == prefix.size() || path[prefix.size()] == '/')) {
        path.erase(0, prefix.size());
        if (path.empty()) path = "/";
    }
    return path;
}

std::string_view header_of(const api::request& req, std::string_view name) {
    return req.header(name);
}

model::result<http_event> parse_v2(const json::object& event, const event_options& options) {
    http_event out;
    auto ctx = object_member(event, "requestContext", "");
    if (!ctx) return std::move(ctx).error();
    if (!ctx.value()) return bad_event("requestContext is missing");
    const auto& rc = *ctx.value();
    auto http = object_member(rc, "http", "requestContext.");
    if (!http) return std::move(http).error();
    if (!http.value()) return bad_event("requestContext.http is missing");
    auto method = string_member(*http.value(), "method", "requestContext.http.");
    if (!method) return std::move(method).error();
    if (!method.value() || method.value()->empty()) return bad_event("requestContext.http.method is missing");
    out.request.method = std::string(*method.value());

    auto domain = string_member(rc, "domainName", "requestContext.");
    if (!domain) return std::move(domain).error();
    out.kind = domain.value() && domain.value()->find(".lambda-url.") != std::string_view::npos
                   ? event_kind::function_url
                   : event_kind::http_v2;
    out.multi_value = false;
    if (auto id = string_member(rc, "requestId", "requestContext."); id && id.value())
        out.gateway_request_id = *id.value();
    if (auto ip = string_member(*http.value(), "sourceIp", "requestContext.http."); ip && ip.value())
        out.request.client_address = *ip.value();

    auto raw_path = string_member(event, "rawPath", "");
    if (!raw_path) return std::move(raw_path).error();
    std::string path;
    if (raw_path.value()) {
        path = *raw_path.value();
    } else {
        auto p = string_member(*http.value(), "path", "requestContext.http.");
        if (!p) return std::move(p).error();
        path = p.value() ? std::string(*p.value()) : std::string("/");
    }
    if (path.empty() || path.front() != '/') path.insert(path.begin(), '/');
    // A named stage appears in rawPath (`/dev/…`); the `$default` stage adds nothing.
    auto stage = string_member(rc, "stage", "requestContext.");
    if (!stage) return std::move(stage).error();
    if (stage.value() && !stage.value()->empty() && *stage.value() != "$default")
        path = strip(std::move(path), "/" + std::string(*stage.value()));
    path = strip(std::move(path), options.strip_prefix);

    auto query = string_member(event, "rawQueryString", "");
    if (!query) return std::move(query).error();
    out.request.target = std::move(path);
    if (query.value() && !query.value()->empty()) out.request.target.append("?").append(*query.value());

    auto headers = object_member(event, "headers", "");
    if (!headers) return std::move(headers).error();
    if (headers.value()) {
        for (const auto& kv : *headers.value()) {
            if (kv.value().is_null()) continue;
            if (!kv.value().is_string()) return bad_event("headers values must be strings");
            out.request.headers.emplace_back(codec::to_lower(kv.key()), std::string(kv.value().get_string()));
        }
    }
    if (const auto* cookies = member(event, "cookies")) {
        if (!cookies->is_array()) return bad_event("cookies must be an array");
        std::string joined;
        for (const auto& c : cookies->get_array()) {
            if (!c.is_string()) return bad_event("cookies must hold strings");
            if (!joined.empty()) joined += "; ";
            joined += c.get_string();
        }
        if (!joined.empty()) out.request.headers.emplace_back("cookie", std::move(joined));
    }
    if (auto b = read_body(event, out.request); !b) return std::move(b).error();
    return out;
}

model::result<http_event> parse_v1_or_alb(const json::object& event, bool alb, const event_options& options) {
    http_event out;
    out.kind = alb ? event_kind::alb : event_kind::rest_v1;
    auto method = string_member(event, "httpMethod", "");
    if (!method) return std::move(method).error();
    if (!method.value() || method.value()->empty()) return bad_event("httpMethod is missing");
    out.request.method = std::string(*method.value());

    auto path = string_member(event, "path", "");
    if (!path) return std::move(path).error();
    std::string p = path.value() ? std::string(*path.value()) : std::string("/");
    if (p.empty() || p.front() != '/') p.insert(p.begin(), '/');
    p = strip(std::move(p), options.strip_prefix);

    auto multi = read_headers(event, out.request);
    if (!multi) return std::move(multi).error();
    // REST answers always carry multiValueHeaders; ALB must answer in the mode it asked in.
    out.multi_value = alb ? multi.value() : true;

    auto query = build_query(event, !alb);
    if (!query) return std::move(query).error();
    if (alb) {
        out.request.target = std::move(p);
    } else {
        append_escaped(out.request.target, p, path_safe);
    }
    if (!query.value().empty()) out.request.target.append("?").append(query.value());

    auto ctx = object_member(event, "requestContext", "");
    if (!ctx) return std::move(ctx).error();
    if (ctx.value() && !alb) {
        if (auto id = string_member(*ctx.value(), "requestId", "requestContext."); id && id.value())
            out.gateway_request_id = *id.value();
        if (auto identity = object_member(*ctx.value(), "identity", "requestContext."); identity && identity.value()) {
            if (auto ip = string_member(*identity.value(), "sourceIp", "requestContext.identity."); ip && ip.value())
                out.request.client_address = *ip.value();
        }
    }
    if (alb) {
        auto xff = header_of(out.request, "x-forwarded-for");
        out.request.client_address = std::string(xff.substr(0, xff.find(',')));
    }
    if (auto b = read_body(event, out.request); !b) return std::move(b).error();
    return out;
}

// The rule of the Rust lambda_http crate: anything encoded, or not text, travels as base64.
bool is_text(const api::response& res, std::string_view body) {
    for (const auto& [k, v] : res.headers) {
        if (iequals(k, "content-encoding") && !v.empty() && !iequals(v, "identity")) return false;
    }
    std::string type;
    for (const auto& [k, v] : res.headers)
        if (iequals(k, "content-type")) type = codec::to_lower(v);
    const bool text_type = type.empty() || type.starts_with("text/") || type.find("json") != std::string::npos ||
                           type.find("javascript") != std::string::npos || type.find("xml") != std::string::npos ||
                           type.find("yaml") != std::string::npos;
    return text_type && codec::valid_utf8(body);
}

void append_key(std::string& out, std::string_view key) {
    api::append_json_string(out, key);
    out += ':';
}

std::string encode(const http_event& event, const api::response& res, std::string_view body, bool base64) {
    std::string out;
    out.reserve(body.size() * (base64 ? 4 : 1) / (base64 ? 3 : 1) + 512);
    out += "{\"statusCode\":";
    out += std::to_string(res.status);
    if (event.kind == event_kind::alb) {
        out += ",\"statusDescription\":";
        api::append_json_string(
            out,
            std::to_string(res.status) + " " +
                std::string(boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(res.status))));
    }
    // Headers in first-seen order; a name given twice keeps every value.
    std::vector<std::pair<std::string, std::vector<std::string_view>>> grouped;
    std::vector<std::string_view> cookies;
    const bool v2 = event.kind == event_kind::http_v2 || event.kind == event_kind::function_url;
    for (const auto& [k, v] : res.headers) {
        if (v2 && iequals(k, "set-cookie")) {
            cookies.push_back(v);
            continue;
        }
        auto it =
            std::find_if(grouped.begin(), grouped.end(), [&name = k](const auto& g) { return iequals(g.first, name); });
        if (it == grouped.end()) {
            grouped.emplace_back(v2 ? codec::to_lower(k) : k, std::vector<std::string_view>{v});
        } else {
            it->second.push_back(v);
        }
    }
    if (event.multi_value) {
        out += R"(,"headers":{},"multiValueHeaders":{)";
        bool first = true;
        for (const auto& [k, values] : grouped) {
            if (!first) out += ',';
            first = false;
            append_key(out, k);
            out += '[';
            for (std::size_t i = 0; i < values.size(); ++i) {
                if (i) out += ',';
                api::append_json_string(out, values[i]);
            }
            out += ']';
        }
        out += '}';
    } else {
        out += ",\"headers\":{";
        bool first = true;
        for (const auto& [k, values] : grouped) {
            if (!first) out += ',';
            first = false;
            append_key(out, k);
            // One value per name here: join them, but a cookie cannot be joined, so the last wins.
            std::string joined(values.back());
            if (!iequals(k, "set-cookie")) {
                joined.clear();
                for (std::size_t i = 0; i < values.size(); ++i) joined.append(i ? ", " : "").append(values[i]);
            }
            api::append_json_string(out, joined);
        }
        out += '}';
        if (v2 && !cookies.empty()) {
            out += ",\"cookies\":[";
            for (std::size_t i = 0; i < cookies.size(); ++i) {
                if (i) out += ',';
                api::append_json_string(out, cookies[i]);
            }
            out += ']';
        }
    }
    out += ",\"body\":";
    if (base64) {
        out += '"';
        out += codec::base64_encode(body);
        out += '"';
    } else {
        api::append_json_string(out, body);
    }
    out += ",\"isBase64Encoded\":";
    out += base64 ? "true" : "false";
    out += '}';
    return out;
}

}  // namespace

std::string_view kind_name(event_kind kind) noexcept {
    switch (kind) {
        case event_kind::rest_v1:
            return "rest";
        case event_kind::http_v2:
            return "http";
        case event_kind::function_url:
            return "function_url";
        case event_kind::alb:
            return "alb";
    }
    return "unknown";
}

model::result<http_event> parse_event(std::string_view text, const event_options& options) {
    boost::system::error_code ec;
    json::parse_options po;
    po.max_depth = 64;
    // REST front doors decode the query before it reaches us, so a value sent as %ED%A0%80 can
    // arrive as bytes that are not UTF-8. Such bytes are judged where the HTTP path judges them
    // (api::params, strict UTF-8), so both transports give the same 400 instead of this one
    // refusing the whole event.
    po.allow_invalid_utf8 = true;
    json::value doc = json::parse(json::string_view(text.data(), text.size()), ec, json::storage_ptr(), po);
    if (ec) return bad_event("not JSON (" + ec.message() + ")");
    if (!doc.is_object()) return bad_event("the event is not a JSON object");
    const auto& event = doc.get_object();
    // How the front door is told apart: version 2.0, else an ELB context, else httpMethod.
    auto version = string_member(event, "version", "");
    if (!version) return std::move(version).error();
    if (version.value() && *version.value() == "2.0") return parse_v2(event, options);
    auto ctx = object_member(event, "requestContext", "");
    if (!ctx) return std::move(ctx).error();
    const bool alb = ctx.value() && member(*ctx.value(), "elb") != nullptr;
    if (!alb && !member(event, "httpMethod"))
        return bad_event(
            "not an API Gateway, Function URL or ALB event (no version 2.0, requestContext.elb or httpMethod)");
    return parse_v1_or_alb(event, alb, options);
}

encoded_response encode_response(const http_event& event, const api::response& res, std::size_t limit) {
    if (limit == 0) limit = event.kind == event_kind::alb ? max_alb_response_bytes : max_response_bytes;
    api::response r = res;
    if (r.header("X-Request-Id").empty() && !event.request.request_id.empty())
        r.headers.emplace_back("X-Request-Id", event.request.request_id);
    const std::string_view body = event.request.method == "HEAD" ? std::string_view() : r.body_view();
    const bool base64 = !is_text(r, body);
    std::string out = encode(event, r, body, base64);
    if (out.size() <= limit) return {std::move(out), r.status, false};

    // Too big for Lambda: compress when the caller can take it, else a JSON error that fits.
    bool encoded = false;
    for (const auto& [k, v] : r.headers)
        encoded = encoded || (iequals(k, "content-encoding") && !iequals(v, "identity"));
    if (!encoded && codec::accepts_gzip(event.request.header("accept-encoding"))) {
        if (auto packed = codec::gzip(body)) {
            api::response z = r;
            z.body = std::move(*packed);
            z.shared_body.reset();
            z.headers.emplace_back("Content-Encoding", "gzip");
            z.headers.emplace_back("Vary", "Accept-Encoding");
            std::string zipped = encode(event, z, z.body, true);
            if (zipped.size() <= limit) return {std::move(zipped), z.status, true};
        }
    }
    auto err = api::error_response({model::error_code::result_too_large,
                                    "the answer is " + std::to_string(out.size()) + " bytes, more than the " +
                                        std::to_string(limit) + " bytes a Lambda response may carry",
                                    {},
                                    "ask for less (a narrower date range), send Accept-Encoding: gzip, or serve this "
                                    "endpoint with `frost serve`"});
    if (!event.request.request_id.empty()) err.headers.emplace_back("X-Request-Id", event.request.request_id);
    return {encode(event, err, event.request.method == "HEAD" ? std::string_view() : err.body_view(), false),
            err.status, false};
}

}  // namespace frost::lambda
