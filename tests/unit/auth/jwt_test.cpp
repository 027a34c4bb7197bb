#include <gtest/gtest.h>

#include "auth/jwt.hpp"
#include "support/jwt_tokens.hpp"

namespace {

using frost::auth::jwt_failure;
using frost::testing::signing_key;
using frost::testing::unix_now;

struct jwt_fixture : ::testing::Test {
    static inline signing_key rsa = signing_key::rsa("rsa-1");
    static inline signing_key ec = signing_key::p256("ec-1");
    static inline signing_key stranger = signing_key::rsa("rsa-1");  // same kid, other key
    frost::auth::key_set keys = frost::auth::parse_jwks(frost::testing::jwks({&rsa, &ec})).value();
    frost::config::jwt_config rules = [] {
        frost::config::jwt_config r;
        r.issuer = "https://issuer.example";
        r.audience = {"frost-api"};
        return r;
    }();
    // Every time in a token is relative to t0, and tokens are checked at exactly t0: the
    // skew boundaries (29 s in, 31 s out) are exact whatever the machine's speed.
    long long t0 = unix_now();
    double now = static_cast<double>(t0);
    long long at(long long offset) const { return t0 + offset; }

    std::string claims(long long exp_offset, const std::string& extra = {}) const {
        return R"({"sub":"user-7","iss":"https://issuer.example","aud":"frost-api","exp":)" +
               std::to_string(at(exp_offset)) + extra + "}";
    }
    jwt_failure check(const std::string& token) const {
        return frost::auth::verify_jwt(token, keys, rules, now).failure;
    }
};

TEST_F(jwt_fixture, accepts_valid_rs256_and_es256) {
    auto out = frost::auth::verify_jwt(rsa.token(claims(300)), keys, rules, now);
    ASSERT_EQ(out.failure, jwt_failure::none);
    EXPECT_EQ(out.claims.at("sub").as_string(), "user-7");
    EXPECT_EQ(check(ec.token(claims(300))), jwt_failure::none);
}

TEST_F(jwt_fixture, rejection_table) {
    const auto base = claims(300);
    const std::string pem = rsa.public_pem();
    struct row {
        const char* what;
        std::string token;
        jwt_failure expected;
    };
    const std::vector<row> table = {
        {"alg none", frost::testing::none_token(base), jwt_failure::bad_algorithm},
        {"HS256 keyed with the RSA public key", frost::testing::hs256_token("rsa-1", base, pem),
         jwt_failure::bad_algorithm},
        {"unknown kid", signing_key{"nobody", "RS256", rsa.key}.token(base), jwt_failure::unknown_key},
        {"other key, same kid", stranger.token(base), jwt_failure::bad_signature},
        {"RS256 header on the EC key's kid", rsa.sign(R"({"alg":"RS256","kid":"ec-1"})", base),
         jwt_failure::bad_algorithm},
        {"expired by 31 s", rsa.token(claims(-31)), jwt_failure::expired},
        {"nbf 31 s ahead", rsa.token(claims(300, ",\"nbf\":" + std::to_string(at(31)))), jwt_failure::not_yet_valid},
        {"iat 31 s ahead", rsa.token(claims(300, ",\"iat\":" + std::to_string(at(31)))), jwt_failure::issued_in_future},
        {"missing exp", rsa.token(R"({"sub":"u","iss":"https://issuer.example","aud":"frost-api"})"),
         jwt_failure::missing_exp},
        {"exp as text", rsa.token(R"({"iss":"https://issuer.example","aud":"frost-api","exp":"9999999999"})"),
         jwt_failure::malformed},
        {"wrong aud",
         rsa.token(R"({"iss":"https://issuer.example","aud":"other","exp":)" + std::to_string(at(60)) + "}"),
         jwt_failure::bad_audience},
        {"no aud", rsa.token(R"({"iss":"https://issuer.example","exp":)" + std::to_string(at(60)) + "}"),
         jwt_failure::bad_audience},
        {"wrong iss",
         rsa.token(R"({"iss":"https://evil.example","aud":"frost-api","exp":)" + std::to_string(at(60)) + "}"),
         jwt_failure::bad_issuer},
        {"two parts", "abc.def", jwt_failure::malformed},
        {"four parts", rsa.token(base) + ".x", jwt_failure::malformed},
        {"bad base64", "a$b.c.d", jwt_failure::malformed},
        {"header not JSON", frost::testing::b64url("nope") + "." + frost::testing::b64url(base) + ".AAAA",
         jwt_failure::malformed},
        {"9 KiB token", std::string(9 * 1024, 'a'), jwt_failure::malformed},
        {"crit header", rsa.sign(R"({"alg":"RS256","kid":"rsa-1","crit":["exp"]})", base), jwt_failure::bad_algorithm},
    };
    for (const auto& r : table) EXPECT_EQ(check(r.token), r.expected) << r.what;

    // Tampered payload: same signature over other claims.
    auto good = rsa.token(base);
    auto dot1 = good.find('.'), dot2 = good.rfind('.');
    auto tampered = good.substr(0, dot1 + 1) + frost::testing::b64url(claims(100000)) + good.substr(dot2);
    EXPECT_EQ(check(tampered), jwt_failure::bad_signature);
}

TEST_F(jwt_fixture, skew_and_audience_forms_accepted) {
    EXPECT_EQ(check(rsa.token(claims(-29))), jwt_failure::none) << "expired by 29 s is inside the 30 s leeway";
    EXPECT_EQ(check(rsa.token(claims(300, ",\"nbf\":" + std::to_string(at(29))))), jwt_failure::none);
    EXPECT_EQ(check(rsa.token(R"({"iss":"https://issuer.example","aud":["x","frost-api"],"exp":)" +
                              std::to_string(at(60)) + "}")),
              jwt_failure::none);
    // Cognito access tokens carry client_id instead of aud.
    EXPECT_EQ(check(rsa.token(R"({"iss":"https://issuer.example","client_id":"frost-api","token_use":"access","exp":)" +
                              std::to_string(at(60)) + "}")),
              jwt_failure::none);
}

TEST_F(jwt_fixture, allow_list_limits_algorithms) {
    rules.algorithms = {"ES256"};
    EXPECT_EQ(check(rsa.token(claims(300))), jwt_failure::bad_algorithm);
    EXPECT_EQ(check(ec.token(claims(300))), jwt_failure::none);
}

TEST_F(jwt_fixture, token_without_kid_tries_keys_of_its_algorithm) {
    EXPECT_EQ(check(ec.sign(R"({"alg":"ES256"})", claims(300))), jwt_failure::none);
    EXPECT_EQ(check(stranger.sign(R"({"alg":"RS256"})", claims(300))), jwt_failure::bad_signature);
}

TEST(jwks, skips_symmetric_weak_and_foreign_keys) {
    auto weak = signing_key::rsa("weak", 1024);
    auto ok = signing_key::p256("ok");
    const std::string doc = R"({"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"hmac"},)" + weak.jwk() +
                            R"(,{"kty":"EC","crv":"P-384","x":"AA","y":"AA","kid":"p384"},)" + ok.jwk() + "]}";
    auto set = frost::auth::parse_jwks(doc);
    ASSERT_TRUE(set.ok()) << set.error().message;
    ASSERT_EQ(set.value().keys.size(), 1u);
    EXPECT_EQ(set.value().keys[0].kid, "ok");

    EXPECT_FALSE(frost::auth::parse_jwks("not json").ok());
    EXPECT_FALSE(frost::auth::parse_jwks(R"({"keys":[{"kty":"oct","k":"c2VjcmV0"}]})").ok());
    // A point that is not on the curve.
    EXPECT_FALSE(frost::auth::parse_jwks(R"({"keys":[{"kty":"EC","crv":"P-256","x":")" +
                                         frost::testing::b64url(std::string(32, '\1')) + R"(","y":")" +
                                         frost::testing::b64url(std::string(32, '\2')) + R"("}]})")
                     .ok());
}

}  // namespace
