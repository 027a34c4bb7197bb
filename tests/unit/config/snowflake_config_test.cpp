// A `snowflake` source's keys are parsed once, at config load: a bad key or value fails there,
// naming file:line:col and the key path; the environment overrides are applied and the whole is
// checked by apply_environment, so `frost check` catches a missing key; no message shows a secret.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>

#include "config/config.hpp"

namespace {

using frost::config::apply_environment;
using frost::config::env_lookup;
using frost::config::load_text;
using frost::config::snowflake_auth;

env_lookup fake_env(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end() || it->second.empty()) return std::nullopt;
        return it->second;
    };
}

// Line 3 holds `warehouse:`; its keys follow from line 4.
std::string yaml(const std::string& keys) {
    return "sources:\n"
           "  # the warehouse\n"
           "  warehouse:\n"
           "    type: snowflake\n" +
           keys +
           "endpoints:\n"
           "  - path: /x\n"
           "    source: warehouse\n"
           "    sql: select 1\n";
}

const std::string complete =
    "    account: myorg-myaccount\n"
    "    user: frost\n"
    "    database: DB\n"
    "    schema: S\n"
    "    warehouse: W\n"
    "    private_key_path: /keys/frost.p8\n";

TEST(SnowflakeConfig, ParsedIntoATypedStructAtLoad) {
    auto cfg =
        load_text(yaml(complete + "    poll_max: 2s\n    max_attempts: 3\n    host: localhost:9000\n"), "sf.yaml", "/");
    ASSERT_TRUE(cfg) << cfg.error().message;
    const auto& sf = cfg.value().sources.at(0).snowflake;
    ASSERT_TRUE(sf);
    EXPECT_EQ(sf->account, "myorg-myaccount");
    EXPECT_EQ(sf->poll_max, std::chrono::seconds(2));
    EXPECT_EQ(sf->max_attempts, 3u);
    EXPECT_EQ(sf->base_url, "https://localhost:9000");
    EXPECT_FALSE(sf->resolved);  // the environment comes next

    ASSERT_TRUE(apply_environment(cfg.value(), fake_env({})));
    EXPECT_TRUE(cfg.value().sources.at(0).snowflake->resolved);
    EXPECT_EQ(cfg.value().sources.at(0).snowflake->private_key_path, "/keys/frost.p8");
}

TEST(SnowflakeConfig, ABadKeyOrValueFailsAtLoadNamingFileLineAndKeyPath) {
    struct bad_case {
        std::string keys;
        std::string where;  // file:line:col
        std::string what;
    };
    const bad_case cases[] = {
        {complete + "    pol_max: 2s\n", "sf.yaml:11:5: sources.warehouse", "unknown key \"pol_max\""},
        {complete + "    poll_max: forever\n", "sf.yaml:11:15: sources.warehouse.poll_max", "expected a duration"},
        {complete + "    max_attempts: 0\n", "sf.yaml:11:19: sources.warehouse.max_attempts", "whole number"},
        {"    account: myorg.snowflakecomputing.com\n", "sf.yaml:5:14: sources.warehouse.account", "host name"},
        {"    authenticator: password\n", "sf.yaml:5:20: sources.warehouse.authenticator", "expected snowflake_jwt"},
        {"    host: http://example.com\n", "sf.yaml:5:11: sources.warehouse.host", "clear text"},
        {"    warehouse: [a, b]\n", "sf.yaml:5:16: sources.warehouse.warehouse", "expected a text value"},
    };
    for (const auto& c : cases) {
        auto cfg = load_text(yaml(c.keys), "sf.yaml", "/");
        ASSERT_FALSE(cfg) << c.keys;
        EXPECT_EQ(cfg.error().code, frost::model::error_code::config_error);
        EXPECT_NE(cfg.error().message.find(c.where), std::string::npos) << cfg.error().message;
        EXPECT_NE(cfg.error().message.find(c.what), std::string::npos) << cfg.error().message;
    }
}

