#include "emulators/lambda/gateway.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>

namespace frost::emulators::lambda {

namespace json = boost::json;

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string percent_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
            out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

// key -> values in first-seen order.
using multimap = std::vector<std::pair<std::string, std::vector<std::string>>>;

void add(multimap& m, std::string key, std::string value) {
    auto it = std::find_if(m.begin(), m.end(), [&](const auto& p) { return p.first == key; });
    if (it == m.end()) {
        m.emplace_back(std::move(key), std::vector<std::string>{std::move(value)});
    } else {
        it->second.push_back(std::move(value));
    }
}

multimap query_pairs(std::string_view query, bool decode) {
    multimap out;
    while (!query.empty()) {
        auto item = query.substr(0, query.find('&'));
        query.remove_prefix(std::min(query.size(), item.size() + 1));
        if (item.empty()) continue;
        const auto eq = item.find('=');
        auto k = item.substr(0, eq);
        auto v = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
        add(out, decode ? percent_decode(k) : std::string(k), decode ? percent_decode(v) : std::string(v));
    }
    return out;
}

json::object single(const multimap& m, bool join) {
    json::object o;
    for (const auto& [k, vs] : m) {
        if (join) {
            std::string j;
            for (std::size_t i = 0; i < vs.size(); ++i) j += (i ? "," : "") + vs[i];
            o[k] = j;
        } else {
            o[k] = vs.back();
        }
    }
    return o;
}

json::object multi(const multimap& m) {
    json::object o;
    for (const auto& [k, vs] : m) {
        json::array a;
        for (const auto& v : vs) a.emplace_back(v);
        o[k] = std::move(a);
    }
    return o;
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

json::value body_of(const http_call& c) {
    if (c.body.empty() && c.method == "GET") return nullptr;
    return json::value(c.binary_body ? to_base64(c.body) : c.body);
}

}  // namespace

std::string_view door_name(front_door d) {
    switch (d) {
        case front_door::rest:
            return "rest";
        case front_door::http_api:
            return "http_api";
        case front_door::function_url:
            return "function_url";
        case front_door::alb:
            return "alb";
        case front_door::alb_multi_value:
            return "alb_multi_value";
    }
    return "?";
}

std::string make_event(front_door door, const http_call& c) {
    const auto q = c.target.find('?');
    const std::string path = c.target.substr(0, q);
    const std::string raw_query = q == std::string::npos ? std::string() : c.target.substr(q + 1);
    json::object e;
    if (door == front_door::rest) {
        multimap headers;
        for (const auto& [k, v] : c.headers) add(headers, k, v);  // REST keeps the client's case
        const auto query = query_pairs(raw_query, true);
        const std::string stage = c.stage.empty() ? "dev" : c.stage;
        e["resource"] = "/{proxy+}";
        e["path"] = percent_decode(path);
        e["httpMethod"] = c.method;
        e["headers"] = headers.empty() ? json::value(nullptr) : json::value(single(headers, false));
        e["multiValueHeaders"] = headers.empty() ? json::value(nullptr) : json::value(multi(headers));
        e["queryStringParameters"] = query.empty() ? json::value(nullptr) : json::value(single(query, false));
        e["multiValueQueryStringParameters"] = query.empty() ? json::value(nullptr) : json::value(multi(query));
        e["pathParameters"] = json::object{{"proxy", path.size() > 1 ? path.substr(1) : ""}};
        e["stageVariables"] = nullptr;
        e["requestContext"] =
            json::object{{"accountId", "111122223333"},
                         {"apiId", "abc123"},
                         {"resourceId", "r7x9k2"},
                         {"resourcePath", "/{proxy+}"},
                         {"httpMethod", c.method},
                         {"path", "/" + stage + path},
                         {"stage", stage},
                         {"protocol", "HTTP/1.1"},
                         {"requestId", "7d1c0f1e-3b5a-4c8e-9d0a-2f4e6b8c1a3d"},
                         {"requestTimeEpoch", now_ms()},
                         {"domainName", "abc123.execute-api.eu-west-1.amazonaws.com"},
                         {"domainPrefix", "abc123"},
                         {"identity", json::object{{"sourceIp", "198.51.100.7"}, {"userAgent", "emulator"}}},
                         {"authorizer", nullptr}};
        e["body"] = body_of(c);
        e["isBase64Encoded"] = c.binary_body;
    } else if (door == front_door::http_api || door == front_door::function_url) {
        const bool url = door == front_door::function_url;
        const std::string stage = url || c.stage.empty() ? "$default" : c.stage;
        const std::string raw_path = stage == "$default" ? path : "/" + stage + path;
        multimap headers;
        json::array cookies;
        for (const auto& [k, v] : c.headers) {
            if (lower(k) == "cookie") {
                std::string_view rest(v);
                while (!rest.empty()) {
                    auto item = rest.substr(0, rest.find(';'));
                    rest.remove_prefix(std::min(rest.size(), item.size() + 1));
                    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
                    if (!item.empty()) cookies.emplace_back(item);
                }
                continue;
            }
            add(headers, lower(k), v);
        }
        const std::string domain =
            url ? "q1w2e3r4.lambda-url.eu-west-1.on.aws" : "xyz789.execute-api.eu-west-1.amazonaws.com";
        const std::string route = url ? "$default" : "ANY /{proxy+}";
        e["version"] = "2.0";
        e["routeKey"] = route;
        e["rawPath"] = raw_path;
        e["rawQueryString"] = raw_query;
        if (!cookies.empty()) e["cookies"] = cookies;
        e["headers"] = single(headers, true);
        const auto query = query_pairs(raw_query, true);
        if (!query.empty()) e["queryStringParameters"] = single(query, true);
        e["requestContext"] = json::object{{"accountId", url ? "anonymous" : "111122223333"},
                                           {"apiId", url ? "q1w2e3r4" : "xyz789"},
                                           {"domainName", domain},
                                           {"domainPrefix", url ? "q1w2e3r4" : "xyz789"},
                                           {"requestId", "Ck3hVgK1joEEMfQ="},
                                           {"routeKey", route},
                                           {"stage", stage},
                                           {"timeEpoch", now_ms()},
                                           {"http", json::object{{"method", c.method},
                                                                 {"path", raw_path},
                                                                 {"protocol", "HTTP/1.1"},
                                                                 {"sourceIp", "198.51.100.7"},
                                                                 {"userAgent", "emulator"}}}};
        if (!c.body.empty()) e["body"] = c.binary_body ? to_base64(c.body) : c.body;
        e["isBase64Encoded"] = c.binary_body;
    } else {
        // ALB passes the query as sent (still encoded) and header names lower-case.
        multimap headers;
        for (const auto& [k, v] : c.headers) add(headers, lower(k), v);
        add(headers, "x-forwarded-for", "198.51.100.7");
        const auto query = query_pairs(raw_query, false);
        e["requestContext"] = json::object{
            {"elb",
             json::object{{"targetGroupArn",
                           "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/api/0123456789abcdef"}}}};
        e["httpMethod"] = c.method;
        e["path"] = path;
        if (door == front_door::alb_multi_value) {
            e["multiValueQueryStringParameters"] = multi(query);
            e["multiValueHeaders"] = multi(headers);
        } else {
            e["queryStringParameters"] = single(query, false);
            e["headers"] = single(headers, false);
        }
        e["body"] = c.binary_body ? to_base64(c.body) : c.body;
        e["isBase64Encoded"] = c.binary_body;
    }
    return json::serialize(e);
}

std::string http_reply::header(std::string_view lower_name) const {
    for (const auto& [k, v] : headers)
        if (k == lower_name) return v;
    return {};
}

http_reply read_reply(front_door door, std::string_view payload) {
    http_reply bad;
    bad.status = 502;
    bad.body = R"({"message":"Internal server error"})";
    bad.headers.emplace_back("content-type", "application/json");
    boost::system::error_code ec;
    auto doc = json::parse(json::string_view(payload.data(), payload.size()), ec);
    const bool v2 = door == front_door::http_api || door == front_door::function_url;
    if (ec) {
        bad.problem = "the answer is not JSON";
        return bad;
    }
    if (v2 && (!doc.is_object() || !doc.as_object().contains("statusCode"))) {
        // The inferred format: any JSON is a 200 application/json body.
        http_reply r;
        r.status = 200;
        r.headers.emplace_back("content-type", "application/json");
        r.body = std::string(payload);
        return r;
    }
    if (!doc.is_object()) {
        bad.problem = "the answer is not an object";
        return bad;
    }
    const auto& o = doc.as_object();
    http_reply r;
    const auto* status = o.if_contains("statusCode");
    if (!status || !status->is_int64()) {
        bad.problem = "statusCode is missing or not an integer";
        return bad;
    }
    r.status = static_cast<int>(status->as_int64());
    if (const auto* h = o.if_contains("headers"); h && !h->is_null()) {
        if (!h->is_object()) {
            bad.problem = "headers is not an object";
            return bad;
        }
        for (const auto& kv : h->as_object()) {
            if (!kv.value().is_string()) {
                bad.problem = "a header value is not a string";
                return bad;
            }
            r.headers.emplace_back(lower(kv.key()), std::string(kv.value().as_string()));
        }
    }
    if (const auto* h = o.if_contains("multiValueHeaders"); h && !h->is_null()) {
        if (v2 || !h->is_object()) {
            bad.problem = "multiValueHeaders is not allowed or not an object";
            return bad;
        }
        for (const auto& kv : h->as_object()) {
            // For the same name, only the multi-value entries survive.
            const auto name = lower(kv.key());
            std::erase_if(r.headers, [&](const auto& p) { return p.first == name; });
            if (!kv.value().is_array()) {
                bad.problem = "a multiValueHeaders entry is not an array";
                return bad;
            }
            for (const auto& v : kv.value().as_array()) {
                if (!v.is_string()) {
                    bad.problem = "a multiValueHeaders value is not a string";
                    return bad;
                }
                r.headers.emplace_back(name, std::string(v.as_string()));
            }
        }
    }
    if (const auto* c = o.if_contains("cookies"); c && !c->is_null()) {
        if (!v2 || !c->is_array()) {
            bad.problem = "cookies is not allowed or not an array";
            return bad;
        }
        for (const auto& v : c->as_array())
            if (v.is_string()) r.headers.emplace_back("set-cookie", std::string(v.as_string()));
    }
    bool base64 = false;
    if (const auto* b = o.if_contains("isBase64Encoded"); b && !b->is_null()) {
        if (!b->is_bool()) {
            bad.problem = "isBase64Encoded is not a boolean";
            return bad;
        }
        base64 = b->as_bool();
    }
    if (const auto* b = o.if_contains("body"); b && !b->is_null()) {
        if (!b->is_string()) {
            bad.problem = "body is not a string";
            return bad;
        }
        r.body = base64 ? from_base64(b->as_string()) : std::string(b->as_string());
    }
    return r;
}

std::string to_base64(std::string_view s) {
    static constexpr std::string_view a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned acc = 0;
    int bits = 0;
    for (unsigned char c : s) {
        acc = (acc << 8) | c;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += a[(acc >> bits) & 63];
        }
    }
    if (bits > 0) out += a[(acc << (6 - bits)) & 63];
    while (out.size() % 4) out += '=';
    return out;
}

std::string from_base64(std::string_view s) {
    static constexpr std::string_view a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned acc = 0;
    int bits = 0;
    for (char c : s) {
        const auto v = a.find(c);
        if (v == std::string_view::npos) continue;  // padding
        acc = (acc << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xFF);
        }
    }
    return out;
}

}  // namespace frost::emulators::lambda
