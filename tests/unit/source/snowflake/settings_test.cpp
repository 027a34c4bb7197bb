#include <gtest/gtest.h>

#include <map>

#include "config/config.hpp"
#include "emulators/snowflake/test_keys.hpp"
#include "source/snowflake/settings.hpp"
#include "source/snowflake/snowflake_source.hpp"

namespace sf = frost::source::snowflake;
using frost::testing::snowflake_keys::keys;

namespace {

sf::env_lookup fake_env(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end() || it->second.empty()) return std::nullopt;
        return it->second;
    };
}

// The keys of a config file's `sources.warehouse`, parsed and resolved as config load does,
// then the key or token file read as the source's open does.
frost::model::result<sf::snowflake_settings> read_settings(const std::map<std::string, std::string>& file,
                                                           const sf::env_lookup& env) {
    auto c = frost::config::snowflake_from_keys("warehouse", file, env);
    if (!c) return std::move(c).error();
    return sf::load_secrets("warehouse", std::move(c).value());
}

frost::model::result<std::unique_ptr<sf::snowflake_source>> open_source(const sf::env_lookup& env) {
    auto c = frost::config::snowflake_from_keys("warehouse", {}, env);
    if (!c) return std::move(c).error();
    return sf::snowflake_source::open("warehouse", std::move(c).value());
}

// The seed's environment, exactly the variables its serverless template sets.
std::map<std::string, std::string> seed_env() {
    return {{"SNOWFLAKE_ACCOUNT", "myorg-myaccount"},
            {"SNOWFLAKE_USER", "data_apps_demo"},
            {"SNOWFLAKE_PRIVATE_KEY", keys().private_pkcs8},
            {"SNOWFLAKE_DATABASE", "DATA_APPS_DEMO"},
            {"SNOWFLAKE_SCHEMA", "DEMO"},
            {"SNOWFLAKE_WAREHOUSE", "DATA_APPS_DEMO"}};
}

}  // namespace

TEST(SnowflakeAccount, JwtAccountFollowsTheConnectors) {
    // The account in JWT claims: cut at the first '.', or at '-' for .global names; upper case.
    EXPECT_EQ(sf::jwt_account("myorg-myaccount"), "MYORG-MYACCOUNT");
    EXPECT_EQ(sf::jwt_account("xy12345.us-east-2.aws"), "XY12345");
    EXPECT_EQ(sf::jwt_account("myorg-myaccount.privatelink"), "MYORG-MYACCOUNT");
    EXPECT_EQ(sf::jwt_account("myorg-my_account"), "MYORG-MY_ACCOUNT");
    EXPECT_EQ(sf::jwt_account("xy12345-replica.global"), "XY12345");
    EXPECT_EQ(sf::jwt_account("XY12345"), "XY12345");
}

TEST(SnowflakeAccount, DefaultHost) {
    EXPECT_EQ(sf::default_base_url("MyOrg-MyAccount"), "https://myorg-myaccount.snowflakecomputing.com");
    EXPECT_EQ(sf::default_base_url("xy12345.us-east-2.aws"), "https://xy12345.us-east-2.aws.snowflakecomputing.com");
}

TEST(SnowflakeSettings, SeedEnvironmentWorksUnchanged) {
    auto s = read_settings({}, fake_env(seed_env()));
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s.value().account, "myorg-myaccount");
    EXPECT_EQ(s.value().user, "data_apps_demo");
    EXPECT_EQ(s.value().database, "DATA_APPS_DEMO");
    EXPECT_EQ(s.value().schema, "DEMO");
    EXPECT_EQ(s.value().warehouse, "DATA_APPS_DEMO");
    EXPECT_EQ(s.value().role, "");
    EXPECT_EQ(s.value().base_url, "https://myorg-myaccount.snowflakecomputing.com");
    EXPECT_EQ(s.value().auth, sf::auth_method::key_pair);
    EXPECT_EQ(s.value().private_key_pem, keys().private_pkcs8);
    EXPECT_LE(s.value().jwt_lifetime, std::chrono::hours(1));
}

