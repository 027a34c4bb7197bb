#include <gtest/gtest.h>

#include "config/config.hpp"

namespace frost::config {
namespace {

TEST(config, the_shipped_default_loads) {
    auto cfg = load_file(std::string(FROST_SOURCE_DIR) + "/config/frost.yaml");
    ASSERT_TRUE(cfg) << cfg.error().message;
    const auto& c = cfg.value();
    EXPECT_EQ(c.server.port, 5000);
    EXPECT_EQ(c.server.host, "127.0.0.1");
    std::vector<std::string> paths;
    for (const auto& e : c.endpoints) paths.push_back(e.path);
    for (const char* p : {"/", "/trips/monthly", "/trips/day_of_week", "/trips/temperature", "/sqlapi/trips/monthly",
                          "/sqlapi/trips/day_of_week", "/sqlapi/trips/temperature"})
        EXPECT_NE(std::find(paths.begin(), paths.end(), p), paths.end()) << p;
    ASSERT_NE(c.find_source("local"), nullptr);
    EXPECT_TRUE(c.find_source("local")->path.ends_with("data/citibike.duckdb"));
}

const char* minimal = R"(
sources:
  db: {type: duckdb, path: ":memory:"}
endpoints:
  - path: /x
    source: db
    sql: select 1
)";

TEST(config, minimal_config_gets_defaults) {
    auto cfg = load_text(minimal, "t.yaml", "/tmp");
    ASSERT_TRUE(cfg) << cfg.error().message;
    EXPECT_EQ(cfg.value().endpoints.at(0).format, row_format::arrays);
    EXPECT_TRUE(cfg.value().endpoints.at(0).strict);
    EXPECT_EQ(cfg.value().server.request_timeout, std::chrono::seconds(29));
}

struct bad_case {
    const char* yaml;
    const char* expect;  // a fragment the message must hold
};

TEST(config, bad_configs_name_file_line_and_key) {
    const bad_case cases[] = {
        {"endpoints: [", "t.yaml:1:"},
        {"- a\n- b\n", "expected a mapping"},
        {"sources: {}\n", "endpoints"},
        {"sources:\n  db: {type: duckdb, path: x}\nendpoints:\n  - path: /x\n    source: nope\n    sql: select 1\n",
         "t.yaml:5:"},
        {"sources:\n  db: {type: duckdb, path: x}\nendpoints:\n  - path: x\n    source: db\n    sql: select 1\n",
         "path"},
        {"sources:\n  db: {type: duckdb, path: x}\nendpoints:\n  - path: /x\n    source: db\n    sql: select 1\n    "
         "limit: 3\n",
         "unknown key \"limit\""},
        {"sources:\n  db: {type: oracle}\nendpoints:\n  - path: /x\n    static: 1\n", "expected duckdb or snowflake"},
        {"server: {port: 70000}\nendpoints:\n  - path: /x\n    static: 1\n", "server.port"},
        {"server: {request_timeout: soon}\nendpoints:\n  - path: /x\n    static: 1\n", "duration"},
        {"sources:\n  db: {type: duckdb, path: x}\nendpoints:\n  - path: /x\n    source: db\n    sql: select 1\n"
         "  - path: /x\n    static: 1\n",
         "declared twice"},
        {"sources:\n  db: {type: duckdb, path: x}\nendpoints:\n  - path: /x\n    source: db\n    sql: {snowflake: "
         "select 1}\n",
         "no SQL for the duckdb dialect"},
        {"sources:\n  db: {type: duckdb, path: x}\nendpoints:\n  - path: /x\n    source: db\n    sql: select 1\n"
         "    params:\n      - {name: a, type: money}\n",
         "expected one of string"},
        {"sources:\n  db: {type: duckdb, path: x}\nendpoints:\n  - path: /x\n    source: db\n    sql: select 1\n"
         "    params:\n      - {name: a}\n      - {name: b, aliases: [a]}\n",
         "used twice"},
        {"sources:\n  db: {type: duckdb, path: x}\nendpoints:\n  - path: /x\n    source: db\n    sql: select 1\n"
         "    date_range: {random: {from: 2020-01-01, to: 2019-01-01}}\n",
         "to is before from"},
        {"sources:\n  db: {type: duckdb, path: x}\nendpoints:\n  - path: /x\n    source: db\n    sql: select 1\n"
         "    params:\n      - {name: \"a;b\"}\n",
         "letters, digits"},
    };
    for (const auto& c : cases) {
        auto cfg = load_text(c.yaml, "t.yaml", "/tmp");
        ASSERT_FALSE(cfg) << c.yaml;
        EXPECT_EQ(cfg.error().code, model::error_code::config_error);
        EXPECT_NE(cfg.error().message.find(c.expect), std::string::npos)
            << "message: " << cfg.error().message << "\nexpected to contain: " << c.expect;
        EXPECT_EQ(cfg.error().message.rfind("t.yaml", 0), 0u) << cfg.error().message;
    }
}

TEST(config, missing_file_is_a_clear_error) {
    auto cfg = load_file("/nonexistent/frost.yaml");
    ASSERT_FALSE(cfg);
    EXPECT_NE(cfg.error().message.find("/nonexistent/frost.yaml"), std::string::npos);
}

TEST(config, relative_database_paths_resolve_against_the_config_folder) {
    auto cfg =
        load_text("sources:\n  db: {type: duckdb, path: ../data/x.duckdb}\nendpoints:\n  - path: /x\n    static: 1\n",
                  "c.yaml", "/srv/frost/config");
    ASSERT_TRUE(cfg);
    EXPECT_EQ(cfg.value().sources.at(0).path, "/srv/frost/data/x.duckdb");
}

TEST(config, static_bodies_become_json) {
    auto cfg =
        load_text("endpoints:\n  - path: /\n    static: {result: Nothing to see here, time_ms: 0}\n", "c.yaml", "/");
    ASSERT_TRUE(cfg) << cfg.error().message;
    EXPECT_EQ(*cfg.value().endpoints.at(0).static_body, R"({"result":"Nothing to see here","time_ms":0})");
}

TEST(config, environment_overrides_host_and_port) {
    auto cfg = load_text(minimal, "t.yaml", "/tmp");
    ASSERT_TRUE(cfg);
    setenv("FROST_PORT", "8123", 1);
    setenv("FROST_HOST", "0.0.0.0", 1);
    ASSERT_TRUE(apply_environment(cfg.value()));
    EXPECT_EQ(cfg.value().server.port, 8123);
    EXPECT_EQ(cfg.value().server.host, "0.0.0.0");
    setenv("FROST_PORT", "80a", 1);
    EXPECT_FALSE(apply_environment(cfg.value()));
    unsetenv("FROST_PORT");
    unsetenv("FROST_HOST");
}

TEST(config, port_variable_of_container_platforms_is_honoured_below_frost_port) {
    auto cfg = load_text(minimal, "t.yaml", "/tmp");
    ASSERT_TRUE(cfg);
    const auto from_file = cfg.value().server.port;
    setenv("PORT", "8080", 1);
    ASSERT_TRUE(apply_environment(cfg.value()));
    EXPECT_EQ(cfg.value().server.port, 8080);
    setenv("FROST_PORT", "9090", 1);
    ASSERT_TRUE(apply_environment(cfg.value()));
    EXPECT_EQ(cfg.value().server.port, 9090) << "FROST_PORT must win over PORT";
    unsetenv("FROST_PORT");
    setenv("PORT", "http", 1);
    auto bad = apply_environment(cfg.value());
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("PORT=http"), std::string::npos) << bad.error().message;
    unsetenv("PORT");
    auto untouched = load_text(minimal, "t.yaml", "/tmp");
    ASSERT_TRUE(untouched && apply_environment(untouched.value()));
    EXPECT_EQ(untouched.value().server.port, from_file);
}

}  // namespace
}  // namespace frost::config
