// The credentials chain against loopback fakes of the container endpoint and STS: order,
// the requests each link sends, caching, refresh before expiry, and no secret in messages.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "codec/utc_time.hpp"
#include "fake_http.hpp"
#include "snapshot/credentials.hpp"

namespace {

using namespace frost;
using frost::testing::canned_answer;
using frost::testing::fake_http;
using frost::testing::seen_request;

snapshot::credential_sources sources_with(std::map<std::string, std::string> vars, std::string ecs_base = {}) {
    snapshot::credential_sources s;
    s.env = [vars = std::move(vars)](std::string_view name) {
        auto it = vars.find(std::string(name));
        return it == vars.end() ? std::string() : it->second;
    };
    if (!ecs_base.empty()) s.ecs_base = std::move(ecs_base);
    s.timeout = std::chrono::milliseconds(3000);
    return s;
}

std::string iso_in(std::chrono::seconds from_now) {
    return codec::format_utc(std::chrono::system_clock::now() + from_now);
}

std::string temp_file(const std::string& name, const std::string& text) {
    auto p = std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
    std::ofstream(p) << text;
    return p.string();
}

std::string container_json(const std::string& id, std::chrono::seconds ttl) {
    return R"({"AccessKeyId":")" + id + R"(","SecretAccessKey":"SECRET-)" + id + R"(","Token":"TOKEN-)" + id +
           R"(","Expiration":")" + iso_in(ttl) + R"("})";
}

TEST(credentials_chain, environment_comes_first_and_sends_nothing) {
    fake_http ecs([](const seen_request&) { return canned_answer{200, container_json("ECS", std::chrono::hours(1))}; });
    snapshot::credentials_chain chain(sources_with({{"AWS_ACCESS_KEY_ID", "AKIDENV"},
                                                    {"AWS_SECRET_ACCESS_KEY", "envsecret"},
                                                    {"AWS_SESSION_TOKEN", "envtoken"},
                                                    {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/creds"}},
                                                   ecs.base()));
    auto c = chain.get();
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c.value().access_key_id, "AKIDENV");
    EXPECT_EQ(c.value().session_token, "envtoken");
    EXPECT_EQ(c.value().origin, "environment");
    EXPECT_TRUE(ecs.seen().empty());
}

TEST(credentials_chain, half_set_environment_is_an_error) {
    snapshot::credentials_chain chain(sources_with({{"AWS_ACCESS_KEY_ID", "AKIDENV"}}));
    auto c = chain.get();
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().message.find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
}

TEST(credentials_chain, nothing_configured_says_what_to_set) {
    snapshot::credentials_chain chain(sources_with({}));
    auto c = chain.get();
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().hint.find("AWS_ACCESS_KEY_ID"), std::string::npos);
}

