// The Lambda transport end to end: events from the emulator's front doors, through the
// runtime loop and the same api::service, compared with what the HTTP server answers for the
// same request over the same data (the HTTP server is the oracle).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <thread>
#include <vector>

#include "api/worker_pool.hpp"
#include "app/assemble.hpp"
#include "emulators/lambda/gateway.hpp"
#include "emulators/lambda/runtime_emulator.hpp"
#include "integration/lambda/compare.hpp"
#include "lambda/event.hpp"
#include "lambda/runtime.hpp"
#include "rollup/answer_index.hpp"
#include "source/duckdb/database.hpp"
#include "source/lazy.hpp"
#include "support/sanitized.hpp"
#include "support/test_server.hpp"

namespace frost::testing {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
namespace emu = frost::emulators::lambda;

// The HTTP config plus two endpoints that only tests need: a slow query and a huge answer.
config::config lambda_config(const std::string& db) {
    auto cfg = default_config(db);
    config::endpoint_config slow;
    slow.path = "/test/slow";
    slow.source = "local";
    slow.sql[""] = "select count(*) as n from range(100000000000) t(x) where x % 7 = 3";
    cfg.endpoints.push_back(slow);
    config::endpoint_config big;
    big.path = "/test/all_trips";
    big.source = "local";
    big.sql[""] = "select * from demo.trips";
    big.max_rows = 10'000'000;
    cfg.endpoints.push_back(big);
    // The seed's reports are a few hundred bytes; compress them too, so encodings can be compared.
    cfg.cache.min_gzip_bytes = 64;
    return cfg;
}

// The Lambda side: its own service over the same config and data, a loop in a thread.
class lambda_fixture {
public:
    explicit lambda_fixture(const config::config& cfg, std::chrono::milliseconds timeout = std::chrono::seconds(30),
                            app::assemble_options assembly = guards_off())
        : emulator_({timeout}) {
        auto assembled = app::assemble(cfg, assembly);
        if (!assembled) throw std::runtime_error(assembled.error().message);
        app_ = std::make_unique<app::application>(std::move(assembled).value());
        workers_ = std::move(app_->workers);
        service_ = std::move(app_->service);
        lambda::runtime_options options;
        options.function_name = "integration";
        options.metrics_sink = [this](std::string_view line) {
            std::lock_guard lock(mutex_);
            metrics_.emplace_back(line);
        };
        runtime_ = std::make_unique<lambda::runtime>(*service_, options);
        client_ = lambda::runtime_client::create(emulator_.runtime_api()).value();
        loop_ = std::thread([this] { (void)runtime_->run(*client_); });
    }
    ~lambda_fixture() {
        emulator_.stop();
        loop_.join();
        workers_.reset();
    }
    static app::assemble_options guards_off() {
        app::assemble_options assembly;
        assembly.guards = app::guard_mode::none;
        return assembly;
    }
    emu::runtime_emulator& emulator() { return emulator_; }
    app::application& app() { return *app_; }
    std::vector<std::string> metrics() {
        std::lock_guard lock(mutex_);
        return metrics_;
    }

private:
    emu::runtime_emulator emulator_;
    std::unique_ptr<app::application> app_;
    std::unique_ptr<api::worker_pool> workers_;
    std::unique_ptr<api::service> service_;
    std::unique_ptr<lambda::runtime> runtime_;
    std::unique_ptr<lambda::runtime_client> client_;
    std::thread loop_;
    std::mutex mutex_;
    std::vector<std::string> metrics_;
};

class LambdaIntegration : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        cfg_ = std::make_unique<config::config>(lambda_config(sample_database()));
        http_ = std::make_unique<test_server>(*cfg_);
        lambda_ = std::make_unique<lambda_fixture>(*cfg_);
    }
    static void TearDownTestSuite() {
        lambda_.reset();
        http_.reset();
        cfg_.reset();
    }
    static std::unique_ptr<config::config> cfg_;
    static std::unique_ptr<test_server> http_;
    static std::unique_ptr<lambda_fixture> lambda_;
};
std::unique_ptr<config::config> LambdaIntegration::cfg_;
std::unique_ptr<test_server> LambdaIntegration::http_;
std::unique_ptr<lambda_fixture> LambdaIntegration::lambda_;

TEST_F(LambdaIntegration, EverySeedRouteThroughEveryDoorAnswersLikeTheHttpServer) {
    const auto targets = seed_targets(*cfg_);
    ASSERT_GE(targets.size(), 1u + 6u * 4u);  // "/" and the six reports, each four ways
    int compared = 0;
    for (const auto& target : targets) {
        const auto expected = http_->get(target);
        for (auto door : all_doors()) {
            for (std::string stage : {"", "prod"}) {
                SCOPED_TRACE(target + " via " + std::string(emu::door_name(door)) + " stage " + stage);
                emu::http_call call;
                call.target = target;
                call.stage = stage;
                call.headers = {{"Accept", "application/json"}};
                auto r = lambda_->emulator().invoke(emu::make_event(door, call));
                ASSERT_EQ(r.status, 200) << r.body;
                ASSERT_FALSE(r.function_error) << r.body;
                const auto reply = emu::read_reply(door, r.body);
                ASSERT_TRUE(reply.problem.empty()) << reply.problem;
                expect_same_answer(expected, reply);
                ++compared;
            }
        }
    }
    EXPECT_EQ(compared, static_cast<int>(targets.size()) * 5 * 2);
}

