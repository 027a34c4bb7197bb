#include "emulators/lambda/runtime_emulator.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <regex>
#include <thread>

namespace frost::emulators::lambda {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;

namespace {

constexpr std::size_t max_payload = 6 * 1024 * 1024 + 100;  // the RIE's MaxPayloadSize
constexpr std::string_view prefix = "/2018-06-01/runtime/";

std::string make_uuid() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    char buf[40];
    const auto a = rng(), b = rng();
    std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                  static_cast<unsigned>((a >> 16) & 0xFFFF), static_cast<unsigned>(a & 0xFFF),
                  static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3FFF)),
                  static_cast<unsigned long long>(b & 0xFFFFFFFFFFFFULL));
    return buf;
}

std::int64_t epoch_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string error_json(std::string_view type, std::string_view message) {
    return boost::json::serialize(boost::json::object{{"errorMessage", message}, {"errorType", type}});
}

// The RIE keeps a well-formed `Category.Reason` and files anything else as Unknown.
std::string sanitize_error_type(std::string_view t) {
    static const std::regex ok("(Runtime|Function)\\.[A-Z][a-zA-Z]+");
    if (std::regex_match(t.begin(), t.end(), ok)) return std::string(t);
    return t.starts_with("Function.") ? "Function.Unknown" : "Runtime.Unknown";
}

// CPU nanoseconds used so far by every thread of `pid` (the first field of schedstat).
std::optional<std::chrono::microseconds> cpu_time(pid_t pid) {
    std::error_code ec;
    long long ns = 0;
    for (const auto& t : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
        std::ifstream f(t.path() / "schedstat");
        long long v = 0;
        if (f >> v) ns += v;
    }
    if (ec || ns == 0) return std::nullopt;
    return std::chrono::microseconds(ns / 1000);
}

}  // namespace

struct runtime_emulator::impl {
    emulator_options opts;
    net::io_context ioc;
    tcp::acceptor acceptor{ioc};
    std::uint16_t port = 0;
    std::thread accept_thread;

    mutable std::mutex m;
    std::condition_variable cv;
    bool stopping = false;
    std::vector<std::thread> connections;
    std::vector<int> connection_fds;
    std::uint64_t generation = 0;  // bumped when a runtime process is replaced

    struct pending {
        std::string id;
        std::string payload;
        std::int64_t deadline_ms = 0;
        std::string trace_id;
        bool delivered = false;
        bool done = false;
        invoke_result result;
    };
    std::optional<pending> current;
    std::optional<std::pair<std::string, std::string>> init_error;  // type, body

    std::optional<process_spec> spec;
    pid_t child = -1;
    std::thread reader;
    steady::time_point spawned_at;
    std::optional<steady::time_point> first_next_at;
    std::optional<std::chrono::microseconds> init_cpu;

    mutable std::mutex out_m;
    std::vector<std::string> lines;

    void echo(const std::string& s) const {
        if (opts.echo_output) std::cerr << s << '\n';
    }

    void accept_loop() {
        for (;;) {
            beast::error_code ec;
            tcp::socket socket(ioc);
            acceptor.accept(socket, ec);
            std::lock_guard lock(m);
            if (ec || stopping) return;
            connection_fds.push_back(socket.native_handle());
            const auto gen = generation;
            connections.emplace_back([this, s = std::move(socket), gen]() mutable { serve(std::move(s), gen); });
        }
    }

