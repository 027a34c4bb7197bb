// Rollup snapshots through a real S3 emulator (s3rver) behind a front that checks SigV4
// signatures and honours conditional PUTs as S3 does (tests/emulators/s3/README.md):
// publish and pick up, propagation within one poll, corrupt and truncated snapshots rejected,
// racing builders, a wrong secret refused, S3 down served stale, and readers that never query
// the source.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "rollup/serving_store.hpp"
#include "snapshot/http_exchange.hpp"
#include "snapshot/sharing.hpp"
#include "support/s3_emulator.hpp"

namespace frost::snapshot {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* bucket = "frost-test";
constexpr const char* key_id = "AKIDFROSTTEST";
constexpr const char* secret = "frost-test-secret-key";

// A source whose rows the test sets (n rows with v = n), counting the queries it answers.
class scripted_source final : public frost::source::source {
public:
    std::string_view name() const override { return "scripted"; }
    std::string_view dialect() const override { return "duckdb"; }
    model::result<model::table> run(const frost::source::query&) override {
        calls.fetch_add(1);
        model::table t;
        t.columns = {{"k", model::column_type::integer}, {"v", model::column_type::integer}};
        const std::int64_t rows = n.load();
        for (std::int64_t i = 0; i < rows; ++i) t.rows.push_back({model::value(i), model::value(rows)});
        return t;
    }
    std::atomic<int> calls{0};
    std::atomic<std::int64_t> n{100};
};

struct emulators {
    fs::path dir;
    std::unique_ptr<frost::testing::s3_emulator> s3;
};
emulators* env = nullptr;

class SnapshotEnvironment : public ::testing::Environment {
public:
    void SetUp() override {
        env = new emulators;
        env->dir = fs::temp_directory_path() / ("frost-snapshot-test-" + std::to_string(::getpid()));
        fs::create_directories(env->dir);
        env->s3 = std::make_unique<frost::testing::s3_emulator>(env->dir / "s3", bucket, key_id, secret);
        env->s3->export_environment();
    }
    void TearDown() override {
        env->s3.reset();
        std::error_code ec;
        fs::remove_all(env->dir, ec);
        delete env;
    }
};
const auto* registered = ::testing::AddGlobalTestEnvironment(new SnapshotEnvironment);

std::string unique_prefix() {
    static std::atomic<int> n{0};
    return "run" + std::to_string(::getpid()) + "/t" + std::to_string(n.fetch_add(1)) + "/";
}

config::config make_config(const std::string& serving_path, const std::string& prefix, const std::string& role,
                           bool fallback = false) {
    const std::string text = R"(
sources:
  scripted: {type: duckdb, path: ":memory:"}
rollups:
  r: {source: scripted, refresh: 60m, sql: "select k, v from src"}
endpoints:
  - path: /r
    rollup: r
    sql: select count(*)::BIGINT as n, max(v) as hi from r
serving:
  path: )" + serving_path + R"(
  snapshots: {url: "s3://)" + bucket +
                             "/" + prefix + R"(", role: )" + role + R"(, poll: 1s, fallback_build: )" +
                             (fallback ? "true" : "false") + "}\n";
    auto cfg = config::load_text(text, "snapshot_test.yaml", "/");
    if (!cfg) throw std::runtime_error(cfg.error().message);
    return std::move(cfg).value();
}

// One Frost process's serving side: its source, store and snapshot agent.
struct instance {
    std::shared_ptr<scripted_source> source = std::make_shared<scripted_source>();
    std::shared_ptr<rollup::serving_store> store;
    std::unique_ptr<snapshot_agent> agent;

