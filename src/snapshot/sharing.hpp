#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "config/config.hpp"
#include "model/error.hpp"
#include "rollup/serving_store.hpp"
#include "snapshot/manifest.hpp"
#include "snapshot/s3_client.hpp"

namespace frost::snapshot {

/// What one publish did.
struct publish_outcome {
    manifest published;            ///< the snapshot uploaded
    bool current = false;          ///< the manifest now names it (false: a newer one was there already)
    std::string manifest_version;  ///< the version the manifest names afterwards
    int conflicts = 0;             ///< conditional writes refused (412/409) and re-read
};

/// The builder's half: uploads a serving file as an immutable object named by its version,
/// then points `latest.json` at it with a conditional write: `If-Match` on the ETag just read
/// (`If-None-Match: *` when there is none). A refused write (412, 409) is re-read and decided
/// again: the newer snapshot (`newer`) wins, so two racing builders converge on the same
/// manifest and neither replaces a newer one. Thread-safe.
class snapshot_publisher {
public:
    explicit snapshot_publisher(std::shared_ptr<s3_client> s3) : s3_(std::move(s3)) {}

    /// Publishes `file`, whose rollups are `rollups` (name -> version) as of `as_of`. The file
    /// must not change during the call (it is hard-linked first, so a rename over it is fine).
    [[nodiscard]] model::result<publish_outcome> publish(const std::string& file,
                                                         std::chrono::system_clock::time_point as_of,
                                                         const std::map<std::string, std::uint64_t>& rollups);

    /// Publishes the store's serving file as it is now (rollup versions and as-of time read
    /// from the store). Fails when the store keeps its rollups in memory or one is unbuilt.
    [[nodiscard]] model::result<publish_outcome> publish_store(rollup::serving_store& store, const std::string& file);

private:
    std::shared_ptr<s3_client> s3_;
};

/// What one poll of the manifest did.
enum class poll_result {
    unchanged,    ///< 304, or the manifest names the version being served
    installed,    ///< a new version is serving now
    no_snapshot,  ///< nothing published yet (404)
    unreachable,  ///< the store did not answer (or refused us): the last version is marked stale
    rejected,     ///< a bad manifest or snapshot (digest, size, contents): the last version keeps serving
};

/// The reader's half: polls `latest.json` with `If-None-Match` (a 304 costs no download),
/// downloads a new snapshot into a file beside the serving file (or a temporary directory),
/// checks its size and SHA-256, and installs it in the store. Thread-safe (polls serialise).
class snapshot_reader {
public:
    snapshot_reader(std::shared_ptr<s3_client> s3, std::shared_ptr<rollup::serving_store> store,
                    std::string download_dir);
    ~snapshot_reader();
    snapshot_reader(const snapshot_reader&) = delete;
    snapshot_reader& operator=(const snapshot_reader&) = delete;

    [[nodiscard]] poll_result poll();
    /// The snapshot version being served ("" before the first install).
    [[nodiscard]] std::string installed() const;
    /// This process just published `version` from the file it serves: no need to download it.
    void note_published(const std::string& version);

private:
    poll_result download_and_install(const manifest& m, const std::string& etag);

    std::shared_ptr<s3_client> s3_;
    std::shared_ptr<rollup::serving_store> store_;
    std::string dir_;
    mutable std::mutex mutex_;
    std::string installed_;
    std::string installed_file_;  ///< in memory mode: the downloaded file being served
    std::string etag_;
    std::set<std::string> rejected_;  ///< versions that failed their checks: not downloaded again
};

/// Snapshot sharing for one process, as `serving.snapshots` says:
/// - builder: publishes after every successful refresh (the store's refresh observer), and once
///   at start when every rollup is built;
/// - reader: installs the latest snapshot at start, then polls on `poll` in the background;
///   with no snapshot yet it builds locally when `fallback_build` is set, and otherwise retries
///   with backoff (rollup routes answer 503 meanwhile); an unreachable store marks the served
///   version stale;
/// - both: installs the latest snapshot at start instead of scanning the sources, then refreshes
///   on its schedule and publishes like a builder.
/// Stops its thread and clears the observer on destruction.
class snapshot_agent {
public:
    /// Creates the S3 client from `cfg.serving.snapshots` and the environment (credentials chain,
    /// AWS_REGION, AWS_ENDPOINT_URL_S3). `start` runs the first poll or publish; `background`
    /// starts the polling thread. On Lambda that thread runs only while the execution
    /// environment is thawed, so a warm environment polls during the invocations that come
    /// after `poll` has passed.
    [[nodiscard]] static model::result<std::unique_ptr<snapshot_agent>> create(
        const config::config& cfg, std::shared_ptr<rollup::serving_store> store);
    ~snapshot_agent();
    snapshot_agent(const snapshot_agent&) = delete;
    snapshot_agent& operator=(const snapshot_agent&) = delete;

    /// Readers: the first poll (and the fallback build); builders: hooks the observer and
    /// publishes what the store serves. Never fails the process: problems are logged.
    void start(bool background);
    /// One reader poll now, on the caller's thread (what the polling thread does each `poll`).
    poll_result poll_now();
    /// Publishes what the store serves now (`frost sync --publish`, the Lambda `sync` event).
    [[nodiscard]] model::result<publish_outcome> publish_now();

    [[nodiscard]] config::snapshot_role role() const noexcept { return cfg_.role; }
    [[nodiscard]] std::chrono::milliseconds poll_interval() const noexcept { return poll_; }

private:
    snapshot_agent(config::snapshot_config cfg, std::shared_ptr<rollup::serving_store> store,
                   std::shared_ptr<s3_client> s3, std::chrono::milliseconds poll, std::string download_dir);
    void poll_loop();
    void build_locally();

    config::snapshot_config cfg_;
    std::shared_ptr<rollup::serving_store> store_;
    std::shared_ptr<s3_client> s3_;
    std::chrono::milliseconds poll_;
    snapshot_publisher publisher_;
    std::unique_ptr<snapshot_reader> reader_;
    bool built_locally_ = false;

    std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace frost::snapshot