TEST(SnowflakeConfig, WhichKeyAndWhichMethodAreCheckedWhenTheEnvironmentIsApplied) {
    auto check = [](const std::string& keys, std::map<std::string, std::string> env = {}) {
        auto cfg = load_text(yaml(keys), "sf.yaml", "/");
        EXPECT_TRUE(cfg) << cfg.error().message;
        auto applied = apply_environment(cfg.value(), fake_env(std::move(env)));
        return applied ? std::string() : applied.error().message;
    };
    const std::string no_key = "    account: a\n    user: u\n    database: d\n    schema: s\n    warehouse: w\n";
    // The source's place in the file, the source and the variable that would fill it.
    auto m = check(no_key);
    EXPECT_NE(m.find("sf.yaml:4:5: source warehouse: missing the private key"), std::string::npos) << m;
    EXPECT_NE(m.find("SNOWFLAKE_PRIVATE_KEY_PATH"), std::string::npos) << m;
    m = check(complete, {{"SNOWFLAKE_PRIVATE_KEY", "-----BEGIN PRIVATE KEY-----\nTOPSECRET\n"}});
    EXPECT_NE(m.find("are set; keep one"), std::string::npos) << m;
    EXPECT_EQ(m.find("TOPSECRET"), std::string::npos) << m;
    m = check(complete + "    authenticator: oauth\n");
    EXPECT_NE(m.find("missing sources.warehouse.token (or SNOWFLAKE_TOKEN) for authenticator oauth"), std::string::npos)
        << m;
    m = check("    account: a\n", {});
    EXPECT_NE(m.find("missing sources.warehouse.user (or SNOWFLAKE_USER)"), std::string::npos) << m;
    EXPECT_EQ(check(complete + "    authenticator: oauth\n", {{"SNOWFLAKE_TOKEN", "tok"}}), "");
}

TEST(SnowflakeConfig, EnvironmentOverridesWinOverTheFile) {
    auto cfg = load_text(yaml(complete + "    role: FILE_ROLE\n    env_prefix: SF2_\n"), "sf.yaml", "/");
    ASSERT_TRUE(cfg) << cfg.error().message;
    ASSERT_TRUE(apply_environment(cfg.value(), fake_env({{"SF2_DATABASE", "ENV_DB"},
                                                         {"SF2_ROLE", "ENV_ROLE"},
                                                         {"SF2_AUTHENTICATOR", "programmatic_access_token"},
                                                         {"SF2_TOKEN_PATH", "/run/token"},
                                                         {"SF2_POLL_INITIAL", "5ms"},
                                                         {"SNOWFLAKE_USER", "not for this source"}})));
    const auto& sf = *cfg.value().sources.at(0).snowflake;
    EXPECT_EQ(sf.database, "ENV_DB");
    EXPECT_EQ(sf.role, "ENV_ROLE");
    EXPECT_EQ(sf.user, "frost");
    EXPECT_EQ(sf.schema, "S");
    EXPECT_EQ(sf.auth, snowflake_auth::pat);
    EXPECT_EQ(sf.token_path, "/run/token");
    EXPECT_EQ(sf.poll_initial, std::chrono::milliseconds(5));
    EXPECT_EQ(sf.base_url, "https://myorg-myaccount.snowflakecomputing.com");

    // A bad override is named by its variable, after the source's place in the file.
    auto again = load_text(yaml(complete), "sf.yaml", "/");
    ASSERT_TRUE(again);
    auto bad = apply_environment(again.value(), fake_env({{"SNOWFLAKE_RETRY_CAP", "soon"}}));
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("sf.yaml:4:5: source warehouse: SNOWFLAKE_RETRY_CAP: expected a duration"),
              std::string::npos)
        << bad.error().message;
}

TEST(SnowflakeConfig, NoMessageShowsASecret) {
    const std::string secret = "S3CRET-VALUE";
    const std::string cases[] = {
        complete + "    private_key_passphrase: " + secret + "\n    max_attempts: x\n",
        complete + "    token: \"" + secret + " \"\n",
        "    private_key: \"-----BEGIN PRIVATE KEY-----\\n" + secret + "\\n\"\n    token_path: " + secret + "\n" +
            "    private_key_path: /k\n",
    };
    for (const auto& keys : cases) {
        auto cfg = load_text(yaml(keys), "sf.yaml", "/");
        std::string all;
        if (!cfg) {
            all = cfg.error().message + cfg.error().details + cfg.error().hint;
        } else {
            auto applied = apply_environment(cfg.value(), fake_env({}));
            ASSERT_FALSE(applied) << keys;
            all = applied.error().message + applied.error().details + applied.error().hint;
        }
        EXPECT_FALSE(all.empty()) << keys;
        EXPECT_EQ(all.find(secret), std::string::npos) << all;
    }
    for (const auto* var : {"SNOWFLAKE_TOKEN", "SNOWFLAKE_ACCOUNT", "SNOWFLAKE_HOST", "SNOWFLAKE_WAREHOUSE"}) {
        auto cfg = load_text(yaml(complete + "    authenticator: oauth\n"), "sf.yaml", "/");
        ASSERT_TRUE(cfg);
        auto applied = apply_environment(cfg.value(), fake_env({{var, "bad " + secret + "\n"}}));
        ASSERT_FALSE(applied) << var;
        EXPECT_NE(applied.error().message.find(var), std::string::npos) << applied.error().message;
        EXPECT_EQ((applied.error().message + applied.error().hint).find(secret), std::string::npos)
            << applied.error().message;
    }
}

}  // namespace