// Issue 15, defect 4: ill-formed UTF-8 in a query value (lone surrogates, a code point above
// U+10FFFF, an overlong '/') is a 400 whose body is valid UTF-8 JSON, over HTTP and over every
// Lambda front door alike. Boost.JSON's parser, which refuses ill-formed UTF-8, is the oracle.
TEST_F(LambdaIntegration, IllFormedUtf8InAQueryValueIsTheSame400OverHttpAndLambda) {
    for (const std::string value : {"%ED%A0%80", "%ED%BF%BF", "%F4%90%80%80", "%C0%AF", "2019-01-%ED%A0%80"}) {
        for (const std::string& target : {"/trips/monthly?start_range=" + value + "&end_range=2019-01-31",
                                          "/trips/monthly?start_range=2019-01-01&end_range=" + value}) {
            const auto expected = http_->get(target);
            EXPECT_EQ(expected.status, 400) << target;
            boost::system::error_code ec;
            (void)json::parse(expected.body, ec);
            EXPECT_FALSE(ec) << target << ": not valid UTF-8 JSON: " << ::testing::PrintToString(expected.body);
            for (auto door : all_doors()) {
                SCOPED_TRACE(target + " via " + std::string(emu::door_name(door)));
                emu::http_call call;
                call.target = target;
                auto r = lambda_->emulator().invoke(emu::make_event(door, call));
                ASSERT_FALSE(r.function_error) << r.body;
                const auto reply = emu::read_reply(door, r.body);
                ASSERT_TRUE(reply.problem.empty()) << reply.problem;
                EXPECT_EQ(reply.status, 400);
                expect_same_answer(expected, reply);
            }
        }
    }
}

// The HTTP path (the service's cached answer) and the Lambda adapter (which compresses an
// answer too large for Lambda) negotiate Accept-Encoding with one function, so for the same
// header they choose the same encoding. The old copies disagreed on `*, gzip;q=0` and `x-gzip`.
TEST_F(LambdaIntegration, AcceptEncodingChoosesTheSameEncodingOverHttpAndLambda) {
    const std::string target = "/trips/monthly?start_range=2014-01-01&end_range=2014-12-31";
    int gzipped = 0, identity = 0;
    for (const std::string accept : {"gzip", "GZIP", "x-gzip", "*", "*, gzip;q=0", "gzip;q=0", "x-gzip;q=0, *",
                                     "identity;q=0", "identity;q=0, gzip;q=0.1", "gzip;q=0.5, identity", "deflate, br",
                                     "gzip;q=0.000", "identity", "br;q=1, *;q=0"}) {
        SCOPED_TRACE("Accept-Encoding: " + accept);
        const auto expected = http_->get(target, {{"Accept-Encoding", accept}});
        ASSERT_EQ(expected.status, 200);
        const auto encoding = expected.header("content-encoding");
        (encoding == "gzip" ? gzipped : identity)++;
        for (auto door : all_doors()) {
            SCOPED_TRACE(std::string(emu::door_name(door)));
            emu::http_call call;
            call.target = target;
            call.headers = {{"Accept-Encoding", accept}};
            const auto event = emu::make_event(door, call);
            // Through the runtime: the service's cached answer.
            auto r = lambda_->emulator().invoke(event);
            ASSERT_FALSE(r.function_error) << r.body;
            const auto reply = emu::read_reply(door, r.body);
            EXPECT_EQ(reply.header("content-encoding"), encoding);
            // Through the adapter's own negotiation: an identity answer over the size limit.
            auto parsed = lambda::parse_event(event);
            ASSERT_TRUE(parsed) << parsed.error().message;
            api::response big;
            big.status = 200;
            big.headers = {{"Content-Type", "application/json"}};
            big.body = "[" + std::string(64 << 10, '1') + "]";
            const auto out = lambda::encode_response(parsed.value(), big, 16 << 10);
            EXPECT_EQ(out.compressed, encoding == "gzip");
            EXPECT_EQ(out.status, encoding == "gzip" ? 200 : 502);
        }
    }
    EXPECT_GT(gzipped, 0);
    EXPECT_GT(identity, 0);
}

TEST_F(LambdaIntegration, MalformedEventsAreFunctionErrorsAndTheLoopSurvives) {
    const std::vector<std::string> bad = {"",
                                          "null",
                                          "\"text\"",
                                          "{}",
                                          R"({"version":"2.0"})",
                                          R"({"httpMethod":"GET","path":{"x":1}})",
                                          std::string(200, '{')};
    for (const auto& event : bad) {
        auto r = lambda_->emulator().invoke(event);
        EXPECT_EQ(r.status, 200);
        EXPECT_TRUE(r.function_error) << event;
        EXPECT_EQ(r.error_type, "Function.InvalidEvent");
    }
    emu::http_call call;
    call.target = "/trips/monthly";
    auto r = lambda_->emulator().invoke(emu::make_event(emu::front_door::rest, call));
    EXPECT_EQ(emu::read_reply(emu::front_door::rest, r.body).status, 200);
}

