#include "observe/health.hpp"

#include <spdlog/spdlog.h>

#include "observe/access_log.hpp"
#include "source/lazy.hpp"
#include "source/usage.hpp"

namespace frost::observe {

namespace {

// Whether the periodic probe queries `src`. Not a warehouse: it bills for the time it is awake,
// and a probe every few seconds would keep it running (remote sources are judged by their real
// queries only). Not a source opened by its first query (`frost lambda`) before that query: the
// probe would open it; guard_rails shows its state as "open:<name>".
bool should_probe(const source::source& src) {
    if (src.dialect() != "duckdb") return false;
    const auto* lazy = source::as_lazy(&src);
    return lazy == nullptr || lazy->state() != source::open_state::not_opened;
}

}  // namespace

health::health(const api::source_map& sources, std::chrono::milliseconds interval,
               std::chrono::milliseconds probe_timeout)
    : sources_(sources), interval_(interval), probe_timeout_(probe_timeout) {
    for (const auto& [name, src] : sources_) states_[name];
    probe_all();
    thread_ = std::thread([this] {
        std::unique_lock lock(mutex_);
        while (!stopping_) {
            wake_.wait_for(lock, interval_, [this] { return stopping_; });
            if (stopping_) break;
            lock.unlock();
            probe_all();
            lock.lock();
        }
    });
}

health::~health() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void health::add_check(std::string name, check c) {
    std::lock_guard lock(mutex_);
    checks_.emplace_back(std::move(name), std::move(c));
}

void health::add_status(std::string name, status s) {
    std::lock_guard lock(mutex_);
    statuses_.emplace_back(std::move(name), std::move(s));
}

void health::probe_all() {
    for (const auto& [name, src] : sources_) {
        std::string error;
        if (!src) {
            error = "not open";
        } else if (should_probe(*src)) {
            try {
                source::query q{"select 1", {}, model::deadline::after(probe_timeout_), "health-probe", 10};
                const auto started = std::chrono::steady_clock::now();
                auto r = src->run(q);
                source::process_usage().record(name, source::purpose::probe, r,
                                               std::chrono::steady_clock::now() - started);
                if (!r) error = std::string(model::code_name(r.error().code)) + ": " + r.error().message.substr(0, 200);
            } catch (const std::exception& e) {
                error = std::string("probe failed: ") + e.what();
            }
        }
        std::lock_guard lock(mutex_);
        auto& st = states_[name];
        if (!error.empty() && st.probe_error.empty())
            spdlog::warn("health: source {} failed its probe: {}", name, error);
        if (error.empty() && !st.probe_error.empty()) spdlog::info("health: source {} answers again", name);
        st.probe_error = std::move(error);
        st.probed = true;
    }
}

void health::record_query(std::string_view source, bool ok) {
    std::lock_guard lock(mutex_);
    auto it = states_.find(source);
    if (it == states_.end()) return;
    it->second.failures_in_row = ok ? 0 : it->second.failures_in_row + 1;
    if (!ok) it->second.last_failure = std::chrono::steady_clock::now();
}

void health::record_answer(std::string_view source, int status) {
    if (status == 504) return;  // a deadline miss: load, not a broken source
    record_query(source, status < 500);
}

std::map<std::string, std::string> health::problems() const {
    std::map<std::string, std::string> out;
    std::vector<std::pair<std::string, check>> checks;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [name, st] : states_) {
            if (!st.probed)
                out["source:" + name] = "not probed yet";
            else if (!st.probe_error.empty())
                out["source:" + name] = st.probe_error;
            else if (st.failures_in_row >= failures_to_unready &&
                     std::chrono::steady_clock::now() - st.last_failure < failure_memory)
                out["source:" + name] = std::to_string(st.failures_in_row) + " queries failed in a row";
        }
        checks = checks_;
    }
    for (const auto& [name, c] : checks) {
        try {
            if (auto why = c()) out[name] = *why;
        } catch (const std::exception& e) {
            out[name] = std::string("check failed: ") + e.what();
        }
    }
    return out;
}

bool health::ready() const {
    return problems().empty();
}

api::response health::livez() const {
    auto r = api::json_response(200, R"({"status":"alive"})");
    r.set_header("Cache-Control", "no-store");
    return r;
}

std::optional<api::response> refuse_unless_get(const api::request& req) {
    if (req.method == "GET" || req.method == "HEAD") return std::nullopt;
    auto r = api::error_response({model::error_code::method_not_allowed,
                                  "method " + req.method.substr(0, 16) + " is not allowed here",
                                  {},
                                  "use GET"});
    r.set_header("Allow", "GET, HEAD");
    return r;
}

api::response health::livez(const api::request& req) const {
    if (auto refused = refuse_unless_get(req)) return std::move(*refused);
    return livez();
}

api::response health::readyz(const api::request& req) const {
    if (auto refused = refuse_unless_get(req)) return std::move(*refused);
    return readyz();
}

api::response health::readyz() const {
    const auto bad = problems();
    std::string body = bad.empty() ? R"({"status":"ready","checks":{)" : R"({"status":"not ready","checks":{)";
    bool first = true;
    auto add = [&](const std::string& name, const std::string& state) {
        body += (first ? "" : ",") + json_string(name) + ":" + json_string(state);
        first = false;
    };
    add("config", "ok");
    std::vector<std::string> names;
    std::vector<std::pair<std::string, status>> statuses;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [name, st] : states_) names.push_back("source:" + name);
        for (const auto& [name, c] : checks_) names.push_back(name);
        statuses = statuses_;
    }
    for (const auto& n : names) {
        auto it = bad.find(n);
        add(n, it == bad.end() ? "ok" : it->second);
    }
    for (const auto& [name, s] : statuses) {
        try {
            add(name, s());
        } catch (const std::exception& e) {
            add(name, std::string("unknown: ") + e.what());
        }
    }
    body += "}}";
    auto r = api::json_response(bad.empty() ? 200 : 503, std::move(body));
    r.set_header("Cache-Control", "no-store");
    return r;
}

}  // namespace frost::observe
