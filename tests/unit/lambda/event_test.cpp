// The event adapters against the example events AWS documents for each front door, and
// against the emulator's independent event builder and response reader.
#include <gtest/gtest.h>

#include <zlib.h>
#include <boost/json.hpp>

#include <random>

#include "api/service.hpp"
#include "codec/base64.hpp"
#include "emulators/lambda/gateway.hpp"
#include "lambda/event.hpp"

namespace frost::lambda {
namespace {

namespace json = boost::json;
namespace emu = frost::emulators::lambda;

// AWS's REST example, verbatim in shape.
constexpr std::string_view rest_example = R"({
  "resource": "/{proxy+}", "path": "/users/42", "httpMethod": "GET",
  "headers": { "Accept": "application/json", "Host": "abc123.execute-api.eu-west-1.amazonaws.com",
               "X-Forwarded-Proto": "https", "Cookie": "sid=s1" },
  "multiValueHeaders": { "Accept": ["application/json"], "Host": ["abc123.execute-api.eu-west-1.amazonaws.com"],
                         "X-Forwarded-Proto": ["https"], "Cookie": ["sid=s1"] },
  "queryStringParameters": { "expand": "groups" },
  "multiValueQueryStringParameters": { "expand": ["roles", "groups"] },
  "pathParameters": { "proxy": "users/42" }, "stageVariables": null,
  "requestContext": { "accountId": "111122223333", "apiId": "abc123", "resourcePath": "/{proxy+}",
    "httpMethod": "GET", "path": "/dev/users/42", "stage": "dev", "protocol": "HTTP/1.1",
    "requestId": "7d1c0f1e-3b5a-4c8e-9d0a-2f4e6b8c1a3d",
    "identity": { "sourceIp": "198.51.100.7", "userAgent": "curl/8.5.0" }, "authorizer": null },
  "body": null, "isBase64Encoded": false })";

constexpr std::string_view v2_example = R"({
  "version": "2.0", "routeKey": "ANY /{proxy+}", "rawPath": "/orders", "rawQueryString": "dry=1&tag=a&tag=b",
  "cookies": ["sid=s1", "theme=dark"],
  "headers": { "content-type": "application/json", "accept": "application/json", "x-trace": "a,b",
               "host": "xyz789.execute-api.eu-west-1.amazonaws.com", "content-length": "17" },
  "queryStringParameters": { "dry": "1", "tag": "a,b" }, "pathParameters": { "proxy": "orders" },
  "requestContext": { "accountId": "111122223333", "apiId": "xyz789", "domainName": "xyz789.execute-api.eu-west-1.amazonaws.com",
    "domainPrefix": "xyz789", "requestId": "Ck3hVgK1joEEMfQ=", "routeKey": "ANY /{proxy+}", "stage": "$default",
    "time": "05/Feb/2025:10:15:30 +0000", "timeEpoch": 1738750530123,
    "http": { "method": "POST", "path": "/orders", "protocol": "HTTP/1.1", "sourceIp": "198.51.100.7", "userAgent": "curl/8.5.0" } },
  "body": "{\"item\":\"pizza\"}", "isBase64Encoded": false })";

constexpr std::string_view url_example = R"({
  "version": "2.0", "routeKey": "$default", "rawPath": "/upload", "rawQueryString": "",
  "headers": { "content-type": "application/octet-stream", "host": "q1w2e3r4.lambda-url.eu-west-1.on.aws" },
  "requestContext": { "accountId": "anonymous", "apiId": "q1w2e3r4", "authentication": null, "authorizer": null,
    "domainName": "q1w2e3r4.lambda-url.eu-west-1.on.aws", "domainPrefix": "q1w2e3r4",
    "http": { "method": "PUT", "path": "/upload", "protocol": "HTTP/1.1", "sourceIp": "198.51.100.7", "userAgent": "curl/8.5.0" },
    "requestId": "4a9d7c55-0f7e-4a5b-8f0e-1b2c3d4e5f60", "routeKey": "$default", "stage": "$default",
    "time": "05/Feb/2025:10:15:30 +0000", "timeEpoch": 1738750530456 },
  "body": "AAECAwQF", "isBase64Encoded": true })";

constexpr std::string_view alb_example = R"({
  "requestContext": { "elb": { "targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/api/0123456789abcdef" } },
  "httpMethod": "GET", "path": "/health", "queryStringParameters": { "verbose": "true" },
  "headers": { "host": "api-123.eu-west-1.elb.amazonaws.com", "x-forwarded-for": "198.51.100.7",
               "x-forwarded-proto": "https", "x-forwarded-port": "443" },
  "body": "", "isBase64Encoded": false })";

