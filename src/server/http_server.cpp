#include "server/http_server.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <random>
#include <stop_token>

#include "api/render.hpp"
#include "server/request_head.hpp"
#include "server/response_head.hpp"

namespace frost::server {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
// A connection's socket and stream name their loop's executor type, not `any_io_executor`: each
// handler of every read and write would otherwise copy and destroy a type-erased executor.
using loop_executor = net::io_context::executor_type;
using loop_socket = tcp::socket::rebind_executor<loop_executor>::other;
using loop_stream = beast::basic_stream<tcp, loop_executor>;
using frost::server::head_limits;
using frost::server::head_scan;
using frost::server::head_scanner;

struct http_server::impl {
    config::server_config cfg;
    http_server::service_source current;
    // Declared before the io_context: the sessions its destructor releases still count down.
    std::atomic<std::size_t> connections{0};
    std::atomic<std::size_t> in_flight{0};
    // Answer callbacks held by the service (a worker running a query or a streamed export
    // holds its session): `stop` waits for them, or a session would outlive the server.
    std::atomic<std::size_t> with_service{0};
    std::atomic<std::uint64_t> accepted{0};
    std::atomic<std::uint64_t> refused{0};
    std::atomic<std::uint64_t> rejected{0};
    std::atomic<std::uint64_t> timeouts{0};
    std::atomic<std::uint64_t> abandoned{0};
    std::atomic<bool> stopping{false};
    std::mutex stop_mutex;
    std::condition_variable drained;
    bool stopped = false;
    std::uint16_t bound_port = 0;
    // One event loop per I/O thread, each run by its thread alone: a connection lives on one
    // loop, so its handlers never run concurrently (no strand needed), and no thread is woken
    // for another's work (one shared loop spent a tenth of its time in futex wake-ups).
    std::vector<std::unique_ptr<net::io_context>> loops;
    // Keep the I/O threads running while every connection waits on a worker.
    std::vector<net::executor_work_guard<net::io_context::executor_type>> keep_running;
    tcp::acceptor acceptor;
    std::vector<std::thread> threads;
    std::size_t next_loop = 0;  ///< where the next accepted connection goes (acceptor's loop only)

    impl(const config::server_config& c, http_server::service_source s)
        : cfg(c), current(std::move(s)), loops(make_loops(c)), acceptor(*loops.front()) {
        for (auto& l : loops) keep_running.push_back(net::make_work_guard(*l));
    }

    static std::vector<std::unique_ptr<net::io_context>> make_loops(const config::server_config& c) {
        const unsigned n = c.io_threads ? c.io_threads : std::max(1u, std::thread::hardware_concurrency());
        std::vector<std::unique_ptr<net::io_context>> out;
        out.reserve(n);
        for (unsigned i = 0; i < n; ++i) out.push_back(std::make_unique<net::io_context>(1));
        return out;
    }

    void accept();
    void request_finished() {
        if (--in_flight == 0 && stopping) {
            std::lock_guard lock(stop_mutex);
            drained.notify_all();
        }
    }
    // A token held by an answer callback for as long as the service keeps it: every copy
    // counts in `with_service` (no allocation per request, as a shared pointer's would be).
    class service_token {
    public:
        explicit service_token(impl& server) noexcept : server_(&server) { ++server.with_service; }
        service_token(const service_token& other) noexcept : server_(other.server_) { ++server_->with_service; }
        service_token& operator=(const service_token&) = delete;
        ~service_token() { server_->release_service(); }