TEST_F(LambdaIntegration, RuntimeApiDeadlineStopsTheQuery) {
    // The config allows 29 s; the invoke allows 1 s. A 504 well before 29 s proves the
    // Lambda deadline reached the query.
    ASSERT_GE(cfg_->server.request_timeout, std::chrono::seconds(10));
    emu::http_call call;
    call.target = "/test/slow";
    emu::invoke_options options;
    options.timeout = std::chrono::milliseconds(1000);
    const auto started = std::chrono::steady_clock::now();
    auto r = lambda_->emulator().invoke(emu::make_event(emu::front_door::http_api, call), options);
    const auto took = std::chrono::steady_clock::now() - started;
    ASSERT_FALSE(r.timed_out) << "the runtime did not answer before Lambda's deadline";
    const auto reply = emu::read_reply(emu::front_door::http_api, r.body);
    EXPECT_EQ(reply.status, 504) << reply.body;
    EXPECT_EQ(json::parse(reply.body).at("code").as_string(), "FR505");
    // Stopped at Lambda's deadline less the runtime's 200 ms margin: not earlier, not at 29 s.
    EXPECT_GE(took, std::chrono::milliseconds(750));
    EXPECT_LT(took, std::chrono::seconds(5));
}

TEST_F(LambdaIntegration, OversizeAnswerIsAJsonErrorNotALambdaFailure) {
    const auto direct = http_->get("/test/all_trips");
    ASSERT_EQ(direct.status, 200);
    ASSERT_GT(direct.body.size(), 6u * 1024 * 1024) << "the sample data is too small for this test";
    // Each door renders and parses over 6 MB; under the sanitizers (91 s for all three) one does.
    const std::vector<emu::front_door> doors =
        frost::testing::under_sanitizers
            ? std::vector<emu::front_door>{emu::front_door::http_api}
            : std::vector<emu::front_door>{emu::front_door::rest, emu::front_door::http_api, emu::front_door::alb};
    for (auto door : doors) {
        emu::http_call call;
        call.target = "/test/all_trips";
        auto r = lambda_->emulator().invoke(emu::make_event(door, call));
        ASSERT_EQ(r.status, 200);
        ASSERT_FALSE(r.function_error) << r.body.substr(0, 300);
        const auto reply = emu::read_reply(door, r.body);
        EXPECT_EQ(reply.status, 502);
        const auto body = json::parse(reply.body).as_object();
        EXPECT_EQ(body.at("code").as_string(), "FR507");
        EXPECT_NE(std::string(body.at("error").as_string()).find("Lambda response"), std::string::npos);
    }
}

TEST_F(LambdaIntegration, EmfLinesCarryRouteStatusCacheAndUpstreamTime) {
    emu::http_call call;
    call.target = "/sqlapi/trips/day_of_week";
    const auto before = lambda_->metrics().size();
    (void)lambda_->emulator().invoke(emu::make_event(emu::front_door::http_api, call));
    call.target = "/trips/temperature?start_range=2013-07-01&end_range=2013-07-31";
    (void)lambda_->emulator().invoke(emu::make_event(emu::front_door::http_api, call));
    (void)lambda_->emulator().invoke(emu::make_event(emu::front_door::http_api, call));
    for (int i = 0; i < 400 && lambda_->metrics().size() < before + 3; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const auto lines = lambda_->metrics();
    ASSERT_EQ(lines.size(), before + 3);
    const auto sql = json::parse(lines[before]).as_object();
    EXPECT_EQ(sql.at("Route").as_string(), "/sqlapi/trips/day_of_week");
    EXPECT_EQ(sql.at("Status").as_int64(), 200);
    EXPECT_GT(sql.at("UpstreamTime").to_number<double>(), 0.0);
    EXPECT_GE(sql.at("Latency").to_number<double>(), sql.at("UpstreamTime").to_number<double>());
    // The same report twice: whatever the first found, the second is served from the cache.
    const auto second = json::parse(lines[before + 2]).as_object();
    EXPECT_EQ(second.at("Route").as_string(), "/trips/temperature");
    EXPECT_EQ(second.at("Cache").as_string(), "hit");
    EXPECT_EQ(second.at("CacheHits").to_number<int>(), 1);
}

// `frost lambda` opens its DuckDB source on the first query that needs it (issue 14): rollup
// endpoints are answered from the serving store without it. Oracle: the HTTP server over the
// same data with every source opened at start.
class LazySource : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = fs::temp_directory_path() / ("frost-lazy-source-" + std::to_string(::getpid()));
        fs::create_directories(dir_);
        cfg_ = std::make_unique<config::config>(lambda_config(sample_database()));
        http_ = std::make_unique<test_server>(*cfg_);
        // The package's serving file: rollups built once, as `frost check --build` does.
        auto build = *cfg_;
        build.serving.path = (dir_ / "packaged.duckdb").string();
        auto assembly = lambda_fixture::guards_off();
        assembly.rollups = app::rollup_mode::lambda;
        auto built = app::assemble(build, assembly);
        ASSERT_TRUE(built) << built.error().message;
        ASSERT_NE(built.value().rollups->current("trips_by_day").version, 0u);
    }
    static void TearDownTestSuite() {
        http_.reset();
        cfg_.reset();
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    // A Lambda-assembled application (lazy sources, rollup_mode::lambda) over a copy of the
    // packaged serving file, with the `local` source at `source_path`.
    std::unique_ptr<lambda_fixture> start(const std::string& source_path) {
        auto cfg = *cfg_;
        const auto serving =
            dir_ / (std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + ".duckdb");
        fs::copy_file(dir_ / "packaged.duckdb", serving, fs::copy_options::overwrite_existing);
        cfg.serving.path = serving.string();
        for (auto& s : cfg.sources)
            if (s.name == "local") s.path = source_path;
        auto assembly = lambda_fixture::guards_off();
        assembly.rollups = app::rollup_mode::lambda;
        assembly.lazy_sources = true;
        return std::make_unique<lambda_fixture>(cfg, std::chrono::seconds(30), assembly);
    }
    static const source::lazy_source* local(lambda_fixture& f) {
        return source::as_lazy(f.app().sources.at("local").get());
    }
    emu::http_reply call(lambda_fixture& f, const std::string& target) {
        emu::http_call c;
        c.target = target;
        auto r = f.emulator().invoke(emu::make_event(emu::front_door::rest, c));
        EXPECT_EQ(r.status, 200) << r.body;
        return emu::read_reply(emu::front_door::rest, r.body);
    }
    static inline fs::path dir_;
    static inline std::unique_ptr<config::config> cfg_;
    static inline std::unique_ptr<test_server> http_;
};

