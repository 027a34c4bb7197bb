#pragma once

#include "api/service.hpp"
#include "config/config.hpp"

namespace frost::app {

/// Opens every source the config declares (not the serving store: `rollup::open_serving`), each
/// behind its circuit breaker when `breaker.enabled` (remote sources by default).
/// Fails with a message naming the source and what is wrong (missing file: "run `frost seed`").
/// With `lazy`, a DuckDB source whose file exists is opened on its first query instead
/// (`source::lazy_source`; `frost lambda`): a file that then fails to open fails that query.
[[nodiscard]] model::result<api::source_map> open_sources(const config::config& cfg, bool lazy = false);

/// Opens one source of the config, behind its circuit breaker when `s.breaker.enabled`.
[[nodiscard]] model::result<std::shared_ptr<source::source>> open_source(const config::source_config& s,
                                                                         bool lazy = false);

}  // namespace frost::app
