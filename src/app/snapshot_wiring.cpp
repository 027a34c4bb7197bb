#include "app/snapshot_wiring.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <iostream>

namespace frost::app {

int publish_snapshot(const config::config& cfg, const std::shared_ptr<rollup::serving_store>& store) {
    auto agent = snapshot::snapshot_agent::create(cfg, store);
    if (!agent) {
        std::cerr << "frost sync: " << agent.error().message << '\n';
        return 2;
    }
    auto out = agent.value()->publish_now();
    if (!out) {
        std::cerr << "frost sync: publish failed: " << out.error().message << '\n';
        return 1;
    }
    const auto& p = out.value();
    if (p.current)
        std::cerr << "Published snapshot " << p.published.version << " (" << p.published.size << " bytes) to "
                  << cfg.serving.snapshots->url << '\n';
    else
        std::cerr << "Uploaded snapshot " << p.published.version << "; " << cfg.serving.snapshots->url
                  << "latest.json keeps the newer " << p.manifest_version << '\n';
    return 0;
}

bool is_sync_event(std::string_view payload) {
    boost::system::error_code ec;
    auto v = boost::json::parse(payload, ec);
    if (ec || !v.is_object()) return false;
    const auto& o = v.as_object();
    auto text = [&](std::string_view key) -> std::string_view {
        const auto* f = o.if_contains(key);
        return f && f->is_string() ? std::string_view(f->as_string()) : std::string_view();
    };
    return (text("source") == "aws.events" && text("detail-type") == "Scheduled Event") || text("frost") == "sync";
}

std::string run_sync_event(rollup::serving_store& store, snapshot::snapshot_agent* agent) {
    boost::json::object answer;
    boost::json::array synced, failed;
    for (const auto& name : store.rollup_names()) {
        if (auto done = store.refresh(name))
            synced.emplace_back(boost::json::object{{"rollup", name}, {"version", done.value().version}});
        else
            failed.emplace_back(boost::json::object{{"rollup", name}, {"error", done.error().message}});
    }
    answer["synced"] = std::move(synced);
    if (!failed.empty()) {
        answer["failed"] = std::move(failed);
        answer["error"] = "a rollup refresh failed: nothing was published";
        return boost::json::serialize(answer);
    }
    if (!agent) {
        answer["error"] = "serving.snapshots is not configured: nothing to publish";
        return boost::json::serialize(answer);
    }
    // Whatever this environment's role: the schedule makes exactly one invocation the builder.
    auto out = agent->publish_now();
    if (!out)
        answer["error"] = out.error().message;
    else
        answer["published"] = out.value().manifest_version;
    return boost::json::serialize(answer);
}

}  // namespace frost::app
