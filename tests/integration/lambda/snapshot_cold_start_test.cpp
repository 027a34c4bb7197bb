// Issue 13: "a Lambda cold start with S3 snapshots makes zero warehouse statements". The real
// binary started by the Runtime API emulator as Lambda starts `bootstrap`, with
// config/snowflake.example.yaml over the Snowflake SQL API emulator, and S3 as s3rver behind the
// SigV4-checking front, the way the deploy templates set the function up (FROST_SNAPSHOTS_URL):
// the scheduled `sync` event refreshes and publishes; a new execution environment serves that
// snapshot without one request to the warehouse; a missing or damaged snapshot at cold start is
// handled as docs/snapshots.md says. Each execution environment is a new process with its own
// task folder and /tmp, so nothing but S3 carries state from one to the next.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "emulators/lambda/gateway.hpp"
#include "emulators/lambda/runtime_emulator.hpp"
#include "integration/lambda/compare.hpp"
#include "integration/snowflake/fixture.hpp"
#include "snapshot/manifest.hpp"
#include "support/s3_emulator.hpp"
#include "support/test_server.hpp"

namespace frost::testing {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
namespace lambda_emu = frost::emulators::lambda;
namespace snowflake_emu = frost::emulators::snowflake;

constexpr const char* bucket = "frost-lambda-snapshots";

// What EventBridge sends for a `rate(15 minutes)` rule (the templates' schedule).
constexpr const char* scheduled_event = R"({"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
"detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-12-02T05:00:00Z",
"region":"us-east-1","resources":["arn:aws:events:us-east-1:123456789012:rule/frost-sync"],"detail":{}})";

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// The warehouse, S3 and an HTTP server over the same DuckDB data as the oracle, shared by the
// tests of one process.
struct shared_emulators {
    fs::path dir;
    std::unique_ptr<snowflake_emu::emulator> warehouse;
    std::unique_ptr<s3_emulator> s3;
    std::unique_ptr<test_server> oracle;
};
shared_emulators* shared = nullptr;

class LambdaSnapshotEnvironment : public ::testing::Environment {
public:
    void SetUp() override {
        shared = new shared_emulators;
        shared->dir = fs::temp_directory_path() / ("frost-lambda-snapshot-test-" + std::to_string(::getpid()));
        fs::create_directories(shared->dir);
        shared->warehouse = snowflake::start_emulator();
        shared->s3 = std::make_unique<s3_emulator>(shared->dir / "s3", bucket, "AKIDLAMBDASNAP", "lambda-snap-secret");
        shared->oracle = std::make_unique<test_server>(default_config(sample_database(snowflake::sample_trips)));
    }
    void TearDown() override {
        shared->oracle.reset();
        shared->s3.reset();
        shared->warehouse.reset();
        std::error_code ec;
        fs::remove_all(shared->dir, ec);
        delete shared;
    }
};
const auto* registered = ::testing::AddGlobalTestEnvironment(new LambdaSnapshotEnvironment);

std::string unique_prefix() {
    static int n = 0;
    return "run" + std::to_string(::getpid()) + "/t" + std::to_string(n++) + "/";
}

// Requests the warehouse has received so far, and how many of them were statements.
struct warehouse_count {
    std::size_t requests = 0, submits = 0;
};
warehouse_count warehouse_now() {
    warehouse_count c;
    for (const auto& e : shared->warehouse->log()) {
        ++c.requests;
        if (e.kind == "submit") ++c.submits;
    }
    return c;
}

// How one execution environment is set up.
struct environment_options {
    std::string snapshots_prefix;  ///< FROST_SNAPSHOTS_URL=s3://<bucket>/<prefix>; empty: no snapshots
    bool fallback_build = false;   ///< serving.snapshots.fallback_build in the packaged config
};