TEST_F(LazySource, RollupAnswersDoNotOpenTheSourceAndTheFirstLiveQueryDoes) {
    auto f = start(sample_database());
    const auto* lazy = local(*f);
    ASSERT_NE(lazy, nullptr) << "frost lambda's DuckDB source is not opened lazily";
    EXPECT_EQ(lazy->state(), source::open_state::not_opened);
    std::vector<std::string> rollup_targets, live_targets;
    for (const auto& target : seed_targets(*cfg_))
        (target.starts_with("/trips/") ? rollup_targets : live_targets).push_back(target);
    ASSERT_FALSE(rollup_targets.empty());
    for (const auto& target : rollup_targets) {
        SCOPED_TRACE(target);
        expect_same_answer(http_->get(target), call(*f, target));
    }
    EXPECT_EQ(lazy->state(), source::open_state::not_opened) << "a rollup answer opened the source";
    bool live = false;
    for (const auto& target : live_targets) {
        SCOPED_TRACE(target);
        expect_same_answer(http_->get(target), call(*f, target));
        live = live || target.starts_with("/sqlapi/");
    }
    ASSERT_TRUE(live);
    EXPECT_EQ(lazy->state(), source::open_state::open);
    EXPECT_NE(lazy->opened(), nullptr);
}

TEST_F(LazySource, ARollupRefreshOpensTheSourceAndStillBuildsANewVersion) {
    auto f = start(sample_database());
    const auto* lazy = local(*f);
    ASSERT_NE(lazy, nullptr);
    auto& store = *f->app().rollups;
    const auto before = store.current("trips_by_day").version;
    ASSERT_NE(before, 0u);
    EXPECT_EQ(lazy->state(), source::open_state::not_opened);
    auto refreshed = store.refresh("trips_by_day", {}, rollup::refresh_kind::full);
    ASSERT_TRUE(refreshed) << refreshed.error().message;
    EXPECT_GT(refreshed.value().version, before);
    EXPECT_EQ(lazy->state(), source::open_state::open);
    for (const std::string target : {"/trips/monthly?start_range=2013-06-01&end_range=2014-05-31",
                                     "/sqlapi/trips/monthly?start_range=2013-06-01&end_range=2014-05-31"}) {
        SCOPED_TRACE(target);
        expect_same_answer(http_->get(target), call(*f, target));
    }
}

// The service's answer to GET `target`, in-process.
api::response get_from(api::service& svc, const std::string& target) {
    std::promise<api::response> answer;
    auto future = answer.get_future();
    api::request r;
    r.target = target;
    r.request_id = "lazy-readyz";
    svc.handle(std::move(r), [&answer](api::response res) { answer.set_value(std::move(res)); });
    return future.get();
}

TEST_F(LazySource, ReadyzShowsNotOpenedYetThenOpenAndStaysReady) {
    auto cfg = *cfg_;
    const auto serving = dir_ / "readyz.duckdb";
    fs::copy_file(dir_ / "packaged.duckdb", serving, fs::copy_options::overwrite_existing);
    cfg.serving.path = serving.string();
    cfg.server.access_log = false;
    app::assemble_options assembly;  // the guard rails of `frost serve`, with lazy sources
    assembly.rollups = app::rollup_mode::lambda;
    assembly.lazy_sources = true;
    auto assembled = app::assemble(cfg, assembly);
    ASSERT_TRUE(assembled) << assembled.error().message;
    auto& svc = *assembled.value().service;
    auto ready = get_from(svc, "/readyz");
    EXPECT_EQ(ready.status, 200) << ready.body_view();
    EXPECT_NE(ready.body_view().find(R"("open:local":"not opened yet")"), std::string::npos) << ready.body_view();
    EXPECT_EQ(get_from(svc, "/sqlapi/trips/monthly").status, 200);
    ready = get_from(svc, "/readyz");
    EXPECT_EQ(ready.status, 200) << ready.body_view();
    EXPECT_NE(ready.body_view().find(R"("open:local":"open")"), std::string::npos) << ready.body_view();
}

TEST_F(LazySource, ASourceThatCannotOpenFailsItsFirstLiveCallWithAJsonErrorAndRollupsStillAnswer) {
    const auto bad = dir_ / "not-a-database.duckdb";
    {
        std::ofstream out(bad, std::ios::binary);
        out << std::string(8192, 'x');  // exists, so start-up accepts it; DuckDB refuses it
    }
    auto f = start(bad.string());
    const auto* lazy = local(*f);
    ASSERT_NE(lazy, nullptr);
    EXPECT_EQ(lazy->state(), source::open_state::not_opened);
    const std::string rollup = "/trips/monthly?start_range=2013-06-01&end_range=2013-07-31";
    expect_same_answer(http_->get(rollup), call(*f, rollup));
    for (int attempt = 0; attempt < 2; ++attempt) {  // every call fails the same, none crashes
        auto reply = call(*f, "/sqlapi/trips/monthly?start_range=2013-06-01&end_range=2013-07-31");
        EXPECT_EQ(reply.status, 503) << reply.body;
        boost::system::error_code ec;
        auto body = json::parse(reply.body, ec);
        ASSERT_FALSE(ec) << reply.body;
        ASSERT_TRUE(body.is_object()) << reply.body;
        EXPECT_TRUE(body.as_object().contains("error")) << reply.body;
        EXPECT_EQ(lazy->state(), source::open_state::failed);
        EXPECT_NE(lazy->last_error().find("source local"), std::string::npos) << lazy->last_error();
    }
    expect_same_answer(http_->get(rollup), call(*f, rollup));
}

