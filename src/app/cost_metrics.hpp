#pragma once

#include "api/service.hpp"
#include "observe/metrics.hpp"

namespace frost::app {

/// Registers the cost and freshness series of issue 12 on `m` (docs/operations.md, "Cost and
/// freshness"): per source and purpose (`live`, `rollup_full`, `rollup_incremental`, `probe`),
/// the statements sent, rows and bytes received and seconds waited, read from
/// `source::process_usage()`; per rollup of `svc`'s serving store, its refreshes by kind and
/// outcome, the duration and rows fetched of the latest one, and when it last succeeded. Every
/// series exists from the start (zeros), so rates and ratios work before the first statement.
/// Call once, before serving starts; the readers it registers are thread-safe.
void add_cost_metrics(api::service& svc, observe::metrics& m);

}  // namespace frost::app
