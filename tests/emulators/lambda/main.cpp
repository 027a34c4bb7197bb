// frost-lambda-emulator: runs a Lambda custom runtime (e.g. the packaged `bootstrap`) under
// the emulated Runtime API and serves it like the Runtime Interface Emulator, plus an API
// Gateway front door for plain HTTP clients:
//
//   frost-lambda-emulator [--port 9000] [--timeout 29] [--door http_api] [--clean-env] [--env K=V] -- ./bootstrap
//   curl -XPOST localhost:9000/2015-03-31/functions/function/invocations -d @event.json
//   curl localhost:9000/trips/monthly        # wrapped in an HTTP API event, answer unwrapped
//
//   frost-lambda-emulator --cold-starts 20 --path /trips/monthly -- ./bootstrap
//   prints init and first-response times over 20 fresh processes. Every cold start must answer
//   HTTP 200. --fresh-tmpdir DIR gives each one an empty TMPDIR under DIR (a new execution
//   environment's /tmp); --expect-log TEXT fails unless each one logs a line containing TEXT;
//   --print-answer prints the first answer's body.
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "emulators/lambda/gateway.hpp"
#include "emulators/lambda/runtime_emulator.hpp"

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace frost::emulators::lambda;

extern char** environ;

namespace {

int usage() {
    std::cerr << "usage: frost-lambda-emulator [--port N] [--timeout SECONDS] [--door rest|http_api|function_url|alb]\n"
                 "                             [--clean-env] [--env NAME=VALUE]... [--quiet] [--cold-starts N --path "
                 "/route\n"
                 "                             [--fresh-tmpdir DIR] [--expect-log TEXT] [--print-answer]]\n"
                 "                             -- program [args...]\n";
    return 2;
}

std::optional<front_door> parse_door(const std::string& s) {
    for (auto d : {front_door::rest, front_door::http_api, front_door::function_url, front_door::alb,
                   front_door::alb_multi_value})
        if (door_name(d) == s) return d;
    return std::nullopt;
}

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5)];
}

std::size_t lines_containing(const runtime_emulator& emulator, const std::string& text) {
    std::size_t n = 0;
    for (const auto& line : emulator.output())
        if (line.find(text) != std::string::npos) ++n;
    return n;
}

}  // namespace