TEST(credentials_chain, ecs_relative_uri_and_caching_until_near_expiry) {
    fake_http ecs([](const seen_request&) { return canned_answer{200, container_json("ECS", std::chrono::hours(1))}; });
    snapshot::credentials_chain chain(
        sources_with({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"}}, ecs.base()));
    for (int i = 0; i < 3; ++i) {
        auto c = chain.get();
        ASSERT_TRUE(c) << c.error().message;
        EXPECT_EQ(c.value().access_key_id, "ECS");
        EXPECT_EQ(c.value().session_token, "TOKEN-ECS");
        EXPECT_EQ(c.value().origin, "container");
    }
    auto seen = ecs.seen();
    ASSERT_EQ(seen.size(), 1u);  // an hour of validity: fetched once
    EXPECT_EQ(seen[0].method, "GET");
    EXPECT_EQ(seen[0].target, "/v2/credentials/abc");
}

TEST(credentials_chain, refreshes_credentials_that_expire_within_the_margin) {
    int served = 0;
    fake_http ecs([&](const seen_request&) {
        ++served;
        return canned_answer{200, container_json("K" + std::to_string(served), std::chrono::minutes(2))};
    });
    snapshot::credentials_chain chain(sources_with({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/c"}}, ecs.base()),
                                      std::chrono::minutes(5));
    auto a = chain.get();
    auto b = chain.get();
    ASSERT_TRUE(a);
    ASSERT_TRUE(b);
    EXPECT_EQ(a.value().access_key_id, "K1");
    EXPECT_EQ(b.value().access_key_id, "K2");  // 2 minutes left < 5 minutes margin: fetched again
}

TEST(credentials_chain, keeps_valid_credentials_while_the_endpoint_fails) {
    int served = 0;
    fake_http ecs([&](const seen_request&) {
        if (++served == 1) return canned_answer{200, container_json("FIRST", std::chrono::minutes(2))};
        return canned_answer{500, "SECRET-leaked-in-an-error-page"};
    });
    snapshot::credentials_chain chain(sources_with({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/c"}}, ecs.base()),
                                      std::chrono::minutes(5));
    ASSERT_TRUE(chain.get());
    auto again = chain.get();
    ASSERT_TRUE(again);
    EXPECT_EQ(again.value().access_key_id, "FIRST");
}

TEST(credentials_chain, full_uri_sends_the_token_file_as_authorization) {
    fake_http pod([](const seen_request&) { return canned_answer{200, container_json("POD", std::chrono::hours(1))}; });
    const auto token = temp_file("frost-pod-token", "pod-identity-token\n");
    snapshot::credentials_chain chain(sources_with({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", pod.base() + "/v1/creds"},
                                                    {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token}}));
    auto c = chain.get();
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c.value().access_key_id, "POD");
    auto seen = pod.seen();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].target, "/v1/creds");
    EXPECT_EQ(seen[0].headers["authorization"], "pod-identity-token");
    std::filesystem::remove(token);
}

TEST(credentials_chain, container_failure_never_quotes_its_answer) {
    fake_http ecs([](const seen_request&) { return canned_answer{200, R"({"SecretAccessKey":"TOPSECRET"})"}; });
    snapshot::credentials_chain chain(sources_with({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/c"}}, ecs.base()));
    auto c = chain.get();
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().message.find("TOPSECRET"), std::string::npos);
}

TEST(credentials_chain, web_identity_calls_sts_assume_role_with_web_identity) {
    fake_http sts([](const seen_request&) {
        return canned_answer{200,
                             "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
                             "<AccessKeyId>ASIAWEB</AccessKeyId><SecretAccessKey>websecret</SecretAccessKey>"
                             "<SessionToken>webtoken</SessionToken><Expiration>" +
                                 iso_in(std::chrono::hours(1)) +
                                 "</Expiration></Credentials></AssumeRoleWithWebIdentityResult>"
                                 "</AssumeRoleWithWebIdentityResponse>"};
    });
    const auto token = temp_file("frost-web-token", "eyJhbGciOi.jwt+token/x=\n");
    snapshot::credentials_chain chain(sources_with({{"AWS_WEB_IDENTITY_TOKEN_FILE", token},
                                                    {"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/frost reader"},
                                                    {"AWS_ROLE_SESSION_NAME", "frost-test"},
                                                    {"AWS_ENDPOINT_URL_STS", sts.base() + "/"}}));
    auto c = chain.get();
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c.value().access_key_id, "ASIAWEB");
    EXPECT_EQ(c.value().session_token, "webtoken");
    EXPECT_EQ(c.value().origin, "web identity");
    auto seen = sts.seen();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].method, "POST");
    EXPECT_EQ(seen[0].headers.count("authorization"), 0u);  // unsigned
    const auto& body = seen[0].body;
    EXPECT_NE(body.find("Action=AssumeRoleWithWebIdentity"), std::string::npos) << body;
    EXPECT_NE(body.find("Version=2011-06-15"), std::string::npos);
    EXPECT_NE(body.find("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Ffrost%20reader"), std::string::npos)
        << body;
    EXPECT_NE(body.find("RoleSessionName=frost-test"), std::string::npos);
    EXPECT_NE(body.find("WebIdentityToken=eyJhbGciOi.jwt%2Btoken%2Fx%3D"), std::string::npos) << body;
    std::filesystem::remove(token);
}

TEST(credentials_chain, web_identity_needs_a_role) {
    const auto token = temp_file("frost-web-token2", "t");
    snapshot::credentials_chain chain(sources_with({{"AWS_WEB_IDENTITY_TOKEN_FILE", token}}));
    auto c = chain.get();
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().message.find("AWS_ROLE_ARN"), std::string::npos);
    std::filesystem::remove(token);
}

}  // namespace
