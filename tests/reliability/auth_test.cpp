// B6 of docs/reliability.md: the auth rejection table over HTTP, claim
// binding, API key scopes, JWKS outage and kid floods, and per-caller rate limits.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <thread>

#include "auth/api_keys.hpp"
#include "reliability/guarded_server.hpp"
#include "reliability/jwks_server.hpp"
#include "support/jwt_tokens.hpp"
#include "support/test_server.hpp"

namespace {

using namespace std::chrono_literals;
using frost::testing::http_get;
using frost::testing::signing_key;
using frost::testing::unix_now;

std::string hex_sha256(const std::string& key) {
    return frost::auth::sha256_hex(key);
}

std::string auth_yaml(const std::string& jwks_line) {
    return "auth:\n  api_keys:\n"
           "    - {name: mobile, sha256: " +
           hex_sha256("key-mobile") +
           "}\n"
           "    - {name: partner, sha256: " +
           hex_sha256("key-partner") +
           ", endpoints: [/keyed]}\n"
           "    - {name: noisy, sha256: " +
           hex_sha256("key-noisy") +
           "}\n"
           "  jwt:\n" +
           jwks_line +
           "    issuer: https://issuer.example\n    audience: frost-api\n    fetch_timeout: 500ms\n    "
           "refetch_interval: 60s\n";
}

std::string claims(long long exp_offset, const std::string& sub = "user-7", const std::string& extra = {}) {
    return R"({"sub":")" + sub + R"(","iss":"https://issuer.example","aud":"frost-api","exp":)" +
           std::to_string(unix_now() + exp_offset) + extra + "}";
}

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

struct auth_http : ::testing::Test {
    static inline signing_key rsa = signing_key::rsa("rsa-1");
    static inline signing_key ec = signing_key::p256("ec-1");
    static inline std::unique_ptr<frost::testing::jwks_server> jwks;
    static inline std::unique_ptr<frost::testing::guarded_server> server;
    static void SetUpTestSuite() {
        jwks = std::make_unique<frost::testing::jwks_server>(frost::testing::jwks({&rsa, &ec}));
        server = std::make_unique<frost::testing::guarded_server>(
            frost::testing::small_config_yaml("", auth_yaml("    jwks_url: " + jwks->url() + "\n")));
    }
    static void TearDownTestSuite() {
        server.reset();
        jwks.reset();
    }
    static frost::testing::http_answer get(const std::string& target, const std::string& bearer) {
        return http_get(server->port(), target, {{"Authorization", "Bearer " + bearer}});
    }
};

TEST_F(auth_http, rejection_table_401_with_challenge_fast) {
    const auto base = claims(300);
    struct row {
        const char* what;
        std::string token;
    };
    const std::vector<row> table = {
        {"alg none", frost::testing::none_token(base)},
        {"HS256 keyed with the RSA public key", frost::testing::hs256_token("rsa-1", base, rsa.public_pem())},
        {"unknown kid", signing_key{"kid-404", "RS256", rsa.key}.token(base)},
        // Exact skew boundaries (29 s in, 31 s out) are in tests/unit/auth; over HTTP the real
        // clock moves while the table is built, so these stay well past the 30 s leeway.
        {"expired by 45 s", rsa.token(claims(-45))},
        {"nbf 45 s ahead", rsa.token(claims(300, "u", ",\"nbf\":" + std::to_string(unix_now() + 45)))},
        {"missing exp", rsa.token(R"({"sub":"u","iss":"https://issuer.example","aud":"frost-api"})")},
        {"wrong aud", rsa.token(R"({"sub":"u","iss":"https://issuer.example","aud":"nope","exp":)" +
                                std::to_string(unix_now() + 60) + "}")},
        {"wrong iss", rsa.token(R"({"sub":"u","iss":"https://evil.example","aud":"frost-api","exp":)" +
                                std::to_string(unix_now() + 60) + "}")},
        {"malformed base64", "abc$.def.ghi"},
        {"malformed JSON", frost::testing::b64url("{") + "." + frost::testing::b64url("{") + ".AAAA"},
        {"signature of another key", signing_key::rsa("rsa-1").token(base)},
    };
    std::vector<double> times;
    for (const auto& r : table) {
        const auto t0 = std::chrono::steady_clock::now();
        auto a = get("/mine", r.token);
        times.push_back(ms_since(t0));
        EXPECT_EQ(a.status, 401) << r.what;
        EXPECT_EQ(a.header("www-authenticate").rfind("Bearer realm=\"frost\"", 0), 0u) << r.what;
        EXPECT_EQ(a.header("content-type"), "application/json") << r.what;
        EXPECT_NE(a.body.find("\"code\":\"FR301\""), std::string::npos) << r.what;
        EXPECT_EQ(a.body.find(r.token.substr(0, 20)), std::string::npos) << r.what << ": token text echoed";
    }
    const double worst = *std::max_element(times.begin(), times.end());
    EXPECT_LT(worst, 50.0) << "rejections must not wait on anything";
    std::sort(times.begin(), times.end());
    RecordProperty("b6_reject_worst_ms", std::to_string(worst));
    RecordProperty("b6_reject_median_ms", std::to_string(times[times.size() / 2]));

    // No credentials at all.
    auto none = http_get(server->port(), "/mine");
    EXPECT_EQ(none.status, 401);
    EXPECT_EQ(none.header("www-authenticate"), "Bearer realm=\"frost\"");
    // A 9 KiB token never reaches auth: the head limit answers first.
    EXPECT_EQ(get("/mine", std::string(9 * 1024, 'a')).status, 431);
}

TEST_F(auth_http, accepted_forms_and_claims_are_bound_not_chosen) {
    auto a = get("/mine", rsa.token(claims(-15)));  // expired, but inside the 30 s skew
    ASSERT_EQ(a.status, 200) << a.body;
    EXPECT_NE(a.body.find("user-7"), std::string::npos) << a.body;
    auto aud_list =
        get("/mine", ec.token(R"({"sub":"ec-user","iss":"https://issuer.example","aud":["x","frost-api"],"exp":)" +
                              std::to_string(unix_now() + 60) + "}"));
    ASSERT_EQ(aud_list.status, 200) << aud_list.body;
    EXPECT_NE(aud_list.body.find("ec-user"), std::string::npos);
    // The caller cannot pick another user's rows through the query string.
    auto spoof = get("/mine?user=admin", rsa.token(claims(60, "user-7")));
    ASSERT_EQ(spoof.status, 200) << spoof.body;
    EXPECT_EQ(spoof.body.find("admin"), std::string::npos) << spoof.body;
    EXPECT_NE(spoof.body.find("user-7"), std::string::npos);
    // A token without the bound claim is forbidden, not anonymous.
    auto no_sub = get("/mine", rsa.token(R"({"iss":"https://issuer.example","aud":"frost-api","exp":)" +
                                         std::to_string(unix_now() + 60) + "}"));
    EXPECT_EQ(no_sub.status, 403);
}

TEST_F(auth_http, api_keys_by_header_and_bearer_with_scopes) {
    EXPECT_EQ(http_get(server->port(), "/keyed", {{"X-Api-Key", "key-mobile"}}).status, 200);
    EXPECT_EQ(get("/keyed", "key-mobile").status, 200);
    EXPECT_EQ(http_get(server->port(), "/keyed", {{"X-Api-Key", "key-partner"}}).status, 200);
    auto scoped = http_get(server->port(), "/either", {{"X-Api-Key", "key-partner"}});
    EXPECT_EQ(scoped.status, 403);
    EXPECT_NE(scoped.header("www-authenticate").find("insufficient_scope"), std::string::npos);
    auto wrong = http_get(server->port(), "/keyed", {{"X-Api-Key", "key-mobilE"}});
    EXPECT_EQ(wrong.status, 401);
    EXPECT_EQ(wrong.body.find("key-mobilE"), std::string::npos);
    EXPECT_EQ(get("/keyed", rsa.token(claims(60))).status, 401) << "a JWT is not an API key";
    EXPECT_EQ(get("/either", rsa.token(claims(60))).status, 200);
    EXPECT_EQ(http_get(server->port(), "/either", {{"X-Api-Key", "key-mobile"}}).status, 200);
    EXPECT_EQ(http_get(server->port(), "/ping").status, 200) << "public endpoints stay public";
    EXPECT_EQ(http_get(server->port(), "/keyed", {{"Authorization", "Basic a2V5LW1vYmlsZTo="}}).status, 401);
}

TEST_F(auth_http, answers_that_need_credentials_are_never_publicly_cacheable) {
    auto first = http_get(server->port(), "/keyed", {{"X-Api-Key", "key-mobile"}});
    auto again = http_get(server->port(), "/keyed", {{"X-Api-Key", "key-mobile"}});
    ASSERT_EQ(again.status, 200);
    EXPECT_EQ(again.header("cache-control").rfind("private", 0), 0u) << again.header("cache-control");
    EXPECT_EQ(first.header("cache-control").find("public"), std::string::npos);
    EXPECT_EQ(http_get(server->port(), "/keyed").status, 401) << "a cached answer is no way around the key";
    // Asking for a public policy on such an endpoint is a config error, not a silent leak.
    auto bad = frost::config::load_text(frost::testing::small_config_yaml("", auth_yaml("    jwks_file: x.json\n")) +
                                            "  - path: /open\n    source: mem\n    auth: api_key\n"
                                            "    cache: {ttl: 60s, shared: true}\n    sql: select 5\n",
                                        "bad.yaml", "/");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("cache.shared"), std::string::npos) << bad.error().message;
}

TEST_F(auth_http, rate_limit_isolates_callers) {
    int limited = 0, ok = 0;
    std::string retry_after;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 30; ++i) {
        auto a = http_get(server->port(), "/limited", {{"X-Api-Key", "key-noisy"}});
        if (a.status == 429) {
            ++limited;
            retry_after = a.header("retry-after");
        } else if (a.status == 200) {
            ++ok;
        }
    }
    // Burst 5, plus what refills at 5/s while the loop ran (one more for rounding).
    const int allowed = 5 + static_cast<int>(5 * ms_since(t0) / 1000.0) + 1;
    EXPECT_GE(ok, 5);
    EXPECT_LE(ok, allowed);
    EXPECT_EQ(ok + limited, 30);
    EXPECT_FALSE(retry_after.empty());
    EXPECT_GE(std::stoi(retry_after), 1);
    // Another key is unaffected while the noisy one is throttled.
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(http_get(server->port(), "/limited", {{"X-Api-Key", "key-mobile"}}).status, 200) << i;
    RecordProperty("b6_rate_limited", std::to_string(limited));
}

TEST(jwks_outage, cached_keys_survive_outage_kid_flood_costs_one_fetch_hang_is_bounded) {
    auto rsa = signing_key::rsa("rsa-1");
    auto rotated = signing_key::p256("rotated");
    frost::testing::jwks_server jwks(frost::testing::jwks({&rsa}), "max-age=1");
    frost::testing::guarded_server server(
        frost::testing::small_config_yaml("", auth_yaml("    jwks_url: " + jwks.url() + "\n")));
    auto bearer = [](const std::string& t) {
        return std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer " + t}};
    };
    ASSERT_EQ(http_get(server.port(), "/mine", bearer(rsa.token(claims(120)))).status, 200);
    EXPECT_EQ(jwks.fetches(), 1);

    // Outage: the endpoint refuses connections. Held keys keep working.
    jwks.go_down();
    std::this_thread::sleep_for(1500ms);  // past max-age: refreshes now fail
    for (int i = 0; i < 20; ++i)
        EXPECT_EQ(http_get(server.port(), "/mine", bearer(rsa.token(claims(120)))).status, 200) << i;

    // A flood of unknown kids costs at most one fetch per minute (refetch_interval 60 s).
    jwks.set_document(frost::testing::jwks({&rsa, &rotated}));
    const int before = jwks.fetches();
    for (int i = 0; i < 300; ++i) {
        auto t = signing_key{"random-" + std::to_string(i), "RS256", rsa.key}.token(claims(120));
        EXPECT_EQ(http_get(server.port(), "/mine", bearer(t)).status, 401);
    }
    EXPECT_LE(jwks.fetches() - before, 1) << "kid flood must not hammer the JWKS endpoint";
}

TEST(jwks_outage, hanging_endpoint_is_cut_at_fetch_timeout_and_requests_never_wait) {
    auto rsa = signing_key::rsa("rsa-1");
    frost::testing::jwks_server jwks(frost::testing::jwks({&rsa}), "max-age=1");
    jwks.set_mode(frost::testing::jwks_server::mode::hang);
    const auto t0 = std::chrono::steady_clock::now();
    frost::testing::guarded_server server(
        frost::testing::small_config_yaml("", auth_yaml("    jwks_url: " + jwks.url() + "\n")));
    const double startup_ms = ms_since(t0);
    EXPECT_LT(startup_ms, 1500.0) << "first fetch bounded by fetch_timeout (500 ms)";
    // No keys yet: fail closed, fast.
    const auto t1 = std::chrono::steady_clock::now();
    auto a = http_get(server.port(), "/mine", {{"Authorization", "Bearer " + rsa.token(claims(60))}});
    EXPECT_EQ(a.status, 503);
    EXPECT_LT(ms_since(t1), 50.0);
    auto ready = http_get(server.port(), "/readyz");
    EXPECT_EQ(ready.status, 503);
    EXPECT_NE(ready.body.find("jwt_keys"), std::string::npos);
    // Recovery: the refresher retries and the keys arrive.
    jwks.set_mode(frost::testing::jwks_server::mode::serve);
    bool served = false;
    for (int i = 0; i < 150 && !served; ++i) {
        std::this_thread::sleep_for(100ms);
        served = http_get(server.port(), "/mine", {{"Authorization", "Bearer " + rsa.token(claims(60))}}).status == 200;
    }
    EXPECT_TRUE(served) << "keys loaded after the endpoint recovered";
    RecordProperty("b6_jwks_hang_startup_ms", std::to_string(startup_ms));
}

TEST(observability, metrics_readyz_livez_and_server_timing) {
    frost::testing::guarded_server server(frost::testing::small_config_yaml("", ""));
    auto ping = http_get(server.port(), "/ping");
    ASSERT_EQ(ping.status, 200);
    EXPECT_NE(ping.header("server-timing").find("total;dur="), std::string::npos);
    EXPECT_NE(ping.header("server-timing").find("query;dur="), std::string::npos);
    EXPECT_EQ(http_get(server.port(), "/livez").status, 200);
    auto ready = http_get(server.port(), "/readyz");
    EXPECT_EQ(ready.status, 200) << ready.body;
    auto m = http_get(server.port(), "/metrics");
    EXPECT_EQ(m.status, 200);
    EXPECT_NE(m.body.find("frost_http_requests_total{route=\"/ping\",status=\"200\",cache=\"none\"} 1"),
              std::string::npos)
        << m.body;
    EXPECT_NE(m.body.find("frost_source_queries_total{source=\"mem\",outcome=\"ok\"}"), std::string::npos);
    EXPECT_NE(m.body.find("frost_worker_queue_depth 0"), std::string::npos);
    EXPECT_NE(m.body.find("frost_open_connections"), std::string::npos);
    // A request id the caller sends comes back.
    EXPECT_EQ(http_get(server.port(), "/ping", {{"X-Request-Id", "trace-123"}}).header("x-request-id"), "trace-123");
}

TEST(observability, admin_routes_on_their_own_port) {
    frost::testing::guarded_server server(frost::testing::small_config_yaml("  admin_port: 0\n", ""));
    const auto admin = server.rails().admin_port();
    ASSERT_NE(admin, 0);
    ASSERT_NE(admin, server.port());
    EXPECT_EQ(http_get(admin, "/metrics").status, 200);
    EXPECT_EQ(http_get(admin, "/readyz").status, 200);
    EXPECT_EQ(http_get(server.port(), "/metrics").status, 404) << "not on the public port";
    EXPECT_EQ(http_get(admin, "/ping").status, 404) << "no API on the admin port";
}

}  // namespace