int main(int argc, char** argv) {
    unsigned short port = 9000;
    double timeout_s = 29;
    front_door door = front_door::http_api;
    bool clean_env = false, quiet = false, print_answer = false;
    int cold_starts = 0;
    std::string path = "/", fresh_tmpdir, expect_log;
    process_spec spec;
    std::vector<std::string> extra_env;
    int i = 1;
    for (; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
        if (a == "--") {
            ++i;
            break;
        } else if (a == "--port") {
            port = static_cast<unsigned short>(std::atoi(value().c_str()));
        } else if (a == "--timeout") {
            timeout_s = std::atof(value().c_str());
        } else if (a == "--door") {
            auto d = parse_door(value());
            if (!d) return usage();
            door = *d;
        } else if (a == "--clean-env") {
            clean_env = true;
        } else if (a == "--env") {
            extra_env.push_back(value());
        } else if (a == "--quiet") {
            quiet = true;
        } else if (a == "--cold-starts") {
            cold_starts = std::atoi(value().c_str());
        } else if (a == "--path") {
            path = value();
        } else if (a == "--fresh-tmpdir") {
            fresh_tmpdir = value();
        } else if (a == "--expect-log") {
            expect_log = value();
        } else if (a == "--print-answer") {
            print_answer = true;
        } else {
            return usage();
        }
    }
    if (i >= argc) return usage();
    for (; i < argc; ++i) spec.argv.emplace_back(argv[i]);
    if (spec.argv[0].find('/') == std::string::npos) spec.argv[0] = "./" + spec.argv[0];
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd)) spec.cwd = cwd;
    // Like the RIE, the runtime gets this process's environment unless asked for a clean one.
    if (!clean_env)
        for (char** e = environ; *e; ++e)
            if (std::strncmp(*e, "AWS_LAMBDA_RUNTIME_API=", 23) != 0) spec.env.emplace_back(*e);
    for (auto& e : extra_env) spec.env.push_back(std::move(e));

    emulator_options options;
    options.timeout = std::chrono::milliseconds(static_cast<long long>(timeout_s * 1000));
    options.echo_output = !quiet && cold_starts == 0;
    runtime_emulator emulator(options);

    if (cold_starts > 0) {
        std::vector<double> init, first, cpu;
        http_call call;
        call.target = path;
        auto fail = [&](int n, const std::string& why) {
            std::cerr << "cold start " << n << " failed: " << why << '\n';
            for (const auto& l : emulator.output()) std::cerr << "  | " << l << '\n';
            return 1;
        };
        for (int n = 0; n < cold_starts; ++n) {
            process_spec fresh = spec;  // a fresh process every time: each invoke is cold
            if (!fresh_tmpdir.empty()) {
                const auto tmp = std::filesystem::path(fresh_tmpdir) / ("cold-" + std::to_string(n));
                std::filesystem::create_directories(tmp);
                std::erase_if(fresh.env, [](const std::string& e) { return e.starts_with("TMPDIR="); });
                fresh.env.push_back("TMPDIR=" + tmp.string());
            }
            const auto logged_before = expect_log.empty() ? 0 : lines_containing(emulator, expect_log);
            emulator.set_process(std::move(fresh));
            auto r = emulator.invoke(make_event(door, call));
            if (r.status != 200 || r.function_error || !r.init_duration)
                return fail(n, std::to_string(r.status) + ' ' + r.body.substr(0, 300));
            // An error page is not a cold start of the route: the data must have been served.
            const auto reply = read_reply(door, r.body);
            if (reply.status != 200)
                return fail(n, "HTTP " + std::to_string(reply.status) + ' ' + reply.body.substr(0, 300));
            if (print_answer && n == 0) std::printf("first answer: HTTP %d %s\n", reply.status, reply.body.c_str());
            if (!expect_log.empty()) {
                // The runtime's output arrives through a pipe: allow its reader a moment.
                const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
                while (lines_containing(emulator, expect_log) == logged_before &&
                       std::chrono::steady_clock::now() < until)
                    std::this_thread::sleep_for(std::chrono::milliseconds(10));
                if (lines_containing(emulator, expect_log) == logged_before)
                    return fail(n, "no log line containing \"" + expect_log + "\"");
            }
            init.push_back(static_cast<double>(r.init_duration->count()) / 1000.0);
            first.push_back(static_cast<double>(r.duration.count()) / 1000.0);
            if (r.init_cpu) cpu.push_back(static_cast<double>(r.init_cpu->count()) / 1000.0);
        }
        std::printf("cold starts: %d, path %s, door %s, every answer HTTP 200%s\n", cold_starts, path.c_str(),
                    std::string(door_name(door)).c_str(),
                    expect_log.empty() ? "" : (", each logged \"" + expect_log + "\"").c_str());
        std::printf("init (process start -> first /next): median %.1f ms, p90 %.1f ms, min %.1f ms, max %.1f ms\n",
                    percentile(init, 0.5), percentile(init, 0.9), *std::min_element(init.begin(), init.end()),
                    *std::max_element(init.begin(), init.end()));
        std::printf(
            "first response (invoke -> answer, init included): median %.1f ms, p90 %.1f ms, min %.1f ms, max %.1f ms\n",
            percentile(first, 0.5), percentile(first, 0.9), *std::min_element(first.begin(), first.end()),
            *std::max_element(first.begin(), first.end()));
        if (!cpu.empty())
            std::printf(
                "init CPU time (all threads, by first /next): median %.1f ms, p90 %.1f ms, min %.1f ms, max %.1f ms\n",
                percentile(cpu, 0.5), percentile(cpu, 0.9), *std::min_element(cpu.begin(), cpu.end()),
                *std::max_element(cpu.begin(), cpu.end()));
        double load[3] = {0, 0, 0};
        if (::getloadavg(load, 3) > 0)
            std::printf("load average while measuring: %.2f %.2f %.2f\n", load[0], load[1], load[2]);
        return 0;
    }

    emulator.set_process(spec);
    net::io_context ioc;
    tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    std::cerr << "frost-lambda-emulator: invoke at http://127.0.0.1:" << acceptor.local_endpoint().port()
              << "/2015-03-31/functions/function/invocations, front door (" << door_name(door)
              << ") at the same address\n";
    for (;;) {
        tcp::socket socket(ioc);
        acceptor.accept(socket);
        beast::flat_buffer buffer;
        beast::error_code ec;
        http::request<http::string_body> req;
        http::read(socket, buffer, req, ec);
        if (ec) continue;
        http::response<http::string_body> res{http::status::ok, 11};
        res.set(http::field::content_type, "application/json");
        if (req.target() == "/2015-03-31/functions/function/invocations") {
            auto r = emulator.invoke(req.body());
            res.result(static_cast<unsigned>(r.status));
            if (r.function_error) res.set("X-Amz-Function-Error", "Unhandled");
            res.body() = r.body;
        } else {
            http_call call;
            call.method = std::string(req.method_string());
            call.target = std::string(req.target());
            for (const auto& f : req)
                if (f.name() != http::field::host)
                    call.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
            call.headers.emplace_back("Host", "127.0.0.1");
            call.body = req.body();
            auto r = emulator.invoke(make_event(door, call));
            if (r.timed_out) {
                res.result(http::status::gateway_timeout);
                res.body() = R"({"message":"Endpoint request timed out"})";
            } else if (r.status != 200 || r.function_error) {
                res.result(http::status::bad_gateway);
                res.body() = R"({"message":"Internal server error"})";
            } else {
                auto reply = read_reply(door, r.body);
                res.result(static_cast<unsigned>(reply.status));
                res.erase(http::field::content_type);
                for (const auto& [k, v] : reply.headers) res.insert(k, v);
                res.body() = reply.body;
            }
        }
        res.keep_alive(false);
        res.prepare_payload();
        http::write(socket, res, ec);
    }
}
