#include "support/test_server.hpp"

#include <gtest/gtest.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <filesystem>
#include <mutex>

#include "app/assemble.hpp"
#include "data/generator.hpp"

namespace frost::testing {

namespace fs = std::filesystem;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;

std::string sample_database(std::uint64_t trips) {
    static std::mutex mutex;
    static std::map<std::uint64_t, std::string> built;
    std::lock_guard lock(mutex);
    if (auto it = built.find(trips); it != built.end()) return it->second;
    const auto dir = fs::temp_directory_path() / ("frost-test-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const auto path = (dir / ("sample-" + std::to_string(trips) + ".duckdb")).string();
    std::atomic<bool> cancel{false};
    data::seed_options options{path, trips, 42, "1GB", 2};
    auto done = data::build_sample_database(options, nullptr, cancel);
    if (!done) throw std::runtime_error("cannot build the sample database: " + done.error().message);
    built.emplace(trips, path);
    // Removed at exit so test runs leave nothing behind.
    static struct cleanup {
        fs::path d;
        ~cleanup() {
            std::error_code ec;
            fs::remove_all(d, ec);
        }
    } remover{dir};
    return path;
}

config::config default_config(const std::string& db) {
    auto cfg = config::load_file(std::string(FROST_SOURCE_DIR) + "/config/frost.yaml");
    if (!cfg) throw std::runtime_error(cfg.error().message);
    for (auto& s : cfg.value().sources)
        if (s.name == "local") s.path = db;
    cfg.value().server.port = 0;
    cfg.value().server.io_threads = 2;
    cfg.value().server.workers = 2;
    cfg.value().serving.path.clear();  // rollups in memory: parallel test processes never share a file
    cfg.value().server.shutdown_grace = std::chrono::seconds(2);
    // One cursor key for every server a test starts, so two transports' pages compare equal.
    cfg.value().server.cursor_key = "frost-tests-cursor-key-0123456789abcdef";
    return std::move(cfg).value();
}

http_answer http_request(std::uint16_t port, const std::string& method, const std::string& target,
                         const std::vector<std::pair<std::string, std::string>>& headers) {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(30));
    stream.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    if (req.method() == http::verb::unknown) req.method_string(method);
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    parser.skip(method == "HEAD");
    http::read(stream, buffer, parser);
    http_answer out;
    auto& res = parser.get();
    out.status = static_cast<int>(res.result_int());
    for (const auto& f : res) {
        std::string name(f.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out.headers[name] = std::string(f.value());
    }
    out.body = res.body();
    beast::error_code ec;
    stream.socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
    return out;
}

test_server::test_server(config::config cfg) {
    // The same assembly as `frost serve`, without the guard rails (tests add their own).
    app::assemble_options opts;
    opts.guards = app::guard_mode::none;
    auto assembled = app::assemble(std::move(cfg), opts);
    if (!assembled) throw std::runtime_error(assembled.error().message);
    app_ = std::make_unique<app::application>(std::move(assembled).value());
    auto srv = server::http_server::bind(app_->cfg->server, *app_->service);
    if (!srv) throw std::runtime_error(srv.error().message);
    server_ = std::move(srv).value();
    server_->start();
}

test_server::~test_server() {
    server_->stop(app_->cfg->server.shutdown_grace);
    app_->workers.reset();
    server_.reset();
}

}  // namespace frost::testing