    private:
        impl* server_;
    };
    service_token hand_to_service() { return service_token(*this); }
    void release_service() {
        if (--with_service == 0) {
            std::lock_guard lock(stop_mutex);
            drained.notify_all();
        }
    }
};

namespace {

std::string make_request_id() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char hex[] = "0123456789abcdef";
    std::string id(16, '0');
    auto bits = rng();
    for (auto& c : id) {
        c = hex[bits & 0xf];
        bits >>= 4;
    }
    return id;
}

bool acceptable_request_id(std::string_view id) {
    if (id.empty() || id.size() > 128) return false;
    for (char c : id)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
    return true;
}

class session : public std::enable_shared_from_this<session> {
public:
    session(loop_socket&& socket, http_server::impl& server, net::io_context& loop)
        : stream_(std::move(socket)),
          server_(server),
          loop_(loop),
          born_(std::chrono::steady_clock::now()),
          limits_{server.cfg.max_header_bytes, server.cfg.max_url_bytes, server.cfg.max_header_count,
                  server.cfg.max_body_bytes} {
        ++server_.connections;
        beast::error_code ec;
        auto ep = stream_.socket().remote_endpoint(ec);
        if (!ec) client_ = ep.address().to_string();
        // For the immediate write of a whole answer (`write_now`): a send that would block
        // returns at once and the rest goes out asynchronously. Asio's own operations are unaffected.
        stream_.socket().non_blocking(true, ec);
    }
    ~session() {
        // A streamed answer whose connection is torn down (server stop) must not leave its
        // worker waiting for room that will never come.
        if (body_) body_->cancel();
        stop_.request_stop();
        --server_.connections;
    }

    void start() {
        net::dispatch(stream_.get_executor(), beast::bind_front_handler(&session::read, shared_from_this()));
    }

    // What an answer callback holds while the service keeps it: the session, then the server's
    // token, released in that order (members go in reverse), so `stop` cannot return while the
    // session still lives.
    struct held_by_service {
        http_server::impl::service_token token;
        std::shared_ptr<session> self;
    };

private:
    // One request at a time: the next is not read before this one's answer is written, so
    // pipelined requests wait in the socket and in a buffer bounded by the head limit.
    void read() {
        if (server_.stopping) return close();
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(server_.cfg.max_header_bytes));
        parser_->body_limit(server_.cfg.max_body_bytes);
        scanner_.emplace(limits_);
        // A total deadline for the whole head, from now: a client trickling bytes gains nothing.
        stream_.expires_after(first_ ? server_.cfg.header_timeout : server_.cfg.idle_timeout);
        first_ = false;
        read_head();
    }

    // Bytes already in the socket (a keep-alive client's next request, usually) are read at once
    // by a non-blocking read: no asynchronous read, so no timer armed and cancelled and no trip
    // through the loop. Only when the socket has nothing does the read wait, under the deadline
    // `read` set (unchanged: it runs from there, not from when the wait starts).
    void read_head() {
        for (;;) {
            const auto data = buffer_.cdata();
            const std::string_view received(static_cast<const char*>(data.data()), data.size());
            const auto scan = scanner_->feed(received);
            if (scan.status == head_scan::state::rejected) return reject(scan.error);
            if (scan.status == head_scan::state::complete) return on_head(received.substr(0, scan.size));
            beast::error_code ec;
            const auto n = stream_.socket().read_some(buffer_.prepare(4096), ec);
            if (ec == net::error::would_block || ec == net::error::try_again || ec == net::error::interrupted) break;
            if (ec) return close();
            buffer_.commit(n);
        }
        stream_.async_read_some(buffer_.prepare(4096),
                                beast::bind_front_handler(&session::on_head_bytes, shared_from_this()));
    }

    void on_head_bytes(beast::error_code ec, std::size_t n) {
        if (ec) {
            if (ec == beast::error::timeout) ++server_.timeouts;
            return close();
        }
        buffer_.commit(n);
        read_head();
    }