TEST(SnowflakeSettings, EnvironmentOverridesTheFileAndFillsWhatItLacks) {
    auto env = seed_env();
    env["SNOWFLAKE_ROLE"] = "DATA_APPS_DEMO";
    env["SNOWFLAKE_HOST"] = "http://127.0.0.1:8085";
    auto s = read_settings({{"database", "OTHER_DB"}, {"role", "FILE_ROLE"}, {"schema", "FILE_SCHEMA"}}, fake_env(env));
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s.value().database, "DATA_APPS_DEMO");
    EXPECT_EQ(s.value().role, "DATA_APPS_DEMO");
    EXPECT_EQ(s.value().base_url, "http://127.0.0.1:8085");

    env.erase("SNOWFLAKE_SCHEMA");
    auto t = read_settings({{"schema", "FILE_SCHEMA"}}, fake_env(env));
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_EQ(t.value().schema, "FILE_SCHEMA");
}

TEST(SnowflakeSettings, EnvPrefixSeparatesTwoSources) {
    std::map<std::string, std::string> env;
    for (auto& [k, v] : seed_env()) env["SF2_" + k.substr(10)] = v;
    auto s = read_settings({{"env_prefix", "SF2_"}}, fake_env(env));
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s.value().account, "myorg-myaccount");
}

TEST(SnowflakeSettings, HostForms) {
    auto with_host = [](const std::string& host) {
        auto env = seed_env();
        env["SNOWFLAKE_HOST"] = host;
        return read_settings({}, fake_env(env));
    };
    auto a = with_host("myorg-myaccount.privatelink.snowflakecomputing.com");
    ASSERT_TRUE(a);
    EXPECT_EQ(a.value().base_url, "https://myorg-myaccount.privatelink.snowflakecomputing.com");
    auto b = with_host("https://myorg-myaccount.snowflakecomputing.com/");
    ASSERT_TRUE(b);
    EXPECT_EQ(b.value().base_url, "https://myorg-myaccount.snowflakecomputing.com");
    auto c = with_host("http://localhost:9000");
    ASSERT_TRUE(c);
    EXPECT_EQ(c.value().base_url, "http://localhost:9000");
    // Clear-text HTTP would carry the token over the network: only loopback may use it.
    auto d = with_host("http://myorg-myaccount.snowflakecomputing.com");
    ASSERT_FALSE(d);
    EXPECT_NE(d.error().message.find("SNOWFLAKE_HOST"), std::string::npos);
    EXPECT_FALSE(with_host("ftp://example.com"));
    EXPECT_FALSE(with_host("https://host/path"));
}

TEST(SnowflakeSettings, MissingValuesAreNamed) {
    for (const auto* name : {"SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "SNOWFLAKE_DATABASE", "SNOWFLAKE_SCHEMA",
                             "SNOWFLAKE_WAREHOUSE", "SNOWFLAKE_PRIVATE_KEY"}) {
        auto env = seed_env();
        env.erase(name);
        auto s = read_settings({}, fake_env(env));
        ASSERT_FALSE(s) << name;
        EXPECT_EQ(s.error().code, frost::model::error_code::config_error);
        EXPECT_NE(s.error().message.find(name), std::string::npos) << s.error().message;
        EXPECT_NE(s.error().message.find("source warehouse"), std::string::npos) << s.error().message;
    }
}

