#include "app/reload.hpp"

#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>
#include <tuple>

#include "app/sources.hpp"

namespace frost::app {

namespace {

auto tied(const config::breaker_config& b) {
    return std::tie(b.enabled, b.failures, b.error_ratio, b.window, b.min_calls, b.cool_down);
}

// Every field of `snowflake_config`: a field added there must be added here too, or a change
// to it alone would not reopen the source on reload.
auto tied(const config::snowflake_config& s) {
    return std::tie(s.account, s.user, s.base_url, s.database, s.schema, s.warehouse, s.role, s.auth, s.authenticator,
                    s.private_key_pem, s.private_key_path, s.passphrase, s.token, s.token_path, s.statement_timeout,
                    s.jwt_lifetime, s.jwt_renew_before, s.poll_initial, s.poll_max, s.retry_base, s.retry_cap,
                    s.connect_timeout, s.cancel_timeout, s.max_attempts, s.partition_parallelism, s.max_response_bytes,
                    s.user_agent, s.env_prefix, s.resolved);
}

}  // namespace

bool same_source(const config::source_config& a, const config::source_config& b) {
    if (std::tie(a.name, a.type, a.path, a.read_only, a.options) !=
        std::tie(b.name, b.type, b.path, b.read_only, b.options))
        return false;
    if (tied(a.breaker) != tied(b.breaker)) return false;
    if (a.snowflake.has_value() != b.snowflake.has_value()) return false;
    return !a.snowflake || tied(*a.snowflake) == tied(*b.snowflake);
}

bool same_serving(const config::config& a, const config::config& b) {
    if (std::tie(a.serving.path, a.serving.options) != std::tie(b.serving.path, b.serving.options)) return false;
    // Snapshot sharing feeds the store: a change to it is a change to the store.
    const auto &sa = a.serving.snapshots, &sb = b.serving.snapshots;
    if (sa.has_value() != sb.has_value()) return false;
    return !sa || std::tie(sa->url, sa->role, sa->poll, sa->fallback_build) ==
                      std::tie(sb->url, sb->role, sb->poll, sb->fallback_build);
}

bool same_rollups(const config::config& a, const config::config& b) {
    if (a.rollups.size() != b.rollups.size()) return false;
    // Every field of `rollup_config`, as above.
    for (std::size_t i = 0; i < a.rollups.size(); ++i) {
        const auto &x = a.rollups[i], &y = b.rollups[i];
        if (std::tie(x.name, x.source, x.sql, x.refresh, x.max_rows, x.full_refresh) !=
            std::tie(y.name, y.source, y.sql, y.refresh, y.max_rows, y.full_refresh))
            return false;
        if (x.incremental.has_value() != y.incremental.has_value()) return false;
        if (x.incremental && std::tie(x.incremental->key, x.incremental->lookback) !=
                                 std::tie(y.incremental->key, y.incremental->lookback))
            return false;
    }
    return true;
}

model::result<api::source_map> reuse_sources(const application& previous, const config::config& next) {
    api::source_map out;
    for (const auto& s : next.sources) {
        const auto* before = previous.cfg->find_source(s.name);
        auto running = previous.sources.find(s.name);
        if (before && running != previous.sources.end() && running->second && same_source(*before, s)) {
            out.emplace(s.name, running->second);
            continue;
        }
        auto opened = open_source(s);
        if (!opened) return std::move(opened).error();
        spdlog::info("reload: source {} {}", s.name, before ? "changed: opened anew" : "added");
        out.emplace(s.name, std::move(opened).value());
    }
    return out;
}

/// One assembled application and its place in the reload history. Torn down on the reaper
/// thread: never on a thread of its own worker pool, which it joins.
struct reloadable_app::generation {
    application app;
    std::uint64_t number = 0;