    instance(const std::string& name, const std::string& prefix, const std::string& role, bool fallback = false) {
        const auto path = (env->dir / (name + "-" + std::to_string(std::rand()) + ".duckdb")).string();
        auto cfg = make_config(path, prefix, role, fallback);
        rollup::store_options opts;
        opts.schedule = false;
        opts.refresh_on_start = false;
        opts.build_missing = role != "reader";
        auto opened = rollup::serving_store::open(cfg, {{"scripted", source}}, opts);
        if (!opened) throw std::runtime_error(opened.error().message);
        store = opened.value();
        auto a = snapshot_agent::create(cfg, store);
        if (!a) throw std::runtime_error(a.error().message);
        agent = std::move(a).value();
    }
    // The rollup's row count and `v` as this instance serves them.
    std::pair<std::int64_t, std::int64_t> read() const {
        frost::source::query q{"select count(*)::BIGINT, max(v) from r", {}, model::deadline::after(10s), "t", 10};
        auto t = store->run_versioned(q, "r");
        if (!t) return {-1, -1};
        const auto& row = t.value().table.rows.at(0);
        return {std::get<std::int64_t>(row[0]), std::get<std::int64_t>(row[1])};
    }
};

s3_client raw_client(const std::string& endpoint, const std::string& prefix, const std::string& use_secret) {
    snapshot::credential_sources s;
    s.env = [use_secret](std::string_view name) -> std::string {
        if (name == "AWS_ACCESS_KEY_ID") return key_id;
        if (name == "AWS_SECRET_ACCESS_KEY") return use_secret;
        return {};
    };
    s3_endpoint e;
    e.endpoint = endpoint;
    e.attempts = 1;
    return s3_client(config::parse_s3_url(std::string("s3://") + bucket + "/" + prefix).value(), e,
                     std::make_shared<credentials_chain>(s));
}

manifest current_manifest(const std::string& prefix) {
    auto c = raw_client(env->s3->endpoint(), prefix, secret);
    auto got = c.get(manifest_key);
    if (got.status != 200) throw std::runtime_error("latest.json: " + got.error);
    auto m = parse_manifest(got.body);
    if (!m) throw std::runtime_error(m.error().message);
    return m.value();
}

TEST(snapshots, builder_publishes_and_two_readers_serve_it_without_querying_the_source) {
    const auto prefix = unique_prefix();
    instance builder("builder", prefix, "builder");
    ASSERT_EQ(builder.source->calls.load(), 1);  // built at open
    auto published = builder.agent->publish_now();
    ASSERT_TRUE(published) << published.error().message;
    EXPECT_TRUE(published.value().current);

    const auto m = current_manifest(prefix);
    EXPECT_EQ(m.version, published.value().published.version);
    EXPECT_EQ(m.rollups.at("r"), builder.store->current("r").version);

    for (const char* name : {"reader1", "reader2"}) {
        instance reader(name, prefix, "reader");
        EXPECT_EQ(reader.read().first, -1);  // nothing to serve before the snapshot
        reader.agent->start(false);
        EXPECT_EQ(reader.read(), builder.read()) << name;
        EXPECT_EQ(reader.store->current("r").version, builder.store->current("r").version);
        EXPECT_EQ(reader.store->current("r").built_at,
                  std::chrono::time_point_cast<std::chrono::milliseconds>(builder.store->current("r").built_at));
        EXPECT_EQ(reader.source->calls.load(), 0) << name << " queried its source";
        EXPECT_EQ(reader.store->source_queries(), 0u);
    }
}

TEST(snapshots, a_new_version_reaches_a_polling_reader_within_one_poll_interval) {
    const auto prefix = unique_prefix();
    instance builder("builder", prefix, "builder");
    builder.agent->start(false);  // publishes what it built, then after every refresh
    instance reader("reader", prefix, "reader");
    reader.agent->start(true);  // polls every 1 s
    ASSERT_EQ(reader.read().first, 100);

    builder.source->n = 250;
    ASSERT_TRUE(builder.store->refresh("r"));  // the observer publishes
    const auto published_at = std::chrono::steady_clock::now();
    while (reader.read().first != 250 && std::chrono::steady_clock::now() - published_at < 10s)
        std::this_thread::sleep_for(50ms);
    const auto took = std::chrono::steady_clock::now() - published_at;
    EXPECT_EQ(reader.read(), (std::pair<std::int64_t, std::int64_t>{250, 250}));
    // One poll interval (1 s) plus the download and install.
    EXPECT_LT(took, reader.agent->poll_interval() + 1500ms)
        << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
    EXPECT_EQ(reader.source->calls.load(), 0);
}

// Replaces the published snapshot object's bytes behind the front (s3rver takes any write).
void overwrite_object(const std::string& prefix, const std::string& key, const std::string& bytes) {
    ASSERT_NO_THROW(env->s3->put_unchecked(prefix + key, bytes));
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

TEST(snapshots, corrupt_or_truncated_snapshots_are_rejected_and_the_old_one_keeps_serving) {
    const auto prefix = unique_prefix();
    instance builder("builder", prefix, "builder");
    ASSERT_TRUE(builder.agent->publish_now());
    instance reader("reader", prefix, "reader");
    reader.agent->start(false);
    ASSERT_EQ(reader.read().first, 100);
    const auto served_version = reader.store->current("r").version;

    for (const char* damage : {"truncated", "flipped byte"}) {
        builder.source->n = builder.source->n + 1;
        ASSERT_TRUE(builder.store->refresh("r"));
        auto published = builder.agent->publish_now();
        ASSERT_TRUE(published) << published.error().message;
        const auto& m = published.value().published;
        auto bytes = read_file(builder.store->serving_file());
        ASSERT_EQ(bytes.size(), m.size);
        if (std::string(damage) == "truncated")
            bytes.resize(bytes.size() / 2);
        else
            bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x5a);
        overwrite_object(prefix, m.key(), bytes);

        EXPECT_EQ(reader.agent->poll_now(), poll_result::rejected) << damage;
        EXPECT_EQ(reader.read().first, 100) << damage;
        EXPECT_EQ(reader.store->current("r").version, served_version) << damage;
        EXPECT_FALSE(reader.store->current("r").stale);
        EXPECT_EQ(reader.agent->poll_now(), poll_result::rejected) << "a rejected version is not fetched again";
    }
    // A good version after the bad ones is installed.
    builder.source->n = 500;
    ASSERT_TRUE(builder.store->refresh("r"));
    ASSERT_TRUE(builder.agent->publish_now());
    EXPECT_EQ(reader.agent->poll_now(), poll_result::installed);
    EXPECT_EQ(reader.read().first, 500);
}

TEST(snapshots, conditional_manifest_writes_are_refused_on_a_stale_etag) {
    const auto prefix = unique_prefix();
    auto c = raw_client(env->s3->endpoint(), prefix, secret);
    auto first = c.put(manifest_key, "{}", "application/json", put_condition::absent);
    ASSERT_TRUE(first.ok()) << first.error;
    EXPECT_EQ(c.put(manifest_key, "{}", "application/json", put_condition::absent).status, 412);
    const auto etag = c.get(manifest_key).etag;
    ASSERT_FALSE(etag.empty());
    auto second = c.put(manifest_key, "{\"a\":1}", "application/json", put_condition::etag_match, etag);
    ASSERT_TRUE(second.ok()) << second.error;
    // A writer still holding the first ETag must not replace what the second wrote.
    EXPECT_EQ(c.put(manifest_key, "{\"b\":2}", "application/json", put_condition::etag_match, etag).status, 412);
    EXPECT_EQ(c.get(manifest_key).body, "{\"a\":1}");
    EXPECT_EQ(c.get(manifest_key, c.get(manifest_key).etag).status, 304);
}

TEST(snapshots, two_racing_builders_leave_a_consistent_manifest_naming_the_newest_snapshot) {
    const auto prefix = unique_prefix();
    instance a("builder-a", prefix, "builder"), b("builder-b", prefix, "builder");
    std::mutex mutex;
    std::vector<manifest> all;
    int conflicts = 0;
    auto run = [&](instance& self, int rounds, std::int64_t base) {
        for (int i = 0; i < rounds; ++i) {
            self.source->n = base + i;
            if (!self.store->refresh("r")) continue;
            auto out = self.agent->publish_now();
            ASSERT_TRUE(out) << out.error().message;
            std::lock_guard lock(mutex);
            all.push_back(out.value().published);
            conflicts += out.value().conflicts;
        }
    };
    std::thread ta([&] { run(a, 6, 1000); }), tb([&] { run(b, 6, 2000); });
    ta.join();
    tb.join();
    ASSERT_EQ(all.size(), 12u);
    const auto newest =
        *std::max_element(all.begin(), all.end(), [](const manifest& x, const manifest& y) { return newer(y, x); });
    const auto m = current_manifest(prefix);
    EXPECT_EQ(m.version, newest.version) << "conflicts seen: " << conflicts;
    // The object it names is there and is what the manifest says.
    const auto file = (env->dir / ("race-" + std::to_string(::getpid()) + ".duckdb")).string();
    auto c = raw_client(env->s3->endpoint(), prefix, secret);
    ASSERT_EQ(c.get(m.key(), {}, file).status, 200);
    auto d = digest_file(file);
    ASSERT_TRUE(d);
    EXPECT_EQ(d.value().sha256, m.sha256);
    EXPECT_EQ(d.value().size, m.size);
    fs::remove(file);
    // And a reader serves it.
    instance reader("reader", prefix, "reader");
    reader.agent->start(false);
    EXPECT_EQ(reader.agent->poll_now(), poll_result::unchanged);
    EXPECT_GE(reader.read().first, 1000);
}

TEST(snapshots, a_wrong_secret_is_refused_by_the_signature_check) {
    const auto prefix = unique_prefix();
    auto wrong = raw_client(env->s3->endpoint(), prefix, "not-the-secret");
    auto put = wrong.put(manifest_key, "{}", "application/json");
    EXPECT_EQ(put.status, 403);
    EXPECT_NE(put.error.find("SignatureDoesNotMatch"), std::string::npos) << put.error;
    EXPECT_EQ(put.error.find("not-the-secret"), std::string::npos);
    auto right = raw_client(env->s3->endpoint(), prefix, secret);
    EXPECT_TRUE(right.put(manifest_key, "{}", "application/json").ok());
}

void front_control(const std::string& what) {
    http_request req;
    req.method = "POST";
    req.url = env->s3->endpoint() + "/__front/" + what;
    ASSERT_EQ(perform(req).status, 204);
}

TEST(snapshots, with_s3_down_readers_keep_serving_the_last_version_marked_stale) {
    const auto prefix = unique_prefix();
    instance builder("builder", prefix, "builder");
    ASSERT_TRUE(builder.agent->publish_now());
    instance reader("reader", prefix, "reader");
    reader.agent->start(false);
    ASSERT_EQ(reader.read().first, 100);
    EXPECT_FALSE(reader.store->current("r").stale);

    front_control("down");
    EXPECT_EQ(reader.agent->poll_now(), poll_result::unreachable);
    EXPECT_EQ(reader.read().first, 100);
    EXPECT_TRUE(reader.store->current("r").stale);
    front_control("up");
    EXPECT_EQ(reader.agent->poll_now(), poll_result::unchanged);  // 304 on the manifest's ETag
    EXPECT_FALSE(reader.store->current("r").stale);
    EXPECT_EQ(reader.source->calls.load(), 0);
}

TEST(snapshots, no_snapshot_yet_serves_nothing_or_builds_locally_when_configured) {
    const auto prefix = unique_prefix();
    instance strict("strict", prefix, "reader");
    strict.agent->start(false);
    EXPECT_EQ(strict.read().first, -1);
    frost::source::query q{"select 1 from r", {}, model::deadline::after(10s), "t", 10};
    auto refused = strict.store->run_versioned(q, "r");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, model::error_code::source_unavailable);
    EXPECT_EQ(strict.source->calls.load(), 0);

    instance fallback("fallback", prefix, "reader", true);
    fallback.agent->start(false);
    EXPECT_EQ(fallback.read().first, 100);
    EXPECT_EQ(fallback.source->calls.load(), 1);
}

}  // namespace
}  // namespace frost::snapshot
