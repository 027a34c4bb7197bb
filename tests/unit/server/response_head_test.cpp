// The hand-written head of a whole answer (server/response_head.hpp) against its oracle, Beast's
// own serializer fed the same message the way the server used to build it. Fails on any byte of
// difference but one (no `Content-Length: 0` on bodiless statuses, below).

#include <gtest/gtest.h>

#include <boost/beast/http.hpp>

#include <random>
#include <sstream>

#include "server/response_head.hpp"
#include "support/sanitized.hpp"

namespace frost::server {
namespace {

namespace http = boost::beast::http;

// What the server wrote before: a Beast message built field by field, then serialized.
std::string beast_bytes(const api::response& res, std::string_view request_id, bool keep_alive, bool head) {
    http::response<http::span_body<const char>> out;
    out.result(static_cast<unsigned>(res.status));
    out.version(11);
    out.set(http::field::server, "frost");
    for (const auto& [k, v] : res.headers) out.set(k, v);
    if (!request_id.empty()) out.set("X-Request-Id", request_id);
    const auto body = res.body_view();
    out.keep_alive(keep_alive);
    if (head) {
        out.set(http::field::content_length, std::to_string(body.size()));
    } else {
        out.body() = http::span_body<const char>::value_type(body.data(), body.size());
        out.prepare_payload();
    }
    std::ostringstream os;
    os << out;
    auto bytes = os.str();
    // The one difference, on purpose: Beast 1.81 writes `Content-Length: 0` on 1xx, 204 and 304,
    // which RFC 9110 §8.6 forbids on 1xx and 204 (and on 304 unless it is the 200's length).
    const bool bodiless = res.status / 100 == 1 || res.status == 204 || res.status == 304;
    if (bodiless && !head) {
        const auto at = bytes.find("Content-Length: 0\r\n");
        if (at != std::string::npos) bytes.erase(at, 19);
    }
    return bytes;
}

std::string frost_bytes(const api::response& res, std::string_view request_id, bool keep_alive, bool head) {
    std::string out = "stale bytes from the last answer";
    const bool with_body = write_response_head(out, res, {request_id, keep_alive, head});
    if (with_body) out += res.body_view();
    return out;
}

TEST(response_head, equals_beasts_serialization_of_random_answers) {
    std::mt19937 rng(20261202);
    const std::vector<std::string> names{"Content-Type", "ETag",          "Cache-Control", "Vary",
                                         "X-Cache",      "Server-Timing", "Link",          "X-Data-Version",
                                         "server",       "x-request-id",  "Retry-After",   "etag"};
    const std::vector<int> statuses{200, 200, 200, 304, 400, 404, 406, 429, 500, 503, 204, 101, 299, 599, 418};
    const auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
    for (int round = 0; round < frost::testing::rounds(5000); ++round) {
        api::response res;
        res.status = statuses[pick(statuses.size())];
        const auto fields = pick(10);
        for (std::size_t i = 0; i < fields; ++i) {
            std::string value(pick(40), 'v');
            for (auto& c : value) c = pick(20) == 0 ? '\t' : static_cast<char>(' ' + pick(95));
            res.headers.emplace_back(names[pick(names.size())], value);
        }
        const bool bodiless = res.status / 100 == 1 || res.status == 204 || res.status == 304;
        if (!bodiless) {
            std::string body(pick(300), 'b');
            for (auto& c : body) c = static_cast<char>(pick(256));
            if (pick(2))
                res.shared_body = std::make_shared<const std::string>(std::move(body));
            else
                res.body = std::move(body);
        }
        const std::string request_id = pick(4) ? std::to_string(rng()) : "";
        const bool keep_alive = pick(3) != 0;
        const bool head = pick(4) == 0;
        ASSERT_EQ(frost_bytes(res, request_id, keep_alive, head), beast_bytes(res, request_id, keep_alive, head))
            << "round " << round << ", status " << res.status;
    }
}

// One writer over a sequence of answers that share leading fields as cache hits do (the same
// entry's fields, then fields that change), and that change their fields' fates (a later field
// of the same name, the request id, `Server`): every head equals the oracle's bytes.
TEST(response_head, a_writer_reusing_its_last_fields_equals_beasts_serialization_of_5000_answers) {
    std::mt19937 rng(1202);
    const std::vector<std::string> names{"Content-Type",  "ETag",           "Vary",         "X-Cache",
                                         "Server-Timing", "server",         "etag",         "Link",
                                         "x-request-id",  "Content-Length", "Cache-Control"};
    const auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
    const auto random_field = [&] {
        std::string value(pick(30), 'v');
        for (auto& c : value) c = pick(20) == 0 ? '\t' : static_cast<char>(' ' + pick(95));
        return std::pair<std::string, std::string>(names[pick(names.size())], std::move(value));
    };
    response_head_writer writer;
    api::response res;
    const auto body = std::make_shared<const std::string>("{\"a\":1}");
    for (int round = 0; round < frost::testing::rounds(5000); ++round) {
        switch (pick(4)) {
            case 0:  // a new entry
                res.headers.clear();
                for (auto n = pick(10); n > 0; --n) res.headers.push_back(random_field());
                break;
            case 1:  // the same entry, other per-request fields at its end
                if (!res.headers.empty()) res.headers.resize(pick(res.headers.size() + 1));
                for (auto n = pick(3); n > 0; --n) res.headers.push_back(random_field());
                break;
            case 2:  // one field changed
                if (!res.headers.empty()) res.headers[pick(res.headers.size())] = random_field();
                break;
            default:  // the very same fields
                break;
        }
        res.status = pick(5) ? 200 : 304;
        res.shared_body = res.status == 304 ? nullptr : body;  // a 304 has no body
        const std::string request_id = pick(4) ? std::to_string(rng()) : "";
        const bool keep_alive = pick(3) != 0;
        const bool head = pick(4) == 0;
        std::string out = "stale bytes";
        const bool with_body = writer.write(out, res, {request_id, keep_alive, head});
        if (with_body) out += res.body_view();
        ASSERT_EQ(out, beast_bytes(res, request_id, keep_alive, head)) << "round " << round;
    }
}

TEST(response_head, a_value_cannot_start_a_field_or_a_message) {
    api::response res;
    using namespace std::string_view_literals;
    res.headers.emplace_back("Link", std::string("<x>\r\nSet-Cookie: a=b\r\n\r\nHTTP/1.1 200 OK\0z"sv));
    res.body = "{}";
    std::string out;
    ASSERT_TRUE(write_response_head(out, res, {"id", true, false}));
    EXPECT_EQ(out.find("\r\nSet-Cookie"), std::string::npos) << out;
    EXPECT_NE(out.find("Link: <x>  Set-Cookie: a=b    HTTP/1.1 200 OK z\r\n"), std::string::npos) << out;
    EXPECT_EQ(out.find('\0'), std::string::npos);
}

TEST(response_head, framing_fields_are_the_servers) {
    api::response res;
    res.headers = {{"Content-Length", "999"}, {"Transfer-Encoding", "chunked"}, {"Connection", "keep-alive"}};
    res.body = "abc";
    std::string out;
    ASSERT_TRUE(write_response_head(out, res, {"", false, false}));
    EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nServer: frost\r\nConnection: close\r\nContent-Length: 3\r\n\r\n");
}

TEST(response_head, not_modified_and_head_carry_no_body) {
    api::response res;
    res.status = 304;
    res.headers = {{"ETag", "\"a\""}};
    std::string out;
    EXPECT_FALSE(write_response_head(out, res, {"r", true, false}));
    EXPECT_EQ(out, "HTTP/1.1 304 Not Modified\r\nServer: frost\r\nETag: \"a\"\r\nX-Request-Id: r\r\n\r\n");
    res.status = 200;
    res.body = "12345";
    EXPECT_FALSE(write_response_head(out, res, {"", true, true}));
    EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nServer: frost\r\nETag: \"a\"\r\nContent-Length: 5\r\n\r\n");
}

}  // namespace
}  // namespace frost::server
