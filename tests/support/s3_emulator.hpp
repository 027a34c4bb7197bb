#pragma once

// S3 for tests: s3rver (tests/emulators/s3) behind the conditional, signature-checking front
// (tests/emulators/s3_conditional/front.py), started as child processes and stopped on
// destruction. Users link frost_snapshot (for `perform`).

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "snapshot/http_exchange.hpp"

extern char** environ;

namespace frost::testing {

/// A child process whose first line matching "listening on 127.0.0.1:<port>" gives its port.
class listening_process {
public:
    listening_process(std::vector<std::string> argv, std::chrono::seconds startup) {
        int fds[2];
        if (::pipe(fds) != 0) throw std::runtime_error("pipe");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
        posix_spawn_file_actions_addclose(&actions, fds[0]);
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);  // its own group: node children die with it
        posix_spawnattr_setpgroup(&attr, 0);
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        const int rc = ::posix_spawnp(&pid_, args[0], &actions, &attr, args.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
        ::close(fds[1]);
        if (rc != 0) {
            ::close(fds[0]);
            throw std::runtime_error("cannot start " + argv[0]);
        }
        std::FILE* out = ::fdopen(fds[0], "r");
        const auto until = std::chrono::steady_clock::now() + startup;
        char line[512];
        while (std::chrono::steady_clock::now() < until && std::fgets(line, sizeof line, out)) {
            const std::string text(line);
            if (auto at = text.find("listening on 127.0.0.1:"); at != std::string::npos) {
                port_ = std::stoi(text.substr(at + 23));
                break;
            }
        }
        reader_ = std::thread([out] {  // drain the rest so the child never blocks on a full pipe
            char buf[4096];
            while (std::fgets(buf, sizeof buf, out)) {
            }
            std::fclose(out);
        });
        if (port_ == 0) {
            stop();
            throw std::runtime_error("no listening line from " + argv[0]);
        }
    }
    ~listening_process() { stop(); }
    listening_process(const listening_process&) = delete;
    listening_process& operator=(const listening_process&) = delete;

    [[nodiscard]] int port() const { return port_; }
    [[nodiscard]] std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }

private:
    void stop() {
        if (pid_ > 0) {
            ::kill(-pid_, SIGTERM);
            int status = 0;
            ::waitpid(pid_, &status, 0);
            pid_ = -1;
        }
        if (reader_.joinable()) reader_.join();
    }
    pid_t pid_ = -1;
    int port_ = 0;
    std::thread reader_;
};

/// One bucket in s3rver behind the front, which accepts only requests signed with `key_id` and
/// `secret`. Not thread-safe to construct; the accessors are.
class s3_emulator {
public:
    /// Starts both (s3rver installs itself on first use: allow minutes). Throws std::runtime_error.
    s3_emulator(const std::filesystem::path& data_dir, std::string bucket, std::string key_id, std::string secret)
        : bucket_(std::move(bucket)), key_id_(std::move(key_id)), secret_(std::move(secret)) {
        using namespace std::chrono_literals;
        const std::string root = FROST_SOURCE_DIR;
        s3rver_ = std::make_unique<listening_process>(
            std::vector<std::string>{root + "/tests/emulators/s3/run-s3rver.sh", data_dir.string(), bucket_}, 240s);
        front_ = std::make_unique<listening_process>(
            std::vector<std::string>{"python3", root + "/tests/emulators/s3_conditional/front.py", "--backend",
                                     s3rver_->base(), "--key-id", key_id_, "--secret", secret_},
            30s);
    }

    [[nodiscard]] const std::string& bucket() const { return bucket_; }
    /// The front's base URL: AWS_ENDPOINT_URL_S3.
    [[nodiscard]] std::string endpoint() const { return front_->base(); }
    /// s3rver itself, which takes unsigned requests: for tests that damage objects behind the front.
    [[nodiscard]] std::string backend() const { return s3rver_->base(); }
    /// "NAME=value" settings that point an S3 client at the front with the right credentials.
    [[nodiscard]] std::vector<std::string> environment() const {
        return {"AWS_ENDPOINT_URL_S3=" + endpoint(), "AWS_ACCESS_KEY_ID=" + key_id_, "AWS_SECRET_ACCESS_KEY=" + secret_,
                "AWS_REGION=us-east-1"};
    }
    /// Sets `environment()` in this process (and clears AWS_SESSION_TOKEN).
    void export_environment() const {
        for (const auto& e : environment()) {
            const auto eq = e.find('=');
            ::setenv(e.substr(0, eq).c_str(), e.substr(eq + 1).c_str(), 1);
        }
        ::unsetenv("AWS_SESSION_TOKEN");
    }
    /// The object `key` of the bucket, read unsigned from s3rver: the status and body.
    [[nodiscard]] std::pair<int, std::string> get_unchecked(const std::string& key) const {
        snapshot::http_request req;
        req.method = "GET";
        req.url = backend() + "/" + bucket_ + "/" + key;
        auto got = snapshot::perform(req);
        return {got.status, got.body};
    }
    /// Replaces the object `key` with `bytes` behind the front (s3rver takes any write); throws
    /// std::runtime_error when s3rver refuses.
    void put_unchecked(const std::string& key, const std::string& bytes) const {
        snapshot::http_request req;
        req.method = "PUT";
        req.url = backend() + "/" + bucket_ + "/" + key;
        req.body = bytes;
        req.headers = {{"Content-Type", "application/octet-stream"}};
        auto put = snapshot::perform(req);
        if (put.status != 200)
            throw std::runtime_error("s3rver PUT " + key + ": " + std::to_string(put.status) + " " +
                                     put.transport_error + put.body);
    }

private:
    std::string bucket_, key_id_, secret_;
    std::unique_ptr<listening_process> s3rver_, front_;
};

}  // namespace frost::testing