// One Lambda execution environment: a task folder holding the Snowflake example config, its own
// /tmp, and the runtime process, started by the emulator on the first invoke.
class execution_environment {
public:
    execution_environment(const std::string& name, const environment_options& options)
        : dir_(shared->dir / (name + "-" + std::to_string(counter_++))), emulator_({std::chrono::seconds(60)}) {
        fs::create_directories(dir_ / "config");
        fs::create_directories(dir_ / "tmp");
        auto yaml = read_file(std::string(FROST_SOURCE_DIR) + "/config/snowflake.example.yaml");
        const std::string serving = "  path: ../data/serving-snowflake.duckdb\n";
        const auto at = yaml.find(serving);
        if (at == std::string::npos) throw std::runtime_error("snowflake.example.yaml: no serving path");
        if (options.fallback_build)  // the URL itself comes from FROST_SNAPSHOTS_URL, as on Lambda
            yaml.insert(at + serving.size(), "  snapshots: {url: \"s3://placeholder/\", fallback_build: true}\n");
        std::ofstream(dir_ / "config/frost.yaml") << yaml;

        std::vector<std::string> env = shared->s3->environment();
        env.push_back("TMPDIR=" + (dir_ / "tmp").string());
        env.push_back("LD_LIBRARY_PATH=");
        env.push_back("SNOWFLAKE_ACCOUNT=testorg-testaccount");
        env.push_back("SNOWFLAKE_USER=frost");
        env.push_back("SNOWFLAKE_PRIVATE_KEY=" + snowflake_keys::keys().private_pkcs8);
        env.push_back("SNOWFLAKE_HOST=" + shared->warehouse->base_url());
        if (!options.snapshots_prefix.empty())
            env.push_back("FROST_SNAPSHOTS_URL=s3://" + std::string(bucket) + "/" + options.snapshots_prefix);
        emulator_.set_process({{FROST_BINARY, "lambda", "--config", "config/frost.yaml"}, env, dir_.string()});
    }

    // An HTTP GET through API Gateway's REST door.
    lambda_emu::http_reply get(const std::string& target) {
        lambda_emu::http_call call;
        call.target = target;
        call.headers = {{"Accept", "application/json"}};
        auto r = emulator_.invoke(lambda_emu::make_event(lambda_emu::front_door::rest, call));
        EXPECT_EQ(r.status, 200) << r.body;
        EXPECT_FALSE(r.function_error) << r.body;
        return lambda_emu::read_reply(lambda_emu::front_door::rest, r.body);
    }
    // The scheduled event; its JSON answer.
    json::object sync() {
        auto r = emulator_.invoke(scheduled_event);
        EXPECT_EQ(r.status, 200) << r.body;
        EXPECT_FALSE(r.function_error) << r.body;
        boost::system::error_code ec;
        auto v = json::parse(r.body, ec);
        if (ec || !v.is_object()) {
            ADD_FAILURE() << "sync answer is not a JSON object: " << r.body;
            return {};
        }
        return v.as_object();
    }
    // Whether the runtime logged a line containing `text`.
    bool logged(const std::string& text) const {
        for (const auto& line : emulator_.output())
            if (line.find(text) != std::string::npos) return true;
        return false;
    }
    std::string log() const {
        std::string out;
        for (const auto& line : emulator_.output()) out += line + "\n";
        return out;
    }

private:
    static inline int counter_ = 0;
    fs::path dir_;
    lambda_emu::runtime_emulator emulator_;
};

// The rollup-backed routes of the Snowflake example: every /trips/ target of the seed's set.
std::vector<std::string> rollup_targets() {
    auto cfg = config::load_file(std::string(FROST_SOURCE_DIR) + "/config/snowflake.example.yaml");
    if (!cfg) throw std::runtime_error(cfg.error().message);
    std::vector<std::string> out;
    for (auto& t : seed_targets(cfg.value()))
        if (t.starts_with("/trips/")) out.push_back(std::move(t));
    return out;
}

http_answer as_answer(const lambda_emu::http_reply& reply) {
    http_answer a;
    a.status = reply.status;
    for (const auto& [k, v] : reply.headers) a.headers[k] = v;
    a.body = reply.body;
    return a;
}

std::string error_code_of(const lambda_emu::http_reply& reply) {
    boost::system::error_code ec;
    auto v = json::parse(reply.body, ec);
    if (ec || !v.is_object() || !v.as_object().contains("code")) return {};
    return std::string(v.as_object().at("code").as_string());
}

