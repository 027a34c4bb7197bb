#include <gtest/gtest.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <boost/json.hpp>

#include <set>
#include <thread>

#include "emulators/snowflake/test_keys.hpp"
#include "source/snowflake/credentials.hpp"

namespace sf = frost::source::snowflake;
using frost::testing::snowflake_keys::keys;

namespace {

// base64url decoding written here from RFC 4648 §5, independent of the code under test.
std::string b64url_decode(std::string_view in) {
    std::string out;
    unsigned buffer = 0;
    int bits = 0;
    for (char c : in) {
        int v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '-')
            v = 62;
        else if (c == '_')
            v = 63;
        else
            throw std::runtime_error("not base64url");
        buffer = (buffer << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> bits) & 0xFF);
        }
    }
    return out;
}

struct jwt_parts {
    boost::json::object header;
    boost::json::object claims;
    std::string signed_part;
    std::string signature;
};

jwt_parts split(const std::string& token) {
    const auto a = token.find('.');
    const auto b = token.find('.', a + 1);
    EXPECT_NE(b, std::string::npos);
    EXPECT_EQ(token.find('.', b + 1), std::string::npos);
    EXPECT_EQ(token.find('='), std::string::npos) << "base64url must not be padded";
    jwt_parts p;
    p.header = boost::json::parse(b64url_decode(token.substr(0, a))).as_object();
    p.claims = boost::json::parse(b64url_decode(token.substr(a + 1, b - a - 1))).as_object();
    p.signed_part = token.substr(0, b);
    p.signature = b64url_decode(token.substr(b + 1));
    return p;
}

