#pragma once

#include "api/service.hpp"
#include "config/config.hpp"

namespace frost::app {

/// Opens every source the config declares (not the serving store: `rollup::open_serving`).
/// Fails with a message naming the source and what is wrong (missing file: "run `frost seed`").
[[nodiscard]] model::result<api::source_map> open_sources(const config::config& cfg);

}  // namespace frost::app
