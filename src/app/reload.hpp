#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "app/assemble.hpp"
#include "app/guard_rails.hpp"
#include "server/http_server.hpp"

namespace frost::app {

/// Whether two source entries open the same source: every setting compared (a changed one is
/// opened fresh on reload, an unchanged one is reused with its connections and breaker state).
/// Files a setting names (a private key path) are compared by name, not content.
[[nodiscard]] bool same_source(const config::source_config& a, const config::source_config& b);

/// Whether two configs declare the same serving database (`serving.path`, `options` and
/// `snapshots`): a reload keeps the running serving store only then; a change applies at a restart.
[[nodiscard]] bool same_serving(const config::config& a, const config::config& b);

/// Whether two configs declare the same rollups (names, sources, SQL, schedule, row caps), in
/// the same order. A reload that changes them reconfigures the running serving store.
[[nodiscard]] bool same_rollups(const config::config& a, const config::config& b);

/// The sources of `next`: those whose entry is unchanged from `previous` are the running ones
/// (shared), the others are opened fresh. The running ones that are no longer used close when
/// their last holder (an in-flight request, the old application) drops them.
[[nodiscard]] model::result<api::source_map> reuse_sources(const application& previous, const config::config& next);

/// How a reload ended, for logs, metrics and tests.
struct reload_outcome {
    bool applied = false;
    std::string message;  ///< why it was refused (names the file and line), or what changed
};

/// The application `frost serve` runs, reloadable: the HTTP listener asks it for the current
/// service on every request (`service_for_request`), and `reload` assembles a new generation from
/// the config file, fully validated as `frost check` does, and swaps it in atomically. A request
/// keeps the generation it started on until its answer is handed back, so in-flight requests
/// finish on the old config. A generation is torn down on a background thread once its last
/// request is done. A refused reload leaves the running generation serving.
///
/// A generation reuses the running serving store, reconfigured when its rollups changed (a
/// changed rollup serves its old version, marked stale, until its rebuild in the background
/// succeeds; `serving_store::reconfigure`); a reload that changes `serving:`, or rollups while
/// snapshots are shared, is refused: they need a restart. It reuses the running sources whose
/// entries are unchanged. Its response cache starts empty. Request counts and the access log are
/// shared by every generation; each has its own gauges, health checks and auth guard (so rate
/// limit buckets start full after a reload). Listener settings (`server.host`, `port`,
/// `io_threads`, `admin_port` and the connection limits) apply at the next start. Thread-safe.
class reloadable_app {
public:
    /// Assembles the first generation from `config_path` with `opts` (guards: rails).
    /// `prepare` runs on every generation's service before it serves (the web routes).
    static model::result<std::unique_ptr<reloadable_app>> start(std::string config_path, assemble_options opts,
                                                                std::function<void(application&)> prepare = {});
    ~reloadable_app();
    reloadable_app(const reloadable_app&) = delete;
    reloadable_app& operator=(const reloadable_app&) = delete;

    /// Binds the API listener (and the admin listener when `server.admin_port` is set), both
    /// answering from the current generation. Call once, then `start` the returned server.
    model::result<server::http_server*> listen();

    /// Re-reads the config file and swaps in a new generation, or refuses it and logs why.
    /// One reload at a time (callers are serialized).
    reload_outcome reload();

    /// The service of the current generation, held for one request.
    [[nodiscard]] std::shared_ptr<api::service> service_for_request() const;
    /// The current generation's application (its config, sources, store).
    [[nodiscard]] std::shared_ptr<const application> current() const;
    [[nodiscard]] const std::string& config_path() const noexcept { return path_; }
    [[nodiscard]] std::uint64_t reloads(bool applied) const noexcept {
        return applied ? reloads_ok_.load() : reloads_refused_.load();
    }
    /// Generations alive: the current one plus those still finishing requests.
    [[nodiscard]] std::size_t generations_alive() const noexcept { return alive_.load(); }

    /// Stops the listeners (in-flight requests get `grace`), then tears every generation down.
    void stop(std::chrono::milliseconds grace);

private:
    struct generation;
    reloadable_app() = default;
    model::result<std::shared_ptr<generation>> build(const application* previous);
    void retire(generation* g);
    void reap_loop();

    std::string path_;
    assemble_options opts_;
    std::function<void(application&)> prepare_;
    rails_shared shared_;

    mutable std::mutex current_mutex_;
    std::shared_ptr<generation> current_;
    std::mutex reload_mutex_;
    std::atomic<std::uint64_t> generation_seq_{0}, reloads_ok_{0}, reloads_refused_{0};

    std::unique_ptr<server::http_server> server_;
    std::unique_ptr<server::http_server> admin_server_;

    std::mutex reap_mutex_;
    std::condition_variable reap_cv_;
    std::deque<generation*> to_reap_;
    std::atomic<std::size_t> alive_{0};
    bool reaper_stopping_ = false;
    bool reaper_running_ = false;  ///< retired generations go to the reaper; after it stopped, deleted at once
    std::thread reaper_;
};

/// Polls a file for `frost serve --watch`: `changed()` is true when its bytes differ from the
/// last call's (a missing or unreadable file counts as unchanged).
class file_watch {
public:
    explicit file_watch(std::string path);
    [[nodiscard]] bool changed();

private:
    std::string path_;
    std::string last_;
};

}  // namespace frost::app
