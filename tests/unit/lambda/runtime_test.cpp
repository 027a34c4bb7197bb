// The runtime loop in-process against the emulated Runtime API, over a service with static
// routes only (no database): protocol, error shape, bad events, deadlines, EMF.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <thread>

#include "api/service.hpp"
#include "api/worker_pool.hpp"
#include "config/config.hpp"
#include "emulators/lambda/gateway.hpp"
#include "emulators/lambda/runtime_emulator.hpp"
#include "lambda/runtime.hpp"

namespace frost::lambda {
namespace {

namespace json = boost::json;
namespace emu = frost::emulators::lambda;

constexpr std::string_view static_config = R"(
endpoints:
  - path: /
    static: {result: Nothing to see here, time_ms: 0}
)";

class LambdaRuntime : public ::testing::Test {
protected:
    void SetUp() override {
        auto cfg = config::load_text(std::string(static_config), "static.yaml", ".");
        ASSERT_TRUE(cfg) << cfg.error().message;
        auto shared = std::make_shared<const config::config>(std::move(cfg).value());
        auto svc = api::service::create(shared, {}, workers_);
        ASSERT_TRUE(svc) << svc.error().message;
        service_ = std::move(svc).value();
        runtime_options options;
        options.function_name = "unit";
        options.metrics_sink = [this](std::string_view line) {
            std::lock_guard lock(mutex_);
            metrics_.emplace_back(line);
        };
        runtime_ = std::make_unique<runtime>(*service_, options);
        auto client = runtime_client::create(emulator_.runtime_api());
        ASSERT_TRUE(client);
        client_ = std::move(client).value();
        loop_ = std::thread([this] { loop_result_ = runtime_->run(*client_); });
    }
    void TearDown() override {
        emulator_.stop();
        if (loop_.joinable()) loop_.join();
    }
    std::vector<std::string> metrics() {
        std::lock_guard lock(mutex_);
        return metrics_;
    }

