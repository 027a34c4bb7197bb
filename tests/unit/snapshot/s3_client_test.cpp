// The S3 client's requests as a loopback fake sees them: path-style URLs under
// AWS_ENDPOINT_URL_S3, SigV4 signing by libcurl with x-amz-content-sha256 signed,
// x-amz-security-token, conditional headers, retries, and error messages without secrets.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "fake_http.hpp"
#include "snapshot/s3_client.hpp"

namespace {

using namespace frost;
using frost::testing::canned_answer;
using frost::testing::fake_http;
using frost::testing::seen_request;

std::shared_ptr<snapshot::credentials_chain> creds(std::string token = {}) {
    snapshot::credential_sources s;
    s.env = [token](std::string_view name) -> std::string {
        if (name == "AWS_ACCESS_KEY_ID") return "AKIDTEST";
        if (name == "AWS_SECRET_ACCESS_KEY") return "SECRETKEYVALUE";
        if (name == "AWS_SESSION_TOKEN") return token;
        return {};
    };
    return std::make_shared<snapshot::credentials_chain>(s);
}

snapshot::s3_client client_for(const fake_http& fake, std::string token = {}) {
    snapshot::s3_endpoint e;
    e.region = "eu-west-3";
    e.endpoint = fake.base();
    e.timeout = std::chrono::milliseconds(5000);
    return snapshot::s3_client(config::parse_s3_url("s3://frost-bucket/team/prod/").value(), e, creds(token));
}

TEST(s3_client, virtual_hosted_url_on_aws) {
    snapshot::s3_endpoint e;
    e.region = "us-west-2";
    snapshot::s3_client c(config::parse_s3_url("s3://frost-bucket/p/").value(), e, creds());
    EXPECT_EQ(c.url_of("latest.json"), "https://frost-bucket.s3.us-west-2.amazonaws.com/p/latest.json");
}

TEST(s3_client, put_is_signed_with_the_payload_digest) {
    fake_http fake([](const seen_request&) { return canned_answer{200, "", {{"ETag", "\"abc\""}}}; });
    auto c = client_for(fake, "SESSIONTOKEN");
    const std::string body = R"({"v":1})";
    auto a = c.put("latest.json", body, "application/json", snapshot::put_condition::etag_match, "\"old\"");
    ASSERT_TRUE(a.ok()) << a.error;
    EXPECT_EQ(a.etag, "\"abc\"");
    auto seen = fake.seen();
    ASSERT_EQ(seen.size(), 1u);
    auto& r = seen[0];
    EXPECT_EQ(r.method, "PUT");
    EXPECT_EQ(r.target, "/frost-bucket/team/prod/latest.json");
    EXPECT_EQ(r.body, body);
    EXPECT_EQ(r.headers["x-amz-content-sha256"], snapshot::sha256_hex(body));
    EXPECT_EQ(r.headers["x-amz-security-token"], "SESSIONTOKEN");
    EXPECT_EQ(r.headers["if-match"], "\"old\"");
    EXPECT_EQ(r.headers.count("if-none-match"), 0u);
    const auto& auth = r.headers["authorization"];
    EXPECT_EQ(auth.rfind("AWS4-HMAC-SHA256 Credential=AKIDTEST/", 0), 0u) << auth;
    EXPECT_NE(auth.find("/eu-west-3/s3/aws4_request"), std::string::npos) << auth;
    EXPECT_NE(auth.find("x-amz-content-sha256"), std::string::npos) << auth;  // signed
    EXPECT_NE(auth.find("x-amz-security-token"), std::string::npos) << auth;
    EXPECT_EQ(auth.find("SECRETKEYVALUE"), std::string::npos);
    EXPECT_FALSE(r.headers["x-amz-date"].empty());
}

TEST(s3_client, create_only_put_and_file_upload) {
    fake_http fake([](const seen_request&) {
        return canned_answer{412, "<Error><Code>PreconditionFailed</Code></Error>"};
    });
    auto c = client_for(fake);
    const auto path =
        (std::filesystem::temp_directory_path() / ("frost-s3-upload-" + std::to_string(::getpid()))).string();
    std::string bytes(100'000, 'x');
    bytes[5] = '\0';
    std::ofstream(path, std::ios::binary) << bytes;
    auto a = c.put_file("snapshots/v.duckdb", path, snapshot::sha256_hex(bytes), snapshot::put_condition::absent);
    EXPECT_EQ(a.status, 412);
    EXPECT_NE(a.error.find("PreconditionFailed"), std::string::npos);
    auto seen = fake.seen();
    ASSERT_EQ(seen.size(), 1u);  // 412 is an answer, not retried
    EXPECT_EQ(seen[0].headers["if-none-match"], "*");
    EXPECT_EQ(seen[0].body, bytes);
    EXPECT_EQ(seen[0].headers["x-amz-content-sha256"], snapshot::sha256_hex(bytes));
    EXPECT_EQ(seen[0].headers.count("x-amz-security-token"), 0u);
    std::filesystem::remove(path);
}

TEST(s3_client, conditional_get_and_download_to_a_file) {
    fake_http fake([](const seen_request& r) {
        if (r.headers.count("if-none-match") && r.headers.at("if-none-match") == "\"e1\"")
            return canned_answer{304, "", {{"ETag", "\"e1\""}}};
        return canned_answer{200, "payload", {{"ETag", "\"e1\""}}};
    });
    auto c = client_for(fake);
    auto a = c.get("latest.json", "\"e1\"");
    EXPECT_EQ(a.status, 304);
    const auto path = (std::filesystem::temp_directory_path() / ("frost-s3-dl-" + std::to_string(::getpid()))).string();
    auto b = c.get("latest.json", {}, path);
    EXPECT_EQ(b.status, 200);
    EXPECT_TRUE(b.body.empty());
    std::ifstream in(path);
    std::string got((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(got, "payload");
    EXPECT_EQ(fake.seen()[1].headers["x-amz-content-sha256"], snapshot::sha256_hex(""));
    std::filesystem::remove(path);
}

TEST(s3_client, retries_503_but_not_403) {
    std::atomic<int> calls{0};
    fake_http fake([&](const seen_request& r) {
        if (r.target.ends_with("/slow"))
            return ++calls < 3 ? canned_answer{503, "<Error><Code>SlowDown</Code></Error>"} : canned_answer{200, "ok"};
        return canned_answer{403, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"};
    });
    auto c = client_for(fake);
    auto a = c.get("slow");
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(calls.load(), 3);
    auto b = c.get("denied");
    EXPECT_EQ(b.status, 403);
    EXPECT_EQ(b.error, "HTTP 403 AccessDenied: Access Denied");
    EXPECT_EQ(fake.seen().size(), 4u);
}

TEST(s3_client, unreachable_store_reports_without_secrets) {
    snapshot::s3_endpoint e;
    e.endpoint = "http://127.0.0.1:1";  // nothing listens on port 1
    e.attempts = 2;
    snapshot::s3_client c(config::parse_s3_url("s3://frost-bucket/p/").value(), e, creds("TOKENVALUE"));
    auto a = c.get("latest.json");
    EXPECT_EQ(a.status, 0);
    EXPECT_FALSE(a.error.empty());
    EXPECT_EQ(a.error.find("SECRETKEYVALUE"), std::string::npos);
    EXPECT_EQ(a.error.find("TOKENVALUE"), std::string::npos);
}

}  // namespace
