// `make lambda-package` end to end: the script builds the zip from the test build's binary,
// the zip is unpacked, and its `bootstrap` runs under the emulator in a clean environment with
// LD_LIBRARY_PATH empty, answering every seed route like the HTTP server over the same data.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>

#include "emulators/lambda/gateway.hpp"
#include "emulators/lambda/runtime_emulator.hpp"
#include "integration/lambda/compare.hpp"
#include "support/test_server.hpp"

namespace frost::testing {
namespace {

namespace fs = std::filesystem;
namespace emu = frost::emulators::lambda;

std::string run(const std::string& command) {
    std::array<char, 4096> buf{};
    std::string out;
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(("(" + command + ") 2>&1").c_str(), "r"), ::pclose);
    if (!pipe) throw std::runtime_error("cannot run " + command);
    while (auto n = std::fread(buf.data(), 1, buf.size(), pipe.get())) out.append(buf.data(), n);
    return out;
}

class LambdaPackage : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = fs::temp_directory_path() / ("frost-lambda-package-" + std::to_string(::getpid()));
        fs::remove_all(dir_);
        fs::create_directories(dir_ / "task");
        fs::create_directories(dir_ / "tmp");
        // ctest builds the zip once (the lambda_package_zip fixture); run alone, the test builds it.
        std::string zip = FROST_PACKAGE_ZIP;
        std::string build;
        if (!fs::exists(zip)) {
            zip = (dir_ / "frost-lambda.zip").string();
            build = std::string(FROST_SOURCE_DIR) + "/scripts/package-lambda.sh --binary " + FROST_BINARY +
                    " --trips 100k --out " + zip + " && ";
        }
        log_ = run(build + "cd " + (dir_ / "task").string() + " && unzip -q " + zip + " && echo PACKAGED");
    }
    static void TearDownTestSuite() {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    void SetUp() override { ASSERT_NE(log_.find("PACKAGED"), std::string::npos) << log_; }

    static fs::path task() { return dir_ / "task"; }
    static emu::process_spec bootstrap() {
        // Nothing from this process: only what Lambda sets, LD_LIBRARY_PATH deliberately empty.
        return {{(task() / "bootstrap").string()},
                // The cursor key the test server uses (tests/support/test_server.cpp), as a deployment
                // sets one for all its instances: paged answers carry the same signed cursor.
                {"LD_LIBRARY_PATH=", "TMPDIR=" + (dir_ / "tmp").string(),
                 "FROST_CURSOR_KEY=frost-tests-cursor-key-0123456789abcdef"},
                task().string()};
    }

    static fs::path dir_;
    static std::string log_;
};
fs::path LambdaPackage::dir_;
std::string LambdaPackage::log_;

TEST_F(LambdaPackage, HoldsBootstrapBinaryConfigDataAndItsOwnLoaderAndLibc) {
    struct stat st {};
    ASSERT_EQ(::stat((task() / "bootstrap").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0755u) << "bootstrap lost its mode in the zip";
    EXPECT_TRUE(fs::exists(task() / "bin/frost"));
    EXPECT_TRUE(fs::exists(task() / "config/frost.yaml"));
    EXPECT_TRUE(fs::exists(task() / "data/citibike.duckdb"));
    EXPECT_TRUE(fs::exists(task() / "data/serving.duckdb")) << "rollups were not prebuilt";
    EXPECT_TRUE(fs::exists(task() / "data/serving.duckdb.prefix")) << "no answer index beside the serving file";
    EXPECT_TRUE(fs::exists(task() / "lib/libc.so.6"));
    EXPECT_TRUE(fs::exists(task() / "lib/libduckdb.so"));
    bool loader = false;
    for (const auto& e : fs::directory_iterator(task() / "lib"))
        loader = loader || e.path().filename().string().starts_with("ld-linux");
    EXPECT_TRUE(loader);
}

TEST_F(LambdaPackage, EveryLibraryResolvesInsideThePackage) {
    std::string ld;
    for (const auto& e : fs::directory_iterator(task() / "lib"))
        if (e.path().filename().string().starts_with("ld-linux")) ld = e.path().string();
    ASSERT_FALSE(ld.empty());
    const auto listing = run("env -i " + ld + " --list --library-path " + (task() / "lib").string() + " " +
                             (task() / "bin/frost").string());
    int resolved = 0;
    std::istringstream lines(listing);
    for (std::string line; std::getline(lines, line);) {
        const auto arrow = line.find("=> ");
        if (arrow == std::string::npos) continue;
        const auto path = line.substr(arrow + 3, line.find(' ', arrow + 3) - arrow - 3);
        EXPECT_TRUE(path.starts_with(task().string())) << line;
        ++resolved;
    }
    EXPECT_GT(resolved, 5) << listing;
}

TEST_F(LambdaPackage, UnzippedBootstrapAnswersEverySeedRouteFromACleanEnvironment) {
    emu::runtime_emulator emulator({std::chrono::seconds(60)});
    emulator.set_process(bootstrap());
    const auto cfg = default_config((task() / "data/citibike.duckdb").string());
    test_server http(cfg);
    int cold = 0;
    for (const auto& target : seed_targets(cfg)) {
        for (auto door : {emu::front_door::rest, emu::front_door::http_api}) {
            SCOPED_TRACE(target + " via " + std::string(emu::door_name(door)));
            emu::http_call call;
            call.target = target;
            call.stage = "dev";
            auto r = emulator.invoke(emu::make_event(door, call));
            ASSERT_EQ(r.status, 200) << r.body;
            ASSERT_FALSE(r.function_error) << r.body;
            if (r.init_duration) {
                ++cold;
                std::printf("package cold start: init %.1f ms (CPU %.1f ms), first response %.1f ms\n",
                            r.init_duration->count() / 1000.0, r.init_cpu ? r.init_cpu->count() / 1000.0 : -1.0,
                            r.duration.count() / 1000.0);
            }
            expect_same_answer(http.get(target), emu::read_reply(door, r.body));
        }
    }
    EXPECT_EQ(cold, 1) << "the runtime restarted: it crashed or timed out";
    bool emf = false;
    for (const auto& line : emulator.output()) emf = emf || line.starts_with("{\"_aws\"");
    EXPECT_TRUE(emf);
}

}  // namespace
}  // namespace frost::testing