    void on_head(std::string_view head) {
        beast::error_code ec;
        parser_->put(net::buffer(head.data(), head.size()), ec);
        if (ec == http::error::header_limit)
            return reject({model::error_code::headers_too_large, "request headers are too large", {}, {}});
        if (ec == http::error::body_limit)  // Content-Length over the limit: refused before any body byte is read
            return reject({model::error_code::payload_too_large,
                           "request body is larger than " + std::to_string(server_.cfg.max_body_bytes) + " bytes",
                           {},
                           {}});
        if (ec || !parser_->is_header_done())
            return reject({model::error_code::bad_request, "malformed HTTP request", {}, {}});
        buffer_.consume(head.size());
        if (auto e = check_head(parser_->get().base(), limits_)) return reject(*e);
        if (parser_->is_done()) return on_read({}, 0);
        stream_.expires_after(server_.cfg.header_timeout);
        http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&session::on_read, shared_from_this()));
    }

    void reject(const model::error& e) {
        // Framing is in doubt: answer once and close, never read on.
        ++server_.rejected;
        keep_alive_ = false;
        head_ = false;
        write(api::error_response(e), "");
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec == beast::error::timeout) ++server_.timeouts;
        if (ec == http::error::end_of_stream || ec == net::error::operation_aborted || ec == beast::error::timeout ||
            ec == net::error::connection_reset || ec == net::error::eof) {
            return close();
        }
        if (ec == http::error::body_limit)
            return reject({model::error_code::payload_too_large,
                           "request body is larger than " + std::to_string(server_.cfg.max_body_bytes) + " bytes",
                           {},
                           {}});
        if (ec) return reject({model::error_code::bad_request, "malformed HTTP request body", {}, {}});
        auto& req = parser_->get();
        // RFC 9112 §3.2.2: accept absolute-form, route on its path, its authority is the Host.
        auto absolute = absolute_form_target(req.target(), req[http::field::host]);
        if (!absolute) return reject(absolute.error());
        if (absolute.value()) {
            req.target(absolute.value()->target);
            req.set(http::field::host, absolute.value()->host);
        }
        ++served_;
        keep_alive_ = req.keep_alive() && served_ < server_.cfg.max_requests_per_connection &&
                      std::chrono::steady_clock::now() - born_ < server_.cfg.max_connection_age;
        head_ = req.method() == http::verb::head;
        api::request r;
        r.method = std::string(req.method_string());
        r.target = std::string(req.target());
        r.headers.reserve(8);
        for (const auto& field : req) {
            std::string name(field.name_string());
            for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            r.headers.emplace_back(std::move(name), std::string(field.value()));
        }
        r.body = std::move(req.body());
        r.client_address = client_;
        auto given = r.header("x-request-id");
        r.request_id = acceptable_request_id(given) ? std::string(given) : make_request_id();
        request_id_ = r.request_id;  // the session's buffer: no allocation once it has held an id

        ++server_.in_flight;
        stream_.expires_never();  // the query has its own deadline
        stop_ = std::stop_source();
        r.stop = stop_.get_token();
        awaiting_ = true;
        // Held until the answer is handed back: a reload that replaces the service meanwhile
        // lets this request finish on the one it started with.
        auto svc = server_.current();
        svc->handle(std::move(r), [hold = held_by_service{server_.hand_to_service(), shared_from_this()},
                                   svc](api::response res) mutable {
            auto self = hold.self;
            // Inline when `handle` answers on this thread (cache hits, errors): the session's own
            // loop. Called directly then, as `dispatch` would, without its type-erased executor.
            auto loop = self->loop_.get_executor();
            if (loop.running_in_this_thread()) return self->answer(std::move(res));
            net::post(loop, [self, res = std::move(res)]() mutable { self->answer(std::move(res)); });
        });
        // Only an answer still to come (a query on a worker) is worth watching the client for.
        if (awaiting_) watch_client();
    }

    // The service's answer, on the session's loop.
    void answer(api::response res) {
        awaiting_ = false;
        answering_ = true;
        // A streamed answer keeps the watch on the client while its rows are produced:
        // a client that leaves between writes stops the query too.
        if (res.stream) return write_stream(std::move(res), request_id_);
        stop_watching();
        write(std::move(res), request_id_);
    }

    // While a request is being answered nothing reads the socket, so a client that leaves would
    // go unnoticed until the answer is written. A wait for readability (it consumes nothing)
    // notices: end of stream or an error means the client has gone, and the request's stop is
    // requested, so its query is dropped from the queue or interrupted. A half-close (FIN) counts
    // as gone, as in nginx: an HTTP/1.1 client does not half-close while it wants an answer.
    // Bytes of a pipelined request end the watch: they stay in the socket for the next read.
    void watch_client() {
        watching_ = true;
        stream_.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this(), gen = ++watch_generation_](
                                                                beast::error_code ec) { self->on_readable(ec, gen); });
    }

    void on_readable(beast::error_code ec, std::uint64_t gen) {
        if (gen != watch_generation_ || !watching_ || ec == net::error::operation_aborted) return;
        if (!ec) {
            char byte = 0;
            const auto n = ::recv(stream_.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
            if (n > 0) {
                watching_ = false;  // a pipelined request: read after this answer
                return;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return watch_client();
        }
        watching_ = false;
        ++server_.abandoned;
        stop_.request_stop();
        if (auto body = body_) body->cancel();  // a pull waiting on it gets `failed`: the stream ends
    }

    void stop_watching() {
        if (!watching_) return;
        watching_ = false;
        beast::error_code ignored;
        stream_.socket().cancel(ignored);  // only the wait is pending while a request is answered
    }

    void write(api::response res, const std::string& request_id) {
        response_ = std::move(res);
        if (server_.stopping) keep_alive_ = false;
        // The head is written by hand into one reused buffer, and goes out with the body in one
        // gathered write: a cached answer's body is never copied.
        const bool with_body = head_writer_.write(head_bytes_, response_, {request_id, keep_alive_, head_});
        const auto body = response_.body_view();
        std::array<net::const_buffer, 2> bytes{net::buffer(head_bytes_),
                                               with_body ? net::buffer(body.data(), body.size()) : net::const_buffer()};
        if (write_now(bytes)) return;
        stream_.expires_after(server_.cfg.write_timeout);
        net::async_write(stream_, bytes, beast::bind_front_handler(&session::on_write, shared_from_this()));
    }

    // Most answers fit the socket's send buffer: one non-blocking gathered send writes them
    // whole, without arming the write timer and without a trip through the event loop. True when
    // the answer is handled (written, or the connection failed); otherwise `bytes` is what
    // remains for the asynchronous write. Bounded nesting: an answer written here goes on to read
    // the next request, and pipelined requests already buffered would otherwise recurse.
    bool write_now(std::array<net::const_buffer, 2>& bytes) {
        if (nested_writes_ >= max_nested_writes) return false;
        beast::error_code ec;
        const auto total = net::buffer_size(bytes);
        const auto n = stream_.socket().write_some(bytes, ec);
        if (ec == net::error::would_block || ec == net::error::try_again || ec == net::error::interrupted) return false;
        if (!ec && n < total) {
            // Partly sent: the rest goes out asynchronously, under the write timeout.
            auto sent = n;
            for (auto& b : bytes) {
                const auto skip = std::min(sent, b.size());
                b += skip;
                sent -= skip;
            }
            return false;
        }
        ++nested_writes_;
        on_write(ec, n);
        --nested_writes_;
        return true;
    }

    // A streamed answer (`api::response::stream`): the head with `Transfer-Encoding: chunked`,
    // then one chunk per piece the stream yields, written as the worker produces them. The
    // stream's bound is the only buffer, so a slow client slows the query. A complete body ends
    // with the zero-length chunk; a failed one is cut (the connection closed without it), which
    // HTTP clients report as an incomplete transfer (curl: exit 18).
    void write_stream(api::response res, const std::string& request_id) {
        response_ = std::move(res);
        body_ = response_.stream;
        if (server_.stopping) keep_alive_ = false;
        stream_head_.emplace();
        auto& out = *stream_head_;
        out.result(static_cast<unsigned>(response_.status));
        out.version(11);
        out.set(http::field::server, "frost");
        for (const auto& [k, v] : response_.headers) out.set(k, v);
        if (!request_id.empty()) out.set("X-Request-Id", request_id);
        out.keep_alive(keep_alive_);
        out.chunked(true);
        if (head_) {
            // HEAD: the head says what a GET would stream; nothing is produced.
            body_->cancel();
            stop_.request_stop();
        }
        stream_serializer_.emplace(out);
        stream_.expires_after(server_.cfg.write_timeout);
        http::async_write_header(stream_, *stream_serializer_,
                                 beast::bind_front_handler(&session::on_stream_head, shared_from_this()));
    }

    void on_stream_head(beast::error_code ec, std::size_t) {
        if (ec) return abort_stream(ec);
        if (head_) return end_stream({}, 0);
        pull_piece();
    }

    void pull_piece() {
        // The stream calls back on the worker's thread when nothing is queued yet: back to the session's loop.
        // Posted, never run inline: the stream may call back from inside `pull` or `cancel`.
        auto body = body_;
        body->pull([self = shared_from_this()](api::body_stream::piece p) {
            net::post(self->stream_.get_executor(),
                      [self, p = std::move(p)]() mutable { self->on_piece(std::move(p)); });
        });
    }

    void on_piece(api::body_stream::piece p) {
        switch (p.state) {
            case api::body_stream::piece::kind::bytes:
                piece_ = std::move(p.bytes);
                stream_.expires_after(server_.cfg.write_timeout);
                net::async_write(stream_, http::make_chunk(net::buffer(piece_)),
                                 beast::bind_front_handler(&session::on_chunk, shared_from_this()));
                return;
            case api::body_stream::piece::kind::done:
                stream_.expires_after(server_.cfg.write_timeout);
                net::async_write(stream_, http::make_chunk_last(),
                                 beast::bind_front_handler(&session::end_stream, shared_from_this()));
                return;
            case api::body_stream::piece::kind::failed:
                // Never the last chunk: the client must see the answer as cut short.
                keep_alive_ = false;
                return end_stream(net::error::connection_aborted, 0);
        }
    }

    void on_chunk(beast::error_code ec, std::size_t) {
        if (ec) return abort_stream(ec);
        piece_.clear();
        piece_.shrink_to_fit();
        pull_piece();
    }

    // The client is gone or too slow: stop the producer and its query.
    void abort_stream(beast::error_code ec) {
        if (auto body = body_) body->cancel();
        stop_.request_stop();
        end_stream(ec, 0);
    }

    void end_stream(beast::error_code ec, std::size_t) {
        if (auto body = body_; ec && body) {
            body->cancel();
            stop_.request_stop();
        }
        body_.reset();
        stream_serializer_.reset();
        stream_head_.reset();
        response_ = {};
        stop_watching();
        on_write(ec, 0);
    }

    void on_write(beast::error_code ec, std::size_t) {
        if (answering_) {
            // Counted until the bytes are out, so a graceful stop waits for the write too.
            answering_ = false;
            server_.request_finished();
        }
        if (ec == beast::error::timeout) ++server_.timeouts;
        if (ec || !keep_alive_) return close();
        read();
    }

    void close() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.close();
    }

    loop_stream stream_;
    http_server::impl& server_;
    net::io_context& loop_;  ///< the loop this connection lives on
    std::chrono::steady_clock::time_point born_;
    head_limits limits_;
    beast::flat_buffer buffer_;
    std::optional<head_scanner> scanner_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::string head_bytes_;                                       ///< a whole answer's status line and fields
    response_head_writer head_writer_;                             ///< keeps the last answer's field lines
    std::optional<http::response<http::empty_body>> stream_head_;  ///< a streamed answer's head
    std::optional<http::response_serializer<http::empty_body>> stream_serializer_;
    std::shared_ptr<api::body_stream> body_;  ///< the streamed answer being written, if any
    std::string piece_;                       ///< the chunk being written
    api::response response_;
    std::string client_;
    std::string request_id_;  ///< the request in flight's id
    static constexpr int max_nested_writes = 8;
    int nested_writes_ = 0;  ///< answers written by `write_now` on the stack now
    std::size_t served_ = 0;
    bool keep_alive_ = true;
    bool head_ = false;
    bool first_ = true;
    bool answering_ = false;
    bool awaiting_ = false;               ///< the request in flight has no answer yet
    bool watching_ = false;               ///< a readability wait is out for the request in flight
    std::uint64_t watch_generation_ = 0;  ///< which wait a completion belongs to
    std::stop_source stop_;               ///< the request in flight's: requested when its client goes
};

}  // namespace