// `frost lambda` with the answer index (`<serving.path>.prefix`, issue 14): the rollup endpoints
// it holds are answered with no DuckDB instance created, exactly as the same store answers them
// without it (the oracle: a Lambda application over a copy of the same serving file, answer index
// off); anything else opens the serving file on first need; a refresh still works.
class AnswerIndex : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = fs::temp_directory_path() / ("frost-answer-index-" + std::to_string(::getpid()));
        fs::create_directories(dir_);
        cfg_ = std::make_unique<config::config>(lambda_config(sample_database()));
        // A rollup endpoint the prefix sums decline (no range): DuckDB must answer it.
        config::endpoint_config declined;
        declined.path = "/test/rollup_days";
        declined.rollup = "trips_by_day";
        declined.sql[""] = "select count(*) as days, sum(trip_count)::BIGINT as trips from trips_by_day";
        cfg_->endpoints.push_back(declined);
        auto build = *cfg_;
        build.serving.path = (dir_ / "packaged.duckdb").string();
        auto assembly = lambda_fixture::guards_off();
        assembly.rollups = app::rollup_mode::lambda;
        auto built = app::assemble(build, assembly);
        ASSERT_TRUE(built) << built.error().message;
        auto indexed = app::write_answer_index(*built.value().cfg, *built.value().rollups);
        ASSERT_TRUE(indexed) << indexed.error().message;
        EXPECT_EQ(indexed.value(), 3u) << "the three seed reports over trips_by_day";
    }
    static void TearDownTestSuite() {
        cfg_.reset();
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    // A Lambda application over a copy of the packaged serving file (with its answer index
    // when `with_index`), answer index reading on or off.
    static std::unique_ptr<lambda_fixture> start(const std::string& name, bool with_index, bool answer_index) {
        auto cfg = *cfg_;
        const auto serving = dir_ / (name + ".duckdb");
        fs::copy_file(dir_ / "packaged.duckdb", serving, fs::copy_options::overwrite_existing);
        std::error_code ec;
        fs::remove(serving.string() + ".prefix", ec);
        if (with_index)
            fs::copy_file(dir_ / "packaged.duckdb.prefix", serving.string() + ".prefix",
                          fs::copy_options::overwrite_existing);
        cfg.serving.path = serving.string();
        return open(cfg, answer_index);
    }
    // A Lambda application over `cfg` as it is (its serving file in place), as `frost lambda`
    // assembles one: rollups in Lambda mode, lazy sources, answer index reading on or off.
    static std::unique_ptr<lambda_fixture> open(const config::config& cfg, bool answer_index = true) {
        auto assembly = lambda_fixture::guards_off();
        assembly.rollups = app::rollup_mode::lambda;
        assembly.lazy_sources = true;
        assembly.answer_index = answer_index;
        return std::make_unique<lambda_fixture>(cfg, std::chrono::seconds(30), assembly);
    }
    static emu::http_reply call(lambda_fixture& f, const std::string& target) {
        emu::http_call c;
        c.target = target;
        auto r = f.emulator().invoke(emu::make_event(emu::front_door::rest, c));
        EXPECT_EQ(r.status, 200) << r.body;
        return emu::read_reply(emu::front_door::rest, r.body);
    }
    // The same reply: status, every header but those that differ on every call (the request's
    // id, its run time, and the ETag: a hash of the body, which holds the run time as `time_ms`),
    // and the body but for `time_ms`.
    static void expect_identical(const emu::http_reply& want, const emu::http_reply& got) {
        EXPECT_EQ(got.status, want.status);
        auto steady = [](std::vector<std::pair<std::string, std::string>> headers) {
            std::erase_if(headers, [](const auto& h) {
                return h.first == "x-request-id" || h.first == "server-timing" || h.first == "etag";
            });
            return headers;
        };
        EXPECT_EQ(steady(got.headers), steady(want.headers));
        EXPECT_FALSE(steady(got.headers).empty());
        boost::system::error_code ea, eb;
        auto a = json::parse(want.body, ea);
        auto b = json::parse(got.body, eb);
        if (ea || eb || !a.is_object() || !b.is_object()) {
            EXPECT_EQ(got.body, want.body);
            return;
        }
        a.as_object().erase("time_ms");
        b.as_object().erase("time_ms");
        EXPECT_EQ(b, a);
    }
    static std::vector<std::string> indexed_targets() {
        std::vector<std::string> out;
        for (const auto& target : seed_targets(*cfg_))
            if (target.starts_with("/trips/")) out.push_back(target);
        // Random ranges too, as a client sends them (bounds outside the data included).
        std::mt19937_64 rng(14);
        const std::int32_t first = model::days_from_civil(2013, 5, 1), last = model::days_from_civil(2020, 7, 1);
        for (int i = 0; i < frost::testing::rounds(30); ++i) {
            std::uniform_int_distribution<std::int32_t> day(first, last);
            auto a = day(rng), b = day(rng);
            if (a > b) std::swap(a, b);
            const char* path = i % 3 == 0 ? "/trips/monthly" : i % 3 == 1 ? "/trips/day_of_week" : "/trips/temperature";
            out.push_back(std::string(path) + "?start_range=" + model::format_date({a}) +
                          "&end_range=" + model::format_date({b}));
        }
        return out;
    }
    static inline fs::path dir_;
    static inline std::unique_ptr<config::config> cfg_;
};