std::vector<std::string> values(const api::request& r, std::string_view name) {
    std::vector<std::string> out;
    for (const auto& [k, v] : r.headers)
        if (k == name) out.push_back(v);
    return out;
}

TEST(LambdaEvent, RestExampleUsesStageFreePathAndMultiValueMaps) {
    auto e = parse_event(rest_example);
    ASSERT_TRUE(e) << e.error().message;
    EXPECT_EQ(e.value().kind, event_kind::rest_v1);
    EXPECT_EQ(e.value().request.method, "GET");
    EXPECT_EQ(e.value().request.target, "/users/42?expand=roles&expand=groups");
    EXPECT_EQ(e.value().request.header("accept"), "application/json");
    EXPECT_EQ(e.value().request.header("cookie"), "sid=s1");
    EXPECT_EQ(e.value().request.client_address, "198.51.100.7");
    EXPECT_EQ(e.value().gateway_request_id, "7d1c0f1e-3b5a-4c8e-9d0a-2f4e6b8c1a3d");
    EXPECT_TRUE(e.value().multi_value);
}

TEST(LambdaEvent, RestRepeatedHeaderKeepsEveryValue) {
    json::object o = json::parse(rest_example).as_object();
    o["multiValueHeaders"].as_object()["X-Forwarded-For"] = json::array{"203.0.113.1", "198.51.100.7"};
    auto e = parse_event(json::serialize(o));
    ASSERT_TRUE(e);
    EXPECT_EQ(values(e.value().request, "x-forwarded-for"), (std::vector<std::string>{"203.0.113.1", "198.51.100.7"}));
}

TEST(LambdaEvent, RestWithOnlySingleValueMapsAndEscapedValues) {
    json::object o = json::parse(rest_example).as_object();
    o.erase("multiValueHeaders");
    o.erase("multiValueQueryStringParameters");
    o["queryStringParameters"] = json::object{{"start_range", "06/01/2013"}, {"q", "a b&c"}};
    auto e = parse_event(json::serialize(o));
    ASSERT_TRUE(e) << e.error().message;
    EXPECT_EQ(e.value().request.target, "/users/42?start_range=06%2F01%2F2013&q=a%20b%26c");
    EXPECT_EQ(e.value().request.header("x-forwarded-proto"), "https");
}

TEST(LambdaEvent, HttpApiExampleJoinsCookiesAndKeepsRawQuery) {
    auto e = parse_event(v2_example);
    ASSERT_TRUE(e) << e.error().message;
    EXPECT_EQ(e.value().kind, event_kind::http_v2);
    EXPECT_EQ(e.value().request.method, "POST");
    EXPECT_EQ(e.value().request.target, "/orders?dry=1&tag=a&tag=b");
    EXPECT_EQ(e.value().request.header("cookie"), "sid=s1; theme=dark");
    EXPECT_EQ(e.value().request.header("x-trace"), "a,b");
    EXPECT_EQ(e.value().request.body, R"({"item":"pizza"})");
    EXPECT_FALSE(e.value().multi_value);
}

TEST(LambdaEvent, HttpApiNamedStageIsStrippedFromRawPath) {
    json::object o = json::parse(v2_example).as_object();
    o["rawPath"] = "/dev/orders";
    o["requestContext"].as_object()["stage"] = "dev";
    auto e = parse_event(json::serialize(o));
    ASSERT_TRUE(e);
    EXPECT_EQ(e.value().request.target, "/orders?dry=1&tag=a&tag=b");
    // A path that only starts with the same letters is not a stage prefix.
    o["rawPath"] = "/devices";
    e = parse_event(json::serialize(o));
    ASSERT_TRUE(e);
    EXPECT_EQ(e.value().request.target, "/devices?dry=1&tag=a&tag=b");
    o["rawPath"] = "/dev";
    e = parse_event(json::serialize(o));
    ASSERT_TRUE(e);
    EXPECT_EQ(e.value().request.target, "/?dry=1&tag=a&tag=b");
}

TEST(LambdaEvent, ConfiguredBasePathIsStripped) {
    event_options options{"/api/"};
    json::object o = json::parse(rest_example).as_object();
    o["path"] = "/api/trips/monthly";
    auto e = parse_event(json::serialize(o), options);
    ASSERT_TRUE(e);
    EXPECT_EQ(e.value().request.target, "/trips/monthly?expand=roles&expand=groups");
}

