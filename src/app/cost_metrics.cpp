#include "app/cost_metrics.hpp"

#include <string>

#include "rollup/serving_store.hpp"
#include "source/usage.hpp"

namespace frost::app {

void add_cost_metrics(api::service& svc, observe::metrics& m) {
    using frost::source::process_usage;
    using frost::source::purpose;
    using totals = frost::source::usage_ledger::totals;
    struct series {
        const char* name;
        const char* help;
        double (*read)(const totals&);
    };
    static constexpr series warehouse[] = {
        {"frost_warehouse_statements_total", "Statements sent to a source, by purpose.",
         [](const totals& t) { return double(t.statements); }},
        {"frost_warehouse_statement_errors_total", "Statements sent to a source that failed, by purpose.",
         [](const totals& t) { return double(t.failed); }},
        {"frost_warehouse_rows_received_total", "Result rows received from a source, by purpose.",
         [](const totals& t) { return double(t.rows); }},
        {"frost_warehouse_bytes_received_total",
         "Bytes of result values received from a source, by purpose (as held: 8 per number, text length).",
         [](const totals& t) { return double(t.bytes); }},
        {"frost_warehouse_seconds_total", "Seconds spent waiting for a source's answers, by purpose.",
         [](const totals& t) { return t.seconds; }},
    };
    for (const auto& [name, src] : svc.sources()) {
        for (const auto p : {purpose::live, purpose::rollup_full, purpose::rollup_incremental, purpose::probe}) {
            const std::string labels = "source=\"" + observe::escape_label(name) + "\",purpose=\"" +
                                       std::string(frost::source::purpose_name(p)) + "\"";
            for (const auto& s : warehouse)
                m.add_counter(
                    s.name, s.help,
                    [source_name = name, p, read = s.read] { return read(process_usage().total(source_name, p)); },
                    labels);
        }
    }

    const rollup::serving_store* store = svc.serving_store();
    if (!store) return;
    // The generation's own rollups: a reload reconfigures the shared store only after this runs.
    for (const auto& r : svc.configuration().rollups) {
        const std::string& name = r.name;
        const std::string rollup = "rollup=\"" + observe::escape_label(name) + "\"";
        for (const bool incremental : {false, true}) {
            for (const bool ok : {true, false}) {
                const std::string labels = rollup + ",kind=\"" + (incremental ? "incremental" : "full") +
                                           "\",outcome=\"" + (ok ? "ok" : "failed") + "\"";
                m.add_counter(
                    "frost_rollup_refresh_outcomes_total", "Refreshes of a rollup, by kind and outcome.",
                    [store, name, incremental, ok] {
                        const auto s = store->stats(name);
                        return double(incremental ? (ok ? s.incremental_ok : s.incremental_failed)
                                                  : (ok ? s.full_ok : s.full_failed));
                    },
                    labels);
            }
        }
        m.add_gauge(
            "frost_rollup_last_refresh_seconds", "Duration of a rollup's latest refresh (-1 before the first).",
            [store, name] {
                const auto last = store->stats(name).last;
                return last.finished.time_since_epoch().count() == 0
                           ? -1.0
                           : std::chrono::duration<double>(last.duration).count();
            },
            rollup);
        m.add_gauge(
            "frost_rollup_last_refresh_ok", "1 when a rollup's latest refresh succeeded, 0 when it failed.",
            [store, name] { return store->stats(name).last.ok ? 1.0 : 0.0; }, rollup);
        m.add_gauge(
            "frost_rollup_last_refresh_rows_fetched", "Rows a rollup's latest refresh received from its source.",
            [store, name] { return double(store->stats(name).last.rows_fetched); }, rollup);
    }
}

}  // namespace frost::app
