// Issue 15, defect 5: absolute-form request-targets (RFC 9112 §3.2.2) are accepted, routed by
// their path, and their authority replaces Host after a match check.

#include <gtest/gtest.h>

#include "server/request_head.hpp"

namespace frost::server {
namespace {

namespace http = boost::beast::http;

origin_target rewritten(std::string_view target, std::string_view host) {
    auto r = absolute_form_target(target, host);
    EXPECT_TRUE(r.ok()) << target << ": " << (r ? "" : r.error().message);
    if (!r || !r.value()) {
        ADD_FAILURE() << target << " was not taken as absolute-form";
        return {};
    }
    return *r.value();
}

std::string refusal(std::string_view target, std::string_view host) {
    auto r = absolute_form_target(target, host);
    if (r) return "accepted";
    EXPECT_EQ(model::code_name(r.error().code), "FR430");
    EXPECT_EQ(model::http_status(r.error().code), 400);
    return r.error().message;
}

TEST(absolute_form, origin_form_and_asterisk_are_left_alone) {
    for (std::string_view t : {"/trips/monthly", "/", "*", "/x?http://a/b"}) {
        auto r = absolute_form_target(t, "a");
        ASSERT_TRUE(r.ok()) << t;
        EXPECT_FALSE(r.value().has_value()) << t;
    }
}

TEST(absolute_form, takes_the_path_and_query_and_the_authority) {
    auto o = rewritten("http://127.0.0.1:8080/trips/monthly?start_range=2019-01-01", "127.0.0.1:8080");
    EXPECT_EQ(o.target, "/trips/monthly?start_range=2019-01-01");
    EXPECT_EQ(o.host, "127.0.0.1:8080");
    EXPECT_EQ(rewritten("http://h", "h").target, "/");
    EXPECT_EQ(rewritten("http://h?x=1", "h").target, "/?x=1");
    EXPECT_EQ(rewritten("HTTPS://API.Example.com/a", "api.example.com").target, "/a");
    EXPECT_EQ(rewritten("http://[::1]:9/a", "[::1]:9").target, "/a");
}

TEST(absolute_form, host_must_name_the_same_authority) {
    // Case and a scheme's default port do not matter.
    EXPECT_EQ(rewritten("http://Example.COM:80/a", "example.com").host, "Example.COM:80");
    EXPECT_EQ(rewritten("https://example.com/a", "EXAMPLE.com:443").target, "/a");
    EXPECT_EQ(rewritten("http://h/a", "").target, "/a");  // HTTP/1.0 without Host
    EXPECT_NE(refusal("http://other/a", "h").find("does not match"), std::string::npos);
    EXPECT_NE(refusal("http://h:81/a", "h").find("does not match"), std::string::npos);
    EXPECT_NE(refusal("https://h:80/a", "h").find("does not match"), std::string::npos);
    EXPECT_NE(refusal("http://[::1]:9/a", "[::1]:10").find("does not match"), std::string::npos);
}

TEST(absolute_form, refuses_other_schemes_userinfo_empty_hosts_and_fragments) {
    EXPECT_NE(refusal("ftp://h/a", "h").find("http"), std::string::npos);
    EXPECT_NE(refusal("http://user:pw@h/a", "h").find("user"), std::string::npos);
    EXPECT_NE(refusal("http:///a", "h").find("no host"), std::string::npos);
    EXPECT_NE(refusal("http://h#frag", "h").find("fragment"), std::string::npos);
}

TEST(absolute_form, parse_request_rewrites_target_and_host) {
    const head_limits limits;
    auto r = parse_request("GET http://127.0.0.1:9/trips/monthly?x=1 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n", limits);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r.value().message.target(), "/trips/monthly?x=1");
    EXPECT_EQ(r.value().message[http::field::host], "127.0.0.1:9");
    auto mismatch = parse_request("GET http://a/b HTTP/1.1\r\nHost: b\r\n\r\n", limits);
    ASSERT_FALSE(mismatch.ok());
    EXPECT_EQ(model::http_status(mismatch.error().code), 400);
}

TEST(http_errors, bad_request_is_fr430_not_a_forbidden_lookalike) {
    EXPECT_EQ(model::code_name(model::error_code::bad_request), "FR430");
    EXPECT_EQ(model::http_status(model::error_code::bad_request), 400);
    auto r = parse_request("GET / HTTP/1.1\r\n\r\n", head_limits{});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(model::code_name(r.error().code), "FR430");
}

}  // namespace
}  // namespace frost::server
