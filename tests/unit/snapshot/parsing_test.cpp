// Parsers of untrusted text in src/snapshot and config/s3_url: good input, each kind of bad
// input, and random bytes and mutations (never a crash, never a secret in a message).
#include <gtest/gtest.h>

#include <random>

#include "config/s3_url.hpp"
#include "snapshot/credentials.hpp"
#include "snapshot/manifest.hpp"
#include "snapshot/s3_client.hpp"

namespace {

using namespace frost;

std::string random_bytes(std::mt19937& rng, std::size_t max_len, std::string_view alphabet = {}) {
    std::uniform_int_distribution<std::size_t> len(0, max_len);
    std::string out(len(rng), '\0');
    for (auto& c : out) {
        if (alphabet.empty())
            c = static_cast<char>(rng() & 0xff);
        else
            c = alphabet[rng() % alphabet.size()];
    }
    return out;
}

std::string mutate(std::mt19937& rng, std::string s) {
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < edits && !s.empty(); ++i) {
        const auto at = rng() % s.size();
        switch (rng() % 3) {
            case 0:
                s[at] = static_cast<char>(rng() & 0xff);
                break;
            case 1:
                s.erase(at, 1 + rng() % 8);
                break;
            default:
                s.insert(at, 1, "{}[]\",:<>&0"[rng() % 11]);
        }
    }
    return s;
}

TEST(s3_url, parses_bucket_and_prefix) {
    auto a = config::parse_s3_url("s3://my-bucket/frost/prod/");
    ASSERT_TRUE(a);
    EXPECT_EQ(a.value().bucket, "my-bucket");
    EXPECT_EQ(a.value().prefix, "frost/prod/");
    auto b = config::parse_s3_url("s3://my.bucket.01/frost");
    ASSERT_TRUE(b);
    EXPECT_EQ(b.value().prefix, "frost/");
    auto c = config::parse_s3_url("s3://abc");
    ASSERT_TRUE(c);
    EXPECT_EQ(c.value().prefix, "");
    EXPECT_TRUE(config::parse_s3_url("s3://abc/"));
}

TEST(s3_url, refuses_bad_urls) {
    for (const char* bad :
         {"", "s3:/bucket/", "https://bucket/x/", "s3://", "s3://ab/", "s3://UPPER/x/", "s3://-bucket/x/",
          "s3://bucket-/x/", "s3://bu_cket/x/", "s3://bucket/a//b/", "s3://bucket/../x/", "s3://bucket/a/./b",
          "s3://bucket/sp ace/", "s3://bucket/a?b", "s3://bucket/a#b", "s3://bucket/%2e%2e/", "s3://bucket//"}) {
        EXPECT_FALSE(config::parse_s3_url(bad)) << bad;
    }
    EXPECT_FALSE(config::parse_s3_url("s3://" + std::string(64, 'a') + "/x/"));
}

TEST(s3_url, random_input_never_crashes_and_accepted_prefixes_are_safe) {
    std::mt19937 rng(13);
    int accepted = 0;
    for (int i = 0; i < 20000; ++i) {
        auto text = i % 2 ? "s3://" + random_bytes(rng, 40, "abc-./_x09%?# A") : random_bytes(rng, 40);
        auto r = config::parse_s3_url(text);
        if (!r) continue;
        ++accepted;
        const auto& p = r.value().prefix;
        EXPECT_TRUE(p.empty() || p.back() == '/') << text;
        EXPECT_EQ(p.find("//"), std::string::npos) << text;
        EXPECT_EQ(p.find_first_of("%?# "), std::string::npos) << text;
    }
    EXPECT_GT(accepted, 0);
}

snapshot::manifest sample_manifest() {
    snapshot::manifest m;
    m.as_of = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'764'633'600'123));
    m.sha256 = snapshot::sha256_hex("snapshot bytes");
    m.size = 14;
    m.version = snapshot::version_name(m.as_of, m.sha256);
    m.rollups = {{"trips_by_month", 7}, {"stations", 3}};
    return m;
}

TEST(manifest, round_trips) {
    const auto m = sample_manifest();
    EXPECT_EQ(m.version, "1764633600123-" + m.sha256.substr(0, 16));
    EXPECT_EQ(m.key(), "snapshots/" + m.version + ".duckdb");
    auto back = snapshot::parse_manifest(snapshot::to_json(m));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back.value().version, m.version);
    EXPECT_EQ(back.value().as_of, m.as_of);
    EXPECT_EQ(back.value().sha256, m.sha256);
    EXPECT_EQ(back.value().size, m.size);
    EXPECT_EQ(back.value().rollups, m.rollups);
}

TEST(manifest, refuses_a_version_that_does_not_name_its_digest) {
    auto m = sample_manifest();
    auto json = snapshot::to_json(m);
    auto other = json;
    other.replace(other.find(m.sha256.substr(0, 16)), 16, std::string(16, '0'));  // only the version changed
    EXPECT_FALSE(snapshot::parse_manifest(other));
    EXPECT_FALSE(snapshot::parse_manifest(R"({"format":2})"));
    EXPECT_FALSE(snapshot::parse_manifest("[]"));
    EXPECT_FALSE(snapshot::parse_manifest(""));
}

