#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "rollup/serving_store.hpp"
#include "snapshot/sharing.hpp"

namespace frost::app {

/// `frost sync --publish`: publishes the store's serving file to `cfg.serving.snapshots`,
/// reporting on stderr. Returns the exit code (0: published, or a newer one was there).
[[nodiscard]] int publish_snapshot(const config::config& cfg, const std::shared_ptr<rollup::serving_store>& store);

/// Whether a Lambda event is the snapshot builder's `sync` event: an EventBridge scheduled
/// event (`"source": "aws.events"`, `"detail-type": "Scheduled Event"`) or `{"frost": "sync"}`.
[[nodiscard]] bool is_sync_event(std::string_view payload);

/// The Lambda `sync` event: refreshes every rollup and publishes the serving file. Returns the
/// JSON answer (`{"synced": [...], "published": "<version>"}` or an `error`).
[[nodiscard]] std::string run_sync_event(rollup::serving_store& store, snapshot::snapshot_agent* agent);

}  // namespace frost::app
