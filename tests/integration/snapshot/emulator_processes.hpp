#pragma once

// Starts s3rver (tests/emulators/s3) and the conditional, signature-checking front
// (tests/emulators/s3_conditional/front.py) for the snapshot tests; stops them on destruction.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

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

}  // namespace frost::testing