// Publishes a snapshot under `prefix` from a new execution environment's scheduled `sync`;
// returns the published version.
std::string publish_with_sync_event(const std::string& prefix) {
    execution_environment builder("builder", {prefix});
    const auto before = warehouse_now();
    const auto answer = builder.sync();
    EXPECT_FALSE(answer.contains("error")) << json::serialize(answer) << "\n" << builder.log();
    EXPECT_FALSE(answer.contains("failed")) << json::serialize(answer);
    EXPECT_GT(warehouse_now().submits, before.submits) << "the sync event sent the warehouse no statement";
    if (!answer.contains("published") || !answer.at("published").is_string()) {
        ADD_FAILURE() << "nothing published: " << json::serialize(answer);
        return {};
    }
    return std::string(answer.at("published").as_string());
}

TEST(LambdaSnapshots, SyncEventPublishesAndANewExecutionEnvironmentServesItWithZeroWarehouseStatements) {
    const auto prefix = unique_prefix();
    const auto targets = rollup_targets();
    ASSERT_GE(targets.size(), 3u * 4u);

    // 1. The scheduled event refreshes the rollup from the warehouse and publishes it.
    execution_environment builder("builder", {prefix});
    const auto before_sync = warehouse_now();
    const auto answer = builder.sync();
    ASSERT_TRUE(answer.contains("published")) << json::serialize(answer) << "\n" << builder.log();
    ASSERT_FALSE(answer.contains("error")) << json::serialize(answer);
    const auto& synced = answer.at("synced").as_array();
    ASSERT_EQ(synced.size(), 1u);
    EXPECT_EQ(synced[0].as_object().at("rollup").as_string(), "trips_by_day");
    const auto after_sync = warehouse_now();
    EXPECT_GT(after_sync.submits, before_sync.submits) << "the rollup was not built from the warehouse";
    bool scanned_trips = false;
    for (const auto& e : shared->warehouse->log())
        if (e.kind == "submit" && e.body.find("demo.trips") != std::string::npos) scanned_trips = true;
    EXPECT_TRUE(scanned_trips) << "no rollup statement over demo.trips";

    // The manifest is in S3 and names the published snapshot, whose object is there.
    const auto [status, body] = shared->s3->get_unchecked(prefix + std::string(snapshot::manifest_key));
    ASSERT_EQ(status, 200) << body;
    auto m = snapshot::parse_manifest(body);
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_EQ(m.value().version, std::string(answer.at("published").as_string()));
    EXPECT_TRUE(m.value().rollups.contains("trips_by_day"));
    const auto object = shared->s3->get_unchecked(prefix + m.value().key());
    EXPECT_EQ(object.first, 200);
    EXPECT_EQ(object.second.size(), m.value().size);

    std::vector<lambda_emu::http_reply> built;
    for (const auto& target : targets) built.push_back(builder.get(target));

    // 2. A new execution environment: init installs the snapshot, and neither init nor the
    // answers send the warehouse anything.
    const auto before_cold = warehouse_now();
    execution_environment reader("reader", {prefix});
    for (std::size_t i = 0; i < targets.size(); ++i) {
        SCOPED_TRACE(targets[i]);
        const auto got = reader.get(targets[i]);
        expect_same_answer(as_answer(built[i]), got);
        EXPECT_EQ(got.header("x-data-version"), built[i].header("x-data-version"));
        // The same question over the same data asked of DuckDB directly (config/frost.yaml).
        if (got.status == 200) expect_same_answer(shared->oracle->get(targets[i]), got);
    }
    // /trips/monthly over all dates: twelve months holding every trip of the sample.
    ASSERT_EQ(targets[0], "/trips/monthly");
    const auto monthly = reader.get(targets[0]);
    ASSERT_EQ(monthly.status, 200) << monthly.body;
    const auto rows = json::parse(monthly.body).at("result").as_array();
    EXPECT_EQ(rows.size(), 12u);
    std::int64_t trips = 0;
    for (const auto& row : rows) trips += row.as_array().at(0).to_number<std::int64_t>();
    EXPECT_EQ(trips, static_cast<std::int64_t>(snowflake::sample_trips));
    EXPECT_TRUE(reader.logged("snapshot " + m.value().version + " installed")) << reader.log();
    const auto after_cold = warehouse_now();
    EXPECT_EQ(after_cold.submits, before_cold.submits) << "the cold start sent the warehouse statements";
    EXPECT_EQ(after_cold.requests, before_cold.requests) << "the cold start sent the warehouse requests";

    // The control: the same cold start without snapshots builds the rollup from the warehouse,
    // so the zero above is not an assertion that cannot fail.
    execution_environment alone("no-snapshots", {});
    const auto before_alone = warehouse_now();
    const auto alone_answer = alone.get(targets[0]);
    EXPECT_EQ(alone_answer.status, 200) << alone_answer.body;
    expect_same_answer(as_answer(built[0]), alone_answer);
    EXPECT_GT(warehouse_now().submits, before_alone.submits) << "a cold start without snapshots should scan";
}