TEST(manifest, newer_orders_by_as_of_then_version) {
    auto a = sample_manifest(), b = sample_manifest();
    b.as_of += std::chrono::milliseconds(1);
    EXPECT_TRUE(snapshot::newer(b, a));
    EXPECT_FALSE(snapshot::newer(a, b));
    b.as_of = a.as_of;
    b.version = a.version + "z";
    EXPECT_TRUE(snapshot::newer(b, a));
    EXPECT_FALSE(snapshot::newer(a, a));
}

TEST(manifest, random_and_mutated_input_never_crashes) {
    std::mt19937 rng(7);
    const auto good = snapshot::to_json(sample_manifest());
    for (int i = 0; i < 20000; ++i) {
        auto text = i % 2 ? mutate(rng, good) : random_bytes(rng, 200);
        auto r = snapshot::parse_manifest(text);
        if (r) {
            EXPECT_EQ(r.value().sha256.size(), 64u);
            EXPECT_EQ(r.value().version, snapshot::version_name(r.value().as_of, r.value().sha256));
        }
    }
}

TEST(credentials_parsing, container_json) {
    auto c = snapshot::parse_container_credentials(
        R"({"AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"s3cr3t/+=","Token":"tok","Expiration":"2026-12-02T03:00:00Z"})");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c.value().access_key_id, "ASIAEXAMPLE");
    EXPECT_EQ(c.value().secret_access_key, "s3cr3t/+=");
    EXPECT_EQ(c.value().session_token, "tok");
    EXPECT_TRUE(c.value().expires());
    EXPECT_EQ(c.value().expiration, std::chrono::sys_days(std::chrono::year(2026) / 12 / 2) + std::chrono::hours(3));
}

TEST(credentials_parsing, container_errors_do_not_quote_the_body) {
    auto c = snapshot::parse_container_credentials(R"({"AccessKeyId":"","SecretAccessKey":"TOPSECRET"})");
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().message.find("TOPSECRET"), std::string::npos);
    auto d = snapshot::parse_container_credentials(
        R"({"AccessKeyId":"A","SecretAccessKey":"TOPSECRET","Expiration":"tomorrow TOPSECRET"})");
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().message.find("TOPSECRET"), std::string::npos);
}

const char* sts_ok = R"(<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <SessionToken>FwoGZX&amp;token</SessionToken>
      <SecretAccessKey>wJalr/secret</SecretAccessKey>
      <Expiration>2026-12-02T02:00:00.000Z</Expiration>
      <AccessKeyId>ASIASTS</AccessKeyId>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>)";

TEST(credentials_parsing, sts_xml) {
    auto c = snapshot::parse_sts_credentials(sts_ok);
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c.value().access_key_id, "ASIASTS");
    EXPECT_EQ(c.value().secret_access_key, "wJalr/secret");
    EXPECT_EQ(c.value().session_token, "FwoGZX&token");
    EXPECT_EQ(c.value().expiration, std::chrono::sys_days(std::chrono::year(2026) / 12 / 2) + std::chrono::hours(2));
    auto e = snapshot::parse_sts_credentials(
        "<ErrorResponse><Error><Code>ExpiredTokenException</Code><Message>Token "
        "expired</Message></Error></ErrorResponse>");
    ASSERT_FALSE(e);
    EXPECT_NE(e.error().message.find("ExpiredTokenException"), std::string::npos);
}

TEST(credentials_parsing, iso8601) {
    EXPECT_TRUE(snapshot::parse_iso8601("2026-12-02T01:00:00Z"));
    EXPECT_TRUE(snapshot::parse_iso8601("2026-12-02T01:00:00.5+00:00"));
    for (const char* bad : {"", "2026-12-02", "2026-13-02T01:00:00Z", "2026-02-30T01:00:00Z", "2026-12-02T25:00:00Z",
                            "2026-12-02T01:00:00+02:00", "2026-12-02T01:00:00.Z", "x026-12-02T01:00:00Z"})
        EXPECT_FALSE(snapshot::parse_iso8601(bad)) << bad;
}

TEST(credentials_parsing, random_and_mutated_input_never_crashes) {
    std::mt19937 rng(11);
    const std::string json =
        R"({"AccessKeyId":"A","SecretAccessKey":"S","Token":"T","Expiration":"2026-12-02T03:00:00Z"})";
    for (int i = 0; i < 20000; ++i) {
        (void)snapshot::parse_container_credentials(i % 2 ? mutate(rng, json) : random_bytes(rng, 120));
        (void)snapshot::parse_sts_credentials(i % 2 ? mutate(rng, sts_ok) : random_bytes(rng, 200, "<>/&;a"));
        (void)snapshot::parse_iso8601(i % 2 ? mutate(rng, "2026-12-02T01:00:00.123Z") : random_bytes(rng, 30));
    }
}

}  // namespace