    emu::runtime_emulator emulator_;
    api::worker_pool workers_{1, 4};
    std::unique_ptr<api::service> service_;
    std::unique_ptr<runtime> runtime_;
    std::unique_ptr<runtime_client> client_;
    std::thread loop_;
    std::optional<model::result<model::done>> loop_result_;
    std::mutex mutex_;
    std::vector<std::string> metrics_;
};

TEST_F(LambdaRuntime, AnswersAnHttpEventThroughTheService) {
    emu::http_call call;
    auto r = emulator_.invoke(emu::make_event(emu::front_door::http_api, call));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_FALSE(r.function_error) << r.body;
    auto reply = emu::read_reply(emu::front_door::http_api, r.body);
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(json::parse(reply.body), json::parse(R"({"result":"Nothing to see here","time_ms":0})"));
    EXPECT_EQ(reply.header("x-request-id"), r.request_id);
}

TEST_F(LambdaRuntime, BadEventIsReportedInTheDocumentedErrorShapeAndTheLoopGoesOn) {
    for (std::string bad : {"{}", "not json", "[1,2]", R"({"httpMethod":"GET","body":"%%","isBase64Encoded":true})"}) {
        auto r = emulator_.invoke(bad);
        EXPECT_EQ(r.status, 200);
        EXPECT_TRUE(r.function_error) << bad;
        EXPECT_EQ(r.error_type, "Function.InvalidEvent");
        auto body = json::parse(r.body).as_object();
        EXPECT_EQ(body.at("errorType").as_string(), "Function.InvalidEvent");
        EXPECT_TRUE(body.at("errorMessage").is_string());
        EXPECT_TRUE(body.at("stackTrace").is_array());
    }
    auto ok = emulator_.invoke(emu::make_event(emu::front_door::rest, {}));
    EXPECT_FALSE(ok.function_error) << ok.body;
    EXPECT_EQ(emu::read_reply(emu::front_door::rest, ok.body).status, 200);
}

TEST_F(LambdaRuntime, UnknownPathIsTheSeeds404InTheFrontDoorsShape) {
    emu::http_call call;
    call.target = "/nope";
    for (auto door : {emu::front_door::rest, emu::front_door::function_url, emu::front_door::alb_multi_value}) {
        auto r = emulator_.invoke(emu::make_event(door, call));
        auto reply = emu::read_reply(door, r.body);
        EXPECT_EQ(reply.status, 404);
        EXPECT_EQ(json::parse(reply.body).as_object().at("error").as_string(), "Not found!");
    }
}

TEST_F(LambdaRuntime, OneEmfLinePerRequestWithValidDirectives) {
    emu::http_call call;
    (void)emulator_.invoke(emu::make_event(emu::front_door::http_api, call));
    call.target = "/missing";
    (void)emulator_.invoke(emu::make_event(emu::front_door::rest, call));
    (void)emulator_.invoke("{}");
    // The line is written after the answer is posted: wait for the third.
    for (int i = 0; i < 200 && metrics().size() < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const auto lines = metrics();
    ASSERT_EQ(lines.size(), 3u);
    std::vector<std::int64_t> statuses;
    for (const auto& line : lines) {
        EXPECT_EQ(line.find('\n'), std::string::npos);
        auto doc = json::parse(line).as_object();
        const auto& aws = doc.at("_aws").as_object();
        EXPECT_TRUE(aws.at("Timestamp").is_int64());
        for (const auto& directive : aws.at("CloudWatchMetrics").as_array()) {
            const auto& d = directive.as_object();
            EXPECT_FALSE(d.at("Namespace").as_string().empty());
            // Every dimension and metric must be a top-level member: dimensions strings,
            // metrics numbers (the EMF specification).
            for (const auto& set : d.at("Dimensions").as_array()) {
                EXPECT_LE(set.as_array().size(), 30u);
                for (const auto& key : set.as_array()) EXPECT_TRUE(doc.at(key.as_string()).is_string()) << key;
            }
            for (const auto& m : d.at("Metrics").as_array())
                EXPECT_TRUE(doc.at(m.as_object().at("Name").as_string()).is_number()) << m;
        }
        EXPECT_EQ(doc.at("Service").as_string(), "unit");
        EXPECT_FALSE(doc.at("requestId").as_string().empty());
        statuses.push_back(doc.at("Status").as_int64());
    }
    EXPECT_EQ(statuses, (std::vector<std::int64_t>{200, 404, 400}));
    EXPECT_EQ(json::parse(lines[0]).at("Route").as_string(), "/");
    EXPECT_EQ(json::parse(lines[0]).at("ColdStart").to_number<int>(), 1);
    EXPECT_EQ(json::parse(lines[1]).at("ColdStart").to_number<int>(), 0);
    EXPECT_EQ(json::parse(lines[1]).at("ClientErrors").to_number<int>(), 1);
}

TEST_F(LambdaRuntime, LoopEndsWhenTheRuntimeApiGoesAway) {
    emulator_.stop();
    loop_.join();
    ASSERT_TRUE(loop_result_.has_value());
    EXPECT_FALSE(*loop_result_);
}

TEST(LambdaDeadline, EpochMillisecondsBecomeASteadyDeadlineLessTheMargin) {
    using namespace std::chrono;
    const auto now_ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    auto d = deadline_from_epoch_ms(now_ms + 1000, milliseconds(50));
    const auto left = duration_cast<milliseconds>(d.remaining()).count();
    EXPECT_GT(left, 900);
    EXPECT_LE(left, 950);
    EXPECT_TRUE(deadline_from_epoch_ms(now_ms - 5000, milliseconds(50)).expired());
    EXPECT_EQ(deadline_from_epoch_ms(std::nullopt, milliseconds(50)).at, model::clock::time_point::max());
}

TEST(LambdaRuntimeClient, RejectsAddressesThatAreNotHostPort) {
    for (const char* bad : {"", "localhost", ":9001", "host:", "http://127.0.0.1:9001"})
        EXPECT_FALSE(runtime_client::create(bad)) << bad;
    EXPECT_TRUE(runtime_client::create("127.0.0.1:9001"));
}

TEST(LambdaRuntimeClient, FailsAfterRetriesWhenNothingListens) {
    auto client = runtime_client::create("127.0.0.1:1").value();
    auto r = client->next();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, model::error_code::source_unavailable);
}

}  // namespace
}  // namespace frost::lambda