    ~generation() {
        // Guards and observers first, then the workers (a queued cache refill still uses the
        // service), then the service, store and sources in the struct's order.
        app.rails.reset();
        app.guard.reset();
        app.workers.reset();
    }
};

model::result<std::unique_ptr<reloadable_app>> reloadable_app::start(std::string config_path, assemble_options opts,
                                                                     std::function<void(application&)> prepare) {
    std::unique_ptr<reloadable_app> self(new reloadable_app());
    self->path_ = std::move(config_path);
    self->opts_ = std::move(opts);
    self->opts_.guards = guard_mode::rails;
    self->prepare_ = std::move(prepare);
    self->shared_.metrics = std::make_shared<observe::metrics>();
    self->shared_.log = std::make_shared<observe::access_log>();
    self->shared_.admin_listener_elsewhere = true;
    self->reaper_running_ = true;
    self->reaper_ = std::thread([p = self.get()] { p->reap_loop(); });

    auto& m = *self->shared_.metrics;
    const reloadable_app* me = self.get();
    m.add_counter(
        "frost_config_reloads_total", "Config reloads (SIGHUP or --watch), by outcome.",
        [me] { return double(me->reloads(true)); }, "outcome=\"ok\"");
    m.add_counter(
        "frost_config_reloads_total", "Config reloads (SIGHUP or --watch), by outcome.",
        [me] { return double(me->reloads(false)); }, "outcome=\"refused\"");
    m.add_gauge("frost_config_generation", "Which generation of the config serves: 1 at start, +1 per applied reload.",
                [me] { return double(me->generation_seq_.load()); });
    m.add_gauge("frost_config_generations_alive",
                "Generations of the config alive: the current one and those finishing their requests.",
                [me] { return double(me->generations_alive()); });

    auto first = self->build(nullptr);
    if (!first) return std::move(first).error();
    self->current_ = std::move(first).value();
    return self;
}

reloadable_app::~reloadable_app() {
    stop(std::chrono::milliseconds(0));
}

model::result<std::shared_ptr<reloadable_app::generation>> reloadable_app::build(const application* previous) {
    model::result<application> assembled = model::error{};
    auto opts = opts_;
    opts.previous = previous;
    opts.shared_rails = &shared_;
    if (previous) {
        // The listeners keep what they were bound with: a change there applies at the next start.
        // Kept in the new config too, so it says what is really served (and an admin port
        // cannot disappear under the admin listener).
        const auto kept = previous->cfg->server;
        opts.host = kept.host;
        opts.port = kept.port;
        opts.adjust = [kept, inner = opts_.adjust](config::config& c) -> model::result<model::done> {
            auto& s = c.server;
            if (std::tie(s.io_threads, s.admin_port, s.max_connections, s.max_header_bytes, s.max_body_bytes,
                         s.max_url_bytes, s.max_header_count, s.header_timeout, s.idle_timeout, s.write_timeout,
                         s.max_requests_per_connection, s.max_connection_age) !=
                std::tie(kept.io_threads, kept.admin_port, kept.max_connections, kept.max_header_bytes,
                         kept.max_body_bytes, kept.max_url_bytes, kept.max_header_count, kept.header_timeout,
                         kept.idle_timeout, kept.write_timeout, kept.max_requests_per_connection,
                         kept.max_connection_age))
                spdlog::warn("reload: the listener settings of server: changed; they apply at the next start");
            s.io_threads = kept.io_threads;
            s.admin_port = kept.admin_port;
            s.max_connections = kept.max_connections;
            s.max_header_bytes = kept.max_header_bytes;
            s.max_body_bytes = kept.max_body_bytes;
            s.max_url_bytes = kept.max_url_bytes;
            s.max_header_count = kept.max_header_count;
            s.header_timeout = kept.header_timeout;
            s.idle_timeout = kept.idle_timeout;
            s.write_timeout = kept.write_timeout;
            s.max_requests_per_connection = kept.max_requests_per_connection;
            s.max_connection_age = kept.max_connection_age;
            if (inner) return inner(c);
            return model::done{};
        };
    }
    assembled = assemble(path_, opts);
    if (!assembled) return std::move(assembled).error();
    auto* g = new generation{std::move(assembled).value(), ++generation_seq_};
    ++alive_;
    std::shared_ptr<generation> held(g, [this](generation* dead) { retire(dead); });
    if (prepare_) prepare_(held->app);
    if (server_) held->app.rails->watch_listener(*server_);
    return held;
}

std::shared_ptr<api::service> reloadable_app::service_for_request() const {
    std::lock_guard lock(current_mutex_);
    return {current_, current_->app.service.get()};
}

std::shared_ptr<const application> reloadable_app::current() const {
    std::lock_guard lock(current_mutex_);
    return {current_, &current_->app};
}

model::result<server::http_server*> reloadable_app::listen() {
    auto app = current();
    auto bound = server::http_server::bind(app->cfg->server, [this] { return service_for_request(); });
    if (!bound) return std::move(bound).error();
    server_ = std::move(bound).value();
    app->rails->watch_listener(*server_);
    if (app->rails->admin_service()) {
        auto admin_cfg = app->cfg->server;
        admin_cfg.port = *app->cfg->server.admin_port;
        admin_cfg.io_threads = 1;
        auto admin = server::http_server::bind(admin_cfg, [this]() -> std::shared_ptr<api::service> {
            std::lock_guard lock(current_mutex_);
            // A generation without an admin service cannot come after one with it: admin_port
            // is a listener setting, kept from the start.
            return {current_, current_->app.rails->admin_service()};
        });
        if (!admin) return std::move(admin).error();
        admin_server_ = std::move(admin).value();
        admin_server_->start();
        spdlog::info("frost admin routes (/metrics, /livez, /readyz) on http://{}:{}", admin_cfg.host,
                     admin_server_->port());
    }
    return server_.get();
}

reload_outcome reloadable_app::reload() {
    std::lock_guard serial(reload_mutex_);
    const auto running = current();
    auto next = build(running.get());
    if (!next) {
        ++reloads_refused_;
        const auto& e = next.error();
        spdlog::error("reload refused, the running config keeps serving: {}{}{}", e.message,
                      e.hint.empty() ? "" : " (hint: ", e.hint.empty() ? "" : e.hint + ")");
        return {false, e.message};
    }
    const auto number = next.value()->number;
    const auto endpoints = next.value()->app.cfg->endpoints.size();
    {
        std::lock_guard lock(current_mutex_);
        current_.swap(next.value());
    }
    next.value().reset();  // the old generation: retired once its last request is answered
    ++reloads_ok_;
    spdlog::info("reload: generation {} serves {} endpoints from {}", number, endpoints, path_);
    return {true, "generation " + std::to_string(number)};
}

void reloadable_app::retire(generation* g) {
    {
        std::lock_guard lock(reap_mutex_);
        if (reaper_running_) {
            to_reap_.push_back(g);
            reap_cv_.notify_one();
            return;
        }
    }
    delete g;  // after shutdown: the workers of every generation are stopped, no thread is theirs
    --alive_;
}

void reloadable_app::reap_loop() {
    std::unique_lock lock(reap_mutex_);
    for (;;) {
        reap_cv_.wait(lock, [this] { return !to_reap_.empty() || reaper_stopping_; });
        while (!to_reap_.empty()) {
            auto* g = to_reap_.front();
            to_reap_.pop_front();
            lock.unlock();
            spdlog::info("reload: generation {} finished its requests and closed", g->number);
            delete g;
            --alive_;
            lock.lock();
        }
        if (reaper_stopping_) return;
    }
}

void reloadable_app::stop(std::chrono::milliseconds grace) {
    if (server_) server_->stop(grace);
    if (admin_server_) admin_server_->stop(std::chrono::milliseconds(0));
    {
        std::lock_guard lock(current_mutex_);
        if (current_) {
            // Finish queued work while the listener's executors still exist (its answers are
            // posted there), then let the generation go.
            current_->app.rails.reset();
            current_->app.workers.reset();
        }
        current_.reset();
    }
    // Older generations still finishing requests are torn down by the reaper as they finish.
    const auto until = std::chrono::steady_clock::now() + std::max(grace, std::chrono::milliseconds(2000));
    while (alive_.load() > 0 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    {
        std::lock_guard lock(reap_mutex_);
        reaper_stopping_ = true;
    }
    reap_cv_.notify_all();
    if (reaper_.joinable()) reaper_.join();
    std::deque<generation*> late;
    {
        std::lock_guard lock(reap_mutex_);
        reaper_running_ = false;
        late.swap(to_reap_);
    }
    for (auto* g : late) {
        delete g;
        --alive_;
    }
    if (alive_.load() > 0) spdlog::warn("shutdown: {} config generations still had requests running", alive_.load());
    admin_server_.reset();
    server_.reset();
}

file_watch::file_watch(std::string path) : path_(std::move(path)) {
    (void)changed();
}

bool file_watch::changed() {
    std::ifstream in(path_, std::ios::binary);
    if (!in) return false;
    std::ostringstream bytes;
    bytes << in.rdbuf();
    auto now = std::move(bytes).str();
    if (now == last_) return false;
    last_ = std::move(now);
    return true;
}

}  // namespace frost::app
