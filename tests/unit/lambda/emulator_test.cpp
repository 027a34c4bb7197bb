// The emulator itself, with shell runtimes: the AWS tutorial's curl `bootstrap`, a crash, a
// hang, an init error, and the clean environment.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "emulators/lambda/runtime_emulator.hpp"

namespace frost::emulators::lambda {
namespace {

namespace fs = std::filesystem;

// The echo runtime of the Lambda custom-runtime tutorial.
constexpr std::string_view echo_runtime = R"(set -eu
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
while true; do
  h=$(mktemp)
  event=$(curl -sS -D "$h" "$api/invocation/next")
  id=$(grep -i '^lambda-runtime-aws-request-id:' "$h" | tr -d '\r' | cut -d' ' -f2)
  deadline=$(grep -i '^lambda-runtime-deadline-ms:' "$h" | tr -d '\r' | cut -d' ' -f2)
  curl -sS -o /dev/null -X POST "$api/invocation/$id/response" -d "{\"event\":$event,\"deadline\":$deadline,\"env\":\"$(env | sort | tr '\n' ' ')\"}"
done
)";

process_spec shell(std::string_view script, std::vector<std::string> env = {}) {
    return {{"/bin/sh", "-c", std::string(script)}, std::move(env), fs::temp_directory_path().string()};
}

bool have_curl() {
    return std::system("command -v curl >/dev/null 2>&1") == 0;
}

TEST(LambdaEmulator, RunsTheTutorialRuntimeInACleanEnvironment) {
    if (!have_curl()) GTEST_SKIP() << "curl is not installed";
    runtime_emulator emu;
    emu.set_process(shell(echo_runtime, {"LD_LIBRARY_PATH="}));
    auto r = emu.invoke(R"({"n":1})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.body.find(R"("event":{"n":1})"), std::string::npos) << r.body;
    ASSERT_TRUE(r.init_duration.has_value());
    EXPECT_GT(r.init_duration->count(), 0);
    EXPECT_NE(r.body.find("AWS_LAMBDA_FUNCTION_NAME=test_function"), std::string::npos);
    EXPECT_NE(r.body.find("LD_LIBRARY_PATH= "), std::string::npos);
    EXPECT_EQ(r.body.find("HOME="), std::string::npos) << "the parent's environment leaked in";
    // The same process answers the next event: warm, no init.
    auto warm = emu.invoke(R"({"n":2})");
    EXPECT_NE(warm.body.find(R"("event":{"n":2})"), std::string::npos);
    EXPECT_FALSE(warm.init_duration.has_value());
}

TEST(LambdaEmulator, DeadlineHeaderIsNowPlusTheTimeout) {
    if (!have_curl()) GTEST_SKIP() << "curl is not installed";
    runtime_emulator emu({std::chrono::milliseconds(5000)});
    emu.set_process(shell(echo_runtime));
    const auto before =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    auto r = emu.invoke("{}");
    const auto at = r.body.find("\"deadline\":");
    ASSERT_NE(at, std::string::npos) << r.body;
    const long long deadline = std::stoll(r.body.substr(at + 11));
    EXPECT_GE(deadline, before + 5000);
    EXPECT_LE(deadline, before + 5000 + 2000);
}

TEST(LambdaEmulator, CrashIsRuntimeExitErrorAndTheNextInvokeStartsAFreshProcess) {
    runtime_emulator emu;
    emu.set_process(shell("exit 3"));
    auto r = emu.invoke("{}");
    EXPECT_EQ(r.status, 502);
    EXPECT_TRUE(r.crashed);
    EXPECT_EQ(r.error_type, "Runtime.ExitError");
    EXPECT_NE(r.body.find("exit status 3"), std::string::npos) << r.body;
    auto again = emu.invoke("{}");
    EXPECT_EQ(again.status, 502);
    EXPECT_NE(again.request_id, r.request_id);
}

TEST(LambdaEmulator, TimeoutKillsTheRuntimeAndSaysSo) {
    runtime_emulator emu({std::chrono::milliseconds(300)});
    emu.set_process(shell("sleep 30"));
    const auto started = std::chrono::steady_clock::now();
    auto r = emu.invoke("{}");
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
    EXPECT_TRUE(r.timed_out);
    EXPECT_EQ(r.body, "Task timed out after 0.30 seconds");
}

TEST(LambdaEmulator, InitErrorIsAnsweredWith502AndItsBody) {
    if (!have_curl()) GTEST_SKIP() << "curl is not installed";
    runtime_emulator emu;
    emu.set_process(
        shell(R"(curl -sS -o /dev/null -X POST -H 'Lambda-Runtime-Function-Error-Type: Runtime.ConfigInvalid' \
      -d '{"errorMessage":"no config","errorType":"Runtime.ConfigInvalid","stackTrace":[]}' \
      "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/init/error"; exit 1)"));
    auto r = emu.invoke("{}");
    EXPECT_EQ(r.status, 502);
    EXPECT_EQ(r.error_type, "Runtime.ConfigInvalid");
    EXPECT_NE(r.body.find("no config"), std::string::npos);
}

TEST(LambdaEmulator, RefusesAWrongRequestIdAndOversizeResponses) {
    if (!have_curl()) GTEST_SKIP() << "curl is not installed";
    // Answers with a wrong id first (must get 400), then 7 MB (must get 413).
    const auto big = fs::temp_directory_path() / "frost-emulator-big.json";
    {
        std::ofstream f(big);
        f << '"' << std::string(7 * 1024 * 1024, 'x') << '"';
    }
    const std::string script = R"(api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
h=$(mktemp); curl -sS -o /dev/null -D "$h" "$api/invocation/next"
id=$(grep -i '^lambda-runtime-aws-request-id:' "$h" | tr -d '\r' | cut -d' ' -f2)
wrong=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$api/invocation/not-$id/response" -d '{}')
big=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$api/invocation/$id/response" --data-binary @)" +
                               big.string() + R"()
echo "wrong=$wrong big=$big"
sleep 30)";
    runtime_emulator emu({std::chrono::milliseconds(10000)});
    emu.set_process(shell(script));
    auto r = emu.invoke("{}");
    EXPECT_TRUE(r.function_error);
    EXPECT_EQ(r.error_type, "Function.ResponseSizeTooLarge");
    for (int i = 0; i < 100; ++i) {
        bool seen = false;
        for (const auto& l : emu.output()) seen = seen || l.starts_with("wrong=");
        if (seen) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    bool found = false;
    for (const auto& l : emu.output()) found = found || l == "wrong=400 big=413";
    EXPECT_TRUE(found);
    fs::remove(big);
}

}  // namespace
}  // namespace frost::emulators::lambda