void http_server::impl::accept() {
    // Connections are dealt to the loops in turn.
    auto& loop = *loops[next_loop++ % loops.size()];
    acceptor.async_accept(loop, [this, &loop](beast::error_code ec, loop_socket socket) {
        if (ec) {
            if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
            spdlog::warn("accept failed: {}", ec.message());
        } else if (connections >= cfg.max_connections) {
            ++refused;
            beast::error_code ignored;
            socket.close(ignored);  // over the limit: refuse rather than queue
        } else {
            ++accepted;
            std::make_shared<session>(std::move(socket), *this, loop)->start();
        }
        if (!stopping) accept();
    });
}

http_server::http_server(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

http_server::~http_server() {
    // A destructor must not throw; stop() locks mutexes and joins threads, which can
    // (std::system_error). Log it: the remaining threads are then the process's problem.
    try {
        stop(std::chrono::milliseconds(0));
    } catch (const std::exception& e) {
        spdlog::error("shutdown: stopping the HTTP server failed: {}", e.what());
    } catch (...) {
        spdlog::error("shutdown: stopping the HTTP server failed with an unknown exception");
    }
}

model::result<std::unique_ptr<http_server>> http_server::bind(const config::server_config& cfg, api::service& svc) {
    // Not owned: the caller keeps `svc` alive for the server's lifetime.
    std::shared_ptr<api::service> unowned(std::shared_ptr<api::service>(), &svc);
    return bind(cfg, [unowned] { return unowned; });
}

model::result<std::unique_ptr<http_server>> http_server::bind(const config::server_config& cfg,
                                                              service_source current) {
    auto p = std::make_unique<impl>(cfg, std::move(current));
    beast::error_code ec;
    auto address = net::ip::make_address(cfg.host, ec);
    if (ec) {
        // A host name such as "localhost": resolve it.
        tcp::resolver resolver(*p->loops.front());
        auto results = resolver.resolve(cfg.host, std::to_string(cfg.port), ec);
        if (ec || results.empty())
            return model::error{model::error_code::config_error, "cannot resolve host " + cfg.host, {}, {}};
        address = results.begin()->endpoint().address();
    }
    tcp::endpoint endpoint(address, cfg.port);
    p->acceptor.open(endpoint.protocol(), ec);
    if (!ec) p->acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) p->acceptor.bind(endpoint, ec);
    if (!ec) p->acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec)
        return model::error{model::error_code::config_error,
                            "cannot listen on " + cfg.host + ":" + std::to_string(cfg.port) + ": " + ec.message(),
                            {},
                            {}};
    p->bound_port = p->acceptor.local_endpoint().port();
    return std::unique_ptr<http_server>(new http_server(std::move(p)));
}