TEST(LambdaEvent, FunctionUrlBinaryBodyIsDecoded) {
    auto e = parse_event(url_example);
    ASSERT_TRUE(e) << e.error().message;
    EXPECT_EQ(e.value().kind, event_kind::function_url);
    EXPECT_EQ(e.value().request.method, "PUT");
    EXPECT_EQ(e.value().request.target, "/upload");
    EXPECT_EQ(e.value().request.body, std::string("\x00\x01\x02\x03\x04\x05", 6));
}

TEST(LambdaEvent, AlbExample) {
    auto e = parse_event(alb_example);
    ASSERT_TRUE(e) << e.error().message;
    EXPECT_EQ(e.value().kind, event_kind::alb);
    EXPECT_EQ(e.value().request.target, "/health?verbose=true");
    EXPECT_EQ(e.value().request.client_address, "198.51.100.7");
    EXPECT_FALSE(e.value().multi_value);
}

TEST(LambdaEvent, MalformedEventsAreRejectedWithTheFieldNamed) {
    struct bad {
        std::string_view event;
        std::string_view mentions;
    };
    const bad cases[] = {
        {"", "not JSON"},
        {"{", "not JSON"},
        {"[]", "not a JSON object"},
        {"{}", "not an API Gateway"},
        {R"({"version":"2.0"})", "requestContext"},
        {R"({"version":"2.0","requestContext":{"http":{}}})", "method"},
        {R"({"version":"2.0","requestContext":{"http":{"method":7}}})", "requestContext.http.method"},
        {R"({"httpMethod":"GET","path":5})", "path must be a string"},
        {R"({"httpMethod":"GET","headers":[]})", "headers must be an object"},
        {R"({"httpMethod":"GET","headers":{"a":1}})", "headers values"},
        {R"({"httpMethod":"GET","multiValueHeaders":{"a":"x"}})", "multiValueHeaders values must be arrays"},
        {R"({"httpMethod":"GET","multiValueQueryStringParameters":{"a":[1]}})", "multiValueQueryStringParameters"},
        {R"({"httpMethod":"GET","body":"***","isBase64Encoded":true})", "base64"},
        {R"({"httpMethod":"GET","isBase64Encoded":"yes"})", "isBase64Encoded"},
        {R"({"version":"2.0","requestContext":{"http":{"method":"GET"}},"cookies":"a=b"})", "cookies"},
        {std::string_view("{\"httpMethod\":\"GET\",\"path\":\"/\x00\"}", 27), "not JSON"},
    };
    for (const auto& c : cases) {
        auto e = parse_event(c.event);
        ASSERT_FALSE(e) << c.event;
        EXPECT_EQ(e.error().code, model::error_code::bad_request);
        EXPECT_NE(e.error().message.find(c.mentions), std::string::npos) << e.error().message;
    }
}

TEST(LambdaEvent, DeepNestingIsRejectedNotOverflowed) {
    std::string deep(100000, '[');
    EXPECT_FALSE(parse_event(deep));
    std::string nested = R"({"httpMethod":"GET","x":)" + std::string(5000, '[') + std::string(5000, ']') + "}";
    EXPECT_FALSE(parse_event(nested));
}

// Every front door of the emulator: the request read back is the request sent.
TEST(LambdaEvent, EmulatorEventsRoundTripThroughEveryDoor) {
    emu::http_call call;
    call.target = "/trips/monthly?start_range=2013-06-01&end_range=2013-07-31";
    call.headers = {{"Accept", "application/json"}, {"X-Api-Key", "k1"}, {"Cookie", "a=1; b=2"}};
    for (auto door : {emu::front_door::rest, emu::front_door::http_api, emu::front_door::function_url,
                      emu::front_door::alb, emu::front_door::alb_multi_value}) {
        SCOPED_TRACE(std::string(emu::door_name(door)));
        for (std::string stage : {"", "prod"}) {
            call.stage = stage;
            auto e = parse_event(emu::make_event(door, call));
            ASSERT_TRUE(e) << e.error().message;
            const auto t = e.value().request.target;
            EXPECT_EQ(t.substr(0, t.find('?')), "/trips/monthly");
            EXPECT_NE(t.find("start_range=2013-06-01"), std::string::npos) << t;
            EXPECT_NE(t.find("end_range=2013-07-31"), std::string::npos) << t;
            EXPECT_EQ(e.value().request.header("x-api-key"), "k1");
            EXPECT_NE(e.value().request.header("cookie").find("a=1"), std::string::npos);
        }
    }
}

api::response json_answer(int status, std::string body) {
    return api::json_response(status, std::move(body));
}

