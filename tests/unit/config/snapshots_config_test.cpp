// `serving.snapshots` and its environment overrides: valid shapes load, every mistake names
// file:line and the key.
#include <gtest/gtest.h>

#include <map>

#include "config/config.hpp"

namespace frost::config {
namespace {

const std::string base = R"(sources:
  local: {type: duckdb, path: ":memory:"}
rollups:
  r: {source: local, refresh: 90s, sql: "select 1 as x"}
endpoints:
  - {path: /r, rollup: r, sql: "select * from r"}
serving:
  path: /tmp/serving.duckdb
)";

model::result<config> load_with(const std::string& snapshots) {
    return load_text(base + snapshots, "t.yaml", "/srv/frost");
}

TEST(snapshots_config, loads_every_key) {
    auto c = load_with("  snapshots: {url: s3://my-bucket/frost/prod/, role: both, poll: 30s, fallback_build: true}\n");
    ASSERT_TRUE(c) << c.error().message;
    const auto& s = *c.value().serving.snapshots;
    EXPECT_EQ(s.url, "s3://my-bucket/frost/prod/");
    EXPECT_EQ(s.role, snapshot_role::both);
    EXPECT_EQ(s.poll, std::chrono::seconds(30));
    EXPECT_TRUE(s.fallback_build);
    auto d = load_with("  snapshots: {url: s3://my-bucket/p}\n");
    ASSERT_TRUE(d);
    EXPECT_EQ(d.value().serving.snapshots->role, snapshot_role::reader);
    EXPECT_FALSE(d.value().serving.snapshots->fallback_build);
    EXPECT_FALSE(load_with("").value().serving.snapshots.has_value());
}

TEST(snapshots_config, mistakes_name_file_line_and_key) {
    const std::pair<const char*, const char*> cases[] = {
        // `snapshots:` is line 9 of the file (8 lines of `base` above it).
        {"  snapshots: {role: reader}\n", "t.yaml:9:14: serving.snapshots: url is required"},
        {"  snapshots: {url: https://bucket/x/}\n", "t.yaml:9:20: serving.snapshots.url: expected s3://"},
        {"  snapshots: {url: s3://Bad_Bucket/x/}\n", "t.yaml:9:20: serving.snapshots.url: the bucket name"},
        {"  snapshots: {url: s3://bucket/x/, role: writer}\n",
         "serving.snapshots.role: expected reader, builder or both"},
        {"  snapshots: {url: s3://bucket/x/, poll: soon}\n", "serving.snapshots.poll: expected a duration"},
        {"  snapshots: {url: s3://bucket/x/, poll: 10ms}\n", "serving.snapshots.poll: at least 1s"},
        {"  snapshots: {url: s3://bucket/x/, fallback_build: maybe}\n", "serving.snapshots.fallback_build"},
        {"  snapshots: {url: s3://bucket/x/, bucket: b}\n", "unknown key \"bucket\""},
    };
    for (const auto& [yaml, expected] : cases) {
        auto c = load_with(yaml);
        ASSERT_FALSE(c) << yaml;
        EXPECT_NE(c.error().message.find(expected), std::string::npos) << c.error().message;
    }
    auto no_path = load_text(
        base.substr(0, base.find("  path:")) + "  snapshots: {url: s3://bucket/x/, role: builder}\n", "t.yaml", "/srv");
    ASSERT_FALSE(no_path);
    EXPECT_NE(no_path.error().message.find("set serving.path"), std::string::npos) << no_path.error().message;
}

TEST(snapshots_config, environment_overrides) {
    auto c = load_with("");
    ASSERT_TRUE(c);
    std::map<std::string, std::string> vars{{"FROST_SNAPSHOTS_URL", "s3://deploy-bucket/frost/"},
                                            {"FROST_SNAPSHOTS_ROLE", "builder"}};
    auto lookup = [&](const std::string& n) -> std::optional<std::string> {
        auto it = vars.find(n);
        return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    ASSERT_TRUE(apply_environment(c.value(), lookup));
    EXPECT_EQ(c.value().serving.snapshots->url, "s3://deploy-bucket/frost/");
    EXPECT_EQ(c.value().serving.snapshots->role, snapshot_role::builder);
    vars["FROST_SNAPSHOTS_URL"] = "s3://x/";
    auto d = load_with("");
    EXPECT_FALSE(apply_environment(d.value(), lookup));
    vars.erase("FROST_SNAPSHOTS_URL");
    auto e = load_with("");
    auto refused = apply_environment(e.value(), lookup);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("FROST_SNAPSHOTS_ROLE"), std::string::npos);
}

}  // namespace
}  // namespace frost::config