TEST_F(AnswerIndex, FirstAnswersCreateNoDuckDbInstanceAndMatchTheStoreWithoutIt) {
    const auto targets = indexed_targets();
    auto oracle = start("oracle", true, false);
    ASSERT_TRUE(oracle->app().rollups->duckdb_opened());
    const auto instances = source::duckdb::database::opened_total();
    auto f = start("cold", true, true);
    auto& store = *f->app().rollups;
    EXPECT_FALSE(store.duckdb_opened()) << "the serving file was opened at start";
    EXPECT_EQ(store.current("trips_by_day").version, oracle->app().rollups->current("trips_by_day").version);
    for (const auto& target : targets) {
        SCOPED_TRACE(target);
        expect_identical(call(*oracle, target), call(*f, target));
    }
    EXPECT_FALSE(store.duckdb_opened()) << "an indexed answer opened the serving file";
    EXPECT_EQ(source::duckdb::database::opened_total(), instances) << "a DuckDB instance was created";
    EXPECT_GT(store.answers("/trips/monthly").prefix_sums, 0u);
    EXPECT_EQ(store.answers("/trips/monthly").duckdb, 0u);

    // A rollup endpoint the index does not hold opens the serving file, then answers as before.
    expect_identical(call(*oracle, "/test/rollup_days"), call(*f, "/test/rollup_days"));
    EXPECT_TRUE(store.duckdb_opened());
    EXPECT_EQ(store.answers("/test/rollup_days").duckdb, 1u);
    // After it, the indexed endpoints answer as before (live endpoints differ by their as-of time).
    for (const auto& target : seed_targets(*cfg_)) {
        if (!target.starts_with("/trips/")) continue;
        SCOPED_TRACE(target);
        expect_identical(call(*oracle, target), call(*f, target));
    }
}

TEST_F(AnswerIndex, ARefreshOpensTheServingFileAndServesTheNewVersion) {
    auto f = start("refresh", true, true);
    auto& store = *f->app().rollups;
    const std::string target = "/trips/monthly?start_range=2013-06-01&end_range=2014-05-31";
    (void)call(*f, target);
    ASSERT_FALSE(store.duckdb_opened());
    const auto before = store.current("trips_by_day").version;
    auto refreshed = store.refresh("trips_by_day", {}, rollup::refresh_kind::full);
    ASSERT_TRUE(refreshed) << refreshed.error().message;
    EXPECT_GT(refreshed.value().version, before);
    EXPECT_TRUE(store.duckdb_opened());
    auto reply = call(*f, target);
    EXPECT_EQ(reply.header("x-data-version"), "trips_by_day@" + std::to_string(refreshed.value().version));
    auto oracle = start("refresh-oracle", false, false);
    (void)oracle->app().rollups->refresh("trips_by_day", {}, rollup::refresh_kind::full);
    auto want = call(*oracle, target);
    auto a = json::parse(want.body), b = json::parse(reply.body);
    a.as_object().erase("time_ms");
    b.as_object().erase("time_ms");
    EXPECT_EQ(b, a);
}

TEST_F(AnswerIndex, AnyMismatchFallsBackToOpeningTheServingFile) {
    {  // no answer index
        auto f = start("none", false, true);
        EXPECT_TRUE(f->app().rollups->duckdb_opened());
    }
    {  // the answer index of another serving file: this one is a generation later
        auto f = start("other", true, true);
        ASSERT_TRUE(f->app().rollups->refresh("trips_by_day", {}, rollup::refresh_kind::full));
        const auto path = f->app().rollups->serving_file();
        f.reset();
        auto cfg = *cfg_;
        cfg.serving.path = path;
        EXPECT_TRUE(open(cfg)->app().rollups->duckdb_opened());
    }
    {  // the rollup's SQL changed since the index was written
        auto cfg = *cfg_;
        const auto serving = dir_ / "changed.duckdb";
        fs::copy_file(dir_ / "packaged.duckdb", serving, fs::copy_options::overwrite_existing);
        fs::copy_file(dir_ / "packaged.duckdb.prefix", serving.string() + ".prefix",
                      fs::copy_options::overwrite_existing);
        cfg.serving.path = serving.string();
        for (auto& r : cfg.rollups)
            for (auto& [dialect, sql] : r.sql) sql += "\n";
        EXPECT_TRUE(open(cfg)->app().rollups->duckdb_opened());
    }
    {  // a damaged answer index
        const auto serving = dir_ / "damaged.duckdb";
        fs::copy_file(dir_ / "packaged.duckdb", serving, fs::copy_options::overwrite_existing);
        std::ifstream in(dir_ / "packaged.duckdb.prefix", std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x20);
        std::ofstream(serving.string() + ".prefix", std::ios::binary) << bytes;
        auto cfg = *cfg_;
        cfg.serving.path = serving.string();
        auto f = open(cfg);
        EXPECT_TRUE(f->app().rollups->duckdb_opened());
        expect_same_answer(test_server(*cfg_).get("/trips/monthly"), call(*f, "/trips/monthly"));
    }
}