http_event event_for(emu::front_door door, std::string target = "/x",
                     std::vector<std::pair<std::string, std::string>> h = {}) {
    emu::http_call call;
    call.target = std::move(target);
    call.headers = std::move(h);
    auto e = parse_event(emu::make_event(door, call));
    EXPECT_TRUE(e);
    auto ev = std::move(e).value();
    ev.request.request_id = "req-1";
    return ev;
}

TEST(LambdaResponse, EveryDoorReadsBackStatusHeadersAndBody) {
    auto res = json_answer(201, R"({"result":[[1,"Jan"]],"time_ms":3})");
    res.headers.emplace_back("Set-Cookie", "a=1; Path=/");
    res.headers.emplace_back("Set-Cookie", "b=2; Path=/");
    for (auto door : {emu::front_door::rest, emu::front_door::http_api, emu::front_door::function_url,
                      emu::front_door::alb, emu::front_door::alb_multi_value}) {
        SCOPED_TRACE(std::string(emu::door_name(door)));
        auto ev = event_for(door);
        auto out = encode_response(ev, res);
        EXPECT_EQ(out.status, 201);
        auto reply = emu::read_reply(door, out.payload);
        ASSERT_TRUE(reply.problem.empty()) << reply.problem << "\n" << out.payload;
        EXPECT_EQ(reply.status, 201);
        EXPECT_EQ(reply.body, res.body);
        EXPECT_EQ(reply.header("content-type"), "application/json");
        EXPECT_EQ(reply.header("access-control-allow-origin"), "*");
        EXPECT_EQ(reply.header("x-request-id"), "req-1");
        int cookies = 0;
        for (const auto& [k, v] : reply.headers) cookies += k == "set-cookie";
        // Single-value ALB can carry one cookie only; every other door carries both.
        EXPECT_EQ(cookies, door == emu::front_door::alb ? 1 : 2);
    }
    auto alb = encode_response(event_for(emu::front_door::alb), res);
    EXPECT_NE(alb.payload.find(R"("statusDescription":"201 Created")"), std::string::npos);
}

TEST(LambdaResponse, CompressedAndBinaryBodiesTravelAsBase64) {
    std::string gz = "\x1f\x8b\x08\x00binary\xff\xfe";
    auto res = json_answer(200, gz);
    res.headers.emplace_back("Content-Encoding", "gzip");
    auto out = encode_response(event_for(emu::front_door::http_api), res);
    auto doc = json::parse(out.payload).as_object();
    EXPECT_TRUE(doc.at("isBase64Encoded").as_bool());
    EXPECT_EQ(emu::from_base64(doc.at("body").as_string()), gz);

    api::response png;
    png.body = "plain ascii but an image";
    png.headers.emplace_back("Content-Type", "image/png");
    doc = json::parse(encode_response(event_for(emu::front_door::rest), png).payload).as_object();
    EXPECT_TRUE(doc.at("isBase64Encoded").as_bool());

    api::response text;
    text.body = "caf\xc3\xa9";
    text.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
    doc = json::parse(encode_response(event_for(emu::front_door::rest), text).payload).as_object();
    EXPECT_FALSE(doc.at("isBase64Encoded").as_bool());
    EXPECT_EQ(doc.at("body").as_string(), "caf\xc3\xa9");

    text.body = "bad \xc3 utf8";
    doc = json::parse(encode_response(event_for(emu::front_door::rest), text).payload).as_object();
    EXPECT_TRUE(doc.at("isBase64Encoded").as_bool());
    EXPECT_EQ(emu::from_base64(doc.at("body").as_string()), text.body);
}

TEST(LambdaResponse, HeadGetsNoBody) {
    emu::http_call call;
    call.method = "HEAD";
    auto ev = parse_event(emu::make_event(emu::front_door::http_api, call)).value();
    auto out = encode_response(ev, json_answer(200, R"({"result":[]})"));
    EXPECT_EQ(emu::read_reply(emu::front_door::http_api, out.payload).body, "");
}

std::string random_text(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s;
    s.reserve(n);
    while (s.size() < n) s += std::to_string(rng()) + ",";
    return s;
}

std::string gunzip(std::string_view in) {
    z_stream z{};
    inflateInit2(&z, 15 + 16);
    std::string out;
    char buf[65536];
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    int rc = Z_OK;
    while (rc == Z_OK) {
        z.next_out = reinterpret_cast<Bytef*>(buf);
        z.avail_out = sizeof buf;
        rc = inflate(&z, Z_NO_FLUSH);
        out.append(buf, sizeof buf - z.avail_out);
    }
    inflateEnd(&z);
    return rc == Z_STREAM_END ? out : std::string("<corrupt>");
}