bool verify_rs256(const std::string& public_pem, const std::string& data, const std::string& sig) {
    BIO* bio = BIO_new_mem_buf(public_pem.data(), static_cast<int>(public_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const bool ok = key && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
                    EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return ok;
}

sf::snowflake_settings settings_for(const std::string& pem, const std::string& passphrase = {}) {
    sf::snowflake_settings s;
    s.account = "myorg-myaccount.privatelink";
    s.user = "data_apps_demo";
    s.private_key_pem = pem;
    s.passphrase = passphrase;
    return s;
}

}  // namespace

TEST(SnowflakeKeyPair, FingerprintMatchesOpensslCommandLine) {
    for (const auto* pem : {&keys().private_pkcs8, &keys().private_pkcs1}) {
        auto k = sf::key_pair::load(*pem, "");
        ASSERT_TRUE(k) << k.error().message;
        EXPECT_EQ(k.value().fingerprint(), keys().fingerprint);
        EXPECT_EQ(k.value().fingerprint().size(), 7u + 44u);  // SHA256: + padded standard base64
    }
    auto enc = sf::key_pair::load(keys().private_encrypted, keys().passphrase);
    ASSERT_TRUE(enc) << enc.error().message;
    EXPECT_EQ(enc.value().fingerprint(), keys().fingerprint);
    EXPECT_EQ(enc.value().public_key_pem(), keys().public_pem);
}

TEST(SnowflakeKeyPair, RefusesWhatSnowflakeWouldRefuse) {
    auto fails_with = [](const std::string& pem, const std::string& pass, const std::string& words) {
        auto k = sf::key_pair::load(pem, pass);
        ASSERT_FALSE(k);
        EXPECT_EQ(k.error().code, frost::model::error_code::config_error);
        EXPECT_NE(k.error().message.find(words), std::string::npos) << k.error().message;
    };
    fails_with(keys().private_encrypted, "", "passphrase");
    fails_with(keys().private_encrypted, "wrong", "passphrase");
    fails_with(keys().small_private, "", "2048");
    fails_with(keys().ec_private, "", "RSA");
    fails_with(keys().public_pem, "", "public key");
    fails_with("not a key", "", "PEM");
    fails_with("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "", "not a valid");
}

TEST(SnowflakeJwt, ClaimsFieldByField) {
    const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'764'000'000));
    auto creds = sf::credentials::create(settings_for(keys().private_pkcs8), [&] { return now; });
    ASSERT_TRUE(creds) << creds.error().message;
    auto b = creds.value()->current();
    ASSERT_TRUE(b);
    EXPECT_EQ(b.value().type, "KEYPAIR_JWT");
    auto p = split(b.value().token);

    EXPECT_EQ(p.header.at("alg").as_string(), "RS256");
    EXPECT_EQ(p.header.at("typ").as_string(), "JWT");
    // Snowflake's JWT claims: account cut at the first '.', account and user upper case.
    EXPECT_EQ(p.claims.at("sub").as_string(), "MYORG-MYACCOUNT.DATA_APPS_DEMO");
    EXPECT_EQ(p.claims.at("iss").as_string(), "MYORG-MYACCOUNT.DATA_APPS_DEMO." + keys().fingerprint);
    EXPECT_EQ(p.claims.at("iat").as_int64(), 1'764'000'000);
    const auto exp = p.claims.at("exp").as_int64();
    EXPECT_GT(exp, 1'764'000'000);
    EXPECT_LE(exp, 1'764'000'000 + 3600);  // Snowflake honours at most one hour
    EXPECT_EQ(p.claims.size(), 4u);
    EXPECT_TRUE(verify_rs256(keys().public_pem, p.signed_part, p.signature));
    EXPECT_FALSE(verify_rs256(keys().other_public, p.signed_part, p.signature));
}

TEST(SnowflakeJwt, CachedThenRenewedBeforeExpiry) {
    auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'764'000'000));
    auto s = settings_for(keys().private_pkcs8);
    s.jwt_lifetime = std::chrono::seconds(3540);
    s.jwt_renew_before = std::chrono::seconds(300);
    auto creds = sf::credentials::create(s, [&] { return now; });
    ASSERT_TRUE(creds);
    const auto first = creds.value()->current().value().token;
    now += std::chrono::seconds(3540 - 301);
    EXPECT_EQ(creds.value()->current().value().token, first) << "renewed too early";
    now += std::chrono::seconds(2);
    const auto second = creds.value()->current().value().token;
    EXPECT_NE(second, first) << "not renewed within renew_before of expiry";
    const auto p = split(second);
    EXPECT_EQ(p.claims.at("iat").as_int64(), 1'764'000'000 + 3540 - 299);
}

TEST(SnowflakeJwt, RejectedTokenIsReplaced) {
    auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'764'000'000));
    auto creds = sf::credentials::create(settings_for(keys().private_pkcs8), [&] { return now; });
    ASSERT_TRUE(creds);
    const auto first = creds.value()->current().value().token;
    now += std::chrono::seconds(1);
    creds.value()->reject("some other token");  // a stale rejection does not discard the current one
    EXPECT_EQ(creds.value()->current().value().token, first);
    creds.value()->reject(first);
    const auto second = creds.value()->current().value().token;
    EXPECT_NE(second, first);
    EXPECT_EQ(split(second).claims.at("iat").as_int64(), 1'764'000'001);
}

TEST(SnowflakeJwt, ThreadSafeUnderConcurrentUse) {
    std::atomic<long long> clock_s{1'764'000'000};
    auto s = settings_for(keys().private_pkcs8);
    auto creds = sf::credentials::create(
        s, [&] { return std::chrono::system_clock::time_point(std::chrono::seconds(clock_s.load())); });
    ASSERT_TRUE(creds);
    std::vector<std::thread> threads;
    std::mutex m;
    std::set<std::string> seen;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 50; ++i) {
                auto b = creds.value()->current();
                ASSERT_TRUE(b);
                if (i % 10 == 0) clock_s += 700;  // crosses renewal points while others read
                std::lock_guard lock(m);
                seen.insert(b.value().token);
            }
        });
    }
    for (auto& t : threads) t.join();
    for (const auto& token : seen)
        EXPECT_TRUE(verify_rs256(keys().public_pem, split(token).signed_part, split(token).signature));
}

TEST(SnowflakeJwt, StaticTokensKeepTheirType) {
    sf::snowflake_settings s;
    s.auth = sf::auth_method::oauth;
    s.token = "oauth-token";
    auto c = sf::credentials::create(s);
    ASSERT_TRUE(c);
    EXPECT_EQ(c.value()->current().value().type, "OAUTH");
    EXPECT_EQ(c.value()->current().value().token, "oauth-token");
    s.auth = sf::auth_method::pat;
    auto p = sf::credentials::create(s);
    ASSERT_TRUE(p);
    EXPECT_EQ(p.value()->current().value().type, "PROGRAMMATIC_ACCESS_TOKEN");
}
