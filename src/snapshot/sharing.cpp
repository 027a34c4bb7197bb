#include "snapshot/sharing.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>

namespace frost::snapshot {

namespace {

model::error sharing_error(std::string message) {
    return {model::error_code::source_unavailable, "snapshot: " + std::move(message), {}, {}};
}

// A name no other thread or process of this host uses at the same moment.
std::string unique_suffix() {
    static std::atomic<unsigned> counter{0};
    return std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
}

// Removes a file on scope exit.
struct removed_on_exit {
    std::string path;
    ~removed_on_exit() {
        if (path.empty()) return;
        std::error_code ec;
        std::filesystem::remove(path, ec);
    }
};

bool conflict(long status) {
    return status == 412 || status == 409;
}

}  // namespace

model::result<publish_outcome> snapshot_publisher::publish(const std::string& file,
                                                           std::chrono::system_clock::time_point as_of,
                                                           const std::map<std::string, std::uint64_t>& rollups) {
    // A hard link pins the file's contents: a refresh may rename a new generation over `file`
    // while this uploads, and the digest must describe the bytes sent.
    removed_on_exit pinned{file + ".publish-" + unique_suffix()};
    std::error_code ec;
    std::filesystem::create_hard_link(file, pinned.path, ec);
    if (ec) {
        std::filesystem::copy_file(file, pinned.path, ec);
        if (ec) return sharing_error("cannot pin " + file + " for upload: " + ec.message());
    }
    auto digest = digest_file(pinned.path);
    if (!digest) return std::move(digest).error();

    publish_outcome out;
    auto& m = out.published;
    m.as_of = as_of;
    m.rollups = rollups;
    m.sha256 = digest.value().sha256;
    m.size = digest.value().size;
    m.version = version_name(as_of, m.sha256);

    // Immutable: create only. 412 means this very file (same digest, same name) is there already.
    auto put = s3_->put_file(m.key(), pinned.path, m.sha256, put_condition::absent);
    if (!put.ok() && !conflict(put.status)) return sharing_error("cannot upload " + m.key() + ": " + put.error);

    const std::string body = to_json(m);
    for (int attempt = 0; attempt < 10; ++attempt) {
        auto got = s3_->get(manifest_key);
        put_condition condition = put_condition::absent;
        std::string etag;
        if (got.status == 200) {
            condition = put_condition::etag_match;
            etag = got.etag;
            if (auto there = parse_manifest(got.body); there && !newer(m, there.value())) {
                out.current = there.value().version == m.version;
                out.manifest_version = there.value().version;
                return out;  // as new or newer already: leave it
            }
            if (etag.empty()) return sharing_error("the store sent latest.json without an ETag");
        } else if (got.status != 404) {
            return sharing_error("cannot read latest.json: " + got.error);
        }
        auto written = s3_->put(manifest_key, body, "application/json", condition, etag);
        if (written.ok()) {
            out.current = true;
            out.manifest_version = m.version;
            return out;
        }
        if (!conflict(written.status)) return sharing_error("cannot write latest.json: " + written.error);
        ++out.conflicts;  // another builder wrote it between our read and write: read again
        spdlog::info("snapshot: latest.json changed while publishing {} ({}); reading it again", m.version,
                     written.status);
    }
    return sharing_error("latest.json kept changing while publishing " + m.version + " (10 conflicts)");
}

model::result<publish_outcome> snapshot_publisher::publish_store(rollup::serving_store& store,
                                                                 const std::string& file) {
    if (file.empty()) return sharing_error("the rollups are kept in memory (no serving.path): nothing to upload");
    std::map<std::string, std::uint64_t> versions;
    std::chrono::system_clock::time_point as_of = std::chrono::system_clock::time_point::max();
    for (const auto& name : store.rollup_names()) {
        const auto v = store.current(name);
        if (v.version == 0) return sharing_error("rollup " + name + " has not been built: nothing to publish");
        versions[name] = v.version;
        as_of = std::min(as_of, v.built_at);  // the snapshot is as fresh as its oldest rollup
    }
    if (versions.empty()) return sharing_error("the config declares no rollups");
    return publish(file, as_of, versions);
}

snapshot_reader::snapshot_reader(std::shared_ptr<s3_client> s3, std::shared_ptr<rollup::serving_store> store,
                                 std::string download_dir)
    : s3_(std::move(s3)), store_(std::move(store)), dir_(std::move(download_dir)) {}

snapshot_reader::~snapshot_reader() {
    if (!installed_file_.empty()) {
        std::error_code ec;
        std::filesystem::remove(installed_file_, ec);
    }
}

std::string snapshot_reader::installed() const {
    std::lock_guard lock(mutex_);
    return installed_;
}

void snapshot_reader::note_published(const std::string& version) {
    std::lock_guard lock(mutex_);
    installed_ = version;
    etag_.clear();  // the next poll reads the manifest once and finds it names `version`
}

poll_result snapshot_reader::poll() {
    std::lock_guard lock(mutex_);
    auto got = s3_->get(manifest_key, installed_.empty() ? std::string() : etag_);
    if (got.status == 304) {
        store_->set_stale(false);
        return poll_result::unchanged;
    }
    if (got.status == 404) {
        store_->set_stale(false);
        return poll_result::no_snapshot;
    }
    if (got.status != 200) {
        // Keep serving what we have; say so on every answer (X-Data-Stale).
        spdlog::warn("snapshot: cannot read {}{}: {}; serving version {} as stale", s3_->location().prefix,
                     manifest_key, got.error, installed_.empty() ? "(none)" : installed_);
        store_->set_stale(true, "the snapshot store is unreachable: " + got.error);
        return poll_result::unreachable;
    }
    auto m = parse_manifest(got.body);
    if (!m) {
        spdlog::error("snapshot: {}; still serving {}", m.error().message, installed_.empty() ? "(none)" : installed_);
        return poll_result::rejected;
    }
    store_->set_stale(false);
    if (m.value().version == installed_) {
        etag_ = got.etag;
        return poll_result::unchanged;
    }
    if (rejected_.contains(m.value().version)) return poll_result::rejected;
    return download_and_install(m.value(), got.etag);
}

poll_result snapshot_reader::download_and_install(const manifest& m, const std::string& etag) {
    const std::string file =
        (std::filesystem::path(dir_) / ("frost-snapshot-" + m.version + "-" + unique_suffix() + ".duckdb")).string();
    removed_on_exit cleanup{file};
    const auto started = std::chrono::steady_clock::now();
    auto got = s3_->get(m.key(), {}, file);
    if (got.status != 200) {
        spdlog::warn("snapshot: cannot download {}: {}; still serving {}", m.key(), got.error,
                     installed_.empty() ? "(none)" : installed_);
        if (got.status == 404) {
            rejected_.insert(m.version);
            return poll_result::rejected;
        }
        store_->set_stale(true, "the snapshot store is unreachable: " + got.error);
        return poll_result::unreachable;
    }
    auto digest = digest_file(file);
    if (!digest || digest.value().size != m.size || digest.value().sha256 != m.sha256) {
        rejected_.insert(m.version);
        spdlog::error("snapshot {} rejected: {} (expected {} bytes, SHA-256 {}); still serving {}", m.version,
                      !digest
                          ? digest.error().message
                          : "got " + std::to_string(digest.value().size) + " bytes, SHA-256 " + digest.value().sha256,
                      m.size, m.sha256, installed_.empty() ? "(none)" : installed_);
        return poll_result::rejected;
    }
    if (auto installed = store_->install_snapshot(file); !installed) {
        rejected_.insert(m.version);
        spdlog::error("snapshot {} rejected: {}; still serving {}", m.version, installed.error().message,
                      installed_.empty() ? "(none)" : installed_);
        return poll_result::rejected;
    }
    if (store_->serving_file().empty()) {
        // Served from where it was downloaded: keep it until the next install replaces it.
        if (!installed_file_.empty()) {
            std::error_code ec;
            std::filesystem::remove(installed_file_, ec);  // open readers keep the old inode
        }
        installed_file_ = file;
        cleanup.path.clear();
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    spdlog::info("snapshot {} installed ({} bytes in {:.2f} s; was {})", m.version, m.size, secs,
                 installed_.empty() ? "none" : installed_);
    installed_ = m.version;
    etag_ = etag;
    return poll_result::installed;
}

snapshot_agent::snapshot_agent(config::snapshot_config cfg, std::shared_ptr<rollup::serving_store> store,
                               std::shared_ptr<s3_client> s3, std::chrono::milliseconds poll, std::string download_dir)
    : cfg_(std::move(cfg)),
      store_(std::move(store)),
      s3_(std::move(s3)),
      poll_(poll),
      publisher_(s3_),
      reader_(std::make_unique<snapshot_reader>(s3_, store_, std::move(download_dir))) {}

model::result<std::unique_ptr<snapshot_agent>> snapshot_agent::create(const config::config& cfg,
                                                                      std::shared_ptr<rollup::serving_store> store) {
    if (!cfg.serving.snapshots) return sharing_error("serving.snapshots is not configured");
    if (!store) return sharing_error("serving.snapshots is set but the config declares no rollups");
    const auto& sc = *cfg.serving.snapshots;
    auto location = config::parse_s3_url(sc.url);
    if (!location) return std::move(location).error();
    auto endpoint = s3_endpoint::from_environment();
    auto chain_sources = credential_sources::from_environment();
    chain_sources.region = endpoint.region;
    auto s3 = std::make_shared<s3_client>(std::move(location).value(), std::move(endpoint),
                                          std::make_shared<credentials_chain>(std::move(chain_sources)));
    auto poll = sc.poll;
    if (poll.count() == 0) {
        poll = std::chrono::minutes(5);
        for (const auto& r : cfg.rollups) poll = std::min(poll, r.refresh);
        poll = std::max<std::chrono::milliseconds>(poll, std::chrono::seconds(1));
    }
    std::string dir;
    if (const auto file = store->serving_file(); !file.empty())
        dir = std::filesystem::path(file).parent_path().string();
    if (dir.empty()) dir = std::filesystem::temp_directory_path().string();
    return std::unique_ptr<snapshot_agent>(new snapshot_agent(sc, std::move(store), std::move(s3), poll, dir));
}

snapshot_agent::~snapshot_agent() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (cfg_.role != config::snapshot_role::reader) store_->set_refresh_observer({});
}

void snapshot_agent::build_locally() {
    spdlog::info("snapshot: none published yet at {}; building rollups locally (fallback_build)", cfg_.url);
    for (const auto& name : store_->rollup_names())
        if (auto built = store_->refresh(name); !built)
            spdlog::warn("snapshot fallback: rollup {}: {}", name, built.error().message);
    built_locally_ = true;
}

poll_result snapshot_agent::poll_now() {
    auto r = reader_->poll();
    if (r == poll_result::no_snapshot && cfg_.role == config::snapshot_role::reader && cfg_.fallback_build)
        build_locally();
    return r;
}

model::result<publish_outcome> snapshot_agent::publish_now() {
    auto out = publisher_.publish_store(*store_, store_->serving_file());
    if (!out) {
        spdlog::warn("snapshot: publish failed: {}", out.error().message);
    } else if (out.value().current) {
        reader_->note_published(out.value().published.version);
        spdlog::info("snapshot {} published to {} ({} bytes{})", out.value().published.version, cfg_.url,
                     out.value().published.size,
                     out.value().conflicts ? ", after " + std::to_string(out.value().conflicts) + " conflicts" : "");
    } else {
        spdlog::info("snapshot {} uploaded; latest.json keeps the newer {}", out.value().published.version,
                     out.value().manifest_version);
    }
    return out;
}

void snapshot_agent::start(bool background) {
    const bool reads = cfg_.role != config::snapshot_role::builder;
    const bool builds = cfg_.role != config::snapshot_role::reader;
    if (reads) {
        const auto first = poll_now();
        spdlog::info("snapshot: first poll of {}: {}", cfg_.url,
                     first == poll_result::installed     ? "installed " + reader_->installed()
                     : first == poll_result::unchanged   ? "unchanged"
                     : first == poll_result::no_snapshot ? "no snapshot published yet"
                     : first == poll_result::unreachable ? "store unreachable"
                                                         : "rejected");
    }
    if (builds) {
        if (cfg_.role == config::snapshot_role::both) {
            // Nothing published to start from: build what is missing (the observer is not set
            // yet, so this publishes once below, not once per rollup).
            for (const auto& name : store_->rollup_names())
                if (store_->current(name).version == 0)
                    if (auto built = store_->refresh(name); !built)
                        spdlog::warn("rollup {}: first build failed: {}", name, built.error().message);
        }
        store_->set_refresh_observer([this](const std::string&) { (void)publish_now(); });
        bool all_built = true;
        for (const auto& name : store_->rollup_names()) all_built = all_built && store_->current(name).version != 0;
        // A `both` that just installed the latest snapshot has nothing new to say.
        if (all_built && (cfg_.role == config::snapshot_role::builder || reader_->installed().empty()))
            (void)publish_now();
    }
    if (background && cfg_.role == config::snapshot_role::reader) thread_ = std::thread([this] { poll_loop(); });
}

void snapshot_agent::poll_loop() {
    auto wait = poll_;
    std::chrono::milliseconds backoff(1000);
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        if (cv_.wait_for(lock, wait, [this] { return stopping_; })) break;
        lock.unlock();
        const auto r = poll_now();
        lock.lock();
        // Nothing to serve yet: retry sooner, doubling up to the poll interval.
        if (reader_->installed().empty() && !built_locally_ && r != poll_result::installed) {
            wait = std::min(backoff, poll_);
            backoff = std::min(backoff * 2, poll_);
        } else {
            wait = poll_;
        }
    }
}

}  // namespace frost::snapshot
