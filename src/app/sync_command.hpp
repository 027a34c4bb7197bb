#pragma once

#include <string>
#include <vector>

namespace frost::app {

/// `frost sync`: refreshes the config's rollups once, now, into its serving database, with a
/// progress display on stderr (a live line on a terminal, one line per stage otherwise).
/// `only` names the rollups to refresh (all when empty); `full` rebuilds incremental rollups
/// whole (`--full`). Each refresh prints its figures: kind (full or incremental since when),
/// rows and bytes fetched, rows held, time waiting on the source and in all. Fails, with a
/// hint, while another process (a running `frost serve`) holds the serving database: that
/// server refreshes on its own schedule. Returns the process exit code: 0 when every refresh
/// succeeded. With `publish`, the serving file is then published to `serving.snapshots`
/// (docs/snapshots.md) when every refresh succeeded.
[[nodiscard]] int run_sync(const std::string& config_path, const std::vector<std::string>& only, bool full = false,
                           bool publish = false);

}  // namespace frost::app