TEST(SnowflakeSettings, BadValuesAreRefused) {
    auto bad = [](std::map<std::string, std::string> changes, std::map<std::string, std::string> file = {}) {
        auto env = seed_env();
        for (auto& [k, v] : changes) env[k] = v;
        return read_settings(file, fake_env(env));
    };
    EXPECT_FALSE(bad({{"SNOWFLAKE_ACCOUNT", "my org"}}));
    EXPECT_FALSE(bad({{"SNOWFLAKE_ACCOUNT", "myorg-myaccount.snowflakecomputing.com"}}));
    EXPECT_FALSE(bad({{"SNOWFLAKE_AUTHENTICATOR", "password"}}));
    EXPECT_FALSE(bad({{"SNOWFLAKE_AUTHENTICATOR", "oauth"}}));  // no token
    EXPECT_FALSE(bad({{"SNOWFLAKE_PRIVATE_KEY_PATH", "/nonexistent/key.p8"}}));
    EXPECT_FALSE(bad({}, {{"statement_timeout", "forever"}}));
    EXPECT_FALSE(bad({}, {{"max_attempts", "0"}}));
    EXPECT_FALSE(bad({}, {{"no_such_key", "1"}}));
    EXPECT_FALSE(bad({{"SNOWFLAKE_WAREHOUSE", "WH\n"}}));
}

TEST(SnowflakeSettings, TokenAuthenticators) {
    auto env = seed_env();
    env.erase("SNOWFLAKE_PRIVATE_KEY");
    env["SNOWFLAKE_AUTHENTICATOR"] = "oauth";
    env["SNOWFLAKE_TOKEN"] = "ver:1-hint:abc";
    auto s = read_settings({}, fake_env(env));
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s.value().auth, sf::auth_method::oauth);
    env["SNOWFLAKE_AUTHENTICATOR"] = "programmatic_access_token";
    auto t = read_settings({}, fake_env(env));
    ASSERT_TRUE(t);
    EXPECT_EQ(t.value().auth, sf::auth_method::pat);
}

TEST(SnowflakeSettings, LiteralBackslashNInAOneLineKeyIsANewline) {
    auto env = seed_env();
    std::string one_line;
    for (char c : keys().private_pkcs8) {
        if (c == '\n')
            one_line += "\\n";
        else
            one_line += c;
    }
    env["SNOWFLAKE_PRIVATE_KEY"] = one_line;
    auto s = read_settings({}, fake_env(env));
    ASSERT_TRUE(s);
    EXPECT_EQ(s.value().private_key_pem, keys().private_pkcs8);
}

// Start-up errors name what is wrong and never print a secret (STYLE: secrets never appear in
// logs, errors or test output).
TEST(SnowflakeSettings, ErrorsNeverShowSecrets) {
    const std::string secret_body = keys().private_pkcs8.substr(40, 60);
    auto expect_clean = [&](const frost::model::error& e) {
        const std::string all = e.message + e.details + e.hint;
        EXPECT_EQ(all.find(secret_body), std::string::npos);
        EXPECT_EQ(all.find(keys().passphrase), std::string::npos);
        EXPECT_EQ(all.find("MIIE"), std::string::npos);
    };
    auto env = seed_env();
    env["SNOWFLAKE_PRIVATE_KEY"] = keys().private_encrypted;
    env["SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"] = keys().passphrase + "x";
    auto src = open_source(fake_env(env));
    ASSERT_FALSE(src);
    EXPECT_NE(src.error().message.find("passphrase"), std::string::npos) << src.error().message;
    expect_clean(src.error());

    env["SNOWFLAKE_PRIVATE_KEY"] = keys().public_pem;
    src = open_source(fake_env(env));
    ASSERT_FALSE(src);
    expect_clean(src.error());

    env["SNOWFLAKE_PRIVATE_KEY"] = keys().private_pkcs8.substr(0, 300);  // damaged
    src = open_source(fake_env(env));
    ASSERT_FALSE(src);
    expect_clean(src.error());

    env = seed_env();
    env.erase("SNOWFLAKE_PRIVATE_KEY");
    env["SNOWFLAKE_AUTHENTICATOR"] = "oauth";
    env["SNOWFLAKE_TOKEN"] = "secret token";
    auto s = read_settings({}, fake_env(env));
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().message.find("secret token"), std::string::npos);
}