TEST(LambdaSnapshots, WithNoSnapshotYetAColdStartAnswers503OrBuildsLocallyWithFallbackBuild) {
    const auto prefix = unique_prefix();  // nothing published here
    const auto target = rollup_targets().front();
    {
        const auto before = warehouse_now();
        execution_environment strict("strict", {prefix});
        const auto refused = strict.get(target);
        EXPECT_EQ(refused.status, 503) << refused.body;
        EXPECT_EQ(error_code_of(refused), "FR503") << refused.body;
        EXPECT_TRUE(strict.logged("no snapshot published yet")) << strict.log();
        EXPECT_EQ(warehouse_now().requests, before.requests) << "a strict reader sent the warehouse requests";
    }
    {
        const auto before = warehouse_now();
        execution_environment fallback("fallback", {prefix, true});
        const auto built = fallback.get(target);
        EXPECT_EQ(built.status, 200) << built.body << "\n" << fallback.log();
        expect_same_answer(shared->oracle->get(target), built);
        EXPECT_TRUE(fallback.logged("building rollups locally (fallback_build)")) << fallback.log();
        EXPECT_GT(warehouse_now().submits, before.submits) << "fallback_build did not build from the warehouse";
    }
}

TEST(LambdaSnapshots, ADamagedSnapshotAtColdStartIsRejectedWithoutWarehouseStatements) {
    const auto prefix = unique_prefix();
    const auto target = rollup_targets().front();
    const auto version = publish_with_sync_event(prefix);
    ASSERT_FALSE(version.empty());
    const auto m =
        snapshot::parse_manifest(shared->s3->get_unchecked(prefix + std::string(snapshot::manifest_key)).second);
    ASSERT_TRUE(m) << m.error().message;
    const auto key = prefix + m.value().key();
    const auto good = shared->s3->get_unchecked(key).second;
    ASSERT_EQ(good.size(), m.value().size);

    for (const std::string damage : {"truncated", "flipped byte"}) {
        SCOPED_TRACE(damage);
        auto bytes = good;
        if (damage == "truncated")
            bytes.resize(bytes.size() / 2);
        else
            bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x5a);
        shared->s3->put_unchecked(key, bytes);

        const auto before = warehouse_now();
        execution_environment reader("damaged", {prefix});
        const auto refused = reader.get(target);
        // Nothing older to keep serving in a new environment: the rollup routes answer 503.
        EXPECT_EQ(refused.status, 503) << refused.body;
        EXPECT_EQ(error_code_of(refused), "FR503") << refused.body;
        EXPECT_TRUE(reader.logged("snapshot " + version + " rejected")) << reader.log();
        EXPECT_EQ(warehouse_now().requests, before.requests) << "a rejected snapshot sent the warehouse requests";
    }

    // Repaired, the next cold start serves it.
    shared->s3->put_unchecked(key, good);
    const auto before = warehouse_now();
    execution_environment reader("repaired", {prefix});
    const auto served = reader.get(target);
    EXPECT_EQ(served.status, 200) << served.body;
    expect_same_answer(shared->oracle->get(target), served);
    EXPECT_EQ(warehouse_now().requests, before.requests);
}

}  // namespace
}  // namespace frost::testing