    void serve(tcp::socket socket, std::uint64_t gen) {
        beast::flat_buffer buffer;
        for (;;) {
            beast::error_code ec;
            http::request_parser<http::string_body> parser;
            parser.body_limit(4 * max_payload);
            http::read(socket, buffer, parser, ec);
            if (ec) break;
            auto req = parser.release();
            auto res = route(req, gen);
            if (!res) break;  // stopping, or this runtime was replaced
            res->version(11);
            res->keep_alive(req.keep_alive());
            res->prepare_payload();
            http::write(socket, *res, ec);
            if (ec || !req.keep_alive()) break;
        }
        beast::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_both, ignored);
    }

    static http::response<http::string_body> reply(http::status s, std::string body) {
        http::response<http::string_body> r{s, 11};
        r.set(http::field::content_type, "application/json");
        r.body() = std::move(body);
        return r;
    }

    std::optional<http::response<http::string_body>> route(const http::request<http::string_body>& req,
                                                           std::uint64_t gen) {
        std::string target(req.target());
        if (target == "/2018-06-01/ping") return reply(http::status::ok, "pong");
        if (!target.starts_with(prefix))
            return reply(http::status::not_found, error_json("NotFound", "no such resource"));
        const std::string rest = target.substr(prefix.size());
        if (rest == "invocation/next" && req.method() == http::verb::get) return next(gen);
        if (rest == "init/error" && req.method() == http::verb::post) {
            std::lock_guard lock(m);
            const auto type = sanitize_error_type(req["Lambda-Runtime-Function-Error-Type"]);
            init_error = std::make_pair(type, req.body());
            if (current && !current->done) {
                current->result.status = 502;
                current->result.body = req.body();
                current->result.error_type = type;
                current->done = true;
                cv.notify_all();
            }
            return reply(http::status::accepted, R"({"status":"OK"})");
        }
        static const std::regex answer("invocation/([^/]+)/(response|error)");
        std::smatch match;
        if (req.method() == http::verb::post && std::regex_match(rest, match, answer)) {
            std::lock_guard lock(m);
            if (!current || current->id != match[1].str() || !current->delivered || current->done)
                return reply(http::status::bad_request, error_json("InvalidRequestID", "Invalid request ID"));
            auto& r = current->result;
            if (match[2] == "response") {
                if (req.body().size() > max_payload) {
                    r.status = 200;
                    r.function_error = true;
                    r.error_type = "Function.ResponseSizeTooLarge";
                    r.body =
                        error_json(r.error_type, "Response payload size (" + std::to_string(req.body().size()) +
                                                     " bytes) exceeded maximum allowed payload size (6291556 bytes).");
                    current->done = true;
                    cv.notify_all();
                    return reply(
                        http::status::payload_too_large,
                        error_json("RequestEntityTooLarge", "Exceeded maximum allowed payload size (6291556 bytes)."));
                }
                r.status = 200;
                r.body = req.body();
            } else {
                r.status = 200;
                r.function_error = true;
                r.body = req.body();
                std::string type(req["Lambda-Runtime-Function-Error-Type"]);
                if (type.empty()) {
                    boost::system::error_code ec;
                    auto doc = boost::json::parse(req.body(), ec);
                    if (!ec && doc.is_object() && doc.as_object().contains("errorType") &&
                        doc.as_object().at("errorType").is_string())
                        type = std::string(doc.as_object().at("errorType").as_string());
                }
                r.error_type = sanitize_error_type(type);
            }
            current->done = true;
            cv.notify_all();
            return reply(http::status::accepted, R"({"status":"OK"})");
        }
        return reply(http::status::not_found, error_json("NotFound", "no such resource"));
    }

    std::optional<http::response<http::string_body>> next(std::uint64_t gen) {
        std::unique_lock lock(m);
        // A request a killed runtime left in its socket must not count as the new one's.
        if (gen != generation) return std::nullopt;
        if (spec && !first_next_at) {
            first_next_at = steady::now();
            if (child > 0) init_cpu = cpu_time(child);
        }
        if (current && current->delivered && !current->done)
            return reply(
                http::status::forbidden,
                error_json("InvalidStateTransition", "State transition from Invoking to Ready failed for runtime"));
        cv.wait(lock,
                [&] { return stopping || gen != generation || (current && !current->delivered && !current->done); });
        if (stopping || gen != generation) return std::nullopt;
        current->delivered = true;
        http::response<http::string_body> r{http::status::ok, 11};
        r.set("Lambda-Runtime-Aws-Request-Id", current->id);
        r.set("Lambda-Runtime-Deadline-Ms", std::to_string(current->deadline_ms));
        r.set("Lambda-Runtime-Invoked-Function-Arn",
              "arn:aws:lambda:us-east-1:012345678912:function:" + opts.function_name);
        if (!current->trace_id.empty()) r.set("Lambda-Runtime-Trace-Id", current->trace_id);
        r.set(http::field::content_type, "application/json");
        r.body() = current->payload;
        return r;
    }

    // Called with `m` held.
    void spawn() {
        ++generation;
        first_next_at.reset();
        init_cpu.reset();
        std::vector<std::string> env = spec->env;
        auto has = [&](std::string_view name) {
            return std::any_of(env.begin(), env.end(), [&](const std::string& e) {
                return e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=';
            });
        };
        auto set_default = [&](std::string_view name, const std::string& value) {
            if (!has(name)) env.push_back(std::string(name) + "=" + value);
        };
        env.push_back("AWS_LAMBDA_RUNTIME_API=127.0.0.1:" + std::to_string(port));
        set_default("_HANDLER", "bootstrap");
        set_default("LAMBDA_TASK_ROOT", spec->cwd.empty() ? std::string("/var/task") : spec->cwd);
        set_default("LAMBDA_RUNTIME_DIR", "/var/runtime");
        set_default("AWS_LAMBDA_FUNCTION_NAME", opts.function_name);
        set_default("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
        set_default("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", std::to_string(opts.memory_mb));
        set_default("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/Functions");
        set_default("AWS_LAMBDA_LOG_STREAM_NAME", "$LATEST");
        set_default("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
        set_default("AWS_REGION", "us-east-1");
        set_default("AWS_DEFAULT_REGION", "us-east-1");
        set_default("TZ", "UTC");
        set_default("LANG", "en_US.UTF-8");
        set_default("PATH", "/usr/local/bin:/usr/bin:/bin");
        // Everything the child needs is built before fork: after it only async-signal-safe calls.
        std::vector<char*> argv, envp;
        for (auto& a : spec->argv) argv.push_back(a.data());
        argv.push_back(nullptr);
        for (auto& e : env) envp.push_back(e.data());
        envp.push_back(nullptr);
        const char* cwd = spec->cwd.empty() ? nullptr : spec->cwd.c_str();
        int pipefd[2];
        if (::pipe2(pipefd, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
        spawned_at = steady::now();
        const pid_t pid = ::fork();
        if (pid < 0) throw std::runtime_error("fork failed");
        if (pid == 0) {
            ::setpgid(0, 0);
            ::dup2(pipefd[1], 1);
            ::dup2(pipefd[1], 2);
            const int devnull = ::open("/dev/null", O_RDONLY);
            if (devnull >= 0) ::dup2(devnull, 0);
            // Sockets of the emulator (Asio does not mark them close-on-exec) must not leak
            // into the runtime, or it could reconnect to an inherited listener and hang.
            ::close_range(3, ~0U, 0);
            if (cwd && ::chdir(cwd) != 0) ::_exit(126);
            ::execve(argv[0], argv.data(), envp.data());
            ::_exit(127);
        }
        ::close(pipefd[1]);
        child = pid;
        if (reader.joinable()) reader.join();
        reader = std::thread([this, fd = pipefd[0]] {
            std::string partial;
            char buf[4096];
            for (;;) {
                const auto n = ::read(fd, buf, sizeof buf);
                if (n <= 0) break;
                partial.append(buf, static_cast<std::size_t>(n));
                for (auto nl = partial.find('\n'); nl != std::string::npos; nl = partial.find('\n')) {
                    std::string line = partial.substr(0, nl);
                    partial.erase(0, nl + 1);
                    echo(line);
                    std::lock_guard lock(out_m);
                    lines.push_back(std::move(line));
                }
            }
            if (!partial.empty()) {
                std::lock_guard lock(out_m);
                lines.push_back(partial);
            }
            ::close(fd);
        });
    }

    // Called with `m` held: kill the runtime and everything it started, then reap it.
    void kill_child() {
        if (child <= 0) return;
        ::kill(-child, SIGKILL);
        ::kill(child, SIGKILL);
        int status = 0;
        ::waitpid(child, &status, 0);
        child = -1;
        ++generation;
        cv.notify_all();
    }
};

runtime_emulator::runtime_emulator(emulator_options options) : impl_(std::make_unique<impl>()) {
    impl_->opts = std::move(options);
    tcp::endpoint ep(net::ip::make_address("127.0.0.1"), 0);
    impl_->acceptor.open(ep.protocol());
    impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    impl_->acceptor.bind(ep);
    impl_->acceptor.listen();
    impl_->port = impl_->acceptor.local_endpoint().port();
    impl_->accept_thread = std::thread([p = impl_.get()] { p->accept_loop(); });
}

runtime_emulator::~runtime_emulator() {
    stop();
    if (impl_->reader.joinable()) impl_->reader.join();
}

std::string runtime_emulator::runtime_api() const {
    return "127.0.0.1:" + std::to_string(impl_->port);
}

void runtime_emulator::set_process(process_spec spec) {
    std::lock_guard lock(impl_->m);
    impl_->kill_child();
    impl_->spec = std::move(spec);
    impl_->init_error.reset();
}

std::vector<std::string> runtime_emulator::output() const {
    std::lock_guard lock(impl_->out_m);
    return impl_->lines;
}

void runtime_emulator::stop() {
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(impl_->m);
        if (impl_->stopping) return;
        impl_->stopping = true;
        ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
        for (int fd : impl_->connection_fds) ::shutdown(fd, SHUT_RDWR);
        impl_->cv.notify_all();
    }
    impl_->accept_thread.join();
    {
        std::lock_guard lock(impl_->m);
        threads = std::move(impl_->connections);
    }
    for (auto& t : threads) t.join();
    beast::error_code ec;
    impl_->acceptor.close(ec);
    // Like Lambda's shutdown: the runtime may exit by itself (its API is gone) within 2 s,
    // then it is killed.
    std::lock_guard lock(impl_->m);
    for (int i = 0; i < 400 && impl_->child > 0; ++i) {
        int status = 0;
        if (::waitpid(impl_->child, &status, WNOHANG) == impl_->child) {
            impl_->child = -1;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    impl_->kill_child();
}

invoke_result runtime_emulator::invoke(std::string payload, const invoke_options& options) {
    auto& p = *impl_;
    std::unique_lock lock(p.m);
    invoke_result out;
    if (p.current || p.stopping) {
        out.status = 400;
        out.body = error_json("ErrAlreadyInvocating", "the function is busy with another invoke");
        return out;
    }
    const auto started = steady::now();
    const auto timeout = options.timeout.value_or(p.opts.timeout);
    bool cold = false;
    if (p.spec && p.child <= 0) {
        if (p.init_error) {  // the cached init error answers until the process is replaced
            out.status = 502;
            out.error_type = p.init_error->first;
            out.body = p.init_error->second;
            p.init_error.reset();
            return out;
        }
        p.spawn();
        cold = true;
    }
    impl::pending inv;
    inv.id = make_uuid();
    inv.payload = std::move(payload);
    inv.deadline_ms = epoch_ms() + timeout.count();
    inv.trace_id = options.trace_id;
    out.request_id = inv.id;
    p.current = std::move(inv);
    p.cv.notify_all();
    p.echo("START RequestId: " + out.request_id + " Version: $LATEST");

    const auto deadline = started + timeout;
    for (;;) {
        if (p.current->done) {
            auto r = std::move(p.current->result);
            r.request_id = out.request_id;
            out = std::move(r);
            break;
        }
        if (p.child > 0) {
            int status = 0;
            if (::waitpid(p.child, &status, WNOHANG) == p.child) {
                p.child = -1;
                ++p.generation;
                p.cv.notify_all();
                out.crashed = true;
                out.status = 502;
                if (p.init_error) {
                    out.error_type = p.init_error->first;
                    out.body = p.init_error->second;
                    p.init_error.reset();
                } else {
                    std::string why =
                        WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "Runtime exited without providing a reason"
                        : WIFEXITED(status)
                            ? "Runtime exited with error: exit status " + std::to_string(WEXITSTATUS(status))
                            : "Runtime exited with error: signal: " + std::to_string(WTERMSIG(status));
                    out.error_type = "Runtime.ExitError";
                    out.body = error_json(out.error_type, "RequestId: " + out.request_id + " Error: " + why);
                }
                break;
            }
        }
        if (steady::now() >= deadline) {
            p.kill_child();
            out.timed_out = true;
            out.status = 200;
            out.error_type = "Sandbox.Timedout";
            char secs[32];
            std::snprintf(secs, sizeof secs, "%.2f", std::chrono::duration<double>(timeout).count());
            out.body = std::string("Task timed out after ") + secs + " seconds";
            break;
        }
        p.cv.wait_for(lock, std::chrono::milliseconds(1));
    }
    p.current.reset();
    out.duration = std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - started);
    if (cold && p.first_next_at) {
        out.init_duration = std::chrono::duration_cast<std::chrono::microseconds>(*p.first_next_at - p.spawned_at);
        out.init_cpu = p.init_cpu;
    }
    p.echo("END RequestId: " + out.request_id);
    char init[64] = "";
    if (out.init_duration)
        std::snprintf(init, sizeof init, "Init Duration: %.2f ms\t", out.init_duration->count() / 1000.0);
    char report[256];
    std::snprintf(report, sizeof report, "REPORT RequestId: %s\t%sDuration: %.2f ms\tMemory Size: %u MB",
                  out.request_id.c_str(), init, out.duration.count() / 1000.0, p.opts.memory_mb);
    p.echo(report);
    return out;
}

}  // namespace frost::emulators::lambda