std::uint16_t http_server::port() const noexcept {
    return impl_->bound_port;
}

std::size_t http_server::open_connections() const noexcept {
    return impl_->connections;
}

http_server::counters http_server::stats() const noexcept {
    return {impl_->accepted.load(),    impl_->refused.load(),   impl_->rejected.load(), impl_->timeouts.load(),
            impl_->connections.load(), impl_->in_flight.load(), impl_->abandoned.load()};
}

void http_server::start() {
    impl_->accept();
    for (auto& loop : impl_->loops) impl_->threads.emplace_back([l = loop.get()] { l->run(); });
}

void http_server::stop(std::chrono::milliseconds grace) {
    {
        std::lock_guard lock(impl_->stop_mutex);
        if (impl_->stopped) return;
        impl_->stopped = true;
    }
    impl_->stopping = true;
    net::post(impl_->acceptor.get_executor(), [this] {
        beast::error_code ec;
        impl_->acceptor.close(ec);
    });
    {
        std::unique_lock lock(impl_->stop_mutex);
        impl_->drained.wait_for(lock, grace, [this] { return impl_->in_flight == 0; });
    }
    if (impl_->in_flight > 0)
        spdlog::warn("shutdown: {} requests still running after the grace period", impl_->in_flight.load());
    impl_->keep_running.clear();
    for (auto& loop : impl_->loops) loop->stop();
    for (auto& t : impl_->threads)
        if (t.joinable()) t.join();
    // A worker still running a request (a streamed export the grace cut short) holds its
    // session, which must not outlive the server: wait for it, as long as a request may run.
    std::unique_lock lock(impl_->stop_mutex);
    if (!impl_->drained.wait_for(lock, std::max(grace, impl_->cfg.request_timeout),
                                 [this] { return impl_->with_service == 0; }))
        spdlog::error("shutdown: {} requests still held by workers after request_timeout", impl_->with_service.load());
}

void http_server::run_until_signal() {
    net::io_context signals_ctx;
    net::signal_set signals(signals_ctx, SIGINT, SIGTERM);
    signals.async_wait([](beast::error_code, int sig) { spdlog::info("signal {}: shutting down", sig); });
    signals_ctx.run();
    stop(impl_->cfg.shutdown_grace);
}

}  // namespace frost::server