// Each entry's index is deserialized on first use. One whose bytes do not decode (damaged
// before its checksum was computed: the file itself is whole) leaves its SQL to DuckDB, which
// opens the serving file then; the other entries keep answering from the index until then.
TEST_F(AnswerIndex, AnEntryThatDoesNotDecodeIsAnsweredByDuckDb) {
    std::ifstream in(dir_ / "packaged.duckdb.prefix", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto decoded = rollup::answer_index::decode(bytes);
    ASSERT_TRUE(decoded) << decoded.error().message;
    const auto victim = std::find_if(decoded.value().entries.begin(), decoded.value().entries.end(),
                                     [](const auto& e) { return e.sql.find("weekday") != std::string::npos; });
    ASSERT_NE(victim, decoded.value().entries.end()) << "the day-of-week report's entry";
    // Its serialized index starts with the rollup's name and the SQL again, then the item count
    // and the first item's kind: make that kind unknown, then fix the payload's checksum.
    const auto first = bytes.find(victim->sql);
    const auto second = bytes.find(victim->sql, first + 1);
    ASSERT_NE(second, std::string::npos);
    bytes[second + victim->sql.size() + 8] = static_cast<char>(0xff);
    const std::size_t header = 8 + 4 + 8 + 8;
    const auto sum = rollup::answer_index::checksum(std::string_view(bytes).substr(header));
    std::memcpy(bytes.data() + header - 8, &sum, sizeof sum);
    ASSERT_FALSE(rollup::answer_index::decode(bytes)) << "decoding every entry refuses it";
    ASSERT_TRUE(rollup::answer_index::decode(bytes, rollup::answer_index::entries_mode::lazy));

    const auto serving = dir_ / "undecodable.duckdb";
    fs::copy_file(dir_ / "packaged.duckdb", serving, fs::copy_options::overwrite_existing);
    std::ofstream(serving.string() + ".prefix", std::ios::binary) << bytes;
    auto cfg = *cfg_;
    cfg.serving.path = serving.string();
    auto opened = open(cfg);
    auto& cold = *opened;
    auto& store = *cold.app().rollups;
    ASSERT_FALSE(store.duckdb_opened()) << "the file is whole: its structure decodes";
    auto oracle = start("undecodable-oracle", true, false);
    const std::string monthly = "/trips/monthly?start_range=2014-01-01&end_range=2014-12-31";
    expect_identical(call(*oracle, monthly), call(cold, monthly));
    EXPECT_FALSE(store.duckdb_opened());
    expect_identical(call(*oracle, "/trips/day_of_week"), call(cold, "/trips/day_of_week"));
    EXPECT_TRUE(store.duckdb_opened()) << "DuckDB answered the entry that did not decode";
    EXPECT_EQ(store.answers("/trips/day_of_week").prefix_sums, 0u);
    expect_identical(call(*oracle, monthly), call(cold, monthly));
}

// The real binary: `frost lambda` started by the emulator like Lambda starts `bootstrap`.
class LambdaProcess : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("frost-lambda-process-" + std::to_string(::getpid()));
        fs::create_directories(dir_ / "config");
        fs::create_directories(dir_ / "data");
        fs::create_directories(dir_ / "tmp");
        fs::copy_file(std::string(FROST_SOURCE_DIR) + "/config/frost.yaml", dir_ / "config/frost.yaml",
                      fs::copy_options::overwrite_existing);
        fs::copy_file(sample_database(), dir_ / "data/citibike.duckdb", fs::copy_options::overwrite_existing);
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    emu::process_spec spec(std::vector<std::string> argv, std::vector<std::string> env = {}) {
        env.push_back("TMPDIR=" + (dir_ / "tmp").string());
        env.push_back("LD_LIBRARY_PATH=");
        return {std::move(argv), std::move(env), dir_.string()};
    }
    fs::path dir_;
};

TEST_F(LambdaProcess, VerbAnswersFromACleanEnvironmentAndMatchesTheHttpServer) {
    emu::runtime_emulator emulator({std::chrono::seconds(60)});
    emulator.set_process(spec({FROST_BINARY, "lambda", "--config", "config/frost.yaml"}));
    auto cfg = default_config((dir_ / "data/citibike.duckdb").string());
    test_server http(cfg);
    for (const std::string target :
         {"/", "/trips/monthly", "/sqlapi/trips/temperature?start_range=2013-06-01&end_range=2013-06-30"}) {
        emu::http_call call;
        call.target = target;
        auto r = emulator.invoke(emu::make_event(emu::front_door::rest, call));
        ASSERT_EQ(r.status, 200) << r.body;
        auto reply = emu::read_reply(emu::front_door::rest, r.body);
        expect_same_answer(http.get(target), reply);
    }
    // The serving database was copied out of the (read-only on Lambda) task folder.
    EXPECT_TRUE(fs::exists(dir_ / "tmp/frost-serving.duckdb"));
    bool ready = false, emf = false;
    for (const auto& line : emulator.output()) {
        if (line.find("frost lambda ready") != std::string::npos) ready = json::parse(line).is_object();
        if (line.starts_with("{\"_aws\"")) emf = true;
    }
    EXPECT_TRUE(ready) << "no JSON ready log line";
    EXPECT_TRUE(emf) << "no EMF line on stdout";
}