TEST(LambdaResponse, OversizeAnswerBecomesAJsonErrorNotAFailure) {
    const std::string big = R"({"result":")" + random_text(7 * 1024 * 1024, 1) + R"("})";
    for (auto door : {emu::front_door::rest, emu::front_door::http_api, emu::front_door::alb}) {
        SCOPED_TRACE(std::string(emu::door_name(door)));
        auto out = encode_response(event_for(door), json_answer(200, big));
        EXPECT_LE(out.payload.size(), max_response_bytes);
        EXPECT_EQ(out.status, 502);
        auto reply = emu::read_reply(door, out.payload);
        ASSERT_TRUE(reply.problem.empty()) << reply.problem;
        EXPECT_EQ(reply.status, 502);
        auto body = json::parse(reply.body).as_object();
        EXPECT_EQ(body.at("code").as_string(), "FR507");
        EXPECT_NE(std::string(body.at("error").as_string()).find("bytes"), std::string::npos);
    }
}

TEST(LambdaResponse, AlbHasItsOwnOneMegabyteLimit) {
    const std::string two_mb = R"({"result":")" + random_text(2 * 1024 * 1024, 2) + R"("})";
    EXPECT_EQ(encode_response(event_for(emu::front_door::http_api), json_answer(200, two_mb)).status, 200);
    auto alb = encode_response(event_for(emu::front_door::alb_multi_value), json_answer(200, two_mb));
    EXPECT_EQ(alb.status, 502);
    EXPECT_LE(alb.payload.size(), max_alb_response_bytes);
}

TEST(LambdaResponse, OversizeAnswerIsGzippedWhenTheCallerAcceptsIt) {
    // Repetitive JSON (like report rows) compresses far below the limit.
    std::string rows = R"({"result":[)";
    while (rows.size() < 8 * 1024 * 1024) rows += R"([123456,"Jan"],)";
    rows += R"([0,"Dec"]],"time_ms":1})";
    auto ev = event_for(emu::front_door::http_api, "/x", {{"Accept-Encoding", "br;q=1.0, gzip;q=0.8"}});
    auto out = encode_response(ev, json_answer(200, rows));
    EXPECT_EQ(out.status, 200);
    EXPECT_TRUE(out.compressed);
    auto reply = emu::read_reply(emu::front_door::http_api, out.payload);
    EXPECT_EQ(reply.header("content-encoding"), "gzip");
    EXPECT_EQ(gunzip(reply.body), rows);

    auto refused = event_for(emu::front_door::http_api, "/x", {{"Accept-Encoding", "gzip;q=0"}});
    EXPECT_EQ(encode_response(refused, json_answer(200, rows)).status, 502);
}

TEST(LambdaResponse, AnswerJustUnderTheLimitPasses) {
    auto ev = event_for(emu::front_door::http_api);
    const auto overhead = encode_response(ev, json_answer(200, "")).payload.size();
    std::string body(max_response_bytes - overhead, 'x');
    auto out = encode_response(ev, json_answer(200, body));
    EXPECT_EQ(out.payload.size(), max_response_bytes);
    EXPECT_EQ(out.status, 200);
    body += 'x';
    EXPECT_EQ(encode_response(ev, json_answer(200, body)).status, 502);
}

// Lambda bodies are decoded by codec::base64_decode with padding optional (see event.cpp).
TEST(LambdaBase64, RoundTripsRandomBytesAndRejectsGarbage) {
    std::mt19937 rng(7);
    for (int n = 0; n < 200; ++n) {
        std::string s(static_cast<std::size_t>(n), '\0');
        for (auto& c : s) c = static_cast<char>(rng());
        const auto enc = codec::base64_encode(s);
        EXPECT_EQ(enc, emu::to_base64(s));  // an independent encoder
        auto dec = codec::base64_decode(enc, codec::base64_alphabet::standard, codec::base64_padding::optional);
        ASSERT_TRUE(dec);
        EXPECT_EQ(dec.value(), s);
    }
    EXPECT_FALSE(codec::base64_decode("a", codec::base64_alphabet::standard, codec::base64_padding::optional));
    EXPECT_FALSE(codec::base64_decode("ab=c", codec::base64_alphabet::standard, codec::base64_padding::optional));
    EXPECT_FALSE(codec::base64_decode("ab\ncd", codec::base64_alphabet::standard, codec::base64_padding::optional));
    EXPECT_FALSE(codec::base64_decode("abc==", codec::base64_alphabet::standard, codec::base64_padding::optional));
}

}  // namespace
}  // namespace frost::lambda