// Whether another process (the test's oracle server opens it too) holds `file` open: DuckDB
// keeps its database file open.
bool held_open(const fs::path& file) {
    std::error_code ec;
    const auto wanted = fs::canonical(file, ec);
    const auto self = std::to_string(::getpid());
    for (const auto& proc : fs::directory_iterator("/proc", ec)) {
        const auto pid = proc.path().filename().string();  // not /proc/self, which is this process
        if (pid == self || pid.find_first_not_of("0123456789") != std::string::npos) continue;
        std::error_code ignore;
        for (const auto& fd : fs::directory_iterator(proc.path() / "fd", ignore))
            if (fs::read_symlink(fd.path(), ignore) == wanted) return true;
    }
    return false;
}

TEST_F(LambdaProcess, OpensItsSourceFileOnlyAtTheFirstLiveQuery) {
    // The package's rollups, prebuilt as scripts/package-lambda.sh does.
    const auto build = std::string(FROST_BINARY) + " check --build --config " + (dir_ / "config/frost.yaml").string() +
                       " > /dev/null 2>&1";
    ASSERT_EQ(std::system(build.c_str()), 0) << build;
    const auto source_file = dir_ / "data/citibike.duckdb";
    ASSERT_FALSE(held_open(source_file));
    emu::runtime_emulator emulator({std::chrono::seconds(60)});
    emulator.set_process(spec({FROST_BINARY, "lambda", "--config", "config/frost.yaml"}));
    auto cfg = default_config(source_file.string());
    test_server http(cfg);
    for (const std::string target : {"/", "/trips/monthly", "/trips/temperature?start_range=2013-06-01"}) {
        emu::http_call call;
        call.target = target;
        auto r = emulator.invoke(emu::make_event(emu::front_door::rest, call));
        ASSERT_EQ(r.status, 200) << r.body;
        expect_same_answer(http.get(target), emu::read_reply(emu::front_door::rest, r.body));
    }
    EXPECT_FALSE(held_open(source_file)) << "frost lambda opened its source before any live query:\n"
                                         << [&] {
                                                std::string log;
                                                for (const auto& line : emulator.output()) log += line + "\n";
                                                return log;
                                            }();
    emu::http_call call;
    call.target = "/sqlapi/trips/temperature?start_range=2013-06-01&end_range=2013-06-30";
    auto r = emulator.invoke(emu::make_event(emu::front_door::rest, call));
    ASSERT_EQ(r.status, 200) << r.body;
    expect_same_answer(http.get(call.target), emu::read_reply(emu::front_door::rest, r.body));
    EXPECT_TRUE(held_open(source_file)) << "the live query did not open the source";
}

TEST_F(LambdaProcess, EnforcesTheConfigsApiKeysLikeTheHttpServer) {
    // The key's SHA-256, from coreutils: printf 'lambda-test-key' | sha256sum
    const std::string hash = "ce58939f13f7517bc388ebb7daed6b76795e1abe0264f8a02aafda5d2aa89529";
    {
        std::ofstream f(dir_ / "config/frost.yaml", std::ios::app);
        f << "\nauth:\n  default: api_key\n";
    }
    emu::runtime_emulator emulator({std::chrono::seconds(60)});
    emulator.set_process(
        spec({FROST_BINARY, "lambda", "--config", "config/frost.yaml"}, {"FROST_API_KEYS=test=" + hash}));
    emu::http_call call;
    call.target = "/trips/monthly";
    auto refused = emulator.invoke(emu::make_event(emu::front_door::rest, call));
    ASSERT_EQ(refused.status, 200) << refused.body;
    EXPECT_EQ(emu::read_reply(emu::front_door::rest, refused.body).status, 401);
    call.headers = {{"X-Api-Key", "lambda-test-key"}};
    auto allowed = emulator.invoke(emu::make_event(emu::front_door::rest, call));
    EXPECT_EQ(emu::read_reply(emu::front_door::rest, allowed.body).status, 200) << allowed.body;
    call.headers = {{"X-Api-Key", "wrong-key"}};
    auto wrong = emulator.invoke(emu::make_event(emu::front_door::http_api, call));
    EXPECT_EQ(emu::read_reply(emu::front_door::http_api, wrong.body).status, 401);
}

TEST_F(LambdaProcess, StartsWithoutAVerbWhenLambdaRunsIt) {
    emu::runtime_emulator emulator({std::chrono::seconds(60)});
    emulator.set_process(spec({FROST_BINARY, "bootstrap"}, {"FROST_CONFIG=config/frost.yaml", "_HANDLER=bootstrap"}));
    emu::http_call call;
    call.target = "/";
    auto r = emulator.invoke(emu::make_event(emu::front_door::function_url, call));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(emu::read_reply(emu::front_door::function_url, r.body).status, 200);
}

TEST_F(LambdaProcess, InitFailureIsPostedToInitError) {
    emu::runtime_emulator emulator({std::chrono::seconds(60)});
    emulator.set_process(spec({FROST_BINARY, "lambda", "--config", "config/missing.yaml"}));
    auto r = emulator.invoke(emu::make_event(emu::front_door::rest, {}));
    EXPECT_EQ(r.status, 502);
    EXPECT_EQ(r.error_type, "Runtime.ConfigInvalid");
    const auto body = json::parse(r.body).as_object();
    EXPECT_NE(std::string(body.at("errorMessage").as_string()).find("missing.yaml"), std::string::npos);
    EXPECT_TRUE(body.at("stackTrace").is_array());
}

}  // namespace
}  // namespace frost::testing
